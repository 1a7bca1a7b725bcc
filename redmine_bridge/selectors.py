"""Reads of the Redmine bridge that must stay at a constant number of queries."""

from django.db.models import Q, QuerySet

from contacts.models import Dossier, Intervenant
from redmine_bridge.models import ArtisanAccount, IssueNote, PushState, WorkRequest

DONE = "done"


def work_request_search(*, state: str = "", requested_by=None, managed_by=None) -> QuerySet:
    """Work requests, newest first, filtered by push state (or "done"), requester, manager."""
    work_requests = WorkRequest.objects.select_related(
        "dossier", "artisan", "requested_by", "incoming_item"
    ).order_by("-created_at", "-pk")
    if state == PushState.PENDING:
        work_requests = work_requests.filter(pushed_at=None, failed_at=None)
    elif state == PushState.FAILED:
        work_requests = work_requests.filter(failed_at__isnull=False)
    elif state == PushState.PUSHED:
        work_requests = work_requests.filter(pushed_at__isnull=False, done_at=None)
    elif state == DONE:
        work_requests = work_requests.filter(done_at__isnull=False)
    if requested_by is not None:
        work_requests = work_requests.filter(requested_by=requested_by)
    if managed_by is not None:
        work_requests = work_requests.filter(dossier__gestionnaire=managed_by)
    return work_requests


def work_request_notes(work_request: WorkRequest) -> QuerySet[IssueNote]:
    return work_request.notes.select_related("author").order_by("created_at", "pk")


def dossier_redmine_notes(dossier: Dossier) -> QuerySet[IssueNote]:
    """R9: the notes pushed (or waiting) on the issues of a dossier, for its event log."""
    return (
        IssueNote.objects.filter(work_request__dossier=dossier)
        .select_related("author", "work_request")
        .order_by("created_at", "pk")
    )


def approved_artisans() -> QuerySet[Intervenant]:
    """R3: the intervenants a work request may go to: technical and approved."""
    return Intervenant.objects.filter(
        category=Intervenant.Category.TECHNICAL, approved_at__isnull=False
    ).order_by("name", "pk")


def open_dossiers() -> QuerySet[Dossier]:
    return Dossier.objects.filter(closed_at=None).select_related("client").order_by("reference")


def failed_counts() -> dict[str, int]:
    """What Redmine refused and waits for a person, per kind (three small indexed counts)."""
    return {
        "work_requests": WorkRequest.objects.filter(failed_at__isnull=False).count(),
        "notes": IssueNote.objects.filter(failed_at__isnull=False).count(),
        "artisan_accounts": ArtisanAccount.objects.filter(failed_at__isnull=False).count(),
    }


def artisan_accounts_for(intervenant_ids) -> dict[int, ArtisanAccount]:
    return {
        account.intervenant_id: account
        for account in ArtisanAccount.objects.filter(Q(intervenant_id__in=list(intervenant_ids)))
    }


def item_for_work_request(value: str):
    """The incoming item a work request is asked from (`?item=` on the form), or None."""
    from correspondence.models import IncomingItem

    if not value.isdigit():
        return None
    return (
        IncomingItem.objects.select_related("dossier")
        .prefetch_related("points")
        .filter(pk=value)
        .first()
    )


def item_work_requests(item) -> QuerySet[WorkRequest]:
    """The work requests asked from an incoming item, oldest first."""
    return item.work_requests.select_related("artisan").order_by("created_at", "pk")
