"""Configuration from the environment: embedded defaults, production values, loud failures."""

import os
import re
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


def _check_deploy(env: dict, tmp_path) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "VAR_DIR": str(tmp_path / "var"), **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_passes_the_deployment_checks_with_production_variables(tmp_path):
    result = _check_deploy(PRODUCTION_ENV, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_an_agency_may_withhold_the_hsts_preload_consent(tmp_path):
    # Leaving the browsers' preload list takes months: the deployment check's reminder (W021)
    # is the only one left when the consent is withheld.
    result = _check_deploy({**PRODUCTION_ENV, "SECURE_HSTS_PRELOAD": "false"}, tmp_path)

    assert result.returncode != 0
    assert set(re.findall(r"\(security\.\w+\)", result.stderr)) == {"(security.W021)"}


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


def _read_setting(name: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    return run_django(
        f"from django.conf import settings as s; print(repr(s.{name}))",
        {"DEBUG": "true", **env},
        tmp_path,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("oui", "True"), ("NON", "False"), ("On", "True"), ("0", "False"), ("yes", "True")],
)
def test_it_reads_booleans_in_english_and_french(tmp_path, value, expected):
    result = _read_setting("SESSION_COOKIE_SECURE", {"SESSION_COOKIE_SECURE": value}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_it_refuses_a_boolean_it_cannot_read(tmp_path):
    result = _read_setting("SESSION_COOKIE_SECURE", {"SESSION_COOKIE_SECURE": "vrai"}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SESSION_COOKIE_SECURE='vrai' is not a boolean" in result.stderr


def test_it_refuses_an_integer_it_cannot_read(tmp_path):
    result = _read_setting("GED_MAX_UPLOAD_SIZE", {"GED_MAX_UPLOAD_SIZE": "25MB"}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: GED_MAX_UPLOAD_SIZE='25MB' is not a whole number" in (
        result.stderr
    )


def test_it_refuses_a_number_it_cannot_read(tmp_path):
    result = _read_setting("ALERT_WARNING_SHARE", {"ALERT_WARNING_SHARE": "0,75"}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: ALERT_WARNING_SHARE='0,75' is not a number" in result.stderr


def test_it_reads_integers_and_takes_an_empty_value_for_unset(tmp_path):
    result = run_django(
        "from django.conf import settings as s; print(s.GED_MAX_UPLOAD_SIZE, s.EMAIL_TIMEOUT)",
        {"DEBUG": "true", "GED_MAX_UPLOAD_SIZE": " 1048576 ", "EMAIL_TIMEOUT": ""},
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1048576", "30"]


def test_it_reads_every_boolean_and_integer_strictly():
    # A reader of django-environ's own would accept "oui" as False again.
    settings_text = (ROOT / "gerance" / "settings.py").read_text()

    assert "environ.Env" not in settings_text
    assert "from gerance.lib.env import Env" in settings_text


def test_it_reads_the_static_root_from_the_environment(tmp_path):
    result = _read_setting("STATIC_ROOT", {"STATIC_ROOT": str(tmp_path / "collected")}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "collected") in result.stdout
    assert (tmp_path / "collected").is_dir()


def test_it_keeps_the_static_root_under_var_dir_by_default(tmp_path):
    result = _read_setting("STATIC_ROOT", {}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "var" / "static") in result.stdout


def test_it_documents_every_variable_it_reads_in_the_readme():
    settings_text = (ROOT / "gerance" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_text))
    readme = (ROOT / "README.md").read_text()

    assert len(read) > 50
    assert {name for name in read if f"`{name}`" not in readme} == set()


def test_the_append_only_triggers_exist_on_sqlite_too(tmp_path):
    """`make run` uses SQLite, which drops a table's triggers when a migration rebuilds it."""
    result = run_django(
        "from django.core.management import call_command\n"
        "from django.db import connection\n"
        "call_command('migrate', verbosity=0)\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute(\"SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'\")\n"
        "    print(sorted(cursor.fetchall()))\n",
        {"DEBUG": "true"},
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    triggers = result.stdout
    assert "('correspondence_event', 'correspondence_event_no_update')" in triggers
    assert "('correspondence_event', 'correspondence_event_no_delete')" in triggers
    assert "'ged_document'" in triggers
