// SPDX-License-Identifier: MIT
/* The installed iovmm: no test hook (tools/testhook.h). */
#include "tools/testhook.h"

void testhook_after_create(struct machine *m)
{
	(void)m;
}
