"""When an incoming item must be answered (R8).

The procedure counts real elapsed hours: 72 for a letter, 48 for an email. Durations are added in
UTC, so a clock change in the agency's time zone neither adds nor removes an hour. The calendar is
a small strategy object chosen by the CORRESPONDENCE_CALENDAR setting: "elapsed" (the procedure's
own wording, the default) or "working_days" (see correspondence.calendars). The callers
(`IncomingItem.compute_due_at()` and the services that set `due_at`) never see which one: a
deadline is computed once and stored, so changing the setting never moves a deadline already set.
"""

from datetime import UTC, datetime, timedelta
from typing import Protocol

from django.conf import settings


class Calendar(Protocol):
    def add_hours(self, start: datetime, hours: float) -> datetime:
        """The aware moment `hours` hours of this calendar after `start`."""


class ElapsedHoursCalendar:
    """Every hour counts, night, weekend and holiday alike (the procedure's own wording)."""

    def add_hours(self, start: datetime, hours: float) -> datetime:
        if start.tzinfo is None:
            raise ValueError("a deadline starts from an aware datetime")
        # Aware arithmetic in a ZoneInfo zone is wall-clock arithmetic: go through UTC.
        return start.astimezone(UTC) + timedelta(hours=hours)


def response_hours(channel: str) -> int | None:
    """Hours allowed to answer an item received on `channel`; None when the procedure sets none."""
    return settings.CORRESPONDENCE_RESPONSE_HOURS.get(channel)


def calendar() -> Calendar:
    if settings.CORRESPONDENCE_CALENDAR == "working_days":
        from correspondence.calendars import working_days_calendar

        return working_days_calendar(settings.AGENCY_DEPARTMENT, settings.TIME_ZONE)
    return ElapsedHoursCalendar()


def due_at(*, channel: str, received_at: datetime) -> datetime | None:
    hours = response_hours(channel)
    if hours is None:
        return None
    return calendar().add_hours(received_at, hours)
