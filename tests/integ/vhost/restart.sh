#!/bin/sh
# SPDX-License-Identifier: MIT
# Interop 5: kill -9 the vhost-user back end (dpdk-testpmd, or
# iovmm-vswitch in loopback mode when VSWITCH is given) while the guest
# kit's net-loopback is running and start a new one on the same socket.
# The guest must keep running, iovmm must reconnect (link down, back-off,
# everything sent again, rings resumed at the guest's used index) and the
# traffic must resume: frames in flight may be lost (allow_loss=1), but no
# frame may arrive twice, damaged or out of order, and the last frame sent
# must come back. The traffic window (duration_ms) and every wait are
# stretched by IOVMM_TIME_SCALE: in the lab's TCG L1 a new DPDK back end
# takes 10-12 s to come up, longer than the 8 s window.
#   restart.sh IOVMM KIT [SIZE [VSWITCH]]
set -u
. "$(dirname "$0")/common.sh"
vhu_init "$1" "$2"
size=${3:-64}
vswitch=${4:-}
sock=$VHU_TMP/vh.sock
window_s=$(integ_scale 8)

# backend NAME: start the back end (server side of the socket); sets TP_PID.
backend() {
	if [ -z "$vswitch" ]; then
		vhu_testpmd_server "$1" "$sock" 1
		return
	fi
	rm -f "$sock"
	"$vswitch" --lcores "$VHU_LCORES" -- --port "vhost:$sock,server" \
		--mode loopback --stats-period 1 </dev/null >"$VHU_TMP/$1.log" 2>&1 &
	TP_PID=$!
	VHU_PIDS="$VHU_PIDS $TP_PID"
	vhu_wait "$VHU_TMP/$1.log" "^iovmm-vswitch: ready" 20 "$TP_PID" ||
		vhu_fail "iovmm-vswitch $1 did not become ready"
}

# flowing NAME: frames went through back end NAME.
flowing() {
	if [ -z "$vswitch" ]; then
		_rx=$(vhu_rx_packets "$VHU_TMP/$1.log")
		[ -n "$_rx" ] && [ "$_rx" -gt 0 ]
		return
	fi
	# The switch's own counters; else: rings up and the warm-up done.
	grep -aEq "rx[= :]+[1-9]" "$VHU_TMP/$1.log" && return 0
	grep -aq "vring(s) started" "$VHU_TMP/vm.log" && [ "$i" -gt 20 ]
}

[ -z "$vswitch" ] || [ -x "$vswitch" ] || vhu_skip "iovmm-vswitch not built"
backend a
first=$TP_PID
# shellcheck disable=SC2086
$VHU_PIN timeout "$(integ_scale 120)" "$IOVMM" run --kernel "$KIT" --mem 256M --stats ${IOVMM_INTEG_RUN_OPTS:-} \
	--net "vhost-user,socket=$sock" \
	--cmdline "test=net-loopback nic=virtio count=100000000 size=$size allow_loss=1 duration_ms=$((window_s * 1000)) timeout_ms=$(integ_scale 30000)" \
	</dev/null >"$VHU_TMP/vm.log" 2>&1 &
vm=$!
VHU_PIDS="$VHU_PIDS $vm"

# Kill the back end once frames are flowing through it.
i=0
while ! flowing a; do
	kill -0 "$vm" 2>/dev/null || vhu_fail "iovmm ended before any traffic"
	i=$((i + 1))
	[ "$i" -lt "$(integ_scale 300)" ] ||
		vhu_fail "no traffic through the back end after $(integ_scale 30) s"
	sleep 0.1
done
echo "frames are flowing through back end a; kill -9"
t_kill=$(date +%s)
kill -KILL "$first"
while kill -0 "$first" 2>/dev/null; do sleep 0.05; done
vhu_wait "$VHU_TMP/vm.log" "link down" 10 "$vm" ||
	vhu_fail "iovmm did not notice the back end going away"
kill -0 "$vm" 2>/dev/null || vhu_fail "the guest did not survive the back end"
sleep 0.3
backend b
echo "back end b listening $(( $(date +%s) - t_kill )) s after the kill (traffic window ${window_s} s)"

wait "$vm"
status=$?
sleep 1.2 # one more testpmd stats period
result=$(grep -a "^RESULT test=net-loopback " "$VHU_TMP/vm.log" | tail -n 1)
echo "$result"
grep -a "vhost-user-net" "$VHU_TMP/vm.log" | head -n 12
[ "$status" -eq 1 ] || vhu_fail "iovmm exited with $status (want 1: kit pass)"
echo "$result" | grep -q " status=pass" || vhu_fail "net-loopback did not pass"
for k in corrupted dup reordered; do
	[ "$(vhu_kv "$result" $k)" = 0 ] || vhu_fail "$k frames after the restart"
done
[ "$(vhu_kv "$result" resumed)" = 1 ] || vhu_fail "traffic did not resume"
grep -aq "back end connected" "$VHU_TMP/vm.log" || vhu_fail "no reconnection logged"
# The kit's resumed=1 already proves frames went through back end b.
echo "lost=$(vhu_kv "$result" lost) of sent=$(vhu_kv "$result" sent)"
echo "OK"
