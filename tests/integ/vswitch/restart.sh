#!/bin/sh
# SPDX-License-Identifier: MIT
# Interop 5 with iovmm-vswitch as the back end: an iovmm guest runs the
# kit's net-loopback through the switch (loopback mode) while the switch is
# killed with SIGKILL and started again, twice. The guest must keep
# running, traffic must resume after each restart (the kit's resumed=1),
# and no frame may be corrupted, duplicated or reordered (allow_loss=1
# tolerates only loss during the outages). The restarted switch finds its
# dead predecessor's socket file and reuses it (nobody listens on it).
# The traffic window (duration_ms) and every wait are stretched by
# IOVMM_TIME_SCALE: in the lab's TCG L1 a new switch takes 10 s or more
# to come up.   restart.sh VSWITCH IOVMM KIT
set -u
VSWITCH=$1 iovmm=$2 kit=$3
. "$(dirname "$0")/common.sh"
vsw_need_root
[ -r /dev/kvm ] && [ -w /dev/kvm ] || vsw_skip "/dev/kvm not accessible"
[ -f "$kit" ] || vsw_fail "guest kit $kit not built"

sock=$VSW_TMP/s.sock
vsw_switch vsw1 --port "vhost:$sock" --mode loopback --stats-period 0.25
vsw_start guest timeout -k 5 "$(integ_scale 120)" "$iovmm" run --kernel "$kit" --mem 256M \
	--net "vhost-user,socket=$sock" --stats --cmdline "test=net-loopback \
nic=virtio count=100000000 duration_ms=$(integ_scale 8000) allow_loss=1 \
loss_ms=$(integ_scale 1000) timeout_ms=$(integ_scale 20000)"
G=$VSW_LAST_PID

# forwarded LOG: port 0's rx in the latest statistics line of LOG.
forwarded() {
	grep '^vswitch-stats: .* port=0 ' "$VSW_TMP/$1.log" | tail -n 1 |
		sed -n 's/.* rx=\([0-9]*\).*/\1/p'
}
# Until switch LOG has forwarded at least 2000 frames.
flowing() {
	_k=0
	while [ "$_k" -lt "$(integ_scale 300)" ]; do
		_f=$(forwarded "$1")
		[ "${_f:-0}" -ge 2000 ] && return 0
		kill -0 "$G" 2>/dev/null || return 1
		sleep 0.1
		_k=$((_k + 1))
	done
	return 1
}

flowing vsw1 || vsw_fail "no traffic through the first switch"
for n in 2 3; do
	kill -KILL "$VSW_PID"
	wait "$VSW_PID" 2>/dev/null
	VSW_PIDS=$(echo "$VSW_PIDS" | sed "s/ $VSW_PID\b//")
	echo "killed the switch after $(forwarded "vsw$((n - 1))") frames"
	t_kill=$(date +%s)
	sleep 0.3
	[ -S "$sock" ] || vsw_fail "expected the dead switch's socket file to remain"
	vsw_switch "vsw$n" --port "vhost:$sock" --mode loopback --stats-period 0.25
	flowing "vsw$n" || vsw_fail "traffic did not resume after restart $((n - 1))"
	echo "restart $((n - 1)): traffic resumed $(( $(date +%s) - t_kill )) s after the kill" \
		"(traffic window $(integ_scale 8) s in all)"
done
wait "$G"
st=$?
VSW_PIDS=$(echo "$VSW_PIDS" | sed "s/ $G\b//")
vsw_stop "$VSW_PID" || vsw_fail "the last switch did not exit cleanly"
grep -h '^RESULT\|^iovmm-stats' "$VSW_TMP/guest.log"
res=$(grep '^RESULT test=net-loopback ' "$VSW_TMP/guest.log")
[ "$st" -eq 1 ] && echo "$res" | grep -q ' status=pass' ||
	vsw_fail "the guest did not pass (status $st)"
for k in corrupted=0 dup=0 reordered=0 resumed=1; do
	echo "$res" | grep -q " $k" || vsw_fail "expected $k"
done
echo OK
