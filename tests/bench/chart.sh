#!/bin/sh
# SPDX-License-Identifier: MIT
# tools/bench-chart.py on the JSON of real `iovmm bench` runs (fixtures/,
# measured on 2026-12-05; bench io and exits --insn-only on 2026-12-06/07):
# one SVG per chart, with every series and group of the input; failed
# runs (null, -1) left out without breaking the chart; a file that is not a
# bench JSON refused with status 1.
#   chart.sh CHART_PY FIXTURES_DIR
set -u
chart=$1 fixtures=$2
command -v gnuplot >/dev/null 2>&1 || { echo "SKIP: gnuplot not installed"; exit 77; }
tmp=$(mktemp -d /tmp/iovmm-chart.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$chart" --out-dir "$tmp" "$fixtures/bench-exits.json" "$fixtures/bench-net.json" \
	"$fixtures/bench-vhost.json" || fail "bench-chart.py exited $?"
for f in bench-exits bench-net bench-vhost bench-vhost-2; do
	grep -q '<svg' "$tmp/$f.svg" 2>/dev/null || fail "$f.svg missing or not SVG"
done
# Every series and group label of the input is drawn.
for want in iovmm 'raw KVM' QEMU 'mmio (cpl3)' ioeventfd 'pio (cpl0)'; do
	grep -qF "$want" "$tmp/bench-exits.svg" || fail "bench-exits.svg lacks '$want'"
done
for want in 'e1000 64 B' 'virtio packed 1500 B'; do
	grep -qF "$want" "$tmp/bench-net.svg" || fail "bench-net.svg lacks '$want'"
done
for want in iovmm-vswitch 'testpmd vhost' 'dpdk virtio-user 64 B'; do
	grep -qF "$want" "$tmp/bench-vhost.svg" || fail "bench-vhost.svg lacks '$want'"
done
grep -qF 'testpmd-vhost 1500 B' "$tmp/bench-vhost-2.svg" || fail "bench-vhost-2.svg lacks a group"

# Failed runs: a series with no valid run at all, and one null among runs.
python3 - "$fixtures/bench-exits.json" "$tmp/failed.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["tests"][0]["ns_per_op"]["qemu"]["runs"] = [None] * len(d["tests"][0]["ns_per_op"]["qemu"]["runs"])
d["tests"][1]["ns_per_op"]["raw"]["runs"][0] = -1
json.dump(d, open(sys.argv[2], "w"))
PY
"$chart" --out-dir "$tmp" "$tmp/failed.json" >/dev/null || fail "a failed run broke the chart"
grep -q '<svg' "$tmp/failed.svg" || fail "failed.svg not drawn"

# bench io: network throughput, storage IOPS and latency; rows that did
# not run (why set) are left out of every chart.
"$chart" --out-dir "$tmp" "$fixtures/bench-io.json" >/dev/null || fail "bench io chart: exit $?"
for f in bench-io bench-io-2 bench-io-3; do
	grep -q '<svg' "$tmp/$f.svg" 2>/dev/null || fail "$f.svg missing or not SVG"
done
grep -qF 'e1000 (emulated)' "$tmp/bench-io.svg" || fail "bench-io.svg lacks the e1000 row"
grep -qF 'NVMe (emulated)' "$tmp/bench-io-2.svg" || fail "bench-io-2.svg lacks the NVMe row"
grep -qF 'QEMU p99' "$tmp/bench-io-3.svg" || fail "bench-io-3.svg lacks a series"
grep -qF 'vhost-net' "$tmp/bench-io.svg" && fail "a row that did not run was drawn"

# bench exits --insn-only: every time is null; instructions per exit drawn.
"$chart" --out-dir "$tmp" "$fixtures/bench-exits-insn-only.json" >/dev/null ||
	fail "an --insn-only JSON broke the chart"
grep -qF 'instructions per exit' "$tmp/bench-exits-insn-only.svg" ||
	fail "the --insn-only chart does not show instructions per exit"

echo '{"benchmark": "nonsense"}' >"$tmp/other.json"
out=$("$chart" --out-dir "$tmp" "$tmp/other.json" 2>&1)
[ $? -eq 1 ] || fail "a non-bench JSON was accepted"
echo "$out" | grep -q "not the JSON of iovmm bench" || fail "no reason given: $out"
echo OK
