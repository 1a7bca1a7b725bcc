"""R8: the direction's digest also lists the emails waiting in triage past their 48 hours."""

import itertools
from datetime import datetime, timedelta
from email.header import decode_header, make_header

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from correspondence import alerts
from correspondence.models import Alert
from email_channel.models import InboundMessage, Mailbox, State
from tests.correspondence.alerting import PARIS, RECEIVED, register

pytestmark = pytest.mark.django_db

NOW = RECEIVED + timedelta(hours=1)  # Monday 30 November 2026, 10:00
_uids = itertools.count(1)


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(
        name="gestion", address="gestion@agence.test", folder="INBOX", archive_folder="Archive"
    )


def in_triage(mailbox, *, received_at, subject, name="Jean Inconnu"):
    uid = next(_uids)
    return InboundMessage.objects.create(
        mailbox=mailbox,
        uidvalidity=1,
        uid=uid,
        dedupe_key=f"<{uid}@exemple.fr>",
        message_id=f"<{uid}@exemple.fr>",
        state=State.TRIAGE,
        received_at=received_at,
        size=1000,
        from_address="inconnu@exemple.fr",
        from_name=name,
        subject=subject,
        triage_reason="Expéditeur inconnu",
    )


def send_digest(claimer="task-1"):
    """Raise today's digest (if anything is late) and deliver it; its id."""
    with time_machine.travel(NOW, tick=False):
        alert_id = alerts.digest_create(day=timezone.localdate())
        if alert_id is not None:
            alerts.alerts_deliver(alert_ids=[alert_id], claimer=claimer)
    return alert_id


def text_of(message) -> str:
    return message.get_payload(0).get_payload(decode=True).decode()


def html_of(message) -> str:
    return message.get_payload(1).get_payload(decode=True).decode()


def test_the_digest_lists_the_emails_in_triage_past_their_deadline(
    smtp_server, direction, mailbox, settings
):
    settings.SITE_URL = "https://gerance.example"
    in_triage(mailbox, received_at=NOW - timedelta(hours=50), subject="Loyer impayé")
    in_triage(mailbox, received_at=NOW - timedelta(hours=10), subject="Pas en retard")

    assert send_digest() is not None  # nothing else is late: the triage email is enough

    [digest] = smtp_server.messages
    body = text_of(digest)
    assert "Emails non triés en retard (1)" in body
    assert "Jean Inconnu <inconnu@exemple.fr> · Loyer impayé" in body
    assert "reçu le 28/11/2026 08:00, retard de 2\xa0heures" in body  # due 30/11 08:00
    assert "Pas en retard" not in body
    assert "https://gerance.example/emails/a-trier/" in body
    assert 'href="https://gerance.example/emails/a-trier/"' in html_of(digest)
    assert "Jean Inconnu &lt;inconnu@exemple.fr&gt; · Loyer impayé" in html_of(digest)


def test_the_triage_emails_come_after_the_overdue_items(
    smtp_server, direction, mailbox, gestionnaire, dossier, notary
):
    register(
        gestionnaire=gestionnaire,
        dossier=dossier,
        sender=notary,
        received_at=RECEIVED - timedelta(days=4),
        subject="Succession A",
    )
    in_triage(mailbox, received_at=NOW - timedelta(hours=50), subject="Loyer impayé")

    send_digest()

    [digest] = smtp_server.messages
    body = text_of(digest)
    subject = str(make_header(decode_header(digest["Subject"])))
    assert subject == "Réponses en retard au 30/11/2026 : 2 éléments"
    assert body.index("Claire Martin (1)") < body.index("Succession A")
    assert body.index("Succession A") < body.index("Emails non triés en retard (1)")
    assert body.index("Emails non triés en retard (1)") < body.index("Loyer impayé")


def test_no_digest_when_the_emails_in_triage_are_not_late(mailbox):
    in_triage(mailbox, received_at=NOW - timedelta(hours=10), subject="Pas en retard")

    assert send_digest() is None
    assert not Alert.objects.filter(kind="digest").exists()


def test_the_working_days_calendar_applies_to_the_triage_emails(
    smtp_server, direction, mailbox, settings
):
    settings.CORRESPONDENCE_CALENDAR = "working_days"
    # Friday 27 November at 18:00: 64 hours ago, but 16 working hours only (6 + 10).
    in_triage(mailbox, received_at=datetime(2026, 11, 27, 18, 0, tzinfo=PARIS), subject="Vendredi")
    # Wednesday 25 November at 09:00: 48 working hours have gone on Friday at 09:00.
    in_triage(mailbox, received_at=datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), subject="Mercredi")

    send_digest()

    [digest] = smtp_server.messages
    body = text_of(digest)
    assert "Mercredi" in body and "Vendredi" not in body


def test_the_digest_reads_the_triage_emails_in_constant_queries(smtp_server, direction, mailbox):
    in_triage(mailbox, received_at=NOW - timedelta(hours=50), subject="Premier")
    with time_machine.travel(NOW, tick=False):
        digest_id = alerts.digest_create(day=timezone.localdate())

    def deliver(claimer) -> int:
        Alert.objects.filter(pk=digest_id).update(sent_at=None, claimed_until=None)
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
            assert alerts.alerts_deliver(alert_ids=[digest_id], claimer=claimer).sent
        return len(queries)

    with_one = deliver("task-1")
    for number in range(6):
        in_triage(
            mailbox, received_at=NOW - timedelta(hours=60 + number), subject=f"Autre {number}"
        )
    with_seven = deliver("task-2")

    assert "Emails non triés en retard (1)" in text_of(smtp_server.messages[0])
    assert "Emails non triés en retard (7)" in text_of(smtp_server.messages[1])
    assert with_seven == with_one
