#!/bin/sh
# lab-timeout: 180
# Issue 5, scenario 3: the lab's e1000e (8086:10d3) assigned to a kit guest
# through VFIO, the way the NVMe VF is (test=e1000e-passthru):
#  - config space: the guest sees the host function's vendor/device, class
#    and BARs (type and size of each, compared with L1's sysfs), and a
#    capability list that is a filtered copy of the host's with MSI, PCIe
#    and MSI-X in it;
#  - BAR access without exits: BAR0 is a KVM memory slot over VFIO's mmap,
#    so two runs differing only in the number of register accesses (STATUS
#    reads + IMC writes) show the same exit count; with no-mmap=0 (BAR0
#    trapped) the same difference costs one exit per access - the contrast
#    proves the counter sees MMIO exits;
#  - an MSI delivered: each ICS write (interrupt cause set, IMS enabling
#    it) reaches the guest as an interrupt on its IDT vector, through
#    VFIO's eventfd and KVM's irqfd, in every run, and none arrives with
#    no cause raised (a cause still pending when the NIC's throttling
#    interval ends is signalled again: counted as redelivered).
# Leaves the e1000e bound to its host driver again.
. /lab/lib.sh

small=16
big=516 # 2 * 500 more register accesses than the small run
irqs=16

lab_e1000e || lab_fail "$LAB_ERR"
dev=/sys/bus/pci/devices/$LAB_E1000E

# host_bars: the BARs in the kit's format (test_e1000e.c): type:size for
# BARs 0-5 from sysfs `resource` (IORESOURCE_IO 0x100, _MEM 0x200,
# _MEM_64 0x100000), "-" where none (the upper half of a 64-bit BAR too).
host_bars() {
	local i=0 start end flags out="" w
	while [ $i -lt 6 ] && read -r start end flags; do
		if [ $((end)) -eq 0 ]; then
			w=-
		elif [ $((flags & 0x100)) -ne 0 ]; then
			w=io:$((end - start + 1))
		elif [ $((flags & 0x100000)) -ne 0 ]; then
			w=m64:$((end - start + 1))
		else
			w=m32:$((end - start + 1))
		fi
		out="$out${out:+,}$w"
		i=$((i + 1))
	done <"$dev/resource"
	echo "$out"
}

# host_caps: capability IDs of the host function, in list order.
host_caps() {
	local ptr n=0 out="" id
	# shellcheck disable=SC2046 # one positional parameter per byte
	set -- $(od -An -tx1 -v -N 256 "$dev/config")
	[ $(( 0x$7 & 0x10 )) -ne 0 ] || { echo none; return; }
	eval "ptr=\$((0x\${$((0x34 + 1))} & 0xfc))"
	while [ "$ptr" -ge 64 ] && [ $n -lt 24 ]; do
		eval "id=\${$((ptr + 1))}"
		out="$out${out:+,}$id"
		eval "ptr=\$((0x\${$((ptr + 2))} & 0xfc))"
		n=$((n + 1))
	done
	echo "${out:-none}"
}

want_id=$(lab_pci_id "$LAB_E1000E")
want_bars=$(host_bars)
want_class=$(cat "$dev/class")
# Read the capability list while the host driver owns the function.
want_caps=$(host_caps)
lab_log "host: id=$want_id class=$want_class bars=$want_bars caps=$want_caps"
lab_bind_vfio "$LAB_E1000E" || lab_fail "$LAB_ERR"
echo 64 >/proc/sys/vm/nr_hugepages

# run NAME COUNT [DEVICE-OPTIONS]: sets RESULT and EXITS.
run() {
	local out=$LAB_TMP/$1-$2.out rc
	lab_iovmm "$out" 60 run --kernel "$LAB_KIT" --mem 64M --hugepages \
		--stats --device "vfio-pci,host=$LAB_E1000E$3" \
		--cmdline "test=e1000e-passthru count=$2 irqs=$irqs"
	rc=$?
	RESULT=$(lab_kit_result "$out" e1000e-passthru)
	echo "$RESULT" | grep -q ' status=pass' ||
		lab_fail "kit-$1-$(lab_kv reason "$RESULT")" "exit=$rc"
	[ "$rc" -eq 1 ] || lab_fail "$1-iovmm-exit-status" "exit=$rc"
	EXITS=$(lab_kv exits "$(grep '^iovmm-stats:' "$out")")
	[ -n "$EXITS" ] || lab_fail "$1-no-exit-count"
	# Every raise brought an MSI (the kit fails on early or stray ones).
	[ "$(lab_kv rounds "$RESULT")" = "$irqs" ] || lab_fail "$1-msi-rounds"
	REDELIVERED=$((REDELIVERED + $(lab_kv redelivered "$RESULT")))
	if [ -z "$3" ]; then
		grep -q 'vfio-pci: warning' "$out" && lab_fail vfio-warnings
	fi
	return 0
}

REDELIVERED=0
run mmap $small
first=$RESULT
e1=$EXITS
run mmap $big
e2=$EXITS
ns_mmap=$(lab_kv ns_per_access "$RESULT")
us_irq=$(lab_kv us_per_irq "$RESULT")
run trap $small ",no-mmap=0"
t1=$EXITS
run trap $big ",no-mmap=0"
t2=$EXITS
ns_trap=$(lab_kv ns_per_access "$RESULT")

# Config space as the guest saw it.
[ "$(lab_kv id "$first")" = "$want_id" ] ||
	lab_fail guest-id-differs "guest=$(lab_kv id "$first")"
[ "$(lab_kv class "$first")" = "$want_class" ] ||
	lab_fail guest-class-differs "guest=$(lab_kv class "$first")"
[ "$(lab_kv bars "$first")" = "$want_bars" ] ||
	lab_fail guest-bars-differ "guest=$(lab_kv bars "$first")" "host=$want_bars"
caps=$(lab_kv caps "$first")
for c in $(echo "$caps" | tr , ' '); do
	echo ",$want_caps," | grep -q ",$c," || lab_fail "guest-cap-$c-not-on-host"
done
for c in 05 10 11; do
	echo ",$caps," | grep -q ",$c," || lab_fail "guest-cap-$c-missing" "caps=$caps"
done

accesses=$(( 2 * (big - small) ))
mmap_extra=$(( e2 - e1 ))
trap_extra=$(( t2 - t1 ))
lab_log "exits: mmap $e1 -> $e2, trapped $t1 -> $t2 for $accesses more accesses"
# Mapped: at most 1 exit per 100 accesses (timer noise), really ~0.
[ $(( mmap_extra * 100 )) -le "$accesses" ] ||
	lab_fail mmio-exits-with-mmap "extra=$mmap_extra" "accesses=$accesses"
# Trapped: one exit per access (allow 10% either way for noise).
[ $(( trap_extra * 10 )) -ge $(( accesses * 9 )) ] &&
	[ $(( trap_extra * 10 )) -le $(( accesses * 11 )) ] ||
	lab_fail trapped-exit-count "extra=$trap_extra" "accesses=$accesses"

lab_bind "$LAB_E1000E" e1000e || lab_fail "$LAB_ERR"
lab_pass "device=$LAB_E1000E" "group=$LAB_GROUP" "id=$want_id" \
	"bars=$want_bars" "caps=$caps" "accesses=$accesses" \
	"exits_mmap=$mmap_extra" "exits_trapped=$trap_extra" \
	"ns_per_access_mmap=$ns_mmap" "ns_per_access_trapped=$ns_trap" \
	"msi_rounds=$((4 * irqs))" "msi_redelivered=$REDELIVERED" \
	"us_per_irq=$us_irq"
