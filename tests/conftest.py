"""Personas and test-wide settings.

The personas of the procedure: a gestionnaire, a second gestionnaire, a direction member, a
legal-service member, and an anonymous visitor (the plain `client` fixture).
"""

import pytest

from accounts.roles import Role
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings):
    """Serve static files from the sources: tests do not run collectstatic.

    (Plain HTTP for the test servers comes from `make test`'s environment, since the security
    middleware reads its settings once, when the live server starts.)
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Hashing a password with the production hasher costs ~0.5 s per test user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def gestionnaire(db):
    return UserFactory(
        username="claire", first_name="Claire", last_name="Martin", roles=[Role.GESTIONNAIRE]
    )


@pytest.fixture
def other_gestionnaire(db):
    return UserFactory(
        username="marc", first_name="Marc", last_name="Petit", roles=[Role.GESTIONNAIRE]
    )


@pytest.fixture
def direction(db):
    return UserFactory(
        username="paul",
        first_name="Paul",
        last_name="Durand",
        roles=[Role.DIRECTION],
        is_staff=True,
    )


@pytest.fixture
def legal(db):
    return UserFactory(
        username="sophie", first_name="Sophie", last_name="Bernard", roles=[Role.LEGAL]
    )


@pytest.fixture
def as_user(client):
    """`as_user(user)` logs the test client in as `user` and returns it."""

    def login(user):
        client.force_login(user)
        return client

    return login
