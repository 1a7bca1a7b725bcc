"""Pushing to Redmine through a fake client: claims, look-ups, errors, retries (unit tests)."""

from datetime import timedelta

import pytest
import time_machine
from celery.exceptions import Retry
from django.utils import timezone

from redmine_bridge import client, services, tasks
from redmine_bridge.models import ArtisanAccount, WorkRequest, claim_lease

pytestmark = pytest.mark.django_db


def test_it_creates_the_issue_without_a_look_up_on_the_first_attempt(
    fake_redmine, make_work_request
):
    work_request = make_work_request(priority="high")

    outcome = services.work_request_push(work_request_id=work_request.pk)

    work_request.refresh_from_db()
    assert outcome.done
    assert work_request.push_state == "pushed"
    assert work_request.redmine_issue_id == 1
    assert work_request.redmine_url == "http://redmine.test/issues/1"
    issue = fake_redmine.issues[1]
    assert issue["reference"] == str(work_request.reference)
    assert issue["priority"] == "high"
    assert issue["subject"].startswith(f"[{work_request.dossier.reference}] Fuite sous")
    # The artisan's account was made first, and the issue is assigned to him.
    account = ArtisanAccount.objects.get(intervenant=work_request.artisan)
    assert issue["assigned_to_id"] == account.redmine_user_id
    assert "issue_find" not in fake_redmine.calls


def test_it_pushes_once_when_run_twice(fake_redmine, make_work_request):
    work_request = make_work_request()

    assert tasks.push_work_request.run(work_request.pk) is True
    assert tasks.push_work_request.run(work_request.pk) is False

    assert len(fake_redmine.issues) == 1
    assert fake_redmine.calls.count("issue_create") == 1


def test_it_finds_the_issue_an_earlier_attempt_created(fake_redmine, make_work_request):
    """A worker created the issue then died before storing its id: no second issue."""
    work_request = make_work_request()
    services.artisan_account_push(
        account_id=ArtisanAccount.objects.get(intervenant=work_request.artisan).pk
    )
    fake_redmine.issue_create(
        reference=str(work_request.reference), subject="s", description="d", priority="normal"
    )
    # The dead worker's claim and attempt.
    WorkRequest.objects.filter(pk=work_request.pk).update(
        claimed_at=timezone.now() - claim_lease() - timedelta(seconds=1), attempts=1
    )

    assert services.work_request_push(work_request_id=work_request.pk).done

    work_request.refresh_from_db()
    assert work_request.redmine_issue_id == 1
    assert len(fake_redmine.issues) == 1


def test_it_leaves_a_row_claimed_by_a_live_worker_alone(fake_redmine, make_work_request):
    work_request = make_work_request()
    WorkRequest.objects.filter(pk=work_request.pk).update(claimed_at=timezone.now())

    outcome = services.work_request_push(work_request_id=work_request.pk)

    assert not outcome.done and outcome.retry_in is None
    assert fake_redmine.issues == {}


def test_it_takes_over_the_claim_of_a_dead_worker(fake_redmine, make_work_request):
    work_request = make_work_request()
    WorkRequest.objects.filter(pk=work_request.pk).update(claimed_at=timezone.now())

    with time_machine.travel(timezone.now() + claim_lease() + timedelta(seconds=5)):
        assert services.work_request_push(work_request_id=work_request.pk).done


def test_it_retries_a_transient_error_with_backoff(fake_redmine, make_work_request):
    work_request = make_work_request()
    fake_redmine.fail_with = client.TransientError("Redmine injoignable")

    with pytest.raises(Retry):
        tasks.push_work_request.run(work_request.pk)

    work_request.refresh_from_db()
    assert work_request.push_state == "pending"
    assert work_request.claimed_at is None
    assert work_request.last_error
    assert work_request.next_attempt_at > timezone.now() + timedelta(seconds=5)

    fake_redmine.fail_with = None
    assert tasks.push_work_request.run(work_request.pk) is True
    work_request.refresh_from_db()
    assert work_request.last_error == ""
    # After a failed attempt the issue is looked up before being created.
    assert "issue_find" in fake_redmine.calls


def test_the_backoff_grows_and_stays_under_ten_minutes():
    assert 8 <= services.backoff_seconds(1) <= 12
    assert services.backoff_seconds(4) > services.backoff_seconds(1)
    assert all(services.backoff_seconds(n) <= 720 for n in range(1, 60))


def test_it_records_a_permanent_error_and_stops(fake_redmine, make_work_request):
    work_request = make_work_request()
    fake_redmine.fail_with = client.PermanentError("Redmine a refusé la clé (HTTP 401)")

    assert tasks.push_work_request.run(work_request.pk) is False

    work_request.refresh_from_db()
    assert work_request.push_state == "failed"
    assert "401" in work_request.last_error
    fake_redmine.fail_with = None
    assert tasks.push_work_request.run(work_request.pk) is False  # waits for a person
    assert fake_redmine.issues == {}


def test_a_person_retries_a_refused_work_request(
    fake_redmine, make_work_request, gestionnaire, django_capture_on_commit_callbacks, no_enqueue
):
    work_request = make_work_request()
    fake_redmine.fail_with = client.PermanentError("refus")
    services.work_request_push(work_request_id=work_request.pk)
    fake_redmine.fail_with = None

    with django_capture_on_commit_callbacks(execute=True):
        services.work_request_retry(work_request=work_request, by=gestionnaire)

    assert ("push_work_request", work_request.pk) in no_enqueue
    assert services.work_request_push(work_request_id=work_request.pk).done


def test_it_waits_without_configuration(not_configured, make_work_request):
    work_request = make_work_request()

    outcome = services.work_request_push(work_request_id=work_request.pk)

    work_request.refresh_from_db()
    assert outcome.error.startswith("Redmine n’est pas configuré")
    assert (work_request.push_state, work_request.attempts) == ("pending", 0)
    assert services.outbox_sweep() == {}


def test_it_refuses_the_work_request_when_the_artisan_has_no_email(
    fake_redmine, make_work_request, approved_artisan
):
    work_request = make_work_request(artisan=approved_artisan(email=""))

    services.work_request_push(work_request_id=work_request.pk)

    work_request.refresh_from_db()
    assert work_request.push_state == "failed"
    assert "adresse email" in work_request.last_error
    assert fake_redmine.issues == {}
