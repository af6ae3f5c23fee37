/* SPDX-License-Identifier: MIT */
/* For the fuzz targets: LeakSanitizer does not see descriptors, so they
 * count them, before and after each input. */
#ifndef LIBMEMFD_FUZZ_OPEN_FDS_H
#define LIBMEMFD_FUZZ_OPEN_FDS_H

#include <dirent.h>
#include <stdlib.h>

/* The descriptors this process has open (not counting the one reading). */
static inline int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

#endif
