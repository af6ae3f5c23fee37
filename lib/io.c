/* SPDX-License-Identifier: MIT */
/* stream I/O: the seed's Read, Write and Seek, plus positioned I/O. */
#include "libmemfd-private.h"

#include <unistd.h>

LIBMEMFD_EXPORT ssize_t mfd_read(struct mfd *m, void *buf, size_t count)
{
	if (!m)
		return -EINVAL;
	return RETRY_EINTR(ssize_t, read(m->fd, buf, count));
}

LIBMEMFD_EXPORT ssize_t mfd_write(struct mfd *m, const void *buf, size_t count)
{
	if (!m)
		return -EINVAL;
	return RETRY_EINTR(ssize_t, write(m->fd, buf, count));
}

LIBMEMFD_EXPORT int64_t mfd_seek(struct mfd *m, int64_t offset, int whence)
{
	if (!m)
		return -EINVAL;
	return RETRY_EINTR(off_t, lseek(m->fd, (off_t)offset, whence));
}

LIBMEMFD_EXPORT ssize_t mfd_pread(struct mfd *m, void *buf, size_t count,
				  uint64_t offset)
{
	if (!m || offset > INT64_MAX)
		return -EINVAL;
	return RETRY_EINTR(ssize_t, pread(m->fd, buf, count, (off_t)offset));
}

LIBMEMFD_EXPORT ssize_t mfd_pwrite(struct mfd *m, const void *buf, size_t count,
				   uint64_t offset)
{
	if (!m || offset > INT64_MAX)
		return -EINVAL;
	return RETRY_EINTR(ssize_t, pwrite(m->fd, buf, count, (off_t)offset));
}
