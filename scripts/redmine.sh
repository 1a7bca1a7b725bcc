#!/usr/bin/env bash
# A real Redmine on 127.0.0.1 for the integration tests of redmine_bridge (and for trying the bridge
# by hand): Debian's `redmine` package (5.0, SQLite), served by WEBrick through rackup.
#
# Usage (as root):  scripts/redmine.sh [start|stop|restart|reset|status] [PORT]
#   start    (default) idempotent: install, configure and start only what is missing
#   stop     stop the server this script started on PORT
#   reset    stop, give PORT a pristine database (default data + our configuration), start
#   status   exit 0 and print the settings when running, exit 3 otherwise
# It prints REDMINE_URL=..., REDMINE_API_KEY=..., REDMINE_PID=... on stdout (logs go to stderr), so
# `eval "$(scripts/redmine.sh start 3113)"` configures a shell.
#
# Each PORT has its own SQLite database (Rails' DATABASE_URL), copied from a configured snapshot:
# two test runs on two ports never see each other's issues, and stopping one server (an outage
# test) does not disturb the other. Debian's own instance database is never touched.
#
# Environment (all optional): REDMINE_API_KEY (40 hex chars), REDMINE_ADMIN_PASSWORD, REDMINE_LANG=fr,
# REDMINE_PROJECT=travaux-gestion, REDMINE_PROJECT_NAME="travaux gestion",
# REDMINE_REFERENCE_FIELD="Référence gérance".
set -euo pipefail

CMD="${1:-start}"
PORT="${2:-${REDMINE_PORT:-3100}}"
API_KEY="${REDMINE_API_KEY:-0123456789abcdef0123456789abcdef01234567}"
ADMIN_PASSWORD="${REDMINE_ADMIN_PASSWORD:-Admin-test-1234}"
DATA_LANG="${REDMINE_LANG:-fr}"
PROJECT_ID="${REDMINE_PROJECT:-travaux-gestion}"
PROJECT_NAME="${REDMINE_PROJECT_NAME:-travaux gestion}"
REFERENCE_FIELD="${REDMINE_REFERENCE_FIELD:-Référence gérance}"

RM=/usr/share/redmine
STATE=/var/tmp/redmine-test
PIDFILE="$STATE/redmine-$PORT.pid"
LOG="$STATE/redmine-$PORT.log"
ENVFILE="$STATE/redmine-$PORT.env"
DB="$STATE/redmine-$PORT.sqlite3"
# The snapshot depends on everything the configuration writes into the database.
CONFIG_HASH="$(printf '%s|' "$DATA_LANG" "$API_KEY" "$ADMIN_PASSWORD" "$PROJECT_ID" "$PROJECT_NAME" \
    "$REFERENCE_FIELD" "v3" | md5sum | cut -c1-10)"
SNAPSHOT="$STATE/pristine-$CONFIG_HASH.sqlite3"
URL="http://127.0.0.1:$PORT"

log() { echo "[redmine.sh $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$PORT'"
[ "$(id -u)" = 0 ] || die "run as root (it installs Debian packages and runs Redmine as www-data)"
mkdir -p "$STATE"
chown www-data:www-data "$STATE"

# Every Rails command runs as www-data on a given database (Rails prefers DATABASE_URL over
# database.yml); SCHEMA=/dev/null because Rails cannot write db/schema.rb in the package.
# TZ=UTC: Redmine stores its timestamps in the server's *local* time (default_timezone = :local),
# so a server started again under another zone would read every stored `updated_on` shifted by
# hours. The caller's TZ is not ours to inherit: Django sets TZ=TIME_ZONE in its own process, and
# the outage test starts this script from there.
# ?timeout=10000: SQLite's busy timeout, which Debian's database.yml does not set. Without it a
# request that writes while another thread reads (Redmine's own mail jobs run in threads of the
# server) fails at once with "database is locked", a 500 (seen in a loaded test run).
as_www() {  # as_www <database file> <command...>
    local db="$1"; shift
    setpriv --reuid=www-data --regid=www-data --init-groups \
        env HOME=/tmp TZ=UTC RAILS_ENV=production DATABASE_URL="sqlite3:$db?timeout=10000" SCHEMA=/dev/null "$@"
}

http_code() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@" || true; }
api_ok() { [ "$(http_code -H "X-Redmine-API-Key: $API_KEY" "$URL/projects/$PROJECT_ID.json")" = 200 ]; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
server_pid() {  # the PID of *our* server on $PORT, empty when not running
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "rackup .*-p $PORT "; then
        echo "$pid"
    fi
}

install_if_missing() {
    if [ "$(dpkg-query -W -f='${Status}\n' redmine redmine-sqlite sqlite3 curl 2>/dev/null \
            | grep -c '^install ok installed$')" = 4 ]; then
        return
    fi
    local t0=$SECONDS
    log "installing Debian's redmine, redmine-sqlite, sqlite3, curl (apt-get)..."
    ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -q >&2
    # The language as a 'string': a preseeded 'select' without choices is reset, giving English data.
    debconf-set-selections <<EOF
redmine redmine/instances/default/dbconfig-install boolean true
redmine redmine/instances/default/database-type select sqlite3
redmine redmine/instances/default/default-language string $DATA_LANG
EOF
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        redmine redmine-sqlite sqlite3 curl >"$STATE/apt-install.log" 2>&1 \
        || { tail -30 "$STATE/apt-install.log" >&2; die "apt-get install failed (log: $STATE/apt-install.log)"; }
    log "installed in $((SECONDS - t0)) s"
}

ensure_webrick() {  # Redmine's bundle has no application server: add WEBrick (Debian's ruby-webrick)
    grep -q '^  webrick' /var/lib/redmine/Gemfile.lock 2>/dev/null && return
    log "adding webrick to the bundle ($RM/Gemfile.local)"
    echo "gem 'webrick'" >"$RM/Gemfile.local"
    (cd "$RM" && BUNDLE_SILENCE_ROOT_WARNING=1 bundle install --local --quiet >&2) \
        || die "bundle install --local failed"
    chown www-data:www-data /var/lib/redmine/Gemfile.lock
}

# What our bridge needs in Redmine, written with rails runner (the REST API cannot create custom
# fields): the REST API on, login required (an unknown key must give 401, not anonymous access),
# the admin API key, the project with every tracker, and the custom field carrying our reference.
write_configure_rb() {
    cat >"$STATE/configure.rb" <<'RUBY'
abort 'no default data (no trackers)' unless Tracker.exists?
Setting.rest_api_enabled = '1'
Setting.login_required   = '1'
# No notification emails: nobody reads them here, and their jobs are one more reader of SQLite.
Setting.notified_events  = []
Setting.default_language = ENV['RM_LANG']
admin = User.where(login: 'admin').first!
admin.password = admin.password_confirmation = ENV['RM_ADMIN_PASSWORD']
admin.must_change_passwd = false
admin.save!
key = ENV['RM_API_KEY']
tok = Token.where(user_id: admin.id, action: 'api').first || Token.create!(user: admin, action: 'api')
Token.where(value: key).where.not(id: tok.id).delete_all
tok.update_column(:value, key) unless tok.value == key   # Token#before_create sets a random value
field = IssueCustomField.where(name: ENV['RM_REFERENCE_FIELD']).first ||
        IssueCustomField.new(name: ENV['RM_REFERENCE_FIELD'])
field.field_format = 'string'
field.is_for_all = true
field.is_filter = true
field.searchable = true
field.visible = true
field.trackers = Tracker.all.to_a
field.save!
project = Project.where(identifier: ENV['RM_PROJECT_ID']).first || Project.new(identifier: ENV['RM_PROJECT_ID'])
project.name = ENV['RM_PROJECT_NAME']
project.trackers = Tracker.sorted.to_a
project.enabled_module_names = project.enabled_module_names | %w(issue_tracking)
project.save!
puts "redmine.sh: trackers " + Tracker.sorted.map { |t| "#{t.id}=#{t.name}" }.join(', ')
puts "redmine.sh: statuses " + IssueStatus.sorted.map { |s| "#{s.id}=#{s.name}#{' (closed)' if s.is_closed?}" }.join(', ')
puts "redmine.sh: roles " + Role.givable.sorted.map { |r| "#{r.id}=#{r.name}" }.join(', ')
puts "redmine.sh: project #{project.identifier} (id #{project.id}), custom field #{field.name} (id #{field.id})"
RUBY
}

configure() {  # configure <database file>
    write_configure_rb
    (cd "$RM" && as_www "$1" RM_API_KEY="$API_KEY" RM_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        RM_LANG="$DATA_LANG" RM_PROJECT_ID="$PROJECT_ID" RM_PROJECT_NAME="$PROJECT_NAME" \
        RM_REFERENCE_FIELD="$REFERENCE_FIELD" bundle exec rails runner -e production "$STATE/configure.rb" >&2) \
        || die "configuration (rails runner) failed"
}

build_snapshot() {  # migrate + default data + configuration, once per configuration
    [ -f "$SNAPSHOT" ] && return
    local t0=$SECONDS tmp="$STATE/building-$CONFIG_HASH-$$.sqlite3"
    log "building the pristine database $SNAPSHOT (migrations, '$DATA_LANG' default data, configuration)"
    rm -f "$tmp"
    (cd "$RM" && as_www "$tmp" bundle exec rake db:migrate >"$STATE/migrate.log" 2>&1) \
        || { tail -20 "$STATE/migrate.log" >&2; die "db:migrate failed (log: $STATE/migrate.log)"; }
    (cd "$RM" && as_www "$tmp" REDMINE_LANG="$DATA_LANG" bundle exec rake redmine:load_default_data >&2) \
        || die "redmine:load_default_data failed"
    configure "$tmp"
    mv "$tmp" "$SNAPSHOT"   # atomic: a concurrent run sees no half-built snapshot
    log "pristine database built in $((SECONDS - t0)) s"
}

restore_db() {
    install -o www-data -g www-data -m 0644 "$SNAPSHOT" "$DB"
    rm -f "$DB-journal" "$DB-wal" "$DB-shm"
    echo "$CONFIG_HASH" >"$DB.config"
}

launch() {
    local pid t0=$SECONDS
    port_busy && die "port $PORT is already used by another process; choose another PORT"
    log "starting Redmine on $URL (database $DB, log $LOG)"
    cd "$RM"
    # setsid: its own session, so it outlives the caller (make test); the exec chain keeps $! = the server.
    setsid setpriv --reuid=www-data --regid=www-data --init-groups \
        env HOME=/tmp TZ=UTC RAILS_ENV=production DATABASE_URL="sqlite3:$DB?timeout=10000" \
        bundle exec rackup -E production -s webrick -o 127.0.0.1 -p "$PORT" config.ru \
        >>"$LOG" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"
    cd - >/dev/null
    until [ "$(http_code "$URL/login")" = 200 ]; do  # "/" is a 302 to /login: login is required
        kill -0 "$pid" 2>/dev/null || { tail -20 "$LOG" >&2; die "the server exited (log: $LOG)"; }
        [ $((SECONDS - t0)) -lt 120 ] || { kill "$pid"; die "no HTTP answer after 120 s (log: $LOG)"; }
        sleep 0.2
    done
    log "answering after $((SECONDS - t0)) s (pid $pid)"
}

stop() {
    local pid
    pid="$(server_pid)"
    if [ -z "$pid" ]; then
        rm -f "$PIDFILE"
        return
    fi
    log "stopping pid $pid (port $PORT)"
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "still alive, SIGKILL"; kill -9 "$pid"; sleep 0.3; fi
    rm -f "$PIDFILE"
}

report() {
    printf 'REDMINE_URL=%s\nREDMINE_API_KEY=%s\nREDMINE_PID=%s\n' "$URL" "$API_KEY" "$(server_pid)" \
        | tee "$ENVFILE"
}

start() {
    install_if_missing
    ensure_webrick
    build_snapshot
    if [ -z "$(server_pid)" ]; then
        # A database made from an older configuration's snapshot starts afresh from this one.
        [ -f "$DB" ] && [ "$(cat "$DB.config" 2>/dev/null)" = "$CONFIG_HASH" ] || restore_db
        launch
    fi
    if ! api_ok; then
        # A database from an older configuration: settings are re-read per request, so
        # configuring the running server's database is enough.
        log "REST API check failed: applying the configuration"
        configure "$DB"
        api_ok || die "REST API check failed: GET $URL/projects/$PROJECT_ID.json with the admin key"
    fi
    report
}

# One run at a time per port: make test and a test's own restart must not interleave.
exec 9>"$STATE/redmine-$PORT.lock"
flock 9

case "$CMD" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    reset)
        stop
        install_if_missing
        ensure_webrick
        build_snapshot
        restore_db
        log "database of port $PORT restored from $SNAPSHOT"
        start
        ;;
    status)
        if [ -n "$(server_pid)" ]; then report; else log "not running on port $PORT"; exit 3; fi ;;
    *) die "usage: $0 [start|stop|restart|reset|status] [PORT]" ;;
esac
