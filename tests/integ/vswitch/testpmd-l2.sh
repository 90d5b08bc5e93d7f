#!/bin/sh
# SPDX-License-Identifier: MIT
# Interop 2, L2 learning: three dpdk-testpmd virtio-user frontends on an
# iovmm-vswitch in l2 mode. A and B run macswap (each sends every frame
# back with source and destination swapped), A starts with one burst to an
# unknown unicast address; C only receives.
# The first burst is unknown unicast and must be flooded to B and C; from
# then on both stations are learned and the ping-pong between A and B is
# unicast, so C sees nothing more. Pass: A and B exchange many frames, C got
# the flooded burst but no more, the switch knows both MACs.
#   testpmd-l2.sh VSWITCH
set -u
VSWITCH=$1
. "$(dirname "$0")/common.sh"
vsw_need_root
vsw_need_testpmd
vsw_hugepages 192
want=2000

a=$VSW_TMP/a.sock b=$VSW_TMP/b.sock c=$VSW_TMP/c.sock
vsw_switch vsw --port "vhost:$a" --port "vhost:$b" --port "vhost:$c" \
	--mode l2 --stats-period 1
vsw_testpmd tpc "$c" rxonly
C=$VSW_LAST_PID
vsw_testpmd tpb "$b" macswap
B=$VSW_LAST_PID
vsw_wait "$VSW_TMP/tpc.log" 'Rx-pps' 60 "$C" || vsw_fail "testpmd C did not start"
vsw_wait "$VSW_TMP/tpb.log" 'Rx-pps' 60 "$B" || vsw_fail "testpmd B did not start"
vsw_testpmd tpa "$a" macswap --tx-first
A=$VSW_LAST_PID
vsw_wait "$VSW_TMP/tpa.log" 'Rx-pps' 60 "$A" || vsw_fail "testpmd A did not start"
i=0
while [ "$i" -lt "$(integ_scale 40)" ]; do
	n=$(grep -Eo 'RX-packets: +[0-9]+' "$VSW_TMP/tpa.log" | tail -n 1 | grep -Eo '[0-9]+$')
	[ "${n:-0}" -ge "$want" ] && break
	sleep 1
	i=$((i + 1))
done
vsw_stop "$A"
vsw_stop "$B"
vsw_stop "$C"
vsw_stop "$VSW_PID" || vsw_fail "iovmm-vswitch did not exit cleanly"

a_rx=$(vsw_tp_count tpa RX-packets)
b_rx=$(vsw_tp_count tpb RX-packets)
c_rx=$(vsw_tp_count tpc RX-packets)
# Most MACs known at any time (a port going down forgets its stations).
macs=$(grep '^vswitch-stats: .* port=all ' "$VSW_TMP/vsw.log" |
	sed -n 's/.* macs=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
echo "A rx=$a_rx B rx=$b_rx C rx=$c_rx, MACs learned: $macs"
[ "${a_rx:-0}" -ge "$want" ] || vsw_fail "A received only ${a_rx:-0} frames"
[ "${b_rx:-0}" -ge "$want" ] || vsw_fail "B received only ${b_rx:-0} frames"
[ "${c_rx:-0}" -ge 1 ] || vsw_fail "C did not receive the flooded unknown-unicast burst"
# One burst of unknown unicast (testpmd --tx-first: 32 frames; allow a
# second burst if A's first was split).
[ "$c_rx" -le 64 ] || vsw_fail "C received $c_rx frames: unicast is being flooded"
[ "${macs:-0}" -eq 2 ] || vsw_fail "the switch knows ${macs:-0} MACs, expected 2"
echo OK
