/* SPDX-License-Identifier: MIT */
/* fd lifecycle: creating, adopting, naming and releasing memfds. */
#include "libmemfd-private.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#define EXEC_FLAGS (MFD_EXEC | MFD_NOEXEC_SEAL)
#define HUGE_SIZE_FLAGS ((unsigned int)MFD_HUGE_MASK << MFD_HUGE_SHIFT)
#define KNOWN_FLAGS                                                      \
	(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | EXEC_FLAGS |    \
	 HUGE_SIZE_FLAGS)

#define LINK_PREFIX "memfd:"
#define LINK_SUFFIX " (deleted)"
/* The longest /proc/thread-self/fd link of a memfd, with its NUL. */
#define LINK_MAX (1 + sizeof(LINK_PREFIX) - 1 + LIBMEMFD_NAME_MAX + sizeof(LINK_SUFFIX))

/* Set once a kernel (before 6.3) has refused MFD_EXEC/MFD_NOEXEC_SEAL. */
static int kernel_lacks_exec_flags;

/* st_dev + MOUNT_DEV_BIAS of the kernel-internal mounts that hold memfds:
 * one tmpfs, and a hugetlbfs per huge page size (by log2). 0: not learned
 * yet; MOUNT_UNKNOWABLE: the probe failed in a way that would last. */
#define MOUNT_UNKNOWABLE 1
#define MOUNT_DEV_BIAS 2
static uint64_t shmem_mount_dev;
static uint64_t hugetlb_mount_dev[64];

uint64_t mfd_page_size(void)
{
	/* glibc answers this from the auxiliary vector. */
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

void mfd_fd_path(char path[MFD_FD_PATH_MAX], int fd)
{
	snprintf(path, MFD_FD_PATH_MAX, "/proc/thread-self/fd/%d", fd);
}

static int sys_memfd_create(const char *name, unsigned int flags)
{
#if MEMFD_CREATE_USE_LIBC
	return memfd_create(name, flags);
#else
	return (int)syscall(SYS_memfd_create, name, flags);
#endif
}

static int create_fd(const char *name, unsigned int flags)
{
	unsigned int kernel_flags = flags | MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd;

	if (!(flags & MFD_EXEC))
		kernel_flags |= MFD_NOEXEC_SEAL;

	if (!__atomic_load_n(&kernel_lacks_exec_flags, __ATOMIC_RELAXED)) {
		fd = sys_memfd_create(name, kernel_flags);
		if (fd >= 0)
			return fd;
		if (errno != EINVAL)
			return -errno;
	}

	/* An older kernel: it knows neither flag, and its memfds are
	 * executable (0777) unless we take the x bits away ourselves. */
	fd = sys_memfd_create(name, kernel_flags & ~EXEC_FLAGS);
	if (fd < 0)
		return -errno;
	__atomic_store_n(&kernel_lacks_exec_flags, 1, __ATOMIC_RELAXED);

	if (!(flags & MFD_EXEC) && fchmod(fd, 0666) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* A failed probe that would fail again (a sandbox that denies
 * memfd_create, a huge page size the kernel lacks), unlike running out of
 * descriptors or memory for a while. */
static bool probe_failure_lasts(int err)
{
	return err != -EMFILE && err != -ENFILE && err != -ENOMEM;
}

/* The device of the mount that memfds of this kind live on, learned once
 * by making one (the kernel makes these mounts at boot), or a negative
 * errno while it cannot be learned. */
static int64_t memfd_mount_device(bool hugetlb, unsigned int page_shift)
{
	uint64_t *cache = hugetlb ? &hugetlb_mount_dev[page_shift & 63] : &shmem_mount_dev;
	uint64_t known = __atomic_load_n(cache, __ATOMIC_RELAXED);
	unsigned int flags = hugetlb ? MFD_HUGETLB | page_shift << MFD_HUGE_SHIFT : 0;
	struct stat st;
	int fd, err = 0;

	/* Relaxed is enough: every thread that learns it stores the same. */
	if (known == MOUNT_UNKNOWABLE)
		return -ENODEV;
	if (known)
		return (int64_t)(known - MOUNT_DEV_BIAS);
	fd = create_fd("libmemfd-probe", flags);
	if (fd >= 0) {
		if (fstat(fd, &st) < 0)
			err = -errno;
		close(fd);
	} else {
		err = fd;
	}
	if (err < 0) {
		if (probe_failure_lasts(err))
			__atomic_store_n(cache, MOUNT_UNKNOWABLE, __ATOMIC_RELAXED);
		return err;
	}
	__atomic_store_n(cache, (uint64_t)st.st_dev + MOUNT_DEV_BIAS, __ATOMIC_RELAXED);
	return (int64_t)st.st_dev;
}

static unsigned int log2_of(uint64_t n)
{
	unsigned int shift = 0;

	while (shift < 63 && (1ull << shift) < n)
		shift++;
	return shift;
}

/* Set once the mounts of every huge page size have been probed. */
static int hugetlb_sizes_read;

/* Probe the mount of every huge page size the kernel offers
 * (/sys/kernel/mm/hugepages/hugepages-<kB>kB), once: a receiver cannot
 * know beforehand which size a sender's memfd will have. The directory is
 * closed before probing, so that one free descriptor slot is enough. */
static void prepare_hugetlb_mounts(void)
{
	unsigned int shifts[16], count = 0;
	struct dirent *e;
	DIR *dir;

	if (__atomic_load_n(&hugetlb_sizes_read, __ATOMIC_RELAXED))
		return;
	dir = opendir("/sys/kernel/mm/hugepages");
	if (!dir) {
		if (errno != EMFILE && errno != ENFILE && errno != ENOMEM)
			__atomic_store_n(&hugetlb_sizes_read, 1, __ATOMIC_RELAXED);
		return;
	}
	while ((e = readdir(dir)) && count < ARRAY_SIZE(shifts)) {
		unsigned long long kib;
		char unit;

		if (sscanf(e->d_name, "hugepages-%llukB%c", &kib, &unit) == 1 && kib > 0 &&
		    kib < (1ull << 53))
			shifts[count++] = log2_of(kib * 1024);
	}
	closedir(dir);
	/* Done once every size's mount is learned, or cannot be: a probe that
	 * failed for a while (no descriptor, no memory) is made again. */
	for (unsigned int i = 0; i < count; i++)
		if (memfd_mount_device(true, shifts[i]) < 0 &&
		    __atomic_load_n(&hugetlb_mount_dev[shifts[i] & 63], __ATOMIC_RELAXED) == 0)
			return;
	__atomic_store_n(&hugetlb_sizes_read, 1, __ATOMIC_RELAXED);
}

void mfd_identify_prepare(void)
{
	/* Once learned, two loads: no system call on the receive path. */
	if (!__atomic_load_n(&shmem_mount_dev, __ATOMIC_RELAXED))
		memfd_mount_device(false, 0);
	prepare_hugetlb_mounts();
}

/* 1 if procfs is what is mounted at /proc (not merely whether a path
 * under it exists), 0 if not, or a negative errno if that cannot be told:
 * only with procfs there does a missing memfd name mean anything. */
static int proc_mounted(void)
{
	struct statfs sfs;

	if (statfs("/proc", &sfs) < 0)
		return errno == ENOENT ? 0 : -errno;
	return mfd_fs_magic(&sfs) == PROC_SUPER_MAGIC;
}

/* The name in a memfd's /proc/thread-self/fd link; NULL if the link is
 * not one. */
static const char *link_name(int fd, char link[LINK_MAX], size_t *len, int *err)
{
	char path[MFD_FD_PATH_MAX];
	size_t suffix = strlen(LINK_SUFFIX);
	const char *name;
	ssize_t n;

	mfd_fd_path(path, fd);
	n = readlink(path, link, LINK_MAX);
	if (n < 0) {
		*err = -errno;
		return NULL;
	}
	*err = -EINVAL;
	if ((size_t)n >= LINK_MAX)
		return NULL;
	link[n] = '\0';

	/* "/memfd:NAME (deleted)"; also accepted without the "/". */
	name = link[0] == '/' ? link + 1 : link;
	if (strncmp(name, LINK_PREFIX, strlen(LINK_PREFIX)) != 0 ||
	    (size_t)n < suffix || strcmp(link + n - suffix, LINK_SUFFIX) != 0)
		return NULL;
	name += strlen(LINK_PREFIX);
	*len = (size_t)(link + n - suffix - name);
	return name;
}

/*
 * Failing closed: a file is a memfd only when that is proven.
 *
 * Every tmpfs and hugetlbfs file is born sealed with F_SEAL_SEAL alone,
 * which forbids adding any other; only memfd_create (with
 * MFD_ALLOW_SEALING) makes one without it. So seals other than exactly
 * F_SEAL_SEAL prove a memfd: a seal besides it, or none at all (how the
 * kernel is built since sealing began in 3.17, rather than a promise of
 * its ABI). Otherwise the file must lie on the kernel's own memfd mount,
 * whose device is learned from a memfd made here, and, where procfs is
 * mounted, be named "memfd:" there (other files on that mount, SysV shm or
 * shared anonymous memory, are not memfds). A name alone proves nothing: a
 * tmpfs file on a detached mount reads exactly like a memfd. Where the
 * mount cannot be learned (no memfd_create in a sandbox, no descriptor
 * slot left), nothing proves it.
 */
int mfd_identify(int fd, const struct stat *st, const struct statfs *sfs, int seals,
		 bool *memfd, uint64_t *map_align)
{
	char link[LINK_MAX];
	bool hugetlb;
	int64_t dev;
	size_t len;
	int err;

	*memfd = false;
	*map_align = mfd_page_size();
	hugetlb = mfd_fs_magic(sfs) == HUGETLBFS_MAGIC;
	if (!hugetlb && mfd_fs_magic(sfs) != TMPFS_MAGIC)
		return 0;
	if (hugetlb)
		*map_align = (uint64_t)sfs->f_bsize;
	/* Seals that cannot be read (an O_PATH descriptor) prove nothing. */
	if (seals < 0)
		return 0;
	if (seals != F_SEAL_SEAL) {
		*memfd = true;
		return 0;
	}

	dev = memfd_mount_device(hugetlb, hugetlb ? log2_of(*map_align) : 0);
	if (dev < 0 || (uint64_t)st->st_dev != (uint64_t)dev)
		return 0;
	err = proc_mounted();
	if (err < 0)
		return err;
	if (err == 0) {
		*memfd = true; /* the mount alone decides */
		return 0;
	}
	if (link_name(fd, link, &len, &err))
		*memfd = true;
	else if (err != -EINVAL && err != -ENOENT)
		return err;
	return 0;
}

LIBMEMFD_EXPORT int mfd_new(struct mfd **out, const char *name, unsigned int flags)
{
	struct statfs sfs;
	struct mfd *m;
	int fd;

	if (!out)
		return -EINVAL;
	if (!name)
		name = LIBMEMFD_DEFAULT_NAME;
	if (strnlen(name, LIBMEMFD_NAME_MAX + 1) > LIBMEMFD_NAME_MAX)
		return -EINVAL;
	if (flags & ~KNOWN_FLAGS)
		return -EINVAL;
	if ((flags & EXEC_FLAGS) == EXEC_FLAGS)
		return -EINVAL;
	if ((flags & HUGE_SIZE_FLAGS) && !(flags & MFD_HUGETLB))
		return -EINVAL;

	/* Allocate first: once the fd exists, only hugetlb's fstatfs can
	 * still fail. */
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	fd = create_fd(name, flags);
	if (fd < 0) {
		free(m);
		return fd;
	}
	m->map_align = mfd_page_size();
	if (flags & MFD_HUGETLB) {
		/* The huge page size, also when the kernel chose it. */
		if (fstatfs(fd, &sfs) < 0) {
			int err = -errno;

			close(fd);
			free(m);
			return err;
		}
		m->map_align = (uint64_t)sfs.f_bsize;
	}
	m->fd = fd;
	m->memfd = true;
	m->size = 0;
	*out = m;
	return 0;
}

/* The size of a file that is not regular, found the seed's way (seeking
 * to the end), with the file offset put back. */
static int64_t seek_size(int fd)
{
	off_t here = lseek(fd, 0, SEEK_CUR), end;

	if (here == -1)
		return -errno;
	end = lseek(fd, 0, SEEK_END);
	if (end == -1)
		return -errno;
	if (lseek(fd, here, SEEK_SET) == -1)
		return -errno;
	/* A negative end (/proc/self/mem) is no size either. */
	return end < 0 ? -ESPIPE : end;
}

LIBMEMFD_EXPORT int mfd_from_fd(struct mfd **out, int fd)
{
	uint64_t map_align;
	struct statfs sfs;
	struct stat st;
	struct mfd *m;
	int64_t size;
	bool memfd;
	int seals, err;

	if (fd < 0)
		return -EBADF;
	if (!out)
		return -EINVAL;
	/* The seals before the size, as mfd_recv reads them: seals only
	 * grow, so a size read after F_SEAL_SHRINK was seen cannot go down,
	 * where a peer could shrink the file and seal it in between. The
	 * VFS answers F_GET_SEALS (EINVAL but for shmem and hugetlbfs files)
	 * without asking the file system. */
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISREG(st.st_mode)) {
		size = st.st_size;
		if (fstatfs(fd, &sfs) < 0)
			return -errno;
		/* Only tmpfs and hugetlbfs files can be memfds, or carry seals. */
		if (mfd_fs_magic(&sfs) != TMPFS_MAGIC && mfd_fs_magic(&sfs) != HUGETLBFS_MAGIC)
			seals = -1;
		err = mfd_identify(fd, &st, &sfs, seals, &memfd, &map_align);
		if (err < 0)
			return err;
	} else {
		size = seek_size(fd);
		if (size < 0)
			return (int)size;
		memfd = false;
		map_align = mfd_page_size();
	}

	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fd = fd;
	m->memfd = memfd;
	m->size = (uint64_t)size;
	m->map_align = map_align;
	*out = m;
	return 0;
}

LIBMEMFD_EXPORT void mfd_free(struct mfd *m)
{
	if (!m)
		return;
	close(m->fd);
	free(m);
}

LIBMEMFD_EXPORT int mfd_fd(const struct mfd *m)
{
	return m ? m->fd : -EINVAL;
}

LIBMEMFD_EXPORT int mfd_release_fd(struct mfd *m)
{
	int fd;

	if (!m)
		return -EINVAL;
	fd = m->fd;
	free(m);
	return fd;
}

LIBMEMFD_EXPORT int mfd_get_name(const struct mfd *m, char *buf, size_t size)
{
	char link[LINK_MAX];
	const char *name;
	size_t len;
	int err;

	if (!m || !buf || !m->memfd)
		return -EINVAL;
	name = link_name(m->fd, link, &len, &err);
	if (!name)
		return err;
	if (len >= size)
		return -ERANGE;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return (int)len;
}

LIBMEMFD_EXPORT int mfd_kernel_supported(void)
{
	int fd = sys_memfd_create("libmemfd-probe", MFD_CLOEXEC | MFD_NOEXEC_SEAL);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	/* Any other refusal (EINVAL before 6.3, EMFILE, ...) means it exists. */
	return errno != ENOSYS;
}
