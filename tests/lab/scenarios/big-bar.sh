#!/bin/sh
# lab-timeout: 60
# lab-machine: bigbar
# A GPU-sized BAR without a GPU: the ivshmem-plain's BAR2 is a 16 GiB 64-bit
# prefetchable memory BAR, placed by L1's firmware above 4 GiB, in its own
# IOMMU group, and vfio-pci takes the device. Passthrough scenarios build
# on this for large-BAR placement (iovmm's 64-bit MMIO window).
. /lab/lib.sh

lab_bigbar || lab_fail "$LAB_ERR"
dev=$(lab_pci_dev "$LAB_BIGBAR")
# sysfs "resource": one "start end flags" line per BAR (hex).
bar2=$(sed -n 3p "$dev/resource")
lab_log "BAR2: $bar2"
# shellcheck disable=SC2086 # split the three fields
set -- $bar2
start=$(printf %d "$1")
end=$(printf %d "$2")
flags=$(printf %d "$3")
size=$((end - start + 1))
[ "$size" -eq $((16 << 30)) ] || lab_fail "bar2-size-$size"
# IORESOURCE_MEM_64 (0x00100000) and IORESOURCE_PREFETCH (0x00002000).
[ $((flags & 0x00100000)) -ne 0 ] || lab_fail bar2-not-64bit
[ $((flags & 0x00002000)) -ne 0 ] || lab_fail bar2-not-prefetchable
[ "$start" -ge $((4 << 30)) ] || lab_fail bar2-below-4g
lab_bind_vfio "$LAB_BIGBAR" || lab_fail "$LAB_ERR"
lab_pass "device=$LAB_BIGBAR" "bar2=$1" "size_gib=$((size >> 30))" \
	"group=$LAB_GROUP"
