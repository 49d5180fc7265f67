#!/bin/bash
# run.sh - popgate's benchmarks: `make bench` (full) and `make bench-smoke`.
#
#   tests/bench/run.sh full|smoke
#
# 1. bench_xdp_cost: the gate's cost per packet (hot and cache-cold) at 1k,
#    100k and 1M authorized entries, and the map's kernel memory.
# 2. flood.sh: a SYN flood across a veth pair, receiver CPU per packet, for
#    popgate (XDP native, XDP generic, tc), nftables (netdev ingress, inet
#    prerouting), iptables + ipset and no filter; fresh namespaces per trial;
#    the receiver's NAPI as the generator CPU's softirq, then (fewer
#    variants) as a thread on another CPU, then as a thread on the
#    generator's CPU with smaller batches.
# 3. report.py: tables on stdout, $BUILD/bench/results.json (smoke:
#    smoke-results.json), and (full only) tests/bench/flood.png.
#
# smoke uses tiny counts, only checks that every part works and prints what
# it got; it never judges a timing. Both install what they lack with apt-get
# (full also gnuplot-nox); when that fails, smoke skips what cannot run
# (without python3: the flood and the report).
# See tests/bench/README.md for the method.
set -eu

mode=${1:-}
case $mode in full|smoke) ;; *) echo "usage: $0 full|smoke" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
export BUILD
out=$BUILD/bench
BPFTOOL=${BPFTOOL:-bpftool}

if [ "$mode" = full ]; then
	sizes=1000,100000,1000000 cost_trials=9 target_ms=120
	flood_s=3 flood_trials=5 split_trials=3 thread_trials=3 flood_max=100000000
	results=$out/results.json png=$here/flood.png
else
	sizes=1000,5000 cost_trials=1 target_ms=5
	flood_s=0.3 flood_trials=1 split_trials=1 thread_trials=1 flood_max=2000000
	results=$out/smoke-results.json png=
fi
# VARIANT[:SOURCES] (see flood.sh); xdp-native:1024 shows what the number
# of flood sources does to the gate (its hash buckets stay in cache).
variants="xdp-native xdp-native:1024 xdp-generic tc nft-netdev nft-inet iptables-ipset none xdp-floor"
# The receiver's NAPI as a thread on another CPU than the generator
# ("split"): the same comparison where every frame crosses CPUs, fewer
# variants. Then as a thread on the generator's CPU, 64 frames per flush
# ("thread64"): the method of the runs before 2026-12-05 11:30 UTC, where
# every flush wakes the thread (see README, "Receiver").
split_variants="xdp-native nft-netdev none xdp-floor"
split_cpu=$(($(nproc) - 1))
thread_variants=$split_variants

say() { echo "bench: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "needs root (BPF, namespaces)"; exit 1; }
mkdir -p "$out"
cost_pin=/sys/fs/bpf/pgb-cost-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/pgb-run-$$.XXXX")
trap 'rm -rf "$cost_pin" "$work"' EXIT
trap 'exit 130' INT TERM

# bpffs: systemd mounts it on a normal host; nothing does in a bare container.
if ! mount | grep -q ' /sys/fs/bpf type bpf '; then
	mount -t bpf bpf /sys/fs/bpf
	say "mounted bpffs at /sys/fs/bpf (it was not mounted)"
fi

# Tools installed here when missing, not by deploy/install-deps.sh: only the
# benchmark wants them. PACKAGE:COMMAND pairs.
has() { command -v "$1" >/dev/null 2>&1; }
need="nftables:nft ipset:ipset iptables:ip6tables python3:python3 ethtool:ethtool"
[ "$mode" = smoke ] || need="$need gnuplot-nox:gnuplot"
missing=""
for pc in $need; do
	has "${pc#*:}" || missing="$missing ${pc%%:*}"
done
if [ -n "$missing" ]; then
	say "installing$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$missing >&2 || say "apt-get failed: what needs$missing is skipped"
fi
if ! has python3; then
	# The SMTP ends and the report are Python: without it only part 1 runs.
	[ "$mode" = smoke ] || { say "python3 is missing"; exit 1; }
	say "python3 is missing: only part 1 runs, the flood and the report are skipped"
fi
has gnuplot || png=
runnable() {
	case $1 in
	nft-*) has nft ;;
	iptables-ipset) has ipset && has ip6tables ;;
	*) return 0 ;;
	esac
}

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)

say "1/3 per-packet cost (test_run) and map memory, sizes $sizes"
"$BUILD/bench/bench_xdp_cost" --pin-dir "$cost_pin" --sizes "$sizes" --trials "$cost_trials" \
	--target-ms "$target_ms" --json "$work/cost.json" --bpftool "$BPFTOOL"

has python3 || exit 0

say "2/3 SYN flood: $flood_trials trial(s) of ${flood_s}s per variant, receiver in the generator CPU's softirq;"
say "    then $split_trials as a thread on CPU $split_cpu (split), then $thread_trials as a thread on CPU 0, batches of 64 (thread64)"
: >"$work/flood.txt"
# flood LAYOUT RX_NAPI RX_CPU BATCH TRIALS VARIANTS: trials interleaved
# variant by variant, so a slow spell of a shared machine does not land on
# one variant.
flood() {
	local layout=$1 napi=$2 rx_cpu=$3 batch=$4 trials=$5 t vs v src line
	shift 5
	for t in $(seq 1 "$trials"); do
		for vs in "$@"; do
			v=${vs%%:*} src=65536
			[ "$v" = "$vs" ] || src=${vs#*:}
			if ! runnable "$v"; then
				[ "$t" = 1 ] && say "$v: skipped (its tools are not installed)"
				echo "layout=$layout trial=$t variant=$v sources=$src skipped=1" >>"$work/flood.txt"
				continue
			fi
			if line=$(BENCH_RX_NAPI=$napi BENCH_RX_CPU=$rx_cpu BENCH_FLOOD_BATCH=$batch \
				"$here/flood.sh" "$v" "$flood_s" "$flood_max" "$src"); then
				say "  $layout trial $t: $line"
				echo "layout=$layout trial=$t $line" >>"$work/flood.txt"
			elif [ $? -eq 3 ] && [ "$mode" = smoke ]; then
				say "  $layout trial $t: $v skipped (this machine cannot run the method)"
				echo "layout=$layout trial=$t variant=$v sources=$src skipped=1" >>"$work/flood.txt"
			else
				say "  $layout trial $t: $v FAILED"
				echo "layout=$layout trial=$t variant=$v sources=$src failed=1" >>"$work/flood.txt"
			fi
		done
	done
}
# shellcheck disable=SC2086
flood same softirq 0 256 "$flood_trials" $variants
if [ "$split_cpu" -gt 0 ]; then
	# shellcheck disable=SC2086
	flood split thread "$split_cpu" 256 "$split_trials" $split_variants
fi
# shellcheck disable=SC2086
flood thread64 thread 0 64 "$thread_trials" $thread_variants

say "3/3 report"
# report.py fails (after writing everything) when a trial failed.
python3 "$here/report.py" --mode "$mode" --loadavg "$loadavg" \
	--iptables "$(ip6tables -V 2>/dev/null || echo none)" --cost "$work/cost.json" \
	--flood "$work/flood.txt" --flood-seconds "$flood_s" --json "$results" \
	${png:+--png "$png" --plot-data "$out/flood.dat"}
