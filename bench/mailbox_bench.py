"""`make bench`, the email channel: 1,000 messages in a real Dovecot, ingestion throughput.

Two measures on the same 1,000 messages (a realistic mix: requests from mandated intervenants
and clients, a third with a PDF, unknown senders for triage, replies in threads, automatic
replies), each in a folder of its own on the test Dovecot (scripts/dovecot.sh, user bench@):
1. the floor: a plain imap-tools loop that only fetches the messages (bulk, 50 per FETCH, not
   marked read); the same loop with imap-tools' default (one FETCH per message) is printed
   beside it as a reference only: the target is judged against the bulk loop;
2. the ingestion: `email_channel.services.mailbox_poll`, i.e. fetch, parse, file the .eml and the
   attachments in the GED (local storage), route, register the items, move to the archive
   folder, by batches of MAILBOX_FETCH_CHUNK messages; with its SQL queries counted.
Target (issue 8): ingestion >= 0.5 x the floor. In a database of its own (dropped and created
again); prints a table and writes bench/mailbox-results.md.
"""

import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNT = int(os.environ.get("MAILBOX_BENCH_COUNT", "1000"))
HOST, PORT = "127.0.0.1", int(os.environ.get("DOVECOT_PORT", "3143"))
USER, PASSWORD = "bench@agence.test", os.environ.get("DOVECOT_PASSWORD", "secret")


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(var_dir: str):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gerance.settings")
    os.environ["VAR_DIR"] = var_dir  # the GED's local storage, thrown away after the run
    os.environ["MAILBOX_RUN_SECONDS"] = "3600"
    os.environ["MAILBOX_BATCH_SIZE"] = str(COUNT * 2)
    os.environ["CELERY_TASK_SOFT_TIME_LIMIT"] = "7200"
    os.environ["CELERY_TASK_TIME_LIMIT"] = "7300"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def people():
    """A gestionnaire, 50 dossiers, 30 mandated notaries and 20 clients writing from their own
    address."""
    import datetime

    from django.contrib.auth.models import Group, User
    from django.core.files.base import ContentFile

    from contacts.models import Client, Dossier, Intervenant, Mandate
    from ged.services import document_store
    from tests.mailbox.corpus import pdf_bytes

    gestionnaire = User.objects.create(username="claire", first_name="Claire")
    gestionnaire.groups.add(Group.objects.get(name="Gestionnaire"))
    senders = []
    for n in range(50):
        client = Client.objects.create(
            reference=f"CLI{n:05d}", name=f"Client {n}", email=f"client{n}@exemple.fr"
        )
        dossier = Dossier.objects.create(
            reference=f"D-2026-{n + 1:05d}",
            client=client,
            property_address=f"{n} rue Victor Hugo",
            gestionnaire=gestionnaire,
        )
        if n < 30:
            notary = Intervenant.objects.create(
                name=f"Étude {n}", kind="notary", category="administrative",
                email=f"etude{n}@notaires.fr",
            )  # fmt: skip
            mandate = Mandate.objects.create(
                intervenant=notary, client=client, direction="by",
                valid_from=datetime.date(2026, 1, 1), created_by=gestionnaire,
            )  # fmt: skip
            mandate.proof = document_store(
                file=ContentFile(pdf_bytes(f"Mandat {n}"), name="mandat.pdf"),
                owner=mandate,
                added_by=gestionnaire,
            )
            mandate.save(update_fields=["proof"])
            senders.append((notary.email, dossier.reference))
        else:
            senders.append((client.email, dossier.reference))
    return senders


def messages(senders) -> list[bytes]:
    from tests.mailbox import corpus

    pdf = corpus.pdf_bytes("Pièce jointe")
    raws = []
    for n in range(COUNT):
        address, reference = senders[n % len(senders)]
        kind = n % 20
        if kind < 12:  # a new request, a third of them with a PDF
            raws.append(
                corpus.plain(
                    sender=address,
                    subject=f"Demande {n} – dossier {reference}",
                    body=f"Madame,\n\nMerci de nous transmettre l'état des charges ({n}).\n\n"
                    "Bien cordialement",
                    attachments=[("pièce.pdf", "application/pdf", pdf)] if n % 3 == 0 else [],
                )
            )
        elif kind < 15:
            raws.append(corpus.latin1(sender=address))
        elif kind < 17:
            raws.append(corpus.html_only(sender=f"inconnu{n}@exemple.fr"))  # triage
        elif kind < 19:
            raws.append(
                corpus.plain(
                    sender=address, subject=f"RE: Votre courrier {reference}", body="Bien reçu."
                )
            )  # threaded on the sender's earlier item of the dossier
        else:
            raws.append(corpus.out_of_office(sender=address))
    return raws


def fresh_folders(*names):
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(HOST, PORT) as box:
        box.login(USER, PASSWORD, initial_folder=None)
        for name in names:
            if box.folder.exists(name):
                box.folder.delete(name)
            box.folder.create(name)


def append_all(folder: str, raws: list[bytes]) -> None:
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(HOST, PORT) as box:
        box.login(USER, PASSWORD, initial_folder=None)
        for raw in raws:
            box.append(raw, folder)


def floor(folder: str, *, bulk=50) -> tuple[float, int]:
    """The plain imap-tools loop: fetch every message, nothing else (`bulk=False`: imap-tools'
    default, one FETCH command per message)."""
    from imap_tools import MailBoxUnencrypted

    started = time.perf_counter()
    count = 0
    with MailBoxUnencrypted(HOST, PORT) as box:
        box.login(USER, PASSWORD, initial_folder=folder)
        for _message in box.fetch(mark_seen=False, bulk=bulk):
            count += 1
    return time.perf_counter() - started, count


def ingestion(folder: str):
    from email_channel.config import MailboxSettings
    from email_channel.services import mailbox_poll

    config = MailboxSettings(
        name="bench", host=HOST, port=PORT, security="plain", user=USER, password=PASSWORD,
        folder=folder, archive_folder=f"{folder}-archive", sent_folder="",
    )  # fmt: skip
    from django.db import connection

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(count):
        result = mailbox_poll(config=config)
    return time.perf_counter() - started, result, queries


def main() -> int:
    url = os.environ["DATABASE_URL"]
    recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="gerance-mailbox-bench-") as var_dir:
        setup_django(var_dir)
        from django.db import connection
        from django.db.models import Count

        from email_channel.models import InboundMessage

        print(f"Email channel: {COUNT} messages on Dovecot 127.0.0.1:{PORT}", flush=True)
        raws = messages(people())
        size = sum(map(len, raws))
        fresh_folders("bench-floor", "bench-inbox", "bench-inbox-archive")
        append_all("bench-floor", raws)
        append_all("bench-inbox", raws)

        floor_seconds, fetched = floor("bench-floor")
        single_seconds, fetched_singly = floor("bench-floor", bulk=False)
        seconds, result, queries = ingestion("bench-inbox")
        assert fetched == fetched_singly == COUNT, (fetched, fetched_singly)
        assert result.taken == COUNT and result.archived == COUNT, result
        states = dict(InboundMessage.objects.values_list("state").annotate(n=Count("pk")))
        floor_rate, rate = COUNT / floor_seconds, COUNT / seconds
        ratio = rate / floor_rate
        rows = [
            ("messages (MiB)", f"{COUNT} ({size / 2**20:.1f})", "", ""),
            (
                "imap-tools fetch loop (floor)",
                f"{floor_rate:.0f} msg/s",
                f"{floor_seconds:.2f} s",
                "",
            ),
            (
                "reference only, not the floor: the same loop, one FETCH per message "
                "(imap-tools' default)",
                f"{COUNT / single_seconds:.0f} msg/s",
                f"{single_seconds:.2f} s",
                "",
            ),
            (
                "ingestion incl. GED",
                f"{rate:.0f} msg/s",
                f"{seconds:.2f} s",
                f"{ratio:.2f} x floor (bulk fetch loop)",
            ),
            ("SQL queries of the ingestion", f"{queries / COUNT:.2f} per message", "", ""),
            (
                "target",
                "≥ 0.5 x floor (bulk fetch loop)",
                "",
                "met" if ratio >= 0.5 else "NOT met",
            ),
            ("outcome", ", ".join(f"{k} {v}" for k, v in sorted(states.items())), "", ""),
        ]
        connection.close()
    lines = ["| measure | value | time | ratio |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join(lines)
    print(text)
    (ROOT / "bench" / "mailbox-results.md").write_text(
        "# make bench: email channel\n\n" + (__doc__ or "").strip() + "\n\n" + text + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
