"""The gestionnaire's pages of the client base: who may see and change what, in French."""

import datetime as dt

import pytest
from django.urls import reverse

from contacts.models import Client, Dossier, Intervenant, Mandate
from tests.factories import (
    ArtisanFactory,
    ClientFactory,
    DossierFactory,
    IntervenantFactory,
    MandateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(gestionnaire):
    client = ClientFactory(name="SCI Les Flamboyants", reference="CLI-0001")
    dossier = DossierFactory(client=client, gestionnaire=gestionnaire)
    intervenant = IntervenantFactory(name="Maître Lemoine", kind="lawyer")
    mandate = MandateFactory(intervenant=intervenant, client=client, created_by=gestionnaire)
    return {"client": client, "dossier": dossier, "intervenant": intervenant, "mandate": mandate}


def _read_urls(o):
    return [
        reverse("contacts:intervenant_list"),
        reverse("contacts:intervenant_detail", args=[o["intervenant"].pk]),
        reverse("contacts:client_list"),
        reverse("contacts:client_detail", args=[o["client"].pk]),
        reverse("contacts:dossier_list"),
        reverse("contacts:dossier_detail", args=[o["dossier"].pk]),
    ]


def _write_urls(o):
    return [
        reverse("contacts:intervenant_create"),
        reverse("contacts:intervenant_edit", args=[o["intervenant"].pk]),
        reverse("contacts:client_create"),
        reverse("contacts:client_edit", args=[o["client"].pk]),
        reverse("contacts:dossier_create"),
        reverse("contacts:dossier_edit", args=[o["dossier"].pk]),
        reverse("contacts:mandate_create", args=[o["intervenant"].pk]),
        reverse("contacts:mandate_edit", args=[o["mandate"].pk]),
        reverse("contacts:mandate_revoke", args=[o["mandate"].pk]),
    ]


@pytest.mark.parametrize(
    ("persona", "read", "write"),
    [
        ("gestionnaire", 200, 200),
        ("direction", 200, 200),
        ("legal", 200, 403),
        ("nobody", 403, 403),
    ],
)
def test_it_opens_each_page_to_the_roles_that_use_it(
    request, as_user, objects, persona, read, write
):
    user = UserFactory() if persona == "nobody" else request.getfixturevalue(persona)
    client = as_user(user)

    for url in _read_urls(objects):
        assert client.get(url).status_code == read, url
    for url in _write_urls(objects):
        assert client.get(url).status_code == write, url


def test_it_sends_an_anonymous_visitor_to_the_login_page(client, objects):
    for url in _read_urls(objects) + _write_urls(objects):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/connexion/")


def test_it_shows_an_intervenant_with_his_mandates_and_approval_history(
    as_user, gestionnaire, direction, objects
):
    from contacts import services

    artisan = ArtisanFactory(name="Plomberie Martin", phone="+596696223344")
    services.artisan_propose(intervenant=artisan, by=gestionnaire)
    services.artisan_approve(intervenant=artisan, by=direction)
    MandateFactory(intervenant=artisan, client=objects["client"], direction="for")

    page = as_user(gestionnaire).get(reverse("contacts:intervenant_detail", args=[artisan.pk]))

    html = page.content.decode()
    assert "Plomberie Martin" in html and "+596 696 22 33 44" in html
    assert "Redmine" in html and "Inscription Redmine en attente" in html
    assert "SCI Les Flamboyants" in html and "Mandaté pour le client" in html
    assert "Sans justificatif" in html
    assert "Historique de l’agrément" in html and "Paul Durand" in html and "Claire Martin" in html


def test_it_shows_a_client_with_his_dossiers_and_mandated_intervenants(
    as_user, gestionnaire, objects
):
    page = as_user(gestionnaire).get(reverse("contacts:client_detail", args=[objects["client"].pk]))

    html = page.content.decode()
    assert objects["dossier"].reference in html
    assert "Maître Lemoine" in html and "Mandaté par le client" in html


def test_it_shows_a_dossier_summary(as_user, gestionnaire, objects):
    page = as_user(gestionnaire).get(
        reverse("contacts:dossier_detail", args=[objects["dossier"].pk])
    )

    html = page.content.decode()
    assert f"Dossier {objects['dossier'].reference}" in html
    assert "SCI Les Flamboyants" in html and "Claire Martin" in html and "Fort-de-France" in html
    timeline = reverse("correspondence:dossier_timeline", args=[objects["dossier"].reference])
    assert f'href="{timeline}"' in html


def test_it_searches_intervenants_by_name_kind_category_and_approval(
    as_user, gestionnaire, direction
):
    from contacts import services

    IntervenantFactory(name="Maître Rivière", kind="bailiff")
    IntervenantFactory(name="Agence du Carbet", kind="fellow_agency", category="commercial")
    pending = ArtisanFactory(name="Plomberie Martin")
    services.artisan_propose(intervenant=pending, by=gestionnaire)
    ArtisanFactory(name="Peinture Rivière")
    url = reverse("contacts:intervenant_list")
    client = as_user(gestionnaire)

    def names(**params):
        page = client.get(url, params).context["page"]
        return sorted(i.name for i in page.object_list)

    assert names(q="rivière") == ["Maître Rivière", "Peinture Rivière"]
    assert names(kind="bailiff") == ["Maître Rivière"]
    assert names(category="commercial") == ["Agence du Carbet"]
    assert names(approval_state="pending") == ["Plomberie Martin"]
    assert names(q="rivière", category="technical") == ["Peinture Rivière"]


def test_it_paginates_the_intervenants(as_user, gestionnaire):
    IntervenantFactory.create_batch(30)

    response = as_user(gestionnaire).get(reverse("contacts:intervenant_list"), {"page": 2})

    assert len(response.context["page"].object_list) == 5
    assert "Page 2 sur 2" in response.content.decode()


def test_it_registers_a_client(as_user, gestionnaire):
    response = as_user(gestionnaire).post(
        reverse("contacts:client_create"),
        {"reference": "CLI-0042", "name": "Mme Céleste", "kind": "owner", "phone": "0590 12 34 56"},
    )

    client = Client.objects.get(reference="CLI-0042")
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:client_detail", args=[client.pk])
    assert client.phone == "+590590123456"


def test_it_refuses_a_client_form_with_french_errors_and_changes_nothing(as_user, gestionnaire):
    ClientFactory(reference="CLI-0042")

    response = as_user(gestionnaire).post(
        reverse("contacts:client_create"),
        {"reference": "CLI-0042", "name": "", "kind": "owner", "phone": "12"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Un client a déjà cette référence." in html
    assert "Ce champ est obligatoire." in html
    assert "numéro de téléphone français" in html
    assert Client.objects.count() == 1


def test_it_deactivates_a_client_from_its_form(as_user, gestionnaire, objects):
    client = objects["client"]

    as_user(gestionnaire).post(
        reverse("contacts:client_edit", args=[client.pk]),
        {"reference": client.reference, "name": client.name, "kind": client.kind},
    )

    client.refresh_from_db()
    assert client.deactivated_at is not None


def test_it_opens_a_dossier_with_a_generated_reference(as_user, gestionnaire, objects):
    response = as_user(gestionnaire).post(
        reverse("contacts:dossier_create"),
        {
            "client": "CLI-0001",
            "property_address": "12 rue Victor Schœlcher",
            "postal_code": "97200",
            "city": "Fort-de-France",
            "gestionnaire": gestionnaire.pk,
        },
    )

    dossier = Dossier.objects.exclude(pk=objects["dossier"].pk).get()
    assert response.status_code == 302
    assert dossier.reference.startswith("D-") and dossier.client == objects["client"]


def test_it_refuses_a_dossier_for_an_unknown_client_or_a_bad_postal_code(as_user, gestionnaire):
    response = as_user(gestionnaire).post(
        reverse("contacts:dossier_create"),
        {
            "client": "CLI-9999",
            "property_address": "1 rue X",
            "postal_code": "972",
            "gestionnaire": gestionnaire.pk,
        },
    )

    html = response.content.decode()
    assert "Aucun client n’a la référence CLI-9999." in html
    assert not Dossier.objects.exists()


def test_it_refuses_a_dossier_given_to_someone_who_is_not_a_gestionnaire(
    as_user, gestionnaire, legal, objects
):
    response = as_user(gestionnaire).post(
        reverse("contacts:dossier_create"),
        {"client": "CLI-0001", "property_address": "1 rue X", "gestionnaire": legal.pk},
    )

    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert Dossier.objects.count() == 1


def test_it_registers_an_intervenant_with_the_category_of_his_kind(as_user, gestionnaire):
    as_user(gestionnaire).post(
        reverse("contacts:intervenant_create"),
        {"name": "Cabinet Lemoine", "kind": "lawyer", "email": "contact@lemoine.fr"},
    )

    intervenant = Intervenant.objects.get()
    assert intervenant.category == "administrative"
    assert intervenant.preferred_channel == "letter_or_email"


def test_it_names_the_existing_intervenant_on_a_duplicate_email(as_user, gestionnaire):
    existing = IntervenantFactory(name="Cabinet Lemoine", email="contact@lemoine.fr")

    response = as_user(gestionnaire).post(
        reverse("contacts:intervenant_create"),
        {"name": "Lemoine", "kind": "lawyer", "email": "Contact@Lemoine.fr"},
    )

    html = response.content.decode()
    assert "Cette adresse e-mail est déjà celle de l’intervenant" in html
    assert "Cabinet Lemoine" in html and f"n° {existing.pk}" in html
    assert Intervenant.objects.count() == 1


def test_it_refuses_a_kind_outside_the_chosen_category(as_user, gestionnaire):
    response = as_user(gestionnaire).post(
        reverse("contacts:intervenant_create"),
        {"name": "Maître X", "kind": "notary", "category": "technical"},
    )

    assert "n’appartient pas à la catégorie" in response.content.decode()
    assert not Intervenant.objects.exists()


def test_it_proposes_an_artisan_on_post_only(as_user, gestionnaire, legal):
    artisan = ArtisanFactory()
    url = reverse("contacts:intervenant_propose", args=[artisan.pk])

    assert as_user(gestionnaire).get(url).status_code == 405
    assert as_user(legal).post(url).status_code == 403
    response = as_user(gestionnaire).post(url)

    artisan.refresh_from_db()
    assert response.status_code == 302
    assert artisan.approval_state == "pending" and artisan.proposed_by == gestionnaire


def test_it_explains_why_a_notary_cannot_be_proposed(as_user, gestionnaire, objects):
    url = reverse("contacts:intervenant_propose", args=[objects["intervenant"].pk])

    response = as_user(gestionnaire).post(url, follow=True)

    assert "Seul un intervenant technique" in response.content.decode()
    objects["intervenant"].refresh_from_db()
    assert objects["intervenant"].proposed_at is None


def test_it_records_a_mandate_with_its_proof_in_the_ged(as_user, gestionnaire, objects, proof_pdf):
    intervenant = objects["intervenant"]

    response = as_user(gestionnaire).post(
        reverse("contacts:mandate_create", args=[intervenant.pk]),
        {
            "client": "CLI-0001",
            "direction": "for",
            "valid_from": "2026-02-01",
            "scope": "Contentieux locatif",
            "proof_file": proof_pdf("Mandat Lemoine"),
        },
    )

    assert response.status_code == 302
    mandate = Mandate.objects.get(direction="for")
    assert mandate.proof is not None
    assert mandate.proof.owner == mandate and mandate.proof.added_by == gestionnaire
    assert mandate.proof.content_type == "application/pdf"


def test_it_refuses_a_proof_the_ged_refuses_and_records_no_mandate(as_user, gestionnaire, objects):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = as_user(gestionnaire).post(
        reverse("contacts:mandate_create", args=[objects["intervenant"].pk]),
        {
            "client": "CLI-0001",
            "direction": "for",
            "valid_from": "2026-02-01",
            "proof_file": SimpleUploadedFile("mandat.html", b"<html><body>x</body></html>"),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Mandate.objects.filter(direction="for").exists()


def test_it_replaces_a_proof_by_a_new_version(
    as_user, gestionnaire, objects, proof_pdf, with_proof
):
    mandate = with_proof(objects["mandate"])
    first = mandate.proof

    as_user(gestionnaire).post(
        reverse("contacts:mandate_edit", args=[mandate.pk]),
        {
            "direction": "by",
            "valid_from": "2026-01-01",
            "proof_file": proof_pdf("Mandat renouvelé"),
        },
    )

    mandate.refresh_from_db()
    assert mandate.proof != first and mandate.proof.previous == first


def test_it_revokes_a_mandate_with_a_reason(as_user, gestionnaire, objects):
    mandate = objects["mandate"]
    url = reverse("contacts:mandate_revoke", args=[mandate.pk])

    empty = as_user(gestionnaire).post(url, {"reason": ""})
    assert "Ce champ est obligatoire." in empty.content.decode()
    as_user(gestionnaire).post(url, {"reason": "Dessaisi par le client"})

    mandate.refresh_from_db()
    assert mandate.revoked_by == gestionnaire
    assert mandate.revocation_reason == "Dessaisi par le client"
    assert (
        as_user(gestionnaire).get(reverse("contacts:mandate_edit", args=[mandate.pk])).status_code
        == 403
    )


def test_it_keeps_the_dates_of_a_mandate_consistent_in_the_form(as_user, gestionnaire, objects):
    response = as_user(gestionnaire).post(
        reverse("contacts:mandate_create", args=[objects["intervenant"].pk]),
        {
            "client": "CLI-0001",
            "direction": "by",
            "valid_from": dt.date(2026, 5, 1).isoformat(),
            "valid_until": dt.date(2026, 4, 1).isoformat(),
        },
    )

    assert "Un mandat ne peut pas finir avant d’avoir commencé." in response.content.decode()
    assert Mandate.objects.count() == 1
