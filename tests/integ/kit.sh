#!/bin/sh
# Run one guest-kit test on iovmm and grade it.
#   kit.sh IOVMM KIT TEST EXPECT [iovmm run options...] [-- kit parameters...]
# EXPECT is pass, fail or fail:REASON. A pass must print
# "RESULT test=TEST status=pass" and exit 1 (isa-debug-exit value 0); a fail
# must print status=fail (with reason=REASON when given) and exit with an odd
# status > 1 (the kit's debug-exit failure code). "@IMG@" in an iovmm option
# is replaced by a fresh 64 MiB zero-filled disk image, removed afterwards.
# The time limit is stretched by IOVMM_TIME_SCALE (wait.sh).
# IOVMM_INTEG_RUN_OPTS: more iovmm run options for every kit test (the
# nobody-* tests set --user nobody; docs/security.md).
set -u
. "$(dirname "$0")/wait.sh"
iovmm=$1 kit=$2 test=$3 expect=$4
shift 4
out=$(mktemp)
img=$(mktemp)
trap 'rm -f "$out" "$img"' EXIT
truncate -s 64M "$img"
opts=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	opts="$opts $(printf '%s' "$1" | sed "s|@IMG@|$img|g")"
	shift
done
[ $# -gt 0 ] && shift
params="test=$test $*"

[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
# shellcheck disable=SC2086
timeout "$(integ_scale 60)" "$iovmm" run --kernel "$kit" --mem 256M $opts \
	${IOVMM_INTEG_RUN_OPTS:-} --cmdline "$params" \
	</dev/null >"$out" 2>&1
status=$?
cat "$out"
result=$(grep "^RESULT test=$test " "$out" | tail -n 1)
echo "--- exit status $status"
case "$expect" in
pass)
	[ "$status" -eq 1 ] || { echo "FAIL: expected exit status 1"; exit 1; }
	echo "$result" | grep -q " status=pass" ||
		{ echo "FAIL: no passing RESULT line"; exit 1; } ;;
fail*)
	[ "$status" -gt 1 ] && [ $((status % 2)) -eq 1 ] ||
		{ echo "FAIL: expected an odd exit status > 1"; exit 1; }
	echo "$result" | grep -q " status=fail" ||
		{ echo "FAIL: no failing RESULT line"; exit 1; }
	reason=${expect#fail:}
	if [ "$reason" != "$expect" ]; then
		echo "$result" | grep -q " reason=$reason" ||
			{ echo "FAIL: expected reason=$reason"; exit 1; }
	fi ;;
esac
echo "OK: $result"
