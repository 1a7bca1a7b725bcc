"""The Redmine settings: optional, complete or refused loudly at start-up."""

import pytest

from tests.platform.test_settings import run_django

BASE = {"DEBUG": "true"}


def test_it_runs_without_redmine(tmp_path):
    result = run_django(
        "from redmine_bridge import client; print(client.is_configured())", BASE, tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDMINE_URL": "http://redmine.example"}, "Set both REDMINE_URL and REDMINE_API_KEY"),
        ({"REDMINE_PRIORITIES": "low=Bas,normal=Normal"}, "REDMINE_PRIORITIES lacks"),
        ({"REDMINE_PULL_SECONDS": "1"}, "REDMINE_PULL_SECONDS"),
    ],
)
def test_it_refuses_an_incomplete_configuration(tmp_path, env, message):
    result = run_django("", {**BASE, **env}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_it_reads_the_names_and_the_priorities(tmp_path):
    env = {
        **BASE,
        "REDMINE_URL": "http://redmine.example/",
        "REDMINE_API_KEY": "k" * 40,
        "REDMINE_TRACKER": "Travaux",
        "REDMINE_PRIORITIES": "low=L,normal=N,high=H,urgent=U,immediate=I",
    }
    result = run_django(
        "from django.conf import settings as s; "
        "print(s.REDMINE_URL, s.REDMINE_TRACKER, s.REDMINE_PRIORITIES['urgent'])",
        env,
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["http://redmine.example", "Travaux", "U"]
