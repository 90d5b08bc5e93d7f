#!/bin/sh
# SPDX-License-Identifier: MIT
# The control API end to end with `iovmm api` (docs/api.md):
#   roundtrip.sh IOVMM KIT
# 1. iovmm serve: create, boot, info, counters; pause in the middle of a
#    net-loopback run and resume: the kit's RESULT still counts every frame
#    (lost=0 corrupted=0 dup=0 reordered=0); the guest's own exit is seen;
#    a hostile ring (the kit's virtio-hostile) is a device-needs-reset event.
# 2. a VM that exits all the time (test=mmio): while paused its exit count
#    does not move, after resume it does; reboot: the kit boots and prints
#    again; shutdown; refused configs and hot-plug (501).
# 3. iovmm run --api-socket: the command line's VM in vm.info; vm.shutdown
#    ends the process (0); SIGTERM too (143), in order.
set -u
. "$(dirname "$0")/../wait.sh"
iovmm=$1 kit=$2
[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }

dir=$(mktemp -d)
sock=$dir/api.sock
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"
	rm -rf "$dir"
}
trap cleanup EXIT
api() { "$iovmm" api "$sock" "$@"; }
fail() {
	echo "FAIL: $*"
	for f in "$dir"/*.log "$dir"/*.out; do
		[ -f "$f" ] && { echo "--- $f"; cat "$f"; }
	done
	exit 1
}
# wait_api: until the socket answers (bounded), or the server died.
wait_api() {
	_i=0
	while [ "$_i" -lt "$(integ_scale 100)" ]; do
		api vmm.ping >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || fail "the API server exited"
		sleep 0.1
		_i=$((_i + 1))
	done
	fail "no answer on $sock"
}
# wait_state STATE: vm.info says so within 30 s (times the scale).
wait_state() {
	_i=0
	while [ "$_i" -lt "$(integ_scale 300)" ]; do
		api vm.info 2>/dev/null | grep -q "\"state\":\"$1\"" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	fail "vm.info never said $1: $(api vm.info 2>&1)"
}
# exits: the VM's exit counter from vm.counters (fails without a VM).
exits() {
	_c=$(api vm.counters) || fail "vm.counters: the VM is gone"
	echo "$_c" | sed -n 's/.*"exits":\([0-9]*\).*/\1/p'
}
# wait_exits_above N: the counter passes N within 30 s (times the scale).
wait_exits_above() {
	_i=0
	while [ "$_i" -lt "$(integ_scale 300)" ]; do
		[ "$(exits)" -gt "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	fail "the exit counter stayed at $(exits) (wanted > $1)"
}

"$iovmm" serve --api-socket "$sock" >"$dir/serve.log" 2>&1 &
pid=$!
wait_api
api vmm.ping | grep -q '"version"' || fail "vmm.ping"
api vm.info 2>"$dir/err.log" && fail "vm.info without a VM answered 2xx"
grep -q "HTTP 404" "$dir/err.log" || fail "vm.info without a VM: not 404"

# ---- 1: net-loopback across a pause ----
# A time window, not a count: the pause must land inside it on any host.
window_ms=$(integ_scale 4000)
api vm.create "{\"payload\":{\"kernel\":\"$kit\",\"cmdline\":\"test=net-loopback nic=virtio count=100000000 duration_ms=$window_ms size=64\"},
  \"memory\":{\"size\":268435456},\"serial\":{\"mode\":\"File\",\"file\":\"$dir/kit1.out\"},
  \"iovmm\":{\"net\":[\"virtio,backend=loopback\"]}}" || fail "vm.create"
wait_state Created
api vm.boot || fail "vm.boot"
wait_state Running
integ_wait "$dir/kit1.out" "iovmm-kit: boot" 10 "$pid" || fail "the kit did not start"
sleep 0.5
api vm.pause || fail "vm.pause"
wait_state Paused
grep -aq "^RESULT" "$dir/kit1.out" &&
	fail "the run ended before the pause"
c1=$(api vm.counters)
sleep 1
c2=$(api vm.counters)
[ "$c1" = "$c2" ] || fail "counters moved while paused: $c1 / $c2"
api vm.resume || fail "vm.resume"
integ_wait "$dir/kit1.out" "^RESULT test=net-loopback" "$(integ_scale 120)" "$pid" ||
	fail "no RESULT after resume"
result=$(grep -a "^RESULT test=net-loopback" "$dir/kit1.out")
echo "$result"
for kv in status=pass lost=0 corrupted=0 dup=0 reordered=0; do
	echo "$result" | grep -q " $kv" || fail "RESULT lacks $kv"
done
wait_state Shutdown
events=$(api 'iovmm.events?after=0&timeout=0')
for e in vm-booted vm-paused vm-resumed guest-exit; do
	echo "$events" | grep -q "\"type\":\"$e\"" || fail "no $e event: $events"
done

# ---- 1b: a hostile ring shows up as a device-needs-reset event ----
last=$(api 'iovmm.events?after=0&timeout=0' | sed -n 's/.*"last":\([0-9]*\).*/\1/p')
api vm.delete || fail "vm.delete"
api vm.create "{\"payload\":{\"kernel\":\"$kit\",\"cmdline\":\"test=virtio-hostile kind=oob\"},
  \"memory\":{\"size\":268435456},\"serial\":{\"mode\":\"File\",\"file\":\"$dir/kit1b.out\"},
  \"iovmm\":{\"net\":[\"virtio,backend=loopback\"]}}" || fail "vm.create hostile"
api vm.boot || fail "vm.boot hostile"
# Long-poll from the last event seen until the one we want (bounded).
i=0
until echo "${events:-}" | grep -q '"type":"device-needs-reset"'; do
	[ "$i" -lt 20 ] || fail "no device-needs-reset event: $events"
	events=$(api "iovmm.events?after=$last&timeout=$(integ_scale 5)")
	last=$(echo "$events" | sed -n 's/.*"last":\([0-9]*\).*/\1/p')
	i=$((i + 1))
done
echo "$events" | grep -o '"type":"device-needs-reset"[^}]*'
wait_state Shutdown
grep -aq "^RESULT test=virtio-hostile status=pass" "$dir/kit1b.out" ||
	fail "the hostile kit test did not pass"

# ---- 2: pause parks vCPUs; reboot reloads the kernel ----
api vm.delete || fail "vm.delete"
api vm.create '{"payload":{"kernel":"k"},"rng":{"src":"/dev/urandom"}}' 2>"$dir/err.log" &&
	fail "a config with rng was accepted"
grep -q "HTTP 400.*VmConfig.rng is not supported" "$dir/err.log" ||
	fail "rng: not a 400 naming the field: $(cat "$dir/err.log")"
api vm.create "{\"payload\":{\"kernel\":\"$kit\",\"cmdline\":\"test=mmio count=100000000\"},
  \"memory\":{\"size\":268435456},\"serial\":{\"mode\":\"File\",\"file\":\"$dir/kit2.out\"},
  \"iovmm\":{\"device\":[\"pci-testdev\"]}}" || fail "vm.create mmio"
api vm.boot || fail "vm.boot mmio"
wait_exits_above 2000
api vm.pause || fail "vm.pause mmio"
e1=$(exits)
sleep 0.5
e2=$(exits)
[ "$e1" = "$e2" ] || fail "exits moved while paused: $e1 -> $e2"
api vm.resume || fail "vm.resume mmio"
wait_exits_above "$e2"
api vm.reboot || fail "vm.reboot"
i=0
while [ "$(grep -ac "iovmm-kit: boot" "$dir/kit2.out")" -lt 2 ]; do
	[ "$i" -lt "$(integ_scale 300)" ] || fail "the kit did not boot again"
	sleep 0.1
	i=$((i + 1))
done
api vm.counters | grep -q '"reboots":1' || fail "reboots != 1"
wait_exits_above 2000
api vm.add-device '{"path":"/sys/bus/pci/devices/0000:00:01.0"}' 2>"$dir/err.log" &&
	fail "vm.add-device answered 2xx"
grep -q "HTTP 501" "$dir/err.log" || fail "vm.add-device: not 501"
api vm.shutdown || fail "vm.shutdown"
wait_state Shutdown
api vmm.shutdown || fail "vmm.shutdown"
wait "$pid"
st=$?
pid=""
[ "$st" -eq 0 ] || fail "serve exited $st after vmm.shutdown"
[ -e "$sock" ] && fail "the socket file is left behind"

# ---- 3: iovmm run --api-socket ----
for how in vm.shutdown SIGTERM; do
	"$iovmm" run --kernel "$kit" --mem 256M --device pci-testdev \
		--serial "file:$dir/kit3.out" --cmdline "test=mmio count=100000000" \
		--api-socket "$sock" >"$dir/run.log" 2>&1 &
	pid=$!
	wait_api
	wait_state Running
	api vm.info | grep -q '"device":\["pci-testdev"\]' ||
		fail "run's vm.info lacks its device: $(api vm.info)"
	want=0
	if [ "$how" = SIGTERM ]; then
		kill -TERM "$pid"
		want=143
	else
		api vm.shutdown || fail "run: vm.shutdown"
	fi
	wait "$pid"
	st=$?
	pid=""
	[ "$st" -eq "$want" ] || fail "run --api-socket after $how exited $st, not $want"
done
echo "OK: API round trip"
