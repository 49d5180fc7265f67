#!/bin/bash
# Run the whole suite: unit tests (plain and under ASan/UBSan), BPF tests,
# end-to-end bats suites. Every part speaks TAP; this script shows it and
# ends with one line for the whole suite: "N passed, N failed, N skipped".
#
#   tests/run.sh [SUITE...]    SUITE: unit, asan, bpf, fuzz, e2e, smoke (default: all)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit asan bpf fuzz e2e smoke)

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_tap() { # NAME COMMAND...: run, echo its TAP, count its points
	local name=$1; shift
	echo "### $name"
	"$@" >"$log" 2>&1
	local rc=$?
	cat "$log"
	local p f s
	s=$(grep -cE '^ok [0-9]+.*# ?(skip|SKIP)' "$log")
	p=$(grep -cE '^ok [0-9]+' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	p=$((p - s))
	# A runner that died without reporting a failing point still fails.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

run_ok() { # NAME COMMAND...: one test point, passed when COMMAND exits 0
	local name=$1; shift
	run_tap "$name" bash -c '"$@" && echo "ok 1 - $0" || { echo "not ok 1 - $0"; exit 1; }' "$name" "$@"
}

for s in "${suites[@]}"; do
	case $s in
	unit) for t in "$BUILD"/tests/test_*; do
		case $t in */test_bpf_*) continue ;; esac
		[ -x "$t" ] && run_tap "unit $(basename "$t")" "$t"
	done ;;
	asan) for t in "$BUILD"/asan/tests/test_*; do
		[ -x "$t" ] && run_tap "asan $(basename "$t")" "$t"
	done ;;
	bpf) for t in "$BUILD"/tests/test_bpf_*; do
		[ -x "$t" ] && run_tap "bpf $(basename "$t")" "$t"
	done ;;
	fuzz) run_tap "fuzz smoke" tests/fuzz/smoke.sh ;;
	smoke) # the benchmark harnesses, briefly: they must run, no timing is judged
		run_ok "bench-smoke: kernel costs, SYN flood side by side" make -s bench-smoke
		run_ok "bench-daemon-smoke: login throughput, latency, memory" make -s bench-daemon-smoke ;;
	e2e) for b in tests/e2e/*.bats; do
		[ -f "$b" ] && run_tap "e2e $(basename "$b")" bats --tap "$b"
	done ;;
	*) echo "run.sh: unknown suite '$s' (unit, asan, bpf, fuzz, e2e, smoke)" >&2; exit 2 ;;
	esac
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
