# shellcheck shell=bash
# e2e.bash - the whole test world in two calls, for bats suites and the demo.
#
#   load ../lib/e2e            (bats)   or   . tests/lib/e2e.bash
#   pg_e2e_up [--no-postfix] [--no-dovecot] [--no-gate]
#       sweep leftovers of dead runs; choose the pin dir (the gate is
#       attached by the suite: pg_gate_attach MODE); namespaces; Postfix;
#       Dovecot
#   pg_e2e_down
#       stop everything pg_e2e_up and the helpers started, whatever state
#       it is in: open session, popgated, gate, Dovecot, Postfix, namespaces,
#       pin dir, temp dir. Idempotent, never fails.
#
#   pg_e2e_dump
#       the tail of the Postfix, Dovecot and popgated logs, on stderr
#
# Exit traps: bats calls teardown_file even when setup_file or a test fails;
# scripts should `trap pg_e2e_down EXIT`.

_PG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for _pg_f in common netns postfix dovecot clients popgate; do
	# shellcheck source=/dev/null
	. "$_PG_LIB_DIR/$_pg_f.bash"
done
unset _pg_f

pg_e2e_up() {
	local postfix=1 dovecot=1 gate=1
	while [ $# -gt 0 ]; do
		case $1 in
		--no-postfix) postfix=0 ;;
		--no-dovecot) dovecot=0 ;;
		--no-gate) gate=0 ;;
		*) pg_die "pg_e2e_up: unknown option $1"; return 2 ;;
		esac
		shift
	done
	local _c
	for _c in ip nsenter ethtool perl curl swaks openssl; do
		command -v "$_c" >/dev/null || { pg_die "$_c is missing (make deps)"; return 1; }
	done
	pg_sweep_stale
	pg_run_init || return 1
	if [ "$gate" = 1 ]; then pg_gate_init || return 1; fi
	pg_netns_setup || return 1
	if [ "$postfix" = 1 ]; then pg_postfix_start || return 1; fi
	if [ "$dovecot" = 1 ]; then pg_dovecot_start || return 1; fi
	return 0
}

pg_e2e_down() {
	pg_smtp_session_kill
	pg_daemon_stop
	pg_bg_kill_all
	pg_gate_cleanup
	pg_dovecot_stop
	pg_postfix_stop
	pg_netns_teardown
	pg_run_cleanup
	return 0
}

# pg_e2e_dump: the tail of every server log, for a failing test's output.
pg_e2e_dump() {
	local f
	for f in "${PG_POSTFIX_LOG:-}" "${PG_DOVECOT_LOG:-}" "${PG_DAEMON_OUT:-}"; do
		[ -n "$f" ] && [ -s "$f" ] || continue
		echo "# ---- last lines of $f" >&2
		tail -n 15 "$f" | sed 's/^/# /' >&2
	done
}

# pg_e2e_on_failure: in a bats teardown, when the test failed, show what
# the gate held and the tail of every server log.
pg_e2e_on_failure() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] && return 0
	pg_ctl list >&2 || true
	pg_e2e_dump
}
