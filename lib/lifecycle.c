/* SPDX-License-Identifier: MIT */
/* fd lifecycle: creating, adopting, naming and releasing memfds. */
#include "libmemfd-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXEC_FLAGS (MFD_EXEC | MFD_NOEXEC_SEAL)
#define HUGE_SIZE_FLAGS ((unsigned int)MFD_HUGE_MASK << MFD_HUGE_SHIFT)
#define KNOWN_FLAGS                                                      \
	(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | EXEC_FLAGS |    \
	 HUGE_SIZE_FLAGS)

#define LINK_PREFIX "memfd:"
#define LINK_SUFFIX " (deleted)"

/* Set once a kernel (before 6.3) has refused MFD_EXEC/MFD_NOEXEC_SEAL. */
static int kernel_lacks_exec_flags;

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

LIBMEMFD_EXPORT int mfd_new(struct mfd **out, const char *name, unsigned int flags)
{
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

	/* Allocate first, so that nothing can fail once the fd exists. */
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	fd = create_fd(name, flags);
	if (fd < 0) {
		free(m);
		return fd;
	}
	m->fd = fd;
	m->size = 0;
	*out = m;
	return 0;
}

LIBMEMFD_EXPORT int mfd_from_fd(struct mfd **out, int fd)
{
	struct mfd *m;
	struct stat st;

	if (fd < 0)
		return -EBADF;
	if (!out)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* Only a regular file has a size that mappings can rely on. */
	if (!S_ISREG(st.st_mode))
		return -EINVAL;

	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fd = fd;
	m->size = (uint64_t)st.st_size;
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
	/* The link reads "/memfd:NAME (deleted)"; accept it without the "/". */
	char link[1 + sizeof(LINK_PREFIX) + LIBMEMFD_NAME_MAX + sizeof(LINK_SUFFIX)];
	char path[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
	const char *name;
	size_t len;
	ssize_t n;

	if (!m || !buf)
		return -EINVAL;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", m->fd);
	n = readlink(path, link, sizeof(link));
	if (n < 0)
		return -errno;
	/* Longer than any memfd's link: some other file. */
	if ((size_t)n >= sizeof(link))
		return -EINVAL;
	link[n] = '\0';

	name = link[0] == '/' ? link + 1 : link;
	len = strlen(LINK_SUFFIX);
	if (strncmp(name, LINK_PREFIX, strlen(LINK_PREFIX)) != 0 ||
	    (size_t)n < len || strcmp(link + n - len, LINK_SUFFIX) != 0)
		return -EINVAL;
	name += strlen(LINK_PREFIX);
	len = (size_t)(link + n - len - name);

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
