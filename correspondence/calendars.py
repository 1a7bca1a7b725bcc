"""The working-days calendar: the clock runs on working days only (R8, optional).

`correspondence.deadlines.calendar()` chooses between the procedure's real elapsed hours and this
calendar from the CORRESPONDENCE_CALENDAR setting. A working day counts its real hours from local
midnight to local midnight; Saturdays, Sundays and the public holidays of the agency's department
(overseas departments included, from the `holidays` package) do not count at all. A letter received
on Friday at 18:00 thus keeps 6 hours on Friday and is due on Wednesday at 18:00, not on Monday.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.core.exceptions import ImproperlyConfigured

# Alsace (67, 68) shares one set of extra holidays in the `holidays` package; Moselle has its own.
_DEPARTMENT_SUBDIVISIONS = {"67": "6AE", "68": "6AE"}
# A calendar never looks further than this for the working days it needs (a deadline of weeks).
_MAX_DAYS = 3660


def holiday_subdivision(department: str) -> str | None:
    """The `holidays.France` subdivision of a French department code; None for national holidays.

    "971" (Guadeloupe), "972" (Martinique), "973" (Guyane), "974" (La Réunion), "976" (Mayotte)
    and "57" (Moselle) have holidays of their own; "67" and "68" share Alsace's; any other
    metropolitan department ("75", "2A"…) has the national ones. Raises ValueError otherwise.
    """
    code = department.strip().upper()
    if not code:
        return None
    if code in _DEPARTMENT_SUBDIVISIONS:
        return _DEPARTMENT_SUBDIVISIONS[code]
    if code in holidays.France.subdivisions:
        return code
    if code in ("2A", "2B") or (code.isdigit() and len(code) == 2 and 1 <= int(code) <= 95):
        return None
    raise ValueError(f"{department!r} is not a French department code (e.g. 75, 972, 974)")


def check_department(department: str, *, setting: str = "AGENCY_DEPARTMENT") -> str:
    """Fail at start-up, naming the variable, when the department is unknown."""
    try:
        holiday_subdivision(department)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting}: {exc}.") from exc
    return department.strip().upper()


class WorkingDaysCalendar:
    """Hours count on working days only, in the agency's local time zone."""

    def __init__(self, *, department: str, zone: ZoneInfo):
        self.zone = zone
        self.holidays = holidays.France(subdiv=holiday_subdivision(department))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_hours(self, start: datetime, hours: float) -> datetime:
        if start.tzinfo is None:
            raise ValueError("a deadline starts from an aware datetime")
        remaining = timedelta(hours=hours)
        moment = start.astimezone(UTC)
        day = start.astimezone(self.zone).date()
        for _ in range(_MAX_DAYS):
            # Midnight to midnight in local time, measured in UTC: a day with a clock change
            # counts its 23 or 25 real hours.
            day_start = datetime.combine(day, time.min, self.zone).astimezone(UTC)
            day_end = datetime.combine(day + timedelta(days=1), time.min, self.zone).astimezone(UTC)
            if self.is_working_day(day):
                begin = max(moment, day_start)
                available = day_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError(f"no deadline within {_MAX_DAYS} days of {start.isoformat()}")


@lru_cache(maxsize=16)
def working_days_calendar(department: str, zone_name: str) -> WorkingDaysCalendar:
    """One calendar per department and zone: the holiday tables are built once per process."""
    return WorkingDaysCalendar(department=department, zone=ZoneInfo(zone_name))
