#!/bin/sh
# SPDX-License-Identifier: MIT
# Hostile-guest soak (issue 17, item 4): the kit's `soak` test, one run per
# seed, against an iovmm VM with every emulated and paravirtual device type
# attached, then the same kit command line on QEMU with the same device
# set, for comparison.
#
#   soak.sh IOVMM KIT [--rounds M] [--span BYTES] [--limit S] SEED...
#
# iovmm must survive every seed: exit status 1 (the kit's pass through
# debug-exit), a passing RESULT line, within LIMIT seconds (stretched by
# IOVMM_TIME_SCALE; default 60). Anything else (a crash, a signal, exit
# status 4 for a fatal VM error, a hang) fails the test. QEMU's outcome per
# seed is only reported (pass / fail / crashed / hung and its last words):
# QEMU's behaviour never fails this test. QEMU 7.2's edu aborts the VM
# (hw_error) on an out-of-range DMA, which the soak starts on most seeds;
# such a seed is run once more on QEMU without edu, to compare the rest. Without qemu-system-x86_64 the
# QEMU half says so and is skipped; without /dev/kvm the test skips.
set -u
. "$(dirname "$0")/wait.sh"

iovmm=$1 kit=$2
shift 2
rounds=3 span=8192 limit=60
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--span) span=$2; shift 2 ;;
	--limit) limit=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 IOVMM KIT [options] SEED..." >&2; exit 2; }
if ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
	echo "SKIP: /dev/kvm is not usable"
	exit 77
fi
limit=$(integ_scale "$limit")
# On a slow host (the nested L1: every MMIO exit is TCG-emulated) sweep
# fewer registers per BAR rather than run minutes per seed; seeds, rounds,
# rings and config space stay the same.
if [ "$INTEG_SCALE" -gt 1 ]; then
	span=$((span / INTEG_SCALE))
	[ "$span" -ge 1024 ] || span=1024
	echo "IOVMM_TIME_SCALE=$INTEG_SCALE: span reduced to $span bytes"
fi

dir=$(mktemp -d /tmp/iovmm-soak.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
truncate -s 64M "$dir/blk.img" "$dir/nvme.img" "$dir/qblk.img" "$dir/qnvme.img"
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null 2>&1 || qemu=""

# How a run ended: pass, fail (a RESULT without status=pass), hung
# (timeout), crashed (a signal or no RESULT at all).
verdict() { # STATUS LOG
	if [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; then
		echo hung
	elif grep -q '^RESULT test=soak status=pass' "$2"; then
		[ "$1" -eq 1 ] && echo pass || echo "crashed-after-result"
	elif grep -q '^RESULT test=soak ' "$2"; then
		echo fail
	else
		echo crashed
	fi
}

# qemu_run SEED CMDLINE EXTRA_DEVICE_ARGS: one QEMU run; sets v and qlog.
qemu_run() {
	qlog=$dir/qemu-$1${3:+-edu}.log
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086 # $3 is a list of words on purpose
	timeout -k 5 "$limit" "$qemu" -accel kvm -M microvm,pcie=on -m 256 \
		-nographic -no-reboot -net none -kernel "$kit" -append "$2" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-device e1000,romfile= -device virtio-net-pci,disable-legacy=on \
		-drive "file=$dir/qblk.img,if=none,id=d0,format=raw" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on \
		-drive "file=$dir/qnvme.img,if=none,id=nv0,format=raw" \
		-device nvme,serial=kit0,drive=nv0 \
		-device pci-testdev $3 </dev/null >"$qlog" 2>&1
	st=$?
	t1=$(date +%s.%N)
	v=$(verdict "$st" "$qlog")
	_what="without edu"
	[ -z "$3" ] || _what="with edu"
	echo "=== qemu seed=$1 ($_what): $v (exit status $st, $(echo "$t1 - $t0" | bc)s; reported, not graded)"
	grep '^soak: round\|^RESULT' "$qlog" | tail -n 2
	[ "$v" = pass ] || grep -v '^soak\|^RESULT\|^iovmm-kit\|XMM\|^[A-Z][A-Z0-9 ]*=' "$qlog" |
		grep -v "Cannot map\|warning:" | tail -n 3
}

bad=0
summary=""
for seed in "$@"; do
	cmd="test=soak seed=$seed rounds=$rounds span=$span"
	log=$dir/iovmm-$seed.log
	t0=$(date +%s.%N)
	timeout -k 5 "$limit" "$iovmm" run --kernel "$kit" --mem 256M \
		--net e1000,backend=loopback --net virtio,backend=loopback \
		--disk "virtio,path=$dir/blk.img" --disk "nvme,path=$dir/nvme.img" \
		--device pci-testdev --device edu --cmdline "$cmd" \
		</dev/null >"$log" 2>&1
	st=$?
	t1=$(date +%s.%N)
	v=$(verdict "$st" "$log")
	secs=$(echo "$t1 - $t0" | bc)
	echo "=== iovmm seed=$seed: $v (exit status $st, ${secs}s)"
	# The device models' complaints, counted (they are expected).
	grep -v '^soak\|^RESULT\|^iovmm-kit' "$log" | sed 's/([^)]*)//g; s/0x[0-9a-f]*//g; s/[0-9][0-9]*//g' |
		sort | uniq -c | sort -rn | head -n 12
	grep '^soak: round\|^RESULT' "$log" | tail -n 2
	if [ "$v" != pass ]; then
		bad=1
		tail -n 40 "$log"
	fi
	summary="$summary
seed=$seed iovmm=$v"

	[ -n "$qemu" ] || { summary="$summary qemu=absent"; continue; }
	qemu_run "$seed" "$cmd" "-device edu"
	summary="$summary qemu=$v"
	# QEMU's edu aborts the whole VM on an out-of-range DMA (hw_error):
	# the same seed without edu still compares the other devices.
	if grep -q 'EDU: DMA range' "$qlog"; then
		qemu_run "$seed" "$cmd" ""
		summary="$summary qemu-without-edu=$v"
	fi
done
echo "--- summary$summary"
[ "$bad" -eq 0 ] || { echo "FAIL: iovmm did not survive every seed"; exit 1; }
echo "OK: iovmm survived $# seeds"
