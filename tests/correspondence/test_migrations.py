"""Migrations that meet existing data: they stop with a readable message, never halfway."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("correspondence", "0011_incomingitem_references")]
UNIQUE_TRACKING = [("correspondence", "0012_reply_unique_tracking_number")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_unique_tracking_number_names_the_numbers_replies_already_share(
    gestionnaire, dossier, notary
):
    from tests.correspondence.test_reply import register

    item = register(gestionnaire, notary, dossier)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("correspondence")
    apps = _migrate(BEFORE)
    Reply = apps.get_model("correspondence", "Reply")
    try:
        for _ in range(2):
            Reply.objects.create(
                item_id=item.pk,
                via="letter",
                dated=item.received_at.date(),
                dossier_reference=dossier.reference,
                registered=True,
                tracking_number="1A00000000001",
                created_by_id=gestionnaire.pk,
            )

        with pytest.raises(RuntimeError, match="share these tracking numbers: 1A00000000001"):
            _migrate(UNIQUE_TRACKING)
    finally:
        Reply.objects.all().delete()
        _migrate(latest)
