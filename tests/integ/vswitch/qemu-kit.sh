#!/bin/sh
# SPDX-License-Identifier: MIT
# Interop 3: QEMU's vhost-user-net frontend running the guest kit, its
# rings served by iovmm-vswitch with the port cross-connected to itself
# (loopback): net-loopback must get every frame back intact, and the
# switch must have forwarded exactly what the guest sent.
#   qemu-kit.sh VSWITCH KIT [DEVICE_OPTS] [-- KIT_PARAMS...]
# DEVICE_OPTS are appended to "virtio-net-pci,netdev=n0,disable-legacy=on"
# (e.g. ",packed=on"). QEMU's guest RAM must be a shared memfd so the
# switch can map it.
set -u
VSWITCH=$1 kit=$2
shift 2
devopts=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	devopts=$1
	shift
fi
[ $# -gt 0 ] && shift
. "$(dirname "$0")/common.sh"
params="test=net-loopback nic=virtio timeout_ms=$(integ_scale 3000) $*"
vsw_need_root
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null 2>&1 || vsw_skip "$qemu not installed"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || vsw_skip "/dev/kvm not accessible"
[ -f "$kit" ] || vsw_fail "guest kit $kit not built"

sock=$VSW_TMP/q.sock
vsw_switch vsw --port "vhost:$sock" --mode loopback
timeout -k 5 "$(integ_scale 90)" "$qemu" -accel kvm -M microvm,pcie=on,memory-backend=mem \
	-object memory-backend-memfd,id=mem,size=256M,share=on -m 256 \
	-chardev "socket,id=c0,path=$sock" -netdev vhost-user,id=n0,chardev=c0 \
	-device "virtio-net-pci,netdev=n0,disable-legacy=on$devopts" \
	-nographic -no-reboot -nodefaults -serial stdio -kernel "$kit" \
	-append "$params" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	>"$VSW_TMP/qemu.log" 2>&1 </dev/null
st=$?
vsw_stop "$VSW_PID" || vsw_fail "iovmm-vswitch did not exit cleanly"
grep -v "host doesn't support requested feature" "$VSW_TMP/qemu.log"
result=$(grep '^RESULT test=net-loopback ' "$VSW_TMP/qemu.log" | tail -n 1)
[ "$st" -eq 1 ] || vsw_fail "QEMU exited with $st (expected 1: kit pass)"
echo "$result" | grep -q ' status=pass' || vsw_fail "no passing RESULT line"
rx=$(vsw_final vsw 0 rx)
tx=$(vsw_final vsw 0 tx)
drops=$(vsw_final vsw 0 drops)
count=$(echo "$result" | sed -n 's/.* count=\([0-9]*\).*/\1/p')
echo "switch: rx=$rx tx=$tx drops=$drops (kit count=$count)"
[ "${drops:-1}" -eq 0 ] || vsw_fail "the switch dropped frames"
[ "${rx:-0}" -eq "${tx:-1}" ] || vsw_fail "switch rx != tx"
# The kit's warm-up round trip and the counted frames all went through.
[ "${rx:-0}" -gt "${count:-0}" ] || vsw_fail "the switch forwarded fewer frames than the kit counted"
echo OK
