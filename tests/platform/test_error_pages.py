"""Error pages in French: Django's own are bare English ("Bad Request (400)")."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import bad_request, server_error

from tests.factories import UserFactory


@pytest.fixture
def no_role(db):
    return UserFactory(username="stagiaire")


def test_the_404_page_is_french(as_user, gestionnaire):
    response = as_user(gestionnaire).get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert "Not Found" not in response.text


def test_the_403_page_is_french(as_user, no_role):
    # A user without a role may not see the dossiers.
    response = as_user(no_role).get(reverse("contacts:dossier_list"))

    assert response.status_code == 403
    assert "Accès refusé" in response.text


def test_the_csrf_failure_page_is_french(gestionnaire):
    client = Client(enforce_csrf_checks=True)
    client.force_login(gestionnaire)

    response = client.post(reverse("logout"))

    assert response.status_code == 403
    assert "Le formulaire a expiré" in response.text
    assert "CSRF verification failed" not in response.text


def test_the_400_page_is_french(rf):
    response = bad_request(rf.get("/"), exception=None)

    assert response.status_code == 400
    assert "Requête incorrecte" in response.content.decode()


def test_the_500_page_is_french_and_needs_no_request():
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Erreur du serveur" in response.content.decode()
