"""The email channel's reading: take messages from the mailboxes, register or route them, archive.

What a person then does with a message (sort it, split it, set it aside) is in `triage`.

The guarantees (README, "Email channel"):
- no loss: a message leaves the folder read (moved to the archive folder, R7) only after the
  database has committed what became of it and its files are in the GED;
- no duplicate: the row of a message is unique per mailbox UIDVALIDITY + UID and per Message-ID,
  so a reader that died between the commit and the move, or two readers at once, register it once;
- one bad message never stops the others: it is quarantined with its reason and raw bytes.
"""

import contextlib
import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from contacts.models import Intervenant
from correspondence.models import Channel, IncomingItem
from correspondence.services import (
    ItemDraft,
    item_prepare,
    item_prepare_original,
    items_create,
)
from email_channel import imap, routing
from email_channel.config import MailboxSettings
from email_channel.models import InboundMessage, Mailbox, RefusedAttachment, SentCopy, State
from email_channel.parsing import MalformedEmail, ParsedEmail, parse_email, pg_text
from ged.services import (
    PendingDocument,
    StorageUnavailable,
    document_prepare,
    documents_store,
)

logger = logging.getLogger(__name__)

# A point of an item is the email's text; beyond this it is cut (the whole email is in the GED).
MAX_POINT_CHARS = 20_000
# Errors that are the world's fault, not the message's: stop the run, keep the message, retry.
# Only outages: the server, the storage, the database unreachable or giving up (a lost
# connection, a deadlock, a timeout are OperationalErrors).
TRANSIENT_ERRORS = (imap.ImapUnavailable, StorageUnavailable, OperationalError, InterfaceError)
# The database refusing one message's rows (a value a column cannot hold, a constraint) is a
# bug of that message's data: it fails alone, recorded on its row like any other bug; taken for
# an outage, it would stop every run at the same message.
MESSAGE_DATA_ERRORS = (DataError, IntegrityError)


def mailbox_robot():
    """The account that registers what the mailbox delivers (never logs in: inactive).

    Read once per reading of a mailbox and passed down (see `mailbox_poll`).
    """
    User = get_user_model()
    user, _created = User.objects.get_or_create(
        username=settings.MAILBOX_ROBOT_USERNAME,
        defaults={"first_name": _("Mailbox"), "is_active": False},
    )
    return user


# --- Taking messages, a batch at a time ------------------------------------------------------


@dataclass
class Incoming:
    """A message as fetched from the server, before it is taken."""

    uid: int
    raw: bytes  # only the header block when `too_large`
    internaldate: datetime | None
    size: int | None = None
    too_large: bool = False
    parsed: ParsedEmail | None = field(default=None, repr=False)
    received_at: datetime | None = None
    message: InboundMessage | None = None


@dataclass
class _Plan:
    """What becomes of one message of a batch, built before anything is written."""

    message: InboundMessage
    state: str
    automatic_kind: str = ""
    draft: ItemDraft | None = None
    thread_item: IncomingItem | None = None
    triage_reason: str = ""
    documents: list[PendingDocument] = field(default_factory=list)
    refused: list[RefusedAttachment] = field(default_factory=list)


def message_take(
    *,
    mailbox: Mailbox,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    internaldate: datetime | None,
    size: int | None = None,
    too_large: bool = False,
    robot=None,
) -> InboundMessage:
    """Record, file and route one message of `mailbox`: a batch of one (see `messages_take`)."""
    incoming = Incoming(uid=uid, raw=raw, internaldate=internaldate, size=size, too_large=too_large)
    taken, failed = messages_take(
        mailbox=mailbox, uidvalidity=uidvalidity, incoming=[incoming], robot=robot
    )
    if failed:
        raise failed[0][1]
    # Not taken: another reader holds its row right now; the row as it stands.
    return taken.get(uid) or _existing(mailbox, uidvalidity, uid)


def messages_take(
    *, mailbox: Mailbox, uidvalidity: int, incoming: list[Incoming], robot=None
) -> tuple[dict[int, InboundMessage], list[tuple[Incoming, Exception]]]:
    """Record, file and route a batch of messages of `mailbox`; idempotent per UIDVALIDITY + UID.

    1. A row already done for a UID is returned as is (the caller only moves the message).
    2. A malformed or too large message is quarantined alone, with its reason and raw bytes.
    3. The new rows are claimed in one statement and committed (unique UID and Message-ID: the
       same Message-ID seen before makes a duplicate row that points to the first one).
    4. In one transaction, with the batch's pending rows locked (rows another reader holds are
       left to it): each message is routed (thread, automatic reply, registration as an item,
       or triage) by the rules of `routing` and `correspondence.services.item_prepare`, and its
       .eml and attachments checked by the GED's `document_prepare`; a message whose original
       the GED refuses is quarantined (R7), a refused attachment is listed. A bug on one
       message records the failure on its row and the others go on. Then the items, the
       documents and the states are written in bulk. A storage or database outage rolls it all
       back: the messages stay in the folder for the next run.
    5. When the database refuses the batch's data (a constraint, a value a column cannot hold),
       the batch is taken again one message at a time; a message refused alone is a failure of
       that message (recorded on its row, quarantined after a few runs), and the others go on.
       A claim refused that way quarantines its message at once.
    Returns the rows by UID (the messages to move are those no longer pending) and the failures.
    """
    robot = robot or mailbox_robot()
    rows = {
        m.uid: m
        for m in InboundMessage.objects.filter(
            mailbox=mailbox, uidvalidity=uidvalidity, uid__in=[i.uid for i in incoming]
        )
    }
    taken: dict[int, InboundMessage] = {}
    to_claim: list[Incoming] = []
    readable: list[Incoming] = []
    for one in incoming:
        row = rows.get(one.uid)
        if row is not None and row.state != State.PENDING:
            taken[one.uid] = row
            continue
        if (quarantined := _parse(mailbox, uidvalidity, one)) is not None:
            taken[one.uid] = quarantined
            continue
        one.message = row
        readable.append(one)
        if row is None:
            to_claim.append(one)
    _claim_all(mailbox, uidvalidity, to_claim)
    pending = []
    for one in readable:
        if one.message.state == State.PENDING:
            pending.append(one)
        else:
            taken[one.uid] = one.message
    failed: list[tuple[Incoming, Exception]] = []
    before = dict(taken)
    try:
        _take_pending(pending, robot, taken, failed)
    except TRANSIENT_ERRORS:
        raise
    except MESSAGE_DATA_ERRORS as error:
        # The database refused the batch's data (all rolled back): one message at a time, so
        # that only the message at fault is held back.
        taken, failed = before, []
        if len(pending) == 1:
            _record_failure(pending[0], error, taken, failed)
            return taken, failed
        logger.warning("Mailbox %s: the database refused a batch; one by one: %r", mailbox, error)
        for one in pending:
            one.message = InboundMessage.objects.get(pk=one.message.pk)
            try:
                _take_pending([one], robot, taken, failed)
            except TRANSIENT_ERRORS:
                raise
            except MESSAGE_DATA_ERRORS as error:
                # This message's own writes are refused: a bug of its data, not an outage.
                # Recorded like any other (quarantined after a few runs); the others go on.
                _record_failure(one, error, taken, failed)
    return taken, failed


def _record_failure(one: Incoming, error: Exception, taken: dict, failed: list) -> None:
    """One message's failure (a bug, not an outage): recorded on its row, quarantined after
    MAILBOX_MAX_ATTEMPTS (then moved like any message taken)."""
    logger.error("Mailbox: UID %s failed", one.uid, exc_info=error)
    failed.append((one, error))
    row = message_record_failure(message_id=one.message.pk, error=error, raw=one.raw)
    if row.state != State.PENDING:
        taken[one.uid] = row


def _parse(mailbox, uidvalidity, one: Incoming) -> InboundMessage | None:
    """Parse `one` in place; the quarantined row instead when it is too large or malformed."""
    raw = one.raw
    one.size = one.size if one.size is not None else len(raw)
    received_at = _received_at(one.internaldate, None)
    if one.too_large:
        reason = _("The message is too large (%(size)s bytes; the limit is %(limit)s).") % {
            "size": one.size,
            "limit": settings.MAILBOX_MAX_MESSAGE_SIZE,
        }
        return _quarantine_new(mailbox, uidvalidity, one.uid, raw, received_at, one.size, reason)
    try:
        one.parsed = parse_email(raw)
    except MalformedEmail as error:
        reason = error.reason
    except Exception as error:  # the standard library's parser has bugs on garbage too
        logger.warning("UID %s of %s: unreadable message: %r", one.uid, mailbox, error)
        reason = _("The message cannot be read: %(error)s") % {"error": repr(error)[:300]}
    else:
        one.received_at = _received_at(one.internaldate, one.parsed.date)
        return None
    return _quarantine_new(mailbox, uidvalidity, one.uid, raw, received_at, one.size, reason)


def _claim_all(mailbox, uidvalidity, incoming: list[Incoming]) -> None:
    """Claim the rows of new messages in one INSERT (committed), setting `message` on each.

    ON CONFLICT DO NOTHING: a UID another reader has just claimed is its row, read back; a
    Message-ID already taken (another mailbox, a new UIDVALIDITY) is claimed alone, as a
    duplicate of the first (`_insert`).
    """
    if not incoming:
        return
    try:
        # A savepoint, so that the fallback below also works inside a caller's transaction.
        with transaction.atomic():
            InboundMessage.objects.bulk_create(
                [
                    InboundMessage(
                        **_claim_fields(mailbox, uidvalidity, one),
                        dedupe_key=one.parsed.message_id or _raw_key(one.raw),
                        state=State.PENDING,
                    )
                    for one in incoming
                ],
                ignore_conflicts=True,
            )
    except MESSAGE_DATA_ERRORS as error:
        # A row the database refuses (parsing makes every text storable: a bug if it happens).
        logger.error("Mailbox %s: the claim of a batch was refused: %r", mailbox, error)
        for one in incoming:
            one.message = _claim_or_quarantine(mailbox, uidvalidity, one)
        return
    claimed = {
        m.uid: m
        for m in InboundMessage.objects.filter(
            mailbox=mailbox, uidvalidity=uidvalidity, uid__in=[one.uid for one in incoming]
        )
    }
    for one in incoming:
        one.message = claimed.get(one.uid) or _claim(mailbox, uidvalidity, one)


def _claim_or_quarantine(mailbox, uidvalidity, one: Incoming) -> InboundMessage:
    """Claim one message alone; a message whose row the database refuses is quarantined at
    once, with its raw bytes (no pending row to count attempts on, and its data would be
    refused the same way at every run)."""
    try:
        return _claim(mailbox, uidvalidity, one)
    except MESSAGE_DATA_ERRORS as error:
        logger.error("Mailbox %s: UID %s cannot be recorded: %r", mailbox, one.uid, error)
        reason = _("The message cannot be recorded: %(error)s") % {"error": repr(error)[:300]}
        received_at = one.received_at or _received_at(one.internaldate, None)
        return _quarantine_new(
            mailbox, uidvalidity, one.uid, one.raw, received_at, one.size, reason
        )


def _take_pending(pending: list[Incoming], robot, taken: dict, failed: list) -> None:
    """Step 4 of `messages_take`: route, file and register the pending messages in one
    transaction; the taken rows go to `taken`, the failures (message, error) to `failed`."""
    if not pending:
        return
    with transaction.atomic():
        locked = set(
            InboundMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[one.message.pk for one in pending], state=State.PENDING)
            .values_list("pk", flat=True)
        )
        pending = [one for one in pending if one.message.pk in locked]
        directory = routing.Directory([one.parsed for one in pending])
        plans = []
        for one in pending:
            try:
                plan = _plan(one, robot, directory)
            except (*TRANSIENT_ERRORS, DatabaseError):
                # An error of the database aborts the batch's transaction: no failure can be
                # recorded in it. Rolled back; `messages_take` takes the batch one by one.
                raise
            except Exception as error:
                _record_failure(one, error, taken, failed)
                continue
            if plan is None:  # quarantined: its original cannot be filed
                one.message.refresh_from_db()
            else:
                plans.append(plan)
            taken[one.uid] = one.message
        _write(plans)


def _plan(one: Incoming, robot, directory: routing.Directory) -> _Plan | None:
    """Decide what the message is and build what it writes (nothing is written here)."""
    message, parsed, raw = one.message, one.parsed, one.raw
    if refusal := _eml_refusal(raw):
        # R7: an email whose original cannot be filed cannot be processed.
        reason = _("The original cannot be filed in the GED: %(reason)s") % {"reason": refusal}
        _quarantine_row(message, raw, reason)
        return None
    eml = ContentFile(raw, name=_eml_name(parsed))
    thread = routing.thread_item(parsed, directory=directory)
    if kind := routing.automatic_kind(parsed, directory=directory):
        # No answer expected, no deadline; linked to the item it concerns when we know it.
        plan = _Plan(
            message=message, state=State.AUTOMATIC, automatic_kind=kind, thread_item=thread
        )
        _file(plan, eml, parsed, owner=message, robot=robot)
        if thread is not None:
            directory.note_thread(message.dedupe_key, thread)
        return plan
    if thread is not None:
        # A reply in one of our threads: shown on the item (its .eml among the item's
        # documents), not a new request; the gestionnaire may split it off if it asks for more.
        plan = _Plan(message=message, state=State.THREADED, thread_item=thread)
        _file(plan, eml, parsed, owner=message, robot=robot)
        _file(plan, eml, None, owner=thread, robot=robot)
        directory.note_thread(message.dedupe_key, thread)
        return plan
    place = routing.destination(parsed, at=message.received_at, directory=directory)
    if place.dossier is not None:
        try:
            draft = item_prepare(
                channel=Channel.EMAIL,
                received_at=message.received_at,  # R8: 48 hours from reception, not sorting
                sender=place.sender,
                dossier=place.dossier,
                subject=item_subject(parsed.subject),
                points=[point_text(parsed.body, parsed.subject)],
                assigned_to=place.dossier.gestionnaire,
                by=robot,
                mandates=(
                    directory.mandates(place.sender)
                    if isinstance(place.sender, Intervenant)
                    else None
                ),
            )
        except (ValidationError, PermissionDenied) as error:
            # R1 (no valid mandate) and the like: a person decides; the deadline runs all the
            # same (shown on the triage list).
            place = routing.Destination(reason=" ".join(getattr(error, "messages", [str(error)])))
        else:
            plan = _Plan(message=message, state=State.REGISTERED, draft=draft)
            # R7: the .eml is the item's original; the attachments go straight to the GED.
            (original,) = _file(plan, eml, None, owner=draft.item, robot=robot)
            item_prepare_original(draft, file=eml, document=original.document)
            _file(plan, None, parsed, owner=draft.item, robot=robot)
            directory.note_item(
                draft.item, message_id=draft.item.message_id, address=parsed.from_address
            )
            directory.note_thread(message.dedupe_key, draft.item)
            return plan
    plan = _Plan(message=message, state=State.TRIAGE, triage_reason=place.reason)
    _file(plan, eml, parsed, owner=message, robot=robot)
    return plan


def _file(plan: _Plan, eml, parsed: ParsedEmail | None, *, owner, robot) -> list:
    """Check the .eml (when given) and the attachments of `parsed` (when given) for `owner`.

    The accepted ones are added to the plan's documents (and returned); an attachment the GED
    refuses is listed with its reason (never silently dropped). The .eml was checked by
    `_eml_refusal` already: a refusal here is a bug, and fails the message.
    """
    owner_type = ContentType.objects.get_for_model(owner)
    added = []
    if eml is not None:
        document = document_prepare(file=eml, owner_type=owner_type, added_by=robot)
        added.append(PendingDocument(document=document, file=eml, owner=owner))
    for position, attachment in enumerate(parsed.attachments if parsed else (), 1):
        reason = attachment.refused_reason
        if not reason:
            upload = ContentFile(attachment.data, name=attachment.filename)
            try:
                document = document_prepare(file=upload, owner_type=owner_type, added_by=robot)
            except ValidationError as error:
                reason = " ".join(error.messages)
            else:
                added.append(PendingDocument(document=document, file=upload, owner=owner))
                continue
        plan.refused.append(
            RefusedAttachment(
                message=plan.message,
                position=position,
                filename=attachment.filename[:255],
                content_type=attachment.content_type[:255],
                size=len(attachment.data),
                reason=reason,
            )
        )
    plan.documents += added
    return added


def _write(plans: list[_Plan]) -> None:
    """Write a batch's plans inside the caller's transaction, a few queries in all."""
    if not plans:
        return
    items_create([plan.draft for plan in plans if plan.draft is not None])
    documents_store([document for plan in plans for document in plan.documents])
    RefusedAttachment.objects.bulk_create(
        [refused for plan in plans for refused in plan.refused], ignore_conflicts=True
    )
    for plan in plans:
        message = plan.message
        message.state = plan.state
        message.automatic_kind = plan.automatic_kind
        message.item = plan.draft.item if plan.draft is not None else None
        message.thread_item = plan.thread_item
        message.triage_reason = plan.triage_reason
    # The states and their reasons or items are the database's constraints (checked here by
    # the UPDATE); the values come from the plans above, not from a form: no full_clean().
    _save_outcomes([plan.message for plan in plans])


_OUTCOME_FIELDS = ["state", "automatic_kind", "item", "thread_item", "triage_reason"]


def _save_outcomes(messages: list[InboundMessage]) -> None:
    """Save what became of each message of a batch, in one UPDATE.

    On PostgreSQL, an UPDATE … FROM unnest(arrays): `bulk_update` builds a CASE WHEN per row
    and field, which cost a fifth of a batch's time in the benchmark. Elsewhere (SQLite of
    `make run`), `bulk_update`.
    """
    if connection.vendor != "postgresql":
        InboundMessage.objects.bulk_update(messages, _OUTCOME_FIELDS)
        return
    with connection.cursor() as cursor:
        # The only name put into the SQL is the model's own table: no input reaches it.
        cursor.execute(
            f"UPDATE {InboundMessage._meta.db_table} AS m SET state = v.state, "  # noqa: S608
            "automatic_kind = v.automatic_kind, "
            "item_id = v.item_id, thread_item_id = v.thread_item_id, "
            "triage_reason = v.triage_reason "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::bigint[], "
            "%s::text[]) "
            "AS v(id, state, automatic_kind, item_id, thread_item_id, triage_reason) "
            "WHERE m.id = v.id",
            [
                [m.pk for m in messages],
                [m.state for m in messages],
                [m.automatic_kind for m in messages],
                [m.item.pk if m.item else None for m in messages],
                [m.thread_item.pk if m.thread_item else None for m in messages],
                [m.triage_reason for m in messages],
            ],
        )


def _eml_refusal(raw: bytes) -> str:
    """Why the GED would refuse this .eml, by its own rules (size, sniffed type), or ""."""
    from ged import sniffing

    if len(raw) > settings.GED_MAX_UPLOAD_SIZE:
        return _("The message is too large (%(size)s bytes; the limit is %(limit)s).") % {
            "size": len(raw),
            "limit": settings.GED_MAX_UPLOAD_SIZE,
        }
    if sniffing.sniff(raw[: sniffing.HEAD_SIZE]) != sniffing.EMAIL or (
        sniffing.EMAIL not in settings.GED_ALLOWED_CONTENT_TYPES
    ):
        return _("Its header block is not recognised as an email.")
    return ""


def _existing(mailbox, uidvalidity, uid) -> InboundMessage | None:
    return InboundMessage.objects.filter(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid).first()


def _received_at(internaldate: datetime | None, date_header: datetime | None) -> datetime:
    """The server's INTERNALDATE, else the Date header; never in the future (clock skew)."""
    now = timezone.now()
    return min(internaldate or date_header or now, now)


def _raw_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _claim_fields(mailbox, uidvalidity, one: Incoming) -> dict:
    parsed = one.parsed
    return {
        "mailbox": mailbox,
        "uidvalidity": uidvalidity,
        "uid": one.uid,
        "message_id": parsed.message_id,
        "received_at": one.received_at,
        "size": one.size,
        "from_address": parsed.from_address,
        "from_name": parsed.from_name,
        "subject": parsed.subject[:998],
        "body": parsed.body,
        "automatic_kind": parsed.automatic_kind,
    }


def _claim(mailbox, uidvalidity, one: Incoming) -> InboundMessage:
    return _insert(
        _claim_fields(mailbox, uidvalidity, one),
        dedupe_key=one.parsed.message_id or _raw_key(one.raw),
        state=State.PENDING,
    )


def _insert(fields: dict, *, dedupe_key: str, state: str, **extra) -> InboundMessage:
    """Insert the row of a message; the unique constraints decide between two readers."""
    try:
        with transaction.atomic():
            return InboundMessage.objects.create(
                **fields, dedupe_key=dedupe_key, state=state, **extra
            )
    except IntegrityError:
        existing = _existing(fields["mailbox"], fields["uidvalidity"], fields["uid"])
        if existing is not None:
            return existing  # another reader took this very UID first
        original = (
            InboundMessage.objects.filter(dedupe_key=dedupe_key)
            .exclude(state=State.DUPLICATE)
            .first()
        )
        if original is None:
            raise
        # The same message again (another mailbox, a new UIDVALIDITY, a re-sent copy).
        extra.pop("raw", None)
        with transaction.atomic():
            return InboundMessage.objects.create(
                **{**fields, **extra},
                dedupe_key=dedupe_key,
                state=State.DUPLICATE,
                duplicate_of=original,
            )


def _quarantine_new(mailbox, uidvalidity, uid, raw, received_at, size, reason) -> InboundMessage:
    fields = {
        "mailbox": mailbox,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "received_at": received_at,
        "size": size,
        "subject": _best_effort_subject(raw),
    }
    return _insert(
        fields,
        dedupe_key=_raw_key(raw),
        state=State.QUARANTINED,
        quarantine_reason=reason,
        raw=raw,
    )


def _best_effort_subject(raw: bytes) -> str:
    """The subject as far as it can be read, for the quarantine list (never trusted)."""
    from email.header import decode_header, make_header

    for line in raw[:16384].splitlines():
        if not line.strip():
            break
        if line[:8].lower() == b"subject:":
            value = line[8:].decode("utf-8", errors="replace").strip()
            # An unreadable encoded word stays as it came.
            with contextlib.suppress(Exception):
                value = str(make_header(decode_header(value)))
            return pg_text(value)[:998]
    return ""


def _quarantine_row(message: InboundMessage, raw: bytes, reason: str) -> InboundMessage:
    InboundMessage.objects.filter(pk=message.pk, state=State.PENDING).update(
        state=State.QUARANTINED, quarantine_reason=reason, raw=raw
    )
    message.refresh_from_db()
    return message


def _eml_name(parsed: ParsedEmail) -> str:
    stem = slugify(parsed.subject)[:80] or "message"
    return f"{stem}.eml"


def point_text(body: str, subject: str) -> str:
    text = body.strip() or subject.strip() or _("(email without text)")
    return text if len(text) <= MAX_POINT_CHARS else text[:MAX_POINT_CHARS] + " […]"


def item_subject(subject: str) -> str:
    return (subject.strip() or _("(no subject)"))[:200]


def message_record_failure(*, message_id: int, error: Exception, raw: bytes) -> InboundMessage:
    """A bug (not an outage) while routing: retry at the next run, quarantine after a few."""
    message = InboundMessage.objects.get(pk=message_id)
    attempts = message.attempts + 1
    text = repr(error)[:1000]
    if attempts >= settings.MAILBOX_MAX_ATTEMPTS:
        reason = _("Processing failed %(count)s times: %(error)s") % {
            "count": attempts,
            "error": text,
        }
        InboundMessage.objects.filter(pk=message.pk, state=State.PENDING).update(
            attempts=attempts,
            last_error=text,
            state=State.QUARANTINED,
            quarantine_reason=reason,
            raw=raw,
        )
    else:
        InboundMessage.objects.filter(pk=message.pk).update(attempts=attempts, last_error=text)
    message.refresh_from_db()
    return message


# --- Reading a mailbox ----------------------------------------------------------------------


@dataclass
class PollResult:
    mailbox: str
    claimed: bool = True
    taken: int = 0
    archived: int = 0
    failed: int = 0
    sent_copies: int = 0
    error: str = ""
    states: dict = field(default_factory=dict)


def mailbox_sync(config: MailboxSettings) -> Mailbox:
    mailbox, _created = Mailbox.objects.update_or_create(
        name=config.name,
        defaults={
            "address": f"{config.user} · {config.host}:{config.port}",
            "folder": config.folder,
            "archive_folder": config.archive_folder,
        },
    )
    return mailbox


def _claim_mailbox(mailbox: Mailbox) -> bool:
    """One reader per mailbox at a time: a conditional UPDATE, 1 row or 0."""
    now = timezone.now()
    lease = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    return bool(
        Mailbox.objects.filter(pk=mailbox.pk)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(claimed_until=now + lease, last_run_at=now)
    )


def mailbox_poll(*, config: MailboxSettings, deadline: float | None = None) -> PollResult:
    """Read `config`'s folder: take every new message, then move it to the archive folder.

    Stops (and retries at the next beat) when the server, the storage or the database fails;
    the messages not yet committed simply stay in the folder.
    """
    mailbox = mailbox_sync(config)
    result = PollResult(mailbox=mailbox.name)
    if not _claim_mailbox(mailbox):
        result.claimed = False
        return result
    deadline = deadline or time.monotonic() + settings.MAILBOX_RUN_SECONDS
    try:
        with imap.session(config) as session:
            _poll(session, mailbox, config, result, deadline)
            if config.sent_folder:
                result.sent_copies = _append_sent_copies(session, mailbox, config, deadline)
    except TRANSIENT_ERRORS as error:
        result.error = str(error)[:1000] or repr(error)
        logger.warning("Mailbox %s: %s", mailbox, result.error)
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=result.error, claimed_until=None)
        return result
    except Exception as error:
        # A bug outside any one message (a message's own is recorded on its row): the task
        # fails loudly, and the direction sees it on the mailbox like an outage.
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_error=repr(error)[:1000], claimed_until=None
        )
        raise
    except BaseException:
        Mailbox.objects.filter(pk=mailbox.pk).update(claimed_until=None)
        raise
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_error="", last_success_at=timezone.now(), claimed_until=None
    )
    return result


def _poll(session, mailbox: Mailbox, config: MailboxSettings, result: PollResult, deadline):
    session.ensure_folder(config.archive_folder)
    uidvalidity = session.select(config.folder)
    if mailbox.uidvalidity != uidvalidity:
        if mailbox.uidvalidity is not None:
            # Every UID is new: the Message-IDs keep what was already taken from registering again.
            logger.warning("Mailbox %s: UIDVALIDITY changed to %s", mailbox, uidvalidity)
        Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity)
    envelopes = session.envelopes(limit=settings.MAILBOX_BATCH_SIZE)
    done = {
        uid
        for uid, state in InboundMessage.objects.filter(
            mailbox=mailbox, uidvalidity=uidvalidity, uid__in=[e.uid for e in envelopes]
        ).values_list("uid", "state")
        if state != State.PENDING
    }
    to_move = [e.uid for e in envelopes if e.uid in done]
    _archive(session, mailbox, uidvalidity, to_move, config, result)
    pending = [e for e in envelopes if e.uid not in done]
    robot = mailbox_robot()
    for chunk in _chunks(pending):
        if time.monotonic() > deadline:
            break  # the next beat goes on from here
        limit = settings.MAILBOX_MAX_MESSAGE_SIZE
        raws = session.fetch([e.uid for e in chunk if e.size <= limit])
        raws.update(session.fetch([e.uid for e in chunk if e.size > limit], headers_only=True))
        incoming = [
            Incoming(
                uid=envelope.uid,
                raw=raws[envelope.uid],
                internaldate=envelope.internaldate,
                size=envelope.size,
                too_large=envelope.size > limit,
            )
            for envelope in chunk
            if envelope.uid in raws  # else expunged meanwhile by someone else
        ]
        taken, failed = messages_take(
            mailbox=mailbox, uidvalidity=uidvalidity, incoming=incoming, robot=robot
        )
        result.failed += len(failed)
        result.taken += len(incoming) - len(failed)
        moved = []
        for uid, message in taken.items():
            if message.state != State.PENDING:
                moved.append(uid)
                result.states[message.state] = result.states.get(message.state, 0) + 1
        # R7: moved to the archive folder only now that the rows above are committed: one
        # MOVE for the batch.
        _archive(session, mailbox, uidvalidity, sorted(moved), config, result)


def _chunks(envelopes: list[imap.Envelope]):
    """The envelopes in batches of MAILBOX_FETCH_CHUNK messages and MAILBOX_FETCH_BYTES bytes
    at most (a batch has at least one message)."""
    chunk, size = [], 0
    for envelope in envelopes:
        if chunk and (
            len(chunk) >= settings.MAILBOX_FETCH_CHUNK
            or size + envelope.size > settings.MAILBOX_FETCH_BYTES
        ):
            yield chunk
            chunk, size = [], 0
        chunk.append(envelope)
        size += min(envelope.size, settings.MAILBOX_MAX_MESSAGE_SIZE)
    if chunk:
        yield chunk


def _archive(session, mailbox, uidvalidity, uids, config, result) -> None:
    """R7: move committed messages to the archive folder, one reader at a time.

    The mailbox row is locked for the length of one MOVE command: two readers that got past the
    claim (a claim expired too early) never copy the same message twice into the archive.
    """
    if not uids:
        return
    with transaction.atomic():
        Mailbox.objects.select_for_update().filter(pk=mailbox.pk).first()
        moved = session.move(uids, config.archive_folder)
        InboundMessage.objects.filter(
            mailbox=mailbox, uidvalidity=uidvalidity, uid__in=uids, archived_at=None
        ).update(archived_at=timezone.now())
    result.archived += len(moved)


def _append_sent_copies(session, mailbox, config: MailboxSettings, deadline) -> int:
    """Append the copy of each email reply we sent about this mailbox's emails to its Sent
    folder, once.

    Idempotent without a transaction around the network: the folder is searched for the reply's
    Message-ID before appending, so a crash between the APPEND and the row leaves one copy.
    """
    from correspondence.models import Reply

    # Each mailbox keeps the replies to the emails it received; the replies to items registered
    # by hand belong to the first mailbox configured, as their Reply-To does
    # (`correspondence.mail._mailbox_address`).
    ours = Q(item__inbound_message__mailbox=mailbox)
    if settings.MAILBOXES[0].name == config.name:
        ours |= Q(item__inbound_message=None)
    replies = (
        Reply.objects.filter(ours, via=Reply.Via.EMAIL, email_sent_at__isnull=False)
        .exclude(document=None)
        .exclude(pk__in=SentCopy.objects.values("reply"))
        .select_related("document")
        .order_by("email_sent_at")[:100]
    )
    count = 0
    for reply in replies:
        if time.monotonic() > deadline:
            break
        if not session.contains_message_id(config.sent_folder, reply.message_id):
            with reply.document.file.open("rb") as stored:
                raw = stored.read()
            session.append(raw, config.sent_folder, at=reply.email_sent_at)
        SentCopy.objects.get_or_create(reply=reply, defaults={"mailbox": mailbox})
        count += 1
    return count


def mailboxes_poll() -> list[PollResult]:
    return [mailbox_poll(config=config) for config in settings.MAILBOXES]


# --- What a person decides ------------------------------------------------------------------
