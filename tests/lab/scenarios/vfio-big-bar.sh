#!/bin/sh
# lab-timeout: 120
# lab-machine: bigbar
# A GPU-sized BAR assigned: the ivshmem-plain's 16 GiB 64-bit BAR2 is
# placed in iovmm's 64-bit MMIO window and mapped into the guest as one
# memory slot over VFIO's mmap; the kit guest boots and enumerates it.
. /lab/lib.sh

lab_bigbar || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_BIGBAR" || lab_fail "$LAB_ERR"
echo 64 >/proc/sys/vm/nr_hugepages
out=$LAB_TMP/iovmm.out
lab_iovmm "$out" 90 run --kernel "$LAB_KIT" --mem 64M --hugepages \
	--device "vfio-pci,host=$LAB_BIGBAR" --cmdline "test=hello"
rc=$?
result=$(lab_kit_result "$out" hello)
echo "$result" | grep -q ' status=pass' || lab_fail kit-hello-failed "exit=$rc"
[ "$rc" -eq 1 ] || lab_fail iovmm-exit-status "exit=$rc"
# Every BAR page that can be a memory slot is one (no fallback to traps).
grep -q 'vfio-pci: warning' "$out" && lab_fail vfio-warnings
lab_pass "device=$LAB_BIGBAR" "pci_devices=$(lab_kv pci_devices "$result")"
