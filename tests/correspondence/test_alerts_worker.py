"""R8 under concurrency: two sweeps at once, a real worker on Redis, a worker killed mid-send.

These tests commit (threads and processes have connections of their own), so they are
transactional: pytest-django runs them after the others and empties the database after each; a
serialized rollback then restores what the migrations made (the role groups) for the next tests.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing import tasks as testing_tasks  # registers celery.ping
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from correspondence import alerts, tasks
from correspondence.models import Alert
from gerance.celery import app
from tests.correspondence.alerting import RECEIVED, make_items, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_delivery(monkeypatch):
    """The sweep's delivery tasks are kept here instead of going to Redis."""
    enqueued = []
    monkeypatch.setattr(alerts, "enqueue_delivery", enqueued.extend)
    return enqueued


def in_threads(count, target):
    """Run `target(number)` in `count` threads released together; their results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(number):
        try:
            barrier.wait(timeout=10)
            results[number] = target(number)
        except Exception as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def sweep_until_done(now):
    created = []
    while True:
        result = alerts.alerts_sweep(now=now, limit=500)
        created += result.alert_ids
        if result.items == 0:
            return created


def test_two_sweeps_at_once_on_5000_items_raise_exactly_5000_alerts_per_kind(
    gestionnaire, dossier, notary, no_delivery
):
    make_items(5000, gestionnaire=gestionnaire, dossier=dossier, sender=notary)

    warned = in_threads(2, lambda n: sweep_until_done(RECEIVED + timedelta(hours=37)))
    late = in_threads(2, lambda n: sweep_until_done(RECEIVED + timedelta(days=5)))

    counts = dict(Alert.objects.values_list("kind").annotate(n=Count("pk")))
    assert counts == {"warning": 5000, "overdue": 5000, "escalation": 5000}
    # Each alert was created by exactly one of the two sweeps, and handed to delivery once.
    for first, second in (warned, late):
        assert not set(first) & set(second)
    assert len(warned[0]) + len(warned[1]) == 5000
    assert len(late[0]) + len(late[1]) == 10000
    assert sorted(no_delivery) == sorted(Alert.objects.values_list("pk", flat=True))


def test_the_unique_constraint_stops_duplicates_when_two_writers_skip_the_claim(
    gestionnaire, dossier, notary
):
    item_ids = make_items(5000, gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    rows = [("overdue", pk, gestionnaire.pk, RECEIVED) for pk in item_ids]

    def insert(number):
        with transaction.atomic():
            return alerts._insert_alerts(rows, now=timezone.now())

    first, second = in_threads(2, insert)

    assert Alert.objects.count() == 5000
    assert len(first) + len(second) == 5000 and not set(first) & set(second)


# --- A real worker on the real broker ----------------------------------------------------------
@pytest.fixture
def worker(transactional_db):
    assert app.conf.broker_url.startswith("redis://"), "make test runs the worker on Redis"
    assert testing_tasks.ping.name in app.tasks
    app.control.purge()  # nothing left over from another test
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=10) as w:
        yield w


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_beat_s_sweep_through_a_real_worker_puts_the_warning_in_the_smtp_server_s_hands(
    worker, smtp_server, gestionnaire, dossier, notary
):
    # Received 37 hours ago: the email's warning (36 hours) is due now.
    item = register(
        gestionnaire=gestionnaire,
        dossier=dossier,
        sender=notary,
        received_at=timezone.now() - timedelta(hours=37),
    )

    assert tasks.sweep_alerts.delay().get(timeout=30) == 1
    assert wait_for(lambda: len(smtp_server.messages) == 1)

    alert = Alert.objects.get(item=item)
    assert alert.kind == "warning"
    assert wait_for(lambda: Alert.objects.filter(pk=alert.pk, sent_at__isnull=False).exists())
    assert smtp_server.messages[0]["Message-ID"] == alert.message_id
    # Run twice, one effect.
    assert tasks.sweep_alerts.delay().get(timeout=30) == 0
    time.sleep(1)
    assert len(smtp_server.messages) == 1


def test_an_smtp_outage_is_retried_by_the_same_task_and_never_looks_lost(
    worker, smtp_server, gestionnaire, dossier, notary, no_delivery, monkeypatch
):
    # A backoff of 1, 2, 4 seconds instead of 15, 30, 60: the worker runs in this process.
    monkeypatch.setattr(tasks, "ALERT_RETRY_BACKOFF", 1)
    monkeypatch.setattr(tasks, "ALERT_RETRY_BACKOFF_MAX", 4)
    attempts = []
    original = alerts.alerts_deliver

    def counted(**kwargs):
        attempts.append(kwargs["claimer"])
        return original(**kwargs)

    monkeypatch.setattr(alerts, "alerts_deliver", counted)
    make_items(
        3,
        gestionnaire=gestionnaire,
        dossier=dossier,
        sender=notary,
        received_at=timezone.now() - timedelta(hours=37),
    )
    ids = alerts.alerts_sweep().alert_ids
    smtp_server.server.stop()

    task = tasks.deliver_alerts.delay(ids)
    assert wait_for(lambda: len(attempts) >= 3)  # the first attempt and two retries failed
    # Meanwhile the alerts are the task's: the redelivery sweep sees nothing lost.
    assert Alert.objects.filter(claimed_by=task.id, claimed_until__gt=timezone.now()).count() == 3
    assert alerts.undelivered_alert_ids(older_than=timedelta(0)) == []
    smtp_server.server.start()  # back, on the same port

    assert wait_for(lambda: not Alert.objects.filter(sent_at=None).exists())
    assert set(attempts) == {task.id}  # one task, retried: nothing else enqueued
    assert sorted(smtp_server.message_ids()) == sorted(
        Alert.objects.values_list("message_id", flat=True)
    )


# --- A worker killed in the middle of a send -------------------------------------------------
def _start_worker_process(smtp_port: int, log_path) -> subprocess.Popen:
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CONN_MAX_AGE": "0",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "gerance",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        env=environment,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, ended below by its id
    )


def _pool_children(pid: int) -> list[int]:
    output = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(line) for line in output.split()]


def test_a_worker_killed_while_sending_is_redelivered_and_every_alert_arrives(
    smtp_server, gestionnaire, dossier, notary, no_delivery, tmp_path
):
    make_items(
        200,
        gestionnaire=gestionnaire,
        dossier=dossier,
        sender=notary,
        received_at=timezone.now() - timedelta(hours=37),
    )
    ids = alerts.alerts_sweep().alert_ids
    assert len(ids) == 200
    smtp_server.hold = 0.02  # 200 messages take several seconds: time to kill the worker
    app.control.purge()
    log = tmp_path / "worker.log"
    worker = _start_worker_process(smtp_server.server.port, log)
    try:
        tasks.deliver_alerts.delay(ids)
        assert wait_for(lambda: len(smtp_server.messages) >= 50, timeout=60), log.read_text()
        children = _pool_children(worker.pid)
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)  # the process running the task dies mid-batch

        delivered = wait_for(lambda: not Alert.objects.filter(sent_at=None).exists(), timeout=90)
        assert delivered, log.read_text()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)

    assert "exited prematurely" in log.read_text()  # the task was lost, then redelivered
    received = smtp_server.message_ids()
    expected = set(Alert.objects.values_list("message_id", flat=True))
    assert set(received) == expected  # every alert arrived
    # At-least-once: a message accepted by the server but not yet recorded when the worker
    # died is sent again, with the same Message-ID; never more than RECORD_EVERY of them.
    assert 0 <= len(received) - len(expected) <= alerts.RECORD_EVERY
