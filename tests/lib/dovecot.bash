# shellcheck shell=bash
# dovecot.bash - a real Debian Dovecot inside the relay namespace, entirely
# under $PG_TMP/dovecot: its own config file (`dovecot -c FILE`), base_dir,
# state_dir, passwd-file with the test user, and log file PG_DOVECOT_LOG
# (the file popgated follows). Stopped by the master's PID.
#
#   pop3 110, imap 143, pop3s 995, imaps 993 (self-signed cert), IPv4 + IPv6
#   user PG_POP_USER (alice) / password PG_POP_PASS, uid/gid nobody, mail in
#   the Maildir Postfix delivers to ($PG_MAIL_DIR/alice/Maildir).
#   Successful logins log, e.g.:
#     pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.25, ...
#   failed ones:
#     pop3-login: Info: Disconnected (auth failed, 1 attempts in 2 secs): user=<alice>, ...

_PG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/postfix.bash
. "$_PG_LIB_DIR/postfix.bash"     # the mail store and user it shares

PG_POP_USER=$PG_MAIL_USER
PG_POP_PASS=${PG_POP_PASS:-'s3cret-pop'}
PG_DOVECOT_PORTS="110 143 993 995"
export PG_POP_USER PG_POP_PASS PG_DOVECOT_PORTS

# pg_dovecot_start [NS]: write the config, start Dovecot in NS (default: the
# relay namespace), wait until every port listens. Exports PG_DOVECOT_CONF,
# PG_DOVECOT_LOG, PG_DOVECOT_PID.
pg_dovecot_start() {
	local ns=${1:-$PG_NS_RELAY}
	pg_run_init && pg_mail_dirs || return 1
	local base=$PG_TMP/dovecot
	PG_DOVECOT_CONF=$base/dovecot.conf
	PG_DOVECOT_LOG=$base/dovecot.log
	PG_DOVECOT_NS=$ns
	export PG_DOVECOT_CONF PG_DOVECOT_LOG PG_DOVECOT_NS
	mkdir -p "$base/run" "$base/state" || return 1
	chmod 0755 "$base" "$base/run"
	pg_tls_cert "$base/tls" || return 1
	printf '%s:{PLAIN}%s:%s:%s::%s\n' "$PG_POP_USER" "$PG_POP_PASS" \
		"$PG_MAIL_UID" "$PG_MAIL_GID" "$PG_MAIL_DIR/$PG_POP_USER" >"$base/users"
	chgrp dovecot "$base/users" && chmod 0640 "$base/users"  # read by auth (user dovecot)
	: >"$PG_DOVECOT_LOG"
	_pg_dovecot_conf "$base" >"$PG_DOVECOT_CONF"
	if ! pg_in "$ns" dovecot -c "$PG_DOVECOT_CONF" >"$base/setup.out" 2>&1; then
		cat "$base/setup.out" "$PG_DOVECOT_LOG" >&2
		pg_die "dovecot did not start"
		return 1
	fi
	pg_wait_for 10 test -s "$base/run/master.pid" || {
		pg_die "dovecot wrote no master.pid"; return 1; }
	read -r PG_DOVECOT_PID <"$base/run/master.pid"
	export PG_DOVECOT_PID
	local p
	for p in $PG_DOVECOT_PORTS; do
		pg_wait_for 10 pg_listening "$ns" "$p" || {
			tail -n 30 "$PG_DOVECOT_LOG" >&2
			pg_die "dovecot is not listening on port $p"; return 1; }
	done
}

_pg_dovecot_conf() {
	local base=$1
	cat <<EOF
# popgate e2e: a private Dovecot instance (tests/lib/dovecot.bash)
base_dir = $base/run
state_dir = $base/state
instance_name = popgate-e2e-$PG_RUN_ID
log_path = $PG_DOVECOT_LOG
protocols = pop3 imap
listen = *, ::
ssl = yes
ssl_cert = <$base/tls/cert.pem
ssl_key = <$base/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = $PG_MAIL_UID
first_valid_gid = $PG_MAIL_GID
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $base/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $base/users
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
EOF
}

# pg_dovecot_stop: stop the master by PID and everything it started.
pg_dovecot_stop() {
	[ -n "${PG_DOVECOT_PID:-}" ] && pg_kill_tree "$PG_DOVECOT_PID" 5
	PG_DOVECOT_PID=
	return 0
}

# pg_dovecot_saw_login ADDR [USER]: the log shows a successful login from ADDR.
pg_dovecot_saw_login() {
	grep -E -- "-login: (Info: )?Login: user=<${2:-$PG_POP_USER}>" "$PG_DOVECOT_LOG" |
		grep -qF "rip=$1,"
}
