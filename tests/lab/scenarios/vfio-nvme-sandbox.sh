#!/bin/sh
# lab-timeout: 150
# The sandbox on an assigned device (docs/security.md): vfio-nvme's guest
# with every thread's seccomp filter on and iovmm dropped to uid/gid 65534
# once the VFIO container, group and device are open and guest RAM is
# mapped for DMA. The vCPU threads' VFIO calls (config space, BARs,
# MSI-X through VFIO_DEVICE_SET_IRQS) and main's tear-down (DMA unmap,
# reset) must all be in their lists: a missing one kills iovmm (SIGSYS).
. /lab/lib.sh

lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
echo 64 >/proc/sys/vm/nr_hugepages
out=$LAB_TMP/iovmm.out
lab_iovmm "$out" 120 run --kernel "$LAB_KIT" --mem 64M --hugepages --stats \
	--seccomp=on --user 65534:65534 \
	--device "vfio-pci,host=$LAB_VF" --cmdline "test=nvme"
rc=$?
grep -q 'seccomp:' "$out" && lab_fail "seccomp-$(sed -n 's/.*system call \([a-z0-9_]*\).*/\1/p' "$out" | head -n 1)"
result=$(lab_kit_result "$out" nvme)
echo "$result" | grep -q ' status=pass' ||
	lab_fail "kit-nvme-$(lab_kv reason "$result")" "exit=$rc"
[ "$rc" -eq 1 ] || lab_fail iovmm-exit-status "exit=$rc"
[ "$(lab_driver "$LAB_VF")" = vfio-pci ] || lab_fail vf-lost-vfio-pci
lab_pass "vf=$LAB_VF" "cmds=$(lab_kv cmds "$result")" \
	"irqs=$(lab_kv irqs "$result")" "user=65534"
