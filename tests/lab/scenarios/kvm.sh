#!/bin/sh
# lab-timeout: 90
# Nested KVM works in L1 (kvm-amd, nested=1 under TCG's SVM) and iovmm runs
# the guest kit on it: the kit's hello test is an L2 guest here.
. /lab/lib.sh

[ -c /dev/kvm ] || lab_fail no-dev-kvm
nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)
out=$LAB_TMP/iovmm.out
t0=$(lab_ms)
lab_iovmm "$out" 60 run --kernel "$LAB_KIT" --mem 64M --cmdline "test=hello"
rc=$?
run_ms=$(( $(lab_ms) - t0 ))
result=$(lab_kit_result "$out" hello)
# The kit exits through isa-debug-exit: value 0 (pass) is status 1.
[ "$rc" -eq 1 ] || lab_fail iovmm-exit-status exit=$rc
echo "$result" | grep -q ' status=pass' || lab_fail kit-hello-failed
lab_pass "nested=${nested:-unknown}" "iovmm_ms=$run_ms" \
	"cpus=$(lab_kv cpus "$result")" \
	"pci_devices=$(lab_kv pci_devices "$result")"
