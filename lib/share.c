/* SPDX-License-Identifier: MIT */
/* sharing: sealed blobs, handing memfds to another process, and reserving
 * or returning their pages. */
#include "libmemfd-private.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#define IMMUTABLE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* The SCM_RIGHTS descriptors kept track of; any more are closed at once.
 * Any number but one is refused, so more would only cost stack. */
#define RECV_MAX_FDS 8
/* Room for control data beyond them: credentials, a pidfd, a security
 * label (SO_PASSCRED, SO_PASSPIDFD, SO_PASSSEC), so that a caller's socket
 * options do not get a good handoff refused as truncated. */
#define RECV_OTHER_CONTROL 512

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04 /* Linux 6.5; the C library may not know it yet */
#endif

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

LIBMEMFD_EXPORT int mfd_send(int sock, const struct mfd *m)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	/* A stream socket carries control data only along with data. */
	char byte = 'M';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	if (!m)
		return -EINVAL;
	if (sock < 0)
		return -EBADF;
	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &m->fd, sizeof(int));

	/* MSG_NOSIGNAL: a peer that has gone is -EPIPE, not SIGPIPE. */
	n = RETRY_EINTR(ssize_t, sendmsg(sock, &msg, MSG_NOSIGNAL));
	return n < 0 ? (int)n : 0;
}

struct received {
	int fds[RECV_MAX_FDS];
	size_t count; /* SCM_RIGHTS descriptors, RECV_MAX_FDS at most */
};

/* Take every descriptor out of the control data, so that none can leak:
 * the SCM_RIGHTS ones into r, any others (a pidfd asked for with
 * SO_PASSPIDFD, beyond what this call can return) closed at once. */
static void collect_fds(struct msghdr *msg, struct received *r)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET ||
		    (c->cmsg_type != SCM_RIGHTS && c->cmsg_type != SCM_PIDFD))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (c->cmsg_type == SCM_RIGHTS && r->count < RECV_MAX_FDS)
				r->fds[r->count++] = fd;
			else
				close(fd);
		}
	}
}

static void close_all(const struct received *r)
{
	for (size_t i = 0; i < r->count; i++)
		close(r->fds[i]);
}

/* Accept fd as a memfd with the required seals; the recorded size is read
 * only then, when the seals keep it from changing. */
static int adopt_sealed(int fd, unsigned int required, struct mfd **out)
{
	uint64_t map_align;
	struct statfs sfs;
	struct stat st;
	struct mfd *m;
	bool memfd;
	int seals, err;

	/* Only tmpfs and hugetlbfs files can carry seals. */
	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if (mfd_fs_magic(&sfs) != TMPFS_MAGIC && mfd_fs_magic(&sfs) != HUGETLBFS_MAGIC)
		return -EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/*
	 * Every tmpfs and hugetlbfs file is born sealed with F_SEAL_SEAL
	 * alone, which forbids adding any other; only memfd_create makes one
	 * without it (how the kernel is built since sealing began in 3.17,
	 * rather than a promise of its ABI). So any other seal proves a memfd, and the look at its
	 * mount and name (a readlink through /proc, the costliest step of a
	 * handoff) is needed only when the seals prove nothing.
	 */
	if ((unsigned int)seals & ~(unsigned int)F_SEAL_SEAL) {
		memfd = true;
		map_align = mfd_fs_magic(&sfs) == HUGETLBFS_MAGIC ? (uint64_t)sfs.f_bsize : mfd_page_size();
	} else {
		err = mfd_identify(fd, &st, &sfs, &memfd, &map_align);
		if (err < 0)
			return err;
	}
	if (!memfd)
		return -EINVAL;
	if (((unsigned int)seals & required) != required)
		return -EPERM;

	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fd = fd;
	m->memfd = true;
	m->size = (uint64_t)st.st_size;
	m->map_align = map_align;
	*out = m;
	return 0;
}

/* An empty read: the end of a stream, or on a datagram or sequenced-packet
 * socket an empty message (where the end cannot be told from one). */
static bool peer_closed(int sock)
{
	int type = 0;
	socklen_t len = sizeof(type);

	return getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

LIBMEMFD_EXPORT int mfd_recv(int sock, unsigned int required_seals, struct mfd **out)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(RECV_MAX_FDS * sizeof(int)) + RECV_OTHER_CONTROL];
	} control;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct received r = { .count = 0 };
	ssize_t n;
	int err;

	if (!out || (required_seals & ~(unsigned int)LIBMEMFD_ALL_SEALS))
		return -EINVAL;
	if (sock < 0)
		return -EBADF;

	/* MSG_CMSG_CLOEXEC: no window in which an exec could inherit them. */
	n = RETRY_EINTR(ssize_t, recvmsg(sock, &msg, MSG_CMSG_CLOEXEC));
	if (n < 0)
		return (int)n;
	collect_fds(&msg, &r);

	if (n == 0 && r.count == 0)
		err = peer_closed(sock) ? -ECONNRESET : -EBADMSG;
	else if (msg.msg_flags & MSG_CTRUNC)
		err = -EBADMSG; /* descriptors were dropped by the kernel */
	else if (r.count != 1)
		err = -EBADMSG; /* none, or several: which one is the buffer? */
	else
		err = adopt_sealed(r.fds[0], required_seals, out);
	if (err < 0)
		close_all(&r);
	return err;
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
