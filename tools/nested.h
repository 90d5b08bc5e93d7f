/* SPDX-License-Identifier: MIT */
/*
 * The KVM commands on a host without a usable KVM: `iovmm demo` and
 * `iovmm bench` run themselves again inside the lab's L1 (QEMU TCG with
 * nested SVM) through tests/nested/run.sh (docs/testing.md, "The nested
 * run").
 */
#ifndef IOVMM_TOOLS_NESTED_H
#define IOVMM_TOOLS_NESTED_H

/*
 * nested_kvm_usable - 0 when @dev opens read-write and KVM_GET_API_VERSION
 * returns 12 (KVM_API_VERSION); else -ENOENT (no such file), the open's
 * -errno (e.g. -EACCES), -ENOTTY (a device that is not KVM, such as
 * /dev/null bind-mounted over /dev/kvm) or -EPROTO (another API version).
 */
int nested_kvm_usable(const char *dev);

/*
 * nested_maybe_reexec - for a command that needs KVM (argv[1] is "demo" or
 * "bench"): when /dev/kvm is not usable, or IOVMM_IN_LAB=1 asks for the
 * lab, and this process is not already inside L1 (IOVMM_L1 unset), exec
 * the nested runner with this executable and @argv. Returns only when no
 * re-exec is wanted, or when it is impossible (the runner is not where
 * the build put it: an installed iovmm; then it says so on stderr and the
 * command runs here, failing on /dev/kvm its own way). --help and -h run
 * here.
 */
void nested_maybe_reexec(int argc, char **argv);

#endif
