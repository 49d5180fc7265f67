#!/usr/bin/env bats
# privileges.bats - who can reach the gate's state, and what popgated needs.
#
#   the pin directory and every pin are root's alone (0700 / 0600, whatever
#   the umask); another user can neither list, read, dump nor change them,
#   and a pin dir owned by someone else is refused;
#   popgated runs end to end with only CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN
#   (native XDP and tc) and CAP_SETUID and CAP_SETGID (its log reader becomes
#   reader_user), fails clearly without any one of them, and needs
#   CAP_SYS_ADMIN only to mount a missing bpffs (tried in a private mount
#   namespace: the host's /sys/fs/bpf is never touched).
#
# Same world as daemon.bats (tests/lib/e2e.bash), plus client sources
# 198.51.100.10.. (tests/lib/faults.bash). "nobody" is uid/gid 65534 with
# no groups and no capabilities (setpriv).
#
#   bats tests/e2e/privileges.bats        (root; after make)

bats_require_minimum_version 1.5.0
load ../lib/faults

MIN_CAPS=$PGF_MIN_CAPS
MIN_CAPS_DECODED=cap_setgid,cap_setuid,cap_net_admin,cap_perfmon,cap_bpf

setup_file() {
	export PG_CONNECT_TIMEOUT=2
	pg_e2e_up || { pg_e2e_dump; pg_e2e_down; return 1; }
	pgf_client_addrs 4 >/dev/null || { pg_e2e_down; return 1; }
}

teardown_file() {
	pgf_gate_reset
	pg_e2e_down
}

setup() {
	pgf_gate_reset
}

teardown() {
	pg_e2e_on_failure
	umask 022
	pgf_gate_reset
}

token() { echo "tok-p$BATS_TEST_NUMBER-$1-$RANDOM$RANDOM"; }

delivered() {
	local host=$1 port=$2 t; shift 2
	t=$(token "$port")
	pg_smtp_send "$@" "$host" "$port" "$t" && pg_mail_delivered "$t" 10 >/dev/null
}

refused() { pg_tcp_blocked "$@" "$PG_RELAY4" 25 2525; }

not() { if "$@"; then return 1; fi; return 0; }

say() { echo "# $*" >&3; }

gate_active() { pg_ctl_in_relay status --json | grep -q '"active":true'; }

# nothing of popgate on the relay's interface: no XDP program, no tc filter
nothing_attached() {
	not bash -c "ip -n '$PG_NS_RELAY' link show dev '$PG_IF_RELAY' | grep -q 'prog/xdp'" &&
		[ -z "$(tc -n "$PG_NS_RELAY" filter show dev "$PG_IF_RELAY" ingress 2>/dev/null)" ]
}

# pins_private DIR: DIR is root's, 0700; every entry in it root's, 0600
pins_private() {
	local dir=$1 f n=0
	[ "$(stat -c '%a %u %g' "$dir")" = "700 0 0" ] ||
		{ pg_note "$dir: $(stat -c '%a %u %g' "$dir")"; return 1; }
	for f in "$dir"/*; do
		[ "$(stat -c '%a %u %g' "$f")" = "600 0 0" ] ||
			{ pg_note "$f: $(stat -c '%a %u %g' "$f")"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -ge 5 ]                      # 4 maps + the attachment
}

# the capability sets of PID, decoded
caps_of() {
	local k
	for k in CapPrm CapEff CapBnd CapAmb; do
		echo "$k $(capsh --decode="$(awk "/^$k:/{print \$2}" "/proc/$1/status")" | sed 's/.*=//')"
	done
}

@test "the pin dir and every pin are root's alone: 0700 / 0600 whatever the umask, a 0755 dir is tightened" {
	mkdir -m 0755 "$PG_PIN_DIR"           # an operator made it, too open
	umask 000
	pgf_daemon_conf native
	pgf_daemon_run
	umask 022
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	ls -la "$PG_PIN_DIR" | sed 's/^/# /' >&3
	pins_private "$PG_PIN_DIR"
}

@test "as nobody: ls, cat, bpftool dump of the pins, and popgatectl list/allow/attach all fail" {
	pgf_daemon_conf native
	pgf_daemon_run
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	local before
	before=$(pg_ctl list --json)

	run pgf_nobody ls "$PG_PIN_DIR"
	[ "$status" -ne 0 ] && [[ "$output" == *"Permission denied"* ]]
	run pgf_nobody cat "$PG_PIN_DIR/gate_auth"
	[ "$status" -ne 0 ] && [[ "$output" == *"Permission denied"* ]]
	run pgf_nobody bpftool map dump pinned "$PG_PIN_DIR/gate_auth"
	[ "$status" -ne 0 ] && [[ "$output" == *"Permission denied"* ]]
	[[ "$output" != *"$PG_CLIENT4"* ]] && [[ "$output" != *"c0 00 02 01"* ]]
	# nor through the map's id (needs CAP_SYS_ADMIN)
	local id
	id=$(bpftool -j map show pinned "$PG_PIN_DIR/gate_auth" | pg_json '$j->{id}')
	[ -n "$id" ]
	run pgf_nobody bpftool map dump id "$id"
	[ "$status" -ne 0 ]
	[[ "$output" != *"c0 00 02 01"* ]]
	say "bpftool map dump id $id as nobody: $output"

	run pgf_nobody "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" list
	say "popgatectl list as nobody (exit $status): $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$PG_PIN_DIR"*"Permission denied"* ]]
	[[ "$output" != *"$PG_CLIENT4"* ]]
	run pgf_nobody "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" stats
	[ "$status" -eq 1 ]
	run pgf_nobody "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" allow "$PG_CLIENT4_ALT"
	say "popgatectl allow as nobody (exit $status): $(echo "$output" | tail -n 1)"
	[ "$status" -eq 1 ]
	run pgf_nobody "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" revoke "$PG_CLIENT4"
	[ "$status" -eq 1 ]
	run pgf_nobody "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" flush
	[ "$status" -eq 1 ]
	run pg_in "$PG_NS_RELAY" setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		"$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" detach "$PG_IF_RELAY"
	[ "$status" -eq 1 ]
	# nothing changed: same entries, the stranger still out, the client still in
	[ "$(pg_ctl list --json | pg_json 'join q( ), sort map { $_->{addr} } @$j')" = \
		"$(echo "$before" | pg_json 'join q( ), sort map { $_->{addr} } @$j')" ]
	gate_active
	refused --from "$PG_CLIENT4_ALT"
	delivered "$PG_RELAY4" 25
}

@test "a pin dir owned by another user is refused by popgated and popgatectl" {
	local squat
	squat=$(pgf_pin_dir squat)
	pgf_extra_pins "$squat"
	mkdir -m 0700 "$squat"
	chown 65534:65534 "$squat"
	pgf_daemon_conf --pin-dir "$squat" native
	local rc=0
	pgf_daemon_run || rc=$?
	[ "$rc" -eq 1 ] && [ "$PG_DAEMON_RC" -eq 1 ]
	sed 's/^/# /' "$PG_DAEMON_OUT" >&3
	grep -q "$squat: owned by uid 65534, not by us" "$PG_DAEMON_OUT"
	run pg_in "$PG_NS_RELAY" "$PG_CTL_BIN" --pin-dir "$squat" attach "$PG_IF_RELAY"
	[ "$status" -eq 1 ]
	[[ "$output" == *"owned by uid 65534"* ]]
	# nothing was put in it, nothing attached
	[ -z "$(ls -A "$squat")" ]
	nothing_attached
}

# e2e_min_caps MODE: popgated with only the five capabilities, end to end
e2e_min_caps() {
	local mode=$1
	pgf_daemon_conf "$mode"
	# shellcheck disable=SC2046
	pgf_daemon_run $(pgf_caps "$MIN_CAPS")
	caps_of "$PG_DAEMON_PID" | sed 's/^/# /' >&3
	[ "$(caps_of "$PG_DAEMON_PID" | awk '$1 == "CapEff" {print $2}')" = "$MIN_CAPS_DECODED" ]
	[ "$(caps_of "$PG_DAEMON_PID" | awk '$1 == "CapBnd" {print $2}')" = "$MIN_CAPS_DECODED" ]
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$PG_DAEMON_PID/status")" = 0 ]
	grep -q "gate attached ($mode)" "$PG_DAEMON_OUT"
	gate_active
	refused --from "$PG_CLIENT4_ALT"
	pg_imap_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	delivered "$PG_RELAY4" 25
	delivered "$PG_RELAY4" 2525
	pins_private "$PG_PIN_DIR"
	# and a reload works with them too
	echo "window = 10m" >>"$PG_DAEMON_CONF"
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 5 grep -q ': reloaded' "$PG_DAEMON_OUT"
	pg_pop3_login --from 198.51.100.10 "$PG_RELAY4"
	pg_daemon_wait_allowed 198.51.100.10 3
	delivered "$PG_RELAY4" 25 --from 198.51.100.10
}

@test "minimal capabilities (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, uid 0), native XDP: login authorizes, mail delivered" {
	e2e_min_caps native
}

@test "minimal capabilities (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, uid 0), tc: login authorizes, mail delivered" {
	e2e_min_caps tc
}

# start_without MODE CAP: popgated with the minimal set less CAP; it must
# exit 1 (PG_DAEMON_OUT tells why)
start_without() {
	local mode=$1 missing=$2 caps rc=0
	pgf_gate_reset
	caps=$(echo ",$MIN_CAPS," | sed "s/,$missing,/,/; s/^,//; s/,\$//")
	pgf_daemon_conf "$mode"
	# shellcheck disable=SC2046
	pgf_daemon_run $(pgf_caps "$caps") || rc=$?
	[ "$rc" -eq 1 ] && [ "$PG_DAEMON_RC" -eq 1 ]
}

@test "without any one of the five capabilities popgated exits 1 and attaches nothing" {
	local mode missing
	for mode in native tc; do
		for missing in ${MIN_CAPS//,/ }; do
			start_without "$mode" "$missing"
			grep -q 'setup failed' "$PG_DAEMON_OUT"
			nothing_attached
			# what an operator reads: popgated's first line of its own
			say "$mode without CAP_${missing^^}: $(grep '^popgated: ' "$PG_DAEMON_OUT" | grep -m1 -v 'libbpf:')"
		done
	done
}

@test "without one of the five capabilities, popgated's error names the missing one" {
	local mode missing unnamed=0
	for mode in native tc; do
		for missing in ${MIN_CAPS//,/ }; do
			start_without "$mode" "$missing"
			if ! grep -qi "cap_$missing" "$PG_DAEMON_OUT"; then
				say "$mode without CAP_${missing^^}: not named; libbpf says: $(grep -m1 'libbpf: libbpf: .*\(ermi\|kernel\|ulimit\)' "$PG_DAEMON_OUT" | sed 's/.*libbpf: //')"
				unnamed=$((unnamed + 1))
			fi
		done
	done
	[ "$unnamed" -eq 0 ]
}

@test "the log reader is reader_user: a config or log only root can read is named as such, and nothing is attached" {
	local rc=0
	pgf_daemon_conf native
	chmod 0600 "$PG_DAEMON_CONF"
	# --check (the unit's ExecStartPre) says so before any start
	run "$PG_DAEMON_BIN" --check -c "$PG_DAEMON_CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$PG_DAEMON_CONF: configuration not readable by the log reader (uid $(id -u nobody))"* ]]
	pgf_daemon_run || rc=$?
	[ "$rc" -eq 1 ] && [ "$PG_DAEMON_RC" -eq 1 ]
	grep -q "log reader: it runs as uid $(id -u nobody), which must be able to read $PG_DAEMON_CONF" \
		"$PG_DAEMON_OUT"
	nothing_attached
	# readable config, a log only root can read: the reader says whose access failed
	chmod 0644 "$PG_DAEMON_CONF"
	: >"$PG_TMP/rootonly.log"
	chmod 0600 "$PG_TMP/rootonly.log"
	pgf_daemon_conf native "log = $PG_TMP/rootonly.log"
	run "$PG_DAEMON_BIN" --check -c "$PG_DAEMON_CONF"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$PG_TMP/rootonly.log: log not readable by the log reader"* ]]
	pgf_daemon_run
	pg_wait_for 5 grep -q "$PG_TMP/rootonly.log: Permission denied (to uid $(id -u nobody) " "$PG_DAEMON_OUT"
	# given to adm, as the docs say, it is read
	chgrp adm "$PG_TMP/rootonly.log" && chmod 0640 "$PG_TMP/rootonly.log"
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	pgf_copy_login 198.51.100.10 "$PG_TMP/rootonly.log"
	pg_daemon_wait_allowed 198.51.100.10 5
}

@test "CAP_SYS_ADMIN is needed only to mount a missing bpffs (private mount namespace)" {
	local pin=/sys/fs/bpf/$PG_NAME_PREFIX-$PG_RUN_ID-mnt
	# a mount namespace of the daemon's own, in which /sys/fs/bpf is not mounted
	local -a unmounted=(unshare --mount --propagation private -- sh -c
		'umount /sys/fs/bpf && exec "$@"' sh)
	pgf_daemon_conf --pin-dir "$pin" native
	local rc=0
	# shellcheck disable=SC2046
	pgf_daemon_run "${unmounted[@]}" $(pgf_caps "$MIN_CAPS") || rc=$?
	sed 's/^/# /' "$PG_DAEMON_OUT" >&3
	[ "$rc" -eq 1 ] && [ "$PG_DAEMON_RC" -eq 1 ]
	grep -q 'mounting bpffs at /sys/fs/bpf: Operation not permitted' "$PG_DAEMON_OUT"
	nothing_attached
	# with CAP_SYS_ADMIN it mounts one (0700) and runs
	# shellcheck disable=SC2046
	pgf_daemon_run "${unmounted[@]}" $(pgf_caps "$MIN_CAPS,sys_admin")
	sed 's/^/# /' "$PG_DAEMON_OUT" >&3
	grep -q 'mounted bpffs at /sys/fs/bpf' "$PG_DAEMON_OUT"
	local m
	m=$(nsenter -t "$PG_DAEMON_PID" -m stat -c %a /sys/fs/bpf)
	[ "${m: -3}" = 700 ]                 # bpffs keeps its root's sticky bit: 1700
	nsenter -t "$PG_DAEMON_PID" -m -n "$PG_CTL_BIN" --pin-dir "$pin" status --json | grep -q '"active":true'
	pg_pop3_login --from 198.51.100.11 "$PG_RELAY4"
	pg_wait_for 3 bash -c "nsenter -t $PG_DAEMON_PID -m '$PG_CTL_BIN' --pin-dir '$pin' list | grep -q 198.51.100.11"
	delivered "$PG_RELAY4" 25 --from 198.51.100.11
	# the host's bpffs was never touched; the private one dies with the daemon
	[ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ]
	[ ! -e "$pin" ]
	pg_daemon_stop
	pg_wait_for 5 nothing_attached
}
