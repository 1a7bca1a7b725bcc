"""Every page of the client base runs the same number of SQL queries whatever the data size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import services
from tests.factories import (
    ArtisanFactory,
    ClientFactory,
    DossierFactory,
    IntervenantFactory,
    MandateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _grow(gestionnaire, direction, the_client, intervenant, n: int) -> None:
    """Add `n` of each thing the pages list: intervenants, clients, dossiers, mandates…"""
    for _ in range(n):
        IntervenantFactory()
        ClientFactory()
        DossierFactory(client=the_client, gestionnaire=gestionnaire)
        MandateFactory(intervenant=intervenant, client=the_client, created_by=gestionnaire)
        other = ArtisanFactory()
        services.artisan_propose(intervenant=other, by=gestionnaire)
        MandateFactory(intervenant=other, client=the_client, created_by=direction)
    services.mandate_revoke(
        mandate=intervenant.mandates.first(), by=direction, reason="Fin de mission"
    )


@pytest.mark.parametrize(
    "page",
    [
        "intervenant_list",
        "intervenant_list_pending",
        "intervenant_detail",
        "client_list",
        "client_detail",
        "dossier_list",
        "dossier_detail",
        "home",
    ],
)
def test_it_keeps_the_query_count_constant(
    as_user, gestionnaire, direction, page, with_proof, django_assert_max_num_queries
):
    the_client = ClientFactory()
    intervenant = ArtisanFactory()
    services.artisan_propose(intervenant=intervenant, by=gestionnaire)
    services.artisan_approve(intervenant=intervenant, by=direction)
    dossier = DossierFactory(client=the_client, gestionnaire=gestionnaire)
    with_proof(MandateFactory(intervenant=intervenant, client=the_client))
    urls = {
        "intervenant_list": reverse("contacts:intervenant_list"),
        "intervenant_list_pending": reverse("contacts:intervenant_list")
        + "?approval_state=pending&category=technical&q=a",
        "intervenant_detail": reverse("contacts:intervenant_detail", args=[intervenant.pk]),
        "client_list": reverse("contacts:client_list"),
        "client_detail": reverse("contacts:client_detail", args=[the_client.pk]),
        "dossier_list": reverse("contacts:dossier_list") + "?mine=on",
        "dossier_detail": reverse("contacts:dossier_detail", args=[dossier.pk]),
        "home": reverse("home"),
    }
    viewer = direction if page == "home" else gestionnaire
    client = as_user(viewer)

    _grow(gestionnaire, direction, the_client, intervenant, 2)
    small = _count(client, urls[page])
    _grow(gestionnaire, direction, the_client, intervenant, 15)
    with django_assert_max_num_queries(MAX_QUERIES):
        large = _count(client, urls[page])

    assert large == small


def test_it_shows_the_direction_the_artisans_awaiting_approval_in_one_query(
    as_user, gestionnaire, direction, django_assert_num_queries
):
    from django.template import Context, Template

    proposer = UserFactory(first_name="Marc", last_name="Petit", roles=["Gestionnaire"])
    for name in ["Plomberie Martin", "Toitures du Sud"]:
        services.artisan_propose(intervenant=ArtisanFactory(name=name), by=proposer)
    services.artisan_approve(intervenant=ArtisanFactory(name="Déjà Agréé"), by=direction)
    section = Template("{% load contacts_tags %}{% pending_artisans %}")

    # The home page has other apps' sections too: this one costs one query of its own.
    with django_assert_num_queries(1):
        section.render(Context({"user": direction}))
    html = as_user(direction).get("/").content.decode()

    assert "Artisans en attente d’agrément" in html
    assert "Plomberie Martin" in html and "Toitures du Sud" in html and "Marc Petit" in html
    assert "Déjà Agréé" not in html
    assert "Artisans en attente d’agrément" not in as_user(gestionnaire).get("/").content.decode()
