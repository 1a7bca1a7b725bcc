"""Personas and test-wide settings.

The personas of the procedure: a gestionnaire, a second gestionnaire, a direction member, a
legal-service member, and an anonymous visitor (the plain `client` fixture).
"""

import inspect

import pytest
from django.db.models.signals import post_migrate

from accounts.permissions import grant
from accounts.roles import Role
from tests.factories import UserFactory


def _replay_role_grants(sender, **kwargs):
    """After a flush, give the role groups back their permissions, as the data migrations did.

    A transactional test (live server, real worker, concurrent connections) ends with a flush of
    the database, which takes the data of the data migrations with it; Django then sends
    post_migrate. Here every RunPython of the project's migrations that grants role permissions
    through accounts.permissions.grant (idempotent) runs again, so the next test finds the role
    groups as a migrated database has them. (Serialized rollbacks cannot do it: the browser
    tests' event loop gives them a connection without the serialized data.)
    """
    if sender.name != "accounts":  # once per flush, not once per app
        return
    from django.apps import apps as global_apps
    from django.db.migrations.loader import MigrationLoader

    for migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.values():
        for operation in migration.operations:
            code = getattr(operation, "code", None)
            if code is not None and getattr(inspect.getmodule(code), "grant", None) is grant:
                code(global_apps, None)


post_migrate.connect(_replay_role_grants, dispatch_uid="tests-replay-role-grants")


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
