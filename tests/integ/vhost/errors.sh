#!/bin/sh
# SPDX-License-Identifier: MIT
# Start-up errors of --net vhost-user: a clear message and exit status 2,
# never a hang or a crash. A back end that is missing at start is an error
# (only one that dies later is waited for).   errors.sh IOVMM KIT
set -u
. "$(dirname "$0")/common.sh"
IOVMM=$1 KIT=$2
[ -r /dev/kvm ] || vhu_skip "/dev/kvm is not usable"
failures=0

# expect STATUS SUBSTRING -- COMMAND...
expect() {
	want=$1 msg=$2
	shift 3
	out=$(timeout "$(integ_scale 20)" "$@" </dev/null 2>&1)
	got=$?
	if [ "$got" -ne "$want" ] || ! printf '%s' "$out" | grep -qF -- "$msg"; then
		echo "FAIL: $*"
		echo "      wanted status $want and '$msg'; got $got: $out"
		failures=$((failures + 1))
	else
		echo "ok:   $* -> $got: $(printf '%s' "$out" | grep -F -- "$msg" | head -n 1)"
	fi
}

run="$IOVMM run --kernel $KIT --mem 64M"
# shellcheck disable=SC2086
expect 2 "does not exist" -- $run --net "vhost-user,socket=$VHU_TMP/none.sock"
# A socket file nobody listens on (a back end that died).
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" \
	"$VHU_TMP/dead.sock" 2>/dev/null
if [ -S "$VHU_TMP/dead.sock" ]; then
	# shellcheck disable=SC2086
	expect 2 "connection refused" -- $run --net "vhost-user,socket=$VHU_TMP/dead.sock"
fi
# Server mode on a path that is a regular file.
: >"$VHU_TMP/file"
# shellcheck disable=SC2086
expect 2 "not a socket" -- $run --net "vhost-user,socket=$VHU_TMP/file,server"
# shellcheck disable=SC2086
expect 2 "socket=PATH is required" -- $run --net "vhost-user"
# shellcheck disable=SC2086
expect 2 "queues=9" -- $run --net "vhost-user,socket=$VHU_TMP/x.sock,queues=9"
# shellcheck disable=SC2086
expect 2 "unknown option 'backend'" -- $run --net "vhost-user,socket=$VHU_TMP/x.sock,backend=null"
long=$(printf '%0120d' 0)
# shellcheck disable=SC2086
expect 2 "too long" -- $run --net "vhost-user,socket=/tmp/$long"
# A server waiting for its first back end ends on SIGINT (exit 130), as
# Ctrl-C would, instead of waiting on.
# shellcheck disable=SC2086
$run --net "vhost-user,socket=$VHU_TMP/wait.sock,server" </dev/null \
	>"$VHU_TMP/wait.log" 2>&1 &
pid=$!
if vhu_wait "$VHU_TMP/wait.log" "waiting for a vhost-user back end" 10 "$pid"; then
	kill -INT "$pid"
	for _ in $(seq "$(integ_scale 50)"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		echo "FAIL: a server waiting for its back end ignored SIGINT"
		failures=$((failures + 1))
	else
		wait "$pid"
		got=$?
		if [ "$got" -eq 130 ]; then
			echo "ok:   SIGINT while waiting for a back end -> 130"
		else
			echo "FAIL: SIGINT while waiting for a back end -> $got (want 130)"
			failures=$((failures + 1))
		fi
	fi
else
	echo "FAIL: the server never said it was waiting: $(cat "$VHU_TMP/wait.log")"
	failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || exit 1
echo "OK"
