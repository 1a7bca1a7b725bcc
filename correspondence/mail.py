"""Email replies: Message-ID, content and delivery (at least once, always the same Message-ID)."""

import logging
import smtplib
import uuid
from datetime import timedelta
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from correspondence.models import Reply
from gerance.lib import emails

logger = logging.getLogger(__name__)

# How long a worker may hold a reply while sending it; after that another worker may take over
# (the first one died): the email is then sent again with the same Message-ID.
CLAIM_DURATION = timedelta(minutes=10)
# After an outage, the claim outlives the backoff before the task's retry by this much: time for
# a busy worker to start the retry late. Past it, the reply is the redelivery sweep's again.
RETRY_MARGIN = timedelta(minutes=5)


class TransientEmailError(Exception):
    """The SMTP server is down or refused temporarily: try again later."""


def _server_answer(code: int, message: bytes | str) -> str:
    """An SMTP reply as a person reads it: `550 5.1.1 Unknown user`, on one line."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return " ".join(f"{code} {message}".split())


def refusal_text(*, address: str, code: int, message: bytes | str) -> str:
    """A permanent refusal of `address`, stored on the row and shown to a person (French UI).

    Translated when recorded, in the agency's language: a worker has no request to take it from.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("%(address)s: address refused by the mail server (%(answer)s)") % {
            "address": address,
            "answer": _server_answer(code, message),
        }


def refusals_text(error: smtplib.SMTPRecipientsRefused) -> str:
    """Every refused recipient of an SMTPRecipientsRefused, one after the other."""
    return "; ".join(
        refusal_text(address=address, code=code, message=message)
        for address, (code, message) in sorted(error.recipients.items())
    )


def is_permanent(error: smtplib.SMTPRecipientsRefused) -> bool:
    """A 4xx refusal of a recipient (mailbox full, greylisting) is worth a retry; a 5xx is not."""
    return all(500 <= code < 600 for code, _message in error.recipients.values())


def new_message_id() -> str:
    return make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN)


def build_reply_message(reply: Reply):
    item = reply.item
    message = emails.build(
        "reply",
        {
            "reply": reply,
            "item": item,
            "answers": reply.answers.select_related("point").order_by("point__position"),
        },
        to=[reply.recipient_email],
        headers=reply_headers(reply),
    )
    return message


def reply_headers(reply: Reply) -> dict[str, str]:
    headers = {
        "Message-ID": reply.message_id,
        # Fixed, so that the copy in the GED and a resend are the same message.
        "Date": format_datetime(reply.created_at),
    }
    if reply.item.message_id:
        # The intervenant's mail client threads our answer under their message.
        headers["In-Reply-To"] = reply.item.message_id
        headers["References"] = f"{reply.item.references} {reply.item.message_id}".strip()
    if reply_to := _mailbox_address(reply.item):
        headers["Reply-To"] = reply_to
    return headers


def _mailbox_address(item) -> str:
    """The address of the item's mailbox: the one its email came in by, or the first one
    configured for an item registered by hand ("" without mailboxes).

    With several mailboxes, the intervenant's answer to our reply must come back to the mailbox
    that is read for this correspondence, where it threads and where our reply's copy is kept
    (`email_channel.services._append_sent_copies` follows the same rule); DEFAULT_FROM_EMAIL may
    be another. The email channel links its messages to items (`inbound_message`); its settings
    are read here rather than its modules imported, since it is the email channel that builds on
    this app.
    """
    if not settings.MAILBOXES:
        return ""
    try:
        name = item.inbound_message.mailbox.name
    except ObjectDoesNotExist:
        return settings.MAILBOXES[0].address
    return next((box.address for box in settings.MAILBOXES if box.name == name), "")


def reply_deliver_email(
    *, reply_id: int, claimer: str | None = None, retry_in: timedelta = timedelta(0)
) -> bool:
    """Send an email reply once it is claimed; store its copy in the GED. True when sent now.

    Steps: 1. claim the reply for `claimer` (a task id; one conditional UPDATE: a second worker
    gets 0 rows and stops, the same task retried takes it back); 2. file the copy (.eml) in the
    GED (idempotent: same bytes, same document); 3. send, outside any transaction; 4. record the
    outcome. A permanent refusal is recorded on the reply; a transient one keeps the claim for
    `retry_in` (the task's backoff) and RETRY_MARGIN, and raises TransientEmailError for the task
    to retry.
    """
    from ged.services import document_store

    claimer = claimer or uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        Reply.objects.filter(pk=reply_id, via=Reply.Via.EMAIL, email_sent_at=None, email_error="")
        .filter(
            Q(email_claimed_until=None)
            | Q(email_claimed_until__lt=now)
            | Q(email_claimed_by=claimer)
        )
        .update(email_claimed_until=now + CLAIM_DURATION, email_claimed_by=claimer)
    )
    if not claimed:
        return False
    reply = Reply.objects.select_related("item__dossier", "created_by").get(pk=reply_id)
    message = build_reply_message(reply)
    if reply.document_id is None:
        copy = ContentFile(
            message.message().as_bytes(), name=f"reponse-{reply.dossier_reference}.eml"
        )
        reply.document = document_store(file=copy, owner=reply, added_by=reply.created_by)
        Reply.objects.filter(pk=reply.pk).update(document=reply.document)
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        if not is_permanent(error):
            _hold_for_retry(reply, claimer=claimer, retry_in=retry_in)
            raise TransientEmailError(str(error)) from error
        _record_failure(reply, refusals_text(error))
        return False
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            _record_failure(
                reply,
                refusal_text(
                    address=reply.recipient_email, code=error.smtp_code, message=error.smtp_error
                ),
            )
            return False
        _hold_for_retry(reply, claimer=claimer, retry_in=retry_in)
        raise TransientEmailError(str(error)) from error
    except (smtplib.SMTPException, OSError) as error:
        _hold_for_retry(reply, claimer=claimer, retry_in=retry_in)
        raise TransientEmailError(str(error)) from error
    Reply.objects.filter(pk=reply.pk).update(email_sent_at=timezone.now(), email_claimed_until=None)
    return True


def _hold_for_retry(reply: Reply, *, claimer: str, retry_in: timedelta) -> None:
    """Keep the claim through the task's backoff: the retry (same claimer) takes it back at once.

    Released, the reply would look lost to `sweep_unsent_replies` during the backoff, which
    would enqueue one more task every five minutes of an outage, each retrying without limit.
    If the retry is lost with its worker, the claim expires and that sweep takes over.
    """
    Reply.objects.filter(pk=reply.pk, email_sent_at=None, email_claimed_by=claimer).update(
        email_claimed_until=timezone.now() + retry_in + RETRY_MARGIN
    )


def _record_failure(reply: Reply, error: str) -> None:
    logger.warning("Reply %s: email refused permanently: %s", reply.pk, error)
    Reply.objects.filter(pk=reply.pk).update(email_error=error, email_claimed_until=None)


def unsent_reply_ids(*, older_than: timedelta) -> list[int]:
    """Email replies still unsent and unclaimed: their task was lost or their worker died."""
    now = timezone.now()
    return list(
        Reply.objects.filter(
            via=Reply.Via.EMAIL, email_sent_at=None, email_error="", created_at__lt=now - older_than
        )
        .filter(Q(email_claimed_until=None) | Q(email_claimed_until__lt=now))
        .values_list("pk", flat=True)[:500]
    )
