#!/bin/sh
# lab-timeout: 30
# The emulated VT-d is live in L1: DMA remapping on, interrupt remapping on
# (VFIO refuses to assign devices without it unless unsafe interrupts are
# allowed), and the IOMMU groups are what the other scenarios rely on: the
# NVMe PF and the e1000e each alone in a group, the 00:05 e1000 + edu pair
# sharing one (functions of one device without ACS).
. /lab/lib.sh

log=$(dmesg)
echo "$log" | grep -E 'DMAR|remapping' | head -n 12 | sed 's/^/  dmesg: /'
echo "$log" | grep -q 'DMAR: IOMMU enabled' || lab_fail dmar-not-enabled
mode=$(echo "$log" |
	sed -n 's/.*DMAR-IR: Enabled IRQ remapping in \([a-z0-9]*\) mode.*/\1/p' |
	head -n 1)
[ -n "$mode" ] || lab_fail irq-remapping-not-enabled

groups=$(ls /sys/kernel/iommu_groups | wc -l)
[ "$groups" -gt 0 ] || lab_fail no-iommu-groups
lab_pci_summary

# group_members BDF: every function in BDF's group, space separated.
group_members() {
	ls "/sys/kernel/iommu_groups/$(lab_group_of "$1")/devices" | tr '\n' ' '
}

lab_nvme_pf || lab_fail "$LAB_ERR"
lab_e1000e || lab_fail "$LAB_ERR"
lab_e1000 || lab_fail "$LAB_ERR"
lab_edu || lab_fail "$LAB_ERR"
[ "$(group_members "$LAB_PF")" = "$LAB_PF " ] || lab_fail nvme-pf-group-shared
[ "$(group_members "$LAB_E1000E")" = "$LAB_E1000E " ] ||
	lab_fail e1000e-group-shared
[ "$(group_members "$LAB_EDU")" = "$LAB_E1000 $LAB_EDU " ] ||
	lab_fail e1000-edu-group-not-shared
lab_pass "groups=$groups" "irq_remap=$mode" \
	"nvme_group=$(lab_group_of "$LAB_PF")" \
	"e1000e_group=$(lab_group_of "$LAB_E1000E")" \
	"e1000_edu_group=$(lab_group_of "$LAB_EDU")"
