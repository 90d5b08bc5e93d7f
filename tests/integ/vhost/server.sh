#!/bin/sh
# SPDX-License-Identifier: MIT
# The front-end as the listening side: iovmm --net vhost-user,server waits
# for the back end (dpdk-testpmd's vhost PMD in client mode) before the
# guest starts; then net-loopback must pass. A testpmd restart is a
# reconnection from its side.   server.sh IOVMM KIT
set -u
. "$(dirname "$0")/common.sh"
vhu_init "$1" "$2"
sock=$VHU_TMP/vh.sock

# shellcheck disable=SC2086
$VHU_PIN timeout "$(integ_scale 120)" "$IOVMM" run --kernel "$KIT" --mem 256M --stats ${IOVMM_INTEG_RUN_OPTS:-} \
	--net "vhost-user,socket=$sock,server" \
	--cmdline "test=net-loopback nic=virtio count=50000 size=64 timeout_ms=$(integ_scale 3000)" \
	</dev/null >"$VHU_TMP/vm.log" 2>&1 &
vm=$!
VHU_PIDS="$VHU_PIDS $vm"
vhu_wait "$VHU_TMP/vm.log" "waiting for a vhost-user back end" 20 "$vm" ||
	vhu_fail "iovmm did not wait for its back end"
[ -S "$sock" ] || vhu_fail "no listening socket at $sock"
grep -aq "RESULT" "$VHU_TMP/vm.log" && vhu_fail "the guest ran without a back end"
vhu_testpmd tp "iface=$sock,queues=1,client=1"
wait "$vm"
status=$?
result=$(grep -a "^RESULT test=net-loopback " "$VHU_TMP/vm.log" | tail -n 1)
echo "$result"
[ "$status" -eq 1 ] || vhu_fail "iovmm exited with $status (want 1: kit pass)"
echo "$result" | grep -q " status=pass" || vhu_fail "net-loopback did not pass"
[ -e "$sock" ] && vhu_fail "iovmm left its socket file behind"
echo "OK"
