#!/bin/busybox sh
# /init of the lab's L1 (see docs/lab.md). Loads the modules, runs each
# scenario named by lab.scenarios=a,b,c on the kernel command line, makes
# sure each produced exactly one LAB-RESULT line, then powers off.
#
# Console protocol (graded by tests/lab/run.sh on the host):
#   LAB-INIT t_ms=N kernel=VER          /init started
#   LAB-ALIVE t_ms=N                    heartbeat (hang detection): every 2 s
#                                       on ttyS1, else every 10 s here
#   LAB-RESULT scenario=NAME status=pass|fail time_ms=N [key=value...]
#   LAB-DONE t_ms=N pass=N fail=N       all scenarios ran; powering off
# Other kernel command-line flags: lab.shell=1 drops to a shell at the end
# instead of powering off (interactive debugging: run.sh --interactive).

/bin/busybox mkdir -p /proc /sys /dev /tmp /run
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/lab/bin:/bin
export HOME=/tmp
export LAB_DIR=/lab
export LAB_KIT=/lab/kit.elf
export LAB_VMLINUZ=/lab/vmlinuz
# The same kernel as an uncompressed ELF with its PVH note (initrd part
# "vmlinux" only: ~65 MB).
export LAB_VMLINUX=/lab/vmlinux
. /lab/lib.sh
LAB_SCENARIO=init

# Only emergencies and alerts (oops, soft lockup, panic) reach the console
# from now on: a kernel message printed in the middle of a LAB-RESULT line
# would garble it, and scenarios that provoke faults (a blocked DMA logs a
# DMAR error per attempt) would flood it. Scenarios read dmesg instead, and
# /init dumps its tail after a failure.
# lab.loglevel=N (run.sh --append) raises it again to debug L1 itself, e.g.
# to see a soft lockup's backtraces.
dmesg -n 2
echo "LAB-INIT t_ms=$(lab_ms) kernel=$(uname -r)"

cmdline=$(cat /proc/cmdline)
# karg KEY: the value of KEY=VALUE on the kernel command line.
karg() {
	local w
	for w in $cmdline; do
		case $w in "$1"=*) echo "${w#*=}" ;; esac
	done
}
[ -n "$(karg lab.loglevel)" ] && dmesg -n "$(karg lab.loglevel)"

# ---- modules, in the dependency order mkinitrd.sh computed.
load_modules() {
	local m name params
	while read -r m; do
		name=${m##*/}
		name=${name%.ko}
		params=""
		case $name in
		kvm-amd | kvm_amd)
			grep -qw svm /proc/cpuinfo || {
				echo "LAB-WARN module $name skipped: no svm"
				continue
			}
			# Nested SVM: iovmm's guests are L2 guests here.
			params="nested=1"
			;;
		kvm-intel | kvm_intel)
			grep -qw vmx /proc/cpuinfo || continue
			params="nested=1"
			;;
		esac
		# shellcheck disable=SC2086
		insmod "/lib/modules/$m" $params 2>/tmp/insmod.err ||
			echo "LAB-WARN module $name failed: $(cat /tmp/insmod.err)"
	done </lab/modules.order
}
load_modules
echo "lab: modules loaded at t_ms=$(lab_ms): $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"

# ---- one idle KVM VM held open for the whole boot, so the guests the
# scenarios start do not live-patch the scheduler's hot path twice each
# (tests/lab/kvm-hold.c and docs/lab.md, "L1 hangs": that patching is what
# locked L1 up under TCG). Off with lab.nokvmhold=1 (run.sh --append).
kvm_hold=""
if [ -c /dev/kvm ] && [ "$(karg lab.nokvmhold)" != 1 ]; then
	kvm-hold >/tmp/kvm-hold.out 2>&1 &
	kvm_hold=$!
	if lab_wait 10 grep -q ready /tmp/kvm-hold.out; then
		echo "lab: kvm-hold: one idle VM held open (pid $kvm_hold)"
	else
		echo "LAB-WARN kvm-hold did not start: $(cat /tmp/kvm-hold.out)"
	fi
fi

# ---- heartbeat: lets the host tell a slow scenario from a hung L1. It goes
# to the second serial port (run.sh gives it its own file), every 2 s, so a
# hang is seen in seconds without filling the console; without that port,
# to the console every 10 s.
if [ -c /dev/ttyS1 ] && echo "LAB-ALIVE t_ms=$(lab_ms)" >/dev/ttyS1 2>/dev/null; then
	(
		while sleep 2; do
			echo "LAB-ALIVE t_ms=$(lab_ms)" >/dev/ttyS1
		done
	) &
else
	(
		while sleep 10; do
			echo "LAB-ALIVE t_ms=$(lab_ms)"
		done
	) &
fi
heartbeat=$!

# scenario_timeout FILE: the "# lab-timeout: N" header, default 60 s.
scenario_timeout() {
	local t
	t=$(sed -n 's/^# lab-timeout: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
	echo "${t:-60}"
}

# run_scenario NAME: run it in its own session so that a timeout kills
# everything it started (iovmm, guests), then insist on one result line.
run_scenario() {
	local name=$1 script=/lab/scenarios/$1.sh t0 secs pid watchdog rc
	export LAB_SCENARIO=$name
	export LAB_RESULT_FILE=/run/lab-result.$name
	export LAB_TMP=/tmp/lab.$name
	t0=$(lab_ms)
	export LAB_T0_MS=$t0
	rm -f "$LAB_RESULT_FILE" /run/lab-timeout
	mkdir -p "$LAB_TMP"
	if [ ! -r "$script" ]; then
		echo "LAB-RESULT scenario=$name status=fail time_ms=0 reason=unknown-scenario"
		return 1
	fi
	secs=$(scenario_timeout "$script")
	echo "lab: ---- scenario $name (timeout ${secs}s)"
	setsid sh "$script" &
	pid=$!
	(
		sleep "$secs"
		touch /run/lab-timeout
		kill -KILL -"$pid"
	) &
	watchdog=$!
	wait "$pid"
	rc=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	# Whatever the scenario left behind must not outlive it.
	kill -KILL -"$pid" 2>/dev/null
	if [ -e /run/lab-timeout ]; then
		echo "LAB-RESULT scenario=$name status=fail time_ms=$(( $(lab_ms) - t0 )) reason=timeout timeout_s=$secs"
		return 1
	fi
	if [ ! -s "$LAB_RESULT_FILE" ]; then
		echo "LAB-RESULT scenario=$name status=fail time_ms=$(( $(lab_ms) - t0 )) reason=no-result exit=$rc"
		return 1
	fi
	grep -q ' status=pass ' "$LAB_RESULT_FILE"
}

pass=0
fail=0
for s in $(karg lab.scenarios | tr ',' ' '); do
	if run_scenario "$s"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
LAB_SCENARIO=init
kill "$heartbeat" 2>/dev/null
[ -n "$kvm_hold" ] && kill "$kvm_hold" 2>/dev/null
if [ "$fail" -ne 0 ]; then
	echo "lab: ---- state after failures"
	lab_pci_summary
	dmesg | tail -n 40 | sed 's/^/  dmesg: /'
fi
echo "LAB-DONE t_ms=$(lab_ms) pass=$pass fail=$fail"
if [ "$(karg lab.shell)" = 1 ]; then
	setsid cttyhack sh
fi
sync
poweroff -f
