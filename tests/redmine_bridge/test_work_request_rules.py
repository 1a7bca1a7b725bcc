"""R3 and the database's own rules on work requests: refused input changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from redmine_bridge import services
from redmine_bridge.models import ArtisanAccount, WorkRequest
from tests.factories import ArtisanFactory, IntervenantFactory

pytestmark = pytest.mark.django_db


def _create(dossier, artisan, user, **fields):
    return services.work_request_create(
        dossier=dossier,
        artisan=artisan,
        description=fields.pop("description", "Remplacer le chauffe-eau"),
        place=fields.pop("place", "Cave"),
        requested_by=user,
        **fields,
    )


def test_it_records_a_work_request_for_an_approved_artisan(
    dossier, approved_artisan, gestionnaire, django_capture_on_commit_callbacks, no_enqueue
):
    artisan = approved_artisan()

    with django_capture_on_commit_callbacks(execute=True):
        work_request = _create(dossier, artisan, gestionnaire, urgency="urgent")

    work_request.refresh_from_db()
    assert work_request.push_state == "pending"
    assert work_request.redmine_priority == "urgent"
    # The push is enqueued after commit, and the artisan's account is asked for.
    assert ("push_work_request", work_request.pk) in no_enqueue
    account = ArtisanAccount.objects.get(intervenant=artisan)
    assert ("push_artisan_account", account.pk) in no_enqueue


def test_it_refuses_an_artisan_the_direction_has_not_approved(dossier, gestionnaire):
    # R3: proposed, not approved.
    artisan = ArtisanFactory(proposed_at=timezone.now(), proposed_by=gestionnaire)

    with pytest.raises(ValidationError) as excinfo:
        _create(dossier, artisan, gestionnaire)

    assert "n’est pas agréé par la direction" in str(excinfo.value.message_dict["artisan"])
    assert not WorkRequest.objects.exists()
    assert not ArtisanAccount.objects.exists()


def test_it_refuses_a_non_technical_intervenant(dossier, gestionnaire):
    notary = IntervenantFactory(kind="notary")

    with pytest.raises(ValidationError) as excinfo:
        _create(dossier, notary, gestionnaire)

    assert "n’est pas un intervenant technique" in str(excinfo.value.message_dict["artisan"])
    assert not WorkRequest.objects.exists()


def test_it_refuses_a_closed_dossier(dossier, approved_artisan, gestionnaire):
    dossier.closed_at = timezone.now()
    dossier.save()

    with pytest.raises(ValidationError) as excinfo:
        _create(dossier, approved_artisan(), gestionnaire)

    assert "dossier" in excinfo.value.message_dict
    assert not WorkRequest.objects.exists()


@pytest.mark.parametrize("field", ["description", "place"])
def test_it_refuses_an_empty_description_or_place(dossier, approved_artisan, gestionnaire, field):
    with pytest.raises(ValidationError) as excinfo:
        _create(dossier, approved_artisan(), gestionnaire, **{field: "   "})

    assert field in excinfo.value.message_dict
    assert not WorkRequest.objects.exists()


def test_it_refuses_a_user_without_the_permission(dossier, approved_artisan, legal):
    with pytest.raises(PermissionDenied):
        _create(dossier, approved_artisan(), legal)

    assert not WorkRequest.objects.exists()


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"pushed_at": timezone.now()}, "rb_workrequest_pushed_issue"),
        ({"failed_at": timezone.now()}, "rb_workrequest_failure_reason"),
        (
            {
                "failed_at": timezone.now(),
                "last_error": "x",
                "pushed_at": timezone.now(),
                "redmine_issue_id": 1,
            },
            "rb_workrequest_pushed_or_failed",
        ),
        ({"description": ""}, "rb_workrequest_description"),
    ],
)
def test_the_database_refuses_an_inconsistent_push_state(make_work_request, changes, constraint):
    work_request = make_work_request()

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        WorkRequest.objects.filter(pk=work_request.pk).update(**changes)


def test_the_database_refuses_two_work_requests_on_one_issue(make_work_request):
    first, second = make_work_request(), make_work_request()
    WorkRequest.objects.filter(pk=first.pk).update(redmine_issue_id=7)

    with pytest.raises(IntegrityError), transaction.atomic():
        WorkRequest.objects.filter(pk=second.pk).update(redmine_issue_id=7)


def test_it_gives_every_work_request_its_own_reference(make_work_request):
    assert make_work_request().reference != make_work_request().reference
