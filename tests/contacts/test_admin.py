"""R3 in the Django admin: the direction approves or refuses artisans, in bulk or one by one."""

import pytest
from django.urls import reverse

from contacts.models import ArtisanDecision
from tests.factories import ArtisanFactory, IntervenantFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:contacts_intervenant_changelist"


def test_it_approves_the_selected_artisans_in_bulk(
    as_user, direction, received, django_capture_on_commit_callbacks
):
    artisans = ArtisanFactory.create_batch(2)
    notary = IntervenantFactory(name="Maître Notaire", kind="notary")

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(direction).post(
            reverse(CHANGELIST),
            {
                "action": "approve_selected",
                "_selected_action": [a.pk for a in artisans] + [notary.pk],
                "index": 0,
            },
            follow=True,
        )

    html = response.content.decode()
    assert "2 artisan(s) agréé(s) ; leur inscription dans Redmine est en attente." in html
    assert "Maître Notaire : Seul un intervenant technique" in html
    for artisan in artisans:
        artisan.refresh_from_db()
        assert artisan.approved_by == direction
    assert sorted(received) == sorted(a.pk for a in artisans)


def test_it_asks_for_the_reason_before_refusing_in_bulk(as_user, direction):
    artisans = ArtisanFactory.create_batch(2)
    client = as_user(direction)
    selected = {"action": "refuse_selected", "_selected_action": [a.pk for a in artisans]}

    first = client.post(reverse(CHANGELIST), {**selected, "index": 0})
    assert "Pourquoi ces intervenants sont-ils refusés ?" in first.content.decode()
    empty = client.post(reverse(CHANGELIST), {**selected, "confirm": "yes", "reason": ""})
    assert "Ce champ est obligatoire." in empty.content.decode()
    assert not ArtisanDecision.objects.exists()

    client.post(reverse(CHANGELIST), {**selected, "confirm": "yes", "reason": "Pas de décennale"})

    assert (
        ArtisanDecision.objects.filter(decision="refused", reason="Pas de décennale").count() == 2
    )


def test_it_approves_from_the_artisan_page_on_post_only(as_user, direction, received):
    artisan = ArtisanFactory()
    url = reverse("admin:contacts_intervenant_approve", args=[artisan.pk])
    client = as_user(direction)

    page = client.get(reverse("admin:contacts_intervenant_change", args=[artisan.pk]))
    assert "Agréer cet artisan" in page.content.decode()
    assert client.get(url).status_code == 405
    response = client.post(url)

    artisan.refresh_from_db()
    assert response.status_code == 302 and artisan.approved_by == direction
    page = client.get(reverse("admin:contacts_intervenant_change", args=[artisan.pk]))
    assert "Inscription Redmine en attente" in page.content.decode()
    assert "Agréer cet artisan" not in page.content.decode()


def test_it_refuses_from_the_artisan_page_with_a_reason(as_user, direction):
    artisan = ArtisanFactory()
    url = reverse("admin:contacts_intervenant_refuse", args=[artisan.pk])

    as_user(direction).post(url, {"reason": "Références insuffisantes"})

    artisan.refresh_from_db()
    assert artisan.approval_state == "refused"
    assert artisan.decisions.get().reason == "Références insuffisantes"


def test_it_keeps_the_approval_to_the_direction_even_for_a_staff_member(as_user, db):
    staff = UserFactory(roles=["Gestionnaire"], is_staff=True)
    artisan = ArtisanFactory()
    client = as_user(staff)

    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert "approve_selected" not in page.content.decode()
    assert (
        client.post(reverse("admin:contacts_intervenant_approve", args=[artisan.pk])).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:contacts_intervenant_refuse", args=[artisan.pk]), {"reason": "x"}
        ).status_code
        == 403
    )
    client.post(
        reverse(CHANGELIST),
        {"action": "approve_selected", "_selected_action": [artisan.pk], "index": 0},
    )

    artisan.refresh_from_db()
    assert artisan.approval_state == "not_proposed"


@pytest.mark.parametrize("persona", ["gestionnaire", "legal"])
def test_it_keeps_the_admin_closed_to_the_other_roles(request, client, persona):
    client.force_login(request.getfixturevalue(persona))
    artisan = ArtisanFactory()

    response = client.post(reverse("admin:contacts_intervenant_approve", args=[artisan.pk]))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    artisan.refresh_from_db()
    assert artisan.approved_at is None


def test_it_filters_the_admin_list_by_approval_state(as_user, direction, gestionnaire):
    from contacts import services

    pending = ArtisanFactory(name="En attente")
    services.artisan_propose(intervenant=pending, by=gestionnaire)
    ArtisanFactory(name="Jamais proposé")

    response = as_user(direction).get(reverse(CHANGELIST), {"approval_state": "pending"})

    assert [i.name for i in response.context["cl"].result_list] == ["En attente"]


def test_it_shows_the_decisions_read_only(as_user, direction):
    from contacts import services

    artisan = ArtisanFactory()
    services.artisan_refuse(intervenant=artisan, by=direction, reason="Non assuré")
    decision = artisan.decisions.get()
    client = as_user(direction)

    assert client.get(reverse("admin:contacts_artisandecision_changelist")).status_code == 200
    assert client.get(reverse("admin:contacts_artisandecision_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:contacts_artisandecision_delete", args=[decision.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert ArtisanDecision.objects.filter(pk=decision.pk).exists()


def test_it_numbers_a_dossier_created_in_the_admin(as_user, direction, gestionnaire):
    from tests.factories import ClientFactory

    client_ = ClientFactory()
    response = as_user(direction).post(
        reverse("admin:contacts_dossier_add"),
        {
            "client": client_.pk,
            "property_address": "3 rue Lamartine",
            "gestionnaire": gestionnaire.pk,
        },
    )

    from contacts.models import Dossier

    assert response.status_code == 302
    assert Dossier.objects.get().reference.startswith("D-")
