/* SPDX-License-Identifier: MIT */
/* handing memfds over AF_UNIX sockets: one descriptor alone (mfd_send,
 * mfd_recv) or with a message (mfd_send_msg, mfd_recv_msg), and the
 * receiving side's care with whatever a peer puts on the wire. */
#include "libmemfd-private.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <unistd.h>

/* The SCM_RIGHTS descriptors kept track of; any more are closed at once.
 * Any number but one is refused, so more would only cost stack. */
#define RECV_MAX_FDS 8
/* Room for control data beyond them: credentials, a pidfd, timestamps and
 * a security label (SO_PASSCRED, SO_PASSPIDFD, SO_TIMESTAMP*, SO_PASSSEC;
 * a label, a security context, is at most a page), so that a caller's
 * socket options do not get a good handoff refused as truncated. */
#define RECV_OTHER_CONTROL (4096 + 512)

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04 /* Linux 6.5; the C library may not know it yet */
#endif

/* The socket's SO_TYPE, or -errno. */
static int socket_type(int sock)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	return type;
}

/*
 * Wait until a stream has room again, for the rest of a message: for as
 * long as the socket's SO_SNDTIMEO allows (-ETIMEDOUT then), or without
 * limit where it has none, as a blocking send would.
 */
static int wait_writable(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLOUT };
	struct timeval limit = { 0, 0 };
	socklen_t len = sizeof(limit);
	int timeout = -1, n;

	if (getsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &limit, &len) == 0 &&
	    (limit.tv_sec > 0 || limit.tv_usec > 0))
		timeout = limit.tv_sec >= INT_MAX / 1000 ? INT_MAX
			: (int)(limit.tv_sec * 1000 + (limit.tv_usec + 999) / 1000);
	n = RETRY_EINTR(int, poll(&p, 1, timeout));
	if (n < 0)
		return n;
	if (n == 0)
		return -ETIMEDOUT;
	/* POLLERR or POLLHUP: the next send says which error it is. */
	return 0;
}

/* Send data[0, length) with fd attached (SCM_RIGHTS), never raising
 * SIGPIPE; a short send on a stream is completed. 0 or -errno. */
static int send_with_fd(int sock, int fd, const void *data, size_t length)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = length };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	size_t done;
	ssize_t n;

	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

	/* MSG_NOSIGNAL: a peer that has gone is -EPIPE, not SIGPIPE. The
	 * descriptor goes with the first byte; -EAGAIN here sent nothing. */
	n = RETRY_EINTR(ssize_t, sendmsg(sock, &msg, MSG_NOSIGNAL));
	if (n < 0)
		return (int)n;

	/* Only a stream sends part of a message: complete it, waiting for
	 * room even on a non-blocking socket, since a message cut short
	 * would leave the stream unusable. */
	for (done = (size_t)n; done < length; done += (size_t)n) {
		n = RETRY_EINTR(ssize_t, send(sock, (const char *)data + done, length - done,
					      MSG_NOSIGNAL));
		if (n == -EAGAIN) { /* EWOULDBLOCK is the same on Linux */
			int err = wait_writable(sock);

			if (err < 0)
				return err;
			n = 0;
		} else if (n < 0) {
			return (int)n;
		}
	}
	return 0;
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

/* Accept fd, just received, as a memfd carrying every seal in required:
 * a new handle whose size is read after the seals. The caller still owns
 * fd on failure. */
static int adopt_received(int fd, unsigned int required, struct mfd **out)
{
	uint64_t map_align;
	struct statfs sfs;
	struct stat st;
	struct mfd *m;
	bool memfd;
	int seals, err;

	/*
	 * The seals first: only tmpfs and hugetlbfs files have them, and the
	 * kernel answers without asking the file system. fstatfs or fstat of
	 * a file on FUSE or NFS would wait on, and take its answer from, a
	 * server the peer may run. What has no seals to read (O_PATH too)
	 * cannot be proven a memfd.
	 */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return -EINVAL;
	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if (mfd_fs_magic(&sfs) != TMPFS_MAGIC && mfd_fs_magic(&sfs) != HUGETLBFS_MAGIC)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* Seals that prove a memfd spare the look at its mount and name
	 * (a readlink through /proc, the costliest step of a handoff). */
	err = mfd_identify(fd, &st, &sfs, seals, &memfd, &map_align);
	if (err < 0)
		return err;
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

/*
 * An empty read with no descriptor: the end of the connection, or an
 * empty datagram or packet. A stream has no empty messages. A
 * sequenced-packet socket reads empty both for an empty packet and once
 * the peer has gone, which poll tells: POLLHUP when it closed, POLLRDHUP
 * when it shut down writing. Packets it sent before it went may still be
 * queued behind an empty one: then it was not the end (SIOCINQ counts the
 * bytes queued). Only empty packets left queued after the peer has gone
 * cannot be told from the end.
 */
static bool connection_ended(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN | POLLRDHUP };
	int queued = 0;

	switch (socket_type(sock)) {
	case SOCK_STREAM:
		return true;
	case SOCK_SEQPACKET:
		if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLHUP | POLLRDHUP)))
			return false;
		return ioctl(sock, SIOCINQ, &queued) == 0 && queued == 0;
	default:
		return false; /* a datagram socket has no end */
	}
}

/*
 * One recvmsg(2) of at most size bytes into buf, every descriptor that
 * arrived taken out of the control data. *out is the memfd that came,
 * accepted as adopt_received does, or NULL. Returns the number of
 * bytes; 0 with *out NULL is the end of the connection, and nothing else.
 * whole: a datagram or packet longer than size is -EMSGSIZE (else its
 * tail is dropped). On every error each descriptor that arrived is closed.
 */
static ssize_t receive(int sock, unsigned int required, void *buf, size_t size, bool whole,
		    struct mfd **out)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(RECV_MAX_FDS * sizeof(int)) + RECV_OTHER_CONTROL];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct received r = { .count = 0 };
	struct mfd *m = NULL;
	ssize_t n;
	int err = 0;

	/* What proves a memfd is learned while a descriptor slot is free. */
	mfd_identify_prepare();

	/* MSG_CMSG_CLOEXEC: no window in which an exec could inherit them. */
	n = RETRY_EINTR(ssize_t, recvmsg(sock, &msg, MSG_CMSG_CLOEXEC));
	if (n < 0)
		return n;
	collect_fds(&msg, &r);

	if ((msg.msg_flags & MSG_CTRUNC) || r.count > 1)
		err = -EBADMSG; /* several, or some dropped: which is the buffer? */
	else if (whole && (msg.msg_flags & MSG_TRUNC))
		err = -EMSGSIZE;
	else if (r.count == 1)
		err = adopt_received(r.fds[0], required, &m);
	else if (n == 0 && !connection_ended(sock))
		err = -EBADMSG; /* an empty datagram or packet that carries nothing */
	if (err < 0) {
		close_all(&r);
		return err;
	}
	*out = m;
	return n;
}

LIBMEMFD_EXPORT int mfd_send_msg(int sock, const struct mfd *m, const void *data, size_t length)
{
	if (!m || (!data && length > 0))
		return -EINVAL;
	if (sock < 0)
		return -EBADF;
	if (length == 0) {
		/* An empty send on a stream carries nothing, not even the
		 * descriptor. */
		int type = socket_type(sock);

		if (type < 0)
			return type;
		if (type == SOCK_STREAM)
			return -EINVAL;
	}
	return send_with_fd(sock, m->fd, data, length);
}

LIBMEMFD_EXPORT ssize_t mfd_recv_msg(int sock, unsigned int required_seals, void *buf,
				     size_t size, struct mfd **out)
{
	if (!out || (!buf && size > 0) || (required_seals & ~(unsigned int)LIBMEMFD_ALL_SEALS))
		return -EINVAL;
	if (sock < 0)
		return -EBADF;
	if (size == 0) {
		/* On a stream, a read of nothing is its end. */
		int type = socket_type(sock);

		if (type < 0)
			return type;
		if (type == SOCK_STREAM)
			return -EINVAL;
	}
	return receive(sock, required_seals, buf, size, true, out);
}

LIBMEMFD_EXPORT int mfd_send(int sock, const struct mfd *m)
{
	if (!m)
		return -EINVAL;
	if (sock < 0)
		return -EBADF;
	/* A stream socket carries control data only along with data. */
	return send_with_fd(sock, m->fd, "M", 1);
}

LIBMEMFD_EXPORT int mfd_recv(int sock, unsigned int required_seals, struct mfd **out)
{
	struct mfd *m;
	char byte;
	ssize_t n;

	if (!out || (required_seals & ~(unsigned int)LIBMEMFD_ALL_SEALS))
		return -EINVAL;
	if (sock < 0)
		return -EBADF;
	/* One byte, as mfd_send sends; a longer datagram's tail is dropped. */
	n = receive(sock, required_seals, &byte, 1, false, &m);
	if (n < 0)
		return (int)n;
	if (!m)
		return n == 0 ? -ECONNRESET : -EBADMSG;
	*out = m;
	return 0;
}
