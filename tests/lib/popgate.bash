# shellcheck shell=bash
# popgate.bash - drive build/popgatectl (and later build/popgated) against
# a pin directory private to this run: /sys/fs/bpf/pge2e-<run id>.
#
#   pg_bpffs_ensure          mount bpffs on /sys/fs/bpf if it is not one (says so)
#   pg_gate_init             choose PG_PIN_DIR, check the binaries, ensure bpffs
#   pg_ctl ARGS...           popgatectl --pin-dir PG_PIN_DIR ARGS... (host netns:
#                            the maps are reached through the pins)
#   pg_gate_attach [MODE]    attach to PG_IF_RELAY inside the relay namespace
#   pg_gate_detach           detach from PG_IF_RELAY (ignores "not attached")
#   pg_gate_cleanup          detach + remove the pin dir (idempotent)
#   pg_gate_stat NAME        one counter of `stats --json`
#   pg_gate_listed ADDR      `list --json` has an entry for ADDR
#   pg_gate_flush_all        no authorizations, no trusted prefixes

_PG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/common.bash
. "$_PG_LIB_DIR/common.bash"

PG_CTL_BIN=${PG_CTL_BIN:-$PG_BUILD/popgatectl}
PG_DAEMON_BIN=${PG_DAEMON_BIN:-$PG_BUILD/popgated}
export PG_CTL_BIN PG_DAEMON_BIN

# pg_bpffs_ensure: /sys/fs/bpf must be a bpffs for pins; mount one when it
# is missing (systemd does this on a normal host; nothing does here).
pg_bpffs_ensure() {
	[ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ] && return 0
	echo "# /sys/fs/bpf is not a bpffs: mounting one (mount -t bpf bpf /sys/fs/bpf)" >&2
	mkdir -p /sys/fs/bpf 2>/dev/null
	mount -t bpf bpf /sys/fs/bpf || { pg_die "cannot mount bpffs on /sys/fs/bpf"; return 1; }
}

# pg_gate_init: PG_PIN_DIR=/sys/fs/bpf/pge2e-<run id> (not created: popgatectl
# makes it). Fails when build/popgatectl is missing.
pg_gate_init() {
	pg_run_init || return 1
	[ -x "$PG_CTL_BIN" ] || { pg_die "$PG_CTL_BIN not built (make)"; return 1; }
	pg_bpffs_ensure || return 1
	PG_PIN_DIR=/sys/fs/bpf/$PG_NAME_PREFIX-$PG_RUN_ID
	export PG_PIN_DIR
}

# pg_ctl ARGS...: popgatectl on this run's pins. Output and status as is.
pg_ctl() {
	"$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" "$@"
}

# pg_ctl_in_relay ARGS...: the same, inside the relay namespace (interface
# verbs), keeping the host mount namespace so /sys/fs/bpf is the real one.
pg_ctl_in_relay() {
	pg_in "$PG_NS_RELAY" "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" "$@"
}

# pg_gate_attach [MODE]: attach to the relay's interface (MODE: auto,
# native, generic, tc; default auto). Exports PG_GATE_MODE.
pg_gate_attach() {
	PG_GATE_MODE=${1:-auto}
	export PG_GATE_MODE
	pg_ctl_in_relay attach "$PG_IF_RELAY" --mode "$PG_GATE_MODE"
}

# pg_gate_detach: detach from the relay's interface; quiet and successful
# when nothing is attached or the namespace is gone.
pg_gate_detach() {
	[ -n "${PG_NS_RELAY:-}" ] && [ -e "/run/netns/$PG_NS_RELAY" ] || return 0
	[ -x "$PG_CTL_BIN" ] && [ -n "${PG_PIN_DIR:-}" ] || return 0
	pg_ctl_in_relay detach "$PG_IF_RELAY" >/dev/null 2>&1 || true
	return 0
}

# pg_gate_cleanup: detach and remove this run's pin dir. Idempotent.
pg_gate_cleanup() {
	pg_gate_detach
	case ${PG_PIN_DIR:-} in
	/sys/fs/bpf/"$PG_NAME_PREFIX"-*) rm -rf "$PG_PIN_DIR" ;;
	esac
	return 0
}

# pg_gate_stat NAME: the value of counter NAME in `stats --json` (sum over CPUs).
pg_gate_stat() {
	pg_ctl stats --json | pg_json "\$j->{'$1'} // die qq(no counter $1\n)"
}

# _pg_addr_forms ADDR: ADDR as listed (IPv4 may appear plain or IPv4-mapped).
_pg_addr_forms() { echo "$1"; case $1 in *:*) ;; *) echo "::ffff:$1" ;; esac; }

# pg_gate_listed ADDR: `list --json` has an entry for ADDR.
pg_gate_listed() {
	local out
	out=$(pg_ctl list --json) || return 1
	echo "$out" | pg_json "join qq(\\n), map { \$_->{addr} } @\$j" |
		grep -qxF -f <(_pg_addr_forms "$1")
}

# pg_gate_expires_in ADDR: expires_in_s of ADDR's entry (empty if none).
pg_gate_expires_in() {
	pg_ctl list --json | pg_json "
		my %f = map { \$_ => 1 } split /\\n/, q($(_pg_addr_forms "$1"));
		(map { \$_->{expires_in_s} } grep { \$f{\$_->{addr}} } @\$j)[0]"
}

# pg_gate_flush_all: drop every authorization and trusted prefix of this run.
pg_gate_flush_all() {
	pg_ctl flush >/dev/null || return 1
	local p
	for p in $(pg_ctl trust list --json | pg_json "join qq(\\n), map { ref(\$_) ? (\$_->{cidr} // \$_->{prefix}) : \$_ } @\$j"); do
		pg_ctl trust del "$p" >/dev/null || return 1
	done
}

# --- popgated -------------------------------------------------------------
# What a test needs of the daemon is in these functions, so a change of its
# interface stays a local change here.
#
#   pg_daemon_start [MODE] [EXTRA_CONF_LINE...]
#       write $PG_TMP/popgated.conf (pin_dir, log = Dovecot's log, interface
#       = relay interface + MODE, default tc), start build/popgated -c CONF in
#       the relay namespace (host mount namespace: bpffs stays visible), in
#       the background, output in PG_DAEMON_OUT; exports PG_DAEMON_PID.
#   pg_daemon_stop          TERM by PID, KILL after 5 s
#   pg_daemon_wait_allowed ADDR [SECONDS]   the daemon authorized ADDR

pg_daemon_start() {
	local mode=${1:-tc}
	[ $# -gt 0 ] && shift
	[ -x "$PG_DAEMON_BIN" ] || { pg_die "$PG_DAEMON_BIN not built"; return 1; }
	PG_DAEMON_CONF=$PG_TMP/popgated.conf
	PG_DAEMON_OUT=$PG_TMP/popgated.out
	export PG_DAEMON_CONF PG_DAEMON_OUT
	{
		echo "# popgate e2e (tests/lib/popgate.bash)"
		echo "pin_dir = $PG_PIN_DIR"
		echo "log = ${PG_DOVECOT_LOG:?no Dovecot log (pg_dovecot_start)}"
		echo "interface = $PG_IF_RELAY $mode"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$PG_DAEMON_CONF"
	if ! pg_daemon_launch || ! pg_alive "$PG_DAEMON_PID"; then
		cat "$PG_DAEMON_OUT" >&2
		pg_die "popgated did not come up"
		pg_daemon_stop
		return 1
	fi
}

# pg_daemon_launch [WRAPPER...]: start popgated on PG_DAEMON_CONF in the
# relay namespace (host mount namespace: bpffs stays visible), behind
# WRAPPER if given (setpriv ..., env ...), output in PG_DAEMON_OUT; exports
# PG_DAEMON_PID. Returns 0 once it is up or gone, 1 if neither within 15 s.
pg_daemon_launch() {
	# shellcheck disable=SC2086
	nsenter --net="/run/netns/$PG_NS_RELAY" -- "$@" \
		"$PG_DAEMON_BIN" -c "$PG_DAEMON_CONF" ${PG_DAEMON_ARGS:-} \
		</dev/null >"$PG_DAEMON_OUT" 2>&1 &
	PG_DAEMON_PID=$!
	export PG_DAEMON_PID
	echo "$PG_DAEMON_PID" >"$PG_TMP/popgated.pid"
	pg_bg_register "$PG_DAEMON_PID"
	pg_wait_for 15 _pg_daemon_settled
}

# Up (its last line of setup says "running: N log sources", also under a
# journal priority prefix), or gone. A bare "running" would also match
# libbpf's "while running as root".
_pg_daemon_settled() {
	grep -qE 'running: [0-9]+ log source' "$PG_DAEMON_OUT" 2>/dev/null || ! pg_alive "$PG_DAEMON_PID"
}

pg_daemon_stop() {
	[ -n "${PG_DAEMON_PID:-}" ] && pg_kill_tree "$PG_DAEMON_PID" 5
	PG_DAEMON_PID=
	[ -n "${PG_TMP:-}" ] && rm -f "$PG_TMP/popgated.pid"
	return 0
}

pg_daemon_wait_allowed() {
	pg_wait_for "${2:-5}" pg_gate_listed "$1"
}
