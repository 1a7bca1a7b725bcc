"""The Celery app: safe defaults, and a task through a real worker on the real broker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.contrib.testing import tasks as testing_tasks  # registers celery.ping
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from gerance.celery import app

ROOT = Path(__file__).resolve().parents[2]


@app.task(name="tests.multiply")
def multiply(a, b):
    return a * b


@pytest.fixture(scope="module")
def worker():
    assert app.conf.broker_url.startswith("redis://"), "make test runs the worker on Redis"
    assert testing_tasks.ping.name in app.tasks
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=10) as w:
        yield w


def test_it_runs_a_task_through_a_real_worker_on_the_broker(worker):
    result = multiply.delay(6, 7)

    assert result.get(timeout=20) == 42


def test_it_refuses_anything_but_json():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    with pytest.raises(Exception, match="not JSON serializable"):
        multiply.apply_async(args=(object(), 2))


def test_it_acknowledges_late_and_requeues_on_worker_loss():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_it_limits_the_time_of_every_task():
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    # Redis redelivers an unacknowledged message after visibility_timeout: it must outlast any task.
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit


def test_it_runs_on_the_settings_of_the_project():
    assert app.conf.timezone == settings.TIME_ZONE
    assert app.main == "gerance"


def test_it_discovers_the_tasks_of_the_apps(tmp_path):
    # A fresh interpreter: in this one the tests have imported the tasks modules already.
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from gerance.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print(' '.join(sorted(app.tasks)))\n"
        "print(' '.join(entry['task'] for entry in settings.CELERY_BEAT_SCHEDULE.values()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "gerance.settings",
            "VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    registered_line, scheduled_line = result.stdout.splitlines()
    registered = set(registered_line.split())
    assert {
        "correspondence.tasks.deliver_reply_email",
        "correspondence.tasks.sweep_unsent_replies",
        "correspondence.tasks.sweep_alerts",
        "correspondence.tasks.deliver_alerts",
        "correspondence.tasks.redeliver_alerts",
        "correspondence.tasks.send_alert_digest",
        "email_channel.tasks.poll_mailboxes",
        "redmine_bridge.tasks.push_work_request",
        "redmine_bridge.tasks.push_issue_note",
        "redmine_bridge.tasks.push_artisan_account",
        "redmine_bridge.tasks.sweep_outbox",
        "redmine_bridge.tasks.pull_issues",
    } <= registered
    # Beat would send tasks no worker knows.
    assert set(scheduled_line.split()) <= registered
