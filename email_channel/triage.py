"""What a person does with a message the mailbox delivered: register it as an item (triage, or a
reply split off its thread), put it in an existing item's thread, set it aside, mark it read.

Each action claims the message's row (a row lock, or a conditional UPDATE): two people acting at
once do it once.
"""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Client, Dossier, Intervenant
from correspondence.models import Channel, IncomingItem
from correspondence.services import item_register
from email_channel.models import InboundMessage, State
from email_channel.services import item_subject
from ged.services import document_store


def _register(message, eml, *, sender, dossier, subject, points, by, assigned_to, force_reason=""):
    """Register a sorted message as an email item: R1 and R8 are the correspondence service's.

    The attachments filed under the message are copied to the item.
    """
    item = item_register(
        channel=Channel.EMAIL,
        received_at=message.received_at,  # R8: 48 hours from reception, not from sorting
        sender=sender,
        dossier=dossier,
        subject=item_subject(subject),
        points=points,
        assigned_to=assigned_to,
        by=by,
        force_reason=force_reason,
        originals=[eml],
    )
    # Attachments straight to the GED (not as "originals": only the .eml is the original, and
    # its Message-ID is the one our reply must refer to).
    for filename, data in _stored_attachments(message):
        document_store(file=ContentFile(data, name=filename), owner=item, added_by=by)
    return item


def _set(message: InboundMessage, **fields) -> None:
    for name, value in fields.items():
        setattr(message, name, value)
    # Field checks here; the constraints (states and their reasons) are the database's.
    # (the foreign keys come from rows just read: no query to check them again).
    message.full_clean(
        exclude=["raw", "mailbox", "item", "thread_item", "duplicate_of", "resolved_by"],
        validate_unique=False,
        validate_constraints=False,
    )
    message.save(update_fields=list(fields))


def _stored_documents(message: InboundMessage):
    """The .eml and the accepted attachments filed under the message, oldest first."""
    from ged.selectors import documents_for

    documents = sorted(documents_for(message), key=lambda d: (d.added_at, d.pk))
    # The .eml is filed first (see _file_on_message); a forwarded message comes later.
    eml = next((d for d in documents if d.content_type == "message/rfc822"), None)
    if eml is None:
        raise ValidationError(_("The original email is missing from the GED."))
    return eml, [d for d in documents if d.pk != eml.pk]


def _read(document) -> bytes:
    with document.file.open("rb") as stored:
        return stored.read()


def _stored_eml(message: InboundMessage) -> ContentFile:
    eml, _attachments = _stored_documents(message)
    return ContentFile(_read(eml), name=eml.original_filename)


def _stored_attachments(message: InboundMessage) -> list[tuple[str, bytes]]:
    _eml, attachments = _stored_documents(message)
    return [(document.original_filename, _read(document)) for document in attachments]


@transaction.atomic
def message_register(
    *,
    message: InboundMessage,
    dossier: Dossier,
    sender: Intervenant | Client,
    subject: str,
    points: list[str],
    by,
    force_reason: str = "",
) -> IncomingItem:
    """Register a sorted message (triage) or split a threaded reply into a new item.

    The item is received when the email was (R8: the deadline runs from reception); R1 is
    checked by the correspondence service, which only lets the direction force it.
    """
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.state not in (State.TRIAGE, State.THREADED):
        raise ValidationError(_("This email has already been dealt with."))
    item = _register(
        message,
        _stored_eml(message),
        sender=sender,
        dossier=dossier,
        subject=subject,
        points=points,
        by=by,
        assigned_to=dossier.gestionnaire,
        force_reason=force_reason,
    )
    now = timezone.now()
    _set(
        message,
        state=State.REGISTERED,
        item=item,
        resolved_at=now,
        resolved_by=by,
        acknowledged_at=message.acknowledged_at or now,
    )
    return item


@transaction.atomic
def message_attach(*, message: InboundMessage, item: IncomingItem, by) -> InboundMessage:
    """Put a sorted message in the thread of an existing item: a follow-up, not a new request.

    What the automatic threading does when the references or the subject allow it: the .eml is
    filed among the item's documents too, and no deadline of its own starts.
    """
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.state != State.TRIAGE:
        raise ValidationError(_("This email has already been dealt with."))
    document_store(file=_stored_eml(message), owner=item, added_by=by)
    now = timezone.now()
    _set(
        message,
        state=State.THREADED,
        thread_item=item,
        resolved_at=now,
        resolved_by=by,
        acknowledged_at=now,  # read by the one who attached it
    )
    return message


@transaction.atomic
def message_dismiss(*, message: InboundMessage, reason: str, by) -> InboundMessage:
    """Set aside a message that asks for nothing (advertising, spam), saying why."""
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.state not in (State.TRIAGE, State.QUARANTINED):
        raise ValidationError(_("Only an email to be sorted or in quarantine can be dismissed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why this email is dismissed.")})
    _set(
        message,
        state=State.DISMISSED,
        dismiss_reason=reason.strip(),
        resolved_at=timezone.now(),
        resolved_by=by,
    )
    return message


def message_acknowledge(*, message: InboundMessage, by) -> bool:
    """Mark a reply threaded on an item, or an automatic message, as read (a claim: True for
    the first reader only)."""
    return bool(
        InboundMessage.objects.filter(pk=message.pk, acknowledged_at=None).update(
            acknowledged_at=timezone.now(), resolved_by=by
        )
    )
