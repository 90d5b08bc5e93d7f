#!/bin/sh
# lab-timeout: 180
# Issue 5, scenario 5: after the guest exits, iovmm has reset the VF
# (VFIO_DEVICE_RESET), unmapped guest RAM from the IOMMU and closed the
# group, so the function goes back to its host driver and works there: the
# host's nvme driver probes the VF, brings its controller live and finds the
# namespace the guest wrote.
. /lab/lib.sh

lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
echo 64 >/proc/sys/vm/nr_hugepages
out=$LAB_TMP/iovmm.out
lab_iovmm "$out" 120 run --kernel "$LAB_KIT" --mem 64M --hugepages \
	--device "vfio-pci,host=$LAB_VF" --cmdline "test=nvme count=2"
rc=$?
lab_kit_result "$out" nvme | grep -q ' status=pass' || lab_fail kit-nvme-failed
[ "$rc" -eq 1 ] || lab_fail iovmm-exit-status "exit=$rc"
# iovmm logs a warning when VFIO_DEVICE_RESET fails at stop ("no reset at
# stop") or when VFIO_IOMMU_UNMAP_DMA fails or unmaps less than asked
# ("unmapping IOVA"): the reset and the unmap both happened.
grep -q '^iovmm: .*warning: ' "$out" &&
	lab_fail teardown-warning "$(grep -m1 '^iovmm: .*warning: ' "$out" | tr ' ' _ | cut -c1-60)"
# No process holds the group any more (an exclusive open would fail).
[ -z "$(ls -l /proc/[0-9]*/fd 2>/dev/null | grep "/dev/vfio/$LAB_GROUP")" ] ||
	lab_fail group-still-open
# Back to the host driver (VFs probe only through driver_override here:
# sriov_drivers_autoprobe is off).
lab_bind "$LAB_VF" nvme || lab_fail "$LAB_ERR"
lab_nvme_ctrl "$LAB_VF" || lab_fail "$LAB_ERR"
ctrl=$LAB_CTRL
lab_wait 10 grep -qx live "/sys/class/nvme/$ctrl/state" ||
	lab_fail "host-ctrl-not-live-$(cat "/sys/class/nvme/$ctrl/state")"
# The namespace is shared with the PF, so with native multipath the VF's
# controller shows up as a path (nvmeXcYn1) of the subsystem's nvmeXn1.
ns_has_path() {
	ls -d "/sys/class/nvme/$ctrl"/nvme*n1 >/dev/null 2>&1
}
lab_wait 10 ns_has_path || lab_fail host-sees-no-namespace
path=$(ls -d "/sys/class/nvme/$ctrl"/nvme*n1 | head -n 1)
path=${path##*/}
head=$(echo "$path" | sed 's/c[0-9]*n/n/')
if [ -b "/dev/$head" ]; then
	dd if="/dev/$head" of=/dev/null bs=4096 count=16 2>/dev/null ||
		lab_fail host-read-failed
fi
# Hand it back to vfio-pci for the scenarios that follow.
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
lab_pass "vf=$LAB_VF" "host_ctrl=$ctrl" "ns_path=$path" "rebound=vfio-pci"
