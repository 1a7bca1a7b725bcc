"""R1: is this intervenant duly mandated by, or for, this client at this moment, and why not."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from contacts import services
from contacts.models import Mandate
from contacts.selectors import MandateCheck, mandate_check
from tests.factories import ClientFactory, IntervenantFactory, MandateFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=PARIS)


@pytest.fixture
def lawyer():
    return IntervenantFactory(name="Maître Lemoine", kind="lawyer")


@pytest.fixture
def client_():
    return ClientFactory(name="SCI Les Flamboyants", reference="CLI-0001")


def test_it_answers_yes_for_a_mandate_by_the_client_in_force_with_its_proof(
    lawyer, client_, with_proof
):
    mandate = with_proof(MandateFactory(intervenant=lawyer, client=client_, direction="by"))

    check = mandate_check(intervenant=lawyer, client=client_, at=NOW)

    assert check == MandateCheck(
        ok=True,
        reason="Maître Lemoine est mandaté par le client SCI Les Flamboyants (CLI-0001).",
        mandate=mandate,
    )
    assert check


def test_it_answers_yes_for_a_mandate_for_the_client_and_says_so(lawyer, client_, with_proof):
    mandate = with_proof(
        MandateFactory(
            intervenant=lawyer, client=client_, direction="for", valid_until=dt.date(2026, 12, 31)
        )
    )

    check = mandate_check(intervenant=lawyer, client=client_, at=NOW)

    assert check.ok and check.mandate == mandate
    assert check.reason == (
        "Maître Lemoine est mandaté pour le client SCI Les Flamboyants (CLI-0001) "
        "jusqu’au 31/12/2026."
    )


def test_it_refuses_a_mandate_not_yet_in_force(lawyer, client_, with_proof):
    with_proof(MandateFactory(intervenant=lawyer, client=client_, valid_from=dt.date(2026, 6, 16)))

    check = mandate_check(intervenant=lawyer, client=client_, at=NOW)

    assert not check.ok
    assert check.reason == "Le mandat ne prend effet que le 16/06/2026."


def test_it_refuses_an_expired_mandate(lawyer, client_, with_proof):
    with_proof(MandateFactory(intervenant=lawyer, client=client_, valid_until=dt.date(2026, 6, 14)))

    check = mandate_check(intervenant=lawyer, client=client_, at=NOW)

    assert not check.ok
    assert check.reason == "Le mandat a expiré le 14/06/2026."


def test_it_counts_the_first_and_last_days_in_the_local_time_zone(lawyer, client_, with_proof):
    with_proof(
        MandateFactory(
            intervenant=lawyer,
            client=client_,
            valid_from=dt.date(2026, 6, 15),
            valid_until=dt.date(2026, 6, 15),
        )
    )

    # 00:30 in Paris is still the 14th in UTC: the local date decides.
    first_minute = dt.datetime(2026, 6, 15, 0, 30, tzinfo=PARIS)
    last_minute = dt.datetime(2026, 6, 15, 23, 59, tzinfo=PARIS)
    next_day = dt.datetime(2026, 6, 16, 0, 0, tzinfo=PARIS)
    assert mandate_check(intervenant=lawyer, client=client_, at=first_minute).ok
    assert mandate_check(intervenant=lawyer, client=client_, at=last_minute).ok
    assert not mandate_check(intervenant=lawyer, client=client_, at=next_day).ok


def test_it_refuses_a_revoked_mandate_from_its_revocation_on(
    lawyer, client_, with_proof, direction, time_machine
):
    mandate = with_proof(MandateFactory(intervenant=lawyer, client=client_))
    time_machine.move_to(NOW)
    services.mandate_revoke(mandate=mandate, by=direction, reason="Fin de la procédure")

    after = mandate_check(intervenant=lawyer, client=client_, at=NOW + dt.timedelta(minutes=1))
    before = mandate_check(intervenant=lawyer, client=client_, at=NOW - dt.timedelta(minutes=1))

    assert not after.ok
    assert after.reason == "Le mandat a été révoqué le 15/06/2026 : Fin de la procédure"
    # A letter received before the revocation came from a duly mandated intervenant.
    assert before.ok


def test_it_refuses_a_mandate_for_another_client(lawyer, client_, with_proof):
    with_proof(MandateFactory(intervenant=lawyer, client=ClientFactory(name="Mme Céleste")))

    check = mandate_check(intervenant=lawyer, client=client_, at=NOW)

    assert not check.ok and check.mandate is None
    assert check.reason == (
        "Maître Lemoine est mandaté pour d’autres clients, ni par ni pour "
        "SCI Les Flamboyants (CLI-0001)."
    )


def test_it_refuses_an_intervenant_without_any_mandate(lawyer, client_):
    check = mandate_check(intervenant=lawyer, client=client_, at=NOW)

    assert not check.ok
    assert check.reason == (
        "Maître Lemoine n’a aucun mandat du client SCI Les Flamboyants (CLI-0001) ni pour lui."
    )


def test_it_does_not_count_a_mandate_without_its_proof(lawyer, client_):
    """Decision: a mandate nobody can produce is not a due mandate (R1)."""
    mandate = MandateFactory(intervenant=lawyer, client=client_)

    check = mandate_check(intervenant=lawyer, client=client_, at=NOW)

    assert check == MandateCheck(
        ok=False, reason="Aucun justificatif du mandat dans la GED.", mandate=mandate
    )


def test_it_refuses_a_client_no_longer_in_the_base(lawyer, client_, with_proof, time_machine):
    with_proof(MandateFactory(intervenant=lawyer, client=client_))
    time_machine.move_to(NOW)
    services.client_update(client=client_, active=False)

    check = mandate_check(intervenant=lawyer, client=client_, at=NOW + dt.timedelta(hours=1))

    assert not check.ok
    assert check.reason == (
        "Le client SCI Les Flamboyants (CLI-0001) n’est plus actif dans la base login."
    )
    assert mandate_check(intervenant=lawyer, client=client_, at=NOW - dt.timedelta(days=1)).ok


def test_it_prefers_the_mandate_in_force_among_several(lawyer, client_, with_proof):
    with_proof(
        MandateFactory(
            intervenant=lawyer,
            client=client_,
            valid_from=dt.date(2025, 1, 1),
            valid_until=dt.date(2025, 12, 31),
        )
    )
    current = with_proof(
        MandateFactory(intervenant=lawyer, client=client_, valid_from=dt.date(2026, 1, 1))
    )
    with_proof(MandateFactory(intervenant=lawyer, client=client_, valid_from=dt.date(2027, 1, 1)))

    check = mandate_check(intervenant=lawyer, client=client_, at=NOW)

    assert check.ok and check.mandate == current


def test_it_answers_in_one_query(lawyer, client_, with_proof, django_assert_num_queries):
    for _ in range(5):
        with_proof(MandateFactory(intervenant=lawyer, client=client_))

    with django_assert_num_queries(1):
        mandate_check(intervenant=lawyer, client=client_, at=NOW)


def test_it_refuses_a_mandate_that_ends_before_it_starts(lawyer, client_, gestionnaire):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        services.mandate_create(
            intervenant=lawyer,
            client=client_,
            direction=Mandate.Direction.BY,
            valid_from=dt.date(2026, 6, 1),
            valid_until=dt.date(2026, 5, 31),
            by=gestionnaire,
        )

    assert "ne peut pas finir avant d’avoir commencé" in str(excinfo.value)
    assert not Mandate.objects.exists()


def test_it_revokes_a_mandate_once_with_a_reason(lawyer, client_, direction):
    from django.core.exceptions import ValidationError

    mandate = MandateFactory(intervenant=lawyer, client=client_)

    with pytest.raises(ValidationError):
        services.mandate_revoke(mandate=mandate, by=direction, reason="  ")
    services.mandate_revoke(mandate=mandate, by=direction, reason="Dessaisi")
    with pytest.raises(ValidationError, match="déjà été révoqué"):
        services.mandate_revoke(mandate=mandate, by=direction, reason="Encore")

    mandate.refresh_from_db()
    assert (mandate.revoked_by, mandate.revocation_reason) == (direction, "Dessaisi")
