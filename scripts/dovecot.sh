#!/usr/bin/env bash
# A throw-away Dovecot IMAP server on 127.0.0.1 for the tests and the benchmark of the email
# channel: `scripts/dovecot.sh start|stop|status`. Plain authentication on the loopback, no TLS,
# users in a passwd-file, mail in Maildir under $DOVECOT_DIR: for tests only, never production.
# Debian's dovecot-imapd is installed when missing (as root), like the other test services.
set -euo pipefail

DIR=${DOVECOT_DIR:-/tmp/gerance-dovecot}
PORT=${DOVECOT_PORT:-3143}
PASSWORD=${DOVECOT_PASSWORD:-secret}
USERS=(gestion@agence.test bench@agence.test)
CONF="$DIR/dovecot.conf"

fail() { echo "dovecot.sh: $*" >&2; exit 1; }

answering() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && head -c 4 <&3" 2>/dev/null | grep -q '^\* OK'; }

install() {
    command -v dovecot >/dev/null && return
    [ "$(id -u)" = 0 ] || fail "Dovecot is missing; install it with 'sudo apt-get install dovecot-imapd'."
    echo "Installing Debian's dovecot-imapd"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dovecot-imapd >/dev/null \
        || { apt-get update -q >/dev/null \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dovecot-imapd >/dev/null; } \
        || fail "could not install dovecot-imapd with apt-get."
}

configure() {
    mkdir -p "$DIR/run" "$DIR/state" "$DIR/mail"
    : > "$DIR/users"
    for user in "${USERS[@]}"; do echo "$user:{PLAIN}$PASSWORD" >> "$DIR/users"; done
    cat > "$CONF" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $DIR/run
state_dir = $DIR/state
log_path = $DIR/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DIR/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DIR/mail/%u
}
mail_location = maildir:~/Maildir
# Throw-away mail: no fsync (the benchmark measures our code, not the disk).
mail_fsync = never
mail_max_userip_connections = 50
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
default_internal_user = nobody
default_login_user = nobody
namespace inbox {
  inbox = yes
  mailbox Archive {
    auto = create
  }
  mailbox Sent {
    auto = create
    special_use = \\Sent
  }
}
CONF
    chown -R nobody:nogroup "$DIR/mail"
}

case "${1:-status}" in
    start)
        if answering; then exit 0; fi
        install
        configure
        # Detached from our output: a caller reading it (a test) must not wait for the daemon.
        dovecot -c "$CONF" </dev/null >/dev/null 2>&1 || fail "dovecot did not start; see $DIR/dovecot.log"
        for _ in $(seq 1 40); do answering && { echo "Dovecot answers on 127.0.0.1:$PORT"; exit 0; }; sleep 0.25; done
        fail "Dovecot does not answer on 127.0.0.1:$PORT; see $DIR/dovecot.log"
        ;;
    stop)
        if [ -f "$DIR/run/master.pid" ]; then
            kill "$(cat "$DIR/run/master.pid")" 2>/dev/null || true
            for _ in $(seq 1 40); do answering || exit 0; sleep 0.25; done
            fail "Dovecot still answers on 127.0.0.1:$PORT"
        fi
        ;;
    status)
        answering && echo "Dovecot answers on 127.0.0.1:$PORT" || { echo "Dovecot is not running on 127.0.0.1:$PORT"; exit 3; }
        ;;
    *) fail "usage: $0 start|stop|status" ;;
esac
