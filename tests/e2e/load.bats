#!/usr/bin/env bats
# load.bats - a SYN flood at the relay while a customer keeps logging in.
#
# The flood is tests/bench/flood_gen: an XDP program run with
# BPF_F_TEST_XDP_LIVE_FRAMES in the client namespace, sending IPv6 SYNs to
# port 25 from 2001:db8:f00d::/64 (none of them authorized) as fast as it
# can, bounded in packets and seconds. During it the client logs in to the
# real Dovecot (POP3 and IMAP in turn), popgated authorizes it, and its SMTP
# session to the real Postfix must succeed every time.
#
#   bats tests/e2e/load.bats                 bounded version (make check)
#   PG_LOAD_SECONDS=60 PG_LOAD_LOGINS=40 bats tests/e2e/load.bats   (make soak)

bats_require_minimum_version 1.5.0
load ../lib/e2e

FLOOD_NET=2001:db8:f00d::
FLOOD_SOURCES=4096
LOAD_SECONDS=${PG_LOAD_SECONDS:-8}
LOAD_LOGINS=${PG_LOAD_LOGINS:-6}

setup_file() {
	export PG_CONNECT_TIMEOUT=3
	[ -x "$PG_BUILD/bench/flood_gen" ] || {
		echo "# $PG_BUILD/bench/flood_gen missing (make $PG_BUILD/bench/flood_gen)" >&3
		return 1
	}
	pg_e2e_up || { pg_e2e_dump; pg_e2e_down; return 1; }
	pg_daemon_start native || { pg_e2e_dump; pg_e2e_down; return 1; }
}

teardown_file() {
	pg_e2e_down
}

teardown() {
	[ -z "${BATS_TEST_COMPLETED:-}" ] && pg_e2e_dump
	return 0
}

@test "during a SYN flood every login is authorized and every SMTP session succeeds" {
	local mac out=$PG_TMP/flood.out logins=0 sent=0 before after
	mac=$(ip -n "$PG_NS_RELAY" -o link show dev "$PG_IF_RELAY" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	[ -n "$mac" ]
	before=$(pg_gate_stat drop_unauthorized)
	pg_client "$PG_BUILD/bench/flood_gen" run "$PG_IF_CLIENT" "$mac" "$PG_RELAY6" \
		"$FLOOD_NET" 25 $((LOAD_SECONDS * 5000000)) "$LOAD_SECONDS" "$FLOOD_SOURCES" 256 -1 >"$out" 2>&1 &
	local flood=$!
	pg_bg_register "$flood"
	pg_wait_for 5 test -s "$out" || sleep 0.5
	local end=$((SECONDS + LOAD_SECONDS + 30))
	for i in $(seq 1 "$LOAD_LOGINS"); do
		[ "$SECONDS" -lt "$end" ] || break
		pg_ctl revoke "$PG_CLIENT4" >/dev/null 2>&1 || true
		if [ $((i % 2)) = 0 ]; then pg_imap_login "$PG_RELAY4"; else pg_pop3_login "$PG_RELAY4"; fi
		pg_daemon_wait_allowed "$PG_CLIENT4" 5
		t="tok-load-$i-$RANDOM"
		pg_smtp_send "$PG_RELAY4" 25 "$t"
		pg_mail_delivered "$t" 15 >/dev/null
		logins=$((logins + 1))
	done
	wait "$flood" || true
	cat "$out" >&2
	sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	after=$(pg_gate_stat drop_unauthorized)
	echo "# flood: $sent SYNs sent in ${LOAD_SECONDS}s, $((after - before)) dropped by the gate; $logins of $LOAD_LOGINS logins authorized and delivered" >&3
	[ "$logins" -eq "$LOAD_LOGINS" ]
	[ -n "$sent" ] && [ "$sent" -gt 100000 ]
	# the flood really reached the gate (a few may still sit in queues)
	[ $((after - before)) -gt $((sent / 2)) ]
}
