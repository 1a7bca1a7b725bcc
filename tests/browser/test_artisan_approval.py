"""R3 in a real browser: a member of the direction approves an artisan in the Django admin."""

import importlib

import pytest
from django.apps import apps

from contacts import services
from tests.factories import ArtisanFactory

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _role_groups(transactional_db):
    """The role groups and their permissions, as their data migrations make them (idempotent).

    Live-server tests flush the database; the serialized rollback of the `page` fixture does not
    always bring the groups back (it depends on the tests run before), so this test does.
    """
    for module, function in [
        ("accounts.migrations.0002_role_groups", "create_role_groups"),
        ("contacts.migrations.0002_grant_permissions", "grant_contacts_permissions"),
    ]:
        getattr(importlib.import_module(module), function)(apps, None)


def test_it_lets_the_direction_approve_an_artisan_in_the_admin(
    page, login, direction, gestionnaire
):
    director, proposer = direction, gestionnaire
    artisan = ArtisanFactory(name="Plomberie Martin & Fils")
    services.artisan_propose(intervenant=artisan, by=proposer)
    other = ArtisanFactory(name="Toitures du Sud")

    login(director)
    # The home page lists what awaits the direction.
    assert "Plomberie Martin & Fils" in page.locator("#pending-artisans").inner_text()

    page.goto("/admin/contacts/intervenant/?approval_state=pending")
    page.locator(f"input[name='_selected_action'][value='{artisan.pk}']").check()
    page.locator("select[name='action']").select_option("approve_selected")
    page.get_by_role("button", name="Envoyer").click()

    assert "1 artisan(s) agréé(s)" in page.locator(".messagelist").inner_text()
    artisan.refresh_from_db()
    assert artisan.approval_state == "approved" and artisan.approved_by == director

    # One by one, from the artisan's own page.
    page.goto(f"/admin/contacts/intervenant/{other.pk}/change/")
    page.get_by_role("button", name="Agréer cet artisan").click()
    page.wait_for_url(f"**/admin/contacts/intervenant/{other.pk}/change/")

    assert "Toitures du Sud est agréé" in page.locator(".messagelist").inner_text()
    assert page.locator("[data-redmine-registration='pending']").is_visible()
    other.refresh_from_db()
    assert other.approved_by == director
    assert list(other.decisions.values_list("decision", flat=True)) == ["approved"]
