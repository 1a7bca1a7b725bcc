"""A dossier's reference, D-<year>-<number>, is generated once and never twice."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from accounts.roles import Role
from contacts import services
from contacts.models import Dossier
from tests.factories import ClientFactory, DossierFactory, UserFactory


def _open(client, gestionnaire, address="1 rue des Palmiers"):
    return services.dossier_create(
        client=client, property_address=address, gestionnaire=gestionnaire
    )


@pytest.mark.django_db
def test_it_numbers_the_dossiers_of_a_year_in_order(gestionnaire, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 1, 12, tzinfo=ZoneInfo("Europe/Paris")))
    client = ClientFactory()

    references = [_open(client, gestionnaire).reference for _ in range(3)]

    assert references == ["D-2026-00001", "D-2026-00002", "D-2026-00003"]


@pytest.mark.django_db
def test_it_starts_again_at_one_with_the_new_local_year(gestionnaire, time_machine):
    client = ClientFactory()
    # The year is the agency's local one: 00:30 on 1 January in Paris is still 2026 in UTC.
    time_machine.move_to(dt.datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("Europe/Paris")))
    last = _open(client, gestionnaire)
    time_machine.move_to(dt.datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Europe/Paris")))
    first = _open(client, gestionnaire)

    assert (last.reference, first.reference) == ("D-2026-00001", "D-2027-00001")


@pytest.mark.django_db
def test_it_skips_the_numbers_of_imported_dossiers(gestionnaire, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 1, 12, tzinfo=ZoneInfo("Europe/Paris")))
    client = ClientFactory()
    services.dossier_create(
        client=client,
        property_address="2 rue X",
        gestionnaire=gestionnaire,
        reference="D-2026-00007",
    )
    # An older reference inserted behind the sequence's back (an earlier import, by hand).
    DossierFactory(reference="D-2026-00008", client=client, gestionnaire=gestionnaire)

    assert _open(client, gestionnaire).reference == "D-2026-00009"


@pytest.mark.django_db
def test_it_refuses_to_give_a_dossier_to_someone_who_is_not_a_gestionnaire(legal):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        _open(ClientFactory(), legal)

    assert "Sophie Bernard n’est pas gestionnaire." in excinfo.value.message_dict["gestionnaire"]
    assert not Dossier.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_never_gives_one_reference_twice_under_concurrent_creations():
    """Eight threads, each on its own PostgreSQL connection, open dossiers at the same time."""
    # Real concurrent transactions need a transactional test, whose database may have been
    # flushed by the one before (the role groups come from a data migration).
    Group.objects.get_or_create(name=Role.GESTIONNAIRE.value)
    gestionnaire = UserFactory(roles=[Role.GESTIONNAIRE])
    client = ClientFactory()
    start = threading.Barrier(8)
    errors = []

    def work():
        try:
            start.wait()
            for n in range(5):
                _open(client, gestionnaire, address=f"{n} rue du Port")
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    references = list(Dossier.objects.values_list("reference", flat=True))
    assert errors == []
    assert len(references) == len(set(references)) == 40
    year = references[0][2:6]
    assert sorted(references) == [f"D-{year}-{n:05d}" for n in range(1, 41)]
