"""Reads of the correspondence app, each in a constant number of queries."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from correspondence.models import OPEN_STATUSES, Activity, Event, IncomingItem, Kind
from ged.models import Document

_ITEM_LIST_RELATED = ("dossier", "sender_intervenant", "sender_client", "assigned_to")


def work_list(
    *, user, channel: str = "", status: str = "", dossier: str = ""
) -> QuerySet[IncomingItem]:
    """The user's open items, the most urgent deadline first (items without deadline last)."""
    items = IncomingItem.objects.filter(assigned_to=user, status__in=OPEN_STATUSES).select_related(
        *_ITEM_LIST_RELATED
    )
    if channel:
        items = items.filter(channel=channel)
    if status == "overdue":
        items = items.filter(due_at__lte=timezone.now())
    elif status:
        items = items.filter(status=status)
    if dossier:
        items = items.filter(dossier__reference__icontains=dossier.strip())
    return items.order_by(F("due_at").asc(nulls_last=True), "received_at")


def action_list(*, user) -> QuerySet[IncomingItem]:
    """R10: the routine requests the user must fit into their actions, by priority then due date."""
    return (
        IncomingItem.objects.filter(assigned_to=user, status__in=OPEN_STATUSES, kind=Kind.ROUTINE)
        .select_related(*_ITEM_LIST_RELATED)
        .order_by("-priority", "-urgency", F("due_at").asc(nulls_last=True), "received_at")
    )


def item_detail(pk: int) -> IncomingItem:
    return (
        IncomingItem.objects.select_related(
            "dossier__client",
            "dossier__gestionnaire",
            "sender_intervenant",
            "sender_client",
            "assigned_to",
            "created_by",
            "forced_by",
            "mandate",
        )
        .prefetch_related("points")
        .get(pk=pk)
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "activity", "event" or "document"
    label: str
    detail: str
    actor: object
    item: IncomingItem | None
    note: object = None  # an event confirmed on a Redmine issue: its IssueNote (push state)


def _entries(activities, events, documents, items_by_id) -> list[TimelineEntry]:
    entries = (
        [
            TimelineEntry(a.at, "activity", a.get_action_display(), a.detail, a.actor, a.item)
            for a in activities
        ]
        + [
            TimelineEntry(
                e.occurred_at, "event", e.label, e.text, e.recorded_by, e.item, e.issue_note
            )
            for e in events
        ]
        + [
            # The GED row itself records who filed which scan or email, and when (R7).
            TimelineEntry(
                d.added_at,
                "document",
                _("Document filed in the GED"),
                d.original_filename,
                d.added_by,
                items_by_id.get(d.owner_id),
            )
            for d in documents
        ]
    )
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def _item_documents(item_ids):
    return Document.objects.filter(
        owner_type=ContentType.objects.get_for_model(IncomingItem), owner_id__in=item_ids
    ).select_related("added_by")


def item_timeline(item: IncomingItem) -> list[TimelineEntry]:
    activities = Activity.objects.filter(item=item).select_related("actor", "item")
    events = Event.objects.filter(item=item).select_related("recorded_by", "item", "issue_note")
    return _entries(activities, events, _item_documents([item.pk]), {item.pk: item})


def dossier_timeline(dossier, *, limit: int = 200) -> list[TimelineEntry]:
    """Items, replies, documents and events of a dossier in one order, newest first (4 queries)."""
    activities = (
        Activity.objects.filter(dossier=dossier)
        .select_related("actor", "item")
        .order_by("-at")[:limit]
    )
    events = (
        Event.objects.filter(dossier=dossier)
        .select_related("recorded_by", "item", "issue_note")
        .order_by("-occurred_at")[:limit]
    )
    items_by_id = IncomingItem.objects.filter(dossier=dossier).in_bulk()
    documents = _item_documents(list(items_by_id)).order_by("-added_at")[:limit]
    return _entries(activities, events, documents, items_by_id)[:limit]
