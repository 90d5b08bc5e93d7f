#!/bin/sh
# SPDX-License-Identifier: MIT
# iovmm-vswitch's error paths and lifecycle: bad application or EAL
# arguments and bad socket paths exit 2 with a clear message (and touch
# nothing), a port that will not start exits 1, a stale socket is reused,
# SIGTERM and SIGINT stop it cleanly with the final counters printed.
#   errors.sh VSWITCH
set -u
VSWITCH=$1
. "$(dirname "$0")/common.sh"
vsw_need_root
t=$VSW_TMP

# expect STATUS PATTERN ARGS...: runs the switch, checks status and output.
expect() {
	_want=$1 _pat=$2
	shift 2
	timeout -k 5 "$(integ_scale 60)" "$VSWITCH" "$@" >"$t/out.txt" 2>&1 </dev/null
	_got=$?
	if [ "$_got" -ne "$_want" ] || ! grep -Eq "$_pat" "$t/out.txt"; then
		cat "$t/out.txt"
		vsw_fail "'$*': status $_got (want $_want), output must match '$_pat'"
	fi
	echo "ok: status $_got: $(grep -E "$_pat" "$t/out.txt" | head -n 1)"
}

expect 0 '^usage: iovmm-vswitch' --help
expect 2 'no --port given' --no-huge --
expect 2 'expected vhost:PATH or eth:DEVARGS' -- --port bogus
expect 2 'unknown vhost option' -- --port "vhost:$t/x.sock,bogus"
expect 2 'queues must be' -- --port "vhost:$t/x.sock,queues=0"
expect 2 'given twice' -- --port "vhost:$t/x.sock" --port "vhost:$t/x.sock"
expect 2 'do not make pairs' -- --mode xconnect --port "vhost:$t/a.sock" \
	--port "vhost:$t/b.sock" --port "vhost:$t/c.sock"
expect 2 'there are only 2 ports' -- --mode xconnect --xconnect 0:2 \
	--port "vhost:$t/a.sock" --port "vhost:$t/b.sock"
expect 2 'already paired' -- --mode xconnect --xconnect 0:1,1:1 \
	--port "vhost:$t/a.sock" --port "vhost:$t/b.sock"
expect 2 'stats-period' -- --stats-period -1 --port "vhost:$t/a.sock"
long=$t/$(printf '%0120d' 0).sock
expect 2 'socket path longer than' -- --port "vhost:$long"
expect 2 'EAL initialisation failed' --no-such-eal-option -- --port "vhost:$t/a.sock"
expect 2 'directory /nonexistent-dir does not exist' -- --port vhost:/nonexistent-dir/a.sock
: >"$t/file.sock"
expect 2 'exists and is not a socket' -- --port "vhost:$t/file.sock"
[ -f "$t/file.sock" ] || vsw_fail "a regular file in the way was removed"
# A port that will not start: no such driver.
expect 1 'net_nosuchdriver0.*cannot attach' -- --port eth:net_nosuchdriver0

# A socket someone is listening on is refused; one nobody listens on (left
# by a process that died) is reused.
python3 - "$t/busy.sock" "$t/stale.sock" "$t/ready" "$(integ_scale 30)" <<'PY' &
import os, socket, sys, time
busy = socket.socket(socket.AF_UNIX); busy.bind(sys.argv[1]); busy.listen(1)
stale = socket.socket(socket.AF_UNIX); stale.bind(sys.argv[2]); stale.close()
open(sys.argv[3], "w").close()
time.sleep(int(sys.argv[4]))
PY
py=$!
VSW_PIDS="$VSW_PIDS $py"
integ_wait_file -e "$t/ready" 10 || vsw_fail "helper did not start"
expect 2 'another process is listening' -- --port "vhost:$t/busy.sock"
kill "$py"

for sig in TERM INT; do
	vsw_switch "sw$sig" --port "vhost:$t/stale.sock" --port "vhost:$t/cl.sock,client" \
		--stats-period 0.2
	vsw_wait "$t/sw$sig.log" '^vswitch-stats: ' 10 || vsw_fail "no periodic statistics"
	kill "-$sig" "$VSW_PID"
	wait "$VSW_PID"
	st=$?
	[ "$st" -eq 0 ] || vsw_fail "SIG$sig: exit status $st"
	grep -q '^vswitch-final: .* port=1 kind=vhost state=down' "$t/sw$sig.log" ||
		vsw_fail "SIG$sig: no final statistics"
	[ -e "$t/stale.sock" ] && vsw_fail "the server socket was left behind"
	echo "ok: SIG$sig: clean exit, final counters printed"
done
echo OK
