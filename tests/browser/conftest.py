"""A real browser: Debian's Chromium driven by Playwright against the live test server."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags, Chromium's own background connections are refused by the
# machine's closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in the test's thread; Django's ORM calls made by the
# test itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # Like every transactional test, this one gets a serialized rollback (tests/conftest.py).
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login(page):
    """`login(user)` signs in through the real login form."""
    from tests.factories import PASSWORD

    def sign_in(user, password=PASSWORD):
        page.goto("/connexion/")
        page.get_by_label("Nom d’utilisateur").fill(user.username)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Connexion").click()
        page.wait_for_url("**/")
        return page

    return sign_in
