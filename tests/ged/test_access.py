"""The access rule of the GED (README, "GED"): staff roles by default, the owner when it says."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group

from ged import access
from ged.services import document_store
from tests.factories import UserFactory
from tests.ged.conftest import pdf_bytes, upload

# Personas are fetched by name: run before the transactional tests that flush the groups.
pytestmark = pytest.mark.django_db


@pytest.fixture
def document(owner, gestionnaire):
    return document_store(file=upload("a.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire)


@pytest.mark.parametrize("group", ["Gestionnaire", "Direction", "Service juridique"])
def test_it_gives_every_role_group_the_document_permissions(group):
    codenames = set(
        Group.objects.get(name=group)
        .permissions.filter(content_type__app_label="ged")
        .values_list("codename", flat=True)
    )

    assert codenames == {"view_document", "add_document"}


@pytest.mark.parametrize("persona", ["gestionnaire", "other_gestionnaire", "direction", "legal"])
def test_it_lets_every_role_see_and_attach_by_default(request, persona, owner, document):
    user = request.getfixturevalue(persona)

    assert access.can_view(user, document)
    assert access.can_view_owner(user, owner)
    assert access.can_attach(user, owner)


def test_it_refuses_a_user_without_a_role(owner, document):
    user = UserFactory(username="stagiaire")

    assert not access.can_view(user, document)
    assert not access.can_view_owner(user, owner)
    assert not access.can_attach(user, owner)


def test_it_never_lets_an_anonymous_visitor_in_even_if_the_owner_would(
    monkeypatch, owner, document
):
    monkeypatch.setattr(
        get_user_model(), "ged_access_allowed", lambda self, user: True, raising=False
    )

    assert not access.can_view(AnonymousUser(), document)
    assert not access.can_attach(AnonymousUser(), owner)
    assert not access.can_view(None, document)


def test_it_lets_a_superuser_in_by_default(owner, document):
    admin = UserFactory(username="root", is_superuser=True)

    assert access.can_view(admin, document)
    assert access.can_attach(admin, owner)


def test_it_delegates_to_the_owners_own_rule(monkeypatch, owner, document, gestionnaire, direction):
    asked = []

    def ged_access_allowed(self, user):
        asked.append((self, user))
        return user == direction

    monkeypatch.setattr(get_user_model(), "ged_access_allowed", ged_access_allowed, raising=False)

    assert not access.can_view(gestionnaire, document)
    assert not access.can_attach(gestionnaire, owner)
    assert access.can_view(direction, document)
    assert asked[0] == (owner, gestionnaire)


def test_it_applies_the_default_rule_when_the_owner_is_gone(owner, document, gestionnaire):
    owner.delete()
    document.refresh_from_db()

    assert access.can_view(gestionnaire, document)
    assert not access.can_view(UserFactory(username="stagiaire"), document)
