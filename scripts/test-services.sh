#!/usr/bin/env bash
# Make sure what `make test` needs is here: PostgreSQL and Redis on 127.0.0.1, Debian's Chromium
# for the browser tests, docker-compose to validate docker-compose.yml. Start or install what is
# missing; fail with a message that says how when that is not possible. Never skip silently.
set -euo pipefail

fail() { echo "make test: $*" >&2; exit 1; }

wait_for() {  # wait_for <seconds> <command...>
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_up; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start 2>/dev/null || true
    wait_for 30 pg_up || fail "PostgreSQL is not reachable on 127.0.0.1:5432 (trust auth, user postgres). Start it, e.g. 'pg_ctlcluster 15 main start'."
fi

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG; }
if ! redis_up; then
    echo "Redis is not answering on 127.0.0.1:6379; starting it."
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /tmp --logfile /tmp/redis-make-test.log 2>/dev/null || true
    wait_for 15 redis_up || fail "Redis is not reachable on 127.0.0.1:6379. Start it, e.g. 'redis-server --daemonize yes --bind 127.0.0.1'."
fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" = 0 ] || fail "missing Debian packages: ${missing[*]}; install them with 'sudo apt-get install ${missing[*]}'."
    echo "Installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } \
        || fail "could not install ${missing[*]} with apt-get."
fi

# A real Redmine for redmine_bridge's integration tests: installed, configured and started by the
# project's own script (idempotent: a running, configured server is left as it is).
if [ -n "${REDMINE_PORT:-}" ]; then
    scripts/redmine.sh start "$REDMINE_PORT" >/dev/null \
        || fail "Redmine could not be started on 127.0.0.1:$REDMINE_PORT; see the messages of scripts/redmine.sh above."
fi

# The email channel's tests read a real IMAP server: a throw-away Dovecot on the loopback.
DOVECOT_PORT="${DOVECOT_PORT:-3143}" "$(dirname "$0")/dovecot.sh" start >/dev/null \
    || fail "the test IMAP server (Dovecot) did not start; run 'scripts/dovecot.sh start' to see why."
