import pytest

pytestmark = pytest.mark.browser


def test_it_logs_a_gestionnaire_in_and_shows_the_home_page(login, gestionnaire):
    page = login(gestionnaire)

    assert page.locator("h1").inner_text() == "Bonjour, Claire Martin"
    assert page.locator("#home-gestionnaire").is_visible()
    assert page.locator(".account .who").inner_text() == "Claire Martin · Gestionnaire"
    # The stylesheet comes from our own static files.
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"


def test_it_sends_an_anonymous_visitor_to_the_login_page_and_back(page, gestionnaire):
    from tests.factories import PASSWORD

    page.goto("/admin/")
    page.goto("/")

    assert "/connexion/?next=/" in page.url
    page.get_by_label("Nom d’utilisateur").fill("claire")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/")
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_url("**/connexion/")
