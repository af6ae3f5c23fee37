/* SPDX-License-Identifier: MIT */
/* sizing: the size a handle records, and ftruncate. */
#include "libmemfd-private.h"

#include <unistd.h>

_Static_assert(sizeof(off_t) == sizeof(int64_t),
	       "libmemfd needs a 64-bit off_t (AC_SYS_LARGEFILE)");

LIBMEMFD_EXPORT uint64_t mfd_size(const struct mfd *m)
{
	return m ? m->size : 0;
}

LIBMEMFD_EXPORT int mfd_set_size(struct mfd *m, uint64_t size)
{
	if (!m || size > INT64_MAX)
		return -EINVAL;
	if (ftruncate(m->fd, (off_t)size) < 0)
		return -errno;
	m->size = size;
	return 0;
}
