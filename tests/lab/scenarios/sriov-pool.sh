#!/bin/sh
# lab-timeout: 240
# Issue 6: VF pools on the real SR-IOV code. `iovmm sriov create` enables
# two VFs of the NVMe PF (after the NVMe virtualization-management steps
# QEMU's controller needs: see lab_need_vf in lib.sh), `list` shows them
# with their IOMMU groups, and guest kit guests take VFs with
# `--device vfio-pci,pf=PF`:
#  - guest A holds a VF: `destroy` is refused and names A's pid;
#  - while A runs and VF 1's VFIO group is held open, a guest gets
#    "no free VF" (exit 2, nothing started);
#  - guest B, started while A runs, gets the other VF (never A's);
#  - A is killed with SIGKILL (a crash): its lease is stale, and guest C
#    repairs it (unbinds the VF) and gets that same VF, plus VF 1 with a
#    second pf= device (two pooled VFs in one VM);
#  - when C exits both VFs go back to no driver (each lease is given back
#    only once the VM's VFIO container has closed their groups) and no
#    lease file is left.
# Timings: VF creation, C's lease + vfio-pci bind, C's whole run.
. /lab/lib.sh

leases=/run/iovmm/sriov/leases

# vf_of OUT: the VF a guest's iovmm took from the pool (its log line).
vf_of() {
	sed -n 's/.*vfio-pci: VF \([0-9a-f:.]*\) from the pool.*/\1/p' "$1" |
		head -n 1
}

# holds PID: a lease file names PID as its owner.
holds() {
	grep -qx "pid=$1" "$leases"/* 2>/dev/null
}

lab_nvme_pf || lab_fail "$LAB_ERR"
pf=$LAB_PF
pfdev=$(lab_pci_dev "$pf")
lab_nvme_ctrl "$pf" || lab_fail "$LAB_ERR"
ctrl=/dev/$LAB_CTRL

# ---- two VFs made by iovmm -------------------------------------------------
if [ "$(cat "$pfdev/sriov_numvfs")" != 0 ]; then
	iovmm sriov destroy "$pf" >"$LAB_TMP/destroy0.out" 2>&1 ||
		lab_fail "destroy-$(tr ' ' '-' <"$LAB_TMP/destroy0.out" | head -c 60)"
fi
[ "$(cat "$pfdev/sriov_numvfs")" = 0 ] || lab_fail vfs-left-after-destroy
# The primary controller's flexible resources must be released (effective
# at its next reset) before secondaries can get them.
caps=$(nvme-admin "$ctrl" primary-caps) || lab_fail primary-caps-failed
if [ "$(lab_kv vqrfap "$caps")" != 0 ] || [ "$(lab_kv virfap "$caps")" != 0 ]; then
	cntlid=$(lab_kv cntlid "$caps")
	nvme-admin "$ctrl" virt-mgmt "$cntlid" prim-flex vq 0 >/dev/null &&
	nvme-admin "$ctrl" virt-mgmt "$cntlid" prim-flex vi 0 >/dev/null ||
		lab_fail release-flexible-failed
	echo 1 >"$pfdev/reset" || lab_fail pf-reset-failed
	lab_wait 15 nvme-admin "$ctrl" primary-caps || lab_fail pf-not-back
fi
iovmm sriov create "$pf" --vfs 2 >"$LAB_TMP/create.out" 2>&1 ||
	lab_fail "create-failed-$(head -c 60 "$LAB_TMP/create.out" | tr ' ' '-')"
sed 's/^/  | /' "$LAB_TMP/create.out" >&2
create_ms=$(sed -n 's/.* enabled in \([0-9]*\) ms.*/\1/p' "$LAB_TMP/create.out")
[ "$(cat "$pfdev/sriov_drivers_autoprobe")" = 0 ] || lab_fail autoprobe-on
vf0=$(readlink "$pfdev/virtfn0") && vf0=${vf0##*/}
vf1=$(readlink "$pfdev/virtfn1") && vf1=${vf1##*/}
[ -n "$vf0" ] && [ -n "$vf1" ] || lab_fail no-virtfn-links
# Each secondary controller: 2 queue + 1 interrupt resources, online.
for vfn in 1 2; do
	line=$(nvme-admin "$ctrl" secondary-list | grep " vfn=$vfn " | head -n 1)
	[ -n "$line" ] || lab_fail "no-secondary-vfn$vfn"
	[ "$(lab_kv online "$line")" = 1 ] && continue
	scid=$(lab_kv scid "$line")
	nvme-admin "$ctrl" virt-mgmt "$scid" sec-assign vi $LAB_VF_VI >/dev/null &&
	nvme-admin "$ctrl" virt-mgmt "$scid" sec-assign vq $LAB_VF_VQ >/dev/null &&
	nvme-admin "$ctrl" virt-mgmt "$scid" sec-online vq 0 >/dev/null ||
		lab_fail "secondary-online-failed-vfn$vfn"
done

# ---- list shows the VFs with their groups ---------------------------------
iovmm sriov list >"$LAB_TMP/list.out" 2>&1 || lab_fail list-failed
sed 's/^/  | /' "$LAB_TMP/list.out" >&2
for vf in "$vf0" "$vf1"; do
	g=$(lab_group_of "$vf")
	[ -n "$g" ] || lab_fail "no-group-$vf"
	grep -Eq "^  [0-9]+ +$vf +- +$g +- +- +free" "$LAB_TMP/list.out" ||
		lab_fail "list-lacks-$vf-group-$g"
done
iovmm sriov show "$pf" >"$LAB_TMP/show.out" 2>&1 || lab_fail show-failed
# Root reads the capability: it must agree with sysfs (no notes).
grep -q '^capability: SR-IOV at 0x[0-9a-f]*: TotalVFs 2, InitialVFs 2, NumVFs 2, VF Enable on' \
	"$LAB_TMP/show.out" || lab_fail show-capability
grep -q '^note:' "$LAB_TMP/show.out" && lab_fail "show-note-$(sed -n 's/^note: //p' "$LAB_TMP/show.out" | tr ' ' '-' | head -c 60)"

# ---- guest A holds a VF -----------------------------------------------------
echo 64 >/proc/sys/vm/nr_hugepages
# A long test (15000 writes of 8, 16 or 1 blocks, then the reads: 125000 of
# the namespace's 131072 blocks; each NVMe command takes ~0.6 ms here, so
# about 18 s): A is killed long before it ends.
iovmm run --kernel "$LAB_KIT" --mem 32M --hugepages \
	--device "vfio-pci,pf=$pf" --cmdline "test=nvme count=15000 xfer=512" \
	</dev/null >"$LAB_TMP/a.out" 2>&1 &
a=$!
if ! lab_wait 60 holds "$a"; then
	sed 's/^/  A| /' "$LAB_TMP/a.out" >&2
	lab_fail guest-a-got-no-lease
fi
vfa=$(vf_of "$LAB_TMP/a.out")
[ "$vfa" = "$vf0" ] || lab_fail "guest-a-got-$vfa-not-$vf0"
# Its VFIO group open = the VM is up.
lab_wait 60 sh -c "ls -l /proc/$a/fd | grep -q /dev/vfio/$(lab_group_of "$vf0")" ||
	lab_fail guest-a-group-not-open
iovmm sriov destroy "$pf" >"$LAB_TMP/destroy1.out" 2>&1
rc=$?
sed 's/^/  | /' "$LAB_TMP/destroy1.out" >&2
[ "$rc" -eq 1 ] || lab_fail "destroy-not-refused-exit-$rc"
grep -q "VF $vf0 (vf 0) is assigned to a running guest (iovmm pid $a)" \
	"$LAB_TMP/destroy1.out" || lab_fail destroy-refusal-unclear
[ "$(cat "$pfdev/sriov_numvfs")" = 2 ] || lab_fail vfs-gone-while-leased
iovmm sriov list >"$LAB_TMP/list2.out" 2>&1
grep -q "$vf0 .*leased (iovmm pid $a)" "$LAB_TMP/list2.out" ||
	lab_fail list-lacks-lease

# ---- no free VF: A has VF 0, VF 1's VFIO group is open elsewhere -----------
# (a `host=` user, here this shell holding /dev/vfio/N: the pool skips it).
iovmm vfio bind "$vf1" >"$LAB_TMP/bind1.out" 2>&1 || lab_fail vf1-bind-failed
g1=$(lab_group_of "$vf1")
exec 3<>"/dev/vfio/$g1" || lab_fail "cannot-open-group-$g1"
iovmm run --kernel "$LAB_KIT" --mem 16M --device "vfio-pci,pf=$pf" \
	--cmdline test=hello </dev/null >"$LAB_TMP/d.out" 2>&1
rc=$?
exec 3>&-
sed 's/^/  D| /' "$LAB_TMP/d.out" >&2
[ "$rc" -eq 2 ] || lab_fail "no-free-vf-exit-$rc"
grep -q "no free VF on $pf: 2 VFs, 1 leased by running iovmm (pid $a), 0 bound to host drivers, 1 in use through VFIO" \
	"$LAB_TMP/d.out" || lab_fail no-free-vf-message
iovmm vfio unbind "$vf1" >"$LAB_TMP/unbind1.out" 2>&1 || lab_fail vf1-unbind-failed

# ---- guest B, meanwhile, gets the other VF ----------------------------------
lab_iovmm "$LAB_TMP/b.out" 120 run --kernel "$LAB_KIT" --mem 32M --hugepages \
	--device "vfio-pci,pf=$pf" --cmdline "test=nvme count=2"
rc=$?
lab_kit_result "$LAB_TMP/b.out" nvme | grep -q ' status=pass' ||
	lab_fail "guest-b-nvme-failed-exit-$rc"
[ "$(vf_of "$LAB_TMP/b.out")" = "$vf1" ] || lab_fail guest-b-wrong-vf
if ! kill -0 "$a" 2>/dev/null; then
	sed 's/^/  A| /' "$LAB_TMP/a.out" >&2
	lab_fail guest-a-ended-too-soon
fi
[ -e "$leases/$vf1" ] && lab_fail guest-b-lease-left
[ -z "$(lab_driver "$vf1")" ] || lab_fail "guest-b-vf-left-on-$(lab_driver "$vf1")"

# ---- A crashes; C repairs A's lease and gets that VF ------------------------
kill -KILL "$a"
wait "$a" 2>/dev/null
iovmm sriov list >"$LAB_TMP/list3.out" 2>&1
grep -q "$vf0 .*stale lease (pid $a died)" "$LAB_TMP/list3.out" ||
	lab_fail list-lacks-stale-lease
[ "$(lab_driver "$vf0")" = vfio-pci ] || lab_fail crashed-vf-not-on-vfio-pci
t0=$(lab_ms)
lab_iovmm "$LAB_TMP/c.out" 120 run --kernel "$LAB_KIT" --mem 32M --hugepages \
	--device "vfio-pci,pf=$pf" --device "vfio-pci,pf=$pf" \
	--cmdline "test=nvme count=2"
rc=$?
assign_ms=$(( $(lab_ms) - t0 ))
result=$(lab_kit_result "$LAB_TMP/c.out" nvme)
echo "$result" | grep -q ' status=pass' || lab_fail "guest-c-nvme-failed-exit-$rc"
[ "$rc" -eq 1 ] || lab_fail "guest-c-exit-$rc"
grep -q "repaired the lease of VF $vf0 left by iovmm pid $a" "$LAB_TMP/c.out" ||
	lab_fail guest-c-did-not-repair
[ "$(vf_of "$LAB_TMP/c.out")" = "$vf0" ] || lab_fail guest-c-wrong-vf
grep -q "vfio-pci: VF $vf1 from the pool" "$LAB_TMP/c.out" ||
	lab_fail guest-c-lacks-second-vf
grep -q "stays on vfio-pci" "$LAB_TMP/c.out" && lab_fail guest-c-vf-not-handed-back
lease_ms=$(sed -n 's/.*leased and bound in \([0-9]*\) ms.*/\1/p' "$LAB_TMP/c.out" |
	head -n 1)

# ---- everything handed back --------------------------------------------------
ls "$leases" 2>/dev/null | grep -q . && lab_fail "leases-left-$(ls "$leases" | head -n 1)"
for vf in "$vf0" "$vf1"; do
	[ -z "$(lab_driver "$vf")" ] || lab_fail "$vf-left-on-$(lab_driver "$vf")"
done
lab_pass "pf=$pf" "vfs=$vf0,$vf1" "create_ms=$create_ms" \
	"lease_bind_ms=$lease_ms" "assign_run_ms=$assign_ms" \
	"us_per_cmd=$(lab_kv us_per_cmd "$result")"
