#!/bin/sh
# lab-timeout: 150
# Issue 5, scenario 2: the guest programs the assigned VF to DMA to a
# guest-physical address outside its RAM (test=nvme-dma-fault, 0x3f00000000).
# Nothing is mapped there in the IOMMU, so L1's VT-d blocks the write and
# logs a DMAR fault for the VF; iovmm keeps running: the kit then does a
# normal Identify (and Read) into RAM, which must still work (after=ok),
# and the VM ends normally.
. /lab/lib.sh

gpa=0x3f00000000
lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
echo 64 >/proc/sys/vm/nr_hugepages
lab_dmesg_mark
out=$LAB_TMP/iovmm.out
lab_iovmm "$out" 120 run --kernel "$LAB_KIT" --mem 64M --hugepages \
	--device "vfio-pci,host=$LAB_VF" --cmdline "test=nvme-dma-fault gpa=$gpa"
rc=$?
result=$(lab_kit_result "$out" nvme-dma-fault)
echo "$result" | grep -q ' status=pass' ||
	lab_fail "kit-dma-fault-$(lab_kv reason "$result")" "exit=$rc"
[ "$rc" -eq 1 ] || lab_fail iovmm-exit-status "exit=$rc"
[ "$(lab_kv after "$result")" = ok ] || lab_fail device-dead-after-fault
# dmesg names the requester as bus:dev.fn without the domain.
fault=$(lab_dmesg_new | grep "DMAR: \[DMA .*\] Request device \[${LAB_VF#0000:}\] fault addr $gpa" | head -n 1)
[ -n "$fault" ] || lab_fail no-dmar-fault-logged
lab_log "$fault"
reason=$(echo "$fault" | sed -n 's/.*fault reason \(0x[0-9a-f]*\).*/\1/p')
lab_pass "vf=$LAB_VF" "gpa=$gpa" "cmd=$(lab_kv cmd "$result")" \
	"dmar_reason=${reason:-unknown}" "after=ok"
