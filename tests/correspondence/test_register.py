"""Registering an item: R1 (mandate), R6 (tracking number), R8 (deadline), R10 (bailiff's act)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from correspondence import selectors, services
from correspondence.models import Activity, Channel, IncomingItem, Kind, Status
from tests.correspondence.conftest import pdf_file

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def register(by, sender, dossier, **overrides):
    arguments = dict(
        channel=Channel.LETTER,
        received_at=NOW - timedelta(hours=1),
        sender=sender,
        dossier=dossier,
        subject="Succession Dupont",
        points=["Copie du bail", "Montant du dépôt de garantie"],
        assigned_to=dossier.gestionnaire,
        by=by,
    )
    arguments.update(overrides)
    return services.item_register(**arguments)


def test_it_registers_a_letter_from_a_mandated_notary_with_its_points_and_deadline(
    gestionnaire, dossier, notary
):
    item = register(gestionnaire, notary, dossier)

    item.refresh_from_db()
    assert item.status == Status.RECEIVED
    assert item.mandate.intervenant == notary
    assert [p.text for p in item.points.all()] == ["Copie du bail", "Montant du dépôt de garantie"]
    assert item.due_at == NOW - timedelta(hours=1) + timedelta(hours=72)  # R8
    assert list(Activity.objects.filter(item=item).values_list("action", flat=True)) == [
        "registered"
    ]


def test_it_gives_an_email_48_hours(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier, channel=Channel.EMAIL)

    assert item.due_at == NOW - timedelta(hours=1) + timedelta(hours=48)


def test_it_refuses_a_sender_without_mandate_with_the_reason(gestionnaire, dossier, stranger):
    with pytest.raises(ValidationError) as refused:
        register(gestionnaire, stranger, dossier)

    assert "sender" in refused.value.message_dict
    assert IncomingItem.objects.count() == 0


def test_it_refuses_a_mandate_given_by_another_client(gestionnaire, dossier, notary):
    from tests.factories import DossierFactory

    other_dossier = DossierFactory(gestionnaire=gestionnaire)

    with pytest.raises(ValidationError):
        register(gestionnaire, notary, other_dossier)


def test_it_lets_the_direction_force_an_unmandated_sender_with_a_justification(
    direction, dossier, stranger
):
    item = register(
        direction,
        stranger,
        dossier,
        force_reason="Assignation urgente, mandat en cours de transmission",
    )

    item.refresh_from_db()
    assert item.forced_by == direction
    assert item.forced_reason == "Assignation urgente, mandat en cours de transmission"
    assert item.mandate is None
    assert set(Activity.objects.filter(item=item).values_list("action", flat=True)) == {
        "registered",
        "forced",
    }


def test_it_refuses_a_forced_registration_by_a_gestionnaire(gestionnaire, dossier, stranger):
    with pytest.raises(PermissionDenied):
        register(gestionnaire, stranger, dossier, force_reason="Je suis pressée")

    assert IncomingItem.objects.count() == 0


def test_it_requires_a_justification_to_force(direction, dossier, stranger):
    with pytest.raises(ValidationError):
        register(direction, stranger, dossier, force_reason="   ")


def test_it_accepts_the_dossiers_own_client_and_refuses_another_client(gestionnaire, dossier):
    from tests.factories import ClientFactory

    assert register(gestionnaire, dossier.client, dossier).sender == dossier.client
    with pytest.raises(ValidationError):
        register(gestionnaire, ClientFactory(), dossier)


def test_it_lets_only_the_legal_service_register_a_bailiffs_act(
    gestionnaire, legal, dossier, notary
):
    with pytest.raises(PermissionDenied):
        register(gestionnaire, notary, dossier, channel=Channel.VISIT, kind=Kind.BAILIFF_ACT)
    with pytest.raises(PermissionDenied):
        register(gestionnaire, notary, dossier, channel=Channel.LETTER, kind=Kind.BAILIFF_ACT)

    item = register(legal, notary, dossier, channel=Channel.VISIT, kind=Kind.BAILIFF_ACT)
    assert item.kind == Kind.BAILIFF_ACT
    assert IncomingItem.objects.count() == 1


def test_it_requires_a_visit_to_say_what_it_is(gestionnaire, dossier, notary):
    with pytest.raises(ValidationError):
        register(gestionnaire, notary, dossier, channel=Channel.VISIT, kind=Kind.REQUEST)


@pytest.mark.parametrize("tracking_number", ["", "12345", "RR12345678FR"])
def test_it_refuses_a_registered_letter_without_a_valid_tracking_number(
    gestionnaire, dossier, notary, tracking_number
):
    with pytest.raises(ValidationError) as refused:
        register(gestionnaire, notary, dossier, registered=True, tracking_number=tracking_number)

    assert "tracking_number" in refused.value.message_dict


def test_it_normalises_a_tracking_number(gestionnaire, dossier, notary):
    item = register(
        gestionnaire, notary, dossier, registered=True, tracking_number="rr 123456789 fr"
    )

    assert item.tracking_number == "RR123456789FR"


def test_it_refuses_a_registered_email(gestionnaire, dossier, notary):
    with pytest.raises(ValidationError):
        register(
            gestionnaire,
            notary,
            dossier,
            channel=Channel.EMAIL,
            registered=True,
            tracking_number="RR123456789FR",
        )


def test_it_refuses_an_item_without_points(gestionnaire, dossier, notary):
    with pytest.raises(ValidationError) as refused:
        register(gestionnaire, notary, dossier, points=["  ", ""])

    assert "points" in refused.value.message_dict


def test_it_refuses_a_reception_in_the_future(gestionnaire, dossier, notary):
    with pytest.raises(ValidationError):
        register(gestionnaire, notary, dossier, received_at=NOW + timedelta(hours=2))


def test_it_files_the_scan_given_at_registration(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier, originals=[pdf_file()])

    item.refresh_from_db()
    assert item.original_filed_at == NOW
    entries = selectors.item_timeline(item)
    assert [(e.kind, e.detail, e.actor) for e in entries if e.kind == "document"] == [
        ("document", "scan.pdf", gestionnaire)
    ]


def test_the_database_refuses_two_senders(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)

    with pytest.raises(IntegrityError), transaction.atomic():
        IncomingItem.objects.filter(pk=item.pk).update(sender_client=dossier.client)


def test_the_database_refuses_a_registered_letter_without_tracking_number(
    gestionnaire, dossier, notary
):
    item = register(gestionnaire, notary, dossier)

    with pytest.raises(IntegrityError), transaction.atomic():
        IncomingItem.objects.filter(pk=item.pk).update(registered=True)


@pytest.fixture
def bailiff(dossier, gestionnaire):
    """A bailiff duly mandated by the dossier's client (proof in the GED)."""
    import datetime as dt

    from ged.services import document_store
    from tests.factories import IntervenantFactory, MandateFactory

    intervenant = IntervenantFactory(kind="bailiff", name="Maître Huissier")
    mandate = MandateFactory(
        intervenant=intervenant,
        client=dossier.client,
        valid_from=dt.date(2026, 1, 1),
        created_by=gestionnaire,
    )
    mandate.proof = document_store(
        file=pdf_file("mandat.pdf"), owner=mandate, added_by=gestionnaire
    )
    mandate.save(update_fields=["proof"])
    return intervenant


@pytest.mark.parametrize("channel", [Channel.LETTER, Channel.EMAIL, Channel.CALL])
@pytest.mark.parametrize("kind", [Kind.APPOINTMENT, Kind.ROUTINE])
def test_it_refuses_a_visits_kind_for_another_channel(gestionnaire, dossier, notary, channel, kind):
    with pytest.raises(ValidationError, match="Seule une visite") as refused:
        register(gestionnaire, notary, dossier, channel=channel, kind=kind)

    assert "kind" in refused.value.error_dict
    assert IncomingItem.objects.count() == 0


@pytest.mark.parametrize("kind", [Kind.ROUTINE, Kind.APPOINTMENT])
def test_it_refuses_a_bailiffs_visit_as_another_kind_without_the_declaration(
    gestionnaire, dossier, bailiff, kind
):
    with pytest.raises(ValidationError, match="seul le service juridique") as refused:
        register(gestionnaire, bailiff, dossier, channel=Channel.VISIT, kind=kind)

    assert "not_a_bailiff_act" in refused.value.error_dict
    assert IncomingItem.objects.count() == 0


def test_it_registers_a_bailiffs_visit_declared_not_an_act_on_the_timeline(
    gestionnaire, dossier, bailiff
):
    item = register(
        gestionnaire,
        bailiff,
        dossier,
        channel=Channel.VISIT,
        kind=Kind.ROUTINE,
        not_a_bailiff_act=True,
    )

    declaration = item.activities.get(action=Activity.Action.NOT_BAILIFF_ACT)
    assert declaration.actor == gestionnaire
    assert "Claire Martin" in declaration.detail and "acte d'huissier" in declaration.detail
    labels = [entry.label for entry in selectors.item_timeline(item)]
    assert "Déclaré comme n'étant pas la remise d'un acte d'huissier" in labels


def test_it_needs_no_declaration_for_other_visitors_nor_for_the_act_itself(
    gestionnaire, legal, dossier, notary, bailiff
):
    routine = register(gestionnaire, notary, dossier, channel=Channel.VISIT, kind=Kind.ROUTINE)
    act = register(legal, bailiff, dossier, channel=Channel.VISIT, kind=Kind.BAILIFF_ACT)

    assert not Activity.objects.filter(action=Activity.Action.NOT_BAILIFF_ACT).exists()
    assert {routine.kind, act.kind} == {Kind.ROUTINE, Kind.BAILIFF_ACT}
