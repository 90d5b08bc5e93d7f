#!/bin/sh
# SPDX-License-Identifier: MIT
# An ethdev port: the guest kit under QEMU on a vhost-user port, cross-
# connected to a DPDK net_tap port whose kernel side (in a network
# namespace this test creates) reflects every frame back in the kernel
# (scripts/tap-reflector.sh attach: tc mirred). net-loopback must get every
# frame back.
#   eth-tap.sh VSWITCH KIT
set -u
VSWITCH=$1 kit=$2
. "$(dirname "$0")/common.sh"
vsw_need_root
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null 2>&1 || vsw_skip "$qemu not installed"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || vsw_skip "/dev/kvm not accessible"
[ -c /dev/net/tun ] || vsw_skip "no /dev/net/tun"
command -v ip >/dev/null 2>&1 || vsw_skip "iproute2 missing"
[ -f "$kit" ] || vsw_fail "guest kit $kit not built"

ns=vsw-tap-$$
tap=vswt$$
ip netns add "$ns" || vsw_fail "cannot create a network namespace"
trap 'ip netns del "$ns" 2>/dev/null; vsw_cleanup' EXIT
# The kernel's own IPv6 frames would reach the guest as foreign frames.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1

sock=$VSW_TMP/q.sock
vsw_start vsw ip netns exec "$ns" "$VSWITCH" --lcores '0@1,1@0' -- \
	--port "vhost:$sock" --port "eth:net_tap0,iface=$tap" --mode xconnect
VSW_PID=$VSW_LAST_PID
vsw_wait "$VSW_TMP/vsw.log" '^iovmm-vswitch: ready' 30 "$VSW_PID" ||
	vsw_fail "iovmm-vswitch did not become ready"
ip -n "$ns" link set "$tap" up || vsw_fail "no tap device $tap"
"$(dirname "$0")/../../../scripts/tap-reflector.sh" attach "$ns" "$tap" ||
	vsw_fail "cannot attach the tc reflector to $tap"

timeout -k 5 "$(integ_scale 90)" "$qemu" -accel kvm -M microvm,pcie=on,memory-backend=mem \
	-object memory-backend-memfd,id=mem,size=256M,share=on -m 256 \
	-chardev "socket,id=c0,path=$sock" -netdev vhost-user,id=n0,chardev=c0 \
	-device virtio-net-pci,netdev=n0,disable-legacy=on \
	-nographic -no-reboot -nodefaults -serial stdio -kernel "$kit" \
	-append "test=net-loopback nic=virtio count=300 size=128 batch=8 dst=bcast timeout_ms=$(integ_scale 3000)" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	>"$VSW_TMP/qemu.log" 2>&1 </dev/null
st=$?
grep '^RESULT' "$VSW_TMP/qemu.log"
[ "$st" -eq 1 ] || vsw_fail "QEMU exited with $st (expected 1: kit pass)"
grep -q '^RESULT test=net-loopback status=pass' "$VSW_TMP/qemu.log" ||
	vsw_fail "no passing RESULT line"
vsw_stop "$VSW_PID" || vsw_fail "iovmm-vswitch did not exit cleanly"
grep '^vswitch-final:' "$VSW_TMP/vsw.log"
rx1=$(vsw_final vsw 1 rx)
[ "${rx1:-0}" -ge 300 ] || vsw_fail "the tap port received only ${rx1:-0} frames"
echo OK
