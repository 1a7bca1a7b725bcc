"""The sweep, the pull and the beat schedule: nothing lost, run twice with one effect."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from redmine_bridge import services, tasks
from redmine_bridge.models import ArtisanAccount, SyncCursor, WorkRequest, claim_lease

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_pulls_and_sweeps_with_expiry_under_the_period():
    for name, task in [
        ("redmine-pull-issues", "redmine_bridge.tasks.pull_issues"),
        ("redmine-sweep-outbox", "redmine_bridge.tasks.sweep_outbox"),
    ]:
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        assert entry["task"] == task
        assert task in tasks.pull_issues.app.tasks
        assert 0 < entry["options"]["expires"] < entry["schedule"]


def test_the_sweep_enqueues_what_waits_once_even_when_run_twice(
    fake_redmine, make_work_request, django_capture_on_commit_callbacks, no_enqueue
):
    work_request = make_work_request()
    no_enqueue.clear()

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = tasks.sweep_outbox.run()
        second = tasks.sweep_outbox.run()

    assert first["work_requests"] == 1 and second["work_requests"] == 0
    assert no_enqueue.count(("push_work_request", work_request.pk)) == 1


def test_the_sweep_skips_rows_claimed_by_a_live_worker_and_pushed_ones(
    fake_redmine, make_work_request, django_capture_on_commit_callbacks, no_enqueue
):
    claimed, pushed = make_work_request(), make_work_request()
    services.work_request_push(work_request_id=pushed.pk)
    WorkRequest.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now())

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.sweep_outbox.run()["work_requests"] == 0
    with (
        time_machine.travel(timezone.now() + claim_lease() + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.sweep_outbox.run()["work_requests"] == 1


def test_the_sweep_asks_for_the_account_of_an_approved_artisan_who_has_none(
    fake_redmine, approved_artisan, django_capture_on_commit_callbacks, no_enqueue
):
    """The approval's signal was lost (the process died after the commit)."""
    artisan = approved_artisan()
    assert not ArtisanAccount.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        counts = tasks.sweep_outbox.run()
        tasks.sweep_outbox.run()

    account = ArtisanAccount.objects.get(intervenant=artisan)
    assert counts["new_artisan_accounts"] == 1
    assert no_enqueue.count(("push_artisan_account", account.pk)) == 1
    assert tasks.push_artisan_account.run(account.pk) is True
    assert tasks.push_artisan_account.run(account.pk) is False
    assert fake_redmine.calls.count("user_create") == 1


def test_the_pull_marks_a_closed_issue_done_once(fake_redmine, make_work_request):
    work_request = make_work_request()
    services.work_request_push(work_request_id=work_request.pk)
    fake_redmine.issue_note_add(issue_id=1, text="Terminé, facture envoyée.")
    fake_redmine.closed.add(1)

    first = tasks.pull_issues.run()
    second = tasks.pull_issues.run()

    work_request.refresh_from_db()
    assert first["done"] == 1 and second["done"] == 0
    assert work_request.done_at is not None
    assert work_request.last_note == "Terminé, facture envoyée."
    assert SyncCursor.objects.get().updated_since is not None


def test_the_pull_sees_an_issue_stamped_before_the_cursor_but_committed_after_it(
    fake_redmine, make_work_request
):
    """Redmine stamps updated_on before its commit: a slow save shows up behind the cursor."""
    work_request = make_work_request()
    services.work_request_push(work_request_id=work_request.pk)
    tasks.pull_issues.run()
    cursor = SyncCursor.objects.get().updated_since
    fake_redmine.issues[1]["updated_on"] = cursor - timedelta(seconds=30)
    fake_redmine.closed.add(1)

    assert tasks.pull_issues.run()["done"] == 1
    assert SyncCursor.objects.get().updated_since == cursor  # the cursor never goes back


def test_a_stamp_from_the_future_does_not_hide_the_next_changes(fake_redmine, make_work_request):
    """Redmine stores local times: started again in another zone, it reads them hours ahead."""
    first, second = make_work_request(), make_work_request()
    for work_request in (first, second):
        services.work_request_push(work_request_id=work_request.pk)
    fake_redmine.issues[1]["updated_on"] = timezone.now() + timedelta(hours=1)
    before = timezone.now()
    tasks.pull_issues.run()
    assert SyncCursor.objects.get().updated_since <= timezone.now()

    fake_redmine.issues[2]["updated_on"] = before + timedelta(seconds=1)
    fake_redmine.closed.add(2)

    assert tasks.pull_issues.run()["done"] == 1
    second.refresh_from_db()
    assert second.done_at is not None


def test_a_pull_already_running_is_not_run_twice(fake_redmine):
    SyncCursor.objects.create(name=services.ISSUES_CURSOR, claimed_at=timezone.now())

    assert tasks.pull_issues.run() == {}
    assert "issues_updated_since" not in fake_redmine.calls


def test_the_pull_records_an_outage_and_keeps_its_cursor(fake_redmine, make_work_request):
    from redmine_bridge import client

    fake_redmine.fail_with = client.TransientError("Redmine est injoignable")

    result = tasks.pull_issues.run()

    cursor = SyncCursor.objects.get()
    assert result == {"error": "Redmine est injoignable"}
    assert cursor.last_error == "Redmine est injoignable" and cursor.claimed_at is None


def test_the_approval_signal_asks_for_the_account(
    approved_artisan, django_capture_on_commit_callbacks, no_enqueue
):
    with django_capture_on_commit_callbacks(execute=True):
        artisan = approved_artisan()

    assert ArtisanAccount.objects.filter(intervenant=artisan).count() == 1
