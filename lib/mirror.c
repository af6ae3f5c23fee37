/* SPDX-License-Identifier: MIT */
/*
 * mirrored mappings: one range of a file mapped twice, back to back, so
 * that a ring buffer can hand out every message as one contiguous range.
 *
 * The address range is reserved first (an inaccessible anonymous mapping)
 * and the two halves are then mapped over it with MAP_FIXED, which
 * replaces only what it covers: the reservation, ours. Unmapping a range
 * and mapping again at the address it had (as some ring buffers do) leaves
 * a window in which another thread's mmap can take the address, and
 * MAP_FIXED would then silently replace that thread's mapping;
 * MAP_FIXED_NOREPLACE cannot fill a reservation at all.
 */
#include "libmemfd-private.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define KNOWN_PROT (PROT_READ | PROT_WRITE | PROT_EXEC)

int mfd_reserve_range(size_t length, size_t align, void **addr)
{
	size_t extra = align - (size_t)mfd_page_size();
	uintptr_t start, aligned;
	void *p;

	/* Address space only: MAP_NORESERVE commits no memory to it. */
	p = mmap(NULL, length + extra, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	start = (uintptr_t)p;
	aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
	/* What the alignment leaves over at either end is ours to give back;
	 * trimming a mapping's ends cannot fail. */
	if (aligned > start)
		munmap(p, aligned - start);
	if (extra > aligned - start)
		munmap((void *)(aligned + length), extra - (aligned - start));
	*addr = (void *)aligned;
	return 0;
}

static int map_fixed(int fd, void *at, uint64_t offset, size_t length, int prot, int flags)
{
	if (mmap(at, length, prot, flags | MAP_FIXED, fd, (off_t)offset) == MAP_FAILED)
		return -errno;
	return 0;
}

/*
 * Kernels before 6.7 refuse a shared mapping of a write-sealed memfd
 * through a writable descriptor, read-only or not (see map.c). Through a
 * read-only descriptor of the same file they allow it; without /proc to
 * open one, private mappings show the same bytes at both addresses, since
 * the bytes can no longer change.
 */
static int fill_write_sealed_read_only(const struct mfd *m, void *at, uint64_t offset,
				       size_t length, int prot)
{
	char path[MFD_FD_PATH_MAX];
	int fd, err;

	mfd_fd_path(path, m->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		err = map_fixed(fd, at, offset, length, prot, MAP_SHARED);
		if (err == 0)
			err = map_fixed(fd, (char *)at + length, offset, length, prot, MAP_SHARED);
		/* The mappings hold the file; the descriptor is not needed. */
		close(fd);
		if (err == 0)
			return 0;
	}
	err = map_fixed(m->fd, at, offset, length, prot, MAP_PRIVATE);
	if (err == 0)
		err = map_fixed(m->fd, (char *)at + length, offset, length, prot, MAP_PRIVATE);
	return err;
}

int mfd_fill_mirror(const struct mfd *m, void *at, uint64_t offset, size_t length, int prot)
{
	int err = map_fixed(m->fd, at, offset, length, prot, MAP_SHARED);
	int seals;

	if (err == 0)
		return map_fixed(m->fd, (char *)at + length, offset, length, prot, MAP_SHARED);
	if (err != -EPERM || (prot & PROT_WRITE))
		return err;
	seals = fcntl(m->fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_WRITE))
		return err;
	return fill_write_sealed_read_only(m, at, offset, length, prot);
}

LIBMEMFD_EXPORT int mfd_map_mirror(struct mfd *m, uint64_t offset, size_t length, int prot,
				   void **addr)
{
	void *at;
	int err;

	if (!m || !addr || length == 0 || (prot & ~KNOWN_PROT))
		return -EINVAL;
	/* A huge page cannot be mapped in part, nor a mirror start inside one. */
	if (length % m->map_align != 0 || offset % m->map_align != 0)
		return -EINVAL;
	/* Both halves and the alignment's slack fit in the address space
	 * (and so in INT64_MAX). */
	if (length > (SIZE_MAX - (size_t)m->map_align) / 2 ||
	    offset > (uint64_t)INT64_MAX - length)
		return -EINVAL;
	err = mfd_check_end(m, offset + length);
	if (err < 0)
		return err;
	err = mfd_reserve_range(2 * length, (size_t)m->map_align, &at);
	if (err < 0)
		return err;
	err = mfd_fill_mirror(m, at, offset, length, prot);
	if (err < 0) {
		munmap(at, 2 * length);
		return err;
	}
	*addr = at;
	return 0;
}
