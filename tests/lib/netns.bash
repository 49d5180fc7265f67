# shellcheck shell=bash
# netns.bash - a client and a relay network namespace joined by one veth pair.
#
#   client ns  PG_NS_CLIENT, interface PG_IF_CLIENT (pg-client)
#       192.0.2.1/24      PG_CLIENT4      the ordinary client
#       198.51.100.7/32   PG_CLIENT4_ALT  a second source (trust tests), routed
#       2001:db8::1/64    PG_CLIENT6
#       2001:db8:100::7/128 PG_CLIENT6_ALT a second IPv6 source, routed
#   relay ns   PG_NS_RELAY, interface PG_IF_RELAY (pg-relay)  <- the gate goes here
#       192.0.2.25/24     PG_RELAY4
#       2001:db8::25/64   PG_RELAY6
#
# The interfaces are created directly inside their namespaces, so their fixed
# names never meet the host's or another run's; the namespaces carry the run
# id. Both ends are up, IPv6 addresses are `nodad` (usable at once), GRO is
# on at both ends (native XDP on veth needs NAPI on the receiver, and XDP_TX
# of the reject action bounces to the peer) and TX checksum offload is off (a
# frame's checksum is complete when XDP sees it and after XDP_PASS).
# The client end also gets an XDP program that passes everything: a veth
# only wakes its peer's NAPI for frames sent by XDP_TX (the gate's `action
# reject` RST in native mode) when the peer has an XDP program; without one
# those RSTs sit in the client's ring and the client times out instead of
# being refused. PG_CLIENT_XDP_PASS=0 leaves it off.

_PG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/common.bash
. "$_PG_LIB_DIR/common.bash"

PG_IF_CLIENT=pg-client
PG_IF_RELAY=pg-relay
PG_CLIENT4=192.0.2.1
PG_CLIENT4_ALT=198.51.100.7
PG_CLIENT4_ALT_NET=198.51.100.0/24
PG_RELAY4=192.0.2.25
PG_CLIENT6=2001:db8::1
PG_CLIENT6_ALT=2001:db8:100::7
PG_CLIENT6_ALT_NET=2001:db8:100::/64
PG_RELAY6=2001:db8::25
export PG_IF_CLIENT PG_IF_RELAY PG_CLIENT4 PG_CLIENT4_ALT PG_CLIENT4_ALT_NET \
	PG_RELAY4 PG_CLIENT6 PG_CLIENT6_ALT PG_CLIENT6_ALT_NET PG_RELAY6

# pg_netns_setup: create both namespaces and the link (see above); exports
# PG_NS_CLIENT and PG_NS_RELAY. On failure it removes what it made.
pg_netns_setup() {
	pg_run_init || return 1
	PG_NS_CLIENT=$PG_NAME_PREFIX-$PG_RUN_ID-client
	PG_NS_RELAY=$PG_NAME_PREFIX-$PG_RUN_ID-relay
	export PG_NS_CLIENT PG_NS_RELAY
	if ! _pg_netns_build; then
		pg_netns_teardown
		pg_die "could not build namespaces $PG_NS_CLIENT / $PG_NS_RELAY"
		return 1
	fi
}

_pg_netns_build() {
	local c=$PG_NS_CLIENT r=$PG_NS_RELAY
	ip netns add "$c" && ip netns add "$r" || return 1
	ip link add "$PG_IF_CLIENT" netns "$c" type veth peer name "$PG_IF_RELAY" netns "$r" || return 1
	# client side
	ip -n "$c" link set lo up &&
	ip -n "$c" addr add "$PG_CLIENT4/24" dev "$PG_IF_CLIENT" &&
	ip -n "$c" addr add "$PG_CLIENT4_ALT/32" dev "$PG_IF_CLIENT" &&
	ip -n "$c" addr add "$PG_CLIENT6/64" dev "$PG_IF_CLIENT" nodad &&
	ip -n "$c" addr add "$PG_CLIENT6_ALT/128" dev "$PG_IF_CLIENT" nodad &&
	# relay side; the alternate client sources are routed via the client
	ip -n "$r" link set lo up &&
	ip -n "$r" addr add "$PG_RELAY4/24" dev "$PG_IF_RELAY" &&
	ip -n "$r" addr add "$PG_RELAY6/64" dev "$PG_IF_RELAY" nodad || return 1
	# offloads (see the header); ethtool may lack a feature on old kernels
	pg_in "$c" ethtool -K "$PG_IF_CLIENT" gro on tx off >/dev/null 2>&1 ||
		pg_note "ethtool -K $PG_IF_CLIENT gro on tx off failed (continuing)"
	pg_in "$r" ethtool -K "$PG_IF_RELAY" gro on tx off >/dev/null 2>&1 ||
		pg_note "ethtool -K $PG_IF_RELAY gro on tx off failed (continuing)"
	ip -n "$c" link set "$PG_IF_CLIENT" up &&
	ip -n "$r" link set "$PG_IF_RELAY" up &&
	ip -n "$r" route add "$PG_CLIENT4_ALT_NET" via "$PG_CLIENT4" dev "$PG_IF_RELAY" &&
	ip -n "$r" route add "$PG_CLIENT6_ALT_NET" via "$PG_CLIENT6" dev "$PG_IF_RELAY" || return 1
	if [ "${PG_CLIENT_XDP_PASS:-1}" = 1 ]; then
		pg_netns_client_xdp_pass || pg_note "no XDP program on $PG_IF_CLIENT: native-mode RSTs will not reach the client"
	fi
	# wait until both links report carrier (a veth is up once both ends are)
	pg_wait_for 5 _pg_link_ready "$c" "$PG_IF_CLIENT" &&
		pg_wait_for 5 _pg_link_ready "$r" "$PG_IF_RELAY"
}

# pg_netns_client_xdp_pass: attach an XDP_PASS program (built with clang
# into $PG_TMP) to the client's veth end, native mode. See the header.
pg_netns_client_xdp_pass() {
	local o=$PG_TMP/xdp_pass.o
	if [ ! -s "$o" ]; then
		printf '%s\n' '__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; /* XDP_PASS */ }' \
			'char _license[] __attribute__((section("license"), used)) = "GPL";' >"$PG_TMP/xdp_pass.c"
		clang -O2 -target bpf -c "$PG_TMP/xdp_pass.c" -o "$o" >&2 2>&1 || return 1
	fi
	ip -n "$PG_NS_CLIENT" link set dev "$PG_IF_CLIENT" xdpdrv obj "$o" sec xdp
}

_pg_link_ready() {
	ip -n "$1" -o link show dev "$2" 2>/dev/null | grep -q 'LOWER_UP'
}

# pg_netns_teardown: delete both namespaces (the veth pair goes with them).
# Idempotent; safe when setup never ran or half ran.
pg_netns_teardown() {
	local ns
	for ns in "${PG_NS_CLIENT:-}" "${PG_NS_RELAY:-}"; do
		[ -n "$ns" ] && [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# pg_client CMD...: run CMD in the client namespace.   pg_relay CMD...: relay.
pg_client() { pg_in "$PG_NS_CLIENT" "$@"; }
pg_relay() { pg_in "$PG_NS_RELAY" "$@"; }
