"""An email from an unknown address waits in the triage list; a gestionnaire gives it its dossier
and its sender in Chromium, and it becomes an item with its 48-hour deadline from reception."""

from datetime import timedelta

import pytest

from correspondence.models import IncomingItem
from email_channel import services
from email_channel.models import InboundMessage, State
from tests.mailbox import corpus
from tests.mailbox.conftest import dossier, notary, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_gestionnaire_registers_an_email_from_the_triage_list(
    login,
    gestionnaire,
    server,  # noqa: F811
    dossier,  # noqa: F811
    notary,  # noqa: F811
):
    # The notary's office writes from an address the client base does not know.
    server.append(
        corpus.plain(
            sender="secretariat.lefevre@notaires.fr",
            subject="Succession Martin : pièces manquantes",
            body="Bonjour,\nMerci de nous adresser le bail en cours.\nCordialement",
        )
    )
    services.mailbox_poll(config=server.config)
    message = InboundMessage.objects.get(state=State.TRIAGE)
    page = login(gestionnaire)

    page.get_by_role("link", name="Emails à trier").first.click()
    page.get_by_role("link", name="Succession Martin : pièces manquantes").click()
    page.get_by_role("link", name="Choisir le dossier et enregistrer").click()
    page.get_by_label("Référence du dossier").fill(dossier.reference)
    page.get_by_role("button", name="Afficher les expéditeurs de ce dossier").click()
    page.get_by_label("Expéditeur").select_option(label=f"{notary} · intervenant")
    page.get_by_label("Demande, un point par ligne").fill("Copie du bail en cours")
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    page.wait_for_selector("#points")
    assert page.locator(".message.success").inner_text() == "Email enregistré comme élément."
    assert page.locator("#points li").all_inner_texts() == ["Copie du bail en cours"]
    assert ".eml" in page.locator("#documents").inner_text()  # R7: the original is kept
    item = IncomingItem.objects.get()
    message.refresh_from_db()
    assert (item.dossier, item.sender, message.item) == (dossier, notary, item)
    assert item.due_at == message.received_at + timedelta(hours=48)  # R8, from reception
    page.get_by_role("link", name="Emails à trier").first.click()
    assert "Aucun email à trier." in page.locator("#triage-list").inner_text()
