"""Fixtures of the correspondence tests: a dossier, a duly mandated notary, documents."""

import datetime
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from reportlab.pdfgen import canvas

from tests.factories import DossierFactory, IntervenantFactory, MandateFactory


def make_pdf(text: str = "Courrier scanné") -> bytes:
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def pdf_file(name: str = "scan.pdf", text: str = "Courrier scanné") -> ContentFile:
    return ContentFile(make_pdf(text), name=name)


def eml_file(name: str = "message.eml") -> ContentFile:
    return ContentFile(
        b"From: notaire@exemple.fr\r\nTo: agence@exemple.fr\r\nSubject: Succession Dupont\r\n"
        b"Message-ID: <1@exemple.fr>\r\nDate: Fri, 27 Nov 2026 09:00:00 +0100\r\n\r\nBonjour\r\n",
        name=name,
    )


@pytest.fixture
def dossier(gestionnaire):
    return DossierFactory(gestionnaire=gestionnaire)


@pytest.fixture
def notary(dossier, gestionnaire):
    """A notary duly mandated by the dossier's client since 1 January 2026, proof in the GED."""
    from ged.services import document_store

    intervenant = IntervenantFactory(kind="notary", name="Maître Lefèvre")
    mandate = MandateFactory(
        intervenant=intervenant,
        client=dossier.client,
        valid_from=datetime.date(2026, 1, 1),
        created_by=gestionnaire,
    )
    mandate.proof = document_store(
        file=pdf_file("mandat.pdf"), owner=mandate, added_by=gestionnaire
    )
    mandate.save(update_fields=["proof"])
    return intervenant


@pytest.fixture
def stranger():
    """A lawyer with no mandate for anyone."""
    return IntervenantFactory(kind="lawyer", name="Maître Inconnu")
