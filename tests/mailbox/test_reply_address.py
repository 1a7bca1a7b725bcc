"""Replies find their way back: Reply-To the mailbox the email came in by, copies in its Sent."""

import dataclasses

import pytest
from django.utils import timezone

from correspondence.mail import build_reply_message, reply_deliver_email
from correspondence.services import ReplyDraft, item_register, reply_send
from email_channel.config import parse_mailbox_url
from email_channel.models import InboundMessage, SentCopy
from tests.mailbox import corpus
from tests.mailbox.conftest import Server, imap_settings

pytestmark = pytest.mark.django_db


def test_a_mailbox_url_gives_its_address_or_takes_the_user():
    named = parse_mailbox_url("imaps://login:p@imap.agence.fr/INBOX?address=gestion%40agence.fr")
    by_user = parse_mailbox_url("imaps://compta%40agence.fr:p@imap.agence.fr")
    bare = parse_mailbox_url("imaps://compta:p@imap.agence.fr")

    assert (named.address, by_user.address, bare.address) == (
        "gestion@agence.fr",
        "compta@agence.fr",
        "",
    )
    with pytest.raises(ValueError, match="not an email address"):
        parse_mailbox_url("imaps://u:p@h?address=gestion")


def _reply(item, *, by, email):
    reply = reply_send(
        item=item,
        draft=ReplyDraft(
            via="email",
            dated=timezone.localdate(),
            answers={point.pk: "Réponse au point." for point in item.points.all()},
            recipient_email=email,
        ),
        by=by,
    )
    assert reply_deliver_email(reply_id=reply.pk)  # locmem backend in tests
    reply.refresh_from_db()
    return reply


def _by_letter(dossier, notary, gestionnaire):
    """An item registered by hand, not from a mailbox (a call is confirmed, never replied to)."""
    from tests.correspondence.conftest import pdf_file

    return item_register(
        channel="letter",
        received_at=timezone.now(),
        sender=notary,
        dossier=dossier,
        subject="Courrier de l'étude",
        points=["Date de la signature ?"],
        assigned_to=gestionnaire,
        by=gestionnaire,
        originals=[pdf_file()],
    )


@pytest.fixture
def two_mailboxes(server, settings):
    """The test mailbox (`server`) and a second one, listed first; both keep a Sent folder."""
    first = Server(
        dataclasses.replace(
            imap_settings(f"{server.config.folder}b", name="compta"),
            sent_folder=f"{server.config.folder}b-sent",
            address="compta@agence.test",
        )
    )
    server.config = dataclasses.replace(
        server.config, sent_folder=f"{server.config.folder}-sent", address="gestion@agence.test"
    )
    first.create()
    with server.box() as box:
        for config in (first.config, server.config):
            box.folder.create(config.sent_folder)
    settings.MAILBOXES = (first.config, server.config)
    yield first, server
    with server.box() as box:
        for config in (first.config, server.config):
            box.folder.delete(config.sent_folder)
    first.drop()


def test_a_reply_goes_back_to_the_mailbox_the_email_came_in_by(
    two_mailboxes, dossier, notary, gestionnaire, settings
):
    from email_channel import services

    first, second = two_mailboxes
    second.append(
        corpus.plain(
            sender=notary.email,
            subject=f"Succession Dupont ({dossier.reference})",
            body="Merci de nous transmettre le bail.",
            msgid="<2@notaires.fr>",
            references="<1@notaires.fr>",  # their conversation before writing to us
        )
    )
    services.mailbox_poll(config=second.config)
    emailed = InboundMessage.objects.get().item
    by_letter = _by_letter(dossier, notary, gestionnaire)

    to_email = _reply(emailed, by=gestionnaire, email=notary.email)
    to_letter = _reply(by_letter, by=gestionnaire, email=notary.email)

    assert build_reply_message(to_email).extra_headers["Reply-To"] == "gestion@agence.test"
    assert build_reply_message(to_email).from_email == settings.DEFAULT_FROM_EMAIL
    # Registered by hand: the first mailbox's, where the copy is kept too (below).
    assert build_reply_message(to_letter).extra_headers["Reply-To"] == "compta@agence.test"
    assert build_reply_message(to_email).extra_headers["References"] == (
        "<1@notaires.fr> <2@notaires.fr>"
    )

    # Each copy in the Sent folder of its own mailbox: the hand-registered item's in the first.
    assert services.mailbox_poll(config=second.config).sent_copies == 1
    assert services.mailbox_poll(config=first.config).sent_copies == 1
    assert services.mailbox_poll(config=second.config).sent_copies == 0
    [in_second] = second.raws(second.config.sent_folder)
    [in_first] = first.raws(first.config.sent_folder)
    assert to_email.message_id.encode() in in_second
    assert to_letter.message_id.encode() in in_first
    assert set(SentCopy.objects.values_list("reply", "mailbox__name")) == {
        (to_email.pk, second.config.name),
        (to_letter.pk, "compta"),
    }
