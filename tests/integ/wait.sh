# SPDX-License-Identifier: MIT
# Sourced by the integration tests (POSIX sh): waiting for a log line, and
# the time scale every wait and time window of a test is multiplied by.

# IOVMM_TIME_SCALE: how many times slower than this kind of host the tests
# run (a whole number, default 1). tests/nested/run.sh measures it for its
# TCG L1 (docs/testing.md, "The nested run"); scripts multiply their waits,
# `timeout` limits and the kit's time parameters (timeout_ms, duration_ms,
# ...) by it, so that a slow host gets as much margin as a fast one.
case ${IOVMM_TIME_SCALE:-1} in
'' | *[!0-9]* | 0) INTEG_SCALE=1 ;;
*) INTEG_SCALE=${IOVMM_TIME_SCALE:-1} ;;
esac

# integ_scale N: N times the time scale.
integ_scale() {
	echo $(($1 * INTEG_SCALE))
}

# integ_scale_max N MAX: integ_scale, at most MAX (the kit refuses time
# parameters above 600000 ms).
integ_scale_max() {
	_s=$(($1 * INTEG_SCALE))
	[ "$_s" -le "$2" ] || _s=$2
	echo "$_s"
}

# integ_wait FILE PATTERN SECONDS [PID]: until grep -E finds PATTERN in FILE
# (binary-safe), for SECONDS times the time scale; fails early when PID
# (if given) has exited.
integ_wait() {
	_f=$1 _pat=$2 _secs=$(($3 * INTEG_SCALE)) _pid=${4:-}
	_i=0
	while [ "$_i" -lt $((_secs * 10)) ]; do
		grep -aEq "$_pat" "$_f" 2>/dev/null && return 0
		if [ -n "$_pid" ] && ! kill -0 "$_pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# integ_wait_file OP PATH SECONDS: until `test OP PATH` holds (e.g. -S for
# a socket, -e), for SECONDS times the time scale.
integ_wait_file() {
	_i=0
	while [ "$_i" -lt $(($3 * INTEG_SCALE * 10)) ]; do
		test "$1" "$2" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
