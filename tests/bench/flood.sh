#!/bin/bash
# flood.sh - one trial of the SYN-flood benchmark, in namespaces of its own.
#
#   tests/bench/flood.sh VARIANT SECONDS MAX_PACKETS [SOURCES]
#
# VARIANT: xdp-native xdp-generic tc (popgate), nft-netdev nft-inet
# (nftables set with timeouts, ingress hook / inet prerouting),
# iptables-ipset, none (no filter), xdp-floor (flood_sink on the receiver:
# the cheapest stateless XDP drop, a reference). Prints one line of
# key=value on stdout (ns_per_pkt is the result); diagnostics on stderr.
#
# Layout: sender namespace (veth bsPID, 2001:db8::1) -- receiver namespace
# (veth brPID, 2001:db8::25, the relay with an SMTP listener on port 25).
#  - flood_gen (XDP, BPF_F_TEST_XDP_LIVE_FRAMES, nice -10) sends IPv6 SYNs
#    to port 25 from SOURCES (default 65536, a power of two) addresses of
#    2001:db8:f00d::/64 out of bsPID; the receiver routes its answers there
#    and flood_sink drops them on bsPID.
#  - The generator, the sender's NAPI (threaded, SCHED_FIFO), the SMTP
#    server and client run on CPU 0. The receiver's NAPI runs as
#    BENCH_RX_NAPI says: "softirq" (the default) as the kernel's NET_RX
#    softirq, where the generator's flush raises it, on CPU 0, as a NIC's
#    would; "thread" as a threaded NAPI at SCHED_FIFO on BENCH_RX_CPU
#    (default 0). The receiver's cost is the NET_RX softirq time on CPU 0
#    (flood_gen's meter), or the NAPI thread's CPU time
#    (/proc/PID/schedstat), over the frames that entered its ring (the
#    sender's tx_queue_0_xdp_xmit).
#  - 10k authorized sources (2001:db8:a::/64 and the client's own two) in
#    every filter; none of them floods.
#  - An authorized SMTP client runs sessions against the relay during the
#    flood; ok/failed counts are reported.
# BENCH_RX_CPU (thread only): 0 (the default) puts the receiver with the
# generator, as a NIC's driver recycles its pages on its own CPU; run.sh
# also runs the last CPU ("split"), where pages go back across CPUs.
# BENCH_FLOOD_BATCH: frames per flush to the receiver, 256 (the default,
# the most test_run and veth's ring take) or down to 1. Each flush is one
# NET_RX softirq run or one wake-up of the NAPI thread. See the README,
# "Receiver".
set -eu

variant=$1 seconds=$2 max_packets=$3 sources=${4:-65536}
case $seconds in [0-9]*) ;; *) echo "flood.sh: SECONDS must be like 3 or 0.5" >&2; exit 2 ;; esac
whole_s=${seconds%.*} # for bounds in whole seconds
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
bench=$build/bench
# pg_in, pg_wait_for, pg_kill_tree, pg_json
. "$root/tests/lib/common.bash"

id=$$
ns_s=pgb-$id-s ns_r=pgb-$id-r
if_s=bs$id if_r=br$id
pin=/sys/fs/bpf/pgb-$id
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgb-$id.XXXX")
rx_cpu=${BENCH_RX_CPU:-0}
batch=${BENCH_FLOOD_BATCH:-256}
napi=${BENCH_RX_NAPI:-softirq}
case $napi in
softirq) [ "$rx_cpu" = 0 ] || { echo "flood.sh: softirq NAPI runs on CPU 0: BENCH_RX_CPU must be 0" >&2; exit 2; } ;;
thread) ;;
*) echo "flood.sh: BENCH_RX_NAPI must be softirq or thread" >&2; exit 2 ;;
esac
gen_cpu=0
flood_net=2001:db8:f00d::
relay6=2001:db8::25 client6=2001:db8::1
relay4=192.0.2.25 client4=192.0.2.1
pids=()

say() { echo "flood[$variant]: $*" >&2; }
in_s() { pg_in "$ns_s" "$@"; }
in_r() { pg_in "$ns_r" "$@"; }
# bg_in LOG NS CMD...: start CMD in NS in the background, output to $tmp/LOG
# (never our stdout: run.sh reads that to its end, so a child holding it
# would hold run.sh). nsenter execs CMD, so bg_pid is CMD's own PID and
# cleanup's kill reaches it.
bg_in() {
	local log=$tmp/$1 ns=$2; shift 2
	nsenter --net="/run/netns/$ns" -- "$@" >"$log" 2>&1 &
	bg_pid=$!
	pids+=("$bg_pid")
}

cleanup() {
	local p
	for p in ${pids[@]+"${pids[@]}"}; do pg_kill_tree "$p" 3; done
	ip netns del "$ns_s" 2>/dev/null || true
	ip netns del "$ns_r" 2>/dev/null || true
	rm -rf "$pin" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

carrier() { ip -n "$1" -o link show dev "$2" | grep -q LOWER_UP; }
listening() { in_r ss -Hltn "sport = :25" | grep -q .; }

setup_net() {
	ip netns add "$ns_s"
	ip netns add "$ns_r"
	ip link add "$if_s" netns "$ns_s" type veth peer name "$if_r" netns "$ns_r"
	ip -n "$ns_s" addr add "$client6/64" dev "$if_s" nodad
	ip -n "$ns_s" addr add "$client4/24" dev "$if_s"
	ip -n "$ns_r" addr add "$relay6/64" dev "$if_r" nodad
	ip -n "$ns_r" addr add "$relay4/24" dev "$if_r"
	# GRO gives both veths NAPI (needed to receive XDP_TX'd frames and for
	# threaded NAPI); the sender offloads are off as a generator's would be.
	in_s ethtool -K "$if_s" gro on tx off gso off tso off >/dev/null
	in_r ethtool -K "$if_r" gro on tx off >/dev/null
	for ns in "$ns_s" "$ns_r"; do ip -n "$ns" link set lo up; done
	ip -n "$ns_s" link set "$if_s" up
	ip -n "$ns_r" link set "$if_r" up
	pg_wait_for 5 carrier "$ns_s" "$if_s"
	pg_wait_for 5 carrier "$ns_r" "$if_r"
	ip -n "$ns_r" route add "${flood_net}/64" via "$client6" dev "$if_r"
	# The kernel's default, stated: a flood to a listener gets SYN cookies.
	in_r sysctl -qw net.ipv4.tcp_syncookies=1
	in_s "$bench/flood_gen" sink "$if_s" "$flood_net"
}

# The 10k authorized sources, one a line: both client addresses and 9998 of
# 2001:db8:a::/64 (the documentation ranges hold too few IPv4 addresses).
auth_list() {
	echo "$client4"
	echo "$client6"
	seq 1 9998 | awk '{ printf "2001:db8:a::%x\n", $1 }'
}

nft_ruleset() { # FAMILY HOOK-LINE
	cat <<-EOF
	table $1 pgbench {
		set auth4 { type ipv4_addr; flags timeout; timeout 90m; }
		set auth6 { type ipv6_addr; flags timeout; timeout 90m; }
		chain in {
			$2; policy accept;
			meta l4proto tcp tcp flags & (syn | ack) == syn tcp dport { 25, 465, 2525 } goto gate
		}
		chain gate {
			ip saddr @auth4 accept
			ip6 saddr @auth6 accept
			counter drop
		}
	}
	EOF
	echo "add element $1 pgbench auth4 { $client4 }"
	echo "add element $1 pgbench auth6 { $(auth_list | grep : | paste -sd,) }"
}

apply_filter() {
	case $variant in
	xdp-native|xdp-generic|tc)
		in_r "$build/popgatectl" --pin-dir "$pin" attach "$if_r" --mode "${variant#xdp-}" >&2
		auth_list | "$bench/bench_fill" "$pin" >/dev/null ;;
	nft-netdev)
		nft_ruleset netdev "type filter hook ingress device \"$if_r\" priority 0" >"$tmp/nft"
		in_r nft -f "$tmp/nft" ;;
	nft-inet)
		nft_ruleset inet "type filter hook prerouting priority raw" >"$tmp/nft"
		in_r nft -f "$tmp/nft" ;;
	iptables-ipset)
		{
			echo "create pgb_auth4 hash:ip family inet timeout 5400"
			echo "create pgb_auth6 hash:ip family inet6 timeout 5400 maxelem 65536"
			auth_list | awk '{ print "add pgb_auth" (index($0, ":") ? 6 : 4), $0 }'
		} | in_r ipset restore
		in_r iptables -t raw -A PREROUTING -p tcp --syn -m multiport --dports 25,465,2525 \
			-m set ! --match-set pgb_auth4 src -j DROP
		in_r ip6tables -t raw -A PREROUTING -p tcp --syn -m multiport --dports 25,465,2525 \
			-m set ! --match-set pgb_auth6 src -j DROP ;;
	xdp-floor) in_r "$bench/flood_gen" sink "$if_r" "$flood_net" ;;
	none) ;;
	*) say "unknown variant"; exit 2 ;;
	esac
}

# Flood frames the filter dropped, from its own counters (proof it worked).
filter_drops() {
	case $variant in
	xdp-native|xdp-generic|tc) "$build/popgatectl" --pin-dir "$pin" --json stats |
		pg_json '$j->{drop_unauthorized}' ;;
	nft-*) in_r nft list chain "${variant#nft-}" pgbench gate |
		awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }' ;;
	iptables-ipset) in_r ip6tables -t raw -L PREROUTING -v -x -n | awk '$3 == "DROP" { print $1 }' ;;
	xdp-floor) in_r ethtool -S "$if_r" | awk '$1 == "rx_queue_0_xdp_drops:" { print $2 }' ;;
	*) echo 0 ;;
	esac
}

napi_pid() { # IFACE: the NAPI kthread of IFACE (comm "napi/IFACE-ID", cut at 15)
	local f c
	for f in /proc/[0-9]*/comm; do
		read -r c <"$f" 2>/dev/null || continue
		case $c in "napi/$1-"*) f=${f#/proc/}; echo "${f%/comm}"; return 0 ;; esac
	done
	return 1
}

# Exit status 3: this machine cannot run the method (run.sh: smoke skips).
threaded_napi() { # NS IFACE CPU: prints the pinned thread's PID
	local pid
	# A failure shows as the missing thread (unchecked, set -e would end a
	# call outside $(...) here without a word).
	ip netns exec "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" 2>/dev/null || true
	if ! pg_wait_for 2 napi_pid "$2" >/dev/null || ! pid=$(napi_pid "$2"); then
		say "no threaded NAPI on $2 (is /sys read-only here?): the method cannot run"
		exit 3
	fi
	taskset -pc "$3" "$pid" >/dev/null
	chrt -f -p 50 "$pid"
	echo "$pid"
}

runtime_ns() { local a; read -r a _ <"/proc/$1/schedstat"; echo "$a"; }
sleeps() { awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$1/status"; }
# Busy time of CPU $1 in ms (/proc/stat, USER_HZ ticks of 10 ms): with the
# NAPI thread's own time it tells how much else ran on the receiver's CPU
# (others share this machine), a hint of how disturbed a trial was.
cpu_busy_ms() { awk -v c="cpu$1" '$1 == c { print ($2 + $3 + $4 + $7 + $8 + $9) * 10 }' /proc/stat; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
xmit() { in_s ethtool -S "$if_s" | awk '$1 == "tx_queue_0_xdp_xmit:" { print $2 }'; }
cookies() { in_r nstat -az TcpExtSyncookiesSent | awk '$1 == "TcpExtSyncookiesSent" { print $2 }'; }

# The receiver is done when its NAPI thread stops accruing time.
settled() {
	local a b
	a=$(runtime_ns "$1"); sleep 0.1; b=$(runtime_ns "$1")
	[ "$a" = "$b" ]
}

setup_net
bg_in server "$ns_r" taskset -c "$gen_cpu" python3 "$here/smtp.py" serve 25 $((whole_s + 120))
pg_wait_for 10 listening || { say "the SMTP listener did not come up"; exit 1; }
apply_filter
meter_cpu=-1
if [ "$napi" = thread ]; then
	napi_r=$(threaded_napi "$ns_r" "$if_r" "$rx_cpu")
else
	meter_cpu=$gen_cpu
fi
# The sender's NAPI (the flood's answers, flood_sink) must stay out of the
# NET_RX softirq that is measured.
threaded_napi "$ns_s" "$if_s" "$gen_cpu" >/dev/null
mac_r=$(ip -n "$ns_r" -o link show dev "$if_r" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

# Before the flood the authorized client must get through, or the counts
# during it mean nothing.
pre=$(in_s taskset -c "$gen_cpu" python3 "$here/smtp.py" client "$relay6" 25 5 1)
[ "$pre" = "ok=1 failed=0" ] || { say "authorized client fails before the flood ($pre)"; exit 1; }

# t, s: the receiver's CPU time (ns) and runs (NAPI thread wake-ups, or
# softirq runs, which flood_gen's meter counts from 0 itself).
gen_field() { echo "$gen" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
t0=0 s0=0
[ "$napi" = softirq ] || t0=$(runtime_ns "$napi_r") s0=$(sleeps "$napi_r")
x0=$(xmit) c0=$(cookies)
b0=$(cpu_busy_ms "$rx_cpu") w0=$(now_ms)
bg_in client "$ns_s" taskset -c "$gen_cpu" timeout $((whole_s + 30)) \
	python3 "$here/smtp.py" client "$relay6" 25 "$seconds" 100000
client_pid=$bg_pid
gen=$(in_s taskset -c "$gen_cpu" nice -n -10 "$bench/flood_gen" run "$if_s" "$mac_r" "$relay6" "$flood_net" \
	25 "$max_packets" "$seconds" "$sources" "$batch" "$meter_cpu")
wait "$client_pid" || true
if [ "$napi" = thread ]; then
	pg_wait_for 3 settled "$napi_r" || say "receiver still busy 3 s after the flood"
	t1=$(runtime_ns "$napi_r") s1=$(sleeps "$napi_r")
else
	t1=$(gen_field rx_softirq_ns) s1=$(gen_field rx_softirq_runs)
fi
x1=$(xmit) c1=$(cookies) b1=$(cpu_busy_ms "$rx_cpu") w1=$(now_ms)
drops=$(filter_drops)

pkts=$((x1 - x0))
[ "$pkts" -gt 0 ] || { say "no flood frame reached the receiver"; exit 1; }
# A meter that saw nothing would report a free filter.
[ "${t1:-0}" -gt "$t0" ] && [ "${s1:-0}" -gt "$s0" ] ||
	{ say "the receiver ($napi) took no CPU time or runs for $pkts frames: not measured"; exit 1; }
read -r ok failed < <(sed -n 's/^ok=\([0-9]*\) failed=\([0-9]*\)$/\1 \2/p' "$tmp/client")
echo "variant=$variant sources=$sources ns_per_pkt=$(awk -v t=$((t1 - t0)) -v p="$pkts" 'BEGIN { printf "%.1f", t / p }')" \
	"pkts=$pkts rx_napi=$napi rx_cpu_ns=$((t1 - t0)) rx_runs=$((s1 - s0))" \
	"rx_cpu_others_pct=$(( (b1 - b0 - (t1 - t0) / 1000000) * 100 / (w1 - w0) )) filter_drops=${drops:-0} syn_cookies=$((c1 - c0))" \
	"smtp_ok=${ok:-0} smtp_failed=${failed:-0} $gen"
