#!/bin/sh
# SPDX-License-Identifier: MIT
# Interop 2, cross-connect: two dpdk-testpmd virtio-user frontends on two
# iovmm-vswitch vhost-user ports paired 0:1. testpmd A transmits (txonly),
# testpmd B only receives; B must get A's frames, and the switch's counters
# must agree with both ends (every frame the switch took from A was either
# delivered to B or counted as a drop; B got exactly what was delivered).
#   testpmd-xconnect.sh VSWITCH
set -u
VSWITCH=$1
. "$(dirname "$0")/common.sh"
vsw_need_root
vsw_need_testpmd
vsw_hugepages 128

a=$VSW_TMP/a.sock b=$VSW_TMP/b.sock
vsw_switch vsw --port "vhost:$a" --port "vhost:$b,server" --mode xconnect \
	--xconnect 0:1 --stats-period 1
vsw_testpmd tpb "$b" rxonly
B=$VSW_LAST_PID
vsw_wait "$VSW_TMP/tpb.log" 'Rx-pps' 60 "$B" || vsw_fail "testpmd B did not start"
vsw_testpmd tpa "$a" txonly
A=$VSW_LAST_PID
vsw_wait "$VSW_TMP/tpa.log" 'Rx-pps' 60 "$A" || vsw_fail "testpmd A did not start"
# Until B has counted a good number of frames (bounded).
i=0
while [ "$i" -lt "$(integ_scale 30)" ]; do
	n=$(grep -Eo 'RX-packets: +[0-9]+' "$VSW_TMP/tpb.log" | tail -n 1 | grep -Eo '[0-9]+$')
	[ "${n:-0}" -ge 20000 ] && break
	sleep 1
	i=$((i + 1))
done
vsw_stop "$A"
sleep 1
vsw_stop "$B"
vsw_stop "$VSW_PID"
st=$?
[ "$st" -eq 0 ] || vsw_fail "iovmm-vswitch exited with $st after SIGINT"

a_tx=$(vsw_tp_count tpa TX-packets)
b_rx=$(vsw_tp_count tpb RX-packets)
s_rx0=$(vsw_final vsw 0 rx)
s_tx1=$(vsw_final vsw 1 tx)
s_drop1=$(vsw_final vsw 1 drops)
echo "testpmd A tx=$a_tx, switch port0 rx=$s_rx0 -> port1 tx=$s_tx1 drops=$s_drop1, testpmd B rx=$b_rx"
[ -n "$a_tx" ] && [ -n "$b_rx" ] && [ -n "$s_rx0" ] && [ -n "$s_tx1" ] ||
	vsw_fail "missing counters"
[ "$b_rx" -ge 20000 ] || vsw_fail "testpmd B received only $b_rx frames"
# A counts a frame once it is on its TX ring; frames still on the ring when
# A stopped were never taken (at most a ring: 1024 descriptors).
[ "$s_rx0" -le "$a_tx" ] && [ $((a_tx - s_rx0)) -le 1024 ] ||
	vsw_fail "switch took $s_rx0 frames, A sent $a_tx"
# Likewise B may stop with delivered frames still on its RX ring.
[ "$b_rx" -le "$s_tx1" ] && [ $((s_tx1 - b_rx)) -le 1024 ] ||
	vsw_fail "switch delivered $s_tx1 frames, B got $b_rx"
[ $((s_tx1 + s_drop1)) -eq "$s_rx0" ] || vsw_fail "frames unaccounted for in the switch"
echo OK
