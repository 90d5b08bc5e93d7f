#!/bin/sh
# lab-timeout: 60
# Hand the NVMe VF to vfio-pci the way an operator would without iovmm's
# tools (driver_override + drivers_probe: autoprobe is off for VFs) and
# check the VFIO group device node appears and the group is viable (its only
# member is the VF). Leaves the VF bound for the passthrough scenarios.
. /lab/lib.sh

lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
members=$(ls "/sys/kernel/iommu_groups/$LAB_GROUP/devices")
lab_log "group $LAB_GROUP: $members"
for m in $members; do
	drv=$(lab_driver "$m")
	[ -z "$drv" ] || [ "$drv" = vfio-pci ] || lab_fail "group-not-viable-$m-$drv"
done
[ -c /dev/vfio/vfio ] || lab_fail no-dev-vfio-container
lab_pass "vf=$LAB_VF" "group=$LAB_GROUP" "driver=$(lab_driver "$LAB_VF")" \
	"members=$(echo "$members" | tr '\n ' ',,' | sed 's/,$//')"
