#!/bin/bash
# Boot the lab's L1 (QEMU TCG with an emulated VT-d, an SR-IOV NVMe and an
# e1000e, nested SVM) with the scenarios given, and grade them.
#
#   run.sh [options] SCENARIO...     (or `all`; --list shows them)
#     --build DIR        iovmm build directory (default $IOVMM_BUILD, else
#                        <repo>/build): tools/iovmm, guest/kit.elf, helpers
#     --timeout S        hard limit per boot attempt (default 300)
#     --idle S           no heartbeat for S seconds once /init runs = hung
#                        (default 20; /init sends one every 2 s on the
#                        second serial port); before that, no /init within
#                        90 s = hung
#     --keep-logs DIR    where logs of failing attempts go (default
#                        BUILD/lab-logs)
#     --append ARGS      extra L1 kernel command-line words
#     --kernel FILE      boot L1 from FILE (default: the fetched kernel's
#                        vmlinux, PVH entry; its modules are used either way)
#     --verbose          stream L1's console while it runs
#     --interactive      console on this terminal, shell in L1 at the end
#     --list             list the scenarios and exit
#
# Each scenario prints one "LAB-RESULT scenario=NAME status=pass|fail
# time_ms=N ..." line (tests/lab/init.sh); a scenario without one fails.
# A boot that hangs (no heartbeat, or the total timeout before LAB-DONE) or
# whose kernel panics on a soft lockup is retried once (docs/lab.md, "L1
# hangs").
# Exit: 0 all passed, 1 a scenario failed or L1 did not finish, 2 usage,
# 77 the lab cannot run here (no qemu-system-x86_64, or the kernel/busybox
# cannot be fetched).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${IOVMM_BUILD:-$repo/build}
timeout_s=300
idle_s=20
boot_limit_s=90
keep_logs=""
append=""
l1_kernel=""
verbose=0
interactive=0
scenarios=()

usage() {
	sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

list_scenarios() {
	local f
	for f in "$here"/scenarios/*.sh; do
		f=${f##*/}
		echo "${f%.sh}"
	done
}

while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--idle) idle_s=$2; shift 2 ;;
	--keep-logs) keep_logs=$2; shift 2 ;;
	--append) append="$append $2"; shift 2 ;;
	--kernel) l1_kernel=$(realpath "$2"); shift 2 ;;
	--verbose) verbose=1; shift ;;
	--interactive) interactive=1; shift ;;
	--list) list_scenarios; exit 0 ;;
	-h | --help) usage ;;
	-*) echo "run.sh: unknown option $1" >&2; usage ;;
	all) mapfile -t -O ${#scenarios[@]} scenarios < <(list_scenarios); shift ;;
	*) scenarios+=("$1"); shift ;;
	esac
done
[ ${#scenarios[@]} -gt 0 ] || usage
# Each scenario once, in the order first given.
declare -A seen=()
unique=()
for s in "${scenarios[@]}"; do
	[ -n "${seen[$s]:-}" ] || unique+=("$s")
	seen[$s]=1
done
scenarios=("${unique[@]}")
for s in "${scenarios[@]}"; do
	[ -r "$here/scenarios/$s.sh" ] ||
		{ echo "run.sh: no scenario '$s' (see --list)" >&2; exit 2; }
done
[[ $timeout_s =~ ^[0-9]+$ && $idle_s =~ ^[0-9]+$ ]] ||
	{ echo "run.sh: --timeout/--idle take seconds" >&2; exit 2; }

say() { echo "lab: $*"; }

# now_ms, boot (one watched L1 boot), keep (save a failed attempt), cleanup.
. "$here/boot.sh"

# Optional machine parts a scenario asks for with a "# lab-machine: NAME..."
# header, so every other pass stays lean.
#   bigbar: ivshmem-plain behind a third root port, whose BAR2 is a 16 GiB
#   64-bit prefetchable memory BAR (in its own group): the size of a large
#   GPU BAR, without a GPU. The memfd is never touched, so it costs no RAM.
declare -A machine_features=(
	[bigbar]="-object memory-backend-memfd,id=bigbar,size=16G,share=on
		-device pcie-root-port,id=rp3,chassis=3,slot=3
		-device ivshmem-plain,memdev=bigbar,bus=rp3"
)
feature_args=()
declare -A wanted=()
for s in "${scenarios[@]}"; do
	for f in $(sed -n 's/^# lab-machine: *//p' "$here/scenarios/$s.sh"); do
		[ -n "${machine_features[$f]:-}" ] ||
			{ echo "run.sh: scenario $s: unknown lab-machine '$f'" >&2; exit 2; }
		wanted[$f]=1
	done
done
for f in "${!wanted[@]}"; do
	# shellcheck disable=SC2206
	feature_args+=(${machine_features[$f]})
done

# Optional initrd parts a scenario asks for with "# lab-initrd: NAME...",
# handed to mkinitrd.sh (LAB_INITRD_EXTRA), so the short pass's initrd
# stays small.
#   bench: Debian's qemu-system-x86_64 with its libraries and firmware (the
#   VMM peer of the benchmarks, run inside L1 with -accel kvm, about 50 MB)
#   and the benchmark helpers (BUILD/tests/lab/bench: kvm-stats).
#   vmlinux: the lab kernel as an uncompressed PVH ELF, /lab/vmlinux (~65 MB;
#   Linux boot benchmarks boot it by PVH on iovmm and QEMU alike).
initrd_parts="bench vmlinux"
initrd_extra=""
for s in "${scenarios[@]}"; do
	for f in $(sed -n 's/^# lab-initrd: *//p' "$here/scenarios/$s.sh"); do
		[[ " $initrd_parts " == *" $f "* ]] ||
			{ echo "run.sh: scenario $s: unknown lab-initrd '$f'" >&2; exit 2; }
		[[ " $initrd_extra " == *" $f "* ]] || initrd_extra="$initrd_extra $f"
	done
done

qemu=$(command -v qemu-system-x86_64) ||
	{ echo "SKIP: qemu-system-x86_64 is not installed (scripts/deps.sh)"; exit 77; }
build=$(cd "$build" 2>/dev/null && pwd) ||
	{ echo "run.sh: build directory not found (--build)" >&2; exit 1; }
keep_logs=${keep_logs:-$build/lab-logs}
labdir=$build/lab-work
mkdir -p "$labdir"

# One lab at a time per cache: two TCG L1s on a small machine would push each
# other past their timeouts (and the fetch below fills the shared cache).
cache=${IOVMM_CACHE:-/var/cache/iovmm}
{ mkdir -p "$cache" && exec 9>>"$cache/lab.lock"; } 2>/dev/null ||
	exec 9>>"${TMPDIR:-/tmp}/iovmm-lab.lock"
if ! flock -n 9; then
	say "waiting for another lab run to finish"
	flock -w "$timeout_s" 9 || { say "FAIL: lab lock busy"; exit 1; }
fi

if ! fetched=$("$here/fetch.sh"); then
	echo "SKIP: cannot fetch the lab kernel or busybox from Debian (no network?)"
	exit 77
fi
eval "$fetched"

t=$(now_ms)
LAB_INITRD_EXTRA=$initrd_extra "$here/mkinitrd.sh" "$build" "$labdir/initrd.cpio" |
	sed 's/^/lab: /'
[ "${PIPESTATUS[0]}" -eq 0 ] || { say "FAIL: initrd build failed"; exit 1; }
initrd_ms=$(( $(now_ms) - t ))

# The L1 machine (docs/lab.md): q35 with an emulated VT-d doing DMA and
# interrupt remapping (intremap needs the split irqchip; caching-mode lets
# a VMM inside L1 shadow its own guest's IOMMU later); QEMU's NVMe with
# SR-IOV (2 VFs, flexible queue/interrupt resources to hand them) must sit
# behind a PCIe root port and belong to an NVMe subsystem; an e1000e on a
# second root port; at 00:05 a multi-function conventional-PCI pair, an
# e1000 (host driver e1000) and QEMU's edu (no host driver, MSI + DMA),
# which without ACS share one IOMMU group: binding only edu to vfio-pci
# leaves that group not viable. -cpu max exposes SVM so kvm-amd nests.
vfs=2
# A 64 MiB namespace shared in the subsystem, so the VF's controller has
# one (passthrough scenarios read and write it).
truncate -s 64M "$labdir/nvme-ns.img"
# no_timer_check: under TCG on a loaded host the kernel's check that the
# IO-APIC timer ticks through interrupt remapping can miss its window and
# panic ("timer doesn't work through Interrupt-remapped IO-APIC"); the
# emulated timer is fine, only the check's busy-wait is too short.
cmdline="console=ttyS0 loglevel=4 panic=-1 no_timer_check"
# A CPU of L1 that stops scheduling is a dead run (docs/lab.md, "L1
# hangs"): report it after 10 s instead of 20 (watchdog_thresh=5), with
# every CPU's backtrace, and panic, replaying the whole kernel log to the
# console (panic_print bit 5: /init keeps the console at emergency level,
# so the backtraces were not shown when logged). panic=-1 then ends QEMU
# at once and the host retries the boot.
cmdline="$cmdline watchdog_thresh=5 softlockup_panic=1"
cmdline="$cmdline softlockup_all_cpu_backtrace=1 panic_print=0x20"
cmdline="$cmdline intel_iommu=on iommu=pt"
cmdline="$cmdline lab.scenarios=$(IFS=,; echo "${scenarios[*]}")$append"
[ $interactive = 1 ] && cmdline="$cmdline lab.shell=1"
# shellcheck disable=SC2054 # commas are inside QEMU option values
qemu_args=(
	-accel tcg,thread=multi,tb-size=512
	-machine q35,kernel-irqchip=split -cpu max -smp 2 -m 2G
	-device intel-iommu,intremap=on,caching-mode=on
	-nodefaults -no-reboot -display none -vga none
	-device pcie-root-port,id=rp1,chassis=1,slot=1
	-device pcie-root-port,id=rp2,chassis=2,slot=2
	-device nvme-subsys,id=nvmesubsys0
	-device "nvme,id=nvme0,bus=rp1,serial=labnvme0,subsys=nvmesubsys0,sriov_max_vfs=$vfs,sriov_vq_flexible=$((vfs * 2)),sriov_vi_flexible=$vfs,max_ioqpairs=$((vfs * 2 + 2)),msix_qsize=$((vfs + 2))"
	-drive "file=$labdir/nvme-ns.img,if=none,id=nvm0,format=raw"
	-device nvme-ns,drive=nvm0,bus=nvme0,nsid=1,shared=on
	-device e1000e,bus=rp2,netdev=n0 -netdev user,id=n0,restrict=on
	-device e1000,addr=05.0,multifunction=on,netdev=n1
	-netdev user,id=n1,restrict=on
	-device edu,addr=05.1
	"${feature_args[@]}"
	-kernel "${l1_kernel:-$LAB_L1_KERNEL}" -initrd "$labdir/initrd.cpio"
	-append "$cmdline"
)

if [ $interactive = 1 ]; then
	exec "$qemu" "${qemu_args[@]}" -serial mon:stdio -serial null
fi

trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

kept=()
attempt=1
while :; do
	say "boot $attempt: scenarios ${scenarios[*]}"
	boot $attempt
	say "boot $attempt: $outcome after $((wall_ms / 1000)).$(printf %03d $((wall_ms % 1000))) s" \
		"(L1 /init after ${boot_ms:-?} ms)"
	[ "$outcome" = "done" ] && break
	keep $attempt
	# What the stuck CPUs were doing (the replayed soft lockup reports).
	grep -a 'BUG: soft lockup\|^\[ *[0-9.]*\] RIP: 0010:' "$log" | head -n 8 |
		sed 's/^/lab:   /'
	# Retry once what is the lab's own flakiness: a hang (no heartbeat),
	# an L1 kernel that locked up (docs/lab.md, "L1 hangs"), or an L1
	# that died before /init (no scenario had run). An L1 that exited
	# otherwise while a scenario ran is that scenario's failure.
	if [ $attempt -ge 2 ] || { [ "$outcome" = exit ] && [ -n "$boot_ms" ]; }; then
		break
	fi
	say "L1 $outcome before finishing: retrying once"
	attempt=$((attempt + 1))
done
cp "$log" "$labdir/last-run.log"

# ---- grade
ok=1
[ "$outcome" = "done" ] || ok=0
printf 'lab: %-22s %-6s %9s  %s\n' SCENARIO STATUS TIME_MS DETAILS
for s in "${scenarios[@]}"; do
	lines=$(grep -aF "LAB-RESULT scenario=$s " "$log")
	count=$(printf '%s' "$lines" | grep -c 'LAB-RESULT' || true)
	if [ "$count" -eq 1 ]; then
		re="^LAB-RESULT scenario=[^ ]+ status=(pass|fail) time_ms=([0-9]+)( (.*))?$"
		if [[ $lines =~ $re ]]; then
			status=${BASH_REMATCH[1]} ms=${BASH_REMATCH[2]}
			details=${BASH_REMATCH[4]}
		else
			status=fail ms=- details="malformed: $lines"
		fi
	elif [ "$count" -eq 0 ]; then
		status=fail ms=- details="no result (L1: $outcome)"
	else
		status=fail ms=- details="$count result lines"
	fi
	[ "$status" = pass ] || ok=0
	printf 'lab: %-22s %-6s %9s  %s\n' "$s" "$status" "$ms" "$details"
done
grep -a '^LAB-WARN' "$log" | sed 's/^/lab: /'
say "timing: initrd ${initrd_ms} ms; boot $attempt: L1 /init at ${boot_ms:-?} ms," \
	"total $wall_ms ms"
if [ $ok = 1 ]; then
	say "PASS (${#scenarios[@]} scenarios)${kept[*]:+; hung attempt kept: ${kept[*]}}"
	exit 0
fi
[ "$outcome" = "done" ] && keep $attempt
say "FAIL; console: ${kept[*]:-$labdir/last-run.log}"
echo "---- last 60 console lines"
tail -n 60 "$log"
exit 1
