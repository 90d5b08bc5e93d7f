#!/bin/sh
# lab-timeout: 60
# `iovmm vfio list` against the real sysfs of L1 (issue 5, host tools): it
# must list the NVMe PF (as an SR-IOV PF with its VF count), its VF (with
# the PF it belongs to) and the e1000e, each in the IOMMU group sysfs says,
# with IDs, drivers and names from pci.ids; a group whose member keeps a
# host driver is reported not viable (and why), a group bound to vfio-pci
# viable; every IOMMU group of L1 appears once. The --json form names the
# same VF.
. /lab/lib.sh

lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
lab_e1000e || lab_fail "$LAB_ERR"
lab_bind "$LAB_E1000E" e1000e || lab_fail "$LAB_ERR"
lab_e1000 || lab_fail "$LAB_ERR"
lab_bind "$LAB_E1000" e1000 || lab_fail "$LAB_ERR"

out=$LAB_TMP/list.out
iovmm vfio list >"$out" 2>&1
rc=$?
sed 's/^/  | /' "$out" >&2
[ "$rc" -eq 0 ] || lab_fail list-failed "exit=$rc"

# Columns: GROUP VIABLE BDF ID CLASS DRIVER SR-IOV(1-3 words) DESCRIPTION.
row() {
	awk -v b="$1" '$3 == b' "$out"
}

# check NAME BDF VIABLE: BDF's row exists once, with sysfs's group, ID and
# driver and the expected viability; sets ROW.
check() {
	local name=$1 bdf=$2 viable=$3 n drv
	n=$(row "$bdf" | wc -l)
	[ "$n" -eq 1 ] || lab_fail "$name-listed-$n-times"
	ROW=$(row "$bdf")
	drv=$(lab_driver "$bdf")
	set -- $ROW
	[ "$1" = "$(lab_group_of "$bdf")" ] || lab_fail "$name-wrong-group" "listed=$1"
	[ "$2" = "$viable" ] || lab_fail "$name-viable-$2"
	[ "$4" = "$(lab_pci_id "$bdf")" ] || lab_fail "$name-wrong-id" "listed=$4"
	[ "$6" = "${drv:--}" ] || lab_fail "$name-wrong-driver" "listed=$6"
}

numvfs=$(cat "/sys/bus/pci/devices/$LAB_PF/sriov_numvfs")
totalvfs=$(cat "/sys/bus/pci/devices/$LAB_PF/sriov_totalvfs")
check pf "$LAB_PF" no
echo "$ROW" | grep -q " PF $numvfs/$totalvfs VFs " || lab_fail pf-sriov-role
echo "$ROW" | grep -q 'NVM Express' || lab_fail pf-no-name
pf_group=$(lab_group_of "$LAB_PF")
check vf "$LAB_VF" yes
echo "$ROW" | grep -q " VF of $LAB_PF " || lab_fail vf-sriov-role
vf_group=$(lab_group_of "$LAB_VF")
check e1000e "$LAB_E1000E" no
echo "$ROW" | grep -q '82574L' || lab_fail e1000e-no-name
e1000e_group=$(lab_group_of "$LAB_E1000E")
# Groups with a host driver say who blocks them.
for bdf in "$LAB_PF" "$LAB_E1000E" "$LAB_E1000"; do
	g=$(lab_group_of "$bdf")
	grep -q "^group $g is not viable: $bdf is bound to $(lab_driver "$bdf")\$" "$out" ||
		lab_fail "no-blocker-line-group-$g"
done
# The VF's group is viable, so no blocker line for it.
grep -q "^group $vf_group is not viable" "$out" && lab_fail vf-group-blocker
# Every group once, nothing else.
listed=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }' "$out" | sort -un | tr '\n' ' ')
sysfs=$(ls /sys/kernel/iommu_groups | sort -n | tr '\n' ' ')
[ "$listed" = "$sysfs" ] || lab_fail group-set-differs "listed=$(echo $listed | tr ' ' ,)"
devs=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/' "$out" | wc -l)
members=0
for m in /sys/kernel/iommu_groups/*/devices/*; do
	members=$((members + 1))
done
[ "$devs" -eq "$members" ] ||
	lab_fail device-count-differs "listed=$devs" "sysfs=$members"

iovmm vfio list --json >"$LAB_TMP/list.json" 2>&1 || lab_fail json-failed
grep -q "\"bdf\":\"$LAB_VF\"[^}]*\"sriov\":{\"role\":\"vf\",\"physfn\":\"$LAB_PF\"}" \
	"$LAB_TMP/list.json" || lab_fail json-no-vf

lab_pass "groups=$(echo $sysfs | wc -w)" "devices=$devs" \
	"pf=$LAB_PF/$pf_group" "vf=$LAB_VF/$vf_group" \
	"e1000e=$LAB_E1000E/$e1000e_group"
