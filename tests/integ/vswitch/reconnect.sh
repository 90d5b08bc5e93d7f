#!/bin/sh
# SPDX-License-Identifier: MIT
# Ports come and go while the switch forwards: two virtio-user testpmds on
# a cross-connected pair, A transmitting, B receiving. Each side in turn is
# killed with SIGKILL mid-traffic (its device is destroyed while the
# forwarding lcore is polling or transmitting to it: the RCU quiescence
# path) and started again; traffic must resume every time and the switch
# must stay up, then exit cleanly.
#   reconnect.sh VSWITCH
set -u
VSWITCH=$1
. "$(dirname "$0")/common.sh"
vsw_need_root
vsw_need_testpmd
vsw_hugepages 128

a=$VSW_TMP/a.sock b=$VSW_TMP/b.sock
vsw_switch vsw --port "vhost:$a" --port "vhost:$b" --mode xconnect --stats-period 0.5

# Port 1's tx counter (frames delivered to B) from the latest stats line.
delivered() {
	grep '^vswitch-stats: .* port=1 ' "$VSW_TMP/vsw.log" | tail -n 1 |
		sed -n 's/.* tx=\([0-9]*\).*/\1/p'
}
# Waits until delivered() grows by at least 1000 frames over $1.
flowing() {
	_j=0
	while [ "$_j" -lt "$(integ_scale 300)" ]; do
		_d=$(delivered)
		[ "${_d:-0}" -ge $(($1 + 1000)) ] && return 0
		sleep 0.1
		_j=$((_j + 1))
	done
	return 1
}
start_b() {
	vsw_testpmd "tpb$1" "$b" rxonly
	B=$VSW_LAST_PID
	vsw_wait "$VSW_TMP/tpb$1.log" 'Rx-pps' 60 "$B" || vsw_fail "testpmd B did not start"
}
start_a() {
	vsw_testpmd "tpa$1" "$a" txonly
	A=$VSW_LAST_PID
	vsw_wait "$VSW_TMP/tpa$1.log" 'Rx-pps' 60 "$A" || vsw_fail "testpmd A did not start"
}

start_b 1
start_a 1
flowing 0 || vsw_fail "no traffic at first"
echo "traffic flows: $(delivered) frames delivered"
for round in 2 3; do
	kill -KILL "$A"
	wait "$A" 2>/dev/null
	start_a "$round"
	base=$(delivered)
	flowing "$base" || vsw_fail "no traffic after A came back (round $round)"
	echo "A restarted: $(delivered) frames delivered"
	kill -KILL "$B"
	wait "$B" 2>/dev/null
	start_b "$round"
	base=$(delivered)
	flowing "$base" || vsw_fail "no traffic after B came back (round $round)"
	echo "B restarted: $(delivered) frames delivered"
done
kill -0 "$VSW_PID" 2>/dev/null || vsw_fail "iovmm-vswitch died"
vsw_stop "$A"
vsw_stop "$B"
vsw_stop "$VSW_PID" || vsw_fail "iovmm-vswitch did not exit cleanly"
c0=$(vsw_final vsw 0 connects)
c1=$(vsw_final vsw 1 connects)
echo "connects: port0=$c0 port1=$c1"
[ "$c0" -eq 3 ] && [ "$c1" -eq 3 ] || vsw_fail "expected 3 connections per port"
echo OK
