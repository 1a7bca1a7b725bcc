"""Our email replies are appended to the mailbox's Sent folder, once, when it is configured."""

import dataclasses

import pytest
from django.utils import timezone

from correspondence.mail import reply_deliver_email
from correspondence.services import ReplyDraft, reply_send
from email_channel.models import InboundMessage, SentCopy
from tests.mailbox import corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_sent(server, settings):
    config = dataclasses.replace(server.config, sent_folder=f"{server.config.folder}-sent")
    settings.MAILBOXES = (config,)
    server.config = config
    with server.box() as box:
        box.folder.create(config.sent_folder)
    yield server
    with server.box() as box:
        box.folder.delete(config.sent_folder)


def _sent_reply(server, dossier, notary, gestionnaire):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    from email_channel import services

    services.mailbox_poll(config=server.config)
    item = InboundMessage.objects.get().item
    point = item.points.get()
    reply = reply_send(
        item=item,
        draft=ReplyDraft(
            via="email",
            dated=timezone.localdate(),
            answers={point.pk: "Réponse au point."},
            recipient_email=notary.email,
        ),
        by=gestionnaire,
    )
    assert reply_deliver_email(reply_id=reply.pk)  # locmem backend in tests
    reply.refresh_from_db()
    return reply


def test_a_sent_reply_is_appended_to_the_sent_folder_once(
    with_sent, poll, dossier, notary, gestionnaire
):
    server = with_sent
    reply = _sent_reply(server, dossier, notary, gestionnaire)

    first = poll()
    second = poll()

    assert (first.sent_copies, second.sent_copies) == (1, 0)
    [copy] = server.raws(server.config.sent_folder)
    assert reply.message_id.encode() in copy
    assert SentCopy.objects.get().reply == reply


def test_a_crash_after_the_append_does_not_append_twice(
    with_sent, poll, dossier, notary, gestionnaire
):
    server = with_sent
    _sent_reply(server, dossier, notary, gestionnaire)
    poll()
    SentCopy.objects.all().delete()  # as if the process died between the APPEND and the row

    result = poll()

    assert result.sent_copies == 1
    assert len(server.raws(server.config.sent_folder)) == 1
    assert SentCopy.objects.count() == 1


def test_without_a_sent_folder_nothing_is_appended(server, poll, dossier, notary, gestionnaire):
    _sent_reply(server, dossier, notary, gestionnaire)

    assert poll().sent_copies == 0
    assert not SentCopy.objects.exists()
