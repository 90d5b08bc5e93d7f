#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one guest-kit test under QEMU/KVM and check its RESULT line.
#
#   run-kit.sh [--expect-fail] [--timeout S] QEMU_ARGS... -- KIT TEST [KEY=VALUE...]
#
# Pass: exactly one "RESULT test=TEST status=pass" line and QEMU exiting
# with 1 (isa-debug-exit value 0 -> (0 << 1) | 1). With --expect-fail the
# test must report status=fail and exit with an odd status other than 1.
# Exits 77 (meson: skipped) only when qemu-system-x86_64 or /dev/kvm is
# missing.
set -u

expect=pass
limit=60
while [ $# -gt 0 ]; do
	case "$1" in
	--expect-fail) expect=fail; shift ;;
	--timeout) limit=$2; shift 2 ;;
	*) break ;;
	esac
done

qemu_args=""
found_sep=0
for a in "$@"; do
	shift
	if [ "$a" = "--" ]; then
		found_sep=1
		break
	fi
	qemu_args="$qemu_args $a"
done
if [ $found_sep -ne 1 ] || [ $# -lt 2 ]; then
	echo "usage: $0 [--expect-fail] [--timeout S] QEMU_ARGS... -- KIT TEST [KEY=VALUE...]" >&2
	exit 2
fi
kit=$1
test=$2
shift 2
append="test=$test${*:+ $*}"

qemu=${QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "SKIP: $qemu not found"
	exit 77
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm not accessible"
	exit 77
fi
if [ ! -f "$kit" ]; then
	echo "FAIL: guest kit $kit not built"
	exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM
# shellcheck disable=SC2086 # qemu_args is a list of words on purpose
timeout -k 5 "$limit" "$qemu" -accel kvm $qemu_args -m 256 -nographic \
	-no-reboot -net none -kernel "$kit" -append "$append" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 >"$out" 2>&1 </dev/null
rc=$?
# Drop the firmware's terminal escapes so the log stays readable.
tr -d '\033' <"$out" | grep -v "host doesn't support requested feature"

results=$(grep -c '^RESULT ' "$out")
line=$(grep '^RESULT ' "$out" | head -n 1)
echo "qemu exit status: $rc, RESULT lines: $results"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "FAIL: timed out after ${limit}s"
	exit 1
fi
if [ "$results" -ne 1 ]; then
	echo "FAIL: expected exactly one RESULT line"
	exit 1
fi
case "$line" in
"RESULT test=$test status=$expect"*) ;;
*)
	echo "FAIL: expected test=$test status=$expect"
	exit 1
	;;
esac
if [ "$expect" = pass ] && [ "$rc" -ne 1 ]; then
	echo "FAIL: pass must exit through debug-exit with status 1"
	exit 1
fi
if [ "$expect" = fail ] && { [ "$rc" -eq 1 ] || [ $((rc % 2)) -ne 1 ]; }; then
	echo "FAIL: failure must exit through debug-exit with an odd status != 1"
	exit 1
fi
echo "OK: $line"
exit 0
