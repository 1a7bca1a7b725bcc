"""A real Celery worker on the real Redis broker pushing to the real Redmine, through an outage."""

import time

import pytest
from celery.contrib.testing import tasks as testing_tasks  # noqa: F401 (registers celery.ping)
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Permission
from django.utils import timezone

from gerance.celery import app
from redmine_bridge import client, services
from redmine_bridge.models import WorkRequest
from tests.factories import ArtisanFactory, DossierFactory, UserFactory
from tests.redmine_bridge.conftest import redmine_script, unique_email

# The worker runs in another thread with its own connection: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(redmine):
    assert app.conf.broker_url.startswith("redis://"), "make test runs the worker on Redis"
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=30) as w:
        yield w


@pytest.fixture
def requester(db):
    # Transactional tests start from a flushed database: no role groups, give the permission.
    user = UserFactory(username="claire-worker", first_name="Claire", last_name="Martin")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="redmine_bridge", codename="add_workrequest")
    )
    return user


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.5)


def test_a_worker_pushes_50_work_requests_created_while_redmine_was_stopped(
    redmine, worker, requester, monkeypatch
):
    # Retry every second instead of backing off up to 10 minutes: the outage lasts seconds here.
    monkeypatch.setattr(services, "backoff_seconds", lambda attempts: 1)
    artisan = ArtisanFactory(
        email=unique_email(), approved_at=timezone.now(), approved_by=requester
    )
    dossier = DossierFactory()
    redmine_script("stop")
    try:
        work_requests = [
            services.work_request_create(
                dossier=dossier,
                artisan=artisan,
                description=f"Travaux n° {n}",
                place="Hall",
                requested_by=requester,
            )
            for n in range(50)
        ]
        _wait_for(
            lambda: WorkRequest.objects.filter(attempts__gte=1).count() >= 5,
            60,
            "failed attempts while Redmine is stopped",
        )
        assert not WorkRequest.objects.filter(pushed_at__isnull=False).exists()
        assert "injoignable" in WorkRequest.objects.exclude(last_error="").first().last_error
    finally:
        redmine_script("start")
    client.lookups_clear()

    _wait_for(
        lambda: WorkRequest.objects.filter(pushed_at__isnull=False).count() == 50,
        180,
        "the 50 work requests in Redmine",
    )

    issue_ids = set(WorkRequest.objects.values_list("redmine_issue_id", flat=True))
    assert len(issue_ids) == 50
    field = f"cf_{client.lookups().reference_field_id}"
    for work_request in work_requests:
        found = redmine.issue.filter(
            project_id=client.lookups().project_id,
            status_id="*",
            **{field: str(work_request.reference)},
        )
        assert len(found) == 1, work_request.reference
    assert not WorkRequest.objects.filter(failed_at__isnull=False).exists()
