#!/bin/sh
# lab-timeout: 150
# Several assigned devices share one VFIO container (one IOMMU domain, one
# mapping of guest RAM): the NVMe VF and the e1000e, each in its own IOMMU
# group, go to the same guest; the NVMe test still passes and guest RAM is
# mapped once.
. /lab/lib.sh

lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
g1=$LAB_GROUP
lab_e1000e || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_E1000E" || lab_fail "$LAB_ERR"
g2=$LAB_GROUP
[ "$g1" != "$g2" ] || lab_fail same-group
echo 64 >/proc/sys/vm/nr_hugepages
out=$LAB_TMP/iovmm.out
lab_iovmm "$out" 120 run --kernel "$LAB_KIT" --mem 64M --hugepages --stats \
	--device "vfio-pci,host=$LAB_VF" --device "vfio-pci,host=$LAB_E1000E" \
	--cmdline "test=nvme count=4"
rc=$?
lab_kit_result "$out" nvme | grep -q ' status=pass' ||
	lab_fail kit-nvme-failed "exit=$rc"
[ "$rc" -eq 1 ] || lab_fail iovmm-exit-status "exit=$rc"
maps=$(grep -c 'guest RAM mapped for DMA' "$out")
[ "$maps" -eq 1 ] || lab_fail "guest-ram-mapped-$maps-times"
dma=$(grep '^iovmm-vfio:' "$out")
# Hand the e1000e back to its driver for the scenarios that follow.
lab_bind "$LAB_E1000E" e1000e || lab_fail "$LAB_ERR"
lab_pass "groups=$g1,$g2" "dma_entries=$(lab_kv dma_entries "$dma")"
