#!/bin/sh
# lab-timeout: 150
# Issue 6: a PF owned by vfio-pci (a userspace PF driver's setup). Linux
# then opens the PF's VFs through VFIO only with the VF token the PF's
# owner set (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN). iovmm generates and stores
# the token, programs it into the idle PF (`iovmm sriov token --apply`),
# the kernel refuses the VF without it and accepts it with it, and
# `iovmm run --device vfio-pci,host=VF` passes it on the VF open (the guest
# kit's hello runs), and so does `--device vfio-pci,pf=PF` on the VF it
# takes from the pool; without a stored token iovmm says what is missing.
# Puts the PF back on nvme without VFs afterwards.
. /lab/lib.sh

lab_nvme_pf || lab_fail "$LAB_ERR"
pf=$LAB_PF
pfdev=$(lab_pci_dev "$pf")
param=/sys/module/vfio_pci/parameters/enable_sriov
tokens=/run/iovmm/sriov/tokens

# run_quiet NAME ARGS...: iovmm ARGS, output to $LAB_TMP/NAME.out and the log.
run_quiet() {
	local name=$1 rc
	shift
	iovmm "$@" </dev/null >"$LAB_TMP/$name.out" 2>&1
	rc=$?
	sed 's/^/  | /' "$LAB_TMP/$name.out" >&2
	return $rc
}

# Put everything back, whatever happened (the next scenarios need the PF
# on nvme without VFs; lab_need_vf redoes the NVMe resource steps).
restore() {
	local vf
	vf=$(readlink "$pfdev/virtfn0" 2>/dev/null) && vf=${vf##*/}
	[ -n "$vf" ] && [ "$(lab_driver "$vf")" = vfio-pci ] &&
		run_quiet r-vf vfio unbind "$vf"
	[ "$(cat "$pfdev/sriov_numvfs")" != 0 ] && run_quiet r-destroy sriov destroy "$pf"
	[ "$(lab_driver "$pf")" = vfio-pci ] && run_quiet r-pf vfio unbind "$pf"
	[ -n "$old_param" ] && echo "$old_param" >"$param"
	rm -rf "$LAB_TMP/tokens.saved"
}

fail() {
	restore
	lab_fail "$@"
}

[ -w "$param" ] || lab_fail no-vfio-pci-enable-sriov-param
old_param=$(cat "$param")
[ "$(cat "$pfdev/sriov_numvfs")" = 0 ] ||
	run_quiet destroy sriov destroy "$pf" || fail destroy-failed
rm -f "$tokens/$pf"
run_quiet bind-pf vfio bind "$pf" || fail pf-bind-failed
echo Y >"$param" || fail enable-sriov-param
# The token first, while the PF has no VFs: vfio-pci may reset the PF
# when --apply closes it again, and a PF reset would take VFs away.
run_quiet apply sriov token "$pf" --apply || fail token-apply-failed
token=$(head -n 1 "$LAB_TMP/apply.out")
echo "$token" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' ||
	fail "bad-token-$token"
t0=$(lab_ms)
run_quiet create sriov create "$pf" --vfs 1 || fail create-on-vfio-pci-pf-failed
create_ms=$(( $(lab_ms) - t0 ))
grep -q "its VFs open with VF token $token" "$LAB_TMP/create.out" ||
	fail create-did-not-name-token
vf=$(readlink "$pfdev/virtfn0") && vf=${vf##*/}
[ -n "$vf" ] || fail no-virtfn0
run_quiet bind-vf vfio bind "$vf" || fail vf-bind-failed

# The kernel's verdict on the VF open, without and with the token.
run_quiet check sriov token "$pf" --check "$vf" || fail check-with-token-refused
grep -q "open $vf without a VF token: Permission denied" "$LAB_TMP/check.out" ||
	fail vf-opened-without-token
grep -q "open $vf with the VF token of $pf: accepted" "$LAB_TMP/check.out" ||
	fail check-output

# iovmm run hands the token to VFIO.
lab_iovmm "$LAB_TMP/run.out" 90 run --kernel "$LAB_KIT" --mem 16M \
	--device "vfio-pci,host=$vf" --cmdline "test=hello"
rc=$?
lab_kit_result "$LAB_TMP/run.out" hello | grep -q ' status=pass' ||
	fail "guest-with-token-failed-exit-$rc"
[ "$rc" -eq 1 ] || fail "guest-exit-$rc"
# A VF from the pool of that PF opens with the token too.
lab_iovmm "$LAB_TMP/pool.out" 90 run --kernel "$LAB_KIT" --mem 16M \
	--device "vfio-pci,pf=$pf" --cmdline "test=hello"
rc=$?
lab_kit_result "$LAB_TMP/pool.out" hello | grep -q ' status=pass' ||
	fail "pooled-guest-with-token-failed-exit-$rc"
grep -q "vfio-pci: VF $vf from the pool of $pf" "$LAB_TMP/pool.out" ||
	fail pooled-vf-not-named
[ -e "/run/iovmm/sriov/leases/$vf" ] && fail pooled-lease-left
# Without a stored token: refused before the guest runs, saying why.
mkdir -p "$LAB_TMP/tokens.saved" && mv "$tokens/$pf" "$LAB_TMP/tokens.saved/"
lab_iovmm "$LAB_TMP/run2.out" 60 run --kernel "$LAB_KIT" --mem 16M \
	--device "vfio-pci,host=$vf" --cmdline "test=hello"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 1 ] || fail "ran-without-token-exit-$rc"
grep -q "needs the VF token its PF driver set" "$LAB_TMP/run2.out" ||
	fail no-token-message-unclear
grep -q '^RESULT' "$LAB_TMP/run2.out" && fail guest-ran-without-token

restore
[ "$(lab_driver "$pf")" = nvme ] || lab_fail "pf-back-on-$(lab_driver "$pf")"
[ "$(cat "$pfdev/sriov_numvfs")" = 0 ] || lab_fail vfs-left
lab_pass "pf=$pf" "vf=$vf" "token=$token" "create_ms=$create_ms"
