#!/bin/sh
# The L1 half of the nested smoke test (smoke.sh): run by tests/nested/
# run.sh inside L1. Checks what the nested run promises the tests (a
# usable /dev/kvm, L1-local tmpfs where sockets go, a procfs that is not
# the host's sysfs aliased over 9p, lo up, the time scale), then runs a
# few integ tests in a nested `meson test`. Exits 3 when all is well, so
# the host also sees the exit status come back.
#   smoke-l1.sh BUILD TEST...
set -u
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
bad=0
check() {
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "smoke-l1: ok   $what"
	else
		echo "smoke-l1: FAIL $what"
		bad=1
	fi
}
check "running in L1 (IOVMM_L1=1, IOVMM_IN_LAB=1)" \
	test "${IOVMM_L1:-}${IOVMM_IN_LAB:-}" = 11
check "IOVMM_TIME_SCALE is a whole number (${IOVMM_TIME_SCALE:-unset})" \
	sh -c 'case ${IOVMM_TIME_SCALE:-x} in *[!0-9]*) exit 1 ;; esac'
check "/dev/kvm is usable" "$here/kvm-usable"
check "/tmp is tmpfs" sh -c 'stat -f -c %T /tmp | grep -qx tmpfs'
check "/run is tmpfs" sh -c 'stat -f -c %T /run | grep -qx tmpfs'
py=/usr/bin/python3
[ -x "$py" ] || py=python3
check "a UNIX socket in /tmp" "$py" -S -c \
	'import socket, tempfile, os; d = tempfile.mkdtemp(); s = socket.socket(socket.AF_UNIX); s.bind(d + "/s"); s.listen(1)'
check "/proc is procfs (9p did not alias the host's)" \
	sh -c 'stat -f -c %T /proc | grep -qx proc && test -r /proc/self/status'
check "lo is up" sh -c 'ip -o link show lo | grep -q "UP"'
check "a network namespace" sh -c 'ip netns add smoke$$ && ip netns del smoke$$'
check "the build directory is writable" sh -c ": >'$build/nested-work/smoke-l1.w' && rm '$build/nested-work/smoke-l1.w'"

out=/tmp/smoke-meson.log
"$here/meson-test.sh" "$build" nested-smoke "$@" 2>&1 | tee "$out"
ok=$(awk '/^Ok:/ { print $2 }' "$out")
if [ "${ok:-0}" -ne $# ] || ! grep -q '^Fail: *0' "$out"; then
	echo "smoke-l1: FAIL nested meson test: Ok ${ok:-?} of $# tests"
	bad=1
else
	echo "smoke-l1: ok   nested meson test: $ok of $# tests passed"
fi
[ "$bad" = 0 ] || exit 1
exit 3
