#!/bin/sh
# SPDX-License-Identifier: MIT
# Interop 4: two iovmm guests on one iovmm-vswitch in l2 mode exchange
# frames. Guest B runs the kit's net-echo (every frame goes back to its
# sender, addresses swapped); guest A runs net-loopback peer=1: its warm-up
# broadcast is flooded to B, B's reply teaches both sides (and the switch)
# the stations, then every test frame is unicast A -> B -> A and checked
# byte by byte. Both guests use iovmm's vhost-user frontend
# (--net vhost-user), so no frame passes through either VMM.
#   iovmm-peers.sh VSWITCH IOVMM KIT [KIT_PARAMS...]
set -u
VSWITCH=$1 iovmm=$2 kit=$3
shift 3
. "$(dirname "$0")/common.sh"
vsw_need_root
[ -r /dev/kvm ] && [ -w /dev/kvm ] || vsw_skip "/dev/kvm not accessible"
[ -f "$kit" ] || vsw_fail "guest kit $kit not built"

mac_a=52:54:00:76:73:0a mac_b=52:54:00:76:73:0b
a=$VSW_TMP/a.sock b=$VSW_TMP/b.sock
vsw_switch vsw --port "vhost:$a" --port "vhost:$b" --mode l2 --stats-period 0.5
vsw_start guest_b timeout -k 5 "$(integ_scale 90)" "$iovmm" run --kernel "$kit" --mem 256M \
	--net "vhost-user,socket=$b,mac=$mac_b" --stats \
	--cmdline "test=net-echo timeout_ms=$(integ_scale 3000) peer_wait_ms=$(integ_scale_max 60000 600000)"
GB=$VSW_LAST_PID
vsw_start guest_a timeout -k 5 "$(integ_scale 90)" "$iovmm" run --kernel "$kit" --mem 256M \
	--net "vhost-user,socket=$a,mac=$mac_a" --stats \
	--cmdline "test=net-loopback peer=1 dst=self count=20000 timeout_ms=$(integ_scale 3000) $*"
GA=$VSW_LAST_PID
wait "$GA"
st_a=$?
wait "$GB"
st_b=$?
VSW_PIDS=$(echo "$VSW_PIDS" | sed "s/ $GA\b//; s/ $GB\b//")
vsw_stop "$VSW_PID" || vsw_fail "iovmm-vswitch did not exit cleanly"
grep -h '^RESULT\|^iovmm-stats' "$VSW_TMP/guest_a.log" "$VSW_TMP/guest_b.log"
res_a=$(grep '^RESULT test=net-loopback ' "$VSW_TMP/guest_a.log")
res_b=$(grep '^RESULT test=net-echo ' "$VSW_TMP/guest_b.log")
[ "$st_a" -eq 1 ] && echo "$res_a" | grep -q ' status=pass' ||
	vsw_fail "guest A (net-loopback peer=1): status $st_a"
[ "$st_b" -eq 1 ] && echo "$res_b" | grep -q ' status=pass' ||
	vsw_fail "guest B (net-echo): status $st_b"
echo "$res_a" | grep -q " peer=$mac_b" || vsw_fail "guest A did not learn B's MAC"
macs=$(grep '^vswitch-stats: .* port=all ' "$VSW_TMP/vsw.log" |
	sed -n 's/.* macs=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
grep '^vswitch-final:' "$VSW_TMP/vsw.log"
[ "${macs:-0}" -eq 2 ] || vsw_fail "the switch learned ${macs:-0} MACs, expected 2"
d0=$(vsw_final vsw 0 drops)
d1=$(vsw_final vsw 1 drops)
[ "$d0" -eq 0 ] && [ "$d1" -eq 0 ] || vsw_fail "the switch dropped frames"
echo OK
