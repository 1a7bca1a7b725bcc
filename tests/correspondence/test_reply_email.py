"""Email replies through a real SMTP server on 127.0.0.1 (aiosmtpd): once, one Message-ID."""

from datetime import timedelta
from email import message_from_bytes

import pytest
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
    assert "Adresse inconnue" in email_reply.email_error
    assert email_reply.email_sent_at is None
    assert mail.unsent_reply_ids(older_than=timedelta(0)) == []


def test_it_retries_when_the_smtp_server_is_down(settings, email_reply):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nothing listens

    with pytest.raises(mail.TransientEmailError):
        mail.reply_deliver_email(reply_id=email_reply.pk)

    email_reply.refresh_from_db()
    assert email_reply.email_sent_at is None and email_reply.email_error == ""
    assert email_reply.email_claimed_until is None  # released: the retry may take it at once


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
