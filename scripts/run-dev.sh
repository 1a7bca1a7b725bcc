#!/usr/bin/env bash
# Serve the web application with a Celery worker and beat beside it; Ctrl-C stops all three.
# Run by `make run`, which has already migrated the database and seeded the demo data.
set -euo pipefail
set -m  # each job in its own process group: stopping a job stops its children too

BIN=.venv/bin
PORT=${PORT:-8000}
VAR_DIR=${VAR_DIR:-var}
mkdir -p "$VAR_DIR"

worker="" beat="" web=""  # pids, set below; empty ones are skipped (unquoted on purpose)
stop() {
    trap - INT TERM EXIT
    # Celery's warm shutdown stops its own pool; the web server's reloader needs its whole group.
    for pid in $worker $beat; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $web; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for _ in $(seq 40); do  # up to 20 s for a task to finish, then no more waiting
        alive=0
        for pid in $worker $beat $web; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && return 0
        sleep 0.5
    done
    for pid in $worker $beat $web; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap stop INT TERM EXIT

"$BIN/celery" -A gerance worker --loglevel=INFO --concurrency=2 & worker=$!
"$BIN/celery" -A gerance beat --loglevel=INFO --schedule "$VAR_DIR/celerybeat-schedule" & beat=$!
"$BIN/python" manage.py runserver "127.0.0.1:$PORT" & web=$!
echo "Gérance: http://127.0.0.1:$PORT (Ctrl-C stops the web server, the worker and beat)"

# Whichever stops first (Ctrl-C, or one of the three crashing) stops the others.
wait -n
