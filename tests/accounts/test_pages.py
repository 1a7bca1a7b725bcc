"""Login, logout and the home page per role, in French."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory

# Personas are fetched by name (request.getfixturevalue): declare the database use up front, so that
# pytest-django runs these tests before the transactional ones, which flush the role groups.
pytestmark = pytest.mark.django_db


@pytest.mark.django_db
def test_it_shows_a_french_login_page(client):
    response = client.get("/connexion/")

    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()
    assert "Connexion" in response.content.decode()
    assert "Mot de passe" in response.content.decode()


def test_it_logs_a_gestionnaire_in_and_sends_them_home(client, gestionnaire):
    response = client.post("/connexion/", {"username": "claire", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").context["user"] == gestionnaire


@pytest.mark.django_db
def test_it_refuses_a_wrong_password_in_french(client, gestionnaire):
    response = client.post("/connexion/", {"username": "claire", "password": "wrong"})

    assert response.status_code == 200
    assert "Saisissez un nom d’utilisateur et un mot de passe valides" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_logs_out_on_post_only(as_user, gestionnaire):
    client = as_user(gestionnaire)

    assert client.get("/deconnexion/").status_code == 405
    response = client.post("/deconnexion/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        ("gestionnaire", ["home-gestionnaire"], ["home-direction", "home-legal", "/admin/"]),
        ("direction", ["home-direction", "/admin/"], ["home-gestionnaire", "home-legal"]),
        ("legal", ["home-legal"], ["home-gestionnaire", "home-direction", "/admin/"]),
    ],
)
def test_it_shows_each_role_its_own_home_page(request, as_user, persona, shown, hidden):
    client = as_user(request.getfixturevalue(persona))

    response = client.get("/")

    page = response.content.decode()
    assert response.status_code == 200
    for marker in shown:
        assert marker in page
    for marker in hidden:
        assert marker not in page


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["gestionnaire", "direction", "legal"])
def test_the_home_page_needs_the_same_queries_whatever_the_data(request, as_user, persona):
    """Each app's section (work summary, alerts badge, artisans to approve…) is one query."""
    from tests.factories import ArtisanFactory, DossierFactory

    user = request.getfixturevalue(persona)
    client = as_user(user)
    before = _home_queries(client)
    for _ in range(15):
        DossierFactory(gestionnaire=UserFactory(roles=[Role.GESTIONNAIRE]))
        ArtisanFactory(proposed_at=timezone.now(), proposed_by=user)

    assert _home_queries(client) == before
    assert before <= 12


def test_it_tells_a_user_without_role_to_ask_for_one(as_user, db):
    response = as_user(UserFactory()).get("/")

    assert "Votre compte n’a pas encore de rôle" in response.content.decode()


def test_it_shows_the_admin_in_french_to_the_direction(as_user, direction):
    response = as_user(direction).get("/admin/")

    assert response.status_code == 200
    assert "Gérance — administration" in response.content.decode()
    assert "Site d’administration" in response.content.decode()  # Django's own, in French


def test_it_keeps_the_admin_closed_to_a_gestionnaire(as_user, gestionnaire):
    response = as_user(gestionnaire).get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
