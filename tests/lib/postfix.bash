# shellcheck shell=bash
# postfix.bash - a real Debian Postfix inside the relay namespace, entirely
# under $PG_TMP/postfix (its own config_directory, queue_directory,
# data_directory, log file), started with `postfix -c DIR start` and stopped
# by the master's PID.
#
#   SMTP services (smtpd, all addresses, IPv4 and IPv6):
#     25    plain SMTP                        gated by default
#     2525  plain SMTP                        gated by default
#     465   SMTP over TLS (wrapper mode)      gated by default
#     587   plain SMTP                        NOT gated: the control port
#   Mail for PG_MAIL_RCPT (alice@popgate.test) is delivered by virtual(8) to
#   the Maildir $PG_MAIL_DIR/alice/Maildir (uid/gid nobody), the same one the
#   Dovecot of dovecot.bash serves, so a test can assert a message arrived.
#   The client ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
#   2001:db8::/32) are mynetworks; no DNS, no peer name lookups, no chroot.

_PG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/common.bash
. "$_PG_LIB_DIR/common.bash"

PG_SMTP_PORTS="25 2525 465"     # the gate's default gated ports, all served
PG_SMTP_OPEN_PORT=587           # served, never gated
PG_MAIL_USER=alice
PG_MAIL_DOMAIN=popgate.test
PG_MAIL_RCPT=$PG_MAIL_USER@$PG_MAIL_DOMAIN
PG_MAIL_UID=65534               # nobody: owner of the test mailbox
PG_MAIL_GID=65534
export PG_SMTP_PORTS PG_SMTP_OPEN_PORT PG_MAIL_USER PG_MAIL_DOMAIN PG_MAIL_RCPT \
	PG_MAIL_UID PG_MAIL_GID

# pg_mail_dirs: the shared mail store $PG_MAIL_DIR/alice (owned by nobody).
pg_mail_dirs() {
	pg_run_init || return 1
	PG_MAIL_DIR=$PG_TMP/mail
	export PG_MAIL_DIR
	mkdir -p "$PG_MAIL_DIR/$PG_MAIL_USER" &&
		chown "$PG_MAIL_UID:$PG_MAIL_GID" "$PG_MAIL_DIR/$PG_MAIL_USER" &&
		chmod 0700 "$PG_MAIL_DIR/$PG_MAIL_USER" && chmod 0755 "$PG_MAIL_DIR"
}

# pg_postfix_start [NS]: write the configuration, start Postfix in NS
# (default: the relay namespace) and wait until every port listens.
# Exports PG_POSTFIX_DIR (config_directory), PG_POSTFIX_LOG, PG_POSTFIX_PID.
pg_postfix_start() {
	local ns=${1:-$PG_NS_RELAY}
	pg_run_init && pg_mail_dirs || return 1
	local base=$PG_TMP/postfix
	PG_POSTFIX_DIR=$base/etc
	PG_POSTFIX_LOG=$base/postfix.log
	PG_POSTFIX_NS=$ns
	export PG_POSTFIX_DIR PG_POSTFIX_LOG PG_POSTFIX_NS
	mkdir -p "$PG_POSTFIX_DIR" "$base/spool" "$base/data" || return 1
	chown postfix "$base/data" && chmod 0700 "$base/data" || return 1   # mail_owner's
	pg_tls_cert "$base/tls" || return 1
	: >"$PG_POSTFIX_LOG"
	_pg_postfix_main_cf "$base" >"$PG_POSTFIX_DIR/main.cf"
	_pg_postfix_master_cf >"$PG_POSTFIX_DIR/master.cf"
	# `postfix check` creates the queue tree with Postfix's ownership rules
	# (only under $base; not `set-permissions`, which would also chown and
	# chmod the system's Postfix files), then start
	if ! postfix -c "$PG_POSTFIX_DIR" check >"$base/setup.out" 2>&1; then
		cat "$base/setup.out" >&2
		pg_die "postfix configuration in $PG_POSTFIX_DIR was refused"
		return 1
	fi
	if ! pg_in "$ns" postfix -c "$PG_POSTFIX_DIR" start >>"$base/setup.out" 2>&1; then
		cat "$base/setup.out" "$PG_POSTFIX_LOG" >&2
		pg_die "postfix did not start"
		return 1
	fi
	pg_wait_for 10 test -s "$base/spool/pid/master.pid" || {
		pg_die "postfix wrote no master.pid"; return 1; }
	read -r PG_POSTFIX_PID <"$base/spool/pid/master.pid"
	PG_POSTFIX_PID=${PG_POSTFIX_PID// /}
	export PG_POSTFIX_PID
	local p
	for p in $PG_SMTP_PORTS $PG_SMTP_OPEN_PORT; do
		pg_wait_for 10 pg_listening "$ns" "$p" || {
			tail -n 30 "$PG_POSTFIX_LOG" >&2
			pg_die "postfix is not listening on port $p"; return 1; }
	done
}

_pg_postfix_main_cf() {
	local base=$1
	cat <<EOF
# popgate e2e: a private Postfix instance (tests/lib/postfix.bash)
compatibility_level = 3.6
queue_directory = $base/spool
data_directory = $base/data
maillog_file = $PG_POSTFIX_LOG
maillog_file_prefixes = $base
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.popgate.test
mydomain = popgate.test
myorigin = \$myhostname
mydestination =
inet_interfaces = all
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 [2001:db8::]/32
smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP popgate-e2e
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_recipient_maps =
biff = no
virtual_mailbox_domains = $PG_MAIL_DOMAIN
virtual_mailbox_base = $PG_MAIL_DIR
virtual_mailbox_maps = inline:{ $PG_MAIL_RCPT=$PG_MAIL_USER/Maildir/ }
virtual_uid_maps = static:$PG_MAIL_UID
virtual_gid_maps = static:$PG_MAIL_GID
virtual_minimum_uid = 100
smtpd_tls_cert_file = $base/tls/cert.pem
smtpd_tls_key_file = $base/tls/key.pem
smtpd_tls_security_level = may
# a test never waits on the queue manager's back-off
queue_run_delay = 10s
minimal_backoff_time = 10s
EOF
}

_pg_postfix_master_cf() {
	cat <<'EOF'
# popgate e2e: private Postfix services, nothing chrooted
# service  type  private unpriv chroot wakeup maxproc command
25         inet  n       -      n      -      -       smtpd
2525       inet  n       -      n      -      -       smtpd
465        inet  n       -      n      -      -       smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
587        inet  n       -      n      -      -       smtpd
pickup     unix  n       -      n      60     1       pickup
cleanup    unix  n       -      n      -      0       cleanup
qmgr       unix  n       -      n      300    1       qmgr
tlsmgr     unix  -       -      n      1000?  1       tlsmgr
rewrite    unix  -       -      n      -      -       trivial-rewrite
bounce     unix  -       -      n      -      0       bounce
defer      unix  -       -      n      -      0       bounce
trace      unix  -       -      n      -      0       bounce
verify     unix  -       -      n      -      1       verify
flush      unix  n       -      n      1000?  0       flush
proxymap   unix  -       -      n      -      -       proxymap
proxywrite unix  -       -      n      -      1       proxymap
smtp       unix  -       -      n      -      -       smtp
relay      unix  -       -      n      -      -       smtp
showq      unix  n       -      n      -      -       showq
error      unix  -       -      n      -      -       error
retry      unix  -       -      n      -      -       error
discard    unix  -       -      n      -      -       discard
local      unix  -       n      n      -      -       local
virtual    unix  -       n      n      -      -       virtual
lmtp       unix  -       -      n      -      -       lmtp
anvil      unix  -       -      n      -      1       anvil
scache     unix  -       -      n      -      1       scache
postlog    unix-dgram n  -      n      -      1       postlogd
EOF
}

# pg_postfix_stop: stop the master by PID (TERM, then KILL after 5 s) and
# every process it started. Idempotent.
pg_postfix_stop() {
	[ -n "${PG_POSTFIX_PID:-}" ] && pg_kill_tree "$PG_POSTFIX_PID" 5
	PG_POSTFIX_PID=
	return 0
}

# pg_mail_delivered TOKEN [SECONDS]: a message containing TOKEN is in the
# test mailbox (new/ or cur/), waiting up to SECONDS (default 10) for
# delivery. Prints the message's file name.
pg_mail_delivered() {
	local token=$1 limit=${2:-10}
	pg_wait_for "$limit" _pg_mail_find "$token" >/dev/null || return 1
	_pg_mail_find "$token"
}

_pg_mail_find() {
	local md=$PG_MAIL_DIR/$PG_MAIL_USER/Maildir
	[ -d "$md" ] || return 1
	grep -rlF -- "$1" "$md/new" "$md/cur" 2>/dev/null | head -n 1 | grep .
}

# pg_mail_count: number of messages in the test mailbox.
pg_mail_count() {
	local md=$PG_MAIL_DIR/$PG_MAIL_USER/Maildir
	find "$md/new" "$md/cur" -type f 2>/dev/null | wc -l
}

# pg_postfix_queue: the queue as JSON lines (`postqueue -j`), for messages
# that were accepted but not (yet) delivered.
pg_postfix_queue() {
	postqueue -c "$PG_POSTFIX_DIR" -j 2>/dev/null
}

# pg_postfix_log_mark: current size of the Postfix log, a mark for the
# *_since functions (what happened after the mark).
pg_postfix_log_mark() { stat -c %s "$PG_POSTFIX_LOG" 2>/dev/null || echo 0; }

# pg_postfix_log_since MARK: the log written after MARK.
pg_postfix_log_since() { tail -c +"$(($1 + 1))" "$PG_POSTFIX_LOG"; }

# pg_postfix_connects_since MARK ADDR: how many connections smtpd accepted
# from ADDR after MARK (0 when the gate dropped every SYN from it).
pg_postfix_connects_since() {
	pg_postfix_log_since "$1" | grep -cF "]: connect from unknown[$2]" || true
}
