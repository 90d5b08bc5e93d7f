#!/bin/sh
# lab-timeout: 120
# Issue 5, scenario 4: bad cases give clear errors.
# `iovmm run`: assigning a device that cannot be assigned fails before the
# guest starts, with a message that says why and what to do: a BDF that
# does not exist, a device bound to its host driver (the e1000e, and the
# NVMe PF), a device whose IOMMU group is not viable (edu bound to vfio-pci
# while the e1000 sharing its group stays on e1000), a device given twice,
# and a group another process holds.
# `iovmm vfio bind/unbind` (host tools): a BDF that does not exist, the PF
# while its VF is enabled (vfio-pci would refuse it), a device whose group
# another process holds; each refused with its reason, nothing rebound.
. /lab/lib.sh

# expect_fail NAME TEXT HOST [HOST2]: iovmm must refuse to assign HOST (and
# HOST2) with TEXT in its message, before the guest runs.
expect_fail() {
	local name=$1 text=$2 out=$LAB_TMP/$1.out rc
	shift 2
	if [ $# -eq 2 ]; then
		lab_iovmm "$out" 60 run --kernel "$LAB_KIT" --mem 16M \
			--device "vfio-pci,host=$1" --device "vfio-pci,host=$2" \
			--cmdline "test=hello"
	else
		lab_iovmm "$out" 60 run --kernel "$LAB_KIT" --mem 16M \
			--device "vfio-pci,host=$1" --cmdline "test=hello"
	fi
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 1 ] || lab_fail "$name-not-refused" "exit=$rc"
	grep -q "$text" "$out" || lab_fail "$name-unclear-message"
	grep -q '^RESULT' "$out" && lab_fail "$name-guest-ran"
	return 0
}

# expect_tool_fail NAME TEXT ARGS...: `iovmm vfio ARGS` must fail with TEXT.
expect_tool_fail() {
	local name=$1 text=$2 out=$LAB_TMP/$1.out rc
	shift 2
	iovmm vfio "$@" </dev/null >"$out" 2>&1
	rc=$?
	sed 's/^/  | /' "$out" >&2
	[ "$rc" -ne 0 ] || lab_fail "$name-not-refused"
	grep -q "$text" "$out" || lab_fail "$name-unclear-message"
	return 0
}

lab_e1000e || lab_fail "$LAB_ERR"
lab_e1000 || lab_fail "$LAB_ERR"
lab_edu || lab_fail "$LAB_ERR"
lab_nvme_pf || lab_fail "$LAB_ERR"
expect_fail nonexistent "no PCI device 0000:7f:1f.7" 0000:7f:1f.7
lab_bind "$LAB_E1000E" e1000e || lab_fail "$LAB_ERR"
expect_fail not-vfio "is bound to e1000e, not vfio-pci: run iovmm vfio bind" \
	"$LAB_E1000E"
expect_fail pf "is bound to nvme, not vfio-pci" "$LAB_PF"
lab_bind "$LAB_E1000" e1000 || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_EDU" || lab_fail "$LAB_ERR"
expect_fail non-viable "IOMMU group $LAB_GROUP is not viable: $LAB_E1000 .* bound to e1000" \
	"$LAB_EDU"
# The VF: assigned twice to one VM, and while another process holds its
# group (this shell keeps /dev/vfio/N open, as a second VMM would).
lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
expect_fail twice "$LAB_VF is assigned twice" "$LAB_VF" "$LAB_VF"
exec 3<>"/dev/vfio/$LAB_GROUP" || lab_fail cannot-hold-group
expect_fail busy "IOMMU group $LAB_GROUP is in use by another process" "$LAB_VF"
expect_tool_fail tool-busy "group $LAB_GROUP is in use" unbind "$LAB_VF"
[ "$(lab_driver "$LAB_VF")" = vfio-pci ] || lab_fail tool-busy-unbound-anyway
exec 3<&-
# The host tools.
expect_tool_fail tool-nonexistent "no PCI device 0000:7f:1f.7" bind 0000:7f:1f.7
numvfs=$(cat "/sys/bus/pci/devices/$LAB_PF/sriov_numvfs")
expect_tool_fail tool-pf "$LAB_PF is an SR-IOV PF with $numvfs VF" \
	bind "$LAB_PF"
[ "$(lab_driver "$LAB_PF")" = nvme ] || lab_fail tool-pf-rebound
lab_pass "cases=9"
