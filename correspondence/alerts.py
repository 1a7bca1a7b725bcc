"""Deadline alerts (R8): the sweep that raises them, their delivery by email, the daily digest.

The life of an alert:
1. At registration, `new_clock()` fixes three moments: the warning (once ALERT_WARNING_SHARE of
   the window has gone), the deadline itself, and the escalation (ALERT_ESCALATION_HOURS later),
   in the item's AlertClock, whose `next_alert_at` holds the earliest one not yet handled.
   Answering or closing the item deletes its clock (`clock_stop()`), reassigning it updates it.
2. Every minute, `alerts_sweep()` reads the clocks whose `next_alert_at` has passed (through its
   index), locks them (`FOR UPDATE SKIP LOCKED`: a second sweep running at the same time takes
   other rows or none), inserts their alerts, and moves `next_alert_at` to the next threshold, or
   deletes the clock after the last one, all in one transaction (one statement on PostgreSQL).
   The unique constraint (item, kind) stops a duplicate even if this claim were wrong: the insert
   then skips it (`ON CONFLICT (item_id, kind) DO NOTHING`); any other conflict is an error.
3. After commit, `deliver_alerts` tasks get the new alerts' ids. `alerts_deliver()` claims them
   with a conditional UPDATE (`claimed_until`, `claimed_by` = the task's id, so that the same task
   redelivered after its worker died takes over at once), sends them on one SMTP connection
   outside any transaction (an escalation or digest as one message per member of the direction),
   and records `sent_at` every few messages. A permanent refusal is kept on the alert (for a
   direction's alert sent to the others, beside `sent_at`); an outage raises TransientEmailError
   (retry with backoff) and keeps the claims until the retry (plus a margin): the redelivery
   sweep leaves them alone meanwhile.

Guarantee: every alert reaches the SMTP server at least once. It reaches it twice only when a
worker dies after the server accepted a message and before `sent_at` was recorded (at most
RECORD_EVERY messages, and the other copies of an escalation or digest in progress: one per
member of the direction); the copy carries the same Message-ID, so that it can be recognised.
"""

import contextlib
import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail as django_mail
from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, QuerySet, When
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext

from accounts.roles import Role, has_role
from correspondence import deadlines, mail
from correspondence.mail import TransientEmailError
from correspondence.models import OPEN_STATUSES, Alert, AlertClock, IncomingItem
from gerance.lib import emails

logger = logging.getLogger(__name__)

# Items handled by one sweep transaction; the task loops while batches come back full.
SWEEP_BATCH = 5000
# Alerts per delivery task: a task keeps one SMTP connection for all of them.
DELIVERY_BATCH = 200
# How long a task may hold its alerts; after that, another task may take them over.
CLAIM_DURATION = timedelta(minutes=10)
# After an outage, the claim outlives the backoff before the task's retry by this much: time for
# a busy worker to start the retry late. Past it, the alerts are the redelivery sweep's again.
RETRY_MARGIN = timedelta(minutes=5)
# `sent_at` is recorded once this many messages are sent: about the most a killed worker can send
# twice (it records after a whole alert, whose direction copies may go beyond).
RECORD_EVERY = 20


# --- Thresholds ------------------------------------------------------------------------------
def new_clock(item: IncomingItem) -> AlertClock | None:
    """The alert clock of an item with a deadline, unsaved (see step 1 above); None without one."""
    hours = deadlines.response_hours(item.channel)
    if item.due_at is None or hours is None:
        return None
    calendar = deadlines.calendar()
    warn_at = calendar.add_hours(item.received_at, hours * settings.ALERT_WARNING_SHARE)
    return AlertClock(
        item=item,
        assigned_to_id=item.assigned_to_id,
        warn_at=warn_at,
        due_at=item.due_at,
        escalate_at=calendar.add_hours(item.due_at, settings.ALERT_ESCALATION_HOURS),
        next_alert_at=warn_at,
    )


def clock_stop(*, item: IncomingItem) -> None:
    """Stop the item's future alerts: it is answered or closed (R8).

    Alerts already raised but not yet sent are cancelled when their delivery finds the item so.
    """
    AlertClock.objects.filter(item=item).delete()


def _alerts_due(*, warn_at, due_at, escalate_at, now) -> list[tuple[str, datetime]]:
    """The kinds whose threshold has passed, with it. A warning after the deadline is noise."""
    due = []
    if due_at <= now:
        due.append((Alert.Kind.OVERDUE, due_at))
    elif warn_at <= now:
        due.append((Alert.Kind.WARNING, warn_at))
    if escalate_at <= now:
        due.append((Alert.Kind.ESCALATION, escalate_at))
    return due


def new_message_id() -> str:
    """The Message-ID of the digest: random (uuid4: no clock or host lookup)."""
    return f"<alert.{uuid.uuid4().hex}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def message_id_stamp(now: datetime) -> str:
    """The sweep's time in an item alert's Message-ID: see `item_message_id()`."""
    return now.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")


def item_message_id(*, item_id: int, kind: str, stamp: str) -> str:
    """The Message-ID of an item's alert, unique by construction (the sweep builds it in SQL).

    There is one alert per item and kind (a constraint); the stamp (the time it was raised) tells
    it from an alert of a database restored or created again. Cheaper to insert than a random
    one: the new ids sit side by side in the unique index instead of all over it.
    """
    return f"<alert.{item_id}.{kind}.{stamp}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


# --- The sweep -------------------------------------------------------------------------------
@dataclass
class SweepResult:
    items: int = 0
    alert_ids: list[int] = field(default_factory=list)


def alerts_sweep(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> SweepResult:
    """Raise the alerts of the items whose next threshold has passed, in constant queries.

    Steps: 1. lock up to `limit` such clocks, skipping those another sweep holds; 2. insert their
    alerts, a duplicate being skipped by the unique constraint; 3. move each clock's
    `next_alert_at` to its next threshold, or delete the clock when none is left; 4. after
    commit, hand the new alerts to `deliver_alerts` tasks.

    On PostgreSQL the three steps are one statement (`_sweep_statement`): the rows never travel
    to Python. Elsewhere (SQLite for `make run`) `_sweep_rows` does the same in 4 queries.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            result = _sweep_statement(now=now, limit=limit)
        else:
            result = _sweep_rows(now=now, limit=limit)
        alert_ids = result.alert_ids
        if alert_ids:
            transaction.on_commit(lambda: enqueue_delivery(alert_ids))
    return result


_SWEEP_SQL = """
WITH due AS (
    SELECT item_id, assigned_to_id, warn_at, due_at, escalate_at FROM {clocks}
    WHERE next_alert_at <= %(now)s
    ORDER BY next_alert_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), raised AS (
    INSERT INTO {alerts}
        (kind, item_id, recipient_id, threshold_at, created_at, message_id, claimed_by, email_error)
    SELECT k.kind, c.item_id, CASE WHEN k.kind = %(escalation)s THEN NULL ELSE c.assigned_to_id END,
           k.threshold, %(now)s,
           -- item_message_id()
           '<alert.' || c.item_id || '.' || k.kind || '.' || %(stamp)s || '@' || %(domain)s || '>',
           '', ''
    FROM due AS c
    CROSS JOIN LATERAL (
        VALUES (%(warning)s, c.warn_at), (%(overdue)s, c.due_at), (%(escalation)s, c.escalate_at)
    ) AS k (kind, threshold)
    WHERE k.threshold <= %(now)s
      -- a warning after the deadline is noise (see _alerts_due)
      AND NOT (k.kind = %(warning)s AND c.due_at <= %(now)s)
    ON CONFLICT (item_id, kind) WHERE item_id IS NOT NULL DO NOTHING
    RETURNING id
), moved AS (
    UPDATE {clocks} AS c SET next_alert_at = CASE
        WHEN c.warn_at > %(now)s THEN c.warn_at
        WHEN c.due_at > %(now)s THEN c.due_at
        ELSE c.escalate_at
    END
    -- = ANY(ARRAY(...)): an index scan on the primary key, never a hash join over the table.
    WHERE c.item_id = ANY (ARRAY (SELECT item_id FROM due WHERE escalate_at > %(now)s))
), finished AS (
    DELETE FROM {clocks} AS c
    WHERE c.item_id = ANY (ARRAY (SELECT item_id FROM due WHERE escalate_at <= %(now)s))
)
SELECT (SELECT count(*) FROM due),
       (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM raised)
"""


def sweep_sql() -> str:
    return _SWEEP_SQL.format(clocks=AlertClock._meta.db_table, alerts=Alert._meta.db_table)


def sweep_params(*, now: datetime, limit: int) -> dict:
    return {
        "now": now,
        "limit": limit,
        "stamp": message_id_stamp(now),
        "domain": settings.EMAIL_MESSAGE_ID_DOMAIN,
        "warning": Alert.Kind.WARNING.value,
        "overdue": Alert.Kind.OVERDUE.value,
        "escalation": Alert.Kind.ESCALATION.value,
    }


def _sweep_statement(*, now: datetime, limit: int) -> SweepResult:
    """The sweep as one PostgreSQL statement (2 queries with the SET LOCAL)."""
    with connection.cursor() as cursor:
        # The commit need not wait for the disk: were it lost in a crash, the clocks would be
        # lost with the alerts, and the next sweep would raise them again. Nothing is sent before
        # a delivery task's own (synchronous) commit, which flushes this one to disk first.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(sweep_sql(), sweep_params(now=now, limit=limit))
        items, alert_ids = cursor.fetchone()
    return SweepResult(items=items, alert_ids=alert_ids)


def _sweep_rows(*, now: datetime, limit: int) -> SweepResult:
    """The sweep in 4 queries through Python, for databases without data-modifying WITH."""
    rows = list(
        AlertClock.objects.filter(next_alert_at__lte=now)
        .order_by("next_alert_at")
        .select_for_update(skip_locked=True)
        .values_list("item_id", "assigned_to_id", "warn_at", "due_at", "escalate_at")[:limit]
    )
    if not rows:
        return SweepResult()
    new = []
    for item_id, assignee, warn_at, due_at, escalate_at in rows:
        for kind, threshold in _alerts_due(
            warn_at=warn_at, due_at=due_at, escalate_at=escalate_at, now=now
        ):
            recipient = None if kind in Alert.DIRECTION_KINDS else assignee
            new.append((kind, item_id, recipient, threshold))
    alert_ids = _insert_alerts(new, now=now)
    AlertClock.objects.filter(item_id__in=[row[0] for row in rows if row[4] > now]).update(
        next_alert_at=Case(
            When(warn_at__gt=now, then=F("warn_at")),
            When(due_at__gt=now, then=F("due_at")),
            default=F("escalate_at"),
        )
    )
    AlertClock.objects.filter(item_id__in=[row[0] for row in rows if row[4] <= now]).delete()
    return SweepResult(items=len(rows), alert_ids=sorted(alert_ids))


def _insert_alerts(new: list[tuple], *, now: datetime) -> list[int]:
    """Insert alerts, skipping those that exist already; return the ids of the rows created.

    Raw SQL because `bulk_create(ignore_conflicts=True)` cannot tell which rows were created:
    `INSERT … ON CONFLICT DO NOTHING RETURNING id` can (PostgreSQL, and SQLite for `make run`).
    """
    if not new:
        return []
    meta = Alert._meta
    columns = ["kind", "item", "recipient", "threshold_at", "created_at", "message_id"]
    columns = [meta.get_field(name).column for name in columns] + ["claimed_by", "email_error"]
    row_sql = "(" + ", ".join(["%s"] * 6) + ", '', '')"
    # SQLite caps the parameters of one statement; PostgreSQL's driver binds on the client side.
    per_statement = (connection.features.max_query_params or 6 * len(new)) // 6
    ids = []
    stamp = message_id_stamp(now)
    with connection.cursor() as cursor:
        for start in range(0, len(new), per_statement):
            chunk = new[start : start + per_statement]
            params = []
            for kind, item_id, recipient_id, threshold in chunk:
                message_id = item_message_id(item_id=item_id, kind=kind, stamp=stamp)
                params += [kind, item_id, recipient_id, threshold, now, message_id]
            cursor.execute(
                f"INSERT INTO {meta.db_table} ({', '.join(columns)}) "  # noqa: S608 (no user input)
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                # Only the (item, kind) rule may skip a row: any other conflict is a bug, raised.
                "ON CONFLICT (item_id, kind) WHERE item_id IS NOT NULL DO NOTHING RETURNING id",
                params,
            )
            ids += [row[0] for row in cursor.fetchall()]
    return ids


def enqueue_delivery(alert_ids: list[int]) -> None:
    """Hand alerts to `deliver_alerts` tasks, DELIVERY_BATCH per task, on one broker connection."""
    from correspondence.tasks import deliver_alerts

    with deliver_alerts.app.producer_or_acquire() as producer:
        for start in range(0, len(alert_ids), DELIVERY_BATCH):
            batch = alert_ids[start : start + DELIVERY_BATCH]
            # A short argsrepr (what logs and monitors show): Celery's own repr of 200 ids took
            # half the time of each publish.
            deliver_alerts.apply_async(
                (batch,), producer=producer, argsrepr=f"[{len(batch)} alerts: {batch[0]}…]"
            )


# --- The digest ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigestEntry:
    """One overdue thing that has no item (hence no alert clock), listed in the digest."""

    sender: str
    subject: str
    received_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class DigestSection:
    """A group of the digest contributed by another app: its title, entries and list page."""

    title: str
    entries: list[DigestEntry]
    url: str
    link_text: str


# Functions `(now) -> DigestSection | None` that add a group to the digest, one query each.
# A registry rather than an import: the apps that contribute (email_channel, for the emails
# waiting in triage, which have no item yet but whose deadline runs from reception: issue 8)
# import correspondence, so correspondence must not import them back; each registers its
# function in its AppConfig.ready(), where the wiring is visible.
_digest_sources: list[Callable[[datetime], DigestSection | None]] = []


def digest_source_register(source: Callable[[datetime], DigestSection | None]) -> None:
    if source not in _digest_sources:
        _digest_sources.append(source)


def digest_sections(now: datetime | None = None) -> list[DigestSection]:
    """The digest's groups from the other apps that have something overdue."""
    now = now or timezone.now()
    return [section for source in _digest_sources if (section := source(now)) is not None]


def digest_create(*, day: date) -> int | None:
    """Raise the direction's digest of `day` when anything is overdue; its id, None otherwise.

    One per day (a unique constraint): a second run on the same day creates nothing.
    """
    if not overdue_items().exists() and not digest_sections():
        return None
    threshold = timezone.make_aware(datetime.combine(day, time.min))
    with connection.cursor() as cursor:
        meta = Alert._meta
        cursor.execute(
            f"INSERT INTO {meta.db_table} "  # noqa: S608 (no user input)
            "(kind, threshold_at, digest_day, created_at, message_id, claimed_by, email_error) "
            "VALUES (%s, %s, %s, %s, %s, '', '') "
            "ON CONFLICT (digest_day) WHERE kind = 'digest' DO NOTHING RETURNING id",
            [Alert.Kind.DIGEST, threshold, day, timezone.now(), new_message_id()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def overdue_items(now: datetime | None = None) -> QuerySet[IncomingItem]:
    """Every open item past its deadline, by gestionnaire then deadline (the digest's list)."""
    return (
        IncomingItem.objects.filter(
            answered_at=None, closed_at=None, due_at__lte=now or timezone.now()
        )
        .select_related("assigned_to", "dossier", "sender_intervenant", "sender_client")
        .order_by("assigned_to__last_name", "assigned_to__first_name", "assigned_to_id", "due_at")
    )


# --- Delivery --------------------------------------------------------------------------------
@dataclass
class Delivery:
    sent: list[int] = field(default_factory=list)
    # Refused by every recipient (or nobody to write to): not sent, the reason on the alert.
    refused: dict[int, str] = field(default_factory=dict)
    # Sent, but refused by some members of the direction: sent, and the reason on the alert.
    partly_refused: dict[int, str] = field(default_factory=dict)
    cancelled: list[int] = field(default_factory=list)


# What the delivery and the emails read, and nothing else: half the cost of loading a batch
# (six rows per alert, about a hundred columns). A test counts the queries of a delivery, so that
# a field read but not listed here (one more query per alert) shows.
_USER_FIELDS = ("first_name", "last_name", "username", "email")
_DELIVERY_FIELDS = (
    "kind",
    "item",
    "recipient",
    "message_id",
    "digest_day",
    *(
        f"item__{name}"
        for name in ("channel", "subject", "received_at", "due_at", "answered_at", "closed_at")
    ),
    "item__dossier__reference",
    "item__sender_intervenant__name",
    "item__sender_client__name",
    "item__sender_client__reference",
    *(f"item__assigned_to__{name}" for name in _USER_FIELDS),
    *(f"recipient__{name}" for name in _USER_FIELDS),
)


def alerts_deliver(
    *, alert_ids: list[int], claimer: str, retry_in: timedelta = timedelta(0)
) -> Delivery:
    """Send the alerts `claimer` (a task id) can claim; see step 3 above.

    Raises TransientEmailError when the SMTP server is down or refuses for now: what was sent is
    recorded, the rest stays claimed by `claimer` for `retry_in` (the task's backoff before its
    retry) and RETRY_MARGIN.
    """
    now = timezone.now()
    claimable = Alert.objects.filter(
        pk__in=alert_ids, sent_at=None, cancelled_at=None, email_error=""
    ).filter(Q(claimed_until=None) | Q(claimed_until__lt=now) | Q(claimed_by=claimer))
    if not claimable.update(claimed_until=now + CLAIM_DURATION, claimed_by=claimer):
        return Delivery()
    claimed = list(
        Alert.objects.filter(
            pk__in=alert_ids, claimed_by=claimer, sent_at=None, cancelled_at=None, email_error=""
        )
        .select_related(
            "item__dossier",
            "item__sender_intervenant",
            "item__sender_client",
            "item__assigned_to",
            "recipient",
        )
        .only(*_DELIVERY_FIELDS)
        .order_by("pk")
    )
    result = Delivery()
    # R8: an item answered since its alert was raised needs no alert any more.
    result.cancelled = [
        alert.pk
        for alert in claimed
        if alert.item is not None and (alert.item.answered_at or alert.item.closed_at)
    ]
    if result.cancelled:
        Alert.objects.filter(pk__in=result.cancelled, sent_at=None).update(
            cancelled_at=now, claimed_until=None
        )
    cancelled = set(result.cancelled)
    to_send = [alert for alert in claimed if alert.pk not in cancelled]
    # Until the retry: kept through the backoff (see `_unsent_after`), released on any other error.
    hold_until = None
    try:
        _send(_build_messages(to_send, result), result)
    except TransientEmailError:
        hold_until = timezone.now() + retry_in + RETRY_MARGIN
        raise
    finally:
        _record_refusals(result.refused)
        done = set(result.sent) | set(result.refused)
        unsent = [alert.pk for alert in to_send if alert.pk not in done]
        if unsent:
            _unsent_after(unsent, claimer=claimer, hold_until=hold_until)
    return result


def _unsent_after(unsent: list[int], *, claimer: str, hold_until: datetime | None) -> None:
    """Keep the claim on what an outage left unsent until the task's retry, or release it.

    Released, the alerts would look lost to `redeliver_alerts` during the whole backoff: every
    five minutes of an outage it would enqueue one more task, each retrying without limit, all
    for the same alerts. Kept by the same claimer (the task's id, which its retry keeps), they
    are the retry's at once and nobody else's until `hold_until`; if the retry is lost with its
    worker, the claim expires and the redelivery sweep takes them over.
    """
    Alert.objects.filter(pk__in=unsent, sent_at=None, claimed_by=claimer).update(
        claimed_until=hold_until
    )


# An alert and its emails: one for a gestionnaire's alert, one per member of the direction for
# an escalation or a digest.
Outgoing = tuple[Alert, list]


def _build_messages(alerts: list[Alert], result: Delivery) -> list[Outgoing]:
    direction = None
    digest_items = sections = None
    outgoing = []
    with translation.override(settings.LANGUAGE_CODE):
        for alert in alerts:
            if alert.for_direction:
                if direction is None:
                    direction = direction_recipients()
                # One message per member rather than one to all: the SMTP server's refusal of
                # one address (smtplib raises only when all are refused) is then seen and
                # recorded, and each copy keeps a Message-ID of its own, stable across resends.
                recipients = [
                    (recipient_message_id(alert.message_id, user_id=pk), address)
                    for pk, address in direction
                ]
            elif alert.recipient.email:
                recipients = [(alert.message_id, alert.recipient.email)]
            else:
                recipients = []
            if not recipients:
                # Nobody to write to is a configuration error a person must fix: not retried.
                result.refused[alert.pk] = _no_address_text(alert)
                continue
            if alert.kind == Alert.Kind.DIGEST and digest_items is None:
                digest_items, sections = list(overdue_items()), digest_sections()
            messages = []
            for message_id, address in recipients:
                if alert.kind == Alert.Kind.DIGEST:
                    message = build_digest_message(
                        alert, digest_items, sections=sections, to=[address], message_id=message_id
                    )
                else:
                    message = build_alert_message(alert, to=[address], message_id=message_id)
                messages.append(message)
            outgoing.append((alert, messages))
    return outgoing


def _no_address_text(alert: Alert) -> str:
    if alert.for_direction:
        return gettext("No active member of the direction has an email address.")
    return gettext("%(name)s has no email address.") % {
        "name": alert.recipient.get_full_name() or alert.recipient.get_username()
    }


def _send(outgoing: list[Outgoing], result: Delivery) -> None:
    """Send each alert's messages; an alert is sent once one of its recipients has accepted it."""
    if not outgoing:
        return
    smtp = django_mail.get_connection()
    recorded = unrecorded_messages = 0
    try:
        smtp.open()
        for alert, messages in outgoing:
            accepted, refusals, temporary = 0, [], None
            for message in messages:
                try:
                    smtp.send_messages([message])
                except smtplib.SMTPRecipientsRefused as error:
                    if not mail.is_permanent(error):
                        temporary = temporary or error
                    refusals.append(mail.refusals_text(error))
                    continue
                except smtplib.SMTPResponseException as error:
                    if not 500 <= error.smtp_code < 600:
                        temporary = temporary or error
                    refusals.append(
                        mail.refusal_text(
                            address=", ".join(message.to),
                            code=error.smtp_code,
                            message=error.smtp_error,
                        )
                    )
                    continue
                accepted += 1
            if temporary is not None and not accepted:
                # Nobody has it yet: the whole alert is retried, no copy twice.
                raise TransientEmailError(str(temporary)) from temporary
            # A temporary refusal once other members have their copy is recorded, not retried:
            # a retry would send the same escalation again to every member who has it, for as
            # long as one mailbox stays full.
            if not accepted:
                result.refused[alert.pk] = "; ".join(refusals)
                continue
            if refusals:
                # Sent to the others; the refused addresses are kept for the direction to see.
                result.partly_refused[alert.pk] = "; ".join(refusals)
            result.sent.append(alert.pk)
            unrecorded_messages += accepted
            if unrecorded_messages >= RECORD_EVERY:
                recorded, unrecorded_messages = _record_sent(result, start=recorded), 0
    except (smtplib.SMTPException, OSError) as error:
        raise TransientEmailError(str(error)) from error
    finally:
        _record_sent(result, start=recorded)
        # After an outage the server is gone already: nothing to close cleanly.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.close()


def _record_sent(result: Delivery, *, start: int) -> int:
    sent = result.sent[start:]
    if sent:
        Alert.objects.filter(pk__in=sent).update(sent_at=timezone.now(), claimed_until=None)
        for pk in sent:
            if pk in result.partly_refused:
                error = result.partly_refused[pk]
                logger.warning("Alert %s: email refused for some recipients: %s", pk, error)
                Alert.objects.filter(pk=pk).update(email_error=error)
    return len(result.sent)


def _record_refusals(refused: dict[int, str]) -> None:
    for pk, error in refused.items():
        logger.warning("Alert %s: email refused permanently: %s", pk, error)
        Alert.objects.filter(pk=pk, sent_at=None).update(email_error=error, claimed_until=None)


def direction_recipients() -> list[tuple[int, str]]:
    """(user id, address) of every active member of the direction with an email address.

    An address shared by two accounts gets one copy, the first account's.
    """
    members = (
        get_user_model()
        .objects.filter(groups__name=Role.DIRECTION, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", "email")
        .distinct()
    )
    seen, recipients = set(), []
    for pk, address in members:
        if address.lower() not in seen:
            seen.add(address.lower())
            recipients.append((pk, address))
    return recipients


def recipient_message_id(message_id: str, *, user_id: int) -> str:
    """The Message-ID of the copy of a direction's alert sent to one member.

    Derived from the alert's own (unique) Message-ID and the member's id: stable when resent,
    unique per alert and member, and never another alert's (those have no `.u<id>` part).
    """
    local, domain = message_id.strip("<>").rsplit("@", 1)
    return f"<{local}.u{user_id}@{domain}>"


def _item_url(item: IncomingItem) -> str:
    return settings.SITE_URL + reverse("correspondence:item", args=[item.pk])


SHORT_DATE = "%d/%m/%Y %H:%M"  # date_format's "d/m/Y H:i"


def alert_headers(alert: Alert, *, message_id: str | None = None) -> dict[str, str]:
    return {
        "Message-ID": message_id or alert.message_id,
        "X-Gerance-Alert": f"{alert.kind} {alert.pk}",
    }


def build_alert_message(alert: Alert, *, to: list[str], message_id: str | None = None):
    """The email of an alert. What the three templates show is worked out here, once."""
    item, now = alert.item, timezone.now()
    due = timezone.localtime(item.due_at)
    manager = item.assigned_to
    recipient = alert.recipient
    return emails.build(
        "alert",
        {
            "alert": alert,
            "name": recipient and (recipient.first_name or recipient.get_username()),
            "channel": item.get_channel_display().lower(),
            "reference": item.dossier.reference,
            "subject": item.subject,
            "sender": str(item.sender),
            # Numeric dates need no locale: strftime, a tenth of date_format's cost per alert.
            "received": timezone.localtime(item.received_at).strftime(SHORT_DATE),
            "due": formats.date_format(due, "l j F Y, H:i"),
            "due_short": due.strftime(SHORT_DATE),
            "left": timeuntil(item.due_at, now) if alert.kind == Alert.Kind.WARNING else "",
            "late": timesince(item.due_at, now) if alert.kind != Alert.Kind.WARNING else "",
            "gestionnaire": manager.get_full_name() or manager.get_username(),
            "url": _item_url(item),
            "agency": settings.AGENCY_NAME,
        },
        to=to,
        headers=alert_headers(alert, message_id=message_id),
    )


def build_digest_message(
    alert: Alert,
    items: list[IncomingItem],
    *,
    to: list[str],
    sections: list[DigestSection] | None = None,
    message_id: str | None = None,
):
    groups: dict[int, dict] = {}
    for item in items:
        group = groups.setdefault(item.assigned_to_id, {"user": item.assigned_to, "items": []})
        group["items"].append({"item": item, "url": _item_url(item)})
    sections = sections or []
    return emails.build(
        "alert-digest",
        {
            "alert": alert,
            "groups": list(groups.values()),
            "sections": sections,
            "count": len(items) + sum(len(section.entries) for section in sections),
            "now": timezone.now(),
            "alerts_url": settings.SITE_URL + reverse("correspondence:alerts"),
            "agency": settings.AGENCY_NAME,
        },
        to=to,
        headers=alert_headers(alert, message_id=message_id),
    )


def undelivered_alert_ids(*, older_than: timedelta, limit: int = 5000) -> list[int]:
    """Alerts still to send whose task was lost (Redis restarted) or whose worker died."""
    now = timezone.now()
    return list(
        Alert.objects.filter(
            sent_at=None, cancelled_at=None, email_error="", created_at__lt=now - older_than
        )
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Reads for the pages ---------------------------------------------------------------------
def alerts_for(user) -> QuerySet[Alert]:
    """The alerts a user may see: the direction sees them all, a gestionnaire their own."""
    alerts = Alert.objects.select_related(
        "item__dossier", "item__assigned_to", "item__sender_intervenant", "item__sender_client"
    ).select_related("recipient")
    if has_role(user, Role.DIRECTION):
        return alerts
    return alerts.filter(recipient=user)


def badge_count(user) -> int:
    """Alerts that still call for an action: on items still open, or whose email was refused."""
    open_item = Q(item__status__in=OPEN_STATUSES)
    if has_role(user, Role.DIRECTION):
        mine = Q(recipient=user) | Q(kind=Alert.Kind.ESCALATION) | ~Q(email_error="")
    else:
        mine = Q(recipient=user)
    return (
        Alert.objects.filter(mine)
        .filter(open_item | ~Q(email_error=""))
        .aggregate(count=Count("pk"))["count"]
    )
