#!/usr/bin/env bash
# Runs every Go fuzz target in the module, one at a time, for a bounded
# time each (FUZZTIME, default 15s), besides the seed corpora that plain
# `go test` already runs. Prints "<target> (<package>): N execs" per
# target and fails if any target fails; the failing input is then in the
# package's testdata/fuzz/<target>/ (go test says which file): keep it
# there and fix the bug, so that it stays a regression test.
#
# Targets are found by their declarations, `func FuzzX(f *testing.F)` in
# a _test.go file, so a new target needs no change here.
#
# Usage: scripts/fuzz.sh [target-regexp]   (e.g. scripts/fuzz.sh 'Range')
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-15s}
# Minimizing each new interesting input may take up to a minute by
# default, during which nothing else runs: it ate most of a 15s budget.
minimizetime=${FUZZMINIMIZETIME:-2s}
only=${1:-.}

mapfile -t targets < <(
	grep -rEo --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git \
		'^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
		sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*).*#\1 \2#' |
		grep -E " .*(${only})" | sort -u
)
if [ "${#targets[@]}" -eq 0 ]; then
	echo "fuzz: no targets match '$only'" >&2
	exit 1
fi

# deadline_race reports whether a failed run is Go's own fuzz coordinator
# race (golang/go#75804, fixed in Go 1.27): at the end of -fuzztime a
# loaded machine can make it report "context deadline exceeded" as the
# target's failure. Such a run wrote no failing input and failed nothing
# else.
deadline_race() {
	grep -qE '^[[:space:]]+context deadline exceeded$' "$1" &&
		! grep -q 'Failing input written' "$1" &&
		[ "$(grep -c -- '--- FAIL' "$1")" -eq 1 ]
}

echo "==> fuzzing ${#targets[@]} targets for $fuzztime each"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
failed=0
start=$SECONDS
for t in "${targets[@]}"; do
	pkg=${t% *}
	name=${t#* }
	status=0
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$pkg" >"$log" 2>&1 || status=$?
	execs=$(grep -Eo 'execs: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	if [ "$status" -eq 0 ]; then
		echo "$name ($pkg): ${execs:-0} execs"
		passed=$((passed + 1))
	elif deadline_race "$log"; then
		echo "$name ($pkg): ${execs:-0} execs (stopped by Go's fuzztime deadline race, golang/go#75804: no failing input)"
		passed=$((passed + 1))
	else
		cat "$log"
		echo "$name ($pkg): FAILED"
		failed=$((failed + 1))
	fi
done
echo "==> fuzzing took $((SECONDS - start))s"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
