/* SPDX-License-Identifier: MIT */
/* seals: reading and adding F_SEAL_* bits. */
#include "libmemfd-private.h"

#include <fcntl.h>

LIBMEMFD_EXPORT int mfd_get_seals(const struct mfd *m)
{
	int seals;

	/* tmpfs files answer F_GET_SEALS too, but are no memfds. */
	if (!m || !m->memfd)
		return -EINVAL;
	seals = fcntl(m->fd, F_GET_SEALS);
	return seals < 0 ? -errno : seals;
}

LIBMEMFD_EXPORT int mfd_add_seals(struct mfd *m, unsigned int seals)
{
	if (!m || (seals & ~(unsigned int)LIBMEMFD_ALL_SEALS))
		return -EINVAL;
	if (fcntl(m->fd, F_ADD_SEALS, (int)seals) < 0)
		return -errno;
	return 0;
}
