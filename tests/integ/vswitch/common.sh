# SPDX-License-Identifier: MIT
# Shared helpers for the iovmm-vswitch interop tests (sourced, POSIX sh).
# Every process a test starts is recorded and stopped on exit (by PID, INT
# then KILL); hugepages a test reserves are given back. Waits and time
# windows are stretched by IOVMM_TIME_SCALE (../wait.sh: integ_scale).

VSW_TMP=$(mktemp -d /tmp/vsw-test.XXXXXX)
VSW_PIDS=""
VSW_HUGE_OLD=""
VSW_NR=/proc/sys/vm/nr_hugepages

vsw_cleanup() {
	for _p in $VSW_PIDS; do
		kill -INT "$_p" 2>/dev/null
	done
	for _p in $VSW_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$_p" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$_p" 2>/dev/null
	done
	[ -n "$VSW_HUGE_OLD" ] && echo "$VSW_HUGE_OLD" >"$VSW_NR"
	rm -rf "$VSW_TMP"
}
trap vsw_cleanup EXIT
trap 'exit 1' INT TERM

vsw_skip() { echo "SKIP: $*"; exit 77; }
vsw_fail() {
	echo "FAIL: $*"
	for f in "$VSW_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $(basename "$f") (last 40 lines)"
		tail -n 40 "$f"
	done
	exit 1
}

vsw_need_root() {
	[ "$(id -u)" -eq 0 ] || vsw_skip "needs root (hugepages, sockets)"
}

vsw_need_testpmd() {
	command -v dpdk-testpmd >/dev/null 2>&1 || vsw_skip "dpdk-testpmd not installed"
}

# Reserves N more 2 MiB hugepages (virtio-user's memory must be fd-backed
# and shareable; testpmd --in-memory takes it from memfd hugetlb files, no
# hugetlbfs mount needed). The pool is restored on exit.
vsw_hugepages() {
	_n=$1
	[ -w "$VSW_NR" ] || vsw_skip "cannot reserve hugepages"
	grep -q '^Hugepagesize: *2048 kB' /proc/meminfo || vsw_skip "no 2 MiB hugepages"
	VSW_HUGE_OLD=$(cat "$VSW_NR")
	echo $((VSW_HUGE_OLD + _n)) >"$VSW_NR"
	_free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
	[ "$_free" -ge "$_n" ] || vsw_skip "the kernel gave only $_free free hugepages"
}

. "$(dirname "$0")/../wait.sh"
vsw_wait() { integ_wait "$@"; }

# vsw_start NAME CMD...: runs CMD in the background, output in NAME.log;
# sets VSW_LAST_PID.
vsw_start() {
	_name=$1
	shift
	"$@" >"$VSW_TMP/$_name.log" 2>&1 </dev/null &
	VSW_LAST_PID=$!
	VSW_PIDS="$VSW_PIDS $VSW_LAST_PID"
}

# vsw_stop PID: SIGINT and wait (up to 10 s, scaled, then SIGKILL);
# returns its status.
vsw_stop() {
	_pid=$1
	kill -INT "$_pid" 2>/dev/null
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ "$_i" -lt "$(integ_scale 100)" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$_pid" 2>/dev/null
	wait "$_pid"
	_st=$?
	VSW_PIDS=$(echo "$VSW_PIDS" | sed "s/ $_pid\b//")
	return $_st
}

# The switch: forwarding lcore on CPU 0, main lcore (it sleeps) on CPU 1.
# vsw_switch NAME APP_ARGS...; waits for "ready", sets VSW_PID.
vsw_switch() {
	_sw=$1
	shift
	vsw_start "$_sw" "$VSWITCH" --lcores '0@1,1@0' -- "$@"
	VSW_PID=$VSW_LAST_PID
	vsw_wait "$VSW_TMP/$_sw.log" '^iovmm-vswitch: ready' 20 "$VSW_PID" ||
		vsw_fail "iovmm-vswitch did not become ready"
}

# A virtio-user testpmd on SOCKET in MODE (txonly, rxonly, io, macswap);
# forwarding lcore on CPU 1. vsw_testpmd NAME SOCKET MODE [testpmd args].
vsw_testpmd() {
	_tp=$1 _sock=$2 _mode=$3
	shift 3
	vsw_start "$_tp" dpdk-testpmd --lcores '0@0,1@1' --no-pci -m 64 \
		--in-memory --single-file-segments --file-prefix="vsw$$$_tp" \
		--vdev "net_virtio_user0,path=$_sock,queues=1" -- \
		--nb-cores=1 --forward-mode="$_mode" --stats-period 1 \
		--total-num-mbufs=4096 "$@"
}

# Last "KEY: N" value of testpmd's accumulated port statistics in a log.
vsw_tp_count() {
	grep -Eo "$2: +[0-9]+" "$VSW_TMP/$1.log" | tail -n 1 | grep -Eo '[0-9]+$'
}

# KEY=VALUE from the last "vswitch-final: ... port=PORT ..." line.
vsw_final() {
	grep "^vswitch-final: .* port=$2 " "$VSW_TMP/$1.log" | tail -n 1 |
		tr ' ' '\n' | sed -n "s/^$3=//p"
}
