/* SPDX-License-Identifier: MIT */
/* What the ring suites share: pairs of ends, peers' own mappings, child
 * processes that take the other end, and messages that can be checked. */
#ifndef LIBMEMFD_RING_HELPERS_H
#define LIBMEMFD_RING_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libmemfd.h"
#include "ring-pattern.h"

#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#define P LIBMEMFD_RING_PRODUCER
#define C LIBMEMFD_RING_CONSUMER
/* Long enough for any wait that must end, on a loaded machine. */
#define PATIENCE_MS 20000

#define assert_nothing_left(before, reservations)                    \
	do {                                                         \
		ck_assert_resources_unchanged(before);               \
		ck_assert_int_eq(reservations_now(), (reservations)); \
	} while (0)

int64_t now_ms(void);

/* How many of n messages a long test sends here: all of them, a tenth on
 * a kernel made to look older (the suites' second and third runs, where
 * rings take the same paths), a hundredth under valgrind. The log says
 * so when it is fewer. */
long scaled(long n);

int under_valgrind(void);


/* A second handle on the ring's memfd, as the other process receives it. */
struct mfd *received(const struct mfd_ring *r);

struct pair {
	struct mfd_ring *producer, *consumer;
};

/* Both ends in this process, each with its own mapping; creator is the
 * end mfd_ring_new takes. */
struct pair new_pair(size_t capacity, unsigned int creator);
void free_pair(struct pair *p);

/* A peer's own mapping of the whole memfd, to write garbage through. */
struct raw {
	struct mfd *m;
	uint8_t *ctl, *data;
	size_t size;
};

struct raw raw_map(const struct mfd_ring *r);
void raw_unmap(struct raw *w);

struct child {
	pid_t pid;
	int sock;
};

/* A child that runs fn(sock, arg) with its end of a socket pair; fn
 * returns 0, or the line of the CHILD_CHECK that failed, which the child
 * prints. join() fails the test unless it returned 0. */
struct child spawn(int (*fn)(int sock, void *arg), void *arg);
void join(struct child c);

/* Send the ring's memfd; take the other end of one as a child does. */
void give_ring(int sock, const struct mfd_ring *r);
struct mfd_ring *take_ring(int sock);

/* For spawn(): the other end of two rings (taken in order: in, out) that
 * sends every message back, after *delay_us (a const int *; NULL: none),
 * until the producer of the first is gone. */
int echo_child(int sock, void *delay_us);

/* Wait on the socket for the other process's one byte. */
void expect_byte(int sock);

/*
 * This test binary defines syscall(2) (ring-helpers.c): the library makes
 * its futex and membarrier calls through it, and an executable's
 * definition is what they bind to (as in interpose.c). While a hook is
 * set, each call from this process first runs hook(number, args, arg) in
 * the calling thread (not again for the calls the hook makes itself),
 * then passes on, six longs, to the C library's. NULL: none.
 */
typedef void syscall_hook(long number, const long args[6], void *arg);
void set_syscall_hook(syscall_hook *hook, void *arg);

#endif
