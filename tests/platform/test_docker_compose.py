import os
import re
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


# Settings the stack fixes otherwise: the image's /app/var volume, the image's STATIC_ROOT (see the
# Dockerfile); static files as in production.
NOT_IN_COMPOSE = {"VAR_DIR", "STATIC_ROOT", "STATICFILES_BACKEND"}
# Settings the compose file fixes, or gives a default other than the application's.
FIXED_BY_COMPOSE = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "BEHIND_TLS_PROXY",
}


def _environment() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]


def _docker_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Production with Docker")
    return readme[start : readme.index("\n## ", start + 1)]


def test_it_hands_every_setting_of_the_application_to_its_containers():
    settings_text = (ROOT / "gerance" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_text))
    environment = _environment()

    assert read - NOT_IN_COMPOSE - set(environment) == set()


def test_it_passes_every_other_setting_through_untouched():
    # Anything else set here would make the README's "unset, the application's default applies"
    # untrue for it.
    fixed = {name for name, value in _environment().items() if value is not None}

    assert fixed == FIXED_BY_COMPOSE


def test_it_names_in_the_readme_each_setting_the_stack_fixes():
    section = _docker_section()

    for name in sorted(FIXED_BY_COMPOSE | NOT_IN_COMPOSE):
        assert f"`{name}`" in section, name


def test_it_collects_static_files_into_the_image_outside_the_documents_volume():
    dockerfile = (ROOT / "Dockerfile").read_text()
    static_root = re.search(r"^ENV STATIC_ROOT=(\S+)$", dockerfile, re.MULTILINE)
    assert static_root, "the Dockerfile sets STATIC_ROOT for the build and the run alike"
    collectstatic = dockerfile.index("manage.py collectstatic")
    assert static_root.start() < collectstatic
    run_line = dockerfile[dockerfile.rindex("\n", 0, collectstatic) : collectstatic]
    assert "STATIC_ROOT" not in run_line, "collectstatic writes where the server reads"

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mounts = {
        volume.split(":")[1]
        for service in services.values()
        for volume in service.get("volumes", [])
    }
    assert mounts, "the documents volume is mounted somewhere"
    for mount in mounts:
        assert not (static_root.group(1) + "/").startswith(mount.rstrip("/") + "/"), mount
