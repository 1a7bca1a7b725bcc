"""No loss, no duplicate: crashes, two readers at once, outages of the server and of the storage.

The crashes are real: a child process is killed (os._exit) at the chosen moment, against the
test database (hence transactional_db: the child must see committed rows, and leaves its own).
"""

import os
import subprocess
import sys
import tempfile
import threading
from urllib.parse import quote

import pytest
from django.db import connection

from correspondence.models import IncomingItem
from email_channel import services
from email_channel.models import InboundMessage, Mailbox, State
from tests.mailbox import corpus
from tests.mailbox.conftest import Server, imap_settings

# Transactional (flushed after each test): tests/conftest.py gives the role groups back after it.
pytestmark = pytest.mark.django_db(transaction=True)

CHILD = """
import os, sys, django
django.setup()
from email_channel import imap, services
from django.conf import settings
moment = sys.argv[1]
if moment == "before-move":
    # The rows are committed; the process dies before the message leaves the inbox.
    imap.ImapSession.move = lambda self, uids, folder: os._exit(3) if uids else None
elif moment == "before-commit":
    # Inside the batch's transaction, the items written: the process dies before the commit.
    real = services.items_create
    def dying(drafts):
        real(drafts)
        os._exit(3)
    services.items_create = dying
services.mailbox_poll(config=settings.MAILBOXES[0])
os._exit(0)
"""


def config_url(config) -> str:
    return (
        f"imap://{quote(config.user, safe='')}:{quote(config.password, safe='')}"
        f"@{config.host}:{config.port}/{config.folder}"
        f"?archive={config.archive_folder}&name={config.name}"
    )


def run_child(server, moment: str) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gerance.settings",
        "DATABASE_URL": (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
        ),
        "MAILBOX_URLS": config_url(server.config),
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD, moment],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.getcwd(),
    )
    return child.returncode


def test_a_crash_between_the_commit_and_the_move_loses_nothing_and_registers_once(
    server, poll, dossier, notary
):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))

    assert run_child(server, "before-move") == 3
    # Registered, but still in the inbox: nothing is lost.
    assert IncomingItem.objects.count() == 1
    assert (server.inbox(), server.archive()) == (1, 0)
    assert InboundMessage.objects.get().archived_at is None
    # The claim of the dead reader expires; the next reader only archives the message.
    Mailbox.objects.update(claimed_until=None)

    result = poll()

    assert IncomingItem.objects.count() == 1
    assert InboundMessage.objects.count() == 1
    assert (server.inbox(), server.archive()) == (0, 1)
    assert result.archived == 1 and result.taken == 0
    assert InboundMessage.objects.get().archived_at is not None


def test_a_crash_between_the_commit_and_the_move_of_a_batch_loses_and_repeats_nothing(
    server, poll, dossier, notary
):
    server.append(
        *(corpus.plain(sender=notary.email, subject=f"Demande {n}", body="x") for n in range(4))
    )

    assert run_child(server, "before-move") == 3
    assert IncomingItem.objects.count() == 4
    assert (server.inbox(), server.archive()) == (4, 0)
    Mailbox.objects.update(claimed_until=None)

    result = poll()

    assert (result.taken, result.archived) == (0, 4)
    assert IncomingItem.objects.count() == 4 and InboundMessage.objects.count() == 4
    assert (server.inbox(), server.archive()) == (0, 4)


def test_a_crash_before_the_commit_registers_the_message_once_at_the_next_run(
    server, poll, dossier, notary
):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))

    assert run_child(server, "before-commit") == 3
    # Nothing registered: the transaction died with the process; the message waits.
    assert IncomingItem.objects.count() == 0
    assert InboundMessage.objects.get().state == State.PENDING
    assert server.inbox() == 1
    Mailbox.objects.update(claimed_until=None)

    poll()

    assert IncomingItem.objects.count() == 1
    message = InboundMessage.objects.get()
    assert message.state == State.REGISTERED
    assert (server.inbox(), server.archive()) == (0, 1)


def test_two_readers_at_once_take_each_message_once(server, dossier, notary, monkeypatch):
    raws = [
        corpus.plain(sender=notary.email, subject=f"Demande {n}", body=f"Point {n}")
        for n in range(12)
    ]
    server.append(*raws)
    # Both readers get past the mailbox claim: only the database's unique constraints and the
    # row lock stand between them.
    monkeypatch.setattr(services, "_claim_mailbox", lambda mailbox: True)
    errors = []
    barrier = threading.Barrier(2)

    def read():
        try:
            barrier.wait()
            services.mailbox_poll(config=server.config)
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert IncomingItem.objects.count() == 12
    assert InboundMessage.objects.count() == 12
    assert sorted(IncomingItem.objects.values_list("subject", flat=True)) == sorted(
        f"Demande {n}" for n in range(12)
    )
    assert (server.inbox(), server.archive()) == (0, 12)


def test_a_second_reader_leaves_a_mailbox_being_read(server, dossier, notary):
    server.append(corpus.plain(sender=notary.email, subject="Demande", body="Un point"))
    mailbox = services.mailbox_sync(server.config)
    assert services._claim_mailbox(mailbox)

    result = services.mailbox_poll(config=server.config)

    assert result.claimed is False
    assert not InboundMessage.objects.exists() and server.inbox() == 1


@pytest.fixture
def outage_server(settings):
    """A Dovecot of our own on another port, that the test stops and starts again."""
    # Dovecot's mail processes run as nobody: the folder must be traversable by it.
    directory = tempfile.mkdtemp(prefix="gerance-dovecot-outage-")
    os.chmod(directory, 0o755)  # noqa: S103
    env = {**os.environ, "DOVECOT_DIR": directory, "DOVECOT_PORT": "3144"}
    script = os.path.join(os.getcwd(), "scripts", "dovecot.sh")

    def control(action):
        subprocess.run([script, action], env=env, check=True, capture_output=True, timeout=60)

    control("start")
    config = imap_settings("INBOX", name="outage")
    config = type(config)(**{**config.__dict__, "port": 3144, "archive_folder": "Archive"})
    settings.MAILBOXES = (config,)
    server = Server(config)
    server.control = control
    yield server
    control("stop")
    subprocess.run(["rm", "-rf", directory], check=False)


def test_an_imap_outage_loses_nothing_and_the_next_run_catches_up(outage_server, dossier, notary):
    server = outage_server
    server.append(
        corpus.plain(sender=notary.email, subject="Avant la panne", body="1"),
        corpus.plain(sender=notary.email, subject="Pendant la panne", body="2"),
    )
    server.control("stop")

    down = services.mailbox_poll(config=server.config)

    assert down.error and down.taken == 0
    mailbox = Mailbox.objects.get(name="outage")
    assert mailbox.last_error and mailbox.claimed_until is None
    assert not InboundMessage.objects.exists()

    server.control("start")
    back = services.mailbox_poll(config=server.config)

    assert back.error == "" and back.taken == 2
    assert IncomingItem.objects.count() == 2
    assert (server.inbox(), server.archive()) == (0, 2)
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.last_success_at is not None


def test_a_storage_outage_stops_the_run_and_the_message_waits(
    server, poll, dossier, notary, monkeypatch
):
    from django.core.files.storage import FileSystemStorage

    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    real_save = FileSystemStorage.save

    def disk_full(self, name, content, max_length=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "save", disk_full)

    result = poll()

    assert result.error
    assert IncomingItem.objects.count() == 0
    assert server.inbox() == 1  # nothing left the inbox

    monkeypatch.setattr(FileSystemStorage, "save", real_save)
    poll()

    assert IncomingItem.objects.count() == 1
    assert InboundMessage.objects.get().state == State.REGISTERED
    assert server.archive() == 1


def test_a_message_that_keeps_failing_is_quarantined_after_a_few_runs(
    server, poll, dossier, notary, monkeypatch, settings
):
    from email_channel import routing

    settings.MAILBOX_MAX_ATTEMPTS = 3
    real = routing.destination

    def buggy(parsed, *, at, **kwargs):
        if parsed.subject == "Poison":
            raise KeyError("a bug on this message")
        return real(parsed, at=at, **kwargs)

    monkeypatch.setattr(routing, "destination", buggy)
    server.append(corpus.plain(sender=notary.email, subject="Poison", body="x"))
    server.append(corpus.plain(sender=notary.email, subject="Sain", body="y"))

    first = poll()

    assert first.failed == 1
    assert IncomingItem.objects.get().subject == "Sain"  # the others go on
    poison = InboundMessage.objects.get(subject="Poison")
    assert (poison.state, poison.attempts) == (State.PENDING, 1)
    assert server.inbox() == 1

    poll()
    poll()

    poison.refresh_from_db()
    assert poison.state == State.QUARANTINED
    assert "3" in poison.quarantine_reason and "KeyError" in poison.quarantine_reason
    assert bytes(poison.raw).startswith(b"From:") or b"Subject: Poison" in bytes(poison.raw)
    assert server.inbox() == 0
