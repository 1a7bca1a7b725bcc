"""Mandates in the Django admin: the services' rules hold there too (R1)."""

import datetime as dt

import pytest
from django.urls import reverse

from contacts import services
from contacts.models import ArtisanDecision, Intervenant, Mandate
from tests.factories import ArtisanFactory, ClientFactory, IntervenantFactory, MandateFactory

pytestmark = pytest.mark.django_db


def change_url(mandate):
    return reverse("admin:contacts_mandate_change", args=[mandate.pk])


def admin_data(mandate, **overrides):
    data = {
        "intervenant": mandate.intervenant_id,
        "client": mandate.client_id,
        "direction": mandate.direction,
        "valid_from": mandate.valid_from.isoformat(),
        "valid_until": "",
        "scope": mandate.scope,
    }
    data.update(overrides)
    return data


def snapshot(mandate):
    mandate.refresh_from_db()
    return (
        mandate.intervenant_id,
        mandate.client_id,
        mandate.direction,
        mandate.valid_from,
        mandate.valid_until,
        mandate.scope,
        mandate.revoked_at,
    )


def test_it_keeps_a_revoked_mandate_read_only_in_the_admin(as_user, direction):
    mandate = MandateFactory(scope="Succession Dupont")
    services.mandate_revoke(mandate=mandate, by=direction, reason="Fin de mission")
    before = snapshot(mandate)
    client = as_user(direction)

    page = client.get(change_url(mandate))
    response = client.post(
        change_url(mandate),
        admin_data(
            mandate, scope="Autre chose", valid_until="2030-12-31", client=ClientFactory().pk
        ),
    )
    delete = client.post(
        reverse("admin:contacts_mandate_delete", args=[mandate.pk]), {"post": "yes"}
    )

    assert page.status_code == 200 and 'name="scope"' not in page.content.decode()
    assert response.status_code == 403
    assert delete.status_code == 403
    assert snapshot(mandate) == before


@pytest.mark.parametrize("field", ["client", "intervenant", "direction"])
def test_it_never_moves_a_live_mandate_to_another_pair_in_the_admin(as_user, direction, field):
    mandate = MandateFactory(direction="by")
    before = snapshot(mandate)
    other = {
        "client": lambda: ClientFactory().pk,
        "intervenant": lambda: IntervenantFactory(kind="lawyer").pk,
        "direction": lambda: "for",
    }[field]()
    client = as_user(direction)

    page = client.get(change_url(mandate)).content.decode()
    client.post(change_url(mandate), admin_data(mandate, **{field: other}))

    assert f'name="{field}"' not in page
    assert snapshot(mandate) == before


def test_it_changes_a_live_mandate_through_the_service_in_the_admin(as_user, direction):
    mandate = MandateFactory()
    client = as_user(direction)

    refused = client.post(
        change_url(mandate), admin_data(mandate, valid_from="2026-05-01", valid_until="2026-04-30")
    )
    accepted = client.post(change_url(mandate), admin_data(mandate, scope="Contentieux"))

    assert refused.status_code == 200  # the form shows the error
    assert accepted.status_code == 302
    mandate.refresh_from_db()
    assert (mandate.scope, mandate.valid_until) == ("Contentieux", None)


def test_it_creates_a_mandate_through_the_service_in_the_admin(as_user, direction):
    intervenant, client_ = IntervenantFactory(kind="notary"), ClientFactory()

    response = as_user(direction).post(
        reverse("admin:contacts_mandate_add"),
        {
            "intervenant": intervenant.pk,
            "client": client_.pk,
            "direction": "for",
            "valid_from": "2026-02-01",
            "valid_until": "",
            "scope": "Vente",
        },
    )

    assert response.status_code == 302
    mandate = Mandate.objects.get()
    assert (mandate.intervenant, mandate.client, mandate.direction) == (intervenant, client_, "for")
    assert mandate.created_by == direction


def test_the_service_keeps_a_mandates_direction(direction):
    from django.core.exceptions import ValidationError

    mandate = MandateFactory(direction="by")

    with pytest.raises(ValidationError, match="garde son sens"):
        services.mandate_update(mandate=mandate, by=direction, direction="for")

    mandate.refresh_from_db()
    assert mandate.direction == "by"


def test_the_gestionnaire_page_keeps_a_mandates_direction(as_user, gestionnaire):
    mandate = MandateFactory(direction="by", valid_from=dt.date(2026, 1, 1))

    as_user(gestionnaire).post(
        reverse("contacts:mandate_edit", args=[mandate.pk]),
        {"direction": "for", "valid_from": "2026-01-01", "scope": "Autre"},
    )

    mandate.refresh_from_db()
    assert (mandate.direction, mandate.scope) == ("by", "Autre")


def test_the_admin_never_writes_approval_decisions_nor_approval_fields(as_user, direction):
    artisan = ArtisanFactory(name="Plomberie Martin")
    services.artisan_approve(intervenant=artisan, by=direction)
    decision = ArtisanDecision.objects.get()
    client = as_user(direction)

    add = client.get(reverse("admin:contacts_artisandecision_add"))
    change = client.post(
        reverse("admin:contacts_artisandecision_change", args=[decision.pk]),
        {"decision": "refused", "reason": "x"},
    )
    delete = client.post(
        reverse("admin:contacts_artisandecision_delete", args=[decision.pk]), {"post": "yes"}
    )
    client.post(
        reverse("admin:contacts_intervenant_change", args=[artisan.pk]),
        {
            "name": "Plomberie Martin",
            "kind": "artisan",
            "category": "technical",
            "approved_at": "",
            "approved_by": "",
            "refused_at": "2026-01-01 10:00:00",
            "decisions-TOTAL_FORMS": "0",
            "decisions-INITIAL_FORMS": "1",
        },
    )

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    decision.refresh_from_db()
    assert decision.decision == "approved"
    artisan = Intervenant.objects.get(pk=artisan.pk)
    assert (artisan.approved_by, artisan.refused_at) == (direction, None)
