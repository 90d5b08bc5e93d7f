# SPDX-License-Identifier: MIT
# Shared helpers for the iovmm vhost-user front-end interop tests (sourced,
# POSIX sh). Every process a test starts is recorded and stopped on exit by
# PID (INT, then KILL); the temporary directory goes with it. Waits and
# time windows are stretched by IOVMM_TIME_SCALE (../wait.sh: integ_scale).
#   usage in a test: . common.sh; vhu_init IOVMM KIT

VHU_TMP=$(mktemp -d /tmp/vhu-integ.XXXXXX)
VHU_PIDS=""

vhu_cleanup() {
	for _p in $VHU_PIDS; do
		kill -INT "$_p" 2>/dev/null
	done
	for _p in $VHU_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$_p" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$_p" 2>/dev/null
	done
	rm -rf "$VHU_TMP"
}
trap vhu_cleanup EXIT
trap 'exit 1' INT TERM

vhu_skip() { echo "SKIP: $*"; exit 77; }
vhu_fail() {
	echo "FAIL: $*"
	for f in "$VHU_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $(basename "$f") (last 30 lines)"
		grep -av '^ *$' "$f" | tail -n 30
	done
	exit 1
}

# vhu_init IOVMM KIT: checks what every test needs, or skips.
vhu_init() {
	IOVMM=$1 KIT=$2
	[ -r /dev/kvm ] || vhu_skip "/dev/kvm is not usable"
	[ "$(id -u)" -eq 0 ] || vhu_skip "needs root (DPDK runtime directory)"
	# iovmm run as another user (IOVMM_INTEG_RUN_OPTS='--user U'): it
	# must be able to reach a restarted back end's socket and remove its
	# own listening one, as a management layer would arrange: the
	# directory is U's and sockets made from here on are world-writable.
	_user=$(printf ' %s\n' "${IOVMM_INTEG_RUN_OPTS:-}" |
		sed -n 's/.* --user[= ]\([^ :]*\).*/\1/p')
	if [ -n "$_user" ]; then
		chown "$_user" "$VHU_TMP" || vhu_fail "chown $_user $VHU_TMP"
		umask 000
	fi
	command -v dpdk-testpmd >/dev/null 2>&1 || vhu_skip "dpdk-testpmd not installed"
	# One polling core per side where the machine has two: testpmd's
	# forwarding lcore on CPU 0, iovmm (its vCPU polls) on CPU 1.
	VHU_PIN=""
	if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
		VHU_PIN="taskset -c 1"
		VHU_LCORES="0@1,1@0"
	else
		VHU_LCORES="0@0,1@0"
	fi
}

. "$(dirname "$0")/../wait.sh"
vhu_wait() { integ_wait "$@"; }

# vhu_testpmd NAME VDEV_ARGS [TESTPMD_ARGS...]: dpdk-testpmd with a vhost
# PMD port (net_vhost0,VDEV_ARGS), io forwarding back out of the same port
# (--port-topology=loop: every frame returns unchanged), no hugepages (the
# guest memory comes from iovmm's memfd). Sets TP_PID, log in NAME.log.
vhu_testpmd() {
	_name=$1 _vdev=$2
	shift 2
	dpdk-testpmd --lcores "$VHU_LCORES" --no-pci --no-huge -m 256 \
		--file-prefix="vhu$$$_name" --vdev "net_vhost0,$_vdev" -- \
		--nb-cores=1 --forward-mode=io --port-topology=loop \
		--total-num-mbufs=16384 --stats-period 1 "$@" \
		</dev/null >"$VHU_TMP/$_name.log" 2>&1 &
	TP_PID=$!
	VHU_PIDS="$VHU_PIDS $TP_PID"
}

# vhu_testpmd_server NAME SOCK QUEUES [TESTPMD_ARGS...]: testpmd listening
# on SOCK with QUEUES queue pairs.
vhu_testpmd_server() {
	_name=$1 _sock=$2 _q=$3
	shift 3
	rm -f "$_sock"
	vhu_testpmd "$_name" "iface=$_sock,queues=$_q" --rxq="$_q" --txq="$_q" "$@"
	vhu_wait "$VHU_TMP/$_name.log" "socket created|binding succeeded" 20 "$TP_PID" ||
		vhu_fail "testpmd $_name did not start"
	integ_wait_file -S "$_sock" 5 ||
		vhu_fail "testpmd $_name: no socket at $_sock"
}

# vhu_rx_packets LOG: the last "RX-packets: N" testpmd printed for port 0.
vhu_rx_packets() {
	grep -a "RX-packets:" "$1" | grep -av "RX-total" | tail -n 1 |
		awk '{print $2}'
}

# vhu_kv LINE KEY: the value of KEY=VALUE in a RESULT/stats line.
vhu_kv() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}
