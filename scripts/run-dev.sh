#!/usr/bin/env bash
# Serve the web application with a Celery worker and beat beside it; Ctrl-C stops all three.
# Run by `make run`, which has already migrated the database and seeded the demo data.
set -euo pipefail
set -m  # each job in its own process group: stopping a job stops its children too

BIN=.venv/bin
PORT=${PORT:-8000}
VAR_DIR=${VAR_DIR:-var}
mkdir -p "$VAR_DIR"

pids=()
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    wait || true
}
trap stop INT TERM EXIT

"$BIN/celery" -A gerance worker --loglevel=INFO --concurrency=2 & pids+=($!)
"$BIN/celery" -A gerance beat --loglevel=INFO --schedule "$VAR_DIR/celerybeat-schedule" & pids+=($!)
"$BIN/python" manage.py runserver "127.0.0.1:$PORT" & pids+=($!)
echo "Gérance: http://127.0.0.1:$PORT (Ctrl-C stops the web server, the worker and beat)"

# Whichever stops first (Ctrl-C, or one of the three crashing) stops the others.
wait -n
