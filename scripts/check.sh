#!/bin/bash
# `make check`: every test suite, on any Linux host (docs/testing.md).
#
#   check.sh [BUILD]          (default build)
#
# With a usable /dev/kvm: `meson test` of everything, as it always was.
# Without one (no /dev/kvm, no permission, not KVM), or with
# IOVMM_IN_LAB=1: every suite but integ runs here as usual, then the integ
# suite runs inside one lab L1 (tests/nested/run.sh: QEMU TCG with nested
# SVM, the host's files over virtio-9p), as a nested `meson test` whose
# output streams back here, so a failure names the test. A closing summary
# counts both runs. Exit: 0 when both passed, 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-build}
nested=$repo/tests/nested

if why=$("$nested/kvm-usable") && [ "${IOVMM_IN_LAB:-}" != 1 ]; then
	exec meson test -C "$build" --print-errorlogs --num-processes 2
fi

say() { echo "check: $*"; }
now_s() { date +%s; }
mmss() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

if [ "${IOVMM_IN_LAB:-}" = 1 ] && [ -z "$why" ]; then
	reason="IOVMM_IN_LAB=1"
else
	reason="${why:-no usable /dev/kvm}"
fi
say "$reason: the integ suite runs inside the lab's L1 (tests/nested/run.sh)," \
	"every other suite here"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
t0=$(now_s)

# counts LOG: "ok fail skip timeout" from meson's closing summary (the
# unexpected passes count as failures, the expected failures as passes).
counts() {
	awk '
		/^Ok:/ { ok = $2 } /^Expected Fail:/ { xf = $3 }
		/^Fail:/ { fail = $2 } /^Unexpected Pass:/ { up = $3 }
		/^Skipped:/ { skip = $2 } /^Timeout:/ { to = $2 }
		END { printf "%d %d %d %d\n", ok + xf, fail + up, skip, to }' "$1"
}

# ---- here: everything but integ (and but the nested smoke test, which the
# full nested run below makes redundant).
echo "==== every suite but integ: here"
meson test -C "$build" --print-errorlogs --num-processes 2 \
	--no-suite integ --no-suite nested 2>&1 | tee "$logs/host"
host_rc=${PIPESTATUS[0]}
t1=$(now_s)

# ---- the integ suite in one L1.
echo
echo "==== suite integ: nested, inside the lab's L1 (timings are TCG-relative)"
"$nested/run.sh" --build "$build" -- \
	"$nested/meson-test.sh" "$build" nested-testlog --suite integ 2>&1 |
	tee "$logs/nested"
nested_rc=${PIPESTATUS[0]}
t2=$(now_s)

# ---- summary
read -r h_ok h_fail h_skip h_to < <(counts "$logs/host")
echo
say "summary"
printf 'check: %-34s OK %4d  FAIL %3d  SKIP %3d  TIMEOUT %2d  %s\n' \
	"here (every suite but integ)" "$h_ok" "$h_fail" "$h_skip" "$h_to" "$(mmss $((t1 - t0)))"
if [ "$nested_rc" -eq 77 ]; then
	n_ok=0 n_fail=0 n_skip=0 n_to=0
	say "integ suite SKIPPED: $(grep -a '^SKIP' "$logs/nested" | head -n 1)"
	nested_rc=0
else
	read -r n_ok n_fail n_skip n_to < <(counts "$logs/nested")
	timing=$(grep -a '^nested: timing:' "$logs/nested" | tail -n 1)
	printf 'check: %-34s OK %4d  FAIL %3d  SKIP %3d  TIMEOUT %2d  %s\n' \
		"nested L1 (integ)" "$n_ok" "$n_fail" "$n_skip" "$n_to" "$(mmss $((t2 - t1)))"
	[ -n "$timing" ] && say "  L1 ${timing#nested: timing: }"
	if [ "$nested_rc" -ne 0 ] && [ $((n_fail + n_to)) -eq 0 ]; then
		say "  the nested run failed without a failing test: L1 did not finish (above)"
	fi
fi
total_fail=$((h_fail + h_to + n_fail + n_to))
if [ "$host_rc" -eq 0 ] && [ "$nested_rc" -eq 0 ]; then
	verdict=PASS
else
	verdict=FAIL
fi
say "total: OK $((h_ok + n_ok)), FAIL $total_fail, SKIP $((h_skip + n_skip))" \
	"in $(mmss $((t2 - t0))): $verdict"
[ "$verdict" = PASS ]
