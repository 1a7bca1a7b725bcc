"""Helpers of the alert tests: items registered at a fixed moment, many of them in bulk."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from correspondence import alerts, services
from correspondence.models import AlertClock, Channel, IncomingItem

PARIS = ZoneInfo("Europe/Paris")
# Monday 30 November 2026, 09:00: an email received then is due on Wednesday at 09:00, its
# warning leaves on Tuesday at 21:00 (12 hours before), its escalation on Thursday at 09:00.
RECEIVED = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)


def register(
    *, gestionnaire, dossier, sender, channel=Channel.EMAIL, received_at=RECEIVED, subject="Bail"
) -> IncomingItem:
    """Register an item through the service, a minute after its reception."""
    with time_machine.travel(received_at + timedelta(minutes=1), tick=False):
        return services.item_register(
            channel=channel,
            received_at=received_at,
            sender=sender,
            dossier=dossier,
            subject=subject,
            points=["Copie du bail"],
            assigned_to=gestionnaire,
            by=gestionnaire,
        )


def make_items(
    count: int, *, gestionnaire, dossier, sender, channel=Channel.EMAIL, received_at=RECEIVED
) -> list[int]:
    """`count` open items in one INSERT, with the alert clocks the service would set."""
    items = []
    for number in range(count):
        item = IncomingItem(
            channel=channel,
            received_at=received_at,
            sender_intervenant=sender,
            dossier=dossier,
            subject=f"Demande {number}",
            assigned_to=gestionnaire,
            created_by=gestionnaire,
        )
        item.due_at = item.compute_due_at()
        items.append(item)
    IncomingItem.objects.bulk_create(items, batch_size=2000)
    clocks = [alerts.new_clock(item) for item in items]
    AlertClock.objects.bulk_create([clock for clock in clocks if clock], batch_size=2000)
    return [item.pk for item in items]


def clock_of(item: IncomingItem) -> AlertClock | None:
    """The item's alert clock as the database holds it now; None once it has no alert to come."""
    return AlertClock.objects.filter(item=item).first()


def next_alert_at(item: IncomingItem):
    clock = clock_of(item)
    return clock and clock.next_alert_at
