#!/bin/sh
# SPDX-License-Identifier: MIT
# The sandbox of a running iovmm (docs/security.md):
#  1. every thread of it has its seccomp filter (/proc/PID/task/*/status
#     "Seccomp: 2"), one per class: main, signal, I/O, each vCPU; with
#     --seccomp=off none has (the check can fail);
#  2. with --user nobody --chroot DIR (the same guest as 1) every thread
#     runs as nobody, no supplementary group, no capability
#     (Uid/Gid/Groups/CapEff/CapPrm), with DIR as its root;
#  3. a device thread (the I/O thread, through iovmm-testhooks'
#     IOVMM_TEST_FORBIDDEN_SYSCALL=io) attempting execve() kills iovmm by
#     SIGSYS with a message naming the thread, class and syscall; with
#     --seccomp=off the same attempt merely fails and the guest passes.
#   seccomp.sh IOVMM IOVMM_TESTHOOKS KIT
set -u
. "$(dirname "$0")/wait.sh"
iovmm=$1 hooks=$2 kit=$3
# In sanitizer builds: LeakSanitizer cannot ptrace a process that changed
# its uid (--user makes it non-dumpable), and these tests are not about leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (--user)"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/vm.log" ] && cat "$tmp/vm.log"; exit 1; }

# start NAME OPTS...: a guest that keeps running (the kit's pio loop) with
# two vCPUs, a virtio-net and a virtio-blk on the I/O thread; sets pid.
start() {
	_name=$1
	shift
	truncate -s 16M "$tmp/disk.img"
	"$iovmm" run --kernel "$kit" --mem 128M --cpus 2 --device pci-testdev \
		--net virtio,backend=loopback --disk "virtio,path=$tmp/disk.img" \
		"$@" --cmdline "test=pio count=100000000" \
		</dev/null >"$tmp/vm.log" 2>&1 &
	pid=$!
	integ_wait "$tmp/vm.log" "iovmm-kit: boot" 20 "$pid" ||
		fail "$_name: the guest did not boot"
	# The vCPU threads start after the I/O thread: wait for both.
	_n=0
	while [ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -lt 5 ] &&
		[ "$_n" -lt "$(integ_scale 50)" ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
}

stop() {
	kill -TERM "$pid"
	wait "$pid"
	_st=$?
	pid=
	[ "$_st" -eq 143 ] || fail "$1: exit status $_st after SIGTERM (want 143)"
}

# tasks FIELD: "comm value" for each thread of $pid. KVM's own workers
# (kvm-nx-lpage-recovery, created by the kernel inside the process) are
# not iovmm's threads and are left out.
tasks() {
	for _t in /proc/"$pid"/task/*; do
		case "$(cat "$_t/comm")" in kvm-*) continue ;; esac
		printf '%s %s\n' "$(cat "$_t/comm")" \
			"$(sed -n "s/^$1:[[:space:]]*//p" "$_t/status" | tr '\t' ' ')"
	done
}

# 1 and 2. Filters (every class present), credentials and the jail, in one
# guest (the lab's L1 starts a VM in seconds, not milliseconds).
nobody_uid=$(id -u nobody) nobody_gid=$(id -g nobody)
mkdir "$tmp/jail"
start nobody --user nobody --chroot "$tmp/jail"
[ "$(readlink "/proc/$pid/root")" = "$tmp/jail" ] ||
	fail "--chroot: root is $(readlink "/proc/$pid/root")"
for f in Seccomp Uid Gid Groups CapEff CapPrm; do
	tasks "$f" | sed "s/^/$f: /"
done >"$tmp/creds"
cat "$tmp/creds"
for want in iovmm iovmm-signal iovmm-io vcpu0 vcpu1; do
	grep -q "^Seccomp: $want " "$tmp/creds" || fail "no thread $want"
done
grep '^Seccomp:' "$tmp/creds" | grep -qv ' 2$' && fail "a thread without its seccomp filter"
grep '^Uid:' "$tmp/creds" | grep -qv " $nobody_uid $nobody_uid $nobody_uid $nobody_uid$" &&
	fail "a thread is not uid $nobody_uid"
grep '^Gid:' "$tmp/creds" | grep -qv " $nobody_gid $nobody_gid $nobody_gid $nobody_gid$" &&
	fail "a thread is not gid $nobody_gid"
grep '^Groups:' "$tmp/creds" | grep -q ' [0-9]' && fail "supplementary groups left"
grep '^Cap' "$tmp/creds" | grep -qv ' 0000000000000000$' && fail "capabilities left"
stop nobody
echo "ok: every thread filtered (Seccomp: 2); --user nobody --chroot: nobody, no groups, no capabilities, jailed"

start off --seccomp=off
tasks Seccomp >"$tmp/seccomp"
grep -q ' 2$' "$tmp/seccomp" && fail "--seccomp=off: a filter is installed"
stop off
echo "ok: --seccomp=off: no filter"

# 3. A forbidden syscall from a device thread.
# hook_run MODE: iovmm-testhooks' I/O thread calls execve(); sets st.
hook_run() {
	IOVMM_TEST_FORBIDDEN_SYSCALL=io timeout "$(integ_scale 30)" "$hooks" run \
		--kernel "$kit" --mem 64M --seccomp="$1" --cmdline "test=hello" \
		</dev/null >"$tmp/vm.log" 2>&1
	st=$?
	cat "$tmp/vm.log"
}
hook_run on
[ "$st" -eq 159 ] || fail "status $st (want 159: killed by SIGSYS)"
grep -q "^iovmm: seccomp: thread iovmm-io (class io) made a forbidden system call execve (59); killing the process" "$tmp/vm.log" ||
	fail "no message naming the thread, class and syscall"
grep -q "execve returned" "$tmp/vm.log" && fail "execve ran"

hook_run off
[ "$st" -eq 1 ] || fail "--seccomp=off: status $st (want 1: the kit passed)"
grep -q "execve returned -1 (No such file or directory)" "$tmp/vm.log" ||
	fail "--seccomp=off: the hook did not run"
echo "ok: execve from the I/O thread kills iovmm (SIGSYS) with the message"
echo OK
