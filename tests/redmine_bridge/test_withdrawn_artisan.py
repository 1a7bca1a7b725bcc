"""R3: nothing is pushed for an artisan whose approval was withdrawn; his work goes to another."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from contacts import services as contacts_services
from redmine_bridge import services, tasks
from redmine_bridge.models import ArtisanAccount, WorkRequest
from tests.factories import ArtisanFactory

pytestmark = pytest.mark.django_db

WITHDRAWN = "L’agrément de l’artisan a été retiré : choisissez un autre artisan agréé."


def _detail(work_request):
    return reverse("redmine_bridge:work_request_detail", args=[work_request.pk])


def _reassign_url(work_request):
    return reverse("redmine_bridge:work_request_reassign", args=[work_request.pk])


def test_it_does_not_push_the_work_request_of_an_artisan_revoked_since(
    fake_redmine, make_work_request, direction
):
    """Made while Redmine was down; revoked meanwhile (his signal lost); Redmine back."""
    work_request = make_work_request()
    contacts_services.artisan_revoke(intervenant=work_request.artisan, by=direction, reason="Non")

    assert tasks.push_work_request.run(work_request.pk) is False

    work_request.refresh_from_db()
    assert work_request.push_state == "failed"
    assert work_request.last_error == WITHDRAWN
    assert fake_redmine.calls == []  # Redmine was not even asked
    assert tasks.push_work_request.run(work_request.pk) is False  # once, until a person acts


def test_revoking_an_artisan_refuses_his_waiting_work_requests_at_once(
    fake_redmine,
    make_work_request,
    approved_artisan,
    direction,
    django_capture_on_commit_callbacks,
):
    artisan = approved_artisan()
    waiting, pushed, claimed = (make_work_request(artisan=artisan) for _ in range(3))
    other = make_work_request()  # another artisan's
    assert services.work_request_push(work_request_id=pushed.pk).done
    WorkRequest.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now())  # being pushed

    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Malfaçons")

    states = {wr.pk: (wr.push_state, wr.last_error) for wr in WorkRequest.objects.all()}
    assert states[waiting.pk] == ("failed", WITHDRAWN)
    assert states[pushed.pk] == ("pushed", "")
    assert states[claimed.pk] == ("pending", "")  # its worker decides
    assert states[other.pk] == ("pending", "")


def test_a_revocation_during_the_push_never_assigns_the_issue_to_a_locked_user(
    fake_redmine, make_work_request, direction, monkeypatch
):
    work_request = make_work_request()
    artisan = work_request.artisan
    # The push's check saw him approved; the revocation commits just after it.
    monkeypatch.setattr(services, "_may_receive_work", lambda artisan: True)
    contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Non")

    outcome = services.work_request_push(work_request_id=work_request.pk)

    work_request.refresh_from_db()
    assert not outcome.done
    assert (work_request.push_state, work_request.last_error) == ("failed", WITHDRAWN)
    assert "issue_create" not in fake_redmine.calls
    assert ArtisanAccount.objects.get(intervenant=artisan).locked_at is not None


def test_an_artisan_approved_again_is_unlocked_before_he_is_assigned_an_issue(
    fake_redmine, make_work_request, direction, django_capture_on_commit_callbacks, no_enqueue
):
    """His approval's signal was lost: his account is still locked in Redmine."""
    work_request = make_work_request()
    artisan = work_request.artisan
    account = ArtisanAccount.objects.get(intervenant=artisan)
    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Non")
    assert services.artisan_account_push(account_id=account.pk).done  # locked
    contacts_services.artisan_propose(intervenant=artisan, by=direction)
    contacts_services.artisan_approve(intervenant=artisan, by=direction)  # signal lost
    work_request = services.work_request_reassign(
        work_request=work_request, artisan=artisan, by=direction
    )

    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.work_request_push(work_request_id=work_request.pk)

    assert outcome.retry_in and "issue_create" not in fake_redmine.calls
    assert services.artisan_account_push(account_id=account.pk).done  # unlocked
    WorkRequest.objects.filter(pk=work_request.pk).update(next_attempt_at=timezone.now())
    assert services.work_request_push(work_request_id=work_request.pk).done
    account.refresh_from_db()
    assert fake_redmine.users[account.redmine_user_id]["locked"] is False
    assert fake_redmine.issues[1]["assigned_to_id"] == account.redmine_user_id


def test_a_gestionnaire_gives_the_work_request_to_another_approved_artisan(
    as_user,
    gestionnaire,
    fake_redmine,
    make_work_request,
    approved_artisan,
    direction,
    django_capture_on_commit_callbacks,
    no_enqueue,
):
    work_request = make_work_request()
    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_revoke(
            intervenant=work_request.artisan, by=direction, reason="Non"
        )
    other = approved_artisan()
    client = as_user(gestionnaire)
    page = client.get(_detail(work_request)).content.decode()
    assert WITHDRAWN in page and _reassign_url(work_request) in page
    assert client.get(_reassign_url(work_request)).status_code == 405
    no_enqueue.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_reassign_url(work_request), {"artisan": other.pk})

    work_request.refresh_from_db()
    assert response.status_code == 302
    assert (work_request.artisan, work_request.push_state) == (other, "pending")
    assert ("push_work_request", work_request.pk) in no_enqueue
    assert services.work_request_push(work_request_id=work_request.pk).done
    account = ArtisanAccount.objects.get(intervenant=other)
    assert fake_redmine.issues[1]["assigned_to_id"] == account.redmine_user_id


def test_the_other_artisan_must_be_approved(as_user, gestionnaire, fake_redmine, make_work_request):
    work_request = make_work_request()
    unapproved = ArtisanFactory()

    response = as_user(gestionnaire).post(_reassign_url(work_request), {"artisan": unapproved.pk})
    with pytest.raises(ValidationError):
        services.work_request_reassign(
            work_request=work_request, artisan=unapproved, by=gestionnaire
        )

    assert response.status_code == 302
    assert WorkRequest.objects.get(pk=work_request.pk).artisan_id != unapproved.pk


def test_a_work_request_already_in_redmine_keeps_its_artisan(
    as_user, gestionnaire, fake_redmine, make_work_request, approved_artisan
):
    work_request = make_work_request()
    assert services.work_request_push(work_request_id=work_request.pk).done
    original = work_request.artisan_id
    other = approved_artisan()

    assert (
        _reassign_url(work_request)
        not in as_user(gestionnaire).get(_detail(work_request)).content.decode()
    )
    with pytest.raises(ValidationError):
        services.work_request_reassign(work_request=work_request, artisan=other, by=gestionnaire)
    as_user(gestionnaire).post(_reassign_url(work_request), {"artisan": other.pk})

    assert WorkRequest.objects.get(pk=work_request.pk).artisan_id == original


def test_the_legal_service_cannot_change_the_artisan(
    as_user, legal, fake_redmine, make_work_request, approved_artisan
):
    work_request = make_work_request()
    other = approved_artisan()

    assert (
        as_user(legal).post(_reassign_url(work_request), {"artisan": other.pk}).status_code == 403
    )
    with pytest.raises(PermissionDenied):
        services.work_request_reassign(work_request=work_request, artisan=other, by=legal)
    assert WorkRequest.objects.get(pk=work_request.pk).artisan_id != other.pk


def test_an_issue_created_for_the_former_artisan_follows_the_work_request(
    fake_redmine, make_work_request, approved_artisan, gestionnaire, monkeypatch
):
    """An earlier attempt created the issue and lost the answer; the artisan was changed since."""
    work_request = make_work_request()
    real_pushed = services._pushed

    def answer_lost(model, pk, **fields):
        if model is WorkRequest:
            services._release(WorkRequest, pk)
            return services.Outcome(retry_in=10)
        return real_pushed(model, pk, **fields)

    with monkeypatch.context() as patch:
        patch.setattr(services, "_pushed", answer_lost)
        services.work_request_push(work_request_id=work_request.pk)
    assert len(fake_redmine.issues) == 1
    other = approved_artisan()
    services.work_request_reassign(work_request=work_request, artisan=other, by=gestionnaire)

    assert services.work_request_push(work_request_id=work_request.pk).done

    account = ArtisanAccount.objects.get(intervenant=other)
    assert len(fake_redmine.issues) == 1
    assert fake_redmine.issues[1]["assigned_to_id"] == account.redmine_user_id
    assert WorkRequest.objects.get(pk=work_request.pk).redmine_issue_id == 1
