"""What must reach Redmine, kept in the database first (an outbox), and what came back from it.

R3: an approved artisan gets a Redmine account and membership (ArtisanAccount).
R4: every work request becomes exactly one issue in the project "travaux gestion" (WorkRequest).
R9: an oral exchange about a job is confirmed by a note on its issue (IssueNote).

Each outbox row carries the same push state (OutboxState): a claim with a lease (who is pushing
now), the attempts, the next attempt, the time it reached Redmine, and the last error, permanent
(`failed_at`: a person must act) or transient (retried with backoff).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Dossier, Intervenant


class PushState(models.TextChoices):
    """Derived from an outbox row's timestamps, never stored."""

    PENDING = "pending", _("Waiting for Redmine")
    PUSHED = "pushed", _("In Redmine")
    FAILED = "failed", _("Refused by Redmine")


class OutboxState(models.Model):
    """The push state of a row bound for Redmine (see the module docstring)."""

    # Claimed by the worker pushing it; a claim older than the lease belongs to a dead worker.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True, editable=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0, editable=False)
    next_attempt_at = models.DateTimeField(
        _("next attempt at"), default=timezone.now, editable=False
    )
    pushed_at = models.DateTimeField(_("in Redmine since"), null=True, blank=True, editable=False)
    failed_at = models.DateTimeField(_("refused at"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def push_state(self) -> str:
        if self.pushed_at:
            return PushState.PUSHED
        if self.failed_at:
            return PushState.FAILED
        return PushState.PENDING

    def get_push_state_display(self) -> str:
        return PushState(self.push_state).label


def _outbox_constraints(prefix: str) -> list:
    return [
        # Pushed and refused are exclusive; a refusal says why.
        models.CheckConstraint(
            condition=Q(pushed_at=None) | Q(failed_at=None), name=f"{prefix}_pushed_or_failed"
        ),
        models.CheckConstraint(
            condition=Q(failed_at=None) | ~Q(last_error=""), name=f"{prefix}_failure_reason"
        ),
    ]


def _pending_index(prefix: str) -> models.Index:
    # The sweep's query: what is still waiting, by its next attempt.
    return models.Index(
        fields=["next_attempt_at"],
        name=f"{prefix}_pending_idx",
        condition=Q(pushed_at=None, failed_at=None),
    )


class WorkRequest(OutboxState):
    """A demande de travaux for an approved artisan, pushed as one Redmine issue (R3, R4)."""

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("Not urgent")
        URGENT = "urgent", _("Urgent")
        IMMEDIATE = "immediate", _("Immediate")

    # Carried by the Redmine issue (custom field): looked up before creating, so that a retry,
    # a worker killed after Redmine answered, or two workers at once never make a second issue.
    # A UUID rather than the pk: test and production databases may share one Redmine.
    reference = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, related_name="work_requests", verbose_name=_("dossier")
    )
    artisan = models.ForeignKey(
        Intervenant,
        on_delete=models.PROTECT,
        related_name="work_requests",
        verbose_name=_("artisan"),
    )
    # The letter, email, visit or call the request comes from, when there is one.
    incoming_item = models.ForeignKey(
        "correspondence.IncomingItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_requests",
        verbose_name=_("incoming item"),
    )
    description = models.TextField(_("work to do"))
    place = models.CharField(
        _("place"), max_length=255, help_text=_("Where exactly: flat, floor, room…")
    )
    priority = models.CharField(
        _("importance"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    # Redmine's side.
    redmine_issue_id = models.PositiveIntegerField(
        _("Redmine issue"), null=True, blank=True, unique=True, editable=False
    )
    redmine_url = models.URLField(_("Redmine link"), blank=True, editable=False)
    redmine_status = models.CharField(
        _("Redmine status"), max_length=100, blank=True, editable=False
    )
    redmine_updated_at = models.DateTimeField(
        _("updated in Redmine at"), null=True, blank=True, editable=False
    )
    synced_at = models.DateTimeField(_("last sync"), null=True, blank=True, editable=False)
    # R4: closed in Redmine → done here, with Redmine's last note.
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, editable=False)
    last_note = models.TextField(_("last note in Redmine"), blank=True, editable=False)

    class Meta:
        verbose_name = _("work request")
        verbose_name_plural = _("work requests")
        ordering = ["-created_at", "-pk"]
        indexes = [_pending_index("rb_workrequest")]
        constraints = [
            *_outbox_constraints("rb_workrequest"),
            models.CheckConstraint(
                condition=Q(pushed_at=None) | Q(redmine_issue_id__isnull=False),
                name="rb_workrequest_pushed_issue",
            ),
            models.CheckConstraint(condition=~Q(description=""), name="rb_workrequest_description"),
            models.CheckConstraint(condition=~Q(place=""), name="rb_workrequest_place"),
        ]

    def __str__(self) -> str:
        return _("Work request #%(pk)s (%(dossier)s)") % {"pk": self.pk, "dossier": self.dossier}

    def clean(self):
        # R3: "Une fois l'agrément de l'artisan validé par la Direction": nothing is asked of a
        # technical intervenant the direction has not approved.
        if self.artisan_id:
            artisan = self.artisan
            if not artisan.is_technical:
                raise ValidationError(
                    {
                        "artisan": _(
                            "“%(name)s” is not a technical intervenant: work requests go to "
                            "artisans, companies or experts."
                        )
                        % {"name": artisan.name}
                    }
                )
            if not artisan.approved_at:
                raise ValidationError(
                    {
                        "artisan": _(
                            "“%(name)s” is not approved by the direction: no work request can "
                            "be sent to him yet."
                        )
                        % {"name": artisan.name}
                    }
                )
        if self.dossier_id and self.dossier.closed_at:
            raise ValidationError({"dossier": _("This dossier is closed.")})

    @property
    def redmine_priority(self) -> str:
        """The key of REDMINE_PRIORITIES: the urgency when urgent, else the importance."""
        if self.urgency != self.Urgency.NORMAL:
            return self.urgency
        return self.priority

    def subject(self) -> str:
        first_line = self.description.strip().splitlines()[0] if self.description.strip() else ""
        return f"[{self.dossier.reference}] {first_line}"


class IssueNote(OutboxState):
    """R9: the written confirmation of an oral exchange, as a note on the work request's issue."""

    # Written into the note itself and looked up in the issue's journals before adding: a note
    # is added once even when the answer to the first attempt was lost.
    marker = models.UUIDField(_("marker"), default=uuid.uuid4, unique=True, editable=False)
    work_request = models.ForeignKey(
        WorkRequest, on_delete=models.PROTECT, related_name="notes", verbose_name=_("work request")
    )
    text = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("note on a Redmine issue")
        verbose_name_plural = _("notes on Redmine issues")
        ordering = ["created_at", "pk"]
        indexes = [_pending_index("rb_issuenote")]
        constraints = [
            *_outbox_constraints("rb_issuenote"),
            models.CheckConstraint(condition=~Q(text=""), name="rb_issuenote_text"),
        ]

    def __str__(self) -> str:
        return _("Note of %(date)s on %(work_request)s") % {
            "date": self.created_at.date(),
            "work_request": self.work_request,
        }

    def redmine_text(self) -> str:
        author = self.author.get_full_name() or self.author.get_username()
        return f"{self.text.strip()}\n\n— {author} (gérance, réf. {self.marker})"


class ArtisanAccount(OutboxState):
    """R3: the Redmine user of an approved artisan and his membership of the project."""

    intervenant = models.OneToOneField(
        Intervenant,
        on_delete=models.PROTECT,
        related_name="redmine_account",
        verbose_name=_("artisan"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)
    redmine_user_id = models.PositiveIntegerField(
        _("Redmine user"), null=True, blank=True, editable=False
    )
    redmine_login = models.CharField(_("Redmine login"), max_length=60, blank=True, editable=False)
    redmine_membership_id = models.PositiveIntegerField(
        _("Redmine membership"), null=True, blank=True, editable=False
    )
    # Set once the account is locked in Redmine because the artisan was refused or his approval
    # revoked (or found that there was nothing to lock); cleared when he is approved again.
    locked_at = models.DateTimeField(
        _("locked in Redmine at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("artisan's Redmine account")
        verbose_name_plural = _("artisans' Redmine accounts")
        ordering = ["-created_at", "-pk"]
        indexes = [_pending_index("rb_artisanaccount")]
        constraints = [
            *_outbox_constraints("rb_artisanaccount"),
            # Pushed: an approved artisan's user and membership exist, or his access is locked.
            models.CheckConstraint(
                condition=Q(pushed_at=None)
                | Q(redmine_user_id__isnull=False, redmine_membership_id__isnull=False)
                | Q(locked_at__isnull=False),
                name="rb_artisanaccount_pushed_user",
            ),
        ]

    def __str__(self) -> str:
        return str(self.intervenant)


class SyncCursor(models.Model):
    """Where the pull of updated issues stopped (Redmine's own clock), and who is pulling."""

    name = models.CharField(max_length=40, primary_key=True)
    updated_since = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Redmine sync cursor")
        verbose_name_plural = _("Redmine sync cursors")

    def __str__(self) -> str:
        return self.name


def claim_lease() -> timedelta:
    """How long a claim holds: longer than a task may live (its hard time limit kills it)."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
