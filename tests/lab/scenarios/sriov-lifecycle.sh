#!/bin/sh
# lab-timeout: 120
# Issue 6: the VF lifecycle and the CLI's refusals on the real kernel.
# `iovmm sriov destroy` and `create` cycle the NVMe PF's VFs (timed),
# `show --json` reports the SR-IOV capability libpci reads (root in L1) and
# it agrees with sysfs, and every error the issue lists comes back with
# exit status 1 (refused) or 2 (usage) and a message that says why: not an
# SR-IOV device, N > TotalVFs, a different VF count, unknown PF, invalid
# MAC/VLAN, VF settings on a PF without a network interface; and the same
# refusals from `iovmm run --device vfio-pci,pf=...` (exit 2), which must
# leave no lease and no VF bound behind; a pooled guest ended by SIGTERM
# hands its VF back.
# Leaves the PF without VFs: lab_need_vf (and sriov-pool) start from there,
# with the NVMe resource steps VFs need.
. /lab/lib.sh

# expect STATUS TEXT ARGS...: `iovmm sriov ARGS` exits STATUS with TEXT.
n=0
expect() {
	local want=$1 text=$2 out rc
	shift 2
	n=$((n + 1))
	out=$LAB_TMP/expect$n.out
	iovmm sriov "$@" >"$out" 2>&1
	rc=$?
	sed 's/^/  | /' "$out" >&2
	[ "$rc" -eq "$want" ] || lab_fail "exit-$rc-not-$want-for-$(echo "$*" | tr ' ' '_')"
	grep -qF -- "$text" "$out" || lab_fail "message-for-$(echo "$*" | tr ' ' '_')"
}

lab_nvme_pf || lab_fail "$LAB_ERR"
pf=$LAB_PF
pfdev=$(lab_pci_dev "$pf")
lab_e1000e || lab_fail "$LAB_ERR"

if [ "$(cat "$pfdev/sriov_numvfs")" != 0 ]; then
	expect 0 "VFs disabled in" destroy "$pf"
fi
# Create / destroy cycles, timed by iovmm itself.
for i in 1 2; do
	expect 0 "2 VFs enabled in" create "$pf" --vfs 2
	eval "create$i=\$(sed -n 's/.* enabled in \\([0-9]*\\) ms.*/\\1/p' \"\$LAB_TMP/expect\$n.out\")"
	[ "$(cat "$pfdev/sriov_numvfs")" = 2 ] || lab_fail numvfs-not-2
	for v in 0 1; do
		vf=$(readlink "$pfdev/virtfn$v")
		vf=${vf##*/}
		[ -z "$(lab_driver "$vf")" ] || lab_fail "autoprobe-bound-$vf"
	done
	expect 0 "VFs disabled in" destroy "$pf"
	eval "destroy$i=\$(sed -n 's/.* disabled in \\([0-9]*\\) ms.*/\\1/p' \"\$LAB_TMP/expect\$n.out\")"
	[ "$(cat "$pfdev/sriov_numvfs")" = 0 ] || lab_fail numvfs-not-0
	[ -e "$pfdev/virtfn0" ] && lab_fail virtfn0-left
done
expect 0 "1 VF enabled in" create "$pf" --vfs 1
expect 0 "already has 1 VF (autoprobe off)" create "$pf" --vfs 1
expect 1 "already has 1 VF: the kernel only changes the count through 0" \
	create "$pf" --vfs 2
expect 1 "supports at most 2 VFs (sriov_totalvfs), not 3" create "$pf" --vfs 3
expect 1 "is not an SR-IOV device" create "$LAB_E1000E" --vfs 1
expect 1 "unknown PF 'nosuch0'" show nosuch0
expect 1 "unknown PF 0000:7f:00.0" destroy 0000:7f:00.0
expect 1 "is a VF (of $pf), not a PF" show "$(basename "$(readlink "$pfdev/virtfn0")")"
expect 2 "invalid MAC '52:54:00:zz:00:01'" set "$pf" 0 mac=52:54:00:zz:00:01
expect 2 "invalid VLAN '4096'" set "$pf" 0 vlan=4096
expect 1 "has no network interface" set "$pf" 0 trust=on
expect 2 "expected PF --vfs N" create "$pf"
# The same refusals from `iovmm run --device vfio-pci,pf=...` (exit 2,
# before any guest runs), and the run-time ones of the pool.
run_expect() {
	local text=$1 dev=$2 out rc
	n=$((n + 1))
	out=$LAB_TMP/expect$n.out
	iovmm run --kernel "$LAB_KIT" --mem 16M --device "$dev" \
		--cmdline test=hello </dev/null >"$out" 2>&1
	rc=$?
	sed 's/^/  | /' "$out" >&2
	[ "$rc" -eq 2 ] || lab_fail "run-exit-$rc-not-2-for-$dev"
	grep -qF -- "$text" "$out" || lab_fail "run-message-for-$dev"
	grep -q '^RESULT' "$out" && lab_fail "guest-ran-for-$dev"
}
run_expect "unknown PF 'nosuch0'" "vfio-pci,pf=nosuch0"
run_expect "is not an SR-IOV device" "vfio-pci,pf=$LAB_E1000E"
run_expect "host= and pf= exclude each other" "vfio-pci,pf=$pf,host=$pf"
run_expect "invalid MAC '52:54:00:zz:00:01'" "vfio-pci,pf=$pf,mac=52:54:00:zz:00:01"
run_expect "invalid VLAN '4095'" "vfio-pci,pf=$pf,vlan=4095"
run_expect "has no network interface" "vfio-pci,pf=$pf,trust=on"
[ -e "$pfdev/virtfn0" ] || lab_fail vf-gone
vf=$(readlink "$pfdev/virtfn0") && vf=${vf##*/}
[ -z "$(lab_driver "$vf")" ] || lab_fail "refused-run-left-$vf-on-$(lab_driver "$vf")"
ls /run/iovmm/sriov/leases 2>/dev/null | grep -q . && lab_fail refused-run-left-a-lease
# SIGTERM ends a pooled guest the orderly way: exit 128+15, and the VF is
# handed back at once (no stale lease for the next user to repair).
iovmm run --kernel "$LAB_KIT" --mem 16M --device pci-testdev \
	--device "vfio-pci,pf=$pf" --cmdline "test=pio count=1000000000" \
	</dev/null >"$LAB_TMP/term.out" 2>&1 &
t=$!
lab_wait 60 sh -c "ls -l /proc/$t/fd 2>/dev/null | grep -q /dev/vfio/$(lab_group_of "$vf")" ||
	lab_fail sigterm-guest-not-up
kill -TERM "$t"
wait "$t"
rc=$?
sed 's/^/  T| /' "$LAB_TMP/term.out" >&2
[ "$rc" -eq 143 ] || lab_fail "sigterm-exit-$rc"
[ -e "/run/iovmm/sriov/leases/$vf" ] && lab_fail sigterm-lease-left
[ -z "$(lab_driver "$vf")" ] || lab_fail "sigterm-vf-left-on-$(lab_driver "$vf")"
expect 0 "$pf" list --json
# The capability as libpci reads it, in JSON.
expect 0 '"capability":{"offset":' show "$pf" --json
json=$LAB_TMP/expect$n.out
grep -q '"total_vfs":2,"num_vfs":1,' "$json" || lab_fail json-capability
grep -q '"notes":""' "$json" || lab_fail "json-notes-$(sed -n 's/.*"notes":"\([^"]*\)".*/\1/p' "$json" | tr ' ' '-' | head -c 60)"
grep -q '"vf_device":"0010"' "$json" || lab_fail json-vf-device
expect 0 "VFs disabled in" destroy "$pf"
lab_pass "pf=$pf" "create_ms=$create1,$create2" "destroy_ms=$destroy1,$destroy2" \
	"checks=$n"
