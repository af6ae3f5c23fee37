/* SPDX-License-Identifier: MIT */
/*
 * memfd-ring: a producer and a consumer in two processes, passing a
 * stream of messages through a ring in a memfd they share.
 *
 *   cc memfd-ring.c $(pkg-config --cflags --libs libmemfd)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libmemfd.h>

#define MESSAGES 100000
#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
/* A peer that dies without mfd_ring_free is not noticed: wait no longer. */
#define PATIENCE_MS 5000

/* Each message is written in place, then published. */
static int producer(int sock)
{
	struct mfd_ring *r;
	char *p;
	int i, len, err;

	err = mfd_ring_new(&r, "messages", 65536, LIBMEMFD_RING_PRODUCER);
	if (err < 0)
		return err;
	/* The consumer takes the other end of it. */
	err = mfd_send(sock, mfd_ring_mfd(r));
	for (i = 0; err == 0 && i < MESSAGES; i++) {
		len = snprintf(NULL, 0, "message %d", i) + 1;
		/* Full: sleep until the consumer has freed room. */
		while ((err = mfd_ring_reserve(r, len, (void **)&p)) == -EAGAIN)
			if ((err = mfd_ring_wait(r, len, PATIENCE_MS)) < 0)
				break;
		if (err == 0) {
			snprintf(p, len, "message %d", i);
			err = mfd_ring_commit(r);
		}
	}
	/* The consumer reads what is still in the ring, then gets -EPIPE. */
	mfd_ring_free(r);
	return err;
}

/* Each message is read in place, checked, then released. */
static int consumer(int sock)
{
	struct mfd_ring *r;
	struct mfd *m;
	char want[32];
	const char *msg;
	ssize_t n;
	int count = 0, err;

	/* Only a memfd that no one can resize is taken. */
	err = mfd_recv(sock, RING_SEALS, &m);
	if (err < 0)
		return err;
	err = mfd_ring_attach(&r, m);
	if (err < 0) {
		mfd_free(m);
		return err;
	}
	for (;;) {
		n = mfd_ring_peek(r, (const void **)&msg);
		if (n == -EAGAIN) {
			/* Nothing yet: sleep until the producer publishes. */
			err = mfd_ring_wait(r, 0, PATIENCE_MS);
			if (err < 0 && err != -EPIPE)
				break;
			continue;
		}
		if (n < 0) {
			/* -EPIPE: the producer is gone, and all it sent is read. */
			err = n == -EPIPE ? 0 : (int)n;
			break;
		}
		/* The ring's framing is checked by the library, the contents
		 * are the producer's: check what you use. */
		snprintf(want, sizeof(want), "message %d", count);
		if ((size_t)n != strlen(want) + 1 || memcmp(msg, want, (size_t)n) != 0) {
			err = -EBADMSG;
			break;
		}
		count++;
		mfd_ring_release(r);
	}
	if (err == 0)
		printf("received %d messages in order\n", count);
	mfd_ring_free(r);
	return err == 0 && count != MESSAGES ? -EPIPE : err;
}

int main(void)
{
	int sv[2], status, r;
	pid_t child;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		close(sv[1]);
		_exit(producer(sv[0]) == 0 ? 0 : 1);
	}
	close(sv[0]);
	r = consumer(sv[1]);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		r = r < 0 ? r : -1;
	if (r < 0) {
		fprintf(stderr, "memfd-ring: %s\n", r == -1 ? "the producer failed" : strerror(-r));
		return 1;
	}
	printf("ok\n");
	return 0;
}
