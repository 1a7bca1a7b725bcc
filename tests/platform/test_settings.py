"""Configuration from the environment: embedded defaults, production values, loud failures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-7f3c9a1e5b2d8f4a6c0e9b1d3f5a7c9e",
    "ALLOWED_HOSTS": "gerance.example.fr",
    "DATABASE_URL": "postgres://gerance:secret@db.internal:5432/gerance",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "CELERY_RESULT_BACKEND": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://agence:secret@smtp.example.fr:587",
    "AWS_STORAGE_BUCKET_NAME": "gerance-ged",
    "BEHIND_TLS_PROXY": "true",
}


def run_django(code: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    """Run `code` after loading the settings in a fresh interpreter with exactly `env`."""
    clean = {
        "PATH": os.environ["PATH"],
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "gerance.settings",
        **env,
    }
    script = "import django; django.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path):
    result = run_django("", {"DEBUG": "false"}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


def test_it_uses_embedded_defaults_that_need_no_server(tmp_path):
    code = (
        "from django.conf import settings as s\n"
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,\n"
        "      s.STORAGES['default']['BACKEND'], s.EMAIL_BACKEND, s.TIME_ZONE, s.LANGUAGE_CODE)\n"
    )
    result = run_django(code, {"DEBUG": "true"}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.files.storage.FileSystemStorage",
        "django.core.mail.backends.console.EmailBackend",
        "Europe/Paris",
        "fr",
    ]
    assert (tmp_path / "var" / "dev-secret-key").exists()


def test_it_reads_production_services_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings as s\n"
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST'],\n"
        "      s.CELERY_BROKER_URL, s.STORAGES['default']['BACKEND'],\n"
        "      s.STORAGES['default']['OPTIONS']['bucket_name'], s.EMAIL_BACKEND, s.EMAIL_HOST,\n"
        "      s.EMAIL_USE_TLS, s.TIME_ZONE)\n"
    )
    result = run_django(code, {**PRODUCTION_ENV, "TIME_ZONE": "America/Guadeloupe"}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "db.internal",
        "redis://redis.internal:6379/0",
        "storages.backends.s3.S3Storage",
        "gerance-ged",
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.fr",
        "True",
        "America/Guadeloupe",
    ]


def test_it_refuses_an_unknown_time_zone(tmp_path):
    result = run_django("", {"DEBUG": "true", "TIME_ZONE": "Europe/Atlantis"}, tmp_path)

    assert result.returncode != 0
    assert "TIME_ZONE='Europe/Atlantis' is not a known time zone" in result.stderr


def test_it_passes_the_deployment_checks_with_production_variables(tmp_path):
    clean = {"PATH": os.environ["PATH"], "VAR_DIR": str(tmp_path / "var"), **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_has_no_model_change_without_a_migration(tmp_path):
    result = run_django(
        "from django.core.management import call_command\n"
        "call_command('makemigrations', '--check', '--dry-run')\n",
        {"DEBUG": "true"},
        tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("debug", ["false", "true"])
def test_it_keeps_every_datetime_aware(tmp_path, debug):
    result = run_django(
        "from django.conf import settings as s; print(s.USE_TZ)",
        {"DEBUG": debug, "SECRET_KEY": "x" * 50},
        tmp_path,
    )

    assert result.stdout.strip() == "True"
