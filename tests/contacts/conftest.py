"""Client-base fixtures: documents stored in a temporary folder, a PDF to prove a mandate."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter


@pytest.fixture(autouse=True)
def _documents_in_tmp_path(settings, tmp_path):
    """Mandate proofs go through the GED into a folder of this test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": None},
        },
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """These tests create many users (a mandate's author, a dossier's gestionnaire)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pdf_bytes(title: str = "Mandat") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def proof_pdf():
    """`proof_pdf(title)`: an uploaded one-page PDF, different for each title."""

    def make(title: str = "Mandat signé") -> SimpleUploadedFile:
        return SimpleUploadedFile("mandat.pdf", pdf_bytes(title), content_type="application/pdf")

    return make


@pytest.fixture
def with_proof(proof_pdf, gestionnaire):
    """`with_proof(mandate)`: stores a proof of `mandate` in the GED and returns the mandate."""
    from contacts import services

    def attach(mandate):
        return services.mandate_attach_proof(
            mandate=mandate, file=proof_pdf(f"Mandat {mandate.pk}"), by=gestionnaire
        )

    return attach


def _heard(signal):
    """The intervenant ids `signal` is sent with, as the Redmine bridge would receive them."""
    events = []

    def receiver(sender, intervenant_id, **kwargs):
        events.append(intervenant_id)

    signal.connect(receiver, weak=False)
    yield events
    signal.disconnect(receiver)


@pytest.fixture
def received():
    """The `artisan_approved` events."""
    from contacts.signals import artisan_approved

    yield from _heard(artisan_approved)


@pytest.fixture
def withdrawn():
    """The `artisan_withdrawn` events (a refusal, a revocation)."""
    from contacts.signals import artisan_withdrawn

    yield from _heard(artisan_withdrawn)
