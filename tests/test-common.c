/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

/* Mappings of memfds: other mappings come and go with malloc (and valgrind). */
static int count_memfd_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096];
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " /memfd:"))
			n++;
	fclose(f);
	return n;
}

struct resources resources_now(void)
{
	struct resources r;

	r.fds = count_fds();
	r.maps = count_memfd_maps();
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

static struct resources at_test_start;

static void snapshot_resources(void)
{
	at_test_start = resources_now();
}

static void assert_resources_restored(void)
{
	ck_assert_resources_unchanged(at_test_start);
}

TCase *tcase_with_leak_check(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, snapshot_resources, assert_resources_restored);
	return tc;
}
