#!/usr/bin/env bats
# faults.bats - popgated under faults, end to end: a real Dovecot login (or
# its line, relayed into a log file the test controls), a real SMTP client,
# and what the daemon says about it (PG_DAEMON_OUT).
#
#   the daemon SIGKILLed in a burst of logins; the pins removed under it,
#   and without it; a full authorization map; its log file rotated,
#   truncated, deleted and re-created while lines pour in; reloads of broken
#   configurations; wall-clock jumps (libfaketime); a log directory it
#   cannot read.
#
# Same world as daemon.bats (tests/lib/e2e.bash), plus client sources
# 198.51.100.10-17 (tests/lib/faults.bash) and a route to 203.0.113.0/24 via
# the client. Every test starts from fresh pins and starts its own daemon.
#
#   bats tests/e2e/faults.bats            (root; after make)

bats_require_minimum_version 1.5.0
load ../lib/faults

setup_file() {
	export PG_CONNECT_TIMEOUT=2
	pg_e2e_up || { pg_e2e_dump; pg_e2e_down; return 1; }
	pgf_client_addrs 8 >/dev/null &&
		ip -n "$PG_NS_RELAY" route add 203.0.113.0/24 via "$PG_CLIENT4" dev "$PG_IF_RELAY" ||
		{ pg_e2e_down; return 1; }
}

teardown_file() {
	[ -d "${PG_TMP:-/nonexistent}/flog" ] && chmod 0755 "$PG_TMP/flog"
	pgf_gate_reset
	pg_e2e_down
}

setup() {
	pgf_gate_reset
}

teardown() {
	pg_e2e_on_failure
	[ -d "$PG_TMP/flog" ] && chmod 0755 "$PG_TMP/flog"
	pgf_gate_reset
}

token() { echo "tok-f$BATS_TEST_NUMBER-$1-$RANDOM$RANDOM"; }

# delivered HOST PORT [opts]: a message goes through and reaches the mailbox
delivered() {
	local host=$1 port=$2 t; shift 2
	t=$(token "$port")
	pg_smtp_send "$@" "$host" "$port" "$t" && pg_mail_delivered "$t" 10 >/dev/null
}

# refused_from SRC...: from each source, 25 and 2525 time out (all at once:
# one timeout for the lot)
refused_from() {
	local s rc=0 pids=()
	for s in "$@"; do
		pg_tcp_blocked --from "$s" "$PG_RELAY4" 25 2525 >"$PG_TMP/refused.$s" 2>&1 &
		pids+=($!)
	done
	for s in "${pids[@]}"; do wait "$s" || rc=1; done
	for s in "$@"; do sed "s/^/# from $s: /" "$PG_TMP/refused.$s" >&2; done
	return "$rc"
}

# addrs_listed: the authorized addresses, one a line
addrs_listed() {
	pg_ctl list --json | pg_json 'join qq(\n), map { $_->{addr} } @$j'
}

gate_active() {
	pg_ctl_in_relay status --json | grep -q '"active":true'
}

# not CMD...: CMD fails (a plain "! CMD" never fails a bats test: errexit
# ignores negated commands)
not() { if "$@"; then return 1; fi; return 0; }

# say MSG: a line in the TAP output, shown even when the test passes
say() { echo "# $*" >&3; }

@test "SIGKILL in a burst of logins: strangers stay out, earlier authorizations hold, a restart resumes" {
	pgf_daemon_conf native
	pgf_daemon_run
	local -a addrs=(198.51.100.1{0..7})
	: >"$PG_TMP/burst.ok"
	# 32 real logins, address after address (4 each, POP3 and IMAP in turn)
	(
		for a in "${addrs[@]}"; do
			for k in 1 2 3 4; do
				if [ $((k % 2)) = 1 ]; then pg_pop3_login --from "$a" "$PG_RELAY4"
				else pg_imap_login --from "$a" "$PG_RELAY4"; fi 2>/dev/null &&
					echo "$a" >>"$PG_TMP/burst.ok"
				sleep 0.03
			done
		done
	) &
	local burst=$! reader
	pg_bg_register "$burst"
	reader=$(pg_descendants "$PG_DAEMON_PID")     # its log reader
	[ -n "$reader" ]
	pg_wait_for 20 bash -c "[ \$(cat '$PG_TMP/burst.ok' 2>/dev/null | wc -l) -ge 12 ]"
	pgf_daemon_kill9
	say "killed after $(wc -l <"$PG_TMP/burst.ok") of 32 logins"
	# the reader does not live on without it
	# shellcheck disable=SC2086
	pg_wait_for 5 _pg_all_gone $reader
	pg_wait_for 60 bash -c "! kill -0 $burst 2>/dev/null"
	[ "$(wc -l <"$PG_TMP/burst.ok")" -eq 32 ]   # Dovecot took every login

	# what the daemon had done before it died is in the kernel's map
	local -a held=() lost=()
	local a
	for a in "${addrs[@]}"; do
		if pg_gate_listed "$a"; then held+=("$a"); else lost+=("$a"); fi
	done
	say "authorized before the kill: ${held[*]}; logged in only after it: ${lost[*]}"
	[ "${#held[@]}" -ge 3 ] && [ "${#lost[@]}" -ge 1 ]
	# every address the daemon said it authorized is held
	for a in $(sed -n 's/.* from \([0-9.]*\): authorized for .*/\1/p' "$PG_DAEMON_OUT" | sort -u); do
		printf '%s\n' "${held[@]}" | grep -qxF "$a"
	done

	# no daemon: the gate is still on, strangers stay out, the held still send
	gate_active
	refused_from "$PG_CLIENT4" "${lost[0]}"
	delivered "$PG_RELAY4" 25 --from "${held[0]}"
	delivered "$PG_RELAY4" 2525 --from "${held[-1]}"

	# restart: what was held is still listed; the logins made while it was
	# dead are not replayed (it reads on from the end of the log) ...
	pgf_daemon_run
	for a in "${held[@]}"; do pg_gate_listed "$a"; done
	not pg_gate_listed "${lost[0]}"
	# ... and the next login authorizes again
	pg_imap_login --from "${lost[0]}" "$PG_RELAY4"
	pg_daemon_wait_allowed "${lost[0]}" 3
	delivered "$PG_RELAY4" 25 --from "${lost[0]}"
}

@test "window = 3s and the daemon SIGKILLed: the kernel still expires entries on time" {
	pgf_daemon_conf native "window = 3s"
	pgf_daemon_run
	local a=198.51.100.10 b=198.51.100.11
	pg_pop3_login --from "$a" "$PG_RELAY4"
	pg_imap_login --from "$b" "$PG_RELAY4"
	pg_daemon_wait_allowed "$a" 3
	pg_daemon_wait_allowed "$b" 3
	local t0=$EPOCHREALTIME
	pgf_daemon_kill9
	# within the window, with no daemon: delivered
	delivered "$PG_RELAY4" 25 --from "$b"
	# expired by the kernel's clock: popgatectl compares the same boot-time clock
	_expired() {
		pg_ctl list --json | pg_json "
			my (\$e) = grep { \$_->{addr} eq '$1' } @\$j; \$e && \$e->{expired} ? 1 : 0" |
			grep -qx 1
	}
	pg_wait_for 6 _expired "$b"
	local dt
	dt=$(perl -e "printf '%.1f', $EPOCHREALTIME - $t0")
	say "expired $dt s after the kill (window 3 s, counted from the login)"
	perl -e "exit !($dt >= 2.0 && $dt <= 3.5)"
	local before
	before=$(pg_gate_stat drop_expired)
	refused_from "$a" "$b"
	[ "$(pg_gate_stat drop_expired)" -gt "$before" ]
	# nobody swept them: still in the map, refused by the kernel alone
	pg_gate_listed "$a"
	pg_gate_listed "$b"
}

@test "pins removed (rm -rf) under a running daemon: pinned again, re-attached, authorizations kept" {
	pgf_daemon_conf native
	pgf_daemon_run
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	_pins_back() {
		local p
		for p in gate_auth gate_trust gate_config gate_stats gate_seen "xdp_$PG_IF_RELAY"; do
			[ -e "$PG_PIN_DIR/$p" ] || return 1
		done
		gate_active
	}
	# several times: rm -rf and the daemon's reaction race each other
	local round rc
	for round in 1 2 3 4 5; do
		rm -rf "$PG_PIN_DIR" && rc=0 || rc=$?
		pg_wait_for 5 _pins_back || { say "round $round: pins not restored"; false; }
		if ! pg_wait_for 2 pg_gate_listed "$PG_CLIENT4"; then
			say "round $round (rm exit $rc): the authorization of $PG_CLIENT4 was lost"
			grep -E 'pinned again|attaching again|replaced' "$PG_DAEMON_OUT" | sed 's/^/# /' >&3
			false
		fi
	done
	grep -q 'pinned again' "$PG_DAEMON_OUT"
	grep -q 'attaching again' "$PG_DAEMON_OUT"
	refused_from "$PG_CLIENT4_ALT"
	delivered "$PG_RELAY4" 25
	pg_pop3_login --from 198.51.100.12 "$PG_RELAY4"
	pg_daemon_wait_allowed 198.51.100.12 3
	delivered "$PG_RELAY4" 2525 --from 198.51.100.12
}

@test "pins removed with no daemon (native XDP): the gate is gone until 'popgatectl attach'" {
	pgf_daemon_conf native
	pgf_daemon_run
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	pg_daemon_stop                       # TERM: the gate stays attached
	refused_from "$PG_CLIENT4_ALT"
	rm -rf "$PG_PIN_DIR"
	# the XDP link lived in its pin: the gate went with it. A stranger gets in.
	pg_tcp_connect --from "$PG_CLIENT4_ALT" "$PG_RELAY4" 25
	say "no daemon, pins removed: $PG_CLIENT4_ALT connected to port 25 (no gate)"
	not bash -c "ip -n '$PG_NS_RELAY' link show dev '$PG_IF_RELAY' | grep -q 'prog/xdp'"
	# recovery without a daemon: attach again
	pg_gate_attach native
	gate_active
	# enforcing again; the authorizations went with the old maps
	refused_from "$PG_CLIENT4_ALT" "$PG_CLIENT4"
	[ -z "$(addrs_listed)" ]
	say "after 'popgatectl attach': enforcing, and $PG_CLIENT4 must log in again"
	pgf_daemon_run
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	delivered "$PG_RELAY4" 25
}

@test "pins removed with no daemon (tc): the filter keeps enforcing, unseen, until 'popgatectl attach' replaces it" {
	pgf_daemon_conf tc
	pgf_daemon_run
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	pg_daemon_stop
	rm -rf "$PG_PIN_DIR"
	# the tc filter holds its program and the program its maps: still on
	refused_from "$PG_CLIENT4_ALT"
	delivered "$PG_RELAY4" 25
	# ... but popgatectl cannot see or change it any more
	run pg_ctl list
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such pinned map"* ]]
	say "tc, pins removed: still enforcing, 'popgatectl list': $output"
	pg_gate_attach tc
	gate_active
	# the new filter reads new, empty maps: the old authorization is gone
	refused_from "$PG_CLIENT4_ALT" "$PG_CLIENT4"
	[ -z "$(addrs_listed)" ]
}

@test "map full (max_entries = 4): a 5th login is refused and logged, none of the 4 is evicted" {
	PG_PIN_DIR=$(pgf_pin_dir full)       # max_entries is fixed when the pins are made
	pgf_extra_pins "$PG_PIN_DIR"
	pgf_daemon_conf native "max_entries = 4"
	if ! pgf_daemon_run; then
		say "popgated with max_entries = 4 did not start:"
		sed 's/^/#   /' "$PG_DAEMON_OUT" >&3
		false
	fi
	local -a four=(198.51.100.10 198.51.100.11 198.51.100.12 198.51.100.13)
	local a fifth=198.51.100.14 sixth=198.51.100.15
	for a in "${four[@]}"; do
		pg_pop3_login --from "$a" "$PG_RELAY4"
		pg_daemon_wait_allowed "$a" 3
	done
	pg_imap_login --from "$fifth" "$PG_RELAY4"
	pg_wait_for 5 grep -q "is full.*$fifth" "$PG_DAEMON_OUT"
	grep "is full" "$PG_DAEMON_OUT" | sed 's/^/# /' >&3
	pg_pop3_login --from "$sixth" "$PG_RELAY4"
	pg_wait_for 5 pg_dovecot_saw_login "$sixth"
	sleep 0.5                            # give a (wrong) second message time to appear
	[ "$(grep -c 'is full' "$PG_DAEMON_OUT")" -eq 1 ]   # rate limited (10 s)
	not pg_gate_listed "$fifth"
	not pg_gate_listed "$sixth"
	refused_from "$fifth"
	# all four still there, and still delivering
	[ "$(addrs_listed | wc -l)" -eq 4 ]
	for a in "${four[@]}"; do delivered "$PG_RELAY4" 25 --from "$a"; done
	# a returning client is not "new": its login renews it, even when full
	local m
	m=$(pgf_out_mark)
	pg_imap_login --from "${four[0]}" "$PG_RELAY4"
	pg_wait_for 5 bash -c "tail -c +$((m + 1)) '$PG_DAEMON_OUT' | grep -q 'from ${four[0]}: authorized'"
	[ "$(grep -c 'is full' "$PG_DAEMON_OUT")" -eq 1 ]
}

@test "log rotated, truncated, deleted and re-created during a burst of login lines: every whole line counts" {
	local dir=$PG_TMP/flog
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$dir/mail.log"
	pgf_daemon_conf native "log = $dir/mail.log"
	pgf_daemon_run
	pgf_log_writer "$dir/mail.log" "$PG_TMP/writer.rec" "$PG_RELAY4"
	# must: every whole line, except lines 80..89, written back to back
	# right before the copytruncate (copytruncate loses whatever no reader
	# has read yet when it truncates: those are in the copy only)
	local -a must=() may=()
	local kind i
	while read -r kind i; do
		case $kind in L) must+=("203.0.113.$i") ;; R) may+=("203.0.113.$i") ;; esac
	done <"$PG_TMP/writer.rec"
	[ "${#must[@]}" -eq 230 ] && [ "${#may[@]}" -eq 10 ]
	_all_must() {
		addrs_listed >"$PG_TMP/seen"
		printf '%s\n' "${must[@]}" | grep -qvxF -f "$PG_TMP/seen" && return 1
		return 0
	}
	if ! pg_wait_for 10 _all_must; then
		say "lines written but never authorized:"
		printf '%s\n' "${must[@]}" | grep -vxF -f "$PG_TMP/seen" | tr '\n' ' ' | sed 's/^/# /' >&3
		false
	fi
	say "seen: all 230 must-lines, $(printf '%s\n' "${may[@]}" | grep -cxF -f "$PG_TMP/seen") of the 10 racing the truncation"
	# nothing else: no half line (203.0.113.250..253), no invented address
	[ "$(grep -cvxF -f <(printf '%s\n' "${must[@]}" "${may[@]}") "$PG_TMP/seen")" -eq 0 ]
	grep -q 'rotated or re-created' "$PG_DAEMON_OUT"
	grep -q 'truncated, reading from its start' "$PG_DAEMON_OUT"
	# the clients' view: one address per kind of event can send; a half line cannot
	local s
	for s in 203.0.113.45 203.0.113.140 203.0.113.190 203.0.113.250; do
		ip -n "$PG_NS_CLIENT" addr replace "$s/32" dev "$PG_IF_CLIENT"
	done
	delivered "$PG_RELAY4" 25 --from 203.0.113.45     # old file, after the rename
	delivered "$PG_RELAY4" 25 --from 203.0.113.140    # the deleted file
	delivered "$PG_RELAY4" 25 --from 203.0.113.190    # old file, new one already there
	refused_from 203.0.113.250                        # a half line
	# and Dovecot's own log, followed alongside, still works
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	delivered "$PG_RELAY4" 2525
}

@test "reload with errors: each reported as FILE:LINE, the old config stays in force; then a good reload" {
	pgf_daemon_conf native
	pgf_daemon_run
	local conf=$PG_DAEMON_CONF n
	cp "$conf" "$conf.good"
	n=$(wc -l <"$conf")
	# good lines that would open the gate if any of the file were applied ...
	cat >>"$conf" <<-EOF
		trust = $PG_CLIENT4_ALT_NET
		ports = 587
		action = reject
		window = 90x
		trust = 198.51.100.7/24
		frobnicate = yes
		this line has no equals sign
		interface = $PG_IF_RELAY warp
		log = relative/mail.log
		max_entries = 0
		ports = 25, 25
		action = maybe
		log_level = loud
		format = dovecot, exchange
	EOF
	local m
	m=$(pgf_out_mark)
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 5 grep -q "reload failed" "$PG_DAEMON_OUT"
	pgf_out_since "$m" | sed 's/^/# /' >&3
	local l
	for l in 4 5 6 7 8 9 10 11 12 13 14; do
		pgf_out_since "$m" | grep -q "^popgated: $conf:$((n + l)): "
	done
	# the three good lines are not reported ... and not applied
	not bash -c "tail -c +$((m + 1)) '$PG_DAEMON_OUT' | grep -qE '$conf:($((n + 1))|$((n + 2))|$((n + 3))): '"
	pg_alive "$PG_DAEMON_PID"
	gate_active
	refused_from "$PG_CLIENT4_ALT"       # not trusted, 25 and 2525 gated, dropped (no RST)
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	[ "$(pg_gate_expires_in "$PG_CLIENT4")" -gt 5300 ]   # still window = 90m

	# a file whose only problem is a pattern (checked after the rest)
	cp "$conf.good" "$conf"
	printf '%s\n' "trust = $PG_CLIENT4_ALT_NET" 'pattern = "mypopd ^auth ok user=%{user}$"' >>"$conf"
	n=$(wc -l <"$conf")
	m=$(pgf_out_mark)
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 5 bash -c "tail -c +$((m + 1)) '$PG_DAEMON_OUT' | grep -q '$conf:$n: pattern'"
	pgf_out_since "$m" | sed 's/^/# /' >&3
	pg_alive "$PG_DAEMON_PID"
	refused_from "$PG_CLIENT4_ALT"       # its trust line was not applied either

	# max_entries in a valid file: refused at reload too, said so
	cp "$conf.good" "$conf"
	echo "max_entries = 8" >>"$conf"
	m=$(pgf_out_mark)
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 5 bash -c "tail -c +$((m + 1)) '$PG_DAEMON_OUT' | grep -q 'change only with a restart'"

	# a good reload applies
	cp "$conf.good" "$conf"
	printf '%s\n' "trust = $PG_CLIENT4_ALT_NET" "window = 10m" >>"$conf"
	m=$(pgf_out_mark)
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 5 bash -c "tail -c +$((m + 1)) '$PG_DAEMON_OUT' | grep -q ': reloaded'"
	delivered "$PG_RELAY4" 25 --from "$PG_CLIENT4_ALT"
	pg_imap_login --from 198.51.100.10 "$PG_RELAY4"
	pg_daemon_wait_allowed 198.51.100.10 3
	local e
	e=$(pg_gate_expires_in 198.51.100.10)
	[ "$e" -gt 590 ] && [ "$e" -le 600 ]
}

@test "reload: a bad pattern is reported as FILE:LINE along with the file's other errors" {
	# popgate.conf(5): all problems are reported, not only the first
	pgf_daemon_conf native
	pgf_daemon_run
	local conf=$PG_DAEMON_CONF n m
	printf '%s\n' 'window = 90x' 'pattern = "mypopd ^auth ok user=%{user}$"' >>"$conf"
	n=$(wc -l <"$conf")
	m=$(pgf_out_mark)
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 5 bash -c "tail -c +$((m + 1)) '$PG_DAEMON_OUT' | grep -q 'reload failed'"
	pgf_out_since "$m" | sed 's/^/# /' >&3
	pgf_out_since "$m" | grep -q "$conf:$((n - 1)): window"
	pg_alive "$PG_DAEMON_PID"
	if ! pgf_out_since "$m" | grep -q "$conf:$n: pattern"; then
		say "the bad pattern on line $n is not reported when another line is bad: the"
		say "pattern is checked only once the rest of the file is valid (reported to the lead)"
		false
	fi
}

@test "wall clock a year ahead or behind (libfaketime): expiry does not move" {
	local lib
	lib=$(pgf_faketime_lib) || skip "libfaketime not installable here"
	# FAKETIME_DONT_FAKE_MONOTONIC=1 leaves CLOCK_MONOTONIC and CLOCK_BOOTTIME
	# real, as a real wall-clock jump does (without it libfaketime shifts
	# CLOCK_BOOTTIME too, which no clock change on a real host does)
	local -a ft=(env LD_PRELOAD="$lib" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1
		FAKETIME_TIMESTAMP_FILE="$PG_TMP/faketime.rc")
	echo "+365d" >"$PG_TMP/faketime.rc"
	local y
	y=$("${ft[@]}" date +%Y)
	[ "$y" -eq $(($(date +%Y) + 1)) ]
	[ "$("${ft[@]}" perl -MTime::HiRes=clock_gettime,CLOCK_BOOTTIME -e 'printf "%d", clock_gettime(CLOCK_BOOTTIME)')" -le \
		"$(perl -MTime::HiRes=clock_gettime,CLOCK_BOOTTIME -e 'printf "%d", clock_gettime(CLOCK_BOOTTIME) + 1')" ]
	pg_gate_attach native
	"${ft[@]}" "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" allow 198.51.100.10 --for 1h
	echo "-365d" >"$PG_TMP/faketime.rc"
	"${ft[@]}" "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" allow 198.51.100.11 --for 1h
	local a e
	for a in 198.51.100.10 198.51.100.11; do
		e=$(pg_gate_expires_in "$a")
		say "allow --for 1h at wall clock +-1 year: $a expires in $e s"
		[ "$e" -gt 3590 ] && [ "$e" -le 3600 ]
	done
	# as seen by a popgatectl whose clock is off, too
	e=$("${ft[@]}" "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" list --json |
		pg_json '(map { $_->{expires_in_s} } grep { $_->{addr} eq "198.51.100.10" } @$j)[0]')
	[ "$e" -gt 3590 ] && [ "$e" -le 3600 ]
	delivered "$PG_RELAY4" 25 --from 198.51.100.11

	# the daemon, its wall clock jumping while it runs
	echo "+0" >"$PG_TMP/faketime.rc"
	pgf_daemon_conf native "window = 1h"
	pgf_daemon_run "${ft[@]}"
	pg_pop3_login --from 198.51.100.12 "$PG_RELAY4"
	pg_daemon_wait_allowed 198.51.100.12 3
	echo "+365d" >"$PG_TMP/faketime.rc"
	pg_imap_login --from 198.51.100.13 "$PG_RELAY4"
	pg_daemon_wait_allowed 198.51.100.13 3
	echo "-365d" >"$PG_TMP/faketime.rc"
	pg_pop3_login --from 198.51.100.14 "$PG_RELAY4"
	pg_daemon_wait_allowed 198.51.100.14 3
	for a in 198.51.100.12 198.51.100.13 198.51.100.14; do
		e=$(pg_gate_expires_in "$a")
		say "login with the daemon's clock at +0, +1y, -1y: $a expires in $e s"
		[ "$e" -gt 3580 ] && [ "$e" -le 3600 ]
	done
	delivered "$PG_RELAY4" 25 --from 198.51.100.14
	pg_daemon_stop

	# a short one still dies on time under a faked wall clock
	echo "+365d" >"$PG_TMP/faketime.rc"
	local t0=$EPOCHREALTIME
	"${ft[@]}" "$PG_CTL_BIN" --pin-dir "$PG_PIN_DIR" allow 198.51.100.15 --for 3s
	delivered "$PG_RELAY4" 25 --from 198.51.100.15
	_gone() { ! pg_tcp_connect --timeout 1 --from 198.51.100.15 "$PG_RELAY4" 25 2>/dev/null; }
	pg_wait_for 8 _gone
	local dt
	dt=$(perl -e "printf '%.1f', $EPOCHREALTIME - $t0")
	say "allow --for 3s at wall clock +1 year: refused after $dt s"
	perl -e "exit !($dt >= 2.5 && $dt <= 5.5)"
}

@test "log directory unreadable while running (minimal capabilities): error names the path; lines seen again after chmod back" {
	local dir=$PG_TMP/flog
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$dir/mail.log"
	# only this file: Dovecot's lines reach it through pgf_copy_login
	pgf_daemon_conf --no-dovecot-log native "log = $dir/mail.log"
	# shellcheck disable=SC2046
	pgf_daemon_run $(pgf_caps "$PGF_MIN_CAPS")
	pg_pop3_login --from 198.51.100.10 "$PG_RELAY4"
	pgf_copy_login 198.51.100.10 "$dir/mail.log"
	pg_daemon_wait_allowed 198.51.100.10 3
	chmod 000 "$dir"
	# the open file is still read
	pg_imap_login --from 198.51.100.11 "$PG_RELAY4"
	pgf_copy_login 198.51.100.11 "$dir/mail.log"
	pg_daemon_wait_allowed 198.51.100.11 3
	# rotated while unreadable: the new file cannot be opened
	mv "$dir/mail.log" "$dir/mail.log.1"
	: >"$dir/mail.log"
	pg_pop3_login --from 198.51.100.12 "$PG_RELAY4"
	pgf_copy_login 198.51.100.12 "$dir/mail.log"
	pg_wait_for 5 grep -q "$dir/mail.log: Permission denied" "$PG_DAEMON_OUT"
	grep "$dir" "$PG_DAEMON_OUT" | sed 's/^/# /' >&3
	pg_alive "$PG_DAEMON_PID"
	refused_from 198.51.100.12
	# readable again: what is in the file now, and the next login, count
	chmod 0755 "$dir"
	pg_imap_login --from 198.51.100.13 "$PG_RELAY4"
	pgf_copy_login 198.51.100.13 "$dir/mail.log"
	if ! pg_daemon_wait_allowed 198.51.100.13 5; then
		say "after chmod 0755 the follower did not come back: a chmod of the directory itself"
		say "is no event it acts on, and it retries only on events (reported to the lead)"
		false
	fi
	pg_daemon_wait_allowed 198.51.100.12 1
	delivered "$PG_RELAY4" 25 --from 198.51.100.13
}

@test "log directory unreadable at start (minimal capabilities): error names the path, the other sources work, it is read once readable" {
	local dir=$PG_TMP/flog
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$dir/mail.log"
	chmod 000 "$dir"
	# the unreadable log first, Dovecot's (readable) after it
	pgf_daemon_conf --no-dovecot-log native "log = $dir/mail.log" "log = $PG_DOVECOT_LOG"
	local rc=0
	# shellcheck disable=SC2046
	pgf_daemon_run $(pgf_caps "$PGF_MIN_CAPS") || rc=$?
	sed 's/^/# /' "$PG_DAEMON_OUT" >&3
	grep -q "$dir.*Permission denied" "$PG_DAEMON_OUT"
	# fails closed in any case: the gate is on
	gate_active
	if [ "$rc" -ne 0 ]; then
		say "popgated exited ($PG_DAEMON_RC) instead of waiting for the directory (reported to the lead)"
		false
	fi
	# the readable source listed after the unreadable one is followed
	pg_pop3_login "$PG_RELAY4"
	if ! pg_daemon_wait_allowed "$PG_CLIENT4" 3; then
		say "Dovecot's log, listed after the unreadable one, is not followed either (reported to the lead)"
		false
	fi
	# readable again: the next login in it counts
	chmod 0755 "$dir"
	pg_imap_login --from 198.51.100.10 "$PG_RELAY4"
	pgf_copy_login 198.51.100.10 "$dir/mail.log"
	if ! pg_daemon_wait_allowed 198.51.100.10 5; then
		kill -HUP "$PG_DAEMON_PID"
		if pg_daemon_wait_allowed 198.51.100.10 3; then
			say "after chmod 0755 the log is read only after a SIGHUP (reported to the lead)"
		else
			say "after chmod 0755 the log is not read, even after a SIGHUP: a source that"
			say "failed to open is never tried again until a restart (reported to the lead)"
		fi
		false
	fi
	delivered "$PG_RELAY4" 25 --from 198.51.100.10
}
