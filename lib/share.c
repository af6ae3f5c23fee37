/* SPDX-License-Identifier: MIT */
/* sharing: sealed blobs, the seals a receiver requires, and reserving or
 * returning pages (handing memfds over: socket.c). */
#include "libmemfd-private.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define IMMUTABLE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Write all of data at the start of a new, empty file. */
static int write_all(int fd, const char *data, size_t length)
{
	size_t done = 0;

	while (done < length) {
		ssize_t n = RETRY_EINTR(ssize_t, pwrite(fd, data + done, length - done,
							(off_t)done));

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO; /* no progress: do not spin */
		done += (size_t)n;
	}
	return 0;
}

LIBMEMFD_EXPORT int mfd_new_sealed(struct mfd **out, const char *name,
				   const void *data, size_t length)
{
	struct mfd *m;
	int err;

	if (!out || (!data && length > 0) || mfd_above_off_max(length))
		return -EINVAL;
	err = mfd_new(&m, name, 0);
	if (err < 0)
		return err;
	err = write_all(m->fd, data, length);
	if (err == 0)
		err = mfd_add_seals(m, IMMUTABLE_SEALS);
	if (err < 0) {
		mfd_free(m);
		return err;
	}
	m->size = length;
	*out = m;
	return 0;
}

LIBMEMFD_EXPORT int mfd_check_seals(const struct mfd *m, unsigned int required)
{
	int seals;

	if (required & ~(unsigned int)LIBMEMFD_ALL_SEALS)
		return -EINVAL;
	seals = mfd_get_seals(m);
	if (seals < 0)
		return seals;
	/* A subset test: seals a newer kernel adds must not refuse a buffer. */
	return ((unsigned int)seals & required) == required ? 0 : -EPERM;
}

/* fallocate(2)'s own checks, made before the call: errno as it gives them. */
static int check_range(const struct mfd *m, uint64_t offset, uint64_t length)
{
	if (!m || length == 0 || offset > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (length > (uint64_t)INT64_MAX - offset)
		return -EFBIG;
	return 0;
}

LIBMEMFD_EXPORT int mfd_allocate(struct mfd *m, uint64_t offset, uint64_t length)
{
	int err = check_range(m, offset, length);

	if (err < 0)
		return err;
	/* posix_fallocate returns the error rather than setting errno. */
	do
		err = posix_fallocate(m->fd, (off_t)offset, (off_t)length);
	while (err == EINTR);
	if (err)
		return -err;
	if (offset + length > m->size)
		m->size = offset + length;
	return 0;
}

LIBMEMFD_EXPORT int mfd_punch_hole(struct mfd *m, uint64_t offset, uint64_t length)
{
	int err = check_range(m, offset, length);

	if (err < 0)
		return err;
	err = RETRY_EINTR(int, fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 (off_t)offset, (off_t)length));
	return err < 0 ? err : 0;
}
