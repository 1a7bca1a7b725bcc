"""A gestionnaire registers a letter with its scan, then answers it point by point, in Chromium."""

import datetime

import pytest
from playwright.sync_api import expect

from correspondence.models import IncomingItem, Status
from tests.correspondence.conftest import make_pdf
from tests.factories import DossierFactory, IntervenantFactory, MandateFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def mandated_notary(gestionnaire):
    from django.core.files.base import ContentFile

    from ged.services import document_store

    dossier = DossierFactory(gestionnaire=gestionnaire)
    notary = IntervenantFactory(kind="notary", name="Maître Lefèvre")
    mandate = MandateFactory(
        intervenant=notary, client=dossier.client, valid_from=datetime.date(2026, 1, 1)
    )
    mandate.proof = document_store(
        file=ContentFile(make_pdf("Mandat"), name="mandat.pdf"),
        owner=mandate,
        added_by=gestionnaire,
    )
    mandate.save(update_fields=["proof"])
    return dossier, notary


def test_it_registers_a_letter_with_its_scan_and_answers_it_point_by_point(
    login, gestionnaire, mandated_notary, tmp_path
):
    dossier, notary = mandated_notary
    scan = tmp_path / "courrier-notaire.pdf"
    scan.write_bytes(make_pdf("Succession Dupont"))
    page = login(gestionnaire)

    page.get_by_role("link", name="Enregistrer un élément").first.click()
    # The form shows the fields of the chosen channel only (expect waits for the page's script).
    page.get_by_label("Canal").select_option("call")
    expect(page.get_by_label("Numéro de suivi")).to_be_hidden()
    expect(page.get_by_label("Nature")).to_be_hidden()
    page.get_by_label("Canal").select_option("visit")
    expect(page.get_by_label("Nature")).to_be_visible()
    page.get_by_label("Canal").select_option("letter")
    expect(page.get_by_label("Numéro de suivi")).to_be_visible()
    expect(page.get_by_label("Nature")).to_be_hidden()
    page.get_by_label("Expéditeur (intervenant)").select_option(label=str(notary))
    page.get_by_label("Référence du dossier").fill(dossier.reference)
    page.get_by_label("Objet").fill("Succession Dupont")
    page.get_by_label("Demande, point par point").fill(
        "Copie du bail\nMontant du dépôt de garantie"
    )
    page.get_by_label("Scan du courrier / email original (.eml)").set_input_files(str(scan))
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    page.wait_for_selector("#points")
    assert page.locator(".message.success").inner_text() == "Élément enregistré."
    assert page.locator("#points li").all_inner_texts() == [
        "Copie du bail",
        "Montant du dépôt de garantie",
    ]
    assert "courrier-notaire.pdf" in page.locator("#documents").inner_text()

    page.get_by_label("Réponse au point 1").fill("Vous trouverez ci-joint la copie du bail.")
    page.get_by_role("button", name="Envoyer la réponse").click()
    assert "Répondez à chaque point" in page.locator("#reply-form").inner_text()

    page.get_by_label("Réponse au point 2").fill("Le dépôt de garantie s’élève à 800 €.")
    page.get_by_role("button", name="Envoyer la réponse").click()
    page.wait_for_selector(".reply")

    assert page.locator("#item-status").inner_text() == "Répondu"
    assert dossier.reference in page.locator(".reply").inner_text()
    item = IncomingItem.objects.get()
    assert item.status == Status.ANSWERED
    assert item.replies.get().document.content_type == "application/pdf"

    # Closing asks first: dismissed, nothing happens; accepted, the item is closed.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Clôturer").click()
    expect(page.locator("#item-status")).to_have_text("Répondu")
    item.refresh_from_db()
    assert item.status == Status.ANSWERED

    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Clôturer").click()
    expect(page.locator("#item-status")).to_have_text("Clôturé")
    assert messages == ["Clôturer cet élément ? Il quitte la liste de travail définitivement."]
