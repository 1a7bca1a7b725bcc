"""A gestionnaire uploads scans from an owner's page and follows each file's progress (Chromium)."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from accounts.roles import Role
from ged.models import Document
from tests.factories import UserFactory
from tests.ged.conftest import HTML, pdf_bytes, use_local_storage

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _role_groups(transactional_db):
    """The role groups and their GED permissions, which an earlier live-server test may have
    flushed (the migrations created them once; permissions come back after each flush)."""
    permissions = Permission.objects.filter(
        content_type__app_label="ged", codename__in=["view_document", "add_document"]
    )
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.add(*permissions)


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    return use_local_storage(settings, root)


@pytest.fixture
def claire():
    return UserFactory(
        username="claire", first_name="Claire", last_name="Martin", roles=[Role.GESTIONNAIRE]
    )


@pytest.fixture
def owner(monkeypatch):
    """A record that takes uploads from the GED's pages, as an incoming item does."""
    from django.contrib.auth import get_user_model

    monkeypatch.setattr(get_user_model(), "ged_uploads", True, raising=False)
    return UserFactory(username="client-dupont", first_name="Jeanne", last_name="Dupont")


def documents_page(owner) -> str:
    return f"/documents/pour/{ContentType.objects.get_for_model(owner).pk}/{owner.pk}/"


def watch_progress(page):
    """Record every status text the upload script shows, as it changes."""
    page.evaluate(
        """() => {
            window.gedSeen = [];
            const list = document.querySelector('[data-ged-progress]');
            new MutationObserver(() => {
                list.querySelectorAll('.status').forEach((s) => window.gedSeen.push(s.textContent));
            }).observe(list, {subtree: true, childList: true, characterData: true});
        }"""
    )


def test_it_uploads_several_scans_with_their_progress_then_lists_them(
    login, claire, owner, media, tmp_path
):
    big_scan = tmp_path / "Relevé de charges.pdf"
    # A large scan (about 8 MB), so that the browser really has something to report on.
    big_scan.write_bytes(pdf_bytes(text="charges") + b"%" + b"0" * 8_000_000 + b"\n")
    letter = tmp_path / "courrier.pdf"
    letter.write_bytes(pdf_bytes(text="courrier"))
    page = login(claire)
    page.goto(documents_page(owner))
    assert "Aucun document pour l’instant." in page.locator("#documents").inner_text()

    page.get_by_label("Ajouter des documents").set_input_files([str(big_scan), str(letter)])
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer", exact=True).click()

    page.wait_for_selector("#documents table")
    assert page.locator(".message.success").all_inner_texts() == [
        "« Relevé de charges.pdf » enregistré.",
        "« courrier.pdf » enregistré.",
    ]
    rows = page.locator("#documents tbody tr").all_inner_texts()
    assert len(rows) == 2
    assert "Relevé de charges.pdf" in " ".join(rows)
    assert sorted(Document.objects.values_list("original_filename", flat=True)) == [
        "Relevé de charges.pdf",
        "courrier.pdf",
    ]
    assert len(media.keys()) == 2


def test_it_shows_the_progress_and_the_refusal_of_each_file(login, claire, owner, media, tmp_path):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(pdf_bytes(text="scan") + b"%" + b"0" * 4_000_000 + b"\n")
    web_page = tmp_path / "page.html"
    web_page.write_bytes(HTML)
    page = login(claire)
    page.goto(documents_page(owner))
    watch_progress(page)

    page.get_by_label("Ajouter des documents").set_input_files([str(scan), str(web_page)])
    page.get_by_role("button", name="Envoyer", exact=True).click()

    items = page.locator("[data-ged-progress] li")
    page.get_by_role("link", name="Afficher la liste à jour").wait_for()
    assert items.nth(0).get_attribute("data-state") == "done"
    assert items.nth(0).locator(".status").inner_text() == "« scan.pdf » enregistré."
    assert items.nth(0).locator("progress").evaluate("p => p.value") == 100
    assert items.nth(1).get_attribute("data-state") == "failed"
    assert items.nth(1).locator(".status").inner_text() == (
        "Le fichier « page.html » est une page web (HTML ou SVG) ; ces fichiers sont refusés "
        "car ils peuvent contenir des scripts."
    )
    seen = page.evaluate("window.gedSeen")
    assert "Envoi…" in seen
    assert any(re.fullmatch(r"\d{1,3} %", text) for text in seen), seen
    assert list(Document.objects.values_list("original_filename", flat=True)) == ["scan.pdf"]

    page.get_by_role("link", name="Afficher la liste à jour").click()
    page.wait_for_selector("#documents table")
    assert "scan.pdf" in page.locator("#documents tbody").inner_text()
