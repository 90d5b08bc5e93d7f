#!/bin/sh
# lab-timeout: 150
# Issue 5, scenario 1: iovmm assigns the SR-IOV NVMe VF to a guest kit
# guest (L2) through VFIO. The kit's NVMe driver (test=nvme) gets Identify
# data by DMA through L1's IOMMU (guest RAM mapped at IOVA = GPA), takes
# its completions as MSI-X interrupts (VFIO eventfd -> KVM irqfd) and
# verifies a write/read round trip. Guest RAM is on 2 MiB hugepages, which
# makes the DMA mapping several times faster under the emulated IOMMU; the
# map time and the VM's exit count are reported.
. /lab/lib.sh

lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
echo 64 >/proc/sys/vm/nr_hugepages
out=$LAB_TMP/iovmm.out
# shellcheck disable=SC2086 # VFIO_NVME_RUN_OPTS: vfio-nvme-sandbox.sh
lab_iovmm "$out" 120 run --kernel "$LAB_KIT" --mem 64M --hugepages --stats \
	${VFIO_NVME_RUN_OPTS:-} \
	--device "vfio-pci,host=$LAB_VF" --cmdline "test=nvme"
rc=$?
result=$(lab_kit_result "$out" nvme)
echo "$result" | grep -q ' status=pass' ||
	lab_fail "kit-nvme-$(lab_kv reason "$result")" "exit=$rc"
# The kit exits through isa-debug-exit: value 0 (pass) is status 1.
[ "$rc" -eq 1 ] || lab_fail iovmm-exit-status "exit=$rc"
# Every BAR page that can be a memory slot is one (no fallback to traps).
grep -q 'vfio-pci: warning' "$out" && lab_fail vfio-warnings
irqs=$(lab_kv irqs "$result")
[ "${irqs:-0}" -gt 0 ] || lab_fail no-msix-completions
dma=$(grep '^iovmm-vfio:' "$out")
stats=$(grep '^iovmm-stats:' "$out")
# The VF stays with vfio-pci, ready for the next VM.
[ "$(lab_driver "$LAB_VF")" = vfio-pci ] || lab_fail vf-lost-vfio-pci
lab_pass "vf=$LAB_VF" "cmds=$(lab_kv cmds "$result")" "irqs=$irqs" \
	"us_per_cmd=$(lab_kv us_per_cmd "$result")" \
	"exits=$(lab_kv exits "$stats")" \
	"dma_entries=$(lab_kv dma_entries "$dma")" \
	"dma_map_us=$(lab_kv dma_map_us "$dma")"
