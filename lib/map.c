/* SPDX-License-Identifier: MIT */
/* mappings: shared mappings that cannot reach past the end of the file. */
#include "libmemfd-private.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define KNOWN_PROT (PROT_READ | PROT_WRITE | PROT_EXEC)
#define KNOWN_MAP_FLAGS (LIBMEMFD_MAP_POPULATE | LIBMEMFD_MAP_GUARD)

static uint64_t round_up(uint64_t n, uint64_t align)
{
	return (n + align - 1) / align * align;
}

/* 0 if [.., end) stays within the pages that hold the file's bytes. */
int mfd_check_end(const struct mfd *m, uint64_t end)
{
	struct stat st;

	if (end <= round_up(m->size, m->map_align))
		return 0;
	/* The file may have grown through another descriptor. */
	if (fstat(m->fd, &st) < 0)
		return -errno;
	if (end <= round_up((uint64_t)st.st_size, m->map_align))
		return 0;
	return -ENXIO;
}

/* The seals, or 0 where they cannot be read: only asked after a refusal. */
static int seals_of(const struct mfd *m)
{
	int seals = fcntl(m->fd, F_GET_SEALS);

	return seals < 0 ? 0 : seals;
}

/*
 * Kernels before 6.7 refuse every shared mapping of a write-sealed memfd
 * made through a writable descriptor, read-only ones too. Through a
 * read-only descriptor of the same file they allow it, and the mapping can
 * never be made writable. Without /proc, a private mapping shows the same
 * bytes, since they can no longer change.
 */
static void *map_write_sealed_read_only(const struct mfd *m, size_t length,
					int prot, int mmap_flags, off_t offset)
{
	char path[MFD_FD_PATH_MAX];
	void *p = MAP_FAILED;
	int fd;

	mfd_fd_path(path, m->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		p = mmap(NULL, length, prot, MAP_SHARED | mmap_flags, fd, offset);
		/* The mapping holds the file; the descriptor is not needed. */
		close(fd);
	}
	if (p == MAP_FAILED)
		p = mmap(NULL, length, prot, MAP_PRIVATE | mmap_flags, m->fd, offset);
	return p;
}

/* The mmap of mfd_map, once the arguments are known to be good. */
static int map_file(const struct mfd *m, uint64_t offset, size_t length, int prot,
		    int mmap_flags, void **addr)
{
	void *p = mmap(NULL, length, prot, MAP_SHARED | mmap_flags, m->fd, (off_t)offset);

	if (p == MAP_FAILED) {
		int seals, err = errno;

		if (err != EPERM && err != EACCES)
			return -err;
		seals = seals_of(m);
		/* Sealed against writes: whatever the descriptor, that is why
		 * a writable mapping is refused. */
		if ((prot & PROT_WRITE) && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
			return -EPERM;
		if ((prot & PROT_WRITE) || err != EPERM || !(seals & F_SEAL_WRITE))
			return -err;
		p = map_write_sealed_read_only(m, length, prot, mmap_flags, (off_t)offset);
		if (p == MAP_FAILED)
			return -errno;
	}
	*addr = p;
	return 0;
}

LIBMEMFD_EXPORT int mfd_map(struct mfd *m, uint64_t offset, size_t length,
			    int prot, unsigned int flags, void **addr)
{
	struct mfd_guard *guard = NULL;
	int mmap_flags = 0;
	void *p = NULL;
	int err;

	if (!m || !addr || length == 0)
		return -EINVAL;
	if ((prot & ~KNOWN_PROT) || (flags & ~KNOWN_MAP_FLAGS))
		return -EINVAL;
	if (offset % m->map_align != 0)
		return -EINVAL;
	/* A huge page cannot be unmapped in part, so it is mapped whole. */
	if (m->map_align != mfd_page_size() && length % m->map_align != 0)
		return -EINVAL;
	if (mfd_above_off_max(length) || offset > (uint64_t)INT64_MAX - length)
		return -EINVAL;
	err = mfd_check_end(m, offset + length);
	if (err < 0)
		return err;
	if (flags & LIBMEMFD_MAP_POPULATE)
		mmap_flags |= MAP_POPULATE;
	if (flags & LIBMEMFD_MAP_GUARD) {
		err = mfd_guard_reserve(&guard);
		if (err < 0)
			return err;
	}

	err = map_file(m, offset, length, prot, mmap_flags, &p);
	if (err < 0) {
		if (guard)
			mfd_guard_cancel(guard);
		return err;
	}
	/* Repairs replace whole granules: a huge page on hugetlbfs. */
	if (guard) {
		err = mfd_guard_publish(guard, p, length, prot, m->map_align);
		if (err < 0) {
			munmap(p, length);
			return err;
		}
	}
	*addr = p;
	return 0;
}

LIBMEMFD_EXPORT int mfd_unmap(void *addr, size_t length)
{
	int err;

	if (!addr || length == 0 || (uintptr_t)addr % mfd_page_size() != 0)
		return -EINVAL;
	err = mfd_guard_unmap(addr, length);
	if (err != MFD_GUARD_NONE)
		return err;
	if (munmap(addr, length) < 0)
		return -errno;
	return 0;
}
