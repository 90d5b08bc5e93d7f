# SPDX-License-Identifier: MIT
# Sourced by the integration tests' helper libraries (POSIX sh).

# integ_wait FILE PATTERN SECONDS [PID]: until grep -E finds PATTERN in FILE
# (binary-safe); fails early when PID (if given) has exited.
integ_wait() {
	_f=$1 _pat=$2 _secs=$3 _pid=${4:-}
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
