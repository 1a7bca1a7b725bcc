import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_answers_ok_when_the_database_and_the_broker_are_up(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "static": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_503_when_the_broker_is_down(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "broker": "down",
        "static": "ok",
    }


def test_it_answers_503_when_the_database_is_down(tmp_path):
    # A fresh process whose database points at a closed port: nothing is faked.
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/healthz')\n"
        "print(r.status_code, r.json())\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "VAR_DIR": str(tmp_path),
        "DEBUG": "true",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/gerance",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "filesystem://"),
        "DJANGO_SETTINGS_MODULE": "gerance.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "503 {'status': 'error', 'database': 'down', 'broker': 'ok', 'static': 'ok'}"
    )


def test_it_only_answers_get(client, db):
    assert client.post("/healthz").status_code == 405


def test_it_answers_a_probe_whatever_its_host_name(client, db, settings):
    # docker-compose probes http://localhost:8000/healthz while ALLOWED_HOSTS lists the public name.
    settings.ALLOWED_HOSTS = ["gerance.example.fr"]

    response = client.get("/healthz", HTTP_HOST="localhost:8000")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_it_still_refuses_other_pages_to_an_unknown_host(client, db, settings):
    settings.ALLOWED_HOSTS = ["gerance.example.fr"]

    assert client.get("/connexion/", HTTP_HOST="localhost:8000").status_code == 400
