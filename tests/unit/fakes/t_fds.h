/* SPDX-License-Identifier: MIT */
/*
 * Open file descriptors of the test process, counted before and after a
 * test so that a leaked eventfd, socket or device fd fails it.
 */
#ifndef IOVMM_TEST_T_FDS_H
#define IOVMM_TEST_T_FDS_H

#include <fcntl.h>

static inline int t_count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

#endif
