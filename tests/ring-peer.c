/* SPDX-License-Identifier: MIT */
/*
 * One process of a pair that share two rings, for tests/check-ring-peer.sh:
 * one end in this build, the other in a build for the other ABI (a 32-bit
 * process against a 64-bit one), to show that the shared layout is the
 * same for both. Needs no Check, so that a 32-bit build without it has
 * one.
 *
 *   ring-peer serve PATH     create the rings, listen on PATH, hand them over
 *   ring-peer connect PATH   connect to PATH, take the other ends
 *
 * The server creates ring A as its producer and ring B as its consumer.
 * Then: a stream of random messages on A (server to client), one on B
 * (client to server), every byte checked; ping-pong, a ping on A answered
 * on B, each wait sleeping or spinning and woken from the other process;
 * the server frees A, and the client reads -EPIPE on it; the client frees
 * B, and the server reads -EPIPE. Exits 0, or 1 saying what went wrong.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libmemfd.h"
#include "ring-pattern.h"

#define MESSAGES 300000
#define ROUNDS 20000
#define CAPACITY 65536
#define PATIENCE_MS 20000
#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static const char *role = "ring-peer";

#define check(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s (%zu-bit): %s:%d: %s\n", role, 8 * sizeof(void *), \
				__FILE__, __LINE__, #cond);                             \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

/* The same sequence of lengths in both processes, whatever their ABI. */
static size_t length_of(uint64_t *rng)
{
	uint64_t dice = next_random(rng);

	if (dice % 256 == 0)
		return (size_t)((dice >> 20) % (CAPACITY / 2 + 1));
	return (size_t)((dice >> 20) % 300);
}

static void produce(struct mfd_ring *r, uint64_t seed)
{
	static unsigned char buf[CAPACITY];
	uint64_t rng = seed;

	for (uint64_t seq = 0; seq < MESSAGES; seq++) {
		size_t len = length_of(&rng);
		void *w;
		int err;

		while ((err = mfd_ring_reserve(r, len, &w)) == -EAGAIN)
			check(mfd_ring_wait(r, len, PATIENCE_MS) == 0);
		check(err == 0);
		if (seq % 2) {
			fill(w, len, seq);
			check(mfd_ring_commit(r) == 0);
		} else {
			fill(buf, len, seq);
			check(mfd_ring_send(r, buf, len) == 0);
		}
	}
}

static void consume(struct mfd_ring *r, uint64_t seed)
{
	static unsigned char buf[CAPACITY];
	uint64_t rng = seed;

	for (uint64_t seq = 0; seq < MESSAGES; seq++) {
		size_t len = length_of(&rng);
		const void *m;
		ssize_t n;

		while ((n = seq % 3 ? mfd_ring_peek(r, &m) : mfd_ring_recv(r, buf, sizeof(buf))) ==
		       -EAGAIN)
			check(mfd_ring_wait(r, 0, PATIENCE_MS) == 0);
		check(n == (ssize_t)len);
		check(filled(seq % 3 ? m : buf, len, seq));
		if (seq % 3)
			check(mfd_ring_release(r) == 0);
	}
}

static void await(struct mfd_ring *r)
{
	int err;

	while ((err = mfd_ring_wait(r, 0, PATIENCE_MS)) == 0)
		;
	check(err == -EPIPE);
}

static void ping(struct mfd_ring *out, struct mfd_ring *in)
{
	unsigned char buf[64];

	for (uint64_t i = 0; i < ROUNDS; i++) {
		ssize_t n;

		fill(buf, sizeof(buf), i);
		check(mfd_ring_send(out, buf, sizeof(buf)) == 0);
		while ((n = mfd_ring_recv(in, buf, sizeof(buf))) == -EAGAIN)
			check(mfd_ring_wait(in, 0, PATIENCE_MS) == 0);
		check(n == 64 && filled(buf, 64, i + 1));
	}
}

static void pong(struct mfd_ring *in, struct mfd_ring *out)
{
	unsigned char buf[64];

	for (uint64_t i = 0; i < ROUNDS; i++) {
		ssize_t n;

		while ((n = mfd_ring_recv(in, buf, sizeof(buf))) == -EAGAIN)
			check(mfd_ring_wait(in, 0, PATIENCE_MS) == 0);
		check(n == 64 && filled(buf, 64, i));
		fill(buf, sizeof(buf), i + 1);
		check(mfd_ring_send(out, buf, sizeof(buf)) == 0);
	}
}

static struct sockaddr_un address(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	check(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	return sa;
}

static int serve(const char *path)
{
	struct sockaddr_un sa = address(path);
	struct mfd_ring *a, *b;
	struct pollfd pfd;
	int listener, sock;

	role = "ring-peer serve";
	check(mfd_ring_new(&a, "peer-a", CAPACITY, LIBMEMFD_RING_PRODUCER) == 0);
	check(mfd_ring_new(&b, "peer-b", CAPACITY, LIBMEMFD_RING_CONSUMER) == 0);
	listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	check(listener >= 0);
	check(bind(listener, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	check(listen(listener, 1) == 0);
	pfd = (struct pollfd){ .fd = listener, .events = POLLIN };
	check(poll(&pfd, 1, PATIENCE_MS) == 1);
	sock = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	check(sock >= 0);
	close(listener);
	unlink(path);
	check(mfd_send(sock, mfd_ring_mfd(a)) == 0);
	check(mfd_send(sock, mfd_ring_mfd(b)) == 0);

	produce(a, 1);
	consume(b, 2);
	ping(a, b);
	mfd_ring_free(a);
	await(b);
	mfd_ring_free(b);
	close(sock);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = address(path);
	struct mfd_ring *a, *b;
	struct mfd *m;
	int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	role = "ring-peer connect";
	check(sock >= 0);
	/* The server may not be listening yet. */
	for (int tries = 0; connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0; tries++) {
		struct timespec ts = { 0, 10000000 };

		check(tries < PATIENCE_MS / 10 && (errno == ENOENT || errno == ECONNREFUSED));
		nanosleep(&ts, NULL);
	}
	check(mfd_recv(sock, RING_SEALS, &m) == 0);
	check(mfd_ring_attach(&a, m) == 0);
	check(mfd_recv(sock, RING_SEALS, &m) == 0);
	check(mfd_ring_attach(&b, m) == 0);
	check(mfd_ring_capacity(a) == CAPACITY && mfd_ring_capacity(b) == CAPACITY);

	consume(a, 1);
	produce(b, 2);
	pong(a, b);
	await(a);
	mfd_ring_free(a);
	mfd_ring_free(b);
	close(sock);
	return 0;
}

int main(int argc, char **argv)
{
	int r;

	if (argc != 3 || (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "connect") != 0)) {
		fprintf(stderr, "usage: ring-peer serve|connect PATH\n");
		return 2;
	}
	r = strcmp(argv[1], "serve") == 0 ? serve(argv[2]) : connect_to(argv[2]);
	printf("%s (%zu-bit): %d messages each way, %d round trips, ok\n", role,
	       8 * sizeof(void *), MESSAGES, ROUNDS);
	return r;
}
