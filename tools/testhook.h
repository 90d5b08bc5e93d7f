/* SPDX-License-Identifier: MIT */
/*
 * Test-only hooks of `iovmm run`. The installed iovmm links
 * testhook_none.c (no hook at all); the integ tests' build of it,
 * tests/integ/iovmm-testhooks, links testhook.c. docs/security.md.
 */
#ifndef IOVMM_TESTHOOK_H
#define IOVMM_TESTHOOK_H

struct machine;

/*
 * Called once the machine is built, before the privilege drop and before
 * the guest runs. testhook.c: IOVMM_TEST_FORBIDDEN_SYSCALL=io makes the I/O
 * thread, the one that serves every back end, attempt execve() as soon as
 * it runs, as a compromised device model would.
 */
void testhook_after_create(struct machine *m);

#endif
