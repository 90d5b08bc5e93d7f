#!/bin/sh
# SPDX-License-Identifier: MIT
# `iovmm bench io` end to end on the rows that need neither root nor an L1
# (iovmm's loopback NIC, emulated NVMe, virtio-blk), iovmm and QEMU, one
# small run: every row measured, the kit's ping-pong percentiles in the
# JSON (p50 <= p99), and the counts that do not depend on time: the
# emulated NVMe's two doorbell exits per command, none for virtio-net's
# ioeventfd kicks. Never a timing threshold.
#   io-smoke.sh IOVMM
set -u
iovmm=$1
[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
tmp=$(mktemp -d /tmp/iovmm-io-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
qemu=--no-qemu
command -v qemu-system-x86_64 >/dev/null && qemu=""

# shellcheck disable=SC2086 # $qemu is one option or none
"$iovmm" bench io --rows loopback-virtio,nvme,virtio-blk --runs 1 \
	--count 3000 --pingpong 300 --blk-count 200 --no-chart \
	--json "$tmp/io.json" $qemu >"$tmp/out" 2>&1
st=$?
cat "$tmp/out"
[ "$st" -eq 0 ] || fail "bench io exited $st"
python3 - "$tmp/io.json" "${qemu:-qemu}" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
want_qemu = sys.argv[2] == "qemu"
rows = {r["id"]: r for r in d["rows"]}
assert d["benchmark"] == "io" and set(rows) == {"loopback-virtio", "nvme", "virtio-blk"}, rows.keys()
def med(r, vmm, fig):
    return r[vmm][fig]["median"]
for rid, r in rows.items():
    assert r["why"] is None, (rid, r["why"])
    vmms = ["iovmm"] + (["qemu"] if want_qemu and rid != "loopback-virtio" else [])
    for vmm in vmms:
        t, p50, p99 = (med(r, vmm, f) for f in ("throughput", "lat_p50_us", "lat_p99_us"))
        assert t and t > 0 and p50 and p99 and 0 < p50 <= p99, (rid, vmm, t, p50, p99)
        assert med(r, vmm, "cpu_us_per_op") is None or med(r, vmm, "cpu_us_per_op") >= 0
    if not want_qemu or rid == "loopback-virtio":
        assert r["qemu"] is None, rid
# Exits per operation: the slope against a one-operation run.
e = med(rows["nvme"], "iovmm", "exits_per_op")
assert 1.9 <= e <= 2.2, "emulated NVMe: %s exits per command, expected SQ + CQ doorbell" % e
for rid in ("loopback-virtio", "virtio-blk"):
    e = med(rows[rid], "iovmm", "exits_per_op")
    assert e < 0.05, "%s: %s exits per op, expected ioeventfd kicks" % (rid, e)
print("io.json checked")
PY
{ grep -q '^storage ' "$tmp/out" && grep -q '^network ' "$tmp/out"; } || fail "no table"
echo OK
