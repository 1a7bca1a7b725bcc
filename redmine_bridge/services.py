"""Writes of the Redmine bridge: create what must reach Redmine, push it once, pull back statuses.

Creating (work_request_create, redmine_note_add, artisan_account_request) only writes rows and
enqueues their push after commit. Pushing (work_request_push, issue_note_push,
artisan_account_push) is what the tasks call with an id:
1. claim the row with a conditional UPDATE (a lease, so that a dead worker's claim expires);
2. talk to Redmine outside any transaction, looking first for what an earlier attempt may already
   have created (by the work request's reference, the note's marker, the artisan's email);
3. record the outcome: pushed, or the error (transient: next attempt with backoff; permanent:
   `failed_at`, shown to a person with a retry button).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Dossier, Intervenant
from redmine_bridge import client
from redmine_bridge.models import ArtisanAccount, IssueNote, SyncCursor, WorkRequest, claim_lease

logger = logging.getLogger(__name__)

ADD_PERMISSION = "redmine_bridge.add_workrequest"
RETRY_PERMISSION = "redmine_bridge.change_workrequest"
NOTE_PERMISSION = "redmine_bridge.add_issuenote"
ACCOUNT_RETRY_PERMISSION = "redmine_bridge.change_artisanaccount"  # the direction's
MAX_BACKOFF_SECONDS = 600
ISSUES_CURSOR = "issues"
# Redmine stamps `updated_on` when it saves an issue, before its transaction commits: an issue
# saved just before a pull may become visible only after a later issue moved the cursor past
# it. Each pull therefore reads again the last few minutes; applying an issue twice is harmless.
PULL_OVERLAP = timedelta(minutes=5)


@dataclass(frozen=True)
class Outcome:
    """What a push did: `retry_in` seconds when a transient error asks for another attempt."""

    done: bool = False
    retry_in: int | None = None
    error: str = ""


def backoff_seconds(attempts: int) -> int:
    """10 s, 20 s, 40 s… up to 10 minutes, with jitter so that retries do not come in waves."""
    base = min(10 * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return int(base * random.uniform(0.8, 1.2))  # noqa: S311 (jitter, not a secret)


def _enqueue(task_name: str, pk: int) -> None:
    from redmine_bridge import tasks

    task = getattr(tasks, task_name)
    # robust: a broker that is down must not fail a committed request; the sweep enqueues again.
    transaction.on_commit(lambda: task.delay(pk), robust=True)


# --- Claim and outcome, the same for the three outbox models -----------------------------------
def _claim(model, pk: int):
    """Claim the row for this worker; the row (attempts counted) or None if not ours to push."""
    now = timezone.now()
    claimed = (
        model.objects.filter(pk=pk, pushed_at=None, failed_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - claim_lease()))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return model.objects.get(pk=pk)


def _release(model, pk: int, **fields) -> None:
    model.objects.filter(pk=pk).update(claimed_at=None, **fields)


def _on_error(model, row, exc: client.RedmineError) -> Outcome:
    now = timezone.now()
    message = str(exc)
    if isinstance(exc, client.NotConfigured):
        # Not an attempt: everything waits until Redmine is configured.
        _release(
            model,
            row.pk,
            attempts=F("attempts") - 1,
            next_attempt_at=now + timedelta(seconds=settings.REDMINE_SWEEP_SECONDS),
        )
        return Outcome(error=message)
    if isinstance(exc, client.PermanentError):
        logger.warning("%s %s refused by Redmine: %s", model.__name__, row.pk, message)
        _release(model, row.pk, failed_at=now, last_error=message, last_error_at=now)
        return Outcome(error=message)
    delay = backoff_seconds(row.attempts)
    logger.info("%s %s: %s; retry in %s s", model.__name__, row.pk, message, delay)
    _release(
        model,
        row.pk,
        last_error=message,
        last_error_at=now,
        next_attempt_at=now + timedelta(seconds=delay),
    )
    return Outcome(retry_in=delay, error=message)


def _pushed(model, pk: int, **fields) -> Outcome:
    model.objects.filter(pk=pk, pushed_at=None).update(
        claimed_at=None, pushed_at=timezone.now(), failed_at=None, last_error="", **fields
    )
    return Outcome(done=True)


# --- Work requests (R3, R4) ---------------------------------------------------------------------
def work_request_create(
    *,
    dossier: Dossier,
    artisan: Intervenant,
    description: str,
    place: str,
    requested_by,
    priority: str = WorkRequest.Priority.NORMAL,
    urgency: str = WorkRequest.Urgency.NORMAL,
    incoming_item=None,
) -> WorkRequest:
    """Record a work request for an approved artisan; it is pushed to Redmine after commit."""
    if not requested_by.has_perm(ADD_PERMISSION):
        raise PermissionDenied(_("You may not file a work request."))
    work_request = WorkRequest(
        dossier=dossier,
        artisan=artisan,
        description=description.strip(),
        place=place.strip(),
        priority=priority,
        urgency=urgency,
        requested_by=requested_by,
        incoming_item=incoming_item,
    )
    if incoming_item is not None and incoming_item.dossier_id != dossier.pk:
        raise ValidationError(_("The work request and the item belong to different dossiers."))
    work_request.full_clean()
    with transaction.atomic():
        work_request.save()
        # R3: the artisan needs his Redmine account to be assigned the issue; ask for it now in
        # case the approval's signal was lost.
        _account_for(artisan)
        _enqueue("push_work_request", work_request.pk)
    return work_request


def work_request_push(*, work_request_id: int) -> Outcome:
    """Make the work request's Redmine issue exist, exactly once, and store its id and link."""
    if not client.is_configured():
        return Outcome(error=str(client.NotConfigured()))
    work_request = _claim(WorkRequest, work_request_id)
    if work_request is None:
        return Outcome()
    if not _may_receive_work(work_request.artisan):
        # R3: approved when the request was made, revoked (or refused) since. Redmine is not
        # asked: the issue would go to a locked user (a 422, whatever the retries).
        return _on_error(WorkRequest, work_request, client.PermanentError(_withdrawn_message()))
    try:
        assignee = _artisan_user_id(work_request.artisan)
        issue = None
        if work_request.attempts > 1:
            # An earlier attempt may have created the issue and died (or lost the answer)
            # before storing its id. On the first attempt nothing can exist yet: the reference
            # is new, which spares the look-up when everything goes well.
            issue = client.issue_find(reference=str(work_request.reference))
            if issue is not None and issue.assigned_to_id != assignee:
                # Created by an attempt for the artisan the work request had before it was
                # given to another (work_request_reassign): the issue follows.
                client.issue_assign(issue_id=issue.id, assigned_to_id=assignee)
        if issue is None:
            issue = client.issue_create(
                reference=str(work_request.reference),
                subject=work_request.subject(),
                description=_issue_description(work_request),
                priority=work_request.redmine_priority,
                assigned_to_id=assignee,
            )
    except client.RedmineError as exc:
        return _on_error(WorkRequest, work_request, exc)
    outcome = _pushed(
        WorkRequest,
        work_request.pk,
        redmine_issue_id=issue.id,
        redmine_url=issue.url,
        redmine_status=issue.status_name,
    )
    # Notes written before the issue existed were waiting for it.
    for note_id in IssueNote.objects.filter(
        work_request_id=work_request.pk, pushed_at=None, failed_at=None
    ).values_list("pk", flat=True):
        _enqueue("push_issue_note", note_id)
    return outcome


def _issue_description(work_request: WorkRequest) -> str:
    dossier = work_request.dossier
    requester = work_request.requested_by
    lines = [
        work_request.description.strip(),
        "",
        f"Lieu : {work_request.place}",
        f"Dossier : {dossier.reference} — {dossier.full_address}",
        f"Importance : {work_request.get_priority_display()} ; "
        f"urgence : {work_request.get_urgency_display()}",
        f"Demandé par : {requester.get_full_name() or requester.get_username()}",
        f"Référence gérance : {work_request.reference}",
    ]
    return "\n".join(lines)


def _may_receive_work(artisan: Intervenant) -> bool:
    """R3: only a technical intervenant approved by the direction is sent work."""
    return bool(artisan.approved_at) and artisan.is_technical


def _withdrawn_message() -> str:
    return _("The artisan's approval has been withdrawn: choose another approved artisan.")


def _artisan_user_id(artisan: Intervenant) -> int:
    """The artisan's Redmine user id, creating his account now if it is not there yet."""
    account = _account_for(artisan)
    if account.pushed_at is None:
        outcome = artisan_account_push(account_id=account.pk)
        account.refresh_from_db()
        if account.pushed_at is None:
            if account.failed_at:
                raise client.PermanentError(
                    _("The artisan's Redmine account could not be created: %(error)s")
                    % {"error": account.last_error}
                )
            raise client.TransientError(
                outcome.error or _("The artisan's Redmine account is being created.")
            )
    if account.locked_at is not None:
        # Never assign an issue to a locked user. Revoked since the check in work_request_push,
        # or approved again with the unlock still to push (its signal lost): then unlock first.
        if Intervenant.objects.filter(pk=artisan.pk, approved_at__isnull=False).exists():
            artisan_account_resync(intervenant_id=artisan.pk)
            raise client.TransientError(_("The artisan's Redmine account is being unlocked."))
        raise client.PermanentError(_withdrawn_message())
    return account.redmine_user_id


def work_request_retry(*, work_request: WorkRequest, by) -> WorkRequest:
    """A person fixed the cause of a refusal (key, data…): push again."""
    if not by.has_perm(RETRY_PERMISSION):
        raise PermissionDenied(_("You may not retry the sending to Redmine."))
    with transaction.atomic():
        retried = WorkRequest.objects.filter(pk=work_request.pk, failed_at__isnull=False).update(
            failed_at=None, next_attempt_at=timezone.now()
        )
        if not retried:
            raise ValidationError(_("This work request is not refused by Redmine."))
        # Its artisan's account may be what failed: without it the request cannot be pushed, so
        # it waits again too, whoever asks. Harmless for R3: the account's push checks the
        # approval again (`artisan_account_push`). The direction's own button retries the
        # accounts of artisans that no work request is waiting for.
        ArtisanAccount.objects.filter(
            intervenant_id=work_request.artisan_id, failed_at__isnull=False
        ).update(failed_at=None, next_attempt_at=timezone.now())
        _enqueue("push_work_request", work_request.pk)
    work_request.refresh_from_db()
    return work_request


def outbox_retry_failed(*, by=None) -> dict[str, int]:
    """Every refused row the person may retry waits again (the cause was fixed); counts per kind.

    `by` is the person asking from the pages; None is an operator's command (redmine_check),
    which retries everything. The artisans' accounts are the direction's (R3: it approves them),
    as on the artisan's own retry button: a gestionnaire's "everything" leaves them refused.
    """
    if by is not None and not by.has_perm(RETRY_PERMISSION):
        raise PermissionDenied(_("You may not retry the sending to Redmine."))
    kinds = [
        ("work_requests", WorkRequest, "push_work_request"),
        ("notes", IssueNote, "push_issue_note"),
    ]
    if by is None or by.has_perm(ACCOUNT_RETRY_PERMISSION):
        kinds.insert(0, ("artisan_accounts", ArtisanAccount, "push_artisan_account"))
    now = timezone.now()
    counts = {}
    with transaction.atomic():
        for name, model, task in kinds:
            pks = list(model.objects.filter(failed_at__isnull=False).values_list("pk", flat=True))
            model.objects.filter(pk__in=pks).update(failed_at=None, next_attempt_at=now)
            for pk in pks:
                _enqueue(task, pk)
            counts[name] = len(pks)
    return counts


def work_requests_withdraw(*, intervenant_id: int) -> int:
    """R3: the artisan was refused or revoked: his work requests not yet in Redmine are refused.

    Receiver of `artisan_withdrawn`, so that the gestionnaires see it at once, with what to do
    (work_request_reassign); their push would refuse them anyway (work_request_push). A row a
    live worker is pushing is left to it: it may already have created the issue.
    """
    now = timezone.now()
    if Intervenant.objects.filter(pk=intervenant_id, approved_at__isnull=False).exists():
        return 0  # approved again before this receiver ran
    return (
        WorkRequest.objects.filter(artisan_id=intervenant_id, pushed_at=None, failed_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - claim_lease()))
        .update(claimed_at=None, failed_at=now, last_error=_withdrawn_message(), last_error_at=now)
    )


def work_request_reassign(*, work_request: WorkRequest, artisan: Intervenant, by) -> WorkRequest:
    """Give a work request not yet in Redmine to another approved artisan, and push it again.

    Its reference stays: an issue an earlier attempt may have created is found, not doubled.
    """
    if not by.has_perm(RETRY_PERMISSION):
        raise PermissionDenied(_("You may not change the artisan of a work request."))
    work_request.artisan = artisan
    work_request.full_clean()  # R3: approved and technical
    now = timezone.now()
    with transaction.atomic():
        changed = (
            WorkRequest.objects.filter(pk=work_request.pk, pushed_at=None)
            .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - claim_lease()))
            .update(
                artisan=artisan,
                claimed_at=None,
                failed_at=None,
                last_error="",
                last_error_at=None,
                next_attempt_at=now,
            )
        )
        if not changed:
            raise ValidationError(
                _(
                    "This work request is already in Redmine, or being sent to it: its artisan "
                    "can no longer be changed here."
                )
            )
        _account_for(artisan)
        _enqueue("push_work_request", work_request.pk)
    work_request.refresh_from_db()
    return work_request


# --- Notes (R9) ------------------------------------------------------------------------------
def redmine_note_add(*, work_request: WorkRequest, text: str, author) -> IssueNote:
    """R9: confirm an oral exchange in writing on the work request's Redmine issue.

    The note is recorded now and pushed once after commit (or once the issue exists). Called
    from the work request page, and by the correspondence app for a visit or call about a job.
    """
    if not author.has_perm(NOTE_PERMISSION):
        raise PermissionDenied(_("You may not write on a Redmine issue."))
    note = IssueNote(work_request=work_request, text=(text or "").strip(), author=author)
    note.full_clean()
    with transaction.atomic():
        note.save()
        _enqueue("push_issue_note", note.pk)
    return note


def issue_note_push(*, note_id: int) -> Outcome:
    if not client.is_configured():
        return Outcome(error=str(client.NotConfigured()))
    waiting = IssueNote.objects.filter(pk=note_id, work_request__redmine_issue_id=None)
    if waiting.exists():
        return Outcome()  # pushed when its work request's issue exists (work_request_push)
    note = _claim(IssueNote, note_id)
    if note is None:
        return Outcome()
    issue_id = note.work_request.redmine_issue_id
    marker = str(note.marker)
    try:
        already = note.attempts > 1 and any(
            marker in journal.notes for journal in client.issue_journals(issue_id=issue_id)
        )
        if not already:
            client.issue_note_add(issue_id=issue_id, text=note.redmine_text())
    except client.RedmineError as exc:
        return _on_error(IssueNote, note, exc)
    return _pushed(IssueNote, note.pk)


# --- Artisans' accounts (R3) ---------------------------------------------------------------------
def _account_for(intervenant: Intervenant) -> ArtisanAccount:
    """The artisan's account row, created (and its push enqueued) when missing."""
    account = ArtisanAccount.objects.filter(intervenant=intervenant).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = ArtisanAccount.objects.create(intervenant=intervenant)
    except IntegrityError:  # created at the same moment by the signal or the sweep
        return ArtisanAccount.objects.get(intervenant=intervenant)
    _enqueue("push_artisan_account", account.pk)
    return account


def artisan_account_request(*, intervenant_id: int) -> ArtisanAccount | None:
    """R3: an approved artisan gets his Redmine account (receiver of `artisan_approved`)."""
    intervenant = Intervenant.objects.filter(
        pk=intervenant_id,
        approved_at__isnull=False,
        category=Intervenant.Category.TECHNICAL,
    ).first()
    if intervenant is None:
        return None
    account = _account_for(intervenant)
    if account.locked_at is not None:  # approved again after a revocation: unlock
        artisan_account_resync(intervenant_id=intervenant_id)
    return account


def artisan_account_resync(*, intervenant_id: int) -> bool:
    """Push the artisan's account again, to match his approval (receiver of `artisan_withdrawn`).

    Only an account this bridge registered is locked: a refused artisan who never had one gets
    none. The push itself reads the approval when it runs, so the latest decision wins.
    """
    with transaction.atomic():
        reset = ArtisanAccount.objects.filter(intervenant_id=intervenant_id).update(
            pushed_at=None,
            failed_at=None,
            claimed_at=None,
            attempts=0,
            next_attempt_at=timezone.now(),
            last_error="",
        )
        if reset:
            account_id = ArtisanAccount.objects.values_list("pk", flat=True).get(
                intervenant_id=intervenant_id
            )
            _enqueue("push_artisan_account", account_id)
    return bool(reset)


def artisan_account_push(*, account_id: int) -> Outcome:
    """Find the artisan's Redmine user by email (or create it), and make him a project member."""
    if not client.is_configured():
        return Outcome(error=str(client.NotConfigured()))
    account = _claim(ArtisanAccount, account_id)
    if account is None:
        return Outcome()
    artisan = account.intervenant
    if artisan.approved_at is None:
        return _artisan_account_lock(account)
    try:
        if not artisan.email:
            raise client.PermanentError(
                _(
                    "“%(name)s” has no email address: Redmine needs one to create his account. "
                    "Add it to the intervenant, then retry."
                )
                % {"name": artisan.name}
            )
        login = client.login_for(artisan.email)
        # Always looked up first: the user may exist from an earlier attempt, or from before.
        user = client.user_find(email=artisan.email, login=login)
        if user is None:
            firstname, _space, lastname = artisan.name.strip().partition(" ")
            user = client.user_create(
                login=login,
                firstname=firstname,
                lastname=lastname or firstname,
                email=artisan.email,
            )
        elif user.locked:
            client.user_unlock(user_id=user.id)  # approved again
        membership_id = client.membership_ensure(user_id=user.id)
    except client.RedmineError as exc:
        return _on_error(ArtisanAccount, account, exc)
    return _account_pushed(
        account,
        approved=True,
        redmine_user_id=user.id,
        redmine_login=user.login,
        redmine_membership_id=membership_id,
        locked_at=None,
    )


def _artisan_account_lock(account: ArtisanAccount) -> Outcome:
    """Refused or revoked: lock his Redmine user (ours, or the one with his email), if any."""
    artisan = account.intervenant
    try:
        user_id = account.redmine_user_id
        if user_id is None and artisan.email:
            user = client.user_find(email=artisan.email, login=client.login_for(artisan.email))
            user_id = user.id if user is not None else None
        if user_id is not None:
            client.user_lock(user_id=user_id)
    except client.RedmineError as exc:
        return _on_error(ArtisanAccount, account, exc)
    return _account_pushed(
        account, approved=False, redmine_user_id=user_id, locked_at=timezone.now()
    )


def _account_pushed(account: ArtisanAccount, *, approved: bool, **fields) -> Outcome:
    """Record the push, unless the approval changed while it ran: then push again."""
    # One UPDATE: a decision committed before it is seen by its condition; one committed after
    # it resets the row (artisan_account_resync), so the next push follows that decision.
    still = Q(intervenant__approved_at__isnull=not approved)
    if ArtisanAccount.objects.filter(still, pk=account.pk, pushed_at=None).update(
        claimed_at=None, pushed_at=timezone.now(), failed_at=None, last_error="", **fields
    ):
        return Outcome(done=True)
    _release(ArtisanAccount, account.pk)
    _enqueue("push_artisan_account", account.pk)
    return Outcome()


def artisan_account_retry(*, account: ArtisanAccount, by) -> ArtisanAccount:
    if not by.has_perm(ACCOUNT_RETRY_PERMISSION):
        raise PermissionDenied(_("You may not retry the sending to Redmine."))
    with transaction.atomic():
        retried = ArtisanAccount.objects.filter(pk=account.pk, failed_at__isnull=False).update(
            failed_at=None, next_attempt_at=timezone.now()
        )
        if not retried:
            raise ValidationError(_("This account is not refused by Redmine."))
        _enqueue("push_artisan_account", account.pk)
    account.refresh_from_db()
    return account


# --- Sweep: nothing is lost when a message is -----------------------------------------------------
SWEEP_BATCH = 500


def outbox_sweep() -> dict[str, int]:
    """Enqueue again whatever still waits for Redmine and is due; counts per kind.

    Also repairs what a lost signal left (the process died after the decision's commit, or its
    on-commit receiver failed: those are only logged): an approved artisan without an account
    gets one, and an account whose push no longer matches the approval (registered and
    unlocked for a refused or revoked artisan, locked for an approved one) waits again, to be
    pushed below in the same run. Rows are taken with SKIP LOCKED and their next attempt pushed
    back, so two sweeps at once enqueue each row once; a row enqueued twice anyway is pushed
    once (the claim).
    """
    if not client.is_configured():
        return {}
    missing = Intervenant.objects.filter(
        approved_at__isnull=False,
        category=Intervenant.Category.TECHNICAL,
        redmine_account__isnull=True,
    )
    created = ArtisanAccount.objects.bulk_create(
        [ArtisanAccount(intervenant=i) for i in missing[:SWEEP_BATCH]], ignore_conflicts=True
    )
    now = timezone.now()
    counts = {
        "new_artisan_accounts": len(created),
        "resynced_artisan_accounts": _artisan_accounts_resync_stale(now),
    }
    later = now + timedelta(seconds=max(settings.REDMINE_SWEEP_SECONDS * 3, 120))
    for name, model, task in (
        ("artisan_accounts", ArtisanAccount, "push_artisan_account"),
        ("work_requests", WorkRequest, "push_work_request"),
        ("notes", IssueNote, "push_issue_note"),
    ):
        with transaction.atomic():
            pks = list(
                model.objects.select_for_update(skip_locked=True)
                .filter(pushed_at=None, failed_at=None, next_attempt_at__lte=now)
                .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - claim_lease()))
                .order_by("next_attempt_at")
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            model.objects.filter(pk__in=pks).update(next_attempt_at=later)
            for pk in pks:
                _enqueue(task, pk)
        counts[name] = len(pks)
    return counts


def _artisan_accounts_resync_stale(now) -> int:
    """Make pending again the accounts whose last push contradicts the approval (two queries).

    A push in flight has no `pushed_at` and records the approval it saw by a conditional UPDATE
    (_account_pushed): it is left alone.
    """
    stale = Q(locked_at=None, intervenant__approved_at=None) | Q(
        locked_at__isnull=False, intervenant__approved_at__isnull=False
    )
    with transaction.atomic():
        pks = list(
            ArtisanAccount.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(stale, pushed_at__isnull=False)
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        return ArtisanAccount.objects.filter(pk__in=pks).update(
            pushed_at=None,
            failed_at=None,
            claimed_at=None,
            attempts=0,
            next_attempt_at=now,
            last_error="",
        )


# --- Status back (R4) --------------------------------------------------------------------------
def issues_pull() -> dict[str, int]:
    """Pull the project's issues updated since the last pull (and PULL_OVERLAP before it) and
    update their work requests.

    One request per page of 100 issues; closed in Redmine → done here, with Redmine's last note
    (one more request per issue that has just been closed). The cursor is claimed, so that two
    pulls at once do the work once.
    """
    if not client.is_configured():
        return {}
    SyncCursor.objects.get_or_create(name=ISSUES_CURSOR)
    now = timezone.now()
    claimed = (
        SyncCursor.objects.filter(name=ISSUES_CURSOR)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - claim_lease()))
        .update(claimed_at=now)
    )
    if not claimed:
        return {}
    cursor = SyncCursor.objects.get(name=ISSUES_CURSOR)
    counts = {"seen": 0, "updated": 0, "done": 0}
    newest = cursor.updated_since
    try:
        batch: list[client.Issue] = []
        since = cursor.updated_since and cursor.updated_since - PULL_OVERLAP
        for issue in client.issues_updated_since(since):
            batch.append(issue)
            if len(batch) == client.PAGE_SIZE:
                _apply(batch, counts)
                newest = _newest(batch, newest, now)
                batch = []
        _apply(batch, counts)
        newest = _newest(batch, newest, now)
    except client.RedmineError as exc:
        SyncCursor.objects.filter(name=ISSUES_CURSOR).update(
            claimed_at=None, updated_since=newest, last_error=str(exc), last_run_at=now
        )
        raise
    SyncCursor.objects.filter(name=ISSUES_CURSOR).update(
        claimed_at=None, updated_since=newest, last_error="", last_run_at=now
    )
    return counts


def _newest(batch, newest, now):
    """The cursor after `batch`: its newest stamp, capped at our clock.

    A stamp from the future (Redmine's clock ahead, or its server started again in another time
    zone: Redmine stores local times) would make every later pull skip the changes until then;
    capped, the cursor can only make a pull read more, never less.
    """
    stamps = [issue.updated_on for issue in batch if issue.updated_on]
    if newest is not None:
        stamps.append(newest)
    return min(max(stamps), now) if stamps else None


def _apply(batch: list[client.Issue], counts: dict[str, int]) -> None:
    if not batch:
        return
    counts["seen"] += len(batch)
    by_id = {issue.id: issue for issue in batch}
    now = timezone.now()
    for work_request in WorkRequest.objects.filter(redmine_issue_id__in=by_id):
        issue = by_id[work_request.redmine_issue_id]
        fields = {
            "redmine_status": issue.status_name,
            "redmine_updated_at": issue.updated_on,
            "synced_at": now,
        }
        if issue.closed and work_request.done_at is None:
            journals = client.issue_journals(issue_id=issue.id)
            fields["done_at"] = now
            fields["last_note"] = journals[-1].notes if journals else ""
            counts["done"] += 1
        elif not issue.closed and work_request.done_at is not None:
            fields["done_at"] = None  # reopened in Redmine
        WorkRequest.objects.filter(pk=work_request.pk).update(**fields)
        counts["updated"] += 1
