#!/bin/bash
# shellcheck disable=SC2034,SC2154 # variables shared with tests/lab/boot.sh
# Run one command inside the lab's L1 (a QEMU TCG machine with nested SVM,
# so it has a /dev/kvm whatever the host has) that sees the host's files:
# the host's root read-only over virtio-9p, the repository and the build
# directory read-write at their own paths, chrooted into, in the same
# working directory. The command's stdout and stderr stream back here
# live; the exit status is the command's. docs/testing.md, "The nested
# run".
#
#   run.sh [options] -- CMD ARGS...
#     --build DIR      iovmm build directory (default $IOVMM_BUILD, else
#                      <repo>/build): shared read-write, holds the work
#                      files (BUILD/nested-work) and tests/lab/kvm-hold
#     --timeout S      hard limit for the whole boot (default 1800)
#     --idle S         no heartbeat for S seconds = L1 hung (default 30)
#     --mem SIZE       L1's RAM (default 4G)
#     --share DIR      one more directory shared read-write (repeatable)
#     --env NAME       pass one more environment variable (repeatable;
#                      PATH, HOME, locale, TERM, CI, QEMU and every IOVMM_*
#                      always go)
#     --append ARGS    extra L1 kernel command-line words (nested.* in
#                      tests/nested/init.sh; nested.loglevel=7 shows L1's
#                      kernel messages on the console)
#     --qemu-args ARGS extra QEMU arguments (split at spaces), e.g. a
#                      monitor to ask `info jit`
#     --keep-logs DIR  where the consoles of failed boots go (default
#                      BUILD/lab-logs)
#     --verbose        stream L1's console (on stderr) while it runs
#
# In L1 the command sees IOVMM_IN_LAB=1, IOVMM_L1=1 (so `iovmm demo` and
# `iovmm bench` do not re-enter the lab) and IOVMM_TIME_SCALE: how many
# times slower L1 runs the same code than this host (measured at each boot
# with a calibration loop, or IOVMM_TIME_SCALE as set here); the integ
# tests multiply their waits and the kit's time windows by it.
# /tmp, /run, /var/tmp and /dev/shm are L1-local tmpfs: QEMU's 9p cannot
# carry UNIX sockets or FIFOs. The command's stdin is /dev/null.
# Exit: the command's status; 1 (after "nested: FAIL ...") when L1 did not
# finish it; 2 usage; 77 when QEMU or the lab kernel is not available.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
lab=$repo/tests/lab
build=${IOVMM_BUILD:-$repo/build}
timeout_s=1800
idle_s=30
boot_limit_s=90
mem=4G
shares=()
envs=()
extra_qemu=()
append=""
keep_logs=""
verbose=0

usage() {
	sed -n '3,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--idle) idle_s=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--share) shares+=("$(realpath "$2")"); shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--append) append="$append $2"; shift 2 ;;
	--qemu-args) read -ra extra_qemu <<<"$2"; shift 2 ;;
	--keep-logs) keep_logs=$2; shift 2 ;;
	--verbose) verbose=1; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) echo "nested: unknown option $1 (the command goes after --)" >&2; usage ;;
	esac
done
[ $# -gt 0 ] || usage
[[ $timeout_s =~ ^[0-9]+$ && $idle_s =~ ^[0-9]+$ ]] ||
	{ echo "nested: --timeout/--idle take seconds" >&2; exit 2; }

say() { echo "nested: $*" >&2; }
# now_ms, boot (one watched L1 boot), keep (save a failed attempt),
# cleanup: the lab's boot-watch. It reads qemu, qemu_args, labdir,
# timeout_s, idle_s, boot_limit_s, verbose, keep_logs and boot_* below.
# shellcheck source=../lab/boot.sh
. "$lab/boot.sh"

# The first line says why this runs nested and what that means for timings.
if why=$("$here/kvm-usable"); then
	if [ "${IOVMM_IN_LAB:-}" = 1 ]; then
		echo "IOVMM_IN_LAB=1: running inside the lab's L1 although /dev/kvm works here," \
			"timings are TCG-relative; ratios within one run still hold" >&2
	else
		echo "/dev/kvm works here, running inside the lab's L1 as asked:" \
			"timings are TCG-relative; ratios within one run still hold" >&2
	fi
elif [ "$why" = "no /dev/kvm" ]; then
	echo "no /dev/kvm here: running inside the lab's L1, timings are" \
		"TCG-relative; ratios within one run still hold" >&2
else
	echo "no usable /dev/kvm here ($why): running inside the lab's L1," \
		"timings are TCG-relative; ratios within one run still hold" >&2
fi

qemu=$(command -v qemu-system-x86_64) ||
	{ echo "SKIP: cannot run nested: qemu-system-x86_64 is not installed (scripts/deps.sh)"; exit 77; }
build=$(cd "$build" 2>/dev/null && pwd) ||
	{ say "FAIL: build directory not found (--build)"; exit 1; }
keep_logs=${keep_logs:-$build/lab-logs}
labdir=$build/nested-work

# One TCG L1 at a time per cache, lab or nested: two on a small machine
# push each other past their timeouts (and a second nested run on this
# build directory would rewrite the first one's job and output files).
cache=${IOVMM_CACHE:-/var/cache/iovmm}
{ mkdir -p "$cache" && exec 9>>"$cache/lab.lock"; } 2>/dev/null ||
	exec 9>>"${TMPDIR:-/tmp}/iovmm-lab.lock"
if ! flock -n 9; then
	say "waiting for another lab or nested run to finish"
	flock -w "$timeout_s" 9 || { say "FAIL: lab lock busy"; exit 1; }
fi
job=$labdir/job
rm -rf "$job"
mkdir -p "$job" || { say "FAIL: cannot write $labdir"; exit 1; }

if ! fetched=$("$lab/fetch.sh"); then
	echo "SKIP: cannot run nested: cannot fetch the lab kernel or busybox from Debian (no network?)"
	exit 77
fi
eval "$fetched"

# ---- the job: environment, working directory, command (bash-quoted).
passed_env() {
	local v
	for v in PATH HOME USER LOGNAME LANG LANGUAGE TZ TERM CI QEMU \
		MESON_TESTTHREADS ASAN_OPTIONS UBSAN_OPTIONS "${envs[@]}" \
		$(compgen -e | grep -E '^(LC_|IOVMM_)'); do
		case $v in
		IOVMM_IN_LAB | IOVMM_L1 | IOVMM_TIME_SCALE | TMPDIR) continue ;;
		esac
		[ -n "${!v+set}" ] && printf 'export %s=%q\n' "$v" "${!v}"
	done
}
{
	echo "# tests/nested/run.sh's job, run by L1's /init in the chroot"
	passed_env | sort -u
	# TMPDIR: sockets and FIFOs need the L1-local tmpfs.
	echo "export IOVMM_IN_LAB=1 IOVMM_L1=1 TMPDIR=/tmp"
	printf 'cd -- %q || { echo "nested: no directory %q in L1" >&2; exit 125; }\n' \
		"$PWD" "$PWD"
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$job/job.sh"

# The read-write shares: the repository, the build directory when it is
# not inside it, and --share. One 9p device each.
all_shares=("$repo")
[[ $build/ == "$repo"/* ]] || all_shares+=("$build")
all_shares+=("${shares[@]}")
: >"$job/shares"
# passthrough keeps owners and modes as they are; it needs root here.
secmodel=none
[ "$(id -u)" = 0 ] && secmodel=passthrough
# shellcheck disable=SC2054 # commas are inside QEMU option values
share_args=(
	-fsdev "local,id=fsroot,path=/,security_model=$secmodel,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot
	-fsdev "local,id=fsjob,path=$job,security_model=$secmodel,readonly=on"
	-device virtio-9p-pci,fsdev=fsjob,mount_tag=job
)
i=0
for d in "${all_shares[@]}"; do
	i=$((i + 1))
	echo "share$i $d" >>"$job/shares"
	share_args+=(-fsdev "local,id=fs$i,path=$d,security_model=$secmodel,multidevs=remap"
		-device "virtio-9p-pci,fsdev=fs$i,mount_tag=share$i")
done

# ---- the time scale (IOVMM_TIME_SCALE in L1, tests/integ/wait.sh): a
# CPU-bound calibration loop (shell arithmetic) timed here and in L1. L1
# runs it 15-30 times slower (process starts and Python imports 2-3 times
# worse still). The integ scripts' waits keep a margin over what they wait
# for on a host with KVM; the tightest is the restart tests' 8 s traffic
# window, which must hold a DPDK back end's restart and reconnection (under
# a second here, 20-30 s in L1 on a busy host): the scale is the ratio over
# 3, rounded up, 1 to 20 (tests/nested/init.sh; docs/testing.md).
cat >"$job/calibrate" <<'CALIB'
i=0
while [ $i -lt 20000 ]; do i=$((i + 1)); done
CALIB
scale_arg=""
if [ -n "${IOVMM_TIME_SCALE:-}" ]; then
	[[ $IOVMM_TIME_SCALE =~ ^[1-9][0-9]*$ ]] && [ "$IOVMM_TIME_SCALE" -le 20 ] ||
		{ say "IOVMM_TIME_SCALE takes a whole number from 1 to 20"; exit 2; }
	scale_arg="nested.scale=$IOVMM_TIME_SCALE"
else
	# The fastest of three, after a warm-up.
	calib_ms=""
	for i in 0 1 2 3; do
		t=$(now_ms)
		sh "$job/calibrate" >/dev/null 2>&1
		t=$(( $(now_ms) - t ))
		[ $i = 0 ] && continue
		if [ -z "$calib_ms" ] || [ "$t" -lt "$calib_ms" ]; then
			calib_ms=$t
		fi
	done
	scale_arg="nested.calib_ms=$(( calib_ms > 0 ? calib_ms : 1 ))"
fi

t=$(now_ms)
"$here/mkinitrd.sh" "$build" "$labdir/initrd.cpio" 2>&1 | sed 's/^/nested: /' >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || { say "FAIL: initrd build failed"; exit 1; }
initrd_ms=$(( $(now_ms) - t ))

# The L1 machine: the lab's TCG set-up (docs/lab.md) without its devices,
# with the shares and two virtio-serial ports for the command's output.
# Soft lockups panic L1 (a locked-up run is then seen in 20 s, not at the
# timeout); the threshold is twice the lab's, as a nested run is long and
# the host may be busy.
cmdline="console=ttyS0 loglevel=4 panic=-1 no_timer_check"
cmdline="$cmdline watchdog_thresh=10 softlockup_panic=1"
cmdline="$cmdline softlockup_all_cpu_backtrace=1 panic_print=0x20"
cmdline="$cmdline $scale_arg$append"
out=$labdir/out
err=$labdir/err
# shellcheck disable=SC2054
qemu_args=(
	-accel tcg,thread=multi,tb-size=2048
	-machine q35 -cpu max -smp 2 -m "$mem"
	-nodefaults -no-reboot -display none -vga none
	"${share_args[@]}"
	-device virtio-serial-pci,id=vser
	-chardev "file,id=out,path=$out" -device virtserialport,bus=vser.0,nr=1,chardev=out,name=out
	-chardev "file,id=err,path=$err" -device virtserialport,bus=vser.0,nr=2,chardev=err,name=err
	-kernel "$LAB_L1_KERNEL" -initrd "$labdir/initrd.cpio"
	-append "$cmdline"
	"${extra_qemu[@]}"
)

boot_console_fd=2
boot_stream_out=$out
boot_stream_err=$err
keep_prefix=nested
keep_note="cmd=$*"
trap cleanup EXIT
trap 'say "interrupted (SIGINT): L1 stopped"; cleanup; exit 130' INT
trap 'say "terminated (SIGTERM): L1 stopped"; cleanup; exit 143' TERM

kept=()
attempt=1
while :; do
	: >"$out"
	: >"$err"
	boot $attempt
	[ "$outcome" = "done" ] && break
	keep $attempt
	grep -a 'BUG: soft lockup\|^\[ *[0-9.]*\] RIP: 0010:' "$log" | head -n 8 |
		sed 's/^/nested:   /' >&2
	# Retry once an L1 that failed before the command started; after
	# that a retry would run it twice.
	if [ $attempt -ge 2 ] || grep -aq '^NESTED-START' "$log"; then
		break
	fi
	say "L1 $outcome before the command started: retrying once"
	attempt=$((attempt + 1))
done
cp "$log" "$labdir/last-run.log"

kv() { sed -n "s/^$1 .*$2=\([0-9]*\).*/\1/p" "$log" | tail -n 1; }
scale_line=$(grep -a '^NESTED-SCALE' "$log" | tail -n 1)
start_ms=$(kv NESTED-START t_ms)
end_ms=$(kv NESTED-EXIT t_ms)
status=$(kv NESTED-EXIT status)
job_s="?"
[ -n "$start_ms" ] && [ -n "$end_ms" ] &&
	job_s=$(( (end_ms - start_ms) / 1000 )).$(( (end_ms - start_ms) % 1000 / 100 ))
say "timing: initrd ${initrd_ms} ms; L1 /init at ${boot_ms:-?} ms;" \
	"command ${job_s} s; total $(( wall_ms / 1000 )).$(( wall_ms % 1000 / 100 )) s" \
	"(${scale_line#NESTED-SCALE })"
grep -a '^LAB-WARN' "$log" | sed 's/^/nested: /' >&2
if [ -z "$status" ]; then
	[ "$outcome" = "done" ] && keep $attempt
	fail=$(grep -a '^NESTED-FAIL' "$log" | tail -n 1)
	say "FAIL: L1 did not finish the command ($outcome${fail:+, ${fail#NESTED-FAIL }});" \
		"console: ${kept[*]:-$labdir/last-run.log}"
	echo "---- last 40 console lines" >&2
	tail -n 40 "$log" >&2
	exit 1
fi
exit "$status"
