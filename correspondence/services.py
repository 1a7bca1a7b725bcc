"""Writes of the correspondence app: register, file, answer, confirm, close.

Every rule of the procedure that concerns correspondence is checked here, whatever the caller
(form, IMAP ingestion, admin), and most are also database constraints (see models.py).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.parser import BytesHeaderParser

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import Role, has_role
from contacts.models import Client, Dossier, Intervenant
from contacts.selectors import mandate_check
from correspondence import alerts
from correspondence.models import (
    Activity,
    AlertClock,
    Channel,
    Event,
    IncomingItem,
    Kind,
    Reply,
    ReplyAnswer,
    RequestPoint,
    Status,
)
from ged.models import Document
from ged.services import document_store

# La Poste's tracking numbers for registered letters: two letters, nine digits, two letters
# (e.g. "RR123456789FR"), or the 13-character numeric-prefixed form ("1A12345678901").
TRACKING_NUMBER = re.compile(r"^(?:[A-Z]{2}\d{9}[A-Z]{2}|\d[A-Z]\d{11})$")


def _activity(item: IncomingItem, action: str, actor, detail: str = "") -> Activity:
    return Activity(
        item=item, dossier_id=item.dossier_id, action=action, actor=actor, detail=detail
    )


def _log(item: IncomingItem, action: str, actor, detail: str = "") -> None:
    _activity(item, action, actor, detail).save()


def _check_tracking_number(registered: bool, tracking_number: str, *, field: str) -> str:
    tracking_number = tracking_number.strip().upper().replace(" ", "")
    if registered and not TRACKING_NUMBER.match(tracking_number):
        raise ValidationError(
            {field: _("Enter the registered letter's tracking number (e.g. RR123456789FR).")}
        )
    if not registered and tracking_number:
        raise ValidationError({field: _("Only a registered letter has a tracking number.")})
    return tracking_number


def _check_sender_entitled(
    *,
    sender: Intervenant | Client,
    dossier: Dossier,
    at: datetime,
    by,
    force_reason: str,
    mandates: list | None = None,
):
    """R1: the interlocutor must be mandated by, or for, the dossier's client.

    Returns (mandate, forced). A member of the direction may force the registration with a
    written justification, which is recorded.
    """
    if isinstance(sender, Client):
        if sender.pk == dossier.client_id:
            return None, False
        reason = _("This client is not the client of dossier %(dossier)s.") % {
            "dossier": dossier.reference
        }
    else:
        check = mandate_check(intervenant=sender, client=dossier.client, at=at, mandates=mandates)
        if check.ok:
            return check.mandate, False
        reason = check.reason
    if not force_reason.strip():
        raise ValidationError({"sender": reason})
    if not has_role(by, Role.DIRECTION):
        raise PermissionDenied(
            _("Only the direction may register an item from a sender without a valid mandate.")
        )
    return None, True


# R10: "il convient alors de consulter le dossier au préalable". The proof that a page showed a
# dossier to a user is signed by the server (the browser can only hand it back), and it lasts
# the time of a visit at the desk.
DOSSIER_REVIEW_SALT = "correspondence.dossier-review"
DOSSIER_REVIEW_MAX_AGE = timedelta(hours=2)


def dossier_review_token(*, dossier: Dossier, user: AbstractBaseUser) -> str:
    """The signed proof that a page has just shown `dossier`'s summary and history to `user`."""
    return signing.dumps({"dossier": dossier.pk, "user": user.pk}, salt=DOSSIER_REVIEW_SALT)


def dossier_review_check(*, token: str, dossier: Dossier, user: AbstractBaseUser) -> None:
    """R10: refuse an appointment unless `token` proves `dossier` was shown to `user` lately."""
    try:
        shown = signing.loads(token or "", salt=DOSSIER_REVIEW_SALT, max_age=DOSSIER_REVIEW_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(
            _(
                "The dossier was shown more than two hours ago: read its summary and history "
                "again before the appointment (shown above)."
            ),
            code="dossier_review_expired",
        ) from None
    except signing.BadSignature:
        shown = None
    if shown is None:
        raise ValidationError(
            _("Read the dossier's summary and history before the appointment (shown above)."),
            code="dossier_review_missing",
        )
    if shown != {"dossier": dossier.pk, "user": user.pk}:
        raise ValidationError(
            _(
                "The page showed another dossier, or showed it to someone else: read the "
                "summary and history of dossier %(reference)s before the appointment (shown "
                "above)."
            )
            % {"reference": dossier.reference},
            code="dossier_review_other",
        )


@dataclass
class ItemDraft:
    """An item checked by `item_prepare`, not saved yet, with what its registration writes."""

    item: IncomingItem
    points: list[str]
    forced: bool
    by: AbstractBaseUser
    # R10: a bailiff's visit registered as something else than an act, declared so by `by`.
    declared_not_bailiff_act: bool = False


def item_prepare(
    *,
    channel: str,
    received_at: datetime,
    sender: Intervenant | Client,
    dossier: Dossier,
    subject: str,
    points: list[str],
    assigned_to: AbstractBaseUser,
    by: AbstractBaseUser,
    kind: str = Kind.REQUEST,
    registered: bool = False,
    tracking_number: str = "",
    priority: int = 2,
    urgency: int = 2,
    force_reason: str = "",
    not_a_bailiff_act: bool = False,
    mandates: list | None = None,
) -> ItemDraft:
    """Check an incoming item by the procedure's rules and build it, unsaved (no write).

    Shared by `item_register` (one item) and the email channel's batches (`items_create`).
    Refused when the sender is not entitled (R1), when a bailiff's act is registered by anyone
    but the legal service (R10), when a registered letter lacks its tracking number (R6). The
    deadline and its alerts are fixed here (R8). `not_a_bailiff_act`: the declaration that a
    bailiff's visit registered as an appointment or a routine request is not the delivery of an
    act (R10), recorded on the timeline. `mandates`: the intervenant's mandates, newest first,
    when the caller has read them already (see `mandate_check`); `dossier.client` is read.
    """
    declared_not_bailiff_act = (
        channel == Channel.VISIT
        and kind != Kind.BAILIFF_ACT
        and isinstance(sender, Intervenant)
        and sender.kind == Intervenant.Kind.BAILIFF
    )
    if declared_not_bailiff_act and not not_a_bailiff_act:
        # R10: "la réception des actes d'huissier ne se fait que par le service juridique". A
        # bailiff may come for something else (a constat, an inventory), which whoever
        # registers the visit must say, in writing, on the item's timeline.
        raise ValidationError(
            {
                "not_a_bailiff_act": _(
                    "A bailiff's visit: only the legal service receives bailiff's acts "
                    "(assignation, signification…). If the bailiff delivers an act, send him to "
                    "the legal service; otherwise confirm that this visit is not the delivery "
                    "of an act."
                )
            }
        )
    if kind == Kind.BAILIFF_ACT and not by.has_perm("accounts.register_bailiff_act"):
        # R10: the reception of bailiff's acts is done by the legal service only.
        raise PermissionDenied(
            _("Only the legal service may register the delivery of a bailiff's act.")
        )
    if channel != Channel.VISIT and kind != Kind.REQUEST:
        # R10: these are the kinds of a visit; whatever a form posts, a letter, an email or a
        # call is a request.
        raise ValidationError(
            {
                "kind": _(
                    "Only a visit is an appointment, a routine request or a bailiff's act: a "
                    "letter, an email or a phone call is a request."
                )
            }
        )
    if timezone.is_naive(received_at):
        raise ValidationError({"received_at": _("The reception time needs a time zone.")})
    if received_at > timezone.now() + timezone.timedelta(minutes=5):
        raise ValidationError({"received_at": _("The reception time cannot be in the future.")})
    points = [text.strip() for text in points if text.strip()]
    if not points:
        raise ValidationError({"points": _("Write the request as one or more points.")})
    tracking_number = _check_tracking_number(registered, tracking_number, field="tracking_number")
    if registered and channel != Channel.LETTER:
        raise ValidationError({"registered": _("Only a letter can be registered (recommandé).")})
    mandate, forced = _check_sender_entitled(
        sender=sender,
        dossier=dossier,
        at=received_at,
        by=by,
        force_reason=force_reason,
        mandates=mandates,
    )

    item = IncomingItem(
        channel=channel,
        kind=kind,
        received_at=received_at,
        sender_intervenant=sender if isinstance(sender, Intervenant) else None,
        sender_client=sender if isinstance(sender, Client) else None,
        dossier=dossier,
        subject=subject.strip(),
        registered=registered,
        tracking_number=tracking_number,
        assigned_to=assigned_to,
        priority=priority,
        urgency=urgency,
        mandate=mandate,
        forced_by=by if forced else None,
        forced_reason=force_reason.strip() if forced else "",
        created_by=by,
    )
    item.due_at = item.compute_due_at()  # R8: its alert clock is set by items_create
    # The field checks (lengths, choices) run in Python. Not re-queried here: the foreign keys
    # (rows the caller has just read) and the check constraints, which the service's own checks
    # above enforce (one sender, R6 tracking number, forced reason, visit kind) and which the
    # database enforces again at the insert (an IntegrityError, never a silent row).
    item.full_clean(
        exclude=[
            "sender_intervenant",
            "sender_client",
            "dossier",
            "assigned_to",
            "mandate",
            "forced_by",
            "created_by",
        ],
        validate_unique=False,
        validate_constraints=False,
    )
    if channel == Channel.VISIT and kind == Kind.REQUEST:
        raise ValidationError(
            _("Say whether the visit is an appointment, a routine request or a bailiff's act.")
        )
    return ItemDraft(
        item=item,
        points=points,
        forced=forced,
        by=by,
        declared_not_bailiff_act=declared_not_bailiff_act,
    )


def items_create(drafts: list[ItemDraft]) -> list[IncomingItem]:
    """Insert prepared items, their points and their "registered" activities, in bulk.

    Four or five queries whatever the number of items (the alert clocks are one); run inside
    the caller's transaction.
    """
    items = IncomingItem.objects.bulk_create([draft.item for draft in drafts])
    # R8: warning and escalation, fixed with the deadline.
    AlertClock.objects.bulk_create(filter(None, (alerts.new_clock(item) for item in items)))
    RequestPoint.objects.bulk_create(
        RequestPoint(item=draft.item, position=number, text=text)
        for draft in drafts
        for number, text in enumerate(draft.points, 1)
    )
    activities = []
    for draft in drafts:
        item = draft.item
        activities.append(
            _activity(item, Activity.Action.REGISTERED, draft.by, item.get_channel_display())
        )
        if draft.forced:
            activities.append(_activity(item, Activity.Action.FORCED, draft.by, item.forced_reason))
        if draft.declared_not_bailiff_act:
            activities.append(
                _activity(
                    item,
                    Activity.Action.NOT_BAILIFF_ACT,
                    draft.by,
                    _("%(who)s confirms that this visit is not the delivery of a bailiff's act.")
                    % {"who": draft.by.get_full_name() or draft.by.get_username()},
                )
            )
    Activity.objects.bulk_create(activities)
    return items


@transaction.atomic
def item_register(
    *,
    channel: str,
    received_at: datetime,
    sender: Intervenant | Client,
    dossier: Dossier,
    subject: str,
    points: list[str],
    assigned_to: AbstractBaseUser,
    by: AbstractBaseUser,
    kind: str = Kind.REQUEST,
    registered: bool = False,
    tracking_number: str = "",
    priority: int = 2,
    urgency: int = 2,
    force_reason: str = "",
    not_a_bailiff_act: bool = False,
    originals: list = (),
) -> IncomingItem:
    """Register an incoming item and its points; file its originals (scan, .eml) in the GED.

    The rules are `item_prepare`'s (R1, R6, R8, R10).
    """
    draft = item_prepare(
        channel=channel,
        received_at=received_at,
        sender=sender,
        dossier=dossier,
        subject=subject,
        points=points,
        assigned_to=assigned_to,
        by=by,
        kind=kind,
        registered=registered,
        tracking_number=tracking_number,
        priority=priority,
        urgency=urgency,
        force_reason=force_reason,
        not_a_bailiff_act=not_a_bailiff_act,
    )
    (item,) = items_create([draft])
    for upload in originals:
        item_file_original(item=item, file=upload, by=by)
    return item


# Enough of a long conversation for any mail client to thread it: RFC 5322 lets a References
# header be trimmed, keeping the first id (the conversation's start) and the latest ones.
MAX_REFERENCES = 20


def email_thread_ids(file) -> tuple[str, str]:
    """The Message-ID and the References of an .eml (read from its header block), or ""."""
    file.seek(0)
    headers = BytesHeaderParser().parse(file)
    file.seek(0)
    message_id = str(headers.get("Message-ID", "")).replace("\x00", "").strip()[:255]
    ids = str(headers.get("References", "")).replace("\x00", "").split()
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return message_id, " ".join(ids)


def item_prepare_original(draft: ItemDraft, *, file, document: Document) -> None:
    """R7 on an item not saved yet: its original (checked by `ged.services.document_prepare`,
    stored with it) marks it filed, and an email's Message-ID is kept for our reply."""
    item = draft.item
    item.original_filed_at = item.original_filed_at or document.added_at
    if (
        item.channel == Channel.EMAIL
        and not item.message_id
        and document.content_type == "message/rfc822"
    ):
        item.message_id, item.references = email_thread_ids(file)


def item_file_original(*, item: IncomingItem, file, by) -> None:
    """File the original of a written item in the GED (R7): a letter's scan, an email's .eml.

    The GED's own upload (on the item's page) attaches documents as well; the GED row records
    who added what and when, and the item's timeline shows it.
    """
    document = document_store(file=file, owner=item, added_by=by)
    _sync_original_filed(item)
    if (
        item.channel == Channel.EMAIL
        and not item.message_id
        and document.content_type == "message/rfc822"
    ):
        with document.file.open("rb") as stored:
            message_id, references = email_thread_ids(stored)
        if message_id:
            IncomingItem.objects.filter(pk=item.pk, message_id="").update(
                message_id=message_id, references=references
            )
            item.message_id, item.references = message_id, references


def _sync_original_filed(item: IncomingItem) -> None:
    """Set `original_filed_at` from the item's first document in the GED, if it has one."""
    if item.original_filed_at is not None:
        return
    first = (
        Document.objects.filter(
            owner_type=ContentType.objects.get_for_model(IncomingItem), owner_id=item.pk
        )
        .order_by("added_at")
        .values_list("added_at", flat=True)
        .first()
    )
    if first is not None:
        IncomingItem.objects.filter(pk=item.pk, original_filed_at=None).update(
            original_filed_at=first
        )
        item.refresh_from_db(fields=["original_filed_at"])


def item_start(*, item: IncomingItem, by) -> IncomingItem:
    """Move an item from "received" to "in progress" (R7: a letter needs its scan first)."""
    if item.status != Status.RECEIVED:
        return item
    _sync_original_filed(item)
    if item.channel in (Channel.LETTER, Channel.EMAIL) and item.original_filed_at is None:
        raise ValidationError(
            _("Scan the letter into the GED before processing it.")
            if item.channel == Channel.LETTER
            else _("File the original email (.eml) in the GED before processing it.")
        )
    updated = IncomingItem.objects.filter(pk=item.pk, status=Status.RECEIVED).update(
        status=Status.IN_PROGRESS
    )
    if updated:
        _log(item, Activity.Action.STARTED, by)
    item.refresh_from_db()
    return item


@transaction.atomic
def item_assign(*, item: IncomingItem, to, by) -> IncomingItem:
    if not has_role(to, Role.GESTIONNAIRE) and not has_role(to, Role.DIRECTION):
        raise ValidationError({"assigned_to": _("Assign the item to a property manager.")})
    if item.assigned_to_id != to.pk:
        IncomingItem.objects.filter(pk=item.pk).update(assigned_to=to)
        # R8: the next alerts go to the new gestionnaire.
        AlertClock.objects.filter(item=item).update(assigned_to=to)
        _log(item, Activity.Action.ASSIGNED, by, to.get_full_name() or to.get_username())
        item.refresh_from_db()
    return item


@dataclass(frozen=True)
class ReplyDraft:
    via: str
    dated: date
    answers: dict[int, str]  # point id → answer
    registered: bool = False
    tracking_number: str = ""
    recipient_email: str = ""


TRACKING_NUMBER_TAKEN = gettext_noop(
    "This tracking number is already recorded for another letter: each registered letter has "
    "its own."
)


def _check_reply_tracking_number_unused(item: IncomingItem, tracking_number: str) -> None:
    """R6: a tracking number identifies one item of mail: our reply has its own."""
    if tracking_number == item.tracking_number:
        raise ValidationError(
            {
                "tracking_number": _(
                    "This is the tracking number of the letter received: enter the one of "
                    "your registered reply."
                )
            }
        )
    if (
        Reply.objects.filter(tracking_number=tracking_number).exists()
        or IncomingItem.objects.filter(tracking_number=tracking_number).exists()
    ):
        raise ValidationError({"tracking_number": _(TRACKING_NUMBER_TAKEN)})


@transaction.atomic
def reply_send(*, item: IncomingItem, draft: ReplyDraft, by) -> Reply:
    """Answer an item point by point (R5), by registered letter if it came so (R6).

    A letter reply becomes a PDF in the GED; an email reply is sent after commit by a task, with
    its copy in the GED. The item is answered from now on.
    """
    item = IncomingItem.objects.select_for_update().select_related("dossier").get(pk=item.pk)
    if item.is_oral:
        # R9: an oral exchange is confirmed in writing in the event log or on its Redmine
        # ticket (`event_record`), then closed (`item_close`); a reply would mark it answered
        # and take it off the work list without that confirmation.
        raise ValidationError(
            _(
                "A visit or a phone call is not answered by a reply: confirm it in writing "
                "(event log or Redmine ticket), then close it."
            )
        )
    if not item.is_open:
        raise ValidationError(_("This item is already answered or closed."))
    item_start(item=item, by=by)  # R7 is checked there
    points = list(item.points.all())
    errors = {}
    answers = {point.pk: (draft.answers.get(point.pk) or "").strip() for point in points}
    missing = [point.position for point in points if not answers[point.pk]]
    if missing:
        errors["answers"] = _("Answer every point: point(s) %(points)s left unanswered.") % {
            "points": ", ".join(map(str, missing))
        }
    unknown = set(draft.answers) - set(answers)
    if unknown:
        errors["answers"] = _("An answer refers to a point of another request.")
    # R6: a registered letter is answered by registered letter.
    if item.registered and not (draft.via == Reply.Via.LETTER and draft.registered):
        errors["registered"] = _(
            "This request came by registered letter: answer by registered letter."
        )
    if draft.dated > timezone.localdate():
        errors["dated"] = _("A reply cannot be dated in the future.")
    elif draft.dated < timezone.localdate(item.received_at):
        # R5: the date printed on the letter; a reply cannot precede what it answers.
        errors["dated"] = _("A reply cannot be dated before the item was received (%(day)s).") % {
            "day": f"{timezone.localdate(item.received_at):%d/%m/%Y}"
        }
    if draft.via == Reply.Via.EMAIL and not draft.recipient_email:
        errors["recipient_email"] = _("Enter the recipient's email address.")
    if errors:
        raise ValidationError(errors)
    tracking_number = _check_tracking_number(
        draft.registered, draft.tracking_number, field="tracking_number"
    )
    if tracking_number:
        _check_reply_tracking_number_unused(item, tracking_number)

    reply = Reply(
        item=item,
        via=draft.via,
        dated=draft.dated,
        dossier_reference=item.dossier.reference,
        registered=draft.registered,
        tracking_number=tracking_number,
        recipient_email=draft.recipient_email if draft.via == Reply.Via.EMAIL else "",
        created_by=by,
    )
    if reply.via == Reply.Via.EMAIL:
        from correspondence.mail import new_message_id

        reply.message_id = new_message_id()
    reply.full_clean()
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError as error:
        # Two replies with one tracking number at the same moment both passed the checks above;
        # the database's constraint decides, and the second one hears why (not a 500).
        if "reply_unique_tracking_number" not in str(error):
            raise
        raise ValidationError({"tracking_number": _(TRACKING_NUMBER_TAKEN)}) from None
    ReplyAnswer.objects.bulk_create(
        ReplyAnswer(reply=reply, point=point, text=answers[point.pk]) for point in points
    )
    now = timezone.now()
    IncomingItem.objects.filter(pk=item.pk).update(answered_at=now, status=Status.ANSWERED)
    alerts.clock_stop(item=item)
    _log(item, Activity.Action.REPLIED, by, reply.get_via_display())

    if reply.via == Reply.Via.LETTER:
        from correspondence.letters import render_reply_pdf

        pdf = render_reply_pdf(reply)
        name = f"reponse-{reply.dossier_reference}-{reply.dated:%Y%m%d}.pdf"
        reply.document = document_store(file=ContentFile(pdf, name=name), owner=reply, added_by=by)
        reply.save(update_fields=["document"])
    else:
        from correspondence.tasks import deliver_reply_email

        transaction.on_commit(lambda: deliver_reply_email.delay(reply.pk))
    return reply


@transaction.atomic
def event_record(
    *,
    dossier: Dossier,
    label: str,
    text: str,
    occurred_at: datetime,
    by,
    item: IncomingItem | None = None,
    work_request=None,
) -> Event:
    """Record the written confirmation of an oral exchange (R9) in the dossier's event log.

    About a job (a key handed to an artisan), the confirmation also goes as a note on the work
    request's Redmine issue, through the bridge's outbox (pushed once, after commit).
    """
    if item is not None and item.dossier_id != dossier.pk:
        raise ValidationError(_("The event and the item belong to different dossiers."))
    if work_request is not None and work_request.dossier_id != dossier.pk:
        raise ValidationError(_("The event and the work request belong to different dossiers."))
    event = Event(
        dossier=dossier,
        item=item,
        label=label.strip(),
        text=text.strip(),
        occurred_at=occurred_at,
        destination=(
            Event.Destination.REDMINE_TICKET if work_request else Event.Destination.EVENT_LOG
        ),
        work_request=work_request,
        recorded_by=by,
    )
    event.full_clean()
    with transaction.atomic():
        if work_request is not None:
            from redmine_bridge.services import redmine_note_add

            # The note first: the event log is append-only, so the event is born with its note.
            event.issue_note = redmine_note_add(
                work_request=work_request, text=f"{event.label}\n\n{event.text}", author=by
            )
        event.save()
        if item is not None:
            _log(item, Activity.Action.EVENT, by, event.label)
    return event


@transaction.atomic
def item_close(*, item: IncomingItem, by) -> IncomingItem:
    """Close an item: a written one once answered, an oral one once confirmed in writing (R9)."""
    item = IncomingItem.objects.select_for_update().get(pk=item.pk)
    if item.status == Status.CLOSED:
        return item
    if item.is_oral:
        if not item.events.exists():
            raise ValidationError(
                _(
                    "Confirm this exchange in writing (event log or Redmine ticket) "
                    "before closing it."
                )
            )
    elif item.answered_at is None:
        raise ValidationError(_("Answer this item before closing it."))
    now = timezone.now()
    # An oral exchange confirmed in writing is answered by that confirmation.
    IncomingItem.objects.filter(pk=item.pk).update(
        status=Status.CLOSED, closed_at=now, answered_at=item.answered_at or now
    )
    alerts.clock_stop(item=item)
    _log(item, Activity.Action.CLOSED, by)
    item.refresh_from_db()
    return item
