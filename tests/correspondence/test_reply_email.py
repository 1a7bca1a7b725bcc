"""Email replies through a real SMTP server on 127.0.0.1 (aiosmtpd): once, one Message-ID."""

from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from correspondence import mail, services, tasks
from correspondence.models import Channel, Reply
from tests.correspondence.conftest import eml_file
from tests.correspondence.conftest import free_port as _free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_reply(gestionnaire, dossier, notary, django_capture_on_commit_callbacks):
    item = services.item_register(
        channel=Channel.EMAIL,
        received_at=timezone.now() - timedelta(hours=2),
        sender=notary,
        dossier=dossier,
        subject="Succession Dupont",
        points=["Copie du bail", "Dépôt de garantie"],
        assigned_to=gestionnaire,
        by=gestionnaire,
        originals=[eml_file()],
    )
    answers = {p.pk: f"Réponse {p.position}" for p in item.points.all()}
    with django_capture_on_commit_callbacks(execute=False):
        return services.reply_send(
            item=item,
            by=gestionnaire,
            draft=services.ReplyDraft(
                via=Reply.Via.EMAIL,
                dated=timezone.localdate(),
                answers=answers,
                recipient_email="notaire@exemple.fr",
            ),
        )


def test_it_sends_the_reply_once_even_when_the_task_runs_twice(smtp_server, email_reply, dossier):
    assert tasks.deliver_reply_email(email_reply.pk) is True
    assert tasks.deliver_reply_email(email_reply.pk) is False

    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sent["Message-ID"] == email_reply.message_id
    assert sent["In-Reply-To"] == "<1@exemple.fr>"  # the notary's own message, from its .eml
    assert dossier.reference in sent["Subject"]
    body = sent.get_payload(0).get_payload(decode=True).decode()
    assert "Copie du bail" in body and "Réponse 1" in body and "Réponse 2" in body
    email_reply.refresh_from_db()
    assert email_reply.email_sent_at is not None
    # Its copy is in the GED, as it was sent.
    assert email_reply.document.content_type == "message/rfc822"
    assert (
        message_from_bytes(email_reply.document.file.read())["Message-ID"] == email_reply.message_id
    )


def test_it_records_a_permanent_refusal_and_does_not_retry(smtp_server, email_reply):
    smtp_server.refusal = "550 5.1.1 Adresse inconnue"

    assert tasks.deliver_reply_email(email_reply.pk) is False

    email_reply.refresh_from_db()
    assert email_reply.email_error == (
        "notaire@exemple.fr : adresse refusée par le serveur de messagerie "
        "(550 5.1.1 Adresse inconnue)"
    )
    assert email_reply.email_sent_at is None
    assert mail.unsent_reply_ids(older_than=timedelta(0)) == []


def test_it_retries_when_the_smtp_server_is_down(settings, email_reply):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nothing listens

    with pytest.raises(mail.TransientEmailError):
        mail.reply_deliver_email(reply_id=email_reply.pk)

    email_reply.refresh_from_db()
    assert email_reply.email_sent_at is None and email_reply.email_error == ""


# --- An SMTP outage: the task's own retry, not the redelivery sweep -----------------------------
@pytest.fixture
def outage(smtp_server, email_reply, monkeypatch):
    """The reply's delivery by task-1 failed at `failed_at` with the server down; retry in 8 min.

    `enqueued` collects what the redelivery sweep hands on.
    """
    smtp_server.server.stop()
    failed_at = timezone.now()
    with time_machine.travel(failed_at, tick=False), pytest.raises(mail.TransientEmailError):
        mail.reply_deliver_email(
            reply_id=email_reply.pk, claimer="task-1", retry_in=timedelta(minutes=8)
        )
    enqueued = []
    monkeypatch.setattr(tasks.deliver_reply_email, "delay", enqueued.append)
    Reply.objects.filter(pk=email_reply.pk).update(created_at=failed_at - timedelta(minutes=5))
    return {"reply": email_reply, "failed_at": failed_at, "enqueued": enqueued, "smtp": smtp_server}


def test_an_outage_keeps_the_reply_s_claim_through_the_backoff(outage):
    reply = Reply.objects.get(pk=outage["reply"].pk)
    hold_until = outage["failed_at"] + timedelta(minutes=8) + mail.RETRY_MARGIN
    assert reply.email_claimed_by == "task-1" and reply.email_claimed_until == hold_until
    # Every redelivery sweep of the backoff (beat's, every 5 minutes) leaves the reply alone.
    for minutes in (2, 5, 10, 13):
        moment = outage["failed_at"] + timedelta(minutes=minutes) - timedelta(seconds=1)
        with time_machine.travel(moment, tick=False):
            assert tasks.sweep_unsent_replies() == 0
    assert outage["enqueued"] == []


def test_the_retry_of_the_same_task_sends_the_reply(outage):
    outage["smtp"].server.start()  # back, on the same port
    pk = outage["reply"].pk
    with time_machine.travel(outage["failed_at"] + timedelta(minutes=8), tick=False):
        assert mail.reply_deliver_email(reply_id=pk, claimer="task-2") is False  # not another's
        assert mail.reply_deliver_email(reply_id=pk, claimer="task-1") is True

    assert len(outage["smtp"].messages) == 1


def test_a_reply_s_retry_lost_with_its_worker_is_redelivered_once_the_claim_expires(outage):
    outage["smtp"].server.start()
    pk = outage["reply"].pk
    expired = outage["failed_at"] + timedelta(minutes=8) + mail.RETRY_MARGIN
    expired += timedelta(seconds=1)

    with time_machine.travel(expired, tick=False):
        assert tasks.sweep_unsent_replies() == 1
        assert outage["enqueued"] == [pk]
        assert mail.reply_deliver_email(reply_id=pk, claimer="task-2") is True
    assert len(outage["smtp"].messages) == 1


def test_the_reply_task_keeps_the_claim_for_its_own_backoff(smtp_server, email_reply, monkeypatch):
    smtp_server.server.stop()
    asked = {}

    def fixed_backoff(*, factor, retries, maximum, full_jitter):
        asked.update(factor=factor, retries=retries, maximum=maximum)
        return 240

    monkeypatch.setattr(tasks, "get_exponential_backoff_interval", fixed_backoff)
    now = timezone.now()
    tasks.deliver_reply_email.push_request(id="task-9", retries=2)
    try:
        with time_machine.travel(now, tick=False), pytest.raises(mail.TransientEmailError):
            tasks.deliver_reply_email.run(email_reply.pk)
    finally:
        tasks.deliver_reply_email.pop_request()

    assert asked == {"factor": 30, "retries": 2, "maximum": 1800}
    email_reply.refresh_from_db()
    assert email_reply.email_claimed_by == "task-9"
    assert email_reply.email_claimed_until == now + timedelta(seconds=240) + mail.RETRY_MARGIN


def test_it_leaves_a_claimed_reply_to_its_worker(smtp_server, email_reply):
    Reply.objects.filter(pk=email_reply.pk).update(
        email_claimed_until=timezone.now() + timedelta(minutes=5)
    )

    assert mail.reply_deliver_email(reply_id=email_reply.pk) is False
    assert smtp_server.messages == []


def test_it_redelivers_when_a_worker_died_holding_the_claim(smtp_server, email_reply):
    Reply.objects.filter(pk=email_reply.pk).update(
        email_claimed_until=timezone.now() - timedelta(seconds=1),
        created_at=timezone.now() - timedelta(minutes=5),
    )

    assert mail.unsent_reply_ids(older_than=timedelta(minutes=2)) == [email_reply.pk]
    assert mail.reply_deliver_email(reply_id=email_reply.pk) is True
    assert len(smtp_server.messages) == 1


def test_the_reply_continues_the_intervenants_conversation(gestionnaire, dossier, notary):
    """References: the email's own (trimmed past 20 ids, the first kept) and its Message-ID."""
    earlier = [f"<{n}@notaires.fr>" for n in range(25)]
    folded = "\r\n ".join(earlier)  # a long header, folded as mail clients do
    item = services.item_register(
        channel=Channel.EMAIL,
        received_at=timezone.now() - timedelta(hours=2),
        sender=notary,
        dossier=dossier,
        subject="Succession Dupont",
        points=["Copie du bail"],
        assigned_to=gestionnaire,
        by=gestionnaire,
        originals=[
            ContentFile(
                b"From: notaire@exemple.fr\r\nSubject: Re: Succession Dupont\r\n"
                b"Message-ID: <25@notaires.fr>\r\nIn-Reply-To: <24@notaires.fr>\r\n"
                b"References: " + folded.encode() + b"\r\n\r\nBonjour\r\n",
                name="message.eml",
            )
        ],
    )
    reply = services.reply_send(
        item=item,
        by=gestionnaire,
        draft=services.ReplyDraft(
            via=Reply.Via.EMAIL,
            dated=timezone.localdate(),
            answers={p.pk: "Ci-joint." for p in item.points.all()},
            recipient_email="notaire@exemple.fr",
        ),
    )

    headers = mail.reply_headers(reply)

    assert headers["In-Reply-To"] == "<25@notaires.fr>"
    assert headers["References"].split() == [earlier[0], *earlier[-19:], "<25@notaires.fr>"]
