"""R8 with the working-days calendar: weekends and the department's public holidays do not count."""

import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from correspondence import deadlines, services
from correspondence.calendars import WorkingDaysCalendar, check_department, holiday_subdivision
from correspondence.models import Channel

PARIS = ZoneInfo("Europe/Paris")
MARTINIQUE = ZoneInfo("America/Martinique")
MAYOTTE = ZoneInfo("Indian/Mayotte")


def working_days(department: str, zone: ZoneInfo) -> WorkingDaysCalendar:
    return WorkingDaysCalendar(department=department, zone=zone)


@pytest.fixture
def working_days_setting(settings):
    settings.CORRESPONDENCE_CALENDAR = "working_days"
    settings.AGENCY_DEPARTMENT = "75"
    settings.TIME_ZONE = "Europe/Paris"
    return settings


def test_it_gives_a_letter_received_on_friday_evening_until_wednesday_evening(
    working_days_setting,
):
    # Friday 27 November 2026, 18:00: 6 hours on Friday, Monday, Tuesday, 18 hours of Wednesday.
    received = datetime(2026, 11, 27, 18, 0, tzinfo=PARIS)

    due = deadlines.due_at(channel="letter", received_at=received)

    assert due == datetime(2026, 12, 2, 18, 0, tzinfo=PARIS)


def test_the_elapsed_calendar_stays_the_default(settings):
    assert django_settings.CORRESPONDENCE_CALENDAR == "elapsed"
    received = datetime(2026, 11, 27, 18, 0, tzinfo=PARIS)

    assert deadlines.due_at(channel="letter", received_at=received) == datetime(
        2026, 11, 30, 18, 0, tzinfo=PARIS
    )


def test_it_skips_an_overseas_holiday_after_a_friday_evening():
    # Mayotte: Monday 27 April 2026 is the abolition of slavery, a holiday there only.
    received = datetime(2026, 4, 24, 18, 0, tzinfo=MAYOTTE)

    in_mayotte = working_days("976", MAYOTTE).add_hours(received, 72)
    in_paris = working_days("75", MAYOTTE).add_hours(received, 72)

    assert in_mayotte == datetime(2026, 4, 30, 18, 0, tzinfo=MAYOTTE)  # Thursday
    assert in_paris == datetime(2026, 4, 29, 18, 0, tzinfo=MAYOTTE)  # Wednesday


def test_an_item_received_on_the_eve_of_a_holiday_gains_that_day():
    # Thursday 21 May 2026 18:00: Friday 22 May is a holiday in Martinique (not in Guadeloupe),
    # Monday 25 May (Pentecost Monday) everywhere.
    received = datetime(2026, 5, 21, 18, 0, tzinfo=MARTINIQUE)

    martinique = working_days("972", MARTINIQUE).add_hours(received, 48)
    guadeloupe = working_days("971", MARTINIQUE).add_hours(received, 48)

    assert martinique == datetime(2026, 5, 27, 18, 0, tzinfo=MARTINIQUE)  # Wednesday
    assert guadeloupe == datetime(2026, 5, 26, 18, 0, tzinfo=MARTINIQUE)  # Tuesday


def test_it_counts_real_hours_of_working_days_across_the_spring_clock_change():
    # Friday 27 March 2026 18:00 (UTC+1); clocks go forward on Sunday 29 March, a day that does
    # not count: the working hours after it are whole, the wall clock reads the same hour.
    received = datetime(2026, 3, 27, 18, 0, tzinfo=PARIS)

    due = working_days("75", PARIS).add_hours(received, 72)

    assert due == datetime(2026, 4, 1, 18, 0, tzinfo=PARIS)
    assert due - received == timedelta(hours=72 + 48 - 1)  # the weekend, one hour shorter


def test_it_counts_the_25_hours_of_a_working_day_with_a_clock_change():
    # A day that itself lasts 25 hours is measured in real time: Cuba's clocks go back on
    # Sunday 1 November 2026 at 01:00.
    zone = ZoneInfo("America/Havana")
    calendar = working_days("75", zone)
    calendar.is_working_day = lambda day: True  # every day counts: isolate the clock change
    start = datetime(2026, 11, 1, 0, 0, tzinfo=zone)

    assert calendar.add_hours(start, 24) == datetime(2026, 11, 1, 23, 0, tzinfo=zone)


def test_it_starts_the_clock_on_monday_for_an_item_received_on_saturday():
    received = datetime(2026, 11, 28, 10, 0, tzinfo=PARIS)

    due = working_days("75", PARIS).add_hours(received, 48)

    assert due == datetime(2026, 12, 2, 0, 0, tzinfo=PARIS)


def test_it_crosses_a_month_end_and_a_holiday():
    # Thursday 30 April 2026 18:00 in Martinique; Friday 1 May is Labour Day.
    received = datetime(2026, 4, 30, 18, 0, tzinfo=MARTINIQUE)

    due = working_days("972", MARTINIQUE).add_hours(received, 48)

    assert due == datetime(2026, 5, 5, 18, 0, tzinfo=MARTINIQUE)


def test_it_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        working_days("75", PARIS).add_hours(datetime(2026, 1, 5, 9, 0), 48)


@pytest.mark.parametrize(
    ("department", "subdivision"),
    [
        ("971", "971"),
        ("972", "972"),
        ("973", "973"),
        ("974", "974"),
        ("976", "976"),
        ("57", "57"),
        ("67", "6AE"),
        ("75", None),
        ("2A", None),
        ("", None),
    ],
)
def test_it_maps_departments_to_their_holidays(department, subdivision):
    assert holiday_subdivision(department) == subdivision


@pytest.mark.parametrize("department", ["99", "975x", "Paris"])
def test_it_refuses_an_unknown_department(department):
    with pytest.raises(ImproperlyConfigured, match="AGENCY_DEPARTMENT"):
        check_department(department)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CORRESPONDENCE_CALENDAR", "business"),
        ("AGENCY_DEPARTMENT", "99"),
        ("ALERT_WARNING_SHARE", "1.5"),
        ("ALERT_DIGEST_TIME", "25:00"),
    ],
)
def test_a_bad_setting_stops_the_start_up_naming_its_variable(variable, value):
    environment = {**os.environ, variable: value}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert variable in result.stderr


def _register_letter(*, received, subject, gestionnaire, dossier, notary, at):
    with time_machine.travel(at, tick=False):
        return services.item_register(
            channel=Channel.LETTER,
            received_at=received,
            sender=notary,
            dossier=dossier,
            subject=subject,
            points=["Copie du bail"],
            assigned_to=gestionnaire,
            by=gestionnaire,
        )


@pytest.mark.django_db
def test_changing_the_calendar_never_moves_a_deadline_already_set(
    settings, gestionnaire, other_gestionnaire, dossier, notary
):
    from correspondence import alerts
    from correspondence.models import Alert, AlertClock
    from tests.correspondence.conftest import pdf_file

    received = datetime(2026, 11, 27, 18, 0, tzinfo=PARIS)  # a Friday evening
    item = _register_letter(
        received=received,
        subject="Succession Dupont",
        gestionnaire=gestionnaire,
        dossier=dossier,
        notary=notary,
        at=received + timedelta(minutes=1),
    )
    clock = item.alert_clock
    stored = (clock.warn_at, item.due_at, clock.escalate_at)
    # Elapsed hours: the warning after 54 of 72 hours, the deadline on Monday, the escalation a
    # day later.
    assert [timezone.localtime(moment) for moment in stored] == [
        datetime(2026, 11, 30, 0, 0, tzinfo=PARIS),
        datetime(2026, 11, 30, 18, 0, tzinfo=PARIS),
        datetime(2026, 12, 1, 18, 0, tzinfo=PARIS),
    ]

    # Every setting the thresholds were computed from changes...
    settings.CORRESPONDENCE_CALENDAR = "working_days"
    settings.ALERT_WARNING_SHARE = 0.5
    settings.ALERT_ESCALATION_HOURS = 48

    def thresholds():
        item.refresh_from_db()
        clock = AlertClock.objects.filter(item=item).first()
        return clock and (clock.warn_at, item.due_at, clock.escalate_at)

    # ...then everything that touches an open item or its clock runs: the sweep at each stored
    # threshold, the scan filed, the start, a reassignment.
    with time_machine.travel(stored[0], tick=False):
        [warning] = alerts.alerts_sweep().alert_ids
        assert thresholds() == stored
        services.item_file_original(item=item, file=pdf_file(), by=gestionnaire)
        services.item_start(item=item, by=gestionnaire)
        services.item_assign(item=item, to=other_gestionnaire, by=gestionnaire)
        assert thresholds() == stored
    with time_machine.travel(stored[1] - timedelta(seconds=1), tick=False):
        assert alerts.alerts_sweep().alert_ids == []  # not a second early
    with time_machine.travel(stored[1], tick=False):
        [overdue] = alerts.alerts_sweep().alert_ids
        assert thresholds() == stored
    with time_machine.travel(stored[2] - timedelta(seconds=1), tick=False):
        assert alerts.alerts_sweep().alert_ids == []
        services.item_assign(item=item, to=gestionnaire, by=other_gestionnaire)
        assert thresholds() == stored
    with time_machine.travel(stored[2], tick=False):
        [escalation] = alerts.alerts_sweep().alert_ids

    # The alerts came at the thresholds set at registration, to the gestionnaire of the moment.
    raised = {alert.kind: alert for alert in Alert.objects.filter(item=item)}
    assert raised["warning"].pk == warning and raised["warning"].threshold_at == stored[0]
    assert raised["overdue"].pk == overdue and raised["overdue"].threshold_at == stored[1]
    assert raised["escalation"].pk == escalation and raised["escalation"].threshold_at == stored[2]
    assert raised["warning"].recipient == gestionnaire
    assert raised["overdue"].recipient == other_gestionnaire
    item.refresh_from_db()
    assert item.due_at == stored[1]
    assert thresholds() is None  # the clock is done once escalated


@pytest.mark.django_db
def test_an_item_registered_after_the_change_follows_the_new_calendar(
    settings, gestionnaire, dossier, notary
):
    received = datetime(2026, 11, 27, 18, 0, tzinfo=PARIS)  # a Friday evening
    settings.CORRESPONDENCE_CALENDAR = "working_days"
    later = _register_letter(
        received=received,
        subject="Succession Dupont (relance)",
        gestionnaire=gestionnaire,
        dossier=dossier,
        notary=notary,
        at=received + timedelta(minutes=2),
    )
    assert timezone.localtime(later.due_at) == datetime(2026, 12, 2, 18, 0, tzinfo=PARIS)
    # Its warning comes once three quarters of the working hours have gone (54 of 72).
    assert timezone.localtime(later.alert_clock.warn_at) == datetime(
        2026, 12, 2, 0, 0, tzinfo=PARIS
    )
    assert timezone.localtime(later.alert_clock.escalate_at) == datetime(
        2026, 12, 3, 18, 0, tzinfo=PARIS
    )
