#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one guest-kit test under QEMU/KVM and check its RESULT line.
#
#   run-kit.sh [--expect-fail] [--expect-reason WORD] [--timeout S]
#              [--img SIZE] [--udp] QEMU_ARGS... -- KIT TEST [KEY=VALUE...]
#
# Pass: exactly one "RESULT test=TEST status=pass" line and QEMU exiting
# with 1 (isa-debug-exit value 0 -> (0 << 1) | 1). With --expect-fail the
# test must report status=fail and exit with an odd status other than 1;
# --expect-reason WORD (implies --expect-fail) also requires reason=WORD.
# --img SIZE creates a temporary raw disk image of SIZE bytes (truncate
# syntax, e.g. 8M) and substitutes its path for @IMG@ in QEMU_ARGS; --udp
# picks a UDP port no socket on this host uses and substitutes it for
# @PORT@ (QEMU's UDP netdev sets SO_REUSEADDR, so two runs sharing a port
# would silently steal each other's frames).
# --timeout is stretched by IOVMM_TIME_SCALE (../wait.sh).
# Exits 77 (meson: skipped) only when qemu-system-x86_64 or /dev/kvm is
# missing.
set -u
. "$(dirname "$0")/../wait.sh"

expect=pass
reason=""
limit=60
img_size=""
want_udp=0
while [ $# -gt 0 ]; do
	case "$1" in
	--expect-fail) expect=fail; shift ;;
	--expect-reason) expect=fail; reason=$2; shift 2 ;;
	--timeout) limit=$2; shift 2 ;;
	--img) img_size=$2; shift 2 ;;
	--udp) want_udp=1; shift ;;
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
limit=$(integ_scale "$limit")
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
img=""
trap 'rm -f "$out" ${img:+"$img"}' EXIT INT TERM
if [ -n "$img_size" ]; then
	img=$(mktemp --suffix=.img)
	truncate -s "$img_size" "$img" || exit 1
	qemu_args=$(printf '%s' "$qemu_args" | sed "s|@IMG@|$img|g")
fi
if [ "$want_udp" -eq 1 ]; then
	port=""
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		if ! ss -Hauln 2>/dev/null | grep -q ":$p\>"; then
			port=$p
			break
		fi
	done
	if [ -z "$port" ]; then
		echo "FAIL: no free UDP port found"
		exit 1
	fi
	qemu_args=$(printf '%s' "$qemu_args" | sed "s|@PORT@|$port|g")
fi
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
if [ -n "$reason" ]; then
	case "$line" in
	"RESULT test=$test status=fail reason=$reason "* | \
	"RESULT test=$test status=fail reason=$reason") ;;
	*)
		echo "FAIL: expected reason=$reason"
		exit 1
		;;
	esac
fi
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
