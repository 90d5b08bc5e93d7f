#!/bin/sh
# lab-timeout: 600
# lab-initrd: bench
# `iovmm bench io --lab` (docs/benchmarks.md, "bench io"): the NVMe VF row
# of bench io where the VF is real: L1's SR-IOV NVMe VF bound to vfio-pci
# behind the emulated VT-d, assigned to the guest kit by iovmm and by QEMU
# (microvm with SeaBIOS's microvm build: qboot never reaches the kit with a
# vfio-pci device, docs/benchmarks.md "Lab: passthrough"). This runs
# `iovmm bench io --raw` here; its "BENCH-IO ..." lines go to the console,
# where the host's bench io reads them (BUILD/lab-work/last-run.log).
# lab.bench_io_runs=N (1-20, default 1) and lab.bench_io_count=N (4 KiB
# writes then reads per run, default 1000) come from the host's options.
# Placement as vfio-nvme-bench: the VMMs on CPU 1, device interrupts on
# CPU 0. Figures are TCG-lab figures; a figure never fails the scenario,
# a run that fails does.
. /lab/lib.sh

runs=$(lab_karg lab.bench_io_runs)
case $runs in '' | *[!0-9]*) runs=1 ;; esac
[ "$runs" -ge 1 ] && [ "$runs" -le 20 ] || runs=1
count=$(lab_karg lab.bench_io_count)
case $count in '' | *[!0-9]*) count=1000 ;; esac
[ "$count" -ge 1 ] && [ "$count" -le 16384 ] || count=1000

lab_need_qemu || lab_fail "$LAB_ERR"
lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
read -r irq_mask </proc/irq/default_smp_affinity
trap 'echo "$irq_mask" >/proc/irq/default_smp_affinity' EXIT
echo 1 >/proc/irq/default_smp_affinity || lab_fail irq-affinity

out=$LAB_TMP/bench-io.out
lab_log "iovmm bench io --rows nvme-vf --vf $LAB_VF --runs $runs --blk-count $count"
# IOVMM_L1: we are the L1 already, bench io must not look for another.
IOVMM_L1=1 taskset -c 1 iovmm bench io --raw --rows nvme-vf --vf "$LAB_VF" \
	--kit "$LAB_KIT" --qemu "$LAB_QEMU" --qemu-bios "$LAB_QEMU_MICROVM_BIOS" \
	--runs "$runs" --blk-count "$count" --timeout 300 </dev/null >"$out" 2>&1
rc=$?
cat "$out"
n=$(grep -c '^BENCH-IO row=nvme-vf impl=' "$out")
[ "$n" -gt 0 ] || lab_fail no-figures "exit=$rc"
[ "$rc" -eq 0 ] || lab_fail bench-io-failed "exit=$rc" "samples=$n"
[ "$(lab_driver "$LAB_VF")" = vfio-pci ] || lab_fail vf-lost-vfio-pci
lab_pass "vf=$LAB_VF" "runs=$runs" "count=$count" "samples=$n"
