#!/bin/sh
# SPDX-License-Identifier: MIT
# The API's vm.pause / vm.resume with a vhost-user back end (dpdk-testpmd's
# vhost PMD, io forwarding): the guest kit's net-loopback is paused in the
# middle of its traffic window and resumed. The rings are left to the back
# end during the pause (docs/api.md): it completes what the guest posted
# before, the parked guest posts nothing new. Every frame must come back,
# intact, in order, once (no allow_loss), and the kit must see it pass.
#   pause.sh IOVMM KIT
set -u
. "$(dirname "$0")/common.sh"
vhu_init "$1" "$2"
sock=$VHU_TMP/vh.sock
api=$VHU_TMP/api.sock
window_s=$(integ_scale 6)

vhu_testpmd_server tp "$sock" 1
# shellcheck disable=SC2086
$VHU_PIN timeout "$(integ_scale 120)" "$IOVMM" run --kernel "$KIT" --mem 256M \
	--net "vhost-user,socket=$sock" --api-socket "$api" \
	--cmdline "test=net-loopback nic=virtio count=100000000 size=64 duration_ms=$((window_s * 1000)) timeout_ms=$(integ_scale 5000)" \
	</dev/null >"$VHU_TMP/vm.log" 2>&1 &
vm=$!
VHU_PIDS="$VHU_PIDS $vm"

i=0
while :; do
	rx=$(vhu_rx_packets "$VHU_TMP/tp.log")
	[ -n "$rx" ] && [ "$rx" -gt 0 ] && break
	kill -0 "$vm" 2>/dev/null || vhu_fail "iovmm ended before any traffic"
	i=$((i + 1))
	[ "$i" -lt "$(integ_scale 300)" ] || vhu_fail "no traffic after $(integ_scale 30) s"
	sleep 0.1
done
"$IOVMM" api "$api" vm.pause || vhu_fail "vm.pause"
"$IOVMM" api "$api" vm.info | grep -q '"state":"Paused"' || vhu_fail "not Paused"
grep -aq "^RESULT" "$VHU_TMP/vm.log" && vhu_fail "the run ended before the pause"
sleep 1
"$IOVMM" api "$api" vm.resume || vhu_fail "vm.resume"
wait "$vm"
status=$?
result=$(grep -a "^RESULT test=net-loopback " "$VHU_TMP/vm.log" | tail -n 1)
echo "$result"
[ "$status" -eq 1 ] || vhu_fail "iovmm exited with $status (want 1: kit pass)"
for kv in status=pass lost=0 corrupted=0 dup=0 reordered=0; do
	echo "$result" | grep -q " $kv" || vhu_fail "RESULT lacks $kv"
done
echo "OK"
