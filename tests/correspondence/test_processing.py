"""R7 (the scan before processing) and R9 (written confirmation of oral exchanges)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, transaction
from django.utils import timezone

from correspondence import services
from correspondence.models import Channel, Event, IncomingItem, Kind, Status
from tests.correspondence.conftest import pdf_file

pytestmark = pytest.mark.django_db


def register(by, sender, dossier, **overrides):
    arguments = dict(
        channel=Channel.LETTER,
        received_at=timezone.now() - timedelta(hours=1),
        sender=sender,
        dossier=dossier,
        subject="Demande",
        points=["Un point"],
        assigned_to=dossier.gestionnaire,
        by=by,
    )
    arguments.update(overrides)
    return services.item_register(**arguments)


def test_it_keeps_a_letter_received_until_its_scan_is_in_the_ged(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)

    with pytest.raises(ValidationError, match="GED"):
        services.item_start(item=item, by=gestionnaire)
    item.refresh_from_db()
    assert item.status == Status.RECEIVED

    services.item_file_original(item=item, file=pdf_file(), by=gestionnaire)
    services.item_start(item=item, by=gestionnaire)
    item.refresh_from_db()
    assert item.status == Status.IN_PROGRESS


def test_it_asks_for_the_original_of_an_email_registered_by_hand(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier, channel=Channel.EMAIL)

    with pytest.raises(ValidationError, match=".eml"):
        services.item_start(item=item, by=gestionnaire)


def test_the_database_refuses_to_process_a_letter_without_its_scan(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)

    with pytest.raises(IntegrityError), transaction.atomic():
        IncomingItem.objects.filter(pk=item.pk).update(status=Status.IN_PROGRESS)


def test_it_closes_a_visit_only_once_confirmed_in_writing(gestionnaire, dossier, notary):
    visit = register(gestionnaire, notary, dossier, channel=Channel.VISIT, kind=Kind.ROUTINE)

    with pytest.raises(ValidationError, match="writing|écrit"):
        services.item_close(item=visit, by=gestionnaire)
    visit.refresh_from_db()
    assert visit.status == Status.RECEIVED

    services.event_record(
        dossier=dossier,
        item=visit,
        label="Réception assurance",
        text="Attestation remise en main propre.",
        occurred_at=timezone.now(),
        by=gestionnaire,
    )
    services.item_close(item=visit, by=gestionnaire)
    visit.refresh_from_db()
    assert visit.status == Status.CLOSED
    assert visit.answered_at is not None


def test_it_closes_a_call_confirmed_on_the_work_requests_redmine_ticket(
    gestionnaire, direction, dossier, notary
):
    from contacts import services as contacts_services
    from redmine_bridge import services as redmine_services
    from redmine_bridge.models import IssueNote
    from tests.factories import ArtisanFactory

    artisan = ArtisanFactory()
    contacts_services.artisan_propose(intervenant=artisan, by=gestionnaire)
    contacts_services.artisan_approve(intervenant=artisan, by=direction)
    call = register(gestionnaire, notary, dossier, channel=Channel.CALL)
    work_request = redmine_services.work_request_create(
        dossier=dossier,
        artisan=artisan,
        description="Fuite sous l'évier",
        place="Cuisine",
        requested_by=gestionnaire,
        incoming_item=call,
    )

    event = services.event_record(
        dossier=dossier,
        item=call,
        label="Clef remise",
        text="Clef remise à l'artisan.",
        occurred_at=timezone.now(),
        by=gestionnaire,
        work_request=work_request,
    )
    services.item_close(item=call, by=gestionnaire)

    assert event.destination == Event.Destination.REDMINE_TICKET
    note = IssueNote.objects.get(work_request=work_request)
    assert "Clef remise à l'artisan." in note.text and note.author == gestionnaire
    assert list(call.work_requests.all()) == [work_request]
    call.refresh_from_db()
    assert call.status == Status.CLOSED


def test_it_refuses_a_work_request_of_another_dossier(gestionnaire, direction, dossier, notary):
    from contacts import services as contacts_services
    from redmine_bridge import services as redmine_services
    from tests.factories import ArtisanFactory, DossierFactory

    artisan = ArtisanFactory()
    contacts_services.artisan_propose(intervenant=artisan, by=gestionnaire)
    contacts_services.artisan_approve(intervenant=artisan, by=direction)
    other = DossierFactory(gestionnaire=gestionnaire)
    work_request = redmine_services.work_request_create(
        dossier=other,
        artisan=artisan,
        description="Peinture",
        place="Salon",
        requested_by=gestionnaire,
    )

    with pytest.raises(ValidationError):
        services.event_record(
            dossier=dossier,
            label="x",
            text="y",
            occurred_at=timezone.now(),
            by=gestionnaire,
            work_request=work_request,
        )
    assert Event.objects.count() == 0


def test_it_does_not_close_an_unanswered_letter(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)

    with pytest.raises(ValidationError):
        services.item_close(item=item, by=gestionnaire)


def test_it_refuses_an_event_about_another_dossiers_item(gestionnaire, dossier, notary):
    from tests.factories import DossierFactory

    item = register(gestionnaire, notary, dossier, channel=Channel.CALL)

    with pytest.raises(ValidationError):
        services.event_record(
            dossier=DossierFactory(),
            item=item,
            label="x",
            text="y",
            occurred_at=timezone.now(),
            by=gestionnaire,
        )


def test_the_event_log_is_append_only(gestionnaire, dossier):
    event = services.event_record(
        dossier=dossier,
        label="Réception assurance",
        text="Reçu l'assureur.",
        occurred_at=timezone.now(),
        by=gestionnaire,
    )

    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(text="Réécrit")
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.text == "Reçu l'assureur."


def test_it_reassigns_an_item_and_records_it(gestionnaire, other_gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)

    services.item_assign(item=item, to=other_gestionnaire, by=gestionnaire)

    item.refresh_from_db()
    assert item.assigned_to == other_gestionnaire
    assert item.activities.filter(action="assigned").count() == 1
