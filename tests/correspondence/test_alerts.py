"""R8: beat warns before, alerts at, and escalates after each deadline, once per item and kind."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from correspondence import alerts, services
from correspondence.models import Alert, AlertClock, Channel, IncomingItem, Reply
from tests.correspondence.alerting import (
    PARIS,
    RECEIVED,
    clock_of,
    make_items,
    next_alert_at,
    register,
)

pytestmark = pytest.mark.django_db

TINY = timedelta(microseconds=1)


@pytest.fixture
def item(gestionnaire, dossier, notary):
    return register(gestionnaire=gestionnaire, dossier=dossier, sender=notary)


@pytest.fixture
def clock(item):
    """The item's thresholds, still at hand once the sweep has deleted its clock."""
    return clock_of(item)


def sweep_at(moment: datetime) -> list[Alert]:
    with time_machine.travel(moment, tick=False):
        result = alerts.alerts_sweep()
    return list(Alert.objects.filter(pk__in=result.alert_ids).order_by("pk"))


def test_it_fixes_the_three_thresholds_when_the_item_is_registered(item, gestionnaire, clock):
    assert item.due_at == clock.due_at == datetime(2026, 12, 2, 9, 0, tzinfo=PARIS)
    assert clock.assigned_to == gestionnaire
    assert clock.warn_at == datetime(2026, 12, 1, 21, 0, tzinfo=PARIS)  # 12 hours before
    assert clock.escalate_at == datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)  # 24 hours after
    assert next_alert_at(item) == clock.warn_at


def test_a_letter_is_warned_18_hours_before_its_deadline(gestionnaire, dossier, notary):
    letter = register(
        gestionnaire=gestionnaire, dossier=dossier, sender=notary, channel=Channel.LETTER
    )

    assert letter.due_at - clock_of(letter).warn_at == timedelta(hours=18)


def test_an_oral_exchange_has_no_alert(gestionnaire, dossier, notary):
    from correspondence.models import Kind

    with time_machine.travel(RECEIVED, tick=False):
        call = services.item_register(
            channel=Channel.CALL,
            kind=Kind.REQUEST,
            received_at=RECEIVED,
            sender=notary,
            dossier=dossier,
            subject="Appel",
            points=["Rappeler"],
            assigned_to=gestionnaire,
            by=gestionnaire,
        )

    assert call.due_at is None
    assert clock_of(call) is None


def test_it_warns_the_gestionnaire_exactly_at_the_warning_threshold(item, gestionnaire, clock):
    assert sweep_at(clock.warn_at - TINY) == []

    [warning] = sweep_at(clock.warn_at)

    assert (warning.kind, warning.recipient, warning.item) == ("warning", gestionnaire, item)
    assert warning.threshold_at == clock.warn_at
    item.refresh_from_db()
    assert next_alert_at(item) == item.due_at


def test_it_alerts_the_gestionnaire_exactly_at_the_deadline(item, gestionnaire, clock):
    sweep_at(clock.warn_at)

    assert sweep_at(item.due_at - TINY) == []
    [overdue] = sweep_at(item.due_at)

    assert (overdue.kind, overdue.recipient) == ("overdue", gestionnaire)
    item.refresh_from_db()
    assert next_alert_at(item) == clock.escalate_at


def test_it_escalates_to_the_direction_exactly_24_hours_after_the_deadline(item, clock):
    sweep_at(clock.warn_at)
    sweep_at(item.due_at)

    assert sweep_at(clock.escalate_at - TINY) == []
    [escalation] = sweep_at(clock.escalate_at)

    assert (escalation.kind, escalation.recipient) == ("escalation", None)
    item.refresh_from_db()
    assert clock_of(item) is None  # nothing left: the sweep deleted the clock
    assert sweep_at(clock.escalate_at + timedelta(days=3)) == []
    assert item.alerts.count() == 3


def test_the_escalation_delay_is_a_setting(settings, gestionnaire, dossier, notary):
    settings.ALERT_ESCALATION_HOURS = 4
    settings.ALERT_WARNING_SHARE = 0.5

    item = register(gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    clock = clock_of(item)

    assert clock.escalate_at - item.due_at == timedelta(hours=4)
    assert item.due_at - clock.warn_at == timedelta(hours=24)


def test_an_item_registered_late_gets_its_overdue_alert_and_escalation_but_no_warning(
    gestionnaire, dossier, notary
):
    received = RECEIVED - timedelta(days=5)
    item = register(gestionnaire=gestionnaire, dossier=dossier, sender=notary, received_at=received)

    created = sweep_at(RECEIVED + timedelta(minutes=2))

    assert sorted(alert.kind for alert in created) == ["escalation", "overdue"]
    assert clock_of(item) is None


def test_answering_stops_the_future_alerts(item, gestionnaire, clock):
    sweep_at(clock.warn_at)
    IncomingItem.objects.filter(pk=item.pk).update(original_filed_at=RECEIVED)  # R7
    with time_machine.travel(clock.warn_at + timedelta(hours=1), tick=False):
        services.reply_send(
            item=item,
            by=gestionnaire,
            draft=services.ReplyDraft(
                via=Reply.Via.LETTER,
                dated=timezone.localdate(),
                answers={point.pk: "Ci-joint." for point in item.points.all()},
            ),
        )

    assert clock_of(item) is None
    assert sweep_at(clock.escalate_at + timedelta(hours=1)) == []
    assert list(item.alerts.values_list("kind", flat=True)) == ["warning"]


def test_closing_stops_the_future_alerts(gestionnaire, dossier, notary):
    from correspondence.models import Status

    item = register(gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    IncomingItem.objects.filter(pk=item.pk).update(
        answered_at=RECEIVED, status=Status.ANSWERED, original_filed_at=RECEIVED
    )
    services.item_close(item=item, by=gestionnaire)

    assert clock_of(item) is None


def test_an_item_answered_without_stopping_its_clock_gets_no_email(item, clock):
    # Belt and braces: should some future code answer an item without clock_stop(), the sweep
    # (which reads the clocks alone) raises its alerts, and their delivery cancels them.
    IncomingItem.objects.filter(pk=item.pk).update(
        answered_at=RECEIVED, status="answered", original_filed_at=RECEIVED
    )

    raised = sweep_at(clock.escalate_at)
    delivery = alerts.alerts_deliver(alert_ids=[alert.pk for alert in raised], claimer="test")

    assert delivery.sent == [] and sorted(delivery.cancelled) == [alert.pk for alert in raised]
    assert clock_of(item) is None


def test_reassigning_sends_the_next_alerts_to_the_new_gestionnaire(
    item, gestionnaire, other_gestionnaire, direction, clock
):
    [warning] = sweep_at(clock.warn_at)
    services.item_assign(item=item, to=other_gestionnaire, by=direction)

    [overdue] = sweep_at(item.due_at)

    assert warning.recipient == gestionnaire
    assert overdue.recipient == other_gestionnaire
    assert clock_of(item).assigned_to == other_gestionnaire


def test_the_database_refuses_a_second_alert_of_the_same_kind(item, gestionnaire, clock):
    [warning] = sweep_at(clock.warn_at)

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            kind="warning",
            item=item,
            recipient=gestionnaire,
            threshold_at=clock.warn_at,
            message_id="<other@test>",
        )
    assert item.alerts.count() == 1


def test_a_sweep_that_sees_an_item_again_creates_no_duplicate(item, clock):
    """Even if the claim failed (next_alert_at put back), the unique constraint holds."""
    sweep_at(clock.warn_at)
    AlertClock.objects.filter(item=item).update(next_alert_at=clock.warn_at)

    assert sweep_at(clock.warn_at + timedelta(minutes=1)) == []
    assert item.alerts.count() == 1
    assert next_alert_at(item) == item.due_at


@pytest.mark.parametrize(
    ("condition", "fields"),
    [
        ("a digest has a day and no item", {"kind": "digest", "digest_day": None}),
        ("an item alert has no day", {"kind": "overdue", "digest_day": datetime(2026, 1, 1)}),
        ("an escalation goes to the direction", {"kind": "escalation", "recipient": "user"}),
        ("a warning has a recipient", {"kind": "warning", "recipient": None}),
        ("sent or cancelled, not both", {"kind": "overdue", "cancelled_at": RECEIVED}),
    ],
)
def test_the_database_checks_the_shape_of_an_alert(item, gestionnaire, condition, fields):
    values = {
        "item": item,
        "recipient": gestionnaire,
        "threshold_at": item.due_at,
        "message_id": "<shape@test>",
        "sent_at": RECEIVED if "cancelled_at" in fields else None,
        **fields,
    }
    if values["kind"] == "digest":
        values["item"] = None
        values["recipient"] = None
    if values.get("recipient") == "user":
        values["recipient"] = gestionnaire
    if hasattr(values.get("digest_day"), "date"):
        values["digest_day"] = values["digest_day"].date()

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**values)


@pytest.mark.parametrize("count", [10, 300])
def test_one_sweep_runs_the_same_queries_whatever_the_number_of_items(
    count, gestionnaire, dossier, notary
):
    from django.db import connection

    make_items(count, gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    later = RECEIVED + timedelta(days=5)
    with time_machine.travel(later, tick=False), CaptureQueriesContext(connection) as queries:
        result = alerts.alerts_sweep()

    assert len(result.alert_ids) == 2 * count  # overdue and escalation for each
    # On PostgreSQL: SET LOCAL, then lock, insert and move in one statement (savepoints aside).
    statements = [
        query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]
    ]
    assert len(statements) == 2, statements


@pytest.mark.parametrize("count", [10, 300])
def test_the_sweep_without_data_modifying_with_also_runs_constant_queries(
    count, gestionnaire, dossier, notary
):
    """The path of databases without data-modifying WITH (SQLite, `make run`), run here."""
    from django.db import connection

    make_items(count, gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    old = RECEIVED - timedelta(days=2)
    make_items(count, gestionnaire=gestionnaire, dossier=dossier, sender=notary, received_at=old)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        # The first ones get their warning (their clock moves), the old ones their overdue alert
        # and escalation (their clock is deleted).
        now = RECEIVED + timedelta(hours=37)
        result = alerts._sweep_rows(now=now, limit=alerts.SWEEP_BATCH)

    assert len(result.alert_ids) == 3 * count
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 4, statements  # lock, insert, move, delete


def test_both_sweeps_raise_the_same_alerts_and_move_the_same_thresholds(
    gestionnaire, other_gestionnaire, dossier, notary
):
    """The one-statement sweep and the Python one follow the same rules, case by case."""
    from correspondence.models import Status

    cases = {  # name → reception
        "nothing yet": RECEIVED,
        "warning": RECEIVED - timedelta(hours=37),
        "overdue": RECEIVED - timedelta(hours=49),
        "escalation": RECEIVED - timedelta(hours=73),
    }
    for received in cases.values():
        make_items(
            1, gestionnaire=gestionnaire, dossier=dossier, sender=notary, received_at=received
        )
        make_items(
            1,
            gestionnaire=other_gestionnaire,
            dossier=dossier,
            sender=notary,
            received_at=received,
            channel=Channel.LETTER,
        )
    answered, closed = make_items(
        2,
        gestionnaire=gestionnaire,
        dossier=dossier,
        sender=notary,
        received_at=RECEIVED - timedelta(days=9),
    )
    IncomingItem.objects.filter(pk=answered).update(
        answered_at=RECEIVED, status=Status.ANSWERED, original_filed_at=RECEIVED
    )
    IncomingItem.objects.filter(pk=closed).update(
        answered_at=RECEIVED, closed_at=RECEIVED, status=Status.CLOSED, original_filed_at=RECEIVED
    )
    AlertClock.objects.filter(item__in=[answered, closed]).delete()  # as the services do
    AlertClock.objects.update(next_alert_at=F("warn_at"))  # every clock comes up for sweeping
    now = RECEIVED + timedelta(minutes=1)

    def outcome(sweep):
        with transaction.atomic():
            result = sweep(now=now, limit=1000)
            raised = set(
                Alert.objects.values_list("item_id", "kind", "recipient_id", "threshold_at")
            )
            moved = dict(AlertClock.objects.values_list("item_id", "next_alert_at"))
            transaction.set_rollback(True)
        return result.items, len(result.alert_ids), raised, moved

    by_statement = outcome(alerts._sweep_statement)
    by_rows = outcome(alerts._sweep_rows)

    assert by_statement == by_rows
    items, created, raised, moved = by_statement
    # Swept: the 3 emails past their warning, the letter past its deadline.
    assert (items, created) == (4, 5)
    kinds = sorted(kind for _, kind, _, _ in raised)
    assert kinds == ["escalation", "overdue", "overdue", "overdue", "warning"]
    # The email past its escalation has no alert left: its clock is gone; 7 clocks remain.
    assert len(moved) == 7 and answered not in moved and closed not in moved


def test_the_sweep_handles_a_backlog_in_batches(gestionnaire, dossier, notary):
    make_items(25, gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    with time_machine.travel(RECEIVED + timedelta(days=5), tick=False):
        first = alerts.alerts_sweep(limit=10)
        second = alerts.alerts_sweep(limit=10)
        third = alerts.alerts_sweep(limit=10)
        fourth = alerts.alerts_sweep(limit=10)

    assert [first.items, second.items, third.items, fourth.items] == [10, 10, 5, 0]
    assert Alert.objects.count() == 50


def test_the_sweep_hands_the_new_alerts_to_delivery_tasks_after_commit(
    item, django_capture_on_commit_callbacks, monkeypatch, clock
):
    enqueued = []
    monkeypatch.setattr(alerts, "enqueue_delivery", enqueued.append)

    with django_capture_on_commit_callbacks(execute=True):
        created = sweep_at(clock.warn_at)

    assert enqueued == [[alert.pk for alert in created]]


def test_the_sweep_reads_the_clocks_index(gestionnaire, dossier, notary):
    from django.db import connection

    make_items(50, gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE correspondence_alertclock")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be read whole
        queryset = AlertClock.objects.filter(next_alert_at__lte=timezone.now()).order_by(
            "next_alert_at"
        )
        plan = queryset.explain()

    assert "alert_clock_next_idx" in plan
