#!/bin/sh
# lab-timeout: 60
# SR-IOV on QEMU's NVMe: release the PF's flexible resources, reset it,
# enable one VF with driver autoprobe off and bring its secondary controller
# online (lab_need_vf in lib.sh has the why of each step). Checks the VF is
# a real PCI function of the PF: IDs, physfn link, no driver, own group.
. /lab/lib.sh

lab_need_vf || lab_fail "$LAB_ERR"
vfdev=$(lab_pci_dev "$LAB_VF")
id=$(lab_pci_id "$LAB_VF")
[ "$id" = 1b36:0010 ] || lab_fail "vf-id-$id"
pf=$(readlink "$vfdev/physfn")
[ "${pf##*/}" = "$LAB_PF" ] || lab_fail vf-physfn-mismatch
drv=$(lab_driver "$LAB_VF")
# Nothing but vfio-pci may own it (a previous scenario may have bound it).
[ -z "$drv" ] || [ "$drv" = vfio-pci ] || lab_fail "vf-bound-to-$drv"
lab_group "$LAB_VF" || lab_fail "$LAB_ERR"
vf_group=$LAB_GROUP
lab_group "$LAB_PF" || lab_fail "$LAB_ERR"
[ "$vf_group" != "$LAB_GROUP" ] || lab_fail vf-shares-pf-group
line=$(lab_secondary_line)
lab_log "secondary controller: $line"
[ "$(lab_kv online "$line")" = 1 ] || lab_fail secondary-offline
[ "$(lab_kv nvq "$line")" = "$LAB_VF_VQ" ] || lab_fail secondary-vq-count
[ "$(lab_kv nvi "$line")" = "$LAB_VF_VI" ] || lab_fail secondary-vi-count
lab_pass "pf=$LAB_PF" "vf=$LAB_VF" "vf_group=$vf_group" \
	"numvfs=$(cat "$(lab_pci_dev "$LAB_PF")/sriov_numvfs")" \
	"scid=$(lab_kv scid "$line")"
