/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd: the kernel's own mounts that memfds live on, one tmpfs and a
 * hugetlbfs per huge page size. No namespace shows them, so a file on one
 * of them named "memfd:" was made by memfd_create(2); a tmpfs file of that
 * name elsewhere (any user can mount one with unshare -Urm) is no memfd.
 * Their devices are learned by making a memfd of each kind, once.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lsmemfd.h"

#define HUGEPAGES_DIR "/sys/kernel/mm/hugepages"
/* More huge page sizes than any architecture has. */
#define HUGE_SIZES_MAX 16

static struct {
	bool probed, huge_probed;
	int err;	/* why the tmpfs could not be found */
	uint64_t shmem;
	uint64_t huge[HUGE_SIZES_MAX];
	size_t nhuge;
} mounts;

/* The st_dev of a new memfd made with flags, or a negative errno. */
static int probe(unsigned int flags, uint64_t *dev)
{
	struct stat st;
	int fd, err = 0;

	fd = (int)syscall(SYS_memfd_create, "lsmemfd-probe",
			  flags | MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL) /* before Linux 6.3 */
		fd = (int)syscall(SYS_memfd_create, "lsmemfd-probe", flags | MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	close(fd);
	if (err == 0)
		*dev = (uint64_t)st.st_dev;
	return err;
}

static void add_huge(unsigned int flags)
{
	uint64_t dev;

	if (mounts.nhuge < HUGE_SIZES_MAX && probe(MFD_HUGETLB | flags, &dev) == 0)
		mounts.huge[mounts.nhuge++] = dev;
}

/* One hugetlbfs per size the kernel offers; a size without huge pages
 * reserved still has its mount. */
static void probe_huge(void)
{
	struct dirent *d;
	unsigned long kib;
	unsigned int shift;
	char unit;
	DIR *dir;

	mounts.huge_probed = true;
	dir = opendir(HUGEPAGES_DIR);
	if (!dir) {
		/* No sysfs: the default size at least. */
		add_huge(0);
		return;
	}
	while ((d = readdir(dir))) {
		if (sscanf(d->d_name, "hugepages-%lukB%c", &kib, &unit) != 1 || kib == 0)
			continue;
		for (shift = 10; shift < 64 && (UINT64_C(1) << shift) < kib * UINT64_C(1024); shift++)
			;
		if (shift < 64 && (UINT64_C(1) << shift) == kib * UINT64_C(1024))
			add_huge((shift & MFD_HUGE_MASK) << MFD_HUGE_SHIFT);
	}
	closedir(dir);
}

int find_memfd_mounts(void)
{
	if (!mounts.probed) {
		mounts.probed = true;
		mounts.err = probe(0, &mounts.shmem);
	}
	return mounts.err;
}

int memfd_mount_of(uint64_t dev)
{
	int r = find_memfd_mounts();

	if (r < 0)
		return r;
	if (dev == mounts.shmem)
		return MOUNT_SHMEM;
	if (!mounts.huge_probed)
		probe_huge();
	for (size_t i = 0; i < mounts.nhuge; i++) {
		if (dev == mounts.huge[i])
			return MOUNT_HUGETLB;
	}
	return MOUNT_OTHER;
}
