"""Fixtures of the correspondence tests: a dossier, a duly mandated notary, documents, SMTP."""

import asyncio
import datetime
import socket
from email import message_from_bytes
from io import BytesIO

import pytest
from aiosmtpd.controller import Controller
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


class Mailbox:
    """An SMTP handler that keeps what it receives, or refuses it with a given reply.

    `hold` (seconds) slows every message down, so that a test can act in the middle of a batch;
    `on_message(mailbox)`, called before a message is kept, may return a reply that refuses it.
    """

    def __init__(self):
        self.messages = []
        self.refusal = None
        self.refused_addresses = {}  # address → the reply refusing it
        self.hold = 0.0
        self.on_message = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusal or address in self.refused_addresses:
            return self.refusal or self.refused_addresses[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold:
            await asyncio.sleep(self.hold)
        if self.on_message is not None:
            reply = self.on_message(self)
            if reply:
                return reply
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        # Unfolded (RFC 5322, 2.2.3): a long Message-ID header is folded before the id, legally.
        return ["".join(message["Message-ID"].split()) for message in self.messages]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that can be stopped and started again."""

    def __init__(self, mailbox: Mailbox, port: int):
        self.mailbox, self.port, self.controller = mailbox, port, None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server that Django's SMTP backend sends to; yields its Mailbox."""
    mailbox = Mailbox()
    server = SmtpServer(mailbox, free_port())
    server.start()
    mailbox.server = server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield mailbox
    server.stop()
