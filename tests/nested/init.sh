#!/bin/busybox sh
# shellcheck shell=dash
# /init of the nested L1 (tests/nested/run.sh, docs/testing.md "The nested
# run"). Loads the modules (kvm-amd with nested=1), holds one idle VM open,
# mounts the host's root read-only over virtio-9p with the host's
# read-write shares (the repository, the build directory) at their own
# paths, gives it fresh /proc, /sys, /dev and L1-local tmpfs for every
# place sockets and FIFOs go, then runs the host's job in a chroot of it,
# with the job's stdout and stderr on two virtio-serial ports.
#
# Console protocol (COM1; tests/lab/boot.sh and tests/nested/run.sh):
#   LAB-INIT t_ms=N kernel=VER        /init started
#   LAB-ALIVE t_ms=N                  heartbeat, every 2 s on COM2
#   NESTED-SCALE scale=N ...          IOVMM_TIME_SCALE the job gets
#   NESTED-START t_ms=N               the job starts (retrying the boot
#                                     after this would run it twice)
#   NESTED-EXIT status=N t_ms=N       the job's exit status
#   NESTED-FAIL reason=WORD ...       L1 could not run the job
#   LAB-DONE t_ms=N                   powering off
# Kernel command line:
#   nested.scale=N        IOVMM_TIME_SCALE as given on the host
#   nested.calib_ms=N     else: the host's time for the calibration loop;
#                         L1 times the same loop: the scale is the ratio
#                         over 3, rounded up, 1 to 20 (run.sh says why)
#   nested.hugepages=N    2 MiB pages reserved at boot (default 64)
#   nested.loglevel=N     console log level (default 2: emergencies)
#   nested.nokvmhold=1    no idle VM held open

/bin/busybox mkdir -p /proc /sys /dev /tmp /run
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/nested/bin:/bin
export HOME=/tmp

ms() { read -r up _ </proc/uptime; echo $(( ${up%.*} * 1000 + 1${up#*.} * 10 - 1000 )); }
cmdline=$(cat /proc/cmdline)
karg() {
	local w
	for w in $cmdline; do
		case $w in "$1"=*) echo "${w#*=}" ;; esac
	done
}

# Kernel messages would garble the job's lines on the console; only
# emergencies (soft lockup, panic) get through.
lvl=$(karg nested.loglevel)
dmesg -n "${lvl:-2}"
echo "LAB-INIT t_ms=$(ms) kernel=$(uname -r)"

fail() {
	echo "NESTED-FAIL reason=$1${2:+ $2}"
	dmesg | tail -n 30 | sed 's/^/  dmesg: /'
	echo "LAB-DONE t_ms=$(ms)"
	sync
	poweroff -f
}

# ---- modules, in the dependency order mkinitrd.sh computed.
while read -r m; do
	name=${m##*/}
	name=${name%.ko}
	params=""
	case $name in
	kvm-amd | kvm_amd)
		grep -qw svm /proc/cpuinfo || continue
		params="nested=1" ;;	# iovmm's guests are L2 guests here
	kvm-intel | kvm_intel)
		grep -qw vmx /proc/cpuinfo || continue
		params="nested=1" ;;
	esac
	# shellcheck disable=SC2086
	insmod "/lib/modules/$m" $params 2>/tmp/insmod.err ||
		echo "LAB-WARN module $name failed: $(cat /tmp/insmod.err)"
done </nested/modules.order
[ -c /dev/kvm ] || fail no-kvm "(no SVM in L1's CPU, or kvm_amd did not load)"

# ---- one idle VM for the whole boot (tests/lab/kvm-hold.c; docs/lab.md
# "L1 hangs"): the job's guests then never flip KVM's static keys, whose
# live patching locks L1 up under QEMU 7.2's multi-threaded TCG.
if [ "$(karg nested.nokvmhold)" != 1 ] && command -v kvm-hold >/dev/null; then
	kvm-hold >/tmp/kvm-hold.out 2>&1 &
	i=0
	while ! grep -q ready /tmp/kvm-hold.out && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q ready /tmp/kvm-hold.out ||
		echo "LAB-WARN kvm-hold did not start: $(cat /tmp/kvm-hold.out)"
fi

# ---- heartbeat on COM2 (the host calls L1 hung when it stops).
if echo "LAB-ALIVE t_ms=$(ms)" >/dev/ttyS1 2>/dev/null; then
	( while sleep 2; do echo "LAB-ALIVE t_ms=$(ms)" >/dev/ttyS1; done ) &
else
	( while sleep 10; do echo "LAB-ALIVE t_ms=$(ms)"; done ) &
fi

# ---- the host's files. The root read-only; QEMU remaps inode numbers of
# the host's submounts (multidevs=remap), or the host's /proc and /sys
# would alias each other here. msize: the largest virtio 9p message.
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$opts" job /job || fail mount-job
mount -t 9p -o "$opts,ro,cache=loose" hostroot /host || fail mount-root
# Fresh kernel filesystems, and L1-local tmpfs wherever UNIX sockets,
# FIFOs or DPDK's runtime files go: QEMU's 9p server cannot create them
# and stops the client ("broken or compromised client"), hanging L1.
mount -t proc proc /host/proc || fail mount-proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm /host/dev/hugepages
mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
mount -t hugetlbfs hugetlbfs /host/dev/hugepages
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
mount -t tmpfs -o mode=0755 tmpfs /host/run
mkdir -p /host/run/lock /host/run/netns /host/run/user
[ -d /host/var/tmp ] && mount -t tmpfs -o mode=1777 tmpfs /host/var/tmp
[ -d /host/sys/kernel/debug ] && mount -t debugfs debugfs /host/sys/kernel/debug

# The read-write shares ("TAG PATH" lines; the repository and the build
# directory), last: one may lie under /tmp (a clone in /tmp/x). Coherent
# with the host: cache=mmap caches only what is mmapped.
while read -r tag path; do
	mkdir -p "/host$path" 2>/dev/null
	mount -t 9p -o "$opts,cache=mmap" "$tag" "/host$path" ||
		fail mount-share "tag=$tag path=$path"
done </job/shares

# Loopback up (QEMU's UDP-socket netdev tests talk over 127.0.0.1), and
# hugepages reserved while L1's memory is unfragmented.
ip link set lo up
hp=$(karg nested.hugepages)
echo "${hp:-64}" >/proc/sys/vm/nr_hugepages

# ---- the time scale: how much slower this L1 runs the same code.
scale=$(karg nested.scale)
detail="given"
if [ -z "$scale" ]; then
	host_ms=$(karg nested.calib_ms)
	mkdir -p /host/tmp/.nested
	cp /job/calibrate /host/tmp/.nested/calibrate
	chroot /host /bin/sh -c : 	# /bin/sh read over 9p once
	t0=$(ms)
	chroot /host /bin/sh /tmp/.nested/calibrate >/dev/null 2>&1
	l1_ms=$(( $(ms) - t0 ))
	# The ratio over 3 (the margin the integ waits keep on a KVM host;
	# tests/nested/run.sh), rounded up, within 1-20.
	host_ms=${host_ms:-1}
	scale=$(( (l1_ms + 3 * host_ms - 1) / (3 * host_ms) ))
	[ "$scale" -ge 1 ] || scale=1
	[ "$scale" -le 20 ] || scale=20
	detail="calib_host_ms=$host_ms calib_l1_ms=$l1_ms"
fi
echo "NESTED-SCALE scale=$scale $detail"

# ---- the job: stdout and stderr on the virtio-serial ports "out" and
# "err" (plain byte streams, no tty in between).
out=/dev/console err=/dev/console
for p in /sys/class/virtio-ports/*; do
	[ -e "$p/name" ] || continue
	case $(cat "$p/name") in
	out) out=/dev/${p##*/} ;;
	err) err=/dev/${p##*/} ;;
	esac
done
mkdir -p /host/tmp/.nested
cp /job/job.sh /host/tmp/.nested/job.sh
echo "NESTED-START t_ms=$(ms)"
chroot /host /usr/bin/env -i IOVMM_TIME_SCALE="$scale" \
	/bin/bash --noprofile --norc /tmp/.nested/job.sh </dev/null >"$out" 2>"$err"
status=$?
echo "NESTED-EXIT status=$status t_ms=$(ms)"
sync
while read -r tag path; do
	umount "/host$path" 2>/dev/null
done </job/shares
echo "LAB-DONE t_ms=$(ms)"
poweroff -f
