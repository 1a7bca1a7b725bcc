"""R8: 72 hours for a letter, 48 for an email, in real elapsed hours."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from correspondence import deadlines

PARIS = ZoneInfo("Europe/Paris")
GUADELOUPE = ZoneInfo("America/Guadeloupe")


def test_it_gives_a_letter_72_hours():
    received = datetime(2026, 11, 27, 9, 30, tzinfo=PARIS)

    assert deadlines.due_at(channel="letter", received_at=received) == datetime(
        2026, 11, 30, 9, 30, tzinfo=PARIS
    )


def test_it_gives_an_email_48_hours():
    received = datetime(2026, 11, 27, 23, 15, tzinfo=PARIS)

    assert deadlines.due_at(channel="email", received_at=received) == received + timedelta(hours=48)


@pytest.mark.parametrize("channel", ["visit", "call"])
def test_it_sets_no_deadline_for_oral_exchanges(channel):
    assert deadlines.due_at(channel=channel, received_at=datetime(2026, 1, 5, tzinfo=PARIS)) is None


def test_it_counts_real_hours_across_the_spring_clock_change():
    # Saturday 28 March 2026 10:00 (UTC+1); clocks go forward on Sunday 29 March at 02:00.
    received = datetime(2026, 3, 28, 10, 0, tzinfo=PARIS)

    due = deadlines.due_at(channel="email", received_at=received)

    assert due - received == timedelta(hours=48)  # real hours, compared in UTC
    assert due.astimezone(PARIS).hour == 11  # 48 real hours later reads 11:00 on the wall clock
    assert due.astimezone(PARIS).day == 30


def test_it_counts_real_hours_across_the_autumn_clock_change():
    # Friday 23 October 2026 18:00 (UTC+2); clocks go back on Sunday 25 October at 03:00.
    received = datetime(2026, 10, 23, 18, 0, tzinfo=PARIS)

    due = deadlines.due_at(channel="letter", received_at=received)

    assert due - received == timedelta(hours=72)
    assert due.astimezone(PARIS) == datetime(2026, 10, 26, 17, 0, tzinfo=PARIS)


def test_it_crosses_a_month_end():
    received = datetime(2026, 2, 27, 16, 0, tzinfo=GUADELOUPE)

    due = deadlines.due_at(channel="letter", received_at=received)

    assert due.astimezone(GUADELOUPE) == datetime(2026, 3, 2, 16, 0, tzinfo=GUADELOUPE)


def test_it_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        deadlines.due_at(channel="letter", received_at=datetime(2026, 1, 5, 9, 0))


def test_it_reads_the_durations_from_the_settings(settings):
    settings.CORRESPONDENCE_RESPONSE_HOURS = {"letter": 24, "email": 12}
    received = datetime(2026, 6, 1, 8, 0, tzinfo=PARIS)

    assert deadlines.due_at(channel="letter", received_at=received) == received + timedelta(
        hours=24
    )
    assert deadlines.due_at(channel="email", received_at=received) == received + timedelta(hours=12)
