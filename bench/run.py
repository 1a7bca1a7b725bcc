"""`make bench`: the deadline alerts (R8) at scale, on PostgreSQL, with a real SMTP server.

One run, in a database of its own (dropped and created again, BENCH_DB), measures:
1. the sweep on 1,000,000 items (about 20,000 open, 2,000 newly past a threshold), beside the bare
   indexed query that selects the same rows (the floor), its SQL query count at two sizes, and the
   plan of its main query;
2. the delivery of 10,000 alerts to a real SMTP server on 127.0.0.1 (aiosmtpd, in a process of
   its own), beside one `send_messages` call on a single connection (the floor);
3. the work-list page of a gestionnaire with 2,000 open items (queries, median time), beside the
   Django admin's change list of the same items;
4. the latency from a threshold passing to the alert being in the SMTP server's hands, with the
   default settings and a real Celery worker and beat.
The results are printed as a table and written to bench/results.md.
"""

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NEWLY_PAST = 2000
OPEN = 20000
DELIVERED = 10000
BENCH_USER_OPEN = 2000
LATENCY_ITEMS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def median_of(runs: int, function) -> float:
    return statistics.median(timed(function)[0] for _ in range(runs))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class Report:
    def __init__(self):
        self.rows, self.sections = [], []

    def row(self, measure, value, floor="", ratio="", target=""):
        self.rows.append((measure, value, floor, ratio, target))
        print(f"  {measure}: {value}  {floor}  {ratio}  {target}", flush=True)

    def section(self, title, text):
        self.sections.append((title, text))
        print(f"\n{title}\n{text}\n", flush=True)

    def markdown(self, header: str) -> str:
        lines = [
            header,
            "",
            "| measure | value | floor | ratio | target |",
            "|---|---|---|---|---|",
        ]
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in self.rows]
        for title, text in self.sections:
            lines += ["", f"### {title}", "", "```", text, "```"]
        return "\n".join(lines) + "\n"


# --- Data ------------------------------------------------------------------------------------
def make_people():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts.roles import Role
    from tests.factories import DossierFactory, IntervenantFactory

    User = get_user_model()
    # No password: hashing 50 of them would cost more than the whole sweep benchmark.
    unusable = make_password(None)
    gestionnaires = User.objects.bulk_create(
        User(username=f"gest{n:02d}", email=f"gest{n:02d}@bench.example", password=unusable)
        for n in range(50)
    )
    Group.objects.get(name=Role.GESTIONNAIRE).user_set.add(*gestionnaires)
    direction = User.objects.create(username="direction", email="direction@bench.example")
    Group.objects.get(name=Role.DIRECTION).user_set.add(direction)
    admin = User.objects.create(
        username="admin", is_staff=True, is_superuser=True, password=unusable
    )
    dossiers = [DossierFactory(gestionnaire=gestionnaires[n % 50]) for n in range(200)]
    sender = IntervenantFactory(name="Maître Bench")
    return gestionnaires, admin, dossiers, sender


ITEMS_SQL = """
INSERT INTO correspondence_incomingitem
  (channel, kind, received_at, sender_intervenant_id, dossier_id, subject, message_id, registered,
   tracking_number, assigned_to_id, priority, urgency, status, due_at, original_filed_at,
   answered_at, closed_at, forced_reason, created_by_id, created_at)
SELECT t.channel, 'request', t.received_at, %(sender)s,
       (%(dossiers)s::bigint[])[1 + g %% %(n_dossiers)s], 'Demande n° ' || g, '', false, '',
       CASE WHEN g > %(hist)s AND g <= %(hist)s + %(bench_open)s THEN %(bench_user)s
            ELSE (%(users)s::bigint[])[1 + g %% %(n_users)s] END,
       2, 2,
       CASE WHEN g <= %(hist)s THEN 'closed' ELSE 'received' END,
       t.received_at + t.hours,
       CASE WHEN g <= %(hist)s THEN t.received_at + interval '1 hour' END,
       CASE WHEN g <= %(hist)s THEN t.received_at + interval '10 hours' END,
       CASE WHEN g <= %(hist)s THEN t.received_at + interval '11 hours' END,
       '', %(bench_user)s, t.received_at
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (
  SELECT
    CASE WHEN g %% 3 = 0 AND g <= %(n)s - %(new)s THEN 'letter' ELSE 'email' END AS channel,
    CASE WHEN g %% 3 = 0 AND g <= %(n)s - %(new)s THEN interval '72 hours'
         ELSE interval '48 hours' END AS hours,
    CASE
      -- answered and closed, spread over the past two years
      WHEN g <= %(hist)s THEN %(now)s - interval '40 days' - g * interval '60 seconds'
      -- open, their warning at least 6 hours ahead
      WHEN g <= %(n)s - %(new)s THEN %(now)s - (g %% 1800) * interval '60 seconds'
      -- open, their warning passed within the last 50 seconds: the sweep's work
      ELSE %(now)s - interval '36 hours' - (g %% 50) * interval '1 second'
    END AS received_at
) AS t
"""

# The open items' alert clocks: warning at 75 % of the window, escalation 24 hours after it.
CLOCKS_SQL = """
INSERT INTO correspondence_alertclock
  (item_id, assigned_to_id, warn_at, due_at, escalate_at, next_alert_at)
SELECT id, assigned_to_id, received_at + (due_at - received_at) * 0.75, due_at,
       due_at + interval '24 hours', received_at + (due_at - received_at) * 0.75
FROM correspondence_incomingitem WHERE status = 'received'
"""

HISTORY_ALERTS_SQL = """
INSERT INTO correspondence_alert
  (kind, item_id, recipient_id, threshold_at, created_at, message_id, claimed_by, sent_at,
   email_error)
SELECT 'warning', id, assigned_to_id, w.warn_at, w.warn_at, '<hist.' || id || '@bench>', '',
       w.warn_at, ''
FROM correspondence_incomingitem
CROSS JOIN LATERAL (SELECT received_at + (due_at - received_at) * 0.75 AS warn_at) AS w
WHERE status = 'closed' AND id %% 10 = 0
"""


def make_items(total: int, now, gestionnaires, dossiers, sender) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        # A bulk load: no foreign-key triggers (the rows are consistent by construction) and the
        # secondary indexes built once at the end rather than row by row.
        cursor.execute("SET session_replication_role = replica")
        indexes = {}
        tables = [
            "correspondence_incomingitem",
            "correspondence_alertclock",
            "correspondence_alert",
        ]
        for table in tables:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [table],
            )
            indexes[table] = cursor.fetchall()
            for name, _ in indexes[table]:
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(
            ITEMS_SQL,
            {
                "sender": sender.pk,
                "dossiers": [d.pk for d in dossiers],
                "n_dossiers": len(dossiers),
                "users": [u.pk for u in gestionnaires[1:]],
                "n_users": len(gestionnaires) - 1,
                "bench_user": gestionnaires[0].pk,
                "bench_open": BENCH_USER_OPEN,
                "hist": total - OPEN,
                "n": total,
                "new": NEWLY_PAST,
                "now": now,
            },
        )
        cursor.execute(CLOCKS_SQL)
        cursor.execute(HISTORY_ALERTS_SQL, [])  # [] so that %% reads as %
        for table_indexes in indexes.values():
            for _, definition in table_indexes:
                cursor.execute(definition)
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("SET synchronous_commit = on")
    # Autocommit is on outside atomic(): VACUUM may run; it also sets the visibility map.
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
        # The load leaves most of shared_buffers dirty: written back now rather than by the
        # sweep's rounds, which measured twice as slow when they ran before the next checkpoint.
        cursor.execute("CHECKPOINT")


# --- 1. The sweep ----------------------------------------------------------------------------
# The rows the sweep's first step reads and locks, read without the lock: what any sweep must do.
FLOOR_SQL = (
    "SELECT item_id, assigned_to_id, warn_at, due_at, escalate_at "
    "FROM correspondence_alertclock WHERE next_alert_at <= %s ORDER BY next_alert_at LIMIT %s"
)


def bench_sweep(report: Report, now) -> None:
    from django.db import connection, transaction
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    from correspondence import alerts
    from correspondence.models import Alert, AlertClock, IncomingItem
    from gerance.celery import app

    newly = list(
        AlertClock.objects.filter(next_alert_at__lte=now).values_list("item_id", flat=True)
    )
    assert len(newly) == NEWLY_PAST, len(newly)

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [now, alerts.SWEEP_BATCH])
            return cursor.fetchall()

    def reset(ids):
        Alert.objects.filter(item_id__in=newly, kind="warning").delete()
        AlertClock.objects.filter(item_id__in=ids).update(next_alert_at=F("warn_at"))
        with connection.cursor() as cursor:  # as autovacuum would, between two real sweeps
            cursor.execute("VACUUM correspondence_alertclock, correspondence_alert")
        app.control.purge()

    floor()  # warm the cache as the sweep will find it
    floor_time = median_of(9, floor)
    rounds, counts = [], {}
    for _ in range(7):
        reset(newly)
        elapsed, result = timed(alerts.alerts_sweep, now=now)
        assert len(result.alert_ids) == NEWLY_PAST, len(result.alert_ids)
        rounds.append(elapsed)
    reset(newly)
    with CaptureQueriesContext(connection) as queries:  # counted apart: capturing costs time
        alerts.alerts_sweep(now=now)
    counts[NEWLY_PAST] = len(queries)
    # The same statements replayed as raw SQL (no Django, no Python row handling): what the
    # sweep's writes cost by themselves, beside what the Python around them adds.
    statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    replays = []
    for _ in range(5):
        reset(newly)
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.replace("%", "%%"), [])
        replays.append(time.perf_counter() - started)
    raw_time = statistics.median(replays)
    reset(newly[:200])
    Alert.objects.filter(item_id__in=newly[200:], kind="warning").delete()
    with CaptureQueriesContext(connection) as queries:
        result = alerts.alerts_sweep(now=now)
    assert len(result.alert_ids) == 200
    counts[200] = len(queries)
    sweep_time = statistics.median(rounds)
    report.row(
        f"sweep: {NEWLY_PAST} items newly past a threshold among {IncomingItem.objects.count():,}",
        ms(sweep_time),
        f"bare indexed SELECT of the same rows: {ms(floor_time)}",
        f"{sweep_time / floor_time:.1f} ×",
        "≤ 2 × floor",
    )
    report.row(
        "sweep's own statements replayed as raw SQL (lock, insert alerts, move next_alert_at)",
        ms(raw_time),
        f"bare indexed SELECT: {ms(floor_time)}",
        f"sweep / raw SQL: {sweep_time / raw_time:.2f} ×",
        "",
    )
    report.row(
        "sweep: SQL queries (2,000 / 200 items newly past)",
        f"{counts[NEWLY_PAST]} / {counts[200]}",
        "",
        "",
        "constant",
    )
    # Where the time goes: the same statements as raw SQL, without Django.
    reset(newly)
    with transaction.atomic():
        plan = explain(now)
        transaction.set_rollback(True)
    report.section("Plan of the sweep's statement (EXPLAIN ANALYZE, BUFFERS)", plan)
    reset(newly)
    alerts.alerts_sweep(now=now)  # leave the state as after a real sweep...
    app.control.purge()  # ...whose alerts are not part of the delivery measures
    Alert.objects.filter(sent_at=None).update(sent_at=now)


def explain(now) -> str:
    """EXPLAIN ANALYZE of the sweep's statement itself (PostgreSQL), rolled back by the caller."""
    from django.db import connection

    from correspondence import alerts

    sql = alerts.sweep_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + sql,
            alerts.sweep_params(now=now, limit=alerts.SWEEP_BATCH),
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return sql.strip() + "\n\n" + plan


# --- 2. Delivery -----------------------------------------------------------------------------
def sink_lines(path: Path, start: int) -> list[tuple[float, str]]:
    with path.open() as log:
        lines = log.read().splitlines()[start:]
    return [(float(line.split(" ", 1)[0]), line.split(" ", 1)[1]) for line in lines if " " in line]


def bench_delivery(report: Report, sink_log: Path, workdir: Path, now) -> None:
    from django.core import mail

    from correspondence import alerts
    from correspondence.models import Alert, IncomingItem
    from gerance.celery import app

    items = list(
        IncomingItem.objects.filter(status="received", alert_clock__next_alert_at__gt=now)
        .exclude(assigned_to__username="gest00")
        .order_by("pk")
        .values_list("pk", "assigned_to_id", "due_at")[:DELIVERED]
    )
    ids = alerts._insert_alerts([("overdue", pk, user, due) for pk, user, due in items], now=now)
    assert len(ids) == DELIVERED
    # The floor: the same messages, built beforehand, in one send_messages on one connection.
    claimed = list(
        Alert.objects.filter(pk__in=ids)
        .select_related(
            "item__dossier",
            "item__sender_intervenant",
            "item__sender_client",
            "item__assigned_to",
            "recipient",
        )
        .order_by("pk")
    )
    messages = [alerts.build_alert_message(a, to=[a.recipient.email]) for a in claimed]
    start = len(sink_lines(sink_log, 0))
    connection = mail.get_connection()
    connection.open()
    floor_time, sent = timed(connection.send_messages, messages)
    connection.close()
    assert sent == DELIVERED
    time.sleep(0.5)
    assert len(sink_lines(sink_log, start)) == DELIVERED

    start = len(sink_lines(sink_log, 0))

    def deliver_all():
        total = 0
        for first in range(0, len(ids), alerts.DELIVERY_BATCH):
            result = alerts.alerts_deliver(
                alert_ids=ids[first : first + alerts.DELIVERY_BATCH], claimer="bench"
            )
            total += len(result.sent)
        return total

    delivery_time, total = timed(deliver_all)
    assert total == DELIVERED, total
    time.sleep(0.5)
    received = sink_lines(sink_log, start)
    assert len(received) == DELIVERED and len({m for _, m in received}) == DELIVERED
    report.row(
        f"delivery of {DELIVERED:,} alerts to aiosmtpd on 127.0.0.1 "
        f"({DELIVERED // alerts.DELIVERY_BATCH} tasks of {alerts.DELIVERY_BATCH}, one process)",
        f"{delivery_time:.2f} s",
        f"one send_messages, one connection: {floor_time:.2f} s",
        f"{delivery_time / floor_time:.2f} ×",
        "≤ 1.5 × floor",
    )

    # The same alerts again, as production sends them: deliver_alerts tasks on a real worker
    # with one process per CPU, from the enqueueing to the last message in the server's hands.
    Alert.objects.filter(pk__in=ids).update(sent_at=None, claimed_until=None, claimed_by="")
    expected = set(Alert.objects.filter(pk__in=ids).values_list("message_id", flat=True))
    app.control.purge()
    concurrency = os.cpu_count() or 2
    worker = start_celery("worker", f"--concurrency={concurrency}", log=workdir / "worker-d.log")
    try:
        wait_for_worker()
        start = len(sink_lines(sink_log, 0))
        started = time.time()
        alerts.enqueue_delivery(ids)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            received = [(t, m) for t, m in sink_lines(sink_log, start) if m in expected]
            if len({m for _, m in received}) == DELIVERED:
                break
            time.sleep(0.2)
    finally:
        stop_process(worker)
    assert len({m for _, m in received}) == DELIVERED, len(received)
    workers_time = max(t for t, _ in received) - started
    report.row(
        f"the same {DELIVERED:,} alerts through deliver_alerts tasks on a real worker "
        f"({concurrency} processes)",
        f"{workers_time:.2f} s",
        f"one send_messages, one connection: {floor_time:.2f} s",
        f"{workers_time / floor_time:.2f} ×",
        "≤ 1.5 × floor",
    )


def start_celery(*arguments, log: Path) -> subprocess.Popen:
    options = ["--pool=prefork", "--without-mingle", "--without-gossip", "--loglevel=WARNING"]
    return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "celery", "-A", "gerance", *arguments]
        + (options if arguments[0] == "worker" else ["--loglevel=INFO"]),
        env={**os.environ},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, ended by its id
    )


def wait_for_worker() -> None:
    from gerance.celery import app

    for _ in range(120):
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError("the Celery worker did not start")


def stop_process(process: subprocess.Popen) -> None:
    os.killpg(process.pid, 15)
    process.wait(timeout=60)


# --- 3. Pages --------------------------------------------------------------------------------
def bench_pages(report: Report, gestionnaire, admin) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from correspondence.models import IncomingItem

    open_count = IncomingItem.objects.filter(
        assigned_to=gestionnaire, status__in=["received", "in_progress"]
    ).count()

    def measure(client, url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        return len(queries), median_of(15, lambda: client.get(url))

    work = Client(SERVER_NAME="127.0.0.1")
    work.force_login(gestionnaire)
    work_queries, work_time = measure(work, "/courrier/")
    staff = Client(SERVER_NAME="127.0.0.1")
    staff.force_login(admin)
    admin_url = (
        f"/admin/correspondence/incomingitem/?assigned_to__id__exact={gestionnaire.pk}"
        "&status__in=received,in_progress"
    )
    admin_queries, admin_time = measure(staff, admin_url)
    report.row(
        f"work list of a gestionnaire with {open_count:,} open items (page of 50)",
        f"{work_queries} queries, median {ms(work_time)}",
        f"admin change list, same items: {admin_queries} queries, median {ms(admin_time)}",
        f"{work_time / admin_time:.2f} ×",
        "constant queries",
    )


# --- 4. Latency with a real worker and beat --------------------------------------------------
def bench_latency(report: Report, sink_log: Path, workdir: Path) -> None:
    from django.utils import timezone

    from correspondence.models import Alert, AlertClock
    from gerance.celery import app

    app.control.purge()
    now = timezone.now()
    chosen = list(
        AlertClock.objects.filter(next_alert_at__gt=now, item__alerts=None)
        .order_by("-item_id")
        .values_list("item_id", flat=True)[:LATENCY_ITEMS]
    )
    start = time.time()
    # Thresholds spread over two minutes from 15 s after the worker and beat start.
    for number, pk in enumerate(chosen):
        warn_at = now + timedelta(seconds=15 + number * 120 / LATENCY_ITEMS)
        AlertClock.objects.filter(item_id=pk).update(
            warn_at=warn_at,
            next_alert_at=warn_at,
            due_at=warn_at + timedelta(hours=12),
            escalate_at=warn_at + timedelta(hours=36),
        )
    processes = [
        start_celery("worker", "--concurrency=2", log=workdir / "worker.log"),
        start_celery(
            "beat", "--schedule", str(workdir / "beat-schedule"), log=workdir / "beat.log"
        ),
    ]
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done = Alert.objects.filter(item_id__in=chosen, sent_at__isnull=False).count()
            if done == len(chosen):
                break
            time.sleep(1)
    finally:
        for process in processes:
            stop_process(process)
    time.sleep(0.5)
    received = dict((m, t) for t, m in sink_lines(sink_log, 0))
    thresholds = dict(
        Alert.objects.filter(item_id__in=chosen).values_list("message_id", "threshold_at")
    )
    latencies = sorted(
        received[message_id] - threshold.timestamp()
        for message_id, threshold in thresholds.items()
        if message_id in received
    )
    assert len(latencies) == len(chosen), (len(latencies), len(chosen), time.time() - start)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    report.row(
        f"latency threshold → SMTP server, {len(chosen)} alerts, worker + beat, default settings "
        f"(sweep every {os.environ.get('ALERT_SWEEP_SECONDS', '60')} s)",
        f"p95 {p95:.1f} s (p50 {statistics.median(latencies):.1f} s, max {latencies[-1]:.1f} s)",
        "",
        "",
        "p95 ≤ 90 s",
    )


# --- Main ------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    started = time.monotonic()

    workdir = Path(tempfile.mkdtemp(prefix="gerance-bench-"))
    sink_log = workdir / "smtp.log"
    sink_log.touch()
    port = free_port()
    sink = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port), str(sink_log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout.readline().strip() == "ready"
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gerance.settings")
    recreate_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    report = Report()
    try:
        phase, _ = timed(call_command, "migrate", verbosity=0)
        print(f"migrated in {phase:.1f} s", flush=True)
        phase, (gestionnaires, admin, dossiers, sender) = timed(make_people)
        print(f"people and dossiers in {phase:.1f} s", flush=True)
        now = timezone.now()
        generation, _ = timed(make_items, args.items, now, gestionnaires, dossiers, sender)
        print(f"data: {args.items:,} items generated in {generation:.1f} s", flush=True)
        bench_sweep(report, now)
        bench_delivery(report, sink_log, workdir, now)
        bench_pages(report, gestionnaires[0], admin)
        if not args.skip_latency:
            connection.close()
            bench_latency(report, sink_log, workdir)
    finally:
        sink.stdin.close()
        sink.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    header = (
        f"## make bench — {timezone.localtime():%Y-%m-%d %H:%M %Z}\n\n"
        f"{args.items:,} items ({OPEN:,} open, {NEWLY_PAST:,} newly past a threshold), "
        f"PostgreSQL {version}, Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"data generated in {generation:.0f} s, whole run {time.monotonic() - started:.0f} s."
    )
    Path(args.output).write_text(report.markdown(header))
    print("\n" + report.markdown(header))
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
