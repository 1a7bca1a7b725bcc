"""The email channel: the mailboxes read, every message taken from them, and what became of it.

A message is taken once: its mailbox's UIDVALIDITY + UID and its Message-ID are unique in the
database, so a crash between registration and the move to the archive folder, or two readers at
once, never register it twice (see `mailbox.services`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from correspondence import deadlines


class Mailbox(models.Model):
    """A mailbox configured in MAILBOX_URLS (its password stays in the environment)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    address = models.CharField(_("account"), max_length=255)
    folder = models.CharField(_("folder read"), max_length=255)
    archive_folder = models.CharField(_("archive folder"), max_length=255)
    # The UIDVALIDITY last seen: when the server changes it, every UID is new (RFC 3501).
    uidvalidity = models.PositiveBigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    # Claim of the reader at work: a second reader finds it in the future and leaves.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_run_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful read"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class State(models.TextChoices):
    # Taken from the server, not yet sorted (a reader died mid-way: the next one finishes it).
    PENDING = "pending", _("Being processed")
    REGISTERED = "registered", _("Registered")
    THREADED = "threaded", _("Reply in a thread")
    AUTOMATIC = "automatic", _("Automatic message")
    TRIAGE = "triage", _("To be sorted")
    QUARANTINED = "quarantined", _("Quarantined")
    DUPLICATE = "duplicate", _("Duplicate")
    DISMISSED = "dismissed", _("Dismissed")


class AutomaticKind(models.TextChoices):
    AUTO_REPLY = "auto_reply", _("Automatic reply")
    DELIVERY_FAILURE = "delivery_failure", _("Delivery failure")
    READ_RECEIPT = "read_receipt", _("Read receipt")
    BULK = "bulk", _("Bulk mail")


class InboundMessage(models.Model):
    """One message taken from a mailbox, kept whatever became of it."""

    State = State
    AutomaticKind = AutomaticKind

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="messages", verbose_name=_("mailbox")
    )
    uidvalidity = models.PositiveBigIntegerField(_("UIDVALIDITY"))
    uid = models.PositiveBigIntegerField(_("UID"))
    # The Message-ID header, or "sha256:<hex of the raw bytes>" when the message has none: the
    # same message reached twice (two mailboxes, a new UIDVALIDITY) is registered once.
    dedupe_key = models.CharField(_("de-duplication key"), max_length=255)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices)
    # The server's INTERNALDATE (the Date header when the server gives none): R8 runs from it.
    received_at = models.DateTimeField(_("received at"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    from_address = models.CharField(_("sender's address"), max_length=254, blank=True)
    from_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    body = models.TextField(_("text"), blank=True)
    automatic_kind = models.CharField(
        _("automatic message"), max_length=20, choices=AutomaticKind.choices, blank=True
    )
    # Why the message waits in triage (unknown sender, several dossiers, no valid mandate…).
    triage_reason = models.TextField(_("reason for triage"), blank=True)
    quarantine_reason = models.TextField(_("reason for quarantine"), blank=True)
    # The raw bytes of a quarantined message (others are in the GED as .eml).
    raw = models.BinaryField(_("raw message"), null=True, blank=True, editable=False)
    item = models.OneToOneField(
        "correspondence.IncomingItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_message",
        verbose_name=_("registered item"),
    )
    thread_item = models.ForeignKey(
        "correspondence.IncomingItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="thread_messages",
        verbose_name=_("thread of the item"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    # Failed processing attempts (a bug, not an outage): after a few, the message is quarantined
    # so that it never blocks the others.
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    ingested_at = models.DateTimeField(_("taken from the server at"), default=timezone.now)
    archived_at = models.DateTimeField(_("moved to the archive folder at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("sorted at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sorted by"),
    )
    dismiss_reason = models.TextField(_("reason for dismissal"), blank=True)
    # A gestionnaire has read a reply threaded on one of their items (or split it off).
    acknowledged_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("email received")
        verbose_name_plural = _("emails received")
        ordering = ["-received_at", "-pk"]
        permissions = [("view_quarantine", _("Can see quarantined emails and their raw bytes"))]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="mailbox_msg_triage_idx",
                condition=Q(state="triage"),
            ),
            models.Index(
                fields=["received_at"],
                name="mailbox_msg_quarantine_idx",
                condition=Q(state="quarantined"),
            ),
            models.Index(
                fields=["thread_item", "received_at"],
                name="mailbox_msg_unread_idx",
                condition=Q(acknowledged_at=None, thread_item__isnull=False),
            ),
            # The automatic messages no item's thread shows, until someone reads them.
            models.Index(
                fields=["received_at"],
                name="mailbox_msg_auto_unlinked_idx",
                condition=Q(state="automatic", thread_item=None, acknowledged_at=None),
            ),
            models.Index(
                fields=["mailbox", "uidvalidity"],
                name="mailbox_msg_unarchived_idx",
                condition=Q(archived_at=None),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "uidvalidity", "uid"], name="mailbox_msg_unique_uid"
            ),
            # A duplicate row records that the same message came again; the original is unique.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~Q(state="duplicate"),
                name="mailbox_msg_unique_dedupe_key",
            ),
            models.CheckConstraint(condition=~Q(dedupe_key=""), name="mailbox_msg_has_key"),
            models.CheckConstraint(
                condition=~Q(state="registered") | Q(item__isnull=False),
                name="mailbox_msg_registered_has_item",
            ),
            models.CheckConstraint(
                condition=~Q(state="threaded") | Q(thread_item__isnull=False),
                name="mailbox_msg_threaded_has_item",
            ),
            models.CheckConstraint(
                condition=~Q(state="automatic") | ~Q(automatic_kind=""),
                name="mailbox_msg_automatic_has_kind",
            ),
            models.CheckConstraint(
                condition=~Q(state="triage") | ~Q(triage_reason=""),
                name="mailbox_msg_triage_has_reason",
            ),
            models.CheckConstraint(
                condition=(~Q(state="quarantined") | ~Q(quarantine_reason="")),
                name="mailbox_msg_quarantine_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(state="duplicate") | Q(duplicate_of__isnull=False),
                name="mailbox_msg_duplicate_has_original",
            ),
            models.CheckConstraint(
                condition=~Q(state="dismissed")
                | (~Q(dismiss_reason="") & Q(resolved_by__isnull=False)),
                name="mailbox_msg_dismissed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id or f"UID {self.uid}"

    def get_absolute_url(self) -> str:
        return reverse("mailbox:message", args=[self.pk])

    @property
    def due_at(self):
        """R8: the answer is due 48 hours after reception, even while the message is sorted."""
        return deadlines.due_at(channel="email", received_at=self.received_at)

    def is_overdue(self, now=None) -> bool:
        due = self.due_at
        return due is not None and due <= (now or timezone.now())

    def ged_access_allowed(self, user) -> bool:
        """GED hook: an email's .eml and attachments are for the agency's staff, like its item."""
        from accounts.roles import user_roles

        return bool(user_roles(user))


class RefusedAttachment(models.Model):
    """An attachment the GED refused: listed with its reason, never silently dropped."""

    message = models.ForeignKey(
        InboundMessage, on_delete=models.CASCADE, related_name="refused_attachments"
    )
    # The attachment's rank in the message, so that re-processing a message stores it once.
    position = models.PositiveSmallIntegerField(_("number"))
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("declared type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("refused attachment")
        verbose_name_plural = _("refused attachments")
        ordering = ["message", "position"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="mailbox_refused_has_reason"),
            models.UniqueConstraint(
                fields=["message", "position"], name="mailbox_refused_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class SentCopy(models.Model):
    """The copy of one of our email replies appended to a mailbox's Sent folder."""

    reply = models.OneToOneField(
        "correspondence.Reply", on_delete=models.PROTECT, related_name="+", primary_key=True
    )
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="+")
    appended_at = models.DateTimeField(_("appended at"), default=timezone.now)

    class Meta:
        verbose_name = _("copy in the Sent folder")
        verbose_name_plural = _("copies in the Sent folder")

    def __str__(self) -> str:
        return str(self.reply_id)
