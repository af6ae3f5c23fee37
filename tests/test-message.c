/* SPDX-License-Identifier: MIT */
/*
 * mfd_send_msg and mfd_recv_msg: every row of the contract on stream,
 * datagram and sequenced-packet sockets, against a peer that speaks the
 * raw socket API (sendmsg/recvmsg), not only against the library itself,
 * and a hostile one for every refusal.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscall-filter.h"
#include "test-common.h"

#define SEALED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76 /* Linux 6.5 */
#endif
#ifndef SCM_SECURITY
#define SCM_SECURITY 0x03
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04 /* Linux 6.5 */
#endif

static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
static const char *const type_names[] = { "stream", "datagram", "seqpacket" };

static void pair(int type, int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
}

static struct mfd *sealed_blob(const char *text)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new_sealed(&m, "message", text, strlen(text)), 0);
	return m;
}

/* What is waiting in sock, read raw: its bytes and descriptors. */
static ssize_t raw_recv(int sock, void *buf, size_t size, int *fds, size_t *nfds, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(16 * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);

	*nfds = 0;
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	return n;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Nothing is waiting in sock. */
static void assert_nothing_queued(int sock)
{
	char byte;

	ck_assert_int_eq(recv(sock, &byte, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
}

/* The next message in sock is "next", without a descriptor: what an error
 * consumed was the message before it, and only that. */
static void assert_next_message(int sock)
{
	struct mfd *got = POISON_PTR;
	char buf[16];

	ck_assert_int_eq(mfd_recv_msg(sock, 0, buf, sizeof(buf), &got), 4);
	ck_assert_ptr_null(got);
	ck_assert_mem_eq(buf, "next", 4);
}

START_TEST(test_send_msg_to_a_raw_receiver)
{
	struct mfd *m = sealed_blob("contents");
	char buf[16] = { 0 };
	int sv[2], fds[16];
	size_t nfds;

	pair(types[_i], sv);
	ck_assert_int_eq(mfd_send_msg(sv[0], m, "hello", 5), 0);
	ck_assert_int_eq(raw_recv(sv[1], buf, sizeof(buf), fds, &nfds, 0), 5);
	ck_assert_str_eq(buf, "hello");
	ck_assert_uint_eq(nfds, 1);
	ck_assert(same_file(fds[0], mfd_fd(m)));
	close(fds[0]);
	/* The handle keeps its descriptor. */
	ck_assert_int_ge(fcntl(mfd_fd(m), F_GETFD), 0);
	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

START_TEST(test_recv_msg_from_a_raw_sender)
{
	struct mfd *m = sealed_blob("contents"), *got = POISON_PTR;
	char buf[16] = { 0 }, data[16] = { 0 };
	int sv[2], fd = mfd_fd(m);

	pair(types[_i], sv);
	ck_assert_int_eq(send_with_fds(sv[0], "hello", 5, &fd, 1), 5);
	ck_assert_int_eq(mfd_recv_msg(sv[1], SEALED, buf, sizeof(buf), &got), 5);
	ck_assert_str_eq(buf, "hello");
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_ne(got, POISON_PTR);
	ck_assert(same_file(mfd_fd(got), fd));
	ck_assert_int_ne(fcntl(mfd_fd(got), F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_uint_eq(mfd_size(got), 8);
	ck_assert_int_eq(mfd_pread(got, data, sizeof(data), 0), 8);
	ck_assert_str_eq(data, "contents");
	mfd_free(got);

	/* Most messages carry no descriptor. */
	got = POISON_PTR;
	ck_assert_int_eq(send_with_fds(sv[0], "abc", 3, NULL, 0), 3);
	ck_assert_int_eq(mfd_recv_msg(sv[1], SEALED, buf, sizeof(buf), &got), 3);
	ck_assert_ptr_null(got);
	ck_assert_mem_eq(buf, "abc", 3);
	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

START_TEST(test_send_recv_msg_between_processes)
{
	int sv[2], status;
	pid_t child;

	pair(types[_i], sv);
	child = fork_flushed();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct mfd *m = sealed_blob("from the child");
		int ok;

		close(sv[1]);
		ok = mfd_send_msg(sv[0], m, "one", 3) == 0 &&
		     send_with_fds(sv[0], "two", 3, NULL, 0) == 3 &&
		     mfd_send_msg(sv[0], m, "six", 3) == 0;
		mfd_free(m);
		exit_child(ok ? 0 : 1);
	}
	close(sv[0]);
	for (int i = 0; i < 3; i++) {
		static const char *const want[] = { "one", "two", "six" };
		struct mfd *got = POISON_PTR;
		char buf[8] = { 0 };

		ck_assert_int_eq(mfd_recv_msg(sv[1], SEALED, buf, 3, &got), 3);
		ck_assert_str_eq(buf, want[i]);
		if (i == 1) {
			ck_assert_ptr_null(got);
		} else {
			ck_assert_ptr_nonnull(got);
			ck_assert_uint_eq(mfd_size(got), 14);
			mfd_free(got);
		}
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[1]);
}
END_TEST

/* length 0: an empty datagram or packet that carries the descriptor; on a
 * stream, where an empty send carries nothing, -EINVAL and nothing sent. */
START_TEST(test_send_msg_empty)
{
	struct mfd *m = sealed_blob("entry"), *got = POISON_PTR;
	char buf[8];
	int sv[2], fds[16];
	size_t nfds;

	pair(types[_i], sv);
	if (types[_i] == SOCK_STREAM) {
		ck_assert_int_eq(mfd_send_msg(sv[0], m, NULL, 0), -EINVAL);
		ck_assert_int_eq(mfd_send_msg(sv[0], m, "", 0), -EINVAL);
		assert_nothing_queued(sv[1]);
	} else {
		ck_assert_int_eq(mfd_send_msg(sv[0], m, NULL, 0), 0);
		ck_assert_int_eq(raw_recv(sv[1], buf, sizeof(buf), fds, &nfds, 0), 0);
		ck_assert_uint_eq(nfds, 1);
		ck_assert(same_file(fds[0], mfd_fd(m)));
		close(fds[0]);
		/* And the library's receiver takes it: 0 bytes, a memfd. */
		ck_assert_int_eq(mfd_send_msg(sv[0], m, NULL, 0), 0);
		ck_assert_int_eq(mfd_recv_msg(sv[1], SEALED, buf, sizeof(buf), &got), 0);
		ck_assert_ptr_nonnull(got);
		ck_assert_ptr_ne(got, POISON_PTR);
		ck_assert_uint_eq(mfd_size(got), 5);
		mfd_free(got);
		/* buf NULL and size 0 are fine where a message can be empty. */
		got = POISON_PTR;
		ck_assert_int_eq(mfd_send_msg(sv[0], m, NULL, 0), 0);
		ck_assert_int_eq(mfd_recv_msg(sv[1], 0, NULL, 0, &got), 0);
		ck_assert_ptr_nonnull(got);
		ck_assert_ptr_ne(got, POISON_PTR);
		mfd_free(got);
	}
	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

START_TEST(test_send_msg_bad_arguments)
{
	struct mfd *m = sealed_blob("x");
	struct resources before = resources_now();
	int sv[2], pipefd[2];

	pair(types[_i], sv);
	ck_assert_int_eq(mfd_send_msg(sv[0], NULL, "x", 1), -EINVAL);
	ck_assert_int_eq(mfd_send_msg(sv[0], m, NULL, 1), -EINVAL);
	ck_assert_int_eq(mfd_send_msg(-1, m, "x", 1), -EBADF);
	ck_assert_int_eq(mfd_send_msg(-1, m, NULL, 0), -EBADF);
	assert_nothing_queued(sv[1]);
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	ck_assert_int_eq(mfd_send_msg(pipefd[1], m, "x", 1), -ENOTSOCK);
	ck_assert_int_eq(mfd_send_msg(pipefd[1], m, NULL, 0), -ENOTSOCK);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	close(sv[1]);
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

/* A peer that has gone is an error, never SIGPIPE (whose default action
 * would end this test's process). */
START_TEST(test_send_msg_to_closed_peer)
{
	struct mfd *m = sealed_blob("x");
	int sv[2], r;

	ck_assert_ptr_ne(signal(SIGPIPE, SIG_DFL), SIG_ERR);
	pair(types[_i], sv);
	close(sv[1]);
	r = mfd_send_msg(sv[0], m, "x", 1);
	if (types[_i] == SOCK_DGRAM)
		ck_assert_int_eq(r, -ECONNREFUSED);
	else
		ck_assert_int_eq(r, -EPIPE);
	close(sv[0]);
	mfd_free(m);
}
END_TEST

START_TEST(test_send_msg_datagram_too_large)
{
	struct mfd *m = sealed_blob("x");
	size_t length = 64 << 20;
	char *data = calloc(1, length);
	int sv[2];

	ck_assert_ptr_nonnull(data);
	pair(types[_i], sv);
	ck_assert_int_eq(mfd_send_msg(sv[0], m, data, length), -EMSGSIZE);
	assert_nothing_queued(sv[1]);
	close(sv[0]);
	close(sv[1]);
	free(data);
	mfd_free(m);
}
END_TEST

/* The byte at offset i of the large messages. */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 % 251);
}

/* A slow reader of a stream: the descriptor must come with the first byte
 * of the message, and every byte must follow in order. */
static int slow_reader(int sock, size_t length, size_t already)
{
	static unsigned char buf[65536];
	size_t done = already;
	int fds[16];
	size_t nfds;
	ssize_t n;

	/* Late: the sender's first send must stop short (a full buffer). */
	usleep(20000);
	n = raw_recv(sock, buf, 1000, fds, &nfds, 0);
	if (n <= 0 || nfds != 1 || (size_t)n > length)
		return 1;
	/* Bytes queued before the message came first, without a descriptor. */
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != pattern(done + (size_t)i))
			return 2;
	done += (size_t)n;
	close(fds[0]);
	while (done < length) {
		usleep(200);
		n = raw_recv(sock, buf, sizeof(buf), fds, &nfds, 0);
		if (n <= 0 || nfds != 0)
			return 3;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(done + (size_t)i))
				return 4;
		done += (size_t)n;
	}
	return done == length ? 0 : 5;
}

static void on_alarm(int sig)
{
}

/* Non-blocking, or blocking and interrupted by a signal handler all the
 * while: either way the kernel takes part of the message and mfd_send_msg
 * must send the rest itself (a blocking send that no signal interrupts is
 * completed by the kernel). */
static void send_large_to_slow_reader(bool non_blocking)
{
	struct sigaction alarm_action = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	/* Valgrind makes each signal and each copy costly: fewer of both. */
	bool slow = getenv("LIBMEMFD_TEST_UNDER_VALGRIND") != NULL;
	suseconds_t every = slow ? 10000 : 1000;
	struct itimerval timer = { { 0, every }, { 0, every } }, stop = { { 0, 0 }, { 0, 0 } };
	size_t length = slow ? 512 << 10 : 8 << 20;
	unsigned char *data = malloc(length);
	struct mfd *m = sealed_blob("large");
	int sv[2], status, sndbuf = 16384;
	pid_t child;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < length; i++)
		data[i] = pattern(i);
	pair(SOCK_STREAM, sv);
	/* A small buffer, so that the kernel takes the message in many parts. */
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	if (non_blocking)
		ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	child = fork_flushed();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int r;

		close(sv[0]);
		r = slow_reader(sv[1], length, 0);
		/* The parent's, but valgrind counts them as the child's leaks. */
		free(data);
		mfd_free(m);
		exit_child(r);
	}
	close(sv[1]);
	if (!non_blocking) {
		ck_assert_int_eq(sigaction(SIGALRM, &alarm_action, NULL), 0);
		ck_assert_int_eq(setitimer(ITIMER_REAL, &timer, NULL), 0);
	}
	ck_assert_int_eq(mfd_send_msg(sv[0], m, data, length), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &stop, NULL), 0);
	close(sv[0]);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reader says %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	free(data);
	mfd_free(m);
}

START_TEST(test_send_msg_short_send_completed)
{
	send_large_to_slow_reader(false);
}
END_TEST

START_TEST(test_send_msg_short_send_completed_non_blocking)
{
	send_large_to_slow_reader(true);
}
END_TEST

/* A reader that stops reading: the rest of a message waits for room for
 * as long as the socket's send timeout allows, then -ETIMEDOUT. */
START_TEST(test_send_msg_send_timeout)
{
	static char data[1 << 20];
	struct timeval limit = { .tv_sec = 0, .tv_usec = 50000 };
	struct mfd *m = sealed_blob("x");
	int sv[2];

	pair(SOCK_STREAM, sv);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit)), 0);
	ck_assert_int_eq(mfd_send_msg(sv[0], m, data, sizeof(data)), -ETIMEDOUT);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(mfd_send_msg(sv[0], m, data, 1), -EAGAIN);
	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

/* A non-blocking stream with no room: -EAGAIN, and nothing was sent (no
 * byte, no descriptor). */
START_TEST(test_send_msg_non_blocking_full)
{
	struct mfd *m = sealed_blob("x");
	char filler[4096] = { 0 }, buf[4096];
	size_t queued = 0, drained = 0;
	int sv[2], fds[16];
	size_t nfds;
	ssize_t n;

	pair(SOCK_STREAM, sv);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	while ((n = send(sv[0], filler, sizeof(filler), MSG_DONTWAIT)) > 0)
		queued += (size_t)n;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(mfd_send_msg(sv[0], m, "x", 1), -EAGAIN);
	while ((n = raw_recv(sv[1], buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT)) > 0) {
		ck_assert_uint_eq(nfds, 0);
		drained += (size_t)n;
	}
	ck_assert_uint_eq(drained, queued);
	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

/* 0 with *out NULL is the end of the connection, and nothing else. */
START_TEST(test_recv_msg_end_of_connection)
{
	for (int shut_down = 0; shut_down < 2; shut_down++) {
		struct mfd *got = POISON_PTR;
		struct resources before;
		char buf[8];
		int sv[2];

		pair(types[_i], sv);
		ck_assert_int_eq(send_with_fds(sv[0], "last", 4, NULL, 0), 4);
		if (shut_down)
			ck_assert_int_eq(shutdown(sv[0], SHUT_WR), 0);
		else
			close(sv[0]);
		ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, sizeof(buf), &got), 4);
		ck_assert_ptr_null(got);
		before = resources_now();
		for (int i = 0; i < 3; i++) {
			got = POISON_PTR;
			ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, sizeof(buf), &got), 0);
			ck_assert_ptr_null(got);
		}
		ck_assert_resources_unchanged(before);
		if (shut_down)
			close(sv[0]);
		close(sv[1]);
	}
}
END_TEST

/* An empty packet is no end even once the peer has gone, while packets
 * it sent before going are still queued behind it. */
START_TEST(test_recv_msg_empty_packet_before_the_end)
{
	struct mfd *m = sealed_blob("x"), *got = POISON_PTR;
	char buf[8];
	int sv[2], fd = mfd_fd(m);

	pair(SOCK_SEQPACKET, sv);
	ck_assert_int_eq(send_with_fds(sv[0], NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(send_with_fds(sv[0], "data", 4, NULL, 0), 4);
	ck_assert_int_eq(send_with_fds(sv[0], NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(send_with_fds(sv[0], "fd", 2, &fd, 1), 2);
	close(sv[0]);
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, sizeof(buf), &got), -EBADMSG);
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, sizeof(buf), &got), 4);
	ck_assert_ptr_null(got);
	/* mfd_recv, too, does not take it for the end. */
	got = POISON_PTR;
	ck_assert_int_eq(mfd_recv(sv[1], 0, &got), -EBADMSG);
	ck_assert_int_eq(mfd_recv(sv[1], 0, &got), 0);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_ne(got, POISON_PTR);
	mfd_free(got);
	got = POISON_PTR;
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, sizeof(buf), &got), 0);
	ck_assert_ptr_null(got);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

/* An empty datagram or packet that carries nothing while the peer is
 * there is no end: -EBADMSG, consumed. */
START_TEST(test_recv_msg_empty_without_memfd)
{
	struct mfd *got = POISON_PTR;
	struct resources before;
	char buf[8];
	int sv[2];

	pair(types[_i], sv);
	ck_assert_int_eq(send_with_fds(sv[0], NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(send_with_fds(sv[0], "next", 4, NULL, 0), 4);
	before = resources_now();
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, sizeof(buf), &got), -EBADMSG);
	ck_assert_ptr_eq(got, POISON_PTR);
	ck_assert_resources_unchanged(before);
	assert_next_message(sv[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* size 0 on a stream cannot tell a read of nothing from the end: -EINVAL
 * before anything is received. */
START_TEST(test_recv_msg_size_zero_on_stream)
{
	struct mfd *got = POISON_PTR;
	char buf[8];
	int sv[2];

	pair(SOCK_STREAM, sv);
	ck_assert_int_eq(send_with_fds(sv[0], "next", 4, NULL, 0), 4);
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, 0, &got), -EINVAL);
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0, NULL, 0, &got), -EINVAL);
	ck_assert_ptr_eq(got, POISON_PTR);
	assert_next_message(sv[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A datagram or packet longer than size: -EMSGSIZE, consumed, its
 * descriptor closed. A stream has no such thing: the rest stays queued. */
START_TEST(test_recv_msg_longer_than_size)
{
	struct mfd *m = sealed_blob("x"), *got = POISON_PTR;
	struct resources before;
	char buf[100] = { 0 };
	int sv[2], fd = mfd_fd(m);

	pair(types[_i], sv);
	ck_assert_int_eq(send_with_fds(sv[0], "0123456789abcdef", 16, &fd, 1), 16);
	if (types[_i] != SOCK_STREAM)
		ck_assert_int_eq(send_with_fds(sv[0], "0123456789", 10, &fd, 1), 10);
	ck_assert_int_eq(send_with_fds(sv[0], "next", 4, NULL, 0), 4);
	before = resources_now();
	if (types[_i] == SOCK_STREAM) {
		ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, 10, &got), 10);
		ck_assert_ptr_nonnull(got);
		ck_assert_ptr_ne(got, POISON_PTR);
		mfd_free(got);
		got = POISON_PTR;
		ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, 6, &got), 6);
		ck_assert_ptr_null(got);
		ck_assert_mem_eq(buf, "abcdef", 6);
	} else {
		ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, 10, &got), -EMSGSIZE);
		ck_assert_ptr_eq(got, POISON_PTR);
		/* Without a buffer at all too. */
		ck_assert_int_eq(mfd_recv_msg(sv[1], 0, NULL, 0, &got), -EMSGSIZE);
		ck_assert_ptr_eq(got, POISON_PTR);
	}
	ck_assert_resources_unchanged(before);
	assert_next_message(sv[1]);
	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

/* A hostile sender: each refusal closes every descriptor that came,
 * consumes the message and no more, and leaves *out alone. */
struct refusal {
	const char *what;
	unsigned int required;
	int want;
	int count; /* descriptors to send: fd (count times) */
	int (*make)(void);
};

static int make_pipe(void)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[1]);
	return p[0];
}

static int make_unsealed_memfd(void)
{
	struct mfd *m = new_sized_mfd("unsealed", 4096);

	return mfd_release_fd(m);
}

static int make_regular_file(void)
{
	char path[] = "/tmp/libmemfd-message-XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	return fd;
}

static const struct refusal refusals[] = {
	{ "a pipe", 0, -EINVAL, 1, make_pipe },
	{ "a tmpfs file", 0, -EINVAL, 1, open_tmpfs_file },
	{ "a regular file", 0, -EINVAL, 1, make_regular_file },
	{ "a memfd missing seals", SEALED, -EPERM, 1, make_unsealed_memfd },
	{ "two memfds", 0, -EBADMSG, 2, make_unsealed_memfd },
	{ "the same memfd twice", 0, -EBADMSG, -2, make_unsealed_memfd },
	{ "253 descriptors", 0, -EBADMSG, MAX_SENT_FDS, make_pipe },
};

START_TEST(test_recv_msg_refuses)
{
	for (size_t r = 0; r < ARRAY_SIZE(refusals); r++) {
		const struct refusal *f = &refusals[r];
		int fds[MAX_SENT_FDS], n = abs(f->count), sv[2];
		struct mfd *got = POISON_PTR;
		struct resources before;
		char buf[16];

		for (int i = 0; i < n; i++)
			fds[i] = f->count < 0 && i > 0 ? fds[0] : f->make();
		pair(types[_i], sv);
		ck_assert_int_eq(send_with_fds(sv[0], "data", 4, fds, (size_t)n), 4);
		ck_assert_int_eq(send_with_fds(sv[0], "next", 4, NULL, 0), 4);
		for (int i = 0; i < n; i++)
			if (f->count > 0 || i == 0)
				close(fds[i]);
		before = resources_now();
		/* A stream: the next message's bytes may join; read only these. */
		ck_assert_msg(mfd_recv_msg(sv[1], f->required, buf, 4, &got) == f->want,
			      "%s on a %s socket", f->what, type_names[_i]);
		ck_assert_ptr_eq(got, POISON_PTR);
		ck_assert_resources_unchanged(before);
		assert_next_message(sv[1]);
		close(sv[0]);
		close(sv[1]);
	}
}
END_TEST

/* At the descriptor limit the kernel drops the descriptor and says so
 * (MSG_CTRUNC): -EBADMSG, never a message taken for one without one. */
static int recv_truncated(void *arg)
{
	int type = *(const int *)arg, sv[2], slot;
	struct mfd *m = new_sized_mfd("truncated", 4096), *got = POISON_PTR;
	int fd = mfd_fd(m);
	char buf[8];

	CHILD_CHECK(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == 0);
	CHILD_CHECK(send_with_fds(sv[0], "data", 4, &fd, 1) == 4);
	mfd_free(m); /* the message holds the file */
	slot = leave_free_slots(0);
	if (slot == -ENOTSUP)
		return 0;
	CHILD_CHECK(slot >= 0);
	CHILD_CHECK(mfd_recv_msg(sv[1], 0, buf, sizeof(buf), &got) == -EBADMSG);
	CHILD_CHECK(got == POISON_PTR);
	return 0;
}

START_TEST(test_recv_msg_truncated_control_data)
{
	ck_assert_child_ok(recv_truncated, (void *)&types[_i]);
}
END_TEST

/* Bad arguments are found before anything is received. */
START_TEST(test_recv_msg_bad_arguments)
{
	struct mfd *got = POISON_PTR;
	char buf[8];
	int sv[2];

	pair(types[_i], sv);
	ck_assert_int_eq(send_with_fds(sv[0], "next", 4, NULL, 0), 4);
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0, buf, sizeof(buf), NULL), -EINVAL);
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0, NULL, 8, &got), -EINVAL);
	ck_assert_int_eq(mfd_recv_msg(sv[1], 0x8000, buf, sizeof(buf), &got), -EINVAL);
	ck_assert_int_eq(mfd_recv_msg(-1, 0, buf, sizeof(buf), &got), -EBADF);
	ck_assert_ptr_eq(got, POISON_PTR);
	assert_next_message(sv[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_recv_msg_not_a_socket)
{
	struct mfd *got = POISON_PTR;
	int p[2];
	char buf[8];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(mfd_recv_msg(p[0], 0, buf, sizeof(buf), &got), -ENOTSOCK);
	ck_assert_int_eq(mfd_recv_msg(p[0], 0, buf, 0, &got), -ENOTSOCK);
	ck_assert_ptr_eq(got, POISON_PTR);
	close(p[0]);
	close(p[1]);
}
END_TEST

/*
 * Control data the receiver's own socket options add (credentials,
 * timestamps, a pidfd) is no truncated control data; a pidfd is closed.
 * Whichever options this kernel lacks are skipped, and said so.
 */
START_TEST(test_recv_msg_with_extra_control_data)
{
	static const struct {
		const char *what;
		int option;
	} options[] = {
		{ "SO_PASSCRED", SO_PASSCRED },
		{ "SO_TIMESTAMP", SO_TIMESTAMP },
		{ "SO_PASSPIDFD", SO_PASSPIDFD },
	};
	struct mfd *m = sealed_blob("x");
	int sv[2], one = 1, fd = mfd_fd(m);

	pair(types[_i], sv);
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		if (setsockopt(sv[1], SOL_SOCKET, options[i].option, &one, sizeof(one)) < 0) {
			ck_assert_int_eq(errno, ENOPROTOOPT);
			note_skipped(options[i].what);
		}
	}
	for (int with_memfd = 0; with_memfd < 2; with_memfd++) {
		struct mfd *got = POISON_PTR;
		struct resources before = resources_now();
		char buf[8];

		ck_assert_int_eq(send_with_fds(sv[0], "data", 4, &fd, (size_t)with_memfd), 4);
		ck_assert_int_eq(mfd_recv_msg(sv[1], SEALED, buf, sizeof(buf), &got), 4);
		if (with_memfd) {
			ck_assert_ptr_nonnull(got);
			ck_assert_ptr_ne(got, POISON_PTR);
			mfd_free(got);
		} else {
			ck_assert_ptr_null(got);
		}
		ck_assert_resources_unchanged(before);
	}
	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

/* A memfd made by the peer with raw system calls, with these seals. */
static int peer_memfd(unsigned int seals)
{
	int fd = (int)syscall(SYS_memfd_create, "peer", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, 4096) < 0 || (seals && fcntl(fd, F_ADD_SEALS, seals) < 0))
		_exit(1);
	return fd;
}

/* What arrives besides the memfd, read raw: which kinds of control data
 * (bits 1 << SCM_*), every descriptor in them closed. */
static unsigned int raw_control_kinds(int sock)
{
	union {
		struct cmsghdr align;
		char buf[8192];
	} control;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	unsigned int kinds = 0;

	ck_assert_int_eq(recvmsg(sock, &msg, MSG_CMSG_CLOEXEC), 1);
	ck_assert(!(msg.msg_flags & MSG_CTRUNC));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		ck_assert_int_eq(c->cmsg_level, SOL_SOCKET);
		ck_assert_int_lt(c->cmsg_type, 32);
		kinds |= 1u << c->cmsg_type;
		if (c->cmsg_type == SCM_RIGHTS || c->cmsg_type == SCM_PIDFD) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < n; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
	return kinds;
}

/*
 * The receiver's socket asks for credentials, the peer's pidfd, its
 * security label and a timestamp, all at once: all arrive besides the
 * memfd from a peer in another process (which waits until they are
 * read, so that its pidfd can be made), and none may leak, whether the
 * memfd is accepted, refused, or absent. Options or labels this kernel
 * does not give are skipped, and said so.
 */
START_TEST(test_recv_with_receiver_options)
{
	static const struct {
		const char *what;
		int option, kind;
	} options[] = {
		{ "SO_PASSCRED", SO_PASSCRED, SCM_CREDENTIALS },
		{ "SO_PASSPIDFD", SO_PASSPIDFD, SCM_PIDFD },
		{ "SO_PASSSEC", SO_PASSSEC, SCM_SECURITY },
		{ "SO_TIMESTAMP", SO_TIMESTAMP, SCM_TIMESTAMP },
	};
	unsigned int asked = 1u << SCM_RIGHTS, kinds;
	int sv[2], go[2], one = 1;
	struct resources before;
	struct mfd *got;
	char buf[4], byte = 0;
	pid_t peer;

	pair(types[_i], sv);
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		if (setsockopt(sv[1], SOL_SOCKET, options[i].option, &one, sizeof(one)) == 0) {
			asked |= 1u << options[i].kind;
		} else {
			ck_assert_int_eq(errno, ENOPROTOOPT);
			note_skipped(options[i].what);
		}
	}
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	peer = fork();
	ck_assert_int_ge(peer, 0);
	if (peer == 0) {
		int sealed = peer_memfd(SEALED), plain = peer_memfd(0);

		close(sv[1]);
		/* To read raw, to mfd_recv, to mfd_recv_msg; a memfd without
		 * the seals; no memfd at all. */
		for (int i = 0; i < 3; i++) {
			if (send_with_fds(sv[0], "M", 1, &sealed, 1) != 1)
				_exit(2);
		}
		if (send_with_fds(sv[0], "M", 1, &plain, 1) != 1 ||
		    send_with_fds(sv[0], "M", 1, NULL, 0) != 1)
			_exit(3);
		_exit(read(go[0], &byte, 1) == 1 ? 0 : 4);
	}
	close(sv[0]);
	close(go[0]);

	kinds = raw_control_kinds(sv[1]);
	if ((asked & (1u << SCM_SECURITY)) && !(kinds & (1u << SCM_SECURITY))) {
		note_skipped("SO_PASSSEC: no security module labels the peer here");
		asked &= ~(1u << SCM_SECURITY);
	}
	/* A stream socket of the Unix domain gives no timestamps. */
	if (types[_i] == SOCK_STREAM)
		asked &= ~(1u << SCM_TIMESTAMP);
	ck_assert_uint_eq(kinds, asked);

	before = resources_now();
	got = POISON_PTR;
	ck_assert_int_eq(mfd_recv(sv[1], SEALED, &got), 0);
	ck_assert_ptr_ne(got, POISON_PTR);
	ck_assert_int_eq(mfd_get_seals(got), SEALED);
	mfd_free(got);
	ck_assert_resources_unchanged(before);

	got = POISON_PTR;
	ck_assert_int_eq(mfd_recv_msg(sv[1], SEALED, buf, sizeof(buf), &got), 1);
	ck_assert_ptr_ne(got, POISON_PTR);
	ck_assert_ptr_nonnull(got);
	mfd_free(got);
	ck_assert_resources_unchanged(before);

	got = POISON_PTR;
	ck_assert_int_eq(mfd_recv(sv[1], SEALED, &got), -EPERM);
	ck_assert_ptr_eq(got, POISON_PTR);
	ck_assert_resources_unchanged(before);
	ck_assert_int_eq(mfd_recv(sv[1], SEALED, &got), -EBADMSG);
	ck_assert_ptr_eq(got, POISON_PTR);
	ck_assert_resources_unchanged(before);

	ck_assert_int_eq(write(go[1], &byte, 1), 1);
	ck_assert_peer_ok(peer);
	close(go[1]);
	close(sv[1]);
}
END_TEST

/* mfd_recv_msg and mfd_recv take any socket: control data of another
 * level (IP_PKTINFO, IP_TTL on a UDP socket) is neither a descriptor nor
 * truncated control data, and no memfd. */
START_TEST(test_recv_msg_other_level_control_data)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;
	struct resources before;
	struct mfd *got = POISON_PTR;
	char buf[8];

	ck_assert_int_ge(rx, 0);
	ck_assert_int_ge(tx, 0);
	ck_assert_int_eq(bind(rx, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(getsockname(rx, (struct sockaddr *)&addr, &len), 0);
	ck_assert_int_eq(setsockopt(rx, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)), 0);
	ck_assert_int_eq(setsockopt(rx, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)), 0);
	before = resources_now();
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(sendto(tx, "data", 4, 0, (struct sockaddr *)&addr, sizeof(addr)), 4);
	ck_assert_int_eq(mfd_recv_msg(rx, 0, buf, sizeof(buf), &got), 4);
	ck_assert_ptr_null(got);
	got = POISON_PTR;
	ck_assert_int_eq(mfd_recv(rx, 0, &got), -EBADMSG);
	ck_assert_ptr_eq(got, POISON_PTR);
	ck_assert_resources_unchanged(before);
	close(tx);
	close(rx);
}
END_TEST

static volatile sig_atomic_t interruptions;

static void count_interruption(int sig)
{
	(void)sig;
	interruptions++;
}

/* SIGALRM every 2 ms, caught without SA_RESTART: a blocking call in this
 * process fails with EINTR whenever one comes. */
static void start_interrupting(void)
{
	struct sigaction sa = { .sa_handler = count_interruption };
	struct itimerval every = { { 0, 2000 }, { 0, 2000 } };

	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	interruptions = 0;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
}

static void stop_interrupting(void)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
	signal(SIGALRM, SIG_DFL);
}

/* The peer, in a process of its own: after a pause, reads total bytes in
 * small pieces with pauses between (so that the sender blocks, and is
 * interrupted, again and again); exactly one descriptor must come. It
 * frees the sender's handle m, its copy of which it has no use for. */
static pid_t drain_slowly(int sock, size_t total, struct mfd *m)
{
	pid_t child = fork_flushed();

	ck_assert_int_ge(child, 0);
	if (child == 0) {
		static char buf[16384];
		size_t got = 0, nfds = 0;

		mfd_free(m);
		usleep(50000);
		while (got < total) {
			int fds[16];
			size_t n;
			ssize_t r = raw_recv(sock, buf, sizeof(buf), fds, &n, 0);

			if (r <= 0)
				exit_child(2);
			for (size_t i = 0; i < n; i++)
				close(fds[i]);
			got += (size_t)r;
			nfds += n;
			usleep(5000);
		}
		exit_child(got != total ? 3 : nfds != 1 ? 4 : 0);
	}
	return child;
}

/*
 * Signals caught without SA_RESTART interrupt the library's blocking
 * calls (recvmsg, sendmsg, the send of the rest of a message, the poll
 * for room): each is made again, and the call succeeds as if no signal
 * had come. Against a peer in another process that is slow on purpose.
 */
START_TEST(test_interrupted_by_signals)
{
	static char data[512 * 1024], filler[4096];
	struct timeval far = { .tv_sec = 3000000, .tv_usec = 0 }; /* above INT_MAX ms */
	struct mfd *m, *got = POISON_PTR;
	size_t queued = 0;
	int sv[2];
	pid_t peer;
	ssize_t n;

	/* mfd_recv waits in recvmsg for a peer that sends late. */
	pair(SOCK_STREAM, sv);
	peer = fork_flushed();
	ck_assert_int_ge(peer, 0);
	if (peer == 0) {
		int fd = peer_memfd(SEALED);

		usleep(50000);
		exit_child(send_with_fds(sv[0], "M", 1, &fd, 1) == 1 ? 0 : 5);
	}
	start_interrupting();
	ck_assert_int_eq(mfd_recv(sv[1], SEALED, &got), 0);
	stop_interrupting();
	ck_assert_int_gt(interruptions, 0);
	ck_assert_peer_ok(peer);
	mfd_free(got);
	m = sealed_blob("x");

	/* mfd_send_msg waits in sendmsg on a full stream, then in send for
	 * the rest of a message longer than the socket's buffer. */
	while ((n = send(sv[0], filler, sizeof(filler), MSG_DONTWAIT)) > 0)
		queued += (size_t)n;
	ck_assert_int_eq(errno, EAGAIN);
	peer = drain_slowly(sv[1], queued + sizeof(data), m);
	start_interrupting();
	ck_assert_int_eq(mfd_send_msg(sv[0], m, data, sizeof(data)), 0);
	stop_interrupting();
	ck_assert_int_gt(interruptions, 0);
	ck_assert_peer_ok(peer);

	/* Non-blocking, it waits in poll for room, for as long as a send
	 * timeout beyond what poll can take allows. */
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &far, sizeof(far)), 0);
	peer = drain_slowly(sv[1], sizeof(data), m);
	start_interrupting();
	ck_assert_int_eq(mfd_send_msg(sv[0], m, data, sizeof(data)), 0);
	stop_interrupting();
	ck_assert_int_gt(interruptions, 0);
	ck_assert_peer_ok(peer);

	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

/* The send timeout cannot be read (getsockopt fails): the rest of a
 * message waits for room without limit, as a blocking send would. */
static int send_rest_without_a_readable_timeout(void *unused)
{
	static const struct denial no_timeout = {
		.call = CALL_GETSOCKOPT, .err = ENOPROTOOPT,
		.when = { { 2, ARG_EQUALS, SO_SNDTIMEO } },
	};
	static char data[512 * 1024];
	struct mfd *m = NULL;
	int sv[2], status;
	pid_t peer;

	CHILD_CHECK(mfd_new_sealed(&m, "message", "x", 1) == 0);
	CHILD_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHILD_CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	peer = fork_flushed();
	CHILD_CHECK(peer >= 0);
	if (peer == 0) {
		static char buf[16384];
		size_t got = 0;
		ssize_t n;

		usleep(20000);
		while (got < sizeof(data) && (n = recv(sv[1], buf, sizeof(buf), 0)) > 0)
			got += (size_t)n;
		exit_child(got == sizeof(data) ? 0 : 1);
	}
	CHILD_CHECK(deny_syscalls(&no_timeout, 1) == 0);
	CHILD_CHECK(mfd_send_msg(sv[0], m, data, sizeof(data)) == 0);
	CHILD_CHECK(waitpid(peer, &status, 0) == peer && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0);
	mfd_free(m);
	return 0;
}

START_TEST(test_send_msg_rest_without_a_readable_timeout)
{
	ck_assert_child_ok(send_rest_without_a_readable_timeout, NULL);
}
END_TEST

static void add_loop(TCase *tc, const TTest *test)
{
	tcase_add_loop_test(tc, test, 0, (int)ARRAY_SIZE(types));
}

Suite *message_suite(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_with_leak_check("message");

	add_loop(tc, test_send_msg_to_a_raw_receiver);
	add_loop(tc, test_recv_msg_from_a_raw_sender);
	add_loop(tc, test_send_recv_msg_between_processes);
	add_loop(tc, test_send_msg_empty);
	add_loop(tc, test_send_msg_bad_arguments);
	add_loop(tc, test_send_msg_to_closed_peer);
	tcase_add_loop_test(tc, test_send_msg_datagram_too_large, 1, 3);
	tcase_add_test(tc, test_send_msg_short_send_completed);
	tcase_add_test(tc, test_send_msg_short_send_completed_non_blocking);
	tcase_add_test(tc, test_send_msg_non_blocking_full);
	tcase_add_test(tc, test_send_msg_send_timeout);
	/* Streams and sequenced-packet sockets have an end; datagrams not. */
	tcase_add_test(tc, test_recv_msg_end_of_connection);
	tcase_add_loop_test(tc, test_recv_msg_end_of_connection, 2, 3);
	tcase_add_loop_test(tc, test_recv_msg_empty_without_memfd, 1, 3);
	tcase_add_test(tc, test_recv_msg_empty_packet_before_the_end);
	tcase_add_test(tc, test_recv_msg_size_zero_on_stream);
	add_loop(tc, test_recv_msg_longer_than_size);
	add_loop(tc, test_recv_msg_refuses);
	add_loop(tc, test_recv_msg_truncated_control_data);
	add_loop(tc, test_recv_msg_bad_arguments);
	tcase_add_test(tc, test_recv_msg_not_a_socket);
	add_loop(tc, test_recv_msg_with_extra_control_data);
	add_loop(tc, test_recv_with_receiver_options);
	tcase_add_test(tc, test_recv_msg_other_level_control_data);
	tcase_add_test(tc, test_interrupted_by_signals);
	tcase_add_test(tc, test_send_msg_rest_without_a_readable_timeout);
	suite_add_tcase(s, tc);
	return s;
}
