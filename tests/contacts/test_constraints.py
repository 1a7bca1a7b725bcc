"""The rules of the client base hold in the database too, whatever code writes to it."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.models import Client, Dossier, Intervenant, Mandate
from tests.factories import (
    ArtisanFactory,
    ClientFactory,
    DossierFactory,
    MandateFactory,
)

pytestmark = pytest.mark.django_db


def _refused(update):
    with pytest.raises(IntegrityError), transaction.atomic():
        update()


def test_it_requires_a_client_reference_and_name():
    _refused(lambda: Client.objects.create(reference="", name="X"))
    _refused(lambda: Client.objects.create(reference="CLI-1", name=""))


def test_it_requires_a_five_digit_postal_code_or_none(gestionnaire):
    dossier = DossierFactory(gestionnaire=gestionnaire)

    _refused(lambda: Dossier.objects.filter(pk=dossier.pk).update(postal_code="972"))
    Dossier.objects.filter(pk=dossier.pk).update(postal_code="")


def test_it_records_who_approved_an_artisan(direction):
    artisan = ArtisanFactory()

    _refused(lambda: Intervenant.objects.filter(pk=artisan.pk).update(approved_at=timezone.now()))
    _refused(
        lambda: Intervenant.objects.filter(pk=artisan.pk).update(
            approved_at=timezone.now(), approved_by=direction, refused_at=timezone.now()
        )
    )


def test_it_records_who_revoked_a_mandate_and_why(direction):
    mandate = MandateFactory()
    mandates = Mandate.objects.filter(pk=mandate.pk)

    _refused(lambda: mandates.update(revoked_at=timezone.now(), revoked_by=direction))
    _refused(lambda: mandates.update(revoked_at=timezone.now(), revocation_reason="Fin"))
    _refused(lambda: mandates.update(revocation_reason="Fin"))


def test_it_keeps_a_mandate_period_in_order():
    _refused(
        lambda: MandateFactory(
            client=ClientFactory(), valid_from=dt.date(2026, 5, 1), valid_until=dt.date(2026, 4, 30)
        )
    )


def test_it_keeps_a_revoked_mandate_as_it_was(direction):
    from django.core.exceptions import ValidationError

    from contacts import services

    mandate = MandateFactory()
    services.mandate_revoke(mandate=mandate, by=direction, reason="Fin de mission")

    with pytest.raises(ValidationError, match="Un mandat révoqué ne peut plus être modifié."):
        services.mandate_update(mandate=mandate, by=direction, scope="Autre chose")

    mandate.refresh_from_db()
    assert mandate.scope == ""
