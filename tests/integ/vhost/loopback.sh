#!/bin/sh
# SPDX-License-Identifier: MIT
# Interop 1: the guest kit's net-loopback through iovmm's vhost-user
# front-end, served by dpdk-testpmd's vhost PMD in io forwarding (each frame
# goes back out of the port it came in): every frame must come back intact,
# in order, once. The data path never enters iovmm: kicks are KVM
# ioeventfds read by testpmd, the kit polls with interrupts suppressed, so
# userspace exits per packet must be ~0 (what remains is boot).
#   loopback.sh IOVMM KIT SIZE COUNT [QUEUES]
set -u
. "$(dirname "$0")/common.sh"
vhu_init "$1" "$2"
size=$3 count=$4 queues=${5:-1}
sock=$VHU_TMP/vh.sock

vhu_testpmd_server tp "$sock" "$queues"
# shellcheck disable=SC2086
$VHU_PIN timeout "$(integ_scale 120)" "$IOVMM" run --kernel "$KIT" --mem 256M --stats ${IOVMM_INTEG_RUN_OPTS:-} \
	--net "vhost-user,socket=$sock,queues=$queues" \
	--cmdline "test=net-loopback nic=virtio count=$count size=$size timeout_ms=$(integ_scale 3000)" \
	</dev/null >"$VHU_TMP/vm.log" 2>&1
status=$?
result=$(grep -a "^RESULT test=net-loopback " "$VHU_TMP/vm.log" | tail -n 1)
stats=$(grep -a "^iovmm-stats:" "$VHU_TMP/vm.log" | tail -n 1)
echo "$result"
[ "$status" -eq 1 ] || vhu_fail "iovmm exited with $status (want 1: kit pass)"
echo "$result" | grep -q " status=pass" || vhu_fail "net-loopback did not pass"
exits=$(vhu_kv "$stats" exits)
[ -n "$exits" ] || vhu_fail "no exit count in: $stats"
echo "exits=$exits count=$count exits_per_pkt=$(awk "BEGIN {printf \"%.5f\", $exits / $count}")" \
	"pps=$(vhu_kv "$result" pps) doorbells=$(vhu_kv "$result" doorbells)"
# Boot and PCI setup cost a few hundred exits; the frames none.
[ "$exits" -le $((1000 + count / 1000)) ] ||
	vhu_fail "too many userspace exits ($exits for $count frames)"
echo "OK"
