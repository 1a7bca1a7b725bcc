"""The beat task through a real Celery worker on the real Redis broker, against Dovecot."""

import pytest
from celery.contrib.testing import tasks as testing_tasks  # noqa: F401 (registers celery.ping)
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from correspondence.models import IncomingItem
from email_channel import tasks
from email_channel.models import InboundMessage, State
from gerance.celery import app
from tests.mailbox import corpus

# The worker runs in a thread with its own connection: it must see committed rows.
# Transactional (flushed after each test): tests/conftest.py gives the role groups back after it.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker():
    assert app.conf.broker_url.startswith("redis://"), "make test runs the worker on Redis"
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=10) as w:
        yield w


def test_the_beat_entry_runs_the_task_every_minute_and_expires_before_the_next():
    entry = settings.CELERY_BEAT_SCHEDULE["mailbox-poll"]

    assert entry["task"] == tasks.poll_mailboxes.name
    assert entry["schedule"] == 60
    assert 0 < entry["options"]["expires"] < entry["schedule"]


def test_a_worker_takes_the_mailbox_and_a_second_run_has_no_effect(worker, server, dossier, notary):
    server.append(
        corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference),
        corpus.html_only(sender="inconnu@exemple.fr"),
    )

    first = tasks.poll_mailboxes.delay().get(timeout=90)
    second = tasks.poll_mailboxes.delay().get(timeout=90)

    name = server.config.name
    assert first[name]["taken"] == 2 and first[name]["archived"] == 2
    assert first[name]["states"] == {"registered": 1, "triage": 1}
    assert second[name]["taken"] == 0 and second[name]["archived"] == 0
    assert IncomingItem.objects.count() == 1
    assert InboundMessage.objects.filter(state=State.TRIAGE).count() == 1
    assert (server.inbox(), server.archive()) == (0, 2)
