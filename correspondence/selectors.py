"""Reads of the correspondence app, each in a constant number of queries."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet
from django.utils import timezone

from correspondence.models import OPEN_STATUSES, Activity, Event, IncomingItem, Kind

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
    kind: str  # "activity" or "event"
    label: str
    detail: str
    actor: object
    item: IncomingItem | None


def _entries(activities, events) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(a.at, "activity", a.get_action_display(), a.detail, a.actor, a.item)
        for a in activities
    ] + [
        TimelineEntry(e.occurred_at, "event", e.label, e.text, e.recorded_by, e.item)
        for e in events
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def item_timeline(item: IncomingItem) -> list[TimelineEntry]:
    activities = Activity.objects.filter(item=item).select_related("actor", "item")
    events = Event.objects.filter(item=item).select_related("recorded_by", "item")
    return _entries(activities, events)


def dossier_timeline(dossier, *, limit: int = 200) -> list[TimelineEntry]:
    """Items, replies and events of a dossier in one order, newest first (two queries)."""
    activities = (
        Activity.objects.filter(dossier=dossier)
        .select_related("actor", "item")
        .order_by("-at")[:limit]
    )
    events = (
        Event.objects.filter(dossier=dossier)
        .select_related("recorded_by", "item")
        .order_by("-occurred_at")[:limit]
    )
    return _entries(activities, events)[:limit]
