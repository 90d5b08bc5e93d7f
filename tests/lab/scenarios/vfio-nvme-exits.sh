#!/bin/sh
# lab-timeout: 150
# Guest MMIO to an assigned BAR never exits: the NVMe doorbells (BAR0 page
# 1) are a KVM memory slot over VFIO's mmap, so submitting a command and
# acknowledging its completion cost no exit. Two runs of the kit's NVMe
# test differing only in the number of commands must show (about) the
# same VM exit count; exits_per_cmd is the difference over the extra
# commands (an emulated NVMe costs at least 2: SQ tail + CQ head).
. /lab/lib.sh

lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
echo 64 >/proc/sys/vm/nr_hugepages

# run COUNT: sets CMDS and EXITS.
run() {
	local out=$LAB_TMP/iovmm-$1.out result
	lab_iovmm "$out" 120 run --kernel "$LAB_KIT" --mem 64M --hugepages \
		--stats --device "vfio-pci,host=$LAB_VF" \
		--cmdline "test=nvme count=$1"
	result=$(lab_kit_result "$out" nvme)
	echo "$result" | grep -q ' status=pass' || lab_fail "kit-nvme-count-$1"
	CMDS=$(lab_kv cmds "$result")
	EXITS=$(lab_kv exits "$(grep '^iovmm-stats:' "$out")")
	[ -n "$CMDS" ] && [ -n "$EXITS" ] || lab_fail "no-counts-count-$1"
}

run 4
c1=$CMDS e1=$EXITS
run 68
c2=$CMDS e2=$EXITS
extra=$(( c2 - c1 ))
[ "$extra" -gt 0 ] || lab_fail no-extra-commands
# Per 100 commands, to keep integer shell arithmetic.
per100=$(( (e2 - e1) * 100 / extra ))
lab_log "cmds $c1 -> $c2, exits $e1 -> $e2"
[ "$per100" -lt 50 ] || lab_fail doorbells-exit "exits_per_100_cmds=$per100"
lab_pass "cmds=$c1,$c2" "exits=$e1,$e2" "exits_per_100_cmds=$per100"
