#!/bin/bash
# tests/fuzz/smoke.sh - a short run of every libFuzzer target, in TAP, for
# `make fuzz-smoke` and tests/run.sh: whether the targets build and run, and
# whether any input kept in tests/fuzz/crashes/ still fails.
#
#   tests/fuzz/smoke.sh        BUILD=build, FUZZ_SMOKE_RUNS=5000 (per target)
#
# For each target T (a directory tests/fuzz/corpus/T/), in this order:
#  - every file in tests/fuzz/crashes/T/ is run once, one test point each.
#    These are findings kept as regressions; a finding not fixed yet fails
#    here ON PURPOSE, so the suite stays red until userspace/ is fixed.
#  - FUZZ_SMOKE_RUNS inputs from the seed corpus and its mutations, with a
#    fixed seed so that a failure repeats. New inputs go to a temporary
#    directory, never into the source tree; a crashing one to
#    $BUILD/fuzz/artifacts/T/.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
RUNS=${FUZZ_SMOKE_RUNS:-5000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A known finding may be a blow-up (regcomp's memory): fail it early and
# small, inside `make check`.
limits=(-timeout=10 -rss_limit_mb=512)
n=0 failed=0
# point OK TEXT: one TAP line; a failure shows what the fuzzer said about it.
point() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
		return
	fi
	failed=$((failed + 1))
	echo "not ok $n - $2"
	# The finding's own first lines (a sanitizer's report or the broken
	# invariant), else the end of the output; cut, a line may be a config.
	{ grep -E -m1 -A8 '^==[0-9]+== ?ERROR|INVARIANT BROKEN' "$tmp/log" ||
		tail -n 10 "$tmp/log"; } | cut -c1-200 | sed 's/^/#   /'
}

for dir in tests/fuzz/corpus/*/; do
	t=$(basename "$dir")
	bin=$BUILD/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		: >"$tmp/log"
		point fail "fuzz_$t: $bin not built (make fuzz-bins)"
		continue
	fi
	for c in tests/fuzz/crashes/"$t"/*; do
		[ -f "$c" ] || continue
		if "$bin" "${limits[@]}" "$c" >"$tmp/log" 2>&1; then
			point ok "fuzz_$t: regression ${c#tests/fuzz/}"
		else
			point fail "fuzz_$t: regression ${c#tests/fuzz/} (known finding, see tests/fuzz/README.md)"
		fi
	done
	mkdir -p "$tmp/corpus-$t" "$BUILD/fuzz/artifacts/$t"
	if "$bin" -runs="$RUNS" -seed=1 "${limits[@]}" -artifact_prefix="$BUILD/fuzz/artifacts/$t/" \
		"$tmp/corpus-$t" "$dir" >"$tmp/log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/log")
		cov=$(grep -oE 'cov: [0-9]+' "$tmp/log" | tail -n 1)
		point ok "fuzz_$t: ${runs:-?} runs, ${cov:-cov: ?}, no crash"
	else
		point fail "fuzz_$t: crashed within $RUNS runs (input saved in $BUILD/fuzz/artifacts/$t/)"
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
