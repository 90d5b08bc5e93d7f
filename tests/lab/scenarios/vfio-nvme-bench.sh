#!/bin/sh
# lab-timeout: 280
# lab-initrd: bench
# Benchmark (make lab-bench): the same guest kit NVMe test (test=nvme) on
#   iovmm_vf    iovmm assigning the SR-IOV VF (--device vfio-pci,host=VF)
#   qemu_vf     QEMU assigning the same VF (-device vfio-pci,host=VF)
#   qemu_nvme   QEMU's emulated NVMe (-device nvme, a file in L1's RAM)
# all inside L1 under nested KVM, QEMU as -M microvm,pcie=on (SeaBIOS's
# microvm build) with the kit as its PVH -kernel, guest RAM 64 MiB on
# 2 MiB pages everywhere.
# Exits are KVM's own per-VM counters (tests/lab/bench/kvm-stats.c: debugfs,
# read after the VMM ends while the helper holds the VM), so both VMMs are
# counted the same way. Per command: two runs that differ only in the
# number of commands (count=LO and HI, the same seed), difference of the
# exits over difference of the commands, so boot, set-up and shutdown
# cancel out. Also time from exec to the kit's first console line, and the
# kit's own us_per_cmd (TSC around each command, HI run).
# lab.benchruns=N (run.sh --append) repeats the set N times (default 1,
# at most 5) and reports medians; every run's numbers are logged.
# Placement: every VMM runs on L1 CPU 1 (taskset) and new device
# interrupts go to CPU 0 (default_smp_affinity, restored at the end). Left
# to the scheduler, a VMM whose vCPU shared CPU 0 with the VF's interrupts
# took 1.5-2x longer per command, for both VMMs alike (measured), which
# made us_per_cmd bimodal from run to run.
# Numbers are for the TCG lab (L1 is emulated): compare ratios. A figure
# never fails the scenario; a run that fails does.
. /lab/lib.sh

lo=4
hi=68
mib=64
vmm_cpu=1
runs=$(lab_benchruns 1)

lab_need_qemu || lab_fail "$LAB_ERR"
command -v kvm-stats >/dev/null || lab_fail no-kvm-stats-in-initrd
lab_debugfs || lab_fail "$LAB_ERR"
lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
# One guest at a time: its RAM in 2 MiB pages, and a few spare.
echo $(( mib / 2 + 8 )) >/proc/sys/vm/nr_hugepages
read -r irq_mask </proc/irq/default_smp_affinity
trap 'echo "$irq_mask" >/proc/irq/default_smp_affinity' EXIT
echo 1 >/proc/irq/default_smp_affinity || lab_fail irq-affinity
img=$LAB_TMP/nvme.img
truncate -s 32M "$img" || lab_fail no-image
figs=$LAB_TMP/figs
mkdir -p "$figs"

# The guest RAM, platform and firmware both QEMU configurations share.
# SeaBIOS's microvm build, not QEMU's default qboot: with a vfio-pci device
# qboot never reaches the kit in L1 (it ends in its panic() loop;
# docs/benchmarks.md), and both QEMU runs must boot alike.
qemu_base="-accel kvm -M microvm,pcie=on,memory-backend=ram -m ${mib}M
	-bios $LAB_QEMU_MICROVM_BIOS
	-object memory-backend-memfd,id=ram,size=${mib}M,hugetlb=on,hugetlbsize=2M
	-nodefaults -no-user-config -display none -serial stdio -no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel $LAB_KIT"

# run CONFIG COUNT: one VMM run under kvm-stats; sets CMDS EXITS IO MMIO
# FIRST US (and VMM_EXITS for iovmm), or fails the scenario.
run() {
	local cfg=$1 count=$2 out=$LAB_TMP/$1-$2.out rc result stats
	local cmdline="test=nvme count=$count seed=1"
	lab_log "$cfg count=$count"
	case $cfg in
	iovmm_vf)
		taskset -c $vmm_cpu kvm-stats --timeout 120 \
			--first iovmm-kit: -- iovmm run --kernel "$LAB_KIT" \
			--mem ${mib}M --hugepages --stats \
			--device "vfio-pci,host=$LAB_VF" --cmdline "$cmdline" \
			>"$out" 2>&1
		;;
	qemu_vf)
		# shellcheck disable=SC2086 # a list of words
		taskset -c $vmm_cpu kvm-stats --timeout 120 \
			--first iovmm-kit: -- "$LAB_QEMU" $qemu_base \
			-append "$cmdline" -device "vfio-pci,host=$LAB_VF" \
			>"$out" 2>&1
		;;
	qemu_nvme)
		# shellcheck disable=SC2086
		taskset -c $vmm_cpu kvm-stats --timeout 120 \
			--first iovmm-kit: -- "$LAB_QEMU" $qemu_base \
			-append "$cmdline" -drive "file=$img,if=none,id=nv0,format=raw" \
			-device nvme,serial=kit0,drive=nv0 >"$out" 2>&1
		;;
	esac
	rc=$?
	sed 's/^/  | /' "$out"
	result=$(lab_kit_result "$out" nvme)
	stats=$(grep '^kvm-stats:' "$out" | tail -n 1)
	echo "$result" | grep -q ' status=pass' ||
		lab_fail "$cfg-kit-nvme-$(lab_kv reason "$result")" \
			"count=$count" "exit=$rc"
	# isa-debug-exit value 0 (pass) is status 1 on both VMMs.
	[ "$rc" -eq 1 ] || lab_fail "$cfg-exit-status" "count=$count" "exit=$rc"
	CMDS=$(lab_kv cmds "$result")
	US=$(lab_kv us_per_cmd "$result")
	EXITS=$(lab_kv exits "$stats")
	IO=$(lab_kv io_exits "$stats")
	MMIO=$(lab_kv mmio_exits "$stats")
	FIRST=$(lab_kv first_line_ms "$stats")
	[ -n "$CMDS" ] && [ -n "$US" ] && [ -n "$EXITS" ] && [ -n "$IO" ] &&
		[ -n "$MMIO" ] && [ "$FIRST" != none ] && [ -n "$FIRST" ] ||
		lab_fail "$cfg-no-counts" "count=$count" "stats=$(lab_kv vm "$stats")"
	VMM_EXITS=""
	[ "$cfg" = iovmm_vf ] &&
		VMM_EXITS=$(lab_kv exits "$(grep '^iovmm-stats:' "$out")")
	echo "$FIRST" >>"$figs/${cfg}_first_line_ms"
	return 0
}

# per CFG KEY A B CMDS: append (B - A) / CMDS to the KEY figure.
per() {
	awk -v a="$3" -v b="$4" -v c="$5" \
		'BEGIN { printf "%.3f\n", (b - a) / c }' >>"$figs/${1}_$2"
}

configs="iovmm_vf qemu_vf qemu_nvme"
r=1
while [ "$r" -le "$runs" ]; do
	# Interleaved, so that noise on the host hits every configuration.
	for count in $lo $hi; do
		for cfg in $configs; do
			run "$cfg" "$count"
			echo "$CMDS $EXITS $IO $MMIO $US ${VMM_EXITS:--}" \
				>"$LAB_TMP/$cfg.$count"
		done
	done
	for cfg in $configs; do
		read -r c1 e1 i1 m1 _ v1 <"$LAB_TMP/$cfg.$lo"
		read -r c2 e2 i2 m2 us v2 <"$LAB_TMP/$cfg.$hi"
		d=$(( c2 - c1 ))
		[ "$d" -gt 0 ] || lab_fail "$cfg-no-extra-commands"
		per "$cfg" exits_per_cmd "$e1" "$e2" "$d"
		per "$cfg" io_exits_per_cmd "$i1" "$i2" "$d"
		per "$cfg" mmio_exits_per_cmd "$m1" "$m2" "$d"
		[ "$v1" != - ] && [ "$v2" != - ] &&
			per "$cfg" vmm_exits_per_cmd "$v1" "$v2" "$d"
		echo "$us" >>"$figs/${cfg}_us_per_cmd"
		lab_log "run $r $cfg: cmds $c1 -> $c2, exits $e1 -> $e2," \
			"io $i1 -> $i2, mmio $m1 -> $m2, vmm $v1 -> $v2," \
			"us_per_cmd $us"
	done
	r=$((r + 1))
done

set -- "runs=$runs" "cmds=$((lo * 2)),$((hi * 2))"
for cfg in $configs; do
	for fig in exits_per_cmd mmio_exits_per_cmd io_exits_per_cmd \
		vmm_exits_per_cmd first_line_ms us_per_cmd; do
		f=$figs/${cfg}_$fig
		[ -s "$f" ] || continue
		lab_log "$cfg $fig: $(tr '\n' ' ' <"$f")"
		set -- "$@" "${cfg}_$fig=$(lab_median <"$f")"
		# The spread of the timings (min-max over the runs).
		case $fig in first_line_ms | us_per_cmd)
			set -- "$@" "${cfg}_${fig}_range=$(sort -n "$f" |
				sed -n '1h; $ { H; x; s/\n/-/; p; }')" ;;
		esac
	done
done
lab_pass "vf=$LAB_VF" "$@"
