# Shell library for lab scenarios; sourced (`. /lab/lib.sh`) by every script
# in scenarios/, inside L1 under busybox sh. See docs/lab.md.
#
# Conventions:
# - a scenario ends by calling lab_pass or lab_fail exactly once: that prints
#   its single "LAB-RESULT scenario=NAME status=... time_ms=N ..." line and
#   exits the script;
# - helpers return 0 on success, or 1 with a one-word reason in LAB_ERR, so a
#   scenario reads `lab_need_vf || lab_fail "$LAB_ERR"`; helpers that can
#   fail hand back values in LAB_* variables, never on stdout (a command
#   substitution would run them in a subshell and lose LAB_ERR);
# - lab_log writes to stderr, which /init sends to the console too;
# - setup helpers (lab_need_vf, lab_bind_vfio) are idempotent: a scenario
#   asks for the state it needs, whatever ran before it or did not.
#
# Environment set by /init: LAB_SCENARIO, LAB_T0_MS (scenario start),
# LAB_RESULT_FILE, LAB_DIR (/lab), LAB_KIT (guest kit ELF), LAB_VMLINUZ (the
# lab's own kernel, for Linux L2 guests), LAB_VMLINUX (the same kernel as a
# PVH ELF, with "# lab-initrd: vmlinux"), LAB_TMP (a per-scenario directory).

# shellcheck disable=SC2034 # read by the scenarios
LAB_ERR=""

# Milliseconds since L1 booted (/proc/uptime has 10 ms resolution; busybox
# date has no %N).
lab_ms() {
	local up cs
	read -r up _ </proc/uptime
	cs=${up%.*}${up#*.}
	# No leading zeros: shell arithmetic would read octal.
	while [ "${cs#0}" != "$cs" ] && [ ${#cs} -gt 1 ]; do
		cs=${cs#0}
	done
	echo $(( cs * 10 ))
}

lab_log() {
	echo "lab[$LAB_SCENARIO]: $*" >&2
}

# lab_result pass|fail [key=value...]: the scenario's one result line.
lab_result() {
	local status=$1 line
	shift
	line="LAB-RESULT scenario=$LAB_SCENARIO status=$status"
	line="$line time_ms=$(( $(lab_ms) - LAB_T0_MS ))"
	[ $# -gt 0 ] && line="$line $*"
	if [ -s "$LAB_RESULT_FILE" ]; then
		# A second verdict is a scenario bug: a second LAB-RESULT line
		# makes the host grade the scenario failed.
		echo "LAB-RESULT scenario=$LAB_SCENARIO status=fail time_ms=0 reason=second-result"
		exit 1
	fi
	echo "$line" >"$LAB_RESULT_FILE"
	echo "$line"
	[ "$status" = pass ]
	exit $?
}

lab_pass() {
	lab_result pass "$@"
}

# lab_fail REASON [key=value...]: REASON becomes one word.
lab_fail() {
	local reason
	reason=$(echo "${1:-unknown}" | tr -c 'A-Za-z0-9_.:/,\n-' '-')
	shift
	lab_result fail "reason=$reason" "$@"
}

# lab_err REASON: set LAB_ERR and return 1 (for helpers).
lab_err() {
	# shellcheck disable=SC2034 # read by the scenarios
	LAB_ERR=$1
	lab_log "error: $1"
	return 1
}

lab_nonempty_dir() {
	[ -n "$(ls "$1" 2>/dev/null)" ]
}

# lab_wait SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
lab_wait() {
	local deadline=$(( $(lab_ms) + $1 * 1000 ))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(lab_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# ---- PCI -------------------------------------------------------------------

lab_pci_dev() {
	echo "/sys/bus/pci/devices/$1"
}

# lab_pci_id BDF: "1b36:0010". (Shell builtins only: every fork costs
# milliseconds under TCG.)
lab_pci_id() {
	local v d
	read -r v <"/sys/bus/pci/devices/$1/vendor" 2>/dev/null || return 1
	read -r d <"/sys/bus/pci/devices/$1/device" || return 1
	echo "${v#0x}:${d#0x}"
}

# lab_pci_find VENDOR:DEVICE: every BDF with that ID, one per line.
lab_pci_find() {
	local d v dev
	for d in /sys/bus/pci/devices/*; do
		read -r v <"$d/vendor"
		read -r dev <"$d/device"
		[ "${v#0x}:${dev#0x}" = "$1" ] && echo "${d##*/}"
	done
	return 0
}

# lab_driver BDF: the bound driver's name, empty when none.
lab_driver() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || return 0
	echo "${l##*/}"
}

# lab_group_of BDF: the device's IOMMU group number, empty when none.
lab_group_of() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/iommu_group" 2>/dev/null) || return 0
	echo "${l##*/}"
}

# lab_group BDF: set LAB_GROUP to the device's IOMMU group number.
lab_group() {
	LAB_GROUP=$(lab_group_of "$1")
	[ -n "$LAB_GROUP" ] || lab_err "no-iommu-group-$1"
}

# lab_pci_summary: one line per PCI function (for logs).
lab_pci_summary() {
	local d bdf sriov
	for d in /sys/bus/pci/devices/*; do
		bdf=${d##*/}
		sriov=""
		[ -r "$d/sriov_totalvfs" ] &&
			sriov=" sriov=$(cat "$d/sriov_numvfs")/$(cat "$d/sriov_totalvfs")"
		echo "  $bdf $(lab_pci_id "$bdf") class=$(cat "$d/class")" \
			"driver=$(lab_driver "$bdf") group=$(lab_group_of "$bdf")$sriov"
	done
}

# lab_nvme_pf: set LAB_PF to the SR-IOV capable NVMe controller (QEMU's
# 1b36:0010 with an SR-IOV capability).
lab_nvme_pf() {
	local bdf
	for bdf in $(lab_pci_find 1b36:0010); do
		if [ -r "$(lab_pci_dev "$bdf")/sriov_totalvfs" ]; then
			LAB_PF=$bdf
			return 0
		fi
	done
	lab_err no-sriov-nvme-pf
}

# lab_find VAR VENDOR:DEVICE: set variable VAR to the first function with
# that ID.
lab_find() {
	local bdf
	bdf=$(lab_pci_find "$2" | head -n 1)
	[ -n "$bdf" ] || lab_err "no-device-$2" || return 1
	eval "$1=\$bdf"
}

# The lab machine's other devices (tests/lab/run.sh):
# LAB_E1000E: the e1000e (82574L) on its own root port and group;
# LAB_E1000, LAB_EDU: the 00:05.0 e1000 (82540EM, bound to e1000) and
# 00:05.1 edu (driverless), one multi-function device sharing a group;
# LAB_BIGBAR: the ivshmem-plain with a 16 GiB BAR2 (scenarios with
# "# lab-machine: bigbar" only).
lab_e1000e() {
	lab_find LAB_E1000E 8086:10d3
}

lab_e1000() {
	lab_find LAB_E1000 8086:100e
}

lab_edu() {
	lab_find LAB_EDU 1234:11e8
}

lab_bigbar() {
	lab_find LAB_BIGBAR 1af4:1110
}

# lab_bind BDF DRIVER: hand BDF to DRIVER through driver_override (which also
# works with sriov_drivers_autoprobe off and for IDs the driver's table does
# not list, e.g. vfio-pci), then check it took.
lab_bind() {
	local bdf=$1 drv=$2 d
	d=$(lab_pci_dev "$bdf")
	[ -d "$d" ] || lab_err "no-such-device-$bdf" || return 1
	[ "$(lab_driver "$bdf")" = "$drv" ] && return 0
	echo "$drv" >"$d/driver_override" ||
		lab_err driver-override-failed || return 1
	if [ -e "$d/driver" ]; then
		echo "$bdf" >"$d/driver/unbind" || lab_err unbind-failed || return 1
	fi
	echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(lab_driver "$bdf")" = "$drv" ] ||
		lab_err "bind-$drv-failed" || return 1
	lab_log "$bdf bound to $drv"
}

# lab_unbind_restore BDF: clear driver_override and let the kernel pick the
# device's own driver again (the host-driver rebind after passthrough).
lab_unbind_restore() {
	local bdf=$1 d
	d=$(lab_pci_dev "$bdf")
	[ -d "$d" ] || lab_err "no-such-device-$bdf" || return 1
	echo >"$d/driver_override" || lab_err driver-override-failed || return 1
	if [ -e "$d/driver" ]; then
		echo "$bdf" >"$d/driver/unbind" || lab_err unbind-failed || return 1
	fi
	echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
	lab_log "$bdf now bound to '$(lab_driver "$bdf")'"
}

# lab_bind_vfio BDF: bind to vfio-pci and wait for /dev/vfio/GROUP; sets
# LAB_GROUP.
lab_bind_vfio() {
	local bdf=$1
	lab_group "$bdf" || return 1
	lab_bind "$bdf" vfio-pci || return 1
	lab_wait 5 test -c "/dev/vfio/$LAB_GROUP" ||
		lab_err "no-dev-vfio-$LAB_GROUP"
}

# ---- NVMe SR-IOV -------------------------------------------------------------

# lab_nvme_ctrl BDF: set LAB_CTRL to the controller name (nvme0) of an NVMe
# function bound to the nvme driver, once its character device exists.
lab_nvme_ctrl() {
	local d
	d=$(lab_pci_dev "$1")/nvme
	lab_wait 10 lab_nonempty_dir "$d" ||
		lab_err "no-nvme-ctrl-$1" || return 1
	LAB_CTRL=$(ls "$d" | head -n 1)
	lab_wait 10 test -c "/dev/$LAB_CTRL" || lab_err "no-dev-$LAB_CTRL"
}

# lab_kv KEY LINE: the value of key=value word KEY in LINE.
lab_kv() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# The VF needs 2 queue resources (admin + one I/O queue pair) and 1
# interrupt resource (its MSI-X vector 0 serves both queues).
LAB_VF_VQ=2
LAB_VF_VI=1

# lab_need_vf: make sure VF 0 of the NVMe PF exists, is driverless (autoprobe
# off) and its secondary controller is online with resources. Sets LAB_PF,
# LAB_VF and LAB_PF_CTRL. The sequence (QEMU hw/nvme with sriov_max_vfs):
#  1. release the primary controller's flexible resources (VQ and VI) so
#     they can move to secondaries; they are only released at the next
#     controller reset, hence
#  2. reset the PF (a function-level reset through sysfs) and wait for the
#     nvme driver to bring the controller back;
#  3. sriov_drivers_autoprobe=0 so no host driver grabs the VF, then
#     sriov_numvfs=1;
#  4. assign VQ and VI resources to the VF's secondary controller and put it
#     online; before that its controller never becomes ready (CSTS.RDY).
lab_need_vf() {
	local pfdev caps cntlid sec scid line
	lab_nvme_pf || return 1
	pfdev=$(lab_pci_dev "$LAB_PF")
	lab_nvme_ctrl "$LAB_PF" || return 1
	LAB_PF_CTRL=$LAB_CTRL
	if [ "$(cat "$pfdev/sriov_numvfs")" = 0 ]; then
		caps=$(nvme-admin "/dev/$LAB_PF_CTRL" primary-caps) ||
			lab_err primary-caps-failed || return 1
		lab_log "primary: $caps"
		cntlid=$(lab_kv cntlid "$caps")
		nvme-admin "/dev/$LAB_PF_CTRL" virt-mgmt "$cntlid" prim-flex vq 0 &&
		nvme-admin "/dev/$LAB_PF_CTRL" virt-mgmt "$cntlid" prim-flex vi 0 ||
			lab_err release-flexible-failed || return 1
		echo 1 >"$pfdev/reset" || lab_err pf-reset-failed || return 1
		lab_wait 15 nvme-admin "/dev/$LAB_PF_CTRL" primary-caps ||
			lab_err pf-not-back-after-reset || return 1
		echo 0 >"$pfdev/sriov_drivers_autoprobe" ||
			lab_err autoprobe-off-failed || return 1
		echo 1 >"$pfdev/sriov_numvfs" || lab_err numvfs-failed || return 1
	fi
	lab_wait 5 test -e "$pfdev/virtfn0" || lab_err no-virtfn0 || return 1
	LAB_VF=$(readlink "$pfdev/virtfn0")
	LAB_VF=${LAB_VF##*/}
	sec=$(nvme-admin "/dev/$LAB_PF_CTRL" secondary-list) ||
		lab_err secondary-list-failed || return 1
	line=$(echo "$sec" | grep ' vfn=1 ' | head -n 1)
	[ -n "$line" ] || lab_err no-secondary-for-vf1 || return 1
	if [ "$(lab_kv online "$line")" != 1 ]; then
		scid=$(lab_kv scid "$line")
		nvme-admin "/dev/$LAB_PF_CTRL" virt-mgmt "$scid" sec-assign vi $LAB_VF_VI &&
		nvme-admin "/dev/$LAB_PF_CTRL" virt-mgmt "$scid" sec-assign vq $LAB_VF_VQ &&
		nvme-admin "/dev/$LAB_PF_CTRL" virt-mgmt "$scid" sec-online vq 0 ||
			lab_err secondary-online-failed || return 1
	fi
	lab_log "PF $LAB_PF ($LAB_PF_CTRL) VF $LAB_VF"
}

# lab_secondary_line: the PF's secondary-controller entry of VF 1.
lab_secondary_line() {
	nvme-admin "/dev/$LAB_PF_CTRL" secondary-list | grep ' vfn=1 ' | head -n 1
}

# ---- dmesg -------------------------------------------------------------------

# lab_dmesg_mark; ...; lab_dmesg_new: the kernel messages logged in between.
lab_dmesg_mark() {
	LAB_DMESG_LINES=$(dmesg | wc -l)
}

lab_dmesg_new() {
	dmesg | tail -n +$(( ${LAB_DMESG_LINES:-0} + 1 ))
}

# ---- iovmm -------------------------------------------------------------------

# lab_iovmm OUT SECONDS ARGS...: run iovmm with ARGS (e.g. run --kernel
# "$LAB_KIT" ...) under a timeout, console to the lab log and to file OUT.
# Returns iovmm's exit status (124+ on timeout: see busybox timeout).
lab_iovmm() {
	local out=$1 secs=$2 rc
	shift 2
	lab_log "iovmm $*"
	timeout -s KILL "$secs" iovmm "$@" </dev/null >"$out" 2>&1
	rc=$?
	sed 's/^/  | /' "$out"
	lab_log "iovmm exit status $rc"
	return $rc
}

# lab_kit_result OUT TEST: the kit's "RESULT test=TEST ..." line in OUT.
lab_kit_result() {
	grep "^RESULT test=$2 " "$1" | tail -n 1
}

# ---- benchmarks ----------------------------------------------------------------

# QEMU inside L1 (scenarios with "# lab-initrd: bench" only: Debian's
# qemu-system-x86_64 from the host, its libraries and firmware), and the
# microvm firmware that works with vfio-pci devices (SeaBIOS's microvm
# build: QEMU's default, qboot, never reaches the kernel with one).
LAB_QEMU=/usr/bin/qemu-system-x86_64
LAB_QEMU_MICROVM_BIOS=/usr/share/seabios/bios-microvm.bin

# lab_karg KEY: the value of KEY=VALUE on L1's kernel command line (run.sh
# --append), empty when absent.
lab_karg() {
	local w
	for w in $(cat /proc/cmdline); do
		case $w in "$1"=*) echo "${w#*=}" ;; esac
	done
}

# lab_benchruns DEFAULT: the repetitions a benchmark scenario makes: N from
# lab.benchruns=N (run.sh --append; make lab-bench), else DEFAULT; 1 to 5.
lab_benchruns() {
	local n
	n=$(lab_karg lab.benchruns)
	case $n in '' | *[!0-9]*) n=$1 ;; esac
	[ "$n" -ge 1 ] || n=1
	[ "$n" -le 5 ] || n=5
	echo "$n"
}

# lab_need_qemu: QEMU is in the initrd and runs.
lab_need_qemu() {
	[ -x "$LAB_QEMU" ] && [ -r "$LAB_QEMU_MICROVM_BIOS" ] ||
		lab_err no-qemu-in-initrd || return 1
	"$LAB_QEMU" --version >/dev/null 2>&1 || lab_err qemu-does-not-run
}

# lab_debugfs: debugfs mounted, with KVM's per-VM statistics (kvm-stats).
lab_debugfs() {
	[ -d /sys/kernel/debug/kvm ] && return 0
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -d /sys/kernel/debug/kvm ] || lab_err no-kvm-debugfs
}

# lab_median: the median of the numbers on stdin (one per line), nothing
# when there are none.
lab_median() {
	sort -n | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) exit
			if (NR % 2) { print v[(NR + 1) / 2]; exit }
			m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			if (m == int(m)) printf "%d\n", m
			else printf "%.3f\n", m
		}'
}
