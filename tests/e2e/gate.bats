#!/usr/bin/env bats
# gate.bats - the gate end to end, as a mail client experiences it.
#
# A client namespace (192.0.2.1, 198.51.100.7, 2001:db8::1, 2001:db8:100::7)
# and a relay namespace (192.0.2.25, 2001:db8::25) joined by a veth pair; in
# the relay a real Postfix (25, 2525, 465 TLS, 587 ungated) delivering to a
# Maildir and a real Dovecot (110, 143, 993, 995); build/popgatectl attaches
# the gate to the relay's veth with a pin dir private to this run.
# A blocked connect is one whose SYNs are dropped: the client times out
# (PG_CONNECT_TIMEOUT, 2 s), so every refusal here costs ~2 s; ports are
# probed in parallel.
#
#   bats tests/e2e/gate.bats            (root; after make)

bats_require_minimum_version 1.5.0
load ../lib/e2e

GATED="25 2525 465"

setup_file() {
	export PG_CONNECT_TIMEOUT=2
	pg_e2e_up || { pg_e2e_dump; pg_e2e_down; return 1; }
}

teardown_file() {
	pg_e2e_down
}

setup() {
	# each test starts with no authorization and no trusted prefix, and the
	# gate on (in whatever mode the previous test left it) unless it opts out
	if [ -d "${PG_PIN_DIR:-/nonexistent}" ]; then
		pg_gate_flush_all
	fi
	case $BATS_TEST_DESCRIPTION in
	"without the gate"* | "mode "* | "detach"*) ;;
	*) pg_gate_is_active || pg_gate_attach auto ;;
	esac
}

teardown() {
	pg_smtp_session_kill
	case $BATS_TEST_DESCRIPTION in
	"action reject"*) pg_ctl action drop >&2 || true ;;
	"upgrade"*) pg_ctl ports set 25,465,2525 >&2 || true ;;
	esac
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		pg_ctl_in_relay status >&2 || true
		pg_ctl stats >&2 || true
		pg_e2e_dump
	fi
}

# a fresh token per message: proves *this* message arrived
token() { echo "tok-$BATS_TEST_NUMBER-$1-$RANDOM$RANDOM"; }

# deliver HOST PORT [opts...]: the MTA accepts a message and it reaches the mailbox
deliver() {
	local host=$1 port=$2; shift 2
	local t
	t=$(token "$port")
	pg_smtp_send "$@" "$host" "$port" "$t"
	pg_mail_delivered "$t" 10 >/dev/null
}

# blocked HOST [opts...]: every gated port times out, and Postfix never saw
# a connection from the client
blocked() {
	local host=$1; shift
	local mark src=${PG_CLIENT4}
	mark=$(pg_postfix_log_mark)
	# shellcheck disable=SC2086  # GATED is a list of ports
	run pg_tcp_blocked "$@" "$host" $GATED
	echo "$output" >&2
	[ "$status" -eq 0 ]
	case " $* " in *" --from "*) src=$(sed -E 's/.*--from ([^ ]+).*/\1/' <<<"$*") ;;
	*) case $host in *:*) src=$PG_CLIENT6 ;; esac ;; esac
	[ "$(pg_postfix_connects_since "$mark" "$src")" -eq 0 ]
}

# allowed HOST [opts...]: a message is delivered through each gated port
allowed() {
	local host=$1; shift
	deliver "$host" 25 "$@"
	deliver "$host" 2525 "$@"
	deliver "$host" 465 --tls "$@"
}

pg_gate_is_active() {
	pg_ctl_in_relay status --json 2>/dev/null |
		pg_json 'scalar grep { $_->{active} } @{$j->{attachments}}' | grep -qx '[1-9]'
}

pg_gate_active_mode() {
	pg_ctl_in_relay status --json |
		pg_json 'join " ", map { $_->{mode} } grep { $_->{active} } @{$j->{attachments}}'
}

@test "without the gate: the client reaches every port and mail is delivered" {
	pg_gate_detach
	deliver "$PG_RELAY4" 25
	deliver "$PG_RELAY6" 2525
	deliver "$PG_RELAY4" 465 --tls
	deliver "$PG_RELAY4" 587
	pg_pop3_login "$PG_RELAY4"
}

@test "unauthorized IPv4 client cannot connect to 25, 2525, 465" {
	blocked "$PG_RELAY4"
	[ "$(pg_gate_stat drop_unauthorized)" -gt 0 ]
}

@test "unauthorized IPv6 client cannot connect to 25, 2525, 465" {
	blocked "$PG_RELAY6"
}

@test "unauthorized client still reaches POP3, IMAP and the ungated 587" {
	[[ $(pg_tcp_banner "$PG_RELAY4" 110) == "+OK"* ]]
	[[ $(pg_tcp_banner "$PG_RELAY6" 143) == "* OK"* ]]
	pg_pop3_login "$PG_RELAY4"
	pg_imap_login "$PG_RELAY6"
	deliver "$PG_RELAY4" 587
	deliver "$PG_RELAY6" 587
	run ! pg_gate_listed "$PG_CLIENT4"
}

@test "a wrong POP3 password is refused and does not open the gate" {
	run -67 pg_pop3_login "$PG_RELAY4" "$PG_POP_USER" wrong-password
	run pg_tcp_blocked "$PG_RELAY4" 25
	[ "$status" -eq 0 ]
}

@test "allow IPv4: mail is delivered on 25, 2525 and 465" {
	pg_ctl allow "$PG_CLIENT4" --for 10m --user "$PG_POP_USER"
	pg_gate_listed "$PG_CLIENT4"
	allowed "$PG_RELAY4"
	# only that address: IPv6 of the same host is still gated
	run pg_tcp_blocked "$PG_RELAY6" 25
	[ "$status" -eq 0 ]
}

@test "allow IPv6: mail is delivered on 25, 2525 and 465" {
	pg_ctl allow "$PG_CLIENT6"
	allowed "$PG_RELAY6"
}

@test "revoke: refused again" {
	pg_ctl allow "$PG_CLIENT4"
	pg_ctl allow "$PG_CLIENT6"
	deliver "$PG_RELAY4" 25
	deliver "$PG_RELAY6" 25
	pg_ctl revoke "$PG_CLIENT4"
	pg_ctl revoke "$PG_CLIENT6"
	run ! pg_gate_listed "$PG_CLIENT4"
	blocked "$PG_RELAY4"
	blocked "$PG_RELAY6"
}

# screen_bits: the gate_seen bits set (status --json)
screen_bits() { pg_ctl status --json | pg_json '$j->{screen} ? $j->{screen_bits} : die "screen off\n"'; }

@test "screen: allow sets a gate_seen bit first, revoke leaves it (refused all the same), flush sheds it" {
	[ "$(screen_bits)" -eq 0 ]
	pg_ctl allow "$PG_CLIENT4"
	pg_ctl allow "$PG_CLIENT6"
	[ "$(screen_bits)" -eq 2 ]
	deliver "$PG_RELAY4" 25
	deliver "$PG_RELAY6" 25
	pg_ctl revoke "$PG_CLIENT4"
	# a stale bit only sends the SYN on to the hash lookup, which refuses it
	[ "$(screen_bits)" -eq 2 ]
	run pg_tcp_blocked "$PG_RELAY4" 25
	[ "$status" -eq 0 ]
	pg_ctl flush
	[ "$(screen_bits)" -eq 0 ]
	run pg_tcp_blocked "$PG_RELAY6" 25
	[ "$status" -eq 0 ]
}

@test "upgrade: state of the layout before the screen is completed by attach, authorizations and ports kept" {
	pg_ctl allow "$PG_CLIENT4" --user before-upgrade
	pg_ctl ports set 25,2525
	# What an older popgate left: a 48-byte gate_config (the same fields up
	# to the ports), no gate_seen. The attached program keeps its own maps.
	local p=$PG_PIN_DIR bytes
	bytes=$(bpftool -j map lookup pinned "$p/gate_config" key 0 0 0 0 |
		pg_json 'join " ", map { hex } @{$j->{value}}[0 .. 47]')
	bpftool map create "$p/old_config" type array key 4 value 48 entries 1 name gate_config
	# shellcheck disable=SC2086
	bpftool map update pinned "$p/old_config" key 0 0 0 0 value $bytes
	rm "$p/gate_config" "$p/gate_seen"
	mv "$p/old_config" "$p/gate_config"
	run pg_ctl status
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'made by an older popgate'
	run pg_gate_attach "$PG_GATE_MODE"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q 'older popgate (48 bytes): carried over'
	[ "$(pg_ctl status --json | pg_json 'join ",", @{$j->{ports}}')" = "25,2525" ]
	[ "$(screen_bits)" -eq 1 ]
	pg_gate_listed "$PG_CLIENT4"
	deliver "$PG_RELAY4" 25
	run pg_tcp_blocked "$PG_RELAY6" 25
	[ "$status" -eq 0 ]
}

@test "allow --for 3s: accepted, then refused once it expired" {
	pg_ctl allow "$PG_CLIENT4" --for 3s
	local t0=$SECONDS
	deliver "$PG_RELAY4" 25
	local before
	before=$(pg_gate_stat drop_expired)
	local wait=$((4 - (SECONDS - t0)))
	[ "$wait" -le 0 ] || sleep "$wait"
	blocked "$PG_RELAY4"
	[ "$(pg_gate_stat drop_expired)" -gt "$before" ]
}

@test "a session opened while allowed completes after revoke" {
	pg_ctl allow "$PG_CLIENT4"
	pg_smtp_session_open "$PG_RELAY4" 25
	pg_ctl revoke "$PG_CLIENT4"
	# the gate is shut for new connections ...
	run pg_tcp_blocked "$PG_RELAY4" 25
	[ "$status" -eq 0 ]
	# ... but the established one finishes its mail
	local t
	t=$(token session)
	pg_smtp_session_finish "$t"
	pg_mail_delivered "$t" 10
}

@test "trusted prefix passes without authorization, and only while trusted" {
	blocked "$PG_RELAY4" --from "$PG_CLIENT4_ALT"
	pg_ctl trust add "$PG_CLIENT4_ALT_NET"
	pg_ctl trust add "$PG_CLIENT6_ALT_NET"
	deliver "$PG_RELAY4" 25 --from "$PG_CLIENT4_ALT"
	deliver "$PG_RELAY6" 2525 --from "$PG_CLIENT6_ALT"
	[ "$(pg_gate_stat pass_trusted)" -gt 0 ]
	# the client's own address is not in the prefix: still gated
	run pg_tcp_blocked "$PG_RELAY4" 25
	[ "$status" -eq 0 ]
	pg_ctl trust del "$PG_CLIENT4_ALT_NET"
	run pg_tcp_blocked --from "$PG_CLIENT4_ALT" "$PG_RELAY4" 25
	[ "$status" -eq 0 ]
}

@test "pins outlive popgatectl: one invocation's allow is seen and enforced by others" {
	# popgatectl is not a daemon: the state lives in the pinned maps
	pg_ctl allow "$PG_CLIENT4" --for 5m --user pinned-user
	[ -e "$PG_PIN_DIR/gate_auth" ]
	# another invocation, this time choosing the pin dir by environment
	run env POPGATE_PIN_DIR="$PG_PIN_DIR" "$PG_CTL_BIN" list --json
	[ "$status" -eq 0 ]
	echo "$output" | pg_json 'scalar grep { $_->{user} eq "pinned-user" } @$j' | grep -qx 1
	local left
	left=$(pg_gate_expires_in "$PG_CLIENT4")
	[ "$left" -gt 200 ]
	[ "$left" -le 300 ]
	# no popgatectl process is left, and the kernel still lets the client in
	deliver "$PG_RELAY4" 25
}

@test "stats --json counters move with what the client experiences" {
	local d0 p0
	d0=$(pg_gate_stat drop_unauthorized)
	p0=$(pg_gate_stat pass_authorized)
	run pg_tcp_blocked "$PG_RELAY4" 25
	[ "$status" -eq 0 ]
	[ "$(pg_gate_stat drop_unauthorized)" -gt "$d0" ]
	[ "$(pg_gate_stat pass_authorized)" -eq "$p0" ]
	pg_ctl allow "$PG_CLIENT4"
	deliver "$PG_RELAY4" 25
	[ "$(pg_gate_stat pass_authorized)" -gt "$p0" ]
	# every counter of the contract is there
	local c
	for c in not_gated pass_authorized pass_trusted drop_unauthorized drop_expired \
		drop_fragment drop_unparsable pass_malformed reject_sent; do
		pg_gate_stat "$c" >/dev/null
	done
}

# refused_fast HOST PORT: the connect is refused (RST), well within the timeout
refused_fast() {
	local t0 ms
	t0=$(date +%s%N)
	run pg_tcp_connect "$1" "$2"
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "port $2: exit $status in $ms ms" >&2
	[ "$status" -eq 2 ]
	[ "$ms" -lt 1000 ]
}

@test "action reject: an unauthorized client is refused at once (RST) in XDP modes" {
	pg_ctl action reject
	local mode r0
	for mode in native generic; do
		pg_gate_detach
		pg_gate_attach "$mode"
		r0=$(pg_gate_stat reject_sent)
		refused_fast "$PG_RELAY4" 25
		refused_fast "$PG_RELAY6" 465
		[ "$(pg_gate_stat reject_sent)" -gt "$r0" ]
	done
	# an authorized client is not affected
	pg_ctl allow "$PG_CLIENT4"
	deliver "$PG_RELAY4" 2525
	pg_ctl action drop
	run pg_tcp_blocked "$PG_RELAY6" 25
	[ "$status" -eq 0 ]
}

# the key assertions again in each attach mode
mode_check() {
	local mode=$1 want=${2:-$1}
	pg_gate_detach
	pg_gate_attach "$mode"
	[ "$(pg_gate_active_mode)" = "$want" ]
	blocked "$PG_RELAY4"
	run pg_tcp_blocked "$PG_RELAY6" 25
	[ "$status" -eq 0 ]
	deliver "$PG_RELAY4" 587
	pg_ctl allow "$PG_CLIENT4"
	pg_ctl allow "$PG_CLIENT6"
	deliver "$PG_RELAY4" 25
	deliver "$PG_RELAY6" 2525
	pg_ctl revoke "$PG_CLIENT4"
	run pg_tcp_blocked "$PG_RELAY4" 25 465
	[ "$status" -eq 0 ]
}

@test "mode native: blocks, allows, revokes" {
	mode_check native
}

@test "mode generic: blocks, allows, revokes" {
	mode_check generic
}

@test "mode tc: blocks, allows, revokes" {
	mode_check tc
}

@test "mode auto: picks native XDP on veth, blocks, allows, revokes" {
	mode_check auto native
}

@test "detach: the gate is gone and the client connects again" {
	pg_gate_is_active
	pg_ctl_in_relay detach "$PG_IF_RELAY"
	run ! pg_gate_is_active
	deliver "$PG_RELAY4" 25
	deliver "$PG_RELAY6" 465 --tls
}

@test "another XDP program on the interface: native attach says so and suggests --mode tc; auto falls back to tc" {
	pg_gate_detach
	[ -s "$PG_TMP/xdp_pass.o" ]
	ip -n "$PG_NS_RELAY" link set dev "$PG_IF_RELAY" xdpdrv obj "$PG_TMP/xdp_pass.o" sec xdp
	run pg_ctl_in_relay attach "$PG_IF_RELAY" --mode native
	ip_off() { ip -n "$PG_NS_RELAY" link set dev "$PG_IF_RELAY" xdpdrv off; }
	[ "$status" -eq 1 ] || { ip_off; false; }
	[[ "$output" == *"another XDP program"*"--mode tc"* ]] || { ip_off; false; }
	run pg_ctl_in_relay attach "$PG_IF_RELAY" --mode auto
	[ "$status" -eq 0 ] || { ip_off; false; }
	[[ "$output" == *"falling back to tc"*"attached (tc)"* ]] || { ip_off; false; }
	run pg_tcp_blocked "$PG_RELAY4" 25
	ip_off
	[ "$status" -eq 0 ]
	pg_gate_detach
}

@test "bpftool: maps dump with field names, and the verifier inlined the hash lookup" {
	pg_gate_attach native
	pg_ctl allow "$PG_CLIENT4" --for 10m --user "$PG_POP_USER"
	run bpftool map dump pinned "$PG_PIN_DIR/gate_auth"
	[[ "$output" == *'"expires_ns":'*'"authorized_ns":'*"\"user\": \"$PG_POP_USER\""* ]]
	run bpftool map dump pinned "$PG_PIN_DIR/gate_stats"
	[[ "$output" == *'"drop_unauthorized":'* ]]
	run bpftool map dump pinned "$PG_PIN_DIR/gate_config"
	[[ "$output" == *'"ports": [25,465,2525'* ]]
	id=$(pg_ctl_in_relay status --json | pg_json 'join "", map { $_->{prog_id} } grep { $_->{active} } @{$j->{attachments}}')
	[ -n "$id" ]
	run bpftool prog dump xlated id "$id"
	[[ "$output" == *"__htab_map_lookup_elem"* ]]
}
