"""Incoming items (letters, emails, visits, calls), their points, replies and the event log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from correspondence import deadlines


class Channel(models.TextChoices):
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("Email")
    VISIT = "visit", _("Visit")
    CALL = "call", _("Phone call")


ORAL_CHANNELS = (Channel.VISIT, Channel.CALL)
WRITTEN_CHANNELS = (Channel.LETTER, Channel.EMAIL)


class Kind(models.TextChoices):
    REQUEST = "request", _("Request")
    # R10: a visit is an appointment, a routine request, or the delivery of a bailiff's act.
    APPOINTMENT = "appointment", _("Appointment")
    ROUTINE = "routine", _("Routine request")
    BAILIFF_ACT = "bailiff_act", _("Bailiff's act")


class Level(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")


class Status(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS)


class IncomingItem(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REQUEST)
    received_at = models.DateTimeField(_("received at"))
    sender_intervenant = models.ForeignKey(
        "contacts.Intervenant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incoming_items",
        verbose_name=_("sender (intervenant)"),
    )
    sender_client = models.ForeignKey(
        "contacts.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incoming_items",
        verbose_name=_("sender (client)"),
    )
    dossier = models.ForeignKey(
        "contacts.Dossier",
        on_delete=models.PROTECT,
        related_name="incoming_items",
        verbose_name=_("dossier"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    # An email's own Message-ID: our reply refers to it (In-Reply-To) so that it threads back.
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    # The email's own References (the conversation before it): our reply's References are these
    # and its Message-ID (RFC 5322 §3.6.4), so the whole conversation stays one thread.
    # db_default: rows written by SQL alone (the benchmark's million items) need no value.
    references = models.TextField(_("References"), blank=True, default="", db_default="")
    # R6: a recommandé is answered by recommandé; its tracking number is kept.
    registered = models.BooleanField(_("registered letter"), default=False)
    tracking_number = models.CharField(_("tracking number"), max_length=20, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_items",
        verbose_name=_("property manager in charge"),
    )
    priority = models.PositiveSmallIntegerField(
        _("importance"), choices=Level.choices, default=Level.NORMAL
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Level.choices, default=Level.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    # When the original (scan of a letter, .eml of an email) was filed in the GED (R7).
    original_filed_at = models.DateTimeField(_("original filed in the GED"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # R1: the mandate that entitled the sender, or the direction's written override.
    mandate = models.ForeignKey(
        "contacts.Mandate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mandate"),
    )
    forced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("forced by"),
    )
    forced_reason = models.TextField(_("justification of the override"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)

    class Meta:
        verbose_name = _("incoming item")
        verbose_name_plural = _("incoming items")
        ordering = ["due_at", "received_at"]
        indexes = [
            # The work list and the deadline sweep read only what is still open.
            models.Index(
                fields=["assigned_to", "due_at"],
                name="item_open_due_idx",
                condition=Q(answered_at=None, closed_at=None),
            ),
            models.Index(
                fields=["due_at"], name="item_due_unanswered_idx", condition=Q(answered_at=None)
            ),
            models.Index(fields=["dossier", "received_at"], name="item_dossier_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(sender_intervenant__isnull=False, sender_client__isnull=True)
                    | Q(sender_intervenant__isnull=True, sender_client__isnull=False)
                ),
                name="item_one_sender",
                violation_error_message=_(
                    "An item has exactly one sender: an intervenant or a client."
                ),
            ),
            models.CheckConstraint(
                condition=Q(registered=False, tracking_number="")
                | Q(registered=True, channel=Channel.LETTER) & ~Q(tracking_number=""),
                name="item_registered_letter_has_tracking",
                violation_error_message=_("A registered letter needs its tracking number."),
            ),
            # R7: a letter or an email leaves "received" only once its original is in the GED.
            models.CheckConstraint(
                condition=~Q(channel__in=WRITTEN_CHANNELS)
                | Q(status=Status.RECEIVED)
                | Q(original_filed_at__isnull=False),
                name="item_written_original_filed",
                violation_error_message=_("The original must be filed in the GED first."),
            ),
            # R10: a visit is an appointment, a routine request or a bailiff's act.
            models.CheckConstraint(
                condition=~Q(channel=Channel.VISIT) | ~Q(kind=Kind.REQUEST),
                name="item_visit_kind",
                violation_error_message=_(
                    "Say whether the visit is an appointment, a routine request or a bailiff's act."
                ),
            ),
            models.CheckConstraint(
                condition=Q(forced_by__isnull=True) | ~Q(forced_reason=""),
                name="item_forced_has_reason",
                violation_error_message=_("A forced registration needs a written justification."),
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True)
                | Q(status__in=[Status.ANSWERED, Status.CLOSED]),
                name="item_answered_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("correspondence:item", args=[self.pk])

    @property
    def sender(self):
        return self.sender_intervenant or self.sender_client

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_oral(self) -> bool:
        return self.channel in ORAL_CHANNELS

    def compute_due_at(self):
        return deadlines.due_at(channel=self.channel, received_at=self.received_at)

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_open and self.due_at is not None and self.due_at <= now

    # The item's page has the GED's upload form (scans, the .eml of an email registered by hand).
    ged_uploads = True

    def ged_access_allowed(self, user) -> bool:
        """GED hook: the documents of an item are for the agency's staff (see README, GED)."""
        from accounts.roles import user_roles

        return bool(user_roles(user))


class RequestPoint(models.Model):
    """One point of the request: the reply answers each one (R5)."""

    item = models.ForeignKey(IncomingItem, on_delete=models.CASCADE, related_name="points")
    position = models.PositiveSmallIntegerField(_("number"))
    text = models.TextField(_("point"))

    class Meta:
        verbose_name = _("request point")
        verbose_name_plural = _("request points")
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="point_unique_position"),
            models.CheckConstraint(condition=~Q(text=""), name="point_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text[:60]}"


class Reply(models.Model):
    """The written answer to an item: dated, with the dossier references, point by point (R5)."""

    class Via(models.TextChoices):
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("Email")

    item = models.ForeignKey(IncomingItem, on_delete=models.PROTECT, related_name="replies")
    via = models.CharField(_("sent by"), max_length=10, choices=Via.choices)
    dated = models.DateField(_("date"))
    dossier_reference = models.CharField(_("dossier reference"), max_length=40)
    registered = models.BooleanField(_("registered letter"), default=False)
    tracking_number = models.CharField(_("tracking number"), max_length=20, blank=True)
    recipient_email = models.EmailField(_("recipient's email"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    # The PDF of a letter, the .eml copy of an email, in the GED.
    document = models.ForeignKey(
        "ged.Document",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("document"),
    )
    email_sent_at = models.DateTimeField(_("email sent at"), null=True, blank=True)
    # Claim marker of the worker sending the email (see correspondence.mail).
    email_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The task holding the claim: its retry after an outage takes the reply back at once.
    email_claimed_by = models.CharField(max_length=64, blank=True, default="", editable=False)
    email_error = models.TextField(_("email error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(dossier_reference=""), name="reply_has_dossier_reference"
            ),
            models.CheckConstraint(
                condition=Q(registered=False, tracking_number="")
                | Q(registered=True, via="letter") & ~Q(tracking_number=""),
                name="reply_registered_letter_has_tracking",
            ),
            # R6: a tracking number identifies one item of mail: two replies never share one.
            models.UniqueConstraint(
                fields=["tracking_number"],
                condition=~Q(tracking_number=""),
                name="reply_unique_tracking_number",
                violation_error_message=_(
                    "This tracking number is already recorded for another letter: each "
                    "registered letter has its own."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(via="email") | ~Q(recipient_email=""),
                name="reply_email_has_recipient",
            ),
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~Q(message_id=""),
                name="reply_unique_message_id",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="reply_email_unsent_idx",
                condition=Q(via="email", email_sent_at=None),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_reference} · {self.dated:%d/%m/%Y}"

    def get_absolute_url(self) -> str:
        return self.item.get_absolute_url()

    def ged_access_allowed(self, user) -> bool:
        return self.item.ged_access_allowed(user)


class ReplyAnswer(models.Model):
    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="answers")
    point = models.ForeignKey(RequestPoint, on_delete=models.PROTECT, related_name="answers")
    text = models.TextField(_("answer"))

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["reply", "point"], name="answer_one_per_point"),
            models.CheckConstraint(condition=~Q(text=""), name="answer_not_empty"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Event(models.Model):
    """An entry of the dossier's event log (évènementiel), append-only (see migration 0002)."""

    class Destination(models.TextChoices):
        EVENT_LOG = "event_log", _("Event log")
        # R9: the exchange concerns a job: confirm it on its Redmine ticket.
        REDMINE_TICKET = "redmine_ticket", _("Redmine ticket")

    dossier = models.ForeignKey("contacts.Dossier", on_delete=models.PROTECT, related_name="events")
    item = models.ForeignKey(
        IncomingItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    label = models.CharField(_("event"), max_length=120)
    text = models.TextField(_("written confirmation"))
    occurred_at = models.DateTimeField(_("occurred at"))
    destination = models.CharField(
        _("confirmed on"), max_length=20, choices=Destination.choices, default=Destination.EVENT_LOG
    )
    # R9: an exchange about a job is confirmed on its work request's Redmine issue too.
    work_request = models.ForeignKey(
        "redmine_bridge.WorkRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("work request"),
    )
    # ...as this note, whose push state the event log shows.
    issue_note = models.OneToOneField(
        "redmine_bridge.IssueNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="event",
        verbose_name=_("note on the Redmine issue"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["occurred_at"]
        indexes = [models.Index(fields=["dossier", "occurred_at"], name="event_dossier_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="event_has_text"),
            models.CheckConstraint(
                condition=Q(destination="redmine_ticket", work_request__isnull=False)
                | Q(destination="event_log", work_request__isnull=True),
                name="event_redmine_has_work_request",
            ),
            models.CheckConstraint(
                condition=Q(issue_note=None) | Q(destination="redmine_ticket"),
                name="event_note_on_redmine_ticket",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Activity(models.Model):
    """Who changed what on an item, and when: the item's and the dossier's timeline."""

    class Action(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        FORCED = "forced", _("Registered without a valid mandate")
        # R10: a bailiff came for something else than an act; who registered it says so.
        NOT_BAILIFF_ACT = "not_bailiff_act", _("Declared not the delivery of a bailiff's act")
        STARTED = "started", _("Processing started")
        ASSIGNED = "assigned", _("Reassigned")
        REPLIED = "replied", _("Answered")
        EVENT = "event", _("Written confirmation recorded")
        CLOSED = "closed", _("Closed")

    item = models.ForeignKey(IncomingItem, on_delete=models.CASCADE, related_name="activities")
    dossier = models.ForeignKey("contacts.Dossier", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    detail = models.TextField(_("detail"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["item", "at"], name="activity_item_idx"),
            models.Index(fields=["dossier", "at"], name="activity_dossier_idx"),
        ]

    def __str__(self) -> str:
        return self.get_action_display()


class AlertClock(models.Model):
    """The alert clock of an item (R8): its three thresholds and the next one to handle.

    A table of its own rather than columns of IncomingItem: the sweep moves `next_alert_at` on
    thousands of rows a minute, and PostgreSQL cannot update an indexed column in place (no HOT
    update), so each move adds an entry to every index of the table: 2 here, 14 on the items.
    A row exists while its item still has an alert to come: registration creates it, the sweep
    deletes it once the escalation is raised, answering or closing the item deletes it; the
    table holds about the open items, whatever the history.
    """

    item = models.OneToOneField(
        IncomingItem, on_delete=models.CASCADE, primary_key=True, related_name="alert_clock"
    )
    # The item's gestionnaire, kept in step by item_assign: the sweep reads this table alone.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Fixed with the deadline (see correspondence.alerts.new_clock), so that changing the
    # calendar or the shares moves none of them once set.
    warn_at = models.DateTimeField(_("warning at"))
    due_at = models.DateTimeField(_("answer due"))
    escalate_at = models.DateTimeField(_("escalation at"))
    # The first of the three that the sweep has not handled yet.
    next_alert_at = models.DateTimeField(_("next alert at"))

    class Meta:
        verbose_name = _("alert clock")
        verbose_name_plural = _("alert clocks")
        indexes = [
            # The sweep's one read: the clocks whose next threshold has passed.
            models.Index(fields=["next_alert_at"], name="alert_clock_next_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} · {self.next_alert_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """A deadline alert (R8), and the outbox of its email: at most one per item and kind.

    Created by the sweep (correspondence.alerts.alerts_sweep), delivered by a task that claims it
    (`claimed_until`, `claimed_by`), then marked `sent_at`; a permanent refusal of the SMTP
    server is kept in `email_error` for the direction to see. The daily digest is an alert too,
    with no item, one per day.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", _("Deadline approaching")
        OVERDUE = "overdue", _("Deadline passed")
        ESCALATION = "escalation", _("Escalated to the direction")
        DIGEST = "digest", _("Daily digest of overdue items")

    # Sent to the direction rather than to one gestionnaire.
    DIRECTION_KINDS = (Kind.ESCALATION, Kind.DIGEST)

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    item = models.ForeignKey(
        IncomingItem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("item"),
        db_index=False,  # alert_one_per_item_and_kind starts with the item: it serves the lookups
        # No foreign key in the database for the item and the recipient: PostgreSQL checks each
        # with one query per row inserted, a third of the sweep's time (2 × 2,000 checks). The
        # sweep copies both ids from the alert clocks it has locked, whose own foreign keys hold
        # them: neither the item nor the user can go before it commits. Deleting goes through
        # Django, which applies CASCADE and PROTECT itself.
        db_constraint=False,
    )
    # The gestionnaire in charge when the alert was raised; None: the direction.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("recipient"),
        db_index=False,  # alert_recipient_idx starts with the recipient
        db_constraint=False,  # see the item
    )
    # The threshold that raised it (warn_at, due_at, escalate_at), or the digest's day at 00:00.
    threshold_at = models.DateTimeField(_("threshold"))
    digest_day = models.DateField(_("day"), null=True, blank=True)
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    # Fixed at creation: a resent alert carries the same Message-ID, so that it can be told apart.
    message_id = models.CharField(_("Message-ID"), max_length=255)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    claimed_by = models.CharField(max_length=64, blank=True, editable=False)
    sent_at = models.DateTimeField(_("email sent at"), null=True, blank=True)
    # The item was answered before its alert left: the email is not sent.
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    email_error = models.TextField(_("email error"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The rule holds even if the sweep's claim were wrong: one alert per item and kind.
            models.UniqueConstraint(
                fields=["item", "kind"],
                condition=Q(item__isnull=False),
                name="alert_one_per_item_and_kind",
            ),
            models.UniqueConstraint(
                fields=["digest_day"],
                condition=Q(kind="digest"),
                name="alert_one_digest_per_day",
            ),
            # A constraint rather than unique=True, which would add a second index (for LIKE
            # lookups, never made) that every alert raised would have to fill in.
            models.UniqueConstraint(fields=["message_id"], name="alert_unique_message_id"),
            models.CheckConstraint(
                condition=Q(kind="digest", item__isnull=True, digest_day__isnull=False)
                | (~Q(kind="digest") & Q(item__isnull=False, digest_day__isnull=True)),
                name="alert_digest_has_day_others_an_item",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["escalation", "digest"], recipient__isnull=True)
                | (~Q(kind__in=["escalation", "digest"]) & Q(recipient__isnull=False)),
                name="alert_recipient_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="alert_sent_or_cancelled",
            ),
        ]
        indexes = [
            # What is still to deliver (the redelivery sweep).
            models.Index(
                fields=["created_at"],
                name="alert_pending_idx",
                condition=Q(sent_at=None, cancelled_at=None, email_error=""),
            ),
            models.Index(fields=["recipient", "created_at"], name="alert_recipient_idx"),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def for_direction(self) -> bool:
        return self.kind in self.DIRECTION_KINDS
