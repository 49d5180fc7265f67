#!/bin/bash
# demo.sh - popgate from a mail client's point of view, self-contained.
#
#   make demo          (= make deps; make all; tests/demo.sh)   as root
#
# Builds two network namespaces (a client, 192.0.2.1 / 2001:db8::1, and a
# relay, 192.0.2.25 / 2001:db8::25, joined by a veth pair), runs a real
# Postfix and a real Dovecot in the relay with their own configuration under
# a temporary directory, puts the gate on the relay's interface, and shows:
# SMTP refused, a real POP3 login, the login opening SMTP for that address
# (popgated following Dovecot's log, or popgatectl allow while popgated is
# not built), a message delivered, popgatectl list and stats. Everything it
# created is removed on exit, whatever happened. Exit 0 only if every step
# behaved as narrated.
#
# Environment: PG_KEEP_TMP=1 keeps the temp dir (logs, configs) for a look.
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tests/lib/e2e.bash
. tests/lib/e2e.bash

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'; else B='' G='' R='' D='' N=''; fi
failures=0
say() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
ok() { printf '    %s[ok]%s %s\n' "$G" "$N" "$*"; }
bad() { printf '    %s[FAILED]%s %s\n' "$R" "$N" "$*"; failures=$((failures + 1)); }
show() { sed "s/^/    $D|$N /"; }     # indent a command's output

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (namespaces, BPF)" >&2; exit 1; }
[ -x "$PG_CTL_BIN" ] || { echo "demo.sh: $PG_CTL_BIN is missing: run make first" >&2; exit 1; }

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	local rc=$? left=""
	say "Cleaning up: gate, popgated, Dovecot, Postfix, namespaces, pins, temp dir"
	local pids="${PG_POSTFIX_PID:-} ${PG_DOVECOT_PID:-} ${PG_DAEMON_PID:-}"
	pg_e2e_down
	for p in $pids; do pg_alive "$p" && left="$left process $p,"; done
	[ -n "${PG_NS_RELAY:-}" ] && [ -e "/run/netns/$PG_NS_RELAY" ] && left="$left $PG_NS_RELAY,"
	[ -n "${PG_NS_CLIENT:-}" ] && [ -e "/run/netns/$PG_NS_CLIENT" ] && left="$left $PG_NS_CLIENT,"
	[ -n "${PG_PIN_DIR:-}" ] && [ -e "$PG_PIN_DIR" ] && left="$left $PG_PIN_DIR,"
	[ "${PG_KEEP_TMP:-0}" != 1 ] && [ -n "${PG_TMP:-}" ] && [ -e "$PG_TMP" ] && left="$left $PG_TMP,"
	if [ -z "$left" ]; then
		ok "nothing left behind"
	else
		bad "left behind:${left%,}"
		[ "$rc" -ne 0 ] || rc=1
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

CLIENT=$PG_CLIENT4 RELAY=$PG_RELAY4 TOKEN="demo-$$-$RANDOM"

# The login -> authorization step, kept in one place (popgated's interface
# is still settling). Mode 'daemon' when build/popgated exists.
DAEMON=0
[ -x "$PG_DAEMON_BIN" ] && DAEMON=1

# gate_on: the daemon attaches the gate itself from its config; without it,
# popgatectl does.
gate_on() {
	if [ "$DAEMON" = 1 ]; then
		pg_daemon_start auto "window = 10m" || return 1
		echo "popgated (pid $PG_DAEMON_PID) config $PG_DAEMON_CONF:"
		grep -v '^#' "$PG_DAEMON_CONF" | show
		sed -n '1,5p' "$PG_DAEMON_OUT" | show
	else
		pg_gate_attach auto 2>&1 | show
		[ "${PIPESTATUS[0]}" = 0 ]
	fi
}

# login_opens_gate: after the POP3 login, the client's address gets allowed.
login_opens_gate() {
	if [ "$DAEMON" = 1 ]; then
		echo "popgated follows $PG_DOVECOT_LOG; Dovecot logged:"
		grep -F "rip=$CLIENT," "$PG_DOVECOT_LOG" | grep 'Login:' | tail -n 1 | show
		pg_daemon_wait_allowed "$CLIENT" 5 || return 1
		echo "popgated authorized $CLIENT (its output):"
		tail -n 3 "$PG_DAEMON_OUT" | show
	else
		echo "build/popgated is not built yet: the daemon step is PENDING."
		echo "Doing by hand what popgated will do on that log line:"
		echo "  popgatectl allow $CLIENT --for 10m --user $PG_POP_USER"
		pg_ctl allow "$CLIENT" --for 10m --user "$PG_POP_USER" 2>&1 | show
		pg_gate_listed "$CLIENT"
	fi
}

say "Building the test network: client $CLIENT, $PG_CLIENT6 --veth-- relay $RELAY, $PG_RELAY6"
if pg_e2e_up --no-postfix --no-dovecot; then
	ok "namespaces $PG_NS_CLIENT and $PG_NS_RELAY, pin dir $PG_PIN_DIR"
else
	bad "could not build the network"; exit 1
fi

say "Starting a real Postfix (25, 2525, 465/TLS, 587) and Dovecot (110, 143, 993, 995) in the relay"
if pg_postfix_start && pg_dovecot_start; then
	ok "Postfix master pid $PG_POSTFIX_PID, Dovecot master pid $PG_DOVECOT_PID (configs under $PG_TMP)"
else
	bad "the mail servers did not start"; pg_e2e_dump; exit 1
fi

say "Putting the gate on the relay's interface $PG_IF_RELAY"
if gate_on; then
	pg_ctl_in_relay status 2>&1 | show
	ok "gate attached"
else
	bad "could not attach the gate"; exit 1
fi

say "The client ($CLIENT) has not logged in: it tries SMTP on ports 25, 2525 and 465"
out=$(pg_tcp_blocked "$RELAY" 25 2525 465)
echo "$out" | show
if ! grep -qv 'timed out' <<<"$out"; then
	ok "every connection attempt timed out: the SYNs were dropped in the kernel"
else
	bad "a gated port answered an unauthorized client"
fi
if pg_smtp_send "$RELAY" 25 "$TOKEN-refused" 2>/dev/null; then
	bad "swaks delivered a message without a login"
else
	ok "swaks could not hand over a message ($(pg_gate_stat drop_unauthorized) SYNs dropped so far)"
fi

say "Meanwhile POP3 is open to everyone: a real POP3 login as $PG_POP_USER (curl pop3://$RELAY/)"
# the POP3 dialogue as curl -v shows it, password masked
pop3_login_shown() {
	pg_client curl -sS -v --connect-timeout 3 --max-time 10 -u "$PG_POP_USER:$PG_POP_PASS" \
		"pop3://$RELAY/" 2>&1 | grep -E '^[<>] ' |
		awk '/^> CAPA/ { skip = 1; next } skip && /^< \.\r?$/ { skip = 0; next } !skip' |
		sed -E 's/^(> PASS ).*/\1********/; s/^> [A-Za-z0-9+\/]{12,}=*\r?$/> ******** (credentials)/' | show
	[ "${PIPESTATUS[0]}" = 0 ]
}
if pop3_login_shown; then
	ok "logged in; Dovecot wrote to $PG_DOVECOT_LOG:"
	grep -F "rip=$CLIENT," "$PG_DOVECOT_LOG" | grep 'Login:' | tail -n 1 | show
else
	bad "the POP3 login failed"
fi

say "The login opens SMTP for $CLIENT"
if login_opens_gate; then
	ok "$CLIENT is authorized"
else
	bad "$CLIENT was not authorized after its login"
fi

say "The client sends a message through port 25 (swaks)"
if pg_smtp_send "$RELAY" 25 "$TOKEN" 2>&1 |
	grep -E '^ *(<- +[0-9]{3} |-> (EHLO|MAIL|RCPT|DATA|QUIT|\.$))' | show &&
	[ "${PIPESTATUS[0]}" = 0 ]; then
	ok "Postfix accepted it"
else
	bad "Postfix did not accept the message"
fi
if f=$(pg_mail_delivered "$TOKEN" 10); then
	ok "delivered to $PG_POP_USER's mailbox: ${f#"$PG_TMP"/}"
	grep -E '^(Received: from|Subject:)' "$f" | show
else
	bad "the message is not in the mailbox"
fi

say "popgatectl list: who may send, and for how long"
pg_ctl list 2>&1 | show

say "popgatectl stats: what the gate decided"
pg_ctl stats 2>&1 | show
[ "$(pg_gate_stat pass_authorized)" -gt 0 ] && [ "$(pg_gate_stat drop_unauthorized)" -gt 0 ] &&
	ok "connections dropped before the login, passed after it" ||
	bad "the counters do not show both drops and passes"

say "Revoking $CLIENT: SMTP is refused again"
pg_ctl revoke "$CLIENT" 2>&1 | show
out=$(pg_tcp_blocked "$RELAY" 25)
echo "$out" | show
if ! grep -qv 'timed out' <<<"$out"; then ok "refused again"; else bad "still open after revoke"; fi

echo
if [ "$failures" -eq 0 ]; then
	printf '%sDemo complete: every step behaved.%s\n' "$B$G" "$N"
	[ "$DAEMON" = 1 ] || echo "(the popgated step ran by hand with popgatectl allow: popgated is pending)"
	exit 0
fi
printf '%sDemo: %d step(s) did not behave.%s\n' "$B$R" "$failures" "$N"
pg_e2e_dump
exit 1
