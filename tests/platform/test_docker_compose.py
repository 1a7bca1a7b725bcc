import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _config(env: dict) -> subprocess.CompletedProcess:
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        pytest.fail(
            "docker-compose is missing: `make test` installs Debian's docker-compose package."
        )
    return subprocess.run(
        [docker_compose, "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_validates_docker_compose_yml():
    result = _config({"SECRET_KEY": "s" * 50, "POSTGRES_PASSWORD": "secret"})

    assert result.returncode == 0, result.stderr


def test_it_refuses_to_start_without_its_secrets():
    result = _config({})

    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr or "set POSTGRES_PASSWORD" in result.stderr


def test_it_gives_every_service_a_healthcheck():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service, name


# Settings the stack fixes otherwise: the image's /app/var volume; static files as in production.
NOT_IN_COMPOSE = {"VAR_DIR", "STATICFILES_BACKEND"}


def test_it_hands_every_setting_of_the_application_to_its_containers():
    import re

    settings_text = (ROOT / "gerance" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_text))
    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]

    assert read - NOT_IN_COMPOSE - set(environment) == set()
