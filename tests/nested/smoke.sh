#!/bin/bash
# nested-smoke (meson suite lab; docs/testing.md "The nested run"): keeps
# tests/nested/run.sh from rotting on hosts with KVM, where `make check`
# never needs it. One L1 boot runs smoke-l1.sh: L1's promises to the tests,
# then kit-hello (an iovmm guest under nested KVM) and, when DPDK is
# installed, vhost-testpmd-1514 (dpdk-testpmd's vhost PMD serving an iovmm
# guest over a UNIX socket in L1's /tmp) in a nested `meson test`. Passes
# when they all pass, the command's output streamed back, and its exit
# status (3) came back.
#   smoke.sh BUILD
set -uo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tests=(kit-hello)
command -v dpdk-testpmd >/dev/null 2>&1 && tests+=(vhost-testpmd-1514)

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$here/run.sh" --build "$build" --timeout 300 -- \
	"$here/smoke-l1.sh" "$build" "${tests[@]}" 2>&1 | tee "$out"
st=${PIPESTATUS[0]}
[ "$st" -eq 77 ] && exit 77
fail=0
head -n 1 "$out" | grep -q "running inside the lab's L1" ||
	{ echo "FAIL: the first line does not say the run is nested"; fail=1; }
grep -q '^smoke-l1: ok   nested meson test' "$out" ||
	{ echo "FAIL: the nested meson test did not pass (or its output did not come back)"; fail=1; }
[ "$st" -eq 3 ] ||
	{ echo "FAIL: exit status $st, want 3 (smoke-l1.sh's)"; fail=1; }
grep -q '^nested: timing:' "$out" || { echo "FAIL: no timing line"; fail=1; }
[ $fail = 0 ] && echo "OK: nested run of ${tests[*]}"
exit $fail
