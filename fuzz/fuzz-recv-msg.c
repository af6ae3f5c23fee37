/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: mfd_recv_msg and mfd_recv over a socket pair fed messages built
 * from the fuzzer's bytes, with descriptors of every kind a hostile peer
 * could attach (memfds sealed any way, a memfd whose seals prove nothing, a
 * pipe, a tmpfs and a regular file, a socket, an O_PATH descriptor).
 * Whatever arrives, what is accepted must be a memfd with the required
 * seals, close-on-exec, and no descriptor may be left behind: LeakSanitizer
 * does not see descriptors, so they are counted.
 *
 * Input: a socket type, the required seals, the receive size, a flags
 * byte, then messages: a descriptor count, that many kinds (a memfd's
 * seals follow its kind), a data length and the data.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libmemfd.h"
#include "open-fds.h"

#define MAX_MESSAGES 8
#define MAX_FDS 4

struct input {
	const uint8_t *p, *end;
};

static int take(struct input *in)
{
	return in->p < in->end ? *in->p++ : -1;
}

/* A descriptor of the kind the fuzzer chose; -1 if it cannot be made. */
static int make_fd(int kind, int seals)
{
	char path[64] = "/tmp/libmemfd-fuzz-XXXXXX";
	int fd = -1, p[2];

	switch (kind % 7) {
	case 0: /* a memfd, sealed as the fuzzer says */
		fd = (int)syscall(SYS_memfd_create, "fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd >= 0 && ftruncate(fd, 4096) == 0)
			fcntl(fd, F_ADD_SEALS, seals & (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
							F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
		break;
	case 1: /* a memfd whose seals prove nothing */
		fd = (int)syscall(SYS_memfd_create, "plain", MFD_CLOEXEC);
		break;
	case 2:
		if (pipe2(p, O_CLOEXEC) == 0) {
			close(p[1]);
			fd = p[0];
		}
		break;
	case 3: /* a tmpfs file, not a memfd */
		strcpy(path, "/dev/shm/libmemfd-fuzz-XXXXXX");
		/* fall through */
	case 4:
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
		break;
	case 5:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) == 0) {
			close(p[1]);
			fd = p[0];
		}
		break;
	case 6: { /* an O_PATH descriptor of a memfd */
		int m = (int)syscall(SYS_memfd_create, "opath", MFD_CLOEXEC | MFD_ALLOW_SEALING);

		if (m >= 0) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", m);
			fd = open(path, O_PATH | O_CLOEXEC);
			close(m);
		}
		break;
	}
	}
	return fd;
}

static void send_message(int sock, const void *data, size_t length, const int *fds, size_t n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = length };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	/* Non-blocking: a message that does not fit is simply not sent. */
	(void)sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* What the library hands out must be what it promises. */
static void check_accepted(struct mfd *m, unsigned int required)
{
	struct stat st;
	int seals = mfd_get_seals(m);

	if (seals < 0 || ((unsigned int)seals & required) != required)
		abort();
	if (!(fcntl(mfd_fd(m), F_GETFD) & FD_CLOEXEC))
		abort();
	if (fstat(mfd_fd(m), &st) < 0 || !S_ISREG(st.st_mode))
		abort();
	if (required & F_SEAL_SHRINK && (uint64_t)st.st_size < mfd_size(m))
		abort();
	mfd_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	struct input in = { data, data + size };
	int type = types[(take(&in) & 0xff) % 3];
	unsigned int required = (unsigned int)take(&in) & 0x3f;
	size_t recv_size = (size_t)(take(&in) & 0xff) * 4;
	int flags = take(&in), before = open_fds(), sv[2];
	static char buf[1024];

	if (flags < 0)
		return 0;
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	for (int i = 0; i < MAX_MESSAGES && in.p < in.end; i++) {
		int fds[MAX_FDS], n = take(&in) & 3, length;

		for (int f = 0; f < n; f++) {
			int kind = take(&in) & 0xff;

			fds[f] = make_fd(kind, kind % 7 == 0 ? take(&in) & 0xff : 0);
			if (fds[f] < 0)
				n = f--;
		}
		length = take(&in);
		if (length < 0)
			length = 0;
		if (length > in.end - in.p)
			length = (int)(in.end - in.p);
		send_message(sv[0], in.p, (size_t)length, fds, (size_t)n);
		in.p += length;
		for (int f = 0; f < n; f++)
			close(fds[f]);
	}
	if (flags & 1)
		close(sv[0]);

	/* Receive until nothing is left, the end, or enough tries. */
	for (int i = 0; i < 2 * MAX_MESSAGES + 2; i++) {
		struct mfd *m = (struct mfd *)buf; /* must not be written on failure */
		ssize_t r;

		if (flags & 2)
			r = mfd_recv(sv[1], required, &m);
		else
			r = mfd_recv_msg(sv[1], required, recv_size ? buf : NULL, recv_size, &m);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			if (m != (struct mfd *)buf)
				abort();
			continue;
		}
		if ((size_t)r > recv_size && !(flags & 2))
			abort();
		if (m)
			check_accepted(m, required);
		else if (r == 0 && !(flags & 2))
			break; /* the end of the connection */
	}
	if (!(flags & 1))
		close(sv[0]);
	close(sv[1]);
	if (open_fds() != before)
		abort(); /* a descriptor left behind */
	return 0;
}
