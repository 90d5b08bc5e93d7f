#!/bin/sh
# SPDX-License-Identifier: MIT
# Kernel vhost-net end to end: the guest kit's net-loopback over
# `--net virtio,backend=tap:T,vhost=on` through the in-kernel tap reflector
# (scripts/tap-reflector.sh), so no process touches a frame:
#   1. 300 frames come back intact, and the reflector sent them;
#   2. per frame, iovmm takes no userspace exit and its I/O thread does no
#      work: the differences of `iovmm run --stats` (exits, io_events)
#      between a 300- and a 1500-frame run, against the same 1500 frames on
#      virtio-net served by iovmm (whose I/O thread handles every kick and
#      every received batch);
#   3. a malformed ring (virtio-hostile kind=oob: a TX buffer outside RAM)
#      makes the kernel report a ring error, the device sets NEEDS_RESET,
#      the driver resets it (rings stopped: backend detached,
#      VHOST_GET_VRING_BASE) and re-initialises, and a round trip works;
#   4. QEMU's peer row: -netdev tap,vhost=on on the same tap, same test.
# Where this host has no /dev/vhost-net the test runs itself inside the
# lab's L1 (tests/nested/run.sh: Debian's kernel with vhost_net loaded).
#   vhost-net.sh BUILD IOVMM KIT
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/wait.sh"
build=$1 iovmm=$2 kit=$3
reflector=$here/../../scripts/tap-reflector.sh
small=300 big=1500

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
command -v ip >/dev/null && command -v tc >/dev/null ||
	{ echo "SKIP: iproute2 (ip, tc) missing"; exit 77; }
if [ ! -c /dev/vhost-net ]; then
	[ "${IOVMM_L1:-}" = 1 ] && { echo "FAIL: no /dev/vhost-net in L1"; exit 1; }
	echo "vhost-net: no /dev/vhost-net here: running in the lab's L1"
	exec "$here/../nested/run.sh" --build "$build" --timeout 400 -- \
		"$here/vhost-net.sh" "$build" "$iovmm" "$kit"
fi
[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }

ns=iovmm-vhn-$$
tap=vhn$$
tmp=$(mktemp -d)
trap '"$reflector" down "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}
"$reflector" up "$ns" "$tap" || fail "no tap reflector"
tmo=$(integ_scale_max 3000 600000)

# run NAME NET KIT_PARAMS: iovmm in the namespace, log in $tmp/NAME.log;
# fails unless the kit test passed (exit status 1).
run() {
	ip netns exec "$ns" timeout "$(integ_scale 90)" "$iovmm" run --stats \
		--kernel "$kit" --mem 256M --net "$2" --cmdline "$3 timeout_ms=$tmo" \
		</dev/null >"$tmp/$1.log" 2>&1
	st=$?
	grep -E '^(RESULT|iovmm-stats)' "$tmp/$1.log"
	[ "$st" -eq 1 ] && grep -q '^RESULT test=[a-z-]* status=pass' "$tmp/$1.log" ||
		{ cat "$tmp/$1.log"; fail "$1: the kit test did not pass (status $st)"; }
}
# stat NAME KEY: a number from the run's iovmm-stats line.
stat() {
	sed -n "s/^iovmm-stats:.* $2=\([0-9]*\).*/\1/p" "$tmp/$1.log"
}
reflected() {
	"$reflector" stats "$ns" "$tap" | sed -n 's/.*reflected=\([0-9]*\).*/\1/p'
}
loop="test=net-loopback nic=virtio size=128 batch=8 dst=bcast"

# 1. Every frame back intact, through the kernel only.
r0=$(reflected)
run vhost-small "virtio,backend=tap:$tap,vhost=on" "$loop count=$small"
r1=$(reflected)
[ $((r1 - r0)) -ge "$small" ] ||
	fail "the kernel reflected $((r1 - r0)) frames, fewer than $small"
grep -q "started on the kernel's vhost-net" "$tmp/vhost-small.log" ||
	fail "iovmm did not hand the rings to vhost-net"

# 2. Per frame: exits and I/O-thread events.
run vhost-big "virtio,backend=tap:$tap,vhost=on" "$loop count=$big"
run virtio-big "virtio,backend=tap:$tap" "$loop count=$big"
n=$((big - small))
dx=$(($(stat vhost-big exits) - $(stat vhost-small exits)))
dio=$(($(stat vhost-big io_events) - $(stat vhost-small io_events)))
vio=$(stat virtio-big io_events)
awk -v dx="$dx" -v dio="$dio" -v n="$n" -v vio="$vio" -v big="$big" 'BEGIN {
	printf "vhost-net: exits/frame %.4f, io_events/frame %.4f (differences over %d frames)\n", dx / n, dio / n, n
	printf "virtio-net in iovmm: io_events/frame %.4f (%d frames)\n", vio / big, big
	# ~0 per frame: at most one exit or event per 100 frames on vhost-net,
	# and at least ten times fewer I/O-thread events than iovmm serving
	# the same rings itself.
	exit !(dx <= n / 100 && dio <= n / 100 && dio / n * 10 < vio / big)
}' || fail "vhost-net frames cost iovmm exits or I/O-thread work"

# 3. A kernel ring error, reset and re-initialisation.
run hostile "virtio,backend=tap:$tap,vhost=on" "test=virtio-hostile kind=oob"
grep -q 'needs_reset=1' "$tmp/hostile.log" || fail "no NEEDS_RESET after the ring error"
[ "$(grep -c "started on the kernel's vhost-net" "$tmp/hostile.log")" -ge 2 ] ||
	fail "the rings were not started again after the reset"

# 4. QEMU's vhost-net on the same tap.
if command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1; then
	ip netns exec "$ns" "$here/qemu/run-kit.sh" --timeout 90 -M microvm,pcie=on \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=on" \
		-device virtio-net-pci,netdev=n0,disable-legacy=on -- \
		"$kit" net-loopback nic=virtio count=$small size=128 batch=8 dst=bcast \
		"timeout_ms=$tmo" || fail "QEMU with -netdev tap,vhost=on"
else
	echo "vhost-net: no QEMU here: its peer row not run"
fi
echo OK
