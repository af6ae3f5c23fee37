/* SPDX-License-Identifier: MIT */
/* mappings: shared mappings that cannot reach past the end of the file. */
#include "libmemfd-private.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define KNOWN_PROT (PROT_READ | PROT_WRITE | PROT_EXEC)
#define KNOWN_MAP_FLAGS 0u

static uint64_t page_size(void)
{
	/* glibc answers this from the auxiliary vector: no system call. */
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t round_up(uint64_t n, uint64_t page)
{
	return (n + page - 1) / page * page;
}

/* 0 if [.., end) stays within the pages that hold the file's bytes. */
static int check_end(const struct mfd *m, uint64_t end, uint64_t page)
{
	struct stat st;

	if (end <= round_up(m->size, page))
		return 0;
	/* The file may have grown through another descriptor. */
	if (fstat(m->fd, &st) < 0)
		return -errno;
	if (end <= round_up((uint64_t)st.st_size, page))
		return 0;
	return -ENXIO;
}

static int is_write_sealed(const struct mfd *m)
{
	int seals = fcntl(m->fd, F_GET_SEALS);

	return seals >= 0 && (seals & F_SEAL_WRITE);
}

LIBMEMFD_EXPORT int mfd_map(struct mfd *m, uint64_t offset, size_t length,
			    int prot, unsigned int flags, void **addr)
{
	uint64_t page = page_size();
	void *p;
	int err;

	if (!m || !addr || length == 0)
		return -EINVAL;
	if ((prot & ~KNOWN_PROT) || (flags & ~KNOWN_MAP_FLAGS))
		return -EINVAL;
	if (offset % page != 0)
		return -EINVAL;
	if (length > (uint64_t)INT64_MAX || offset > (uint64_t)INT64_MAX - length)
		return -EINVAL;
	err = check_end(m, offset + length, page);
	if (err < 0)
		return err;

	p = mmap(NULL, length, prot, MAP_SHARED, m->fd, (off_t)offset);
	if (p == MAP_FAILED) {
		err = errno;
		/* Kernels before 6.7 count every shared mapping of a
		 * write-sealed memfd as writable; a private one shows the
		 * same bytes, since they can no longer change. */
		if (err != EPERM || (prot & PROT_WRITE) || !is_write_sealed(m))
			return -err;
		p = mmap(NULL, length, prot, MAP_PRIVATE, m->fd, (off_t)offset);
		if (p == MAP_FAILED)
			return -errno;
	}
	*addr = p;
	return 0;
}

LIBMEMFD_EXPORT int mfd_unmap(void *addr, size_t length)
{
	if (!addr || length == 0 || (uintptr_t)addr % page_size() != 0)
		return -EINVAL;
	if (munmap(addr, length) < 0)
		return -errno;
	return 0;
}
