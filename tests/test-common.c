/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "test-common.h"

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1; /* the directory's own descriptor */
}

static int count_maps(void)
{
	/* Counted with a static buffer: a malloc here could add a mapping. */
	static char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int lines = 0;

	ck_assert_int_ge(fd, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	ck_assert_int_eq(n, 0);
	close(fd);
	return lines;
}

struct resources resources_now(void)
{
	struct resources r;

	r.fds = count_fds();
	r.maps = count_maps();
	return r;
}

size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

struct mfd *new_sized_mfd(const char *name, uint64_t size)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, name, 0), 0);
	ck_assert_int_eq(mfd_set_size(m, size), 0);
	return m;
}

int reopen_read_only(const struct mfd *m)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd_fd(m));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}
