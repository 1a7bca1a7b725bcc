"""Static files as production serves them: collected, hashed by the manifest storage, whitenoise.

tests/conftest.py serves static files from the sources for the rest of the suite; here the
production storage runs on files collected by collectstatic, and requests go through the test
client, so through the whole middleware stack (whitenoise and the login requirement included).
"""

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client, override_settings

# The production default of gerance/settings.py (STATICFILES_BACKEND unset).
MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def _production_storages():
    return {**django_settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """A STATIC_ROOT filled by collectstatic with the production storage, once for the module."""
    static_root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=static_root, STORAGES=_production_storages()):
        call_command("collectstatic", interactive=False, verbosity=0)
    assert (static_root / "staticfiles.json").exists()
    return static_root


@pytest.fixture
def production_static(settings, collected):
    settings.DEBUG = False
    settings.STATIC_ROOT = collected
    settings.STORAGES = _production_storages()
    return collected


@pytest.mark.django_db
def test_it_serves_the_login_page_with_collected_static_files(production_static):
    response = Client().get("/connexion/")

    assert response.status_code == 200
    assert staticfiles_storage.url("css/gerance.css") in response.content.decode()


@pytest.mark.django_db
def test_it_serves_static_files_without_a_login(production_static):
    url = staticfiles_storage.url("css/gerance.css")
    assert url != "/static/css/gerance.css", "the manifest storage names the file by its hash"

    response = Client().get(url)

    assert response.status_code == 200
    assert "Gérance" in b"".join(response.streaming_content).decode()
    assert "immutable" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_reports_the_collected_static_files_as_healthy(production_static):
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json()["static"] == "ok"


@pytest.mark.django_db
def test_it_reports_an_uncollected_static_root_as_unhealthy(settings, tmp_path):
    # The Docker image's bug: a manifest storage over an empty STATIC_ROOT answers 500 on
    # every page; /healthz says so instead of answering 200.
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = _production_storages()

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["static"] == "missing"
