"""A real IMAP server (Dovecot, started by `make test`), one pair of folders per test."""

import os
import uuid
from contextlib import contextmanager

import pytest
from imap_tools import MailBoxUnencrypted

from email_channel.config import MailboxSettings
from tests.factories import DossierFactory


def imap_settings(folder: str, *, name: str = "", sent: str = "") -> MailboxSettings:
    return MailboxSettings(
        name=name or f"test-{folder}",
        host=os.environ.get("IMAP_TEST_HOST", "127.0.0.1"),
        port=int(os.environ.get("IMAP_TEST_PORT", "3143")),
        security="plain",
        user=os.environ.get("IMAP_TEST_USER", "gestion@agence.test"),
        password=os.environ.get("IMAP_TEST_PASSWORD", "secret"),
        folder=folder,
        archive_folder=f"{folder}-archive",
        sent_folder=sent,
    )


class Server:
    """What a test does on the server directly: APPEND messages, look at the folders."""

    def __init__(self, config: MailboxSettings):
        self.config = config

    @contextmanager
    def box(self):
        box = MailBoxUnencrypted(self.config.host, self.config.port, timeout=10)
        box.login(self.config.user, self.config.password, initial_folder=None)
        try:
            yield box
        finally:
            box.logout()

    def append(self, *raws: bytes, dt=None, folder: str | None = None) -> None:
        with self.box() as box:
            for raw in raws:
                box.append(raw, folder or self.config.folder, dt=dt)

    def count(self, folder: str) -> int:
        with self.box() as box:
            if not box.folder.exists(folder):
                return 0
            return box.folder.status(folder, ["MESSAGES"])["MESSAGES"]

    def inbox(self) -> int:
        return self.count(self.config.folder)

    def archive(self) -> int:
        return self.count(self.config.archive_folder)

    def raws(self, folder: str) -> list[bytes]:
        with self.box() as box:
            box.folder.set(folder)
            return [m.obj.as_bytes() for m in box.fetch(mark_seen=False)]

    def create(self):
        with self.box() as box:
            for folder in (self.config.folder, self.config.archive_folder):
                if not box.folder.exists(folder):
                    box.folder.create(folder)

    def drop(self):
        with self.box() as box:
            for folder in (self.config.folder, self.config.archive_folder):
                if box.folder.exists(folder):
                    box.folder.delete(folder)


@pytest.fixture
def server(settings):
    """Fresh folders on the real Dovecot, configured as the application's only mailbox."""
    config = imap_settings(f"t{uuid.uuid4().hex[:10]}")
    server = Server(config)
    server.create()
    settings.MAILBOXES = (config,)
    yield server
    server.drop()


@pytest.fixture
def dossier(gestionnaire):
    return DossierFactory(gestionnaire=gestionnaire)


def mandate_for(intervenant, dossier, *, by):
    """A mandate of `intervenant` for the dossier's client, in force since 2026, proof filed."""
    import datetime

    from django.core.files.base import ContentFile

    from ged.services import document_store
    from tests.factories import MandateFactory
    from tests.mailbox.corpus import pdf_bytes

    mandate = MandateFactory(
        intervenant=intervenant,
        client=dossier.client,
        valid_from=datetime.date(2026, 1, 1),
        created_by=by,
    )
    mandate.proof = document_store(
        file=ContentFile(pdf_bytes("Mandat"), name="mandat.pdf"), owner=mandate, added_by=by
    )
    mandate.save(update_fields=["proof"])
    return mandate


@pytest.fixture
def notary(dossier, gestionnaire):
    """Maître Lefèvre, notary, duly mandated by the dossier's client (R1)."""
    from tests.factories import IntervenantFactory

    intervenant = IntervenantFactory(
        kind="notary", name="Maître Lefèvre", email="etude.lefevre@notaires.fr"
    )
    mandate_for(intervenant, dossier, by=gestionnaire)
    return intervenant


@pytest.fixture
def poll(server):
    """Run one reading of the test mailbox, as the beat task does."""
    from email_channel import services

    def run():
        return services.mailbox_poll(config=server.config)

    return run
