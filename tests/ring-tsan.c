/* SPDX-License-Identifier: MIT */
/*
 * Both ends of rings in one process, in two threads, for ThreadSanitizer
 * (tests/check-ring-tsan.sh builds lib/ into this program with
 * -fsanitize=thread). TSan tracks addresses, not memory: two mappings of
 * the same memfd would look like two unrelated objects to it, so the
 * second end shares the first end's mapping (mfd_ring_attach_same_mapping,
 * a private hook of the library). Any data race in the ring's handling of
 * its shared memory (a payload read before its publication is ordered, a
 * freed record overwritten before the consumer is done with it) is a TSan
 * report, and fails the test. Exits 0, or 1 with what went wrong.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libmemfd-private.h"
#include "ring-pattern.h"

#define PATIENCE_MS 20000

#define check(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "ring-tsan: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                      \
			exit(1);                                             \
		}                                                            \
	} while (0)

static void pause_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

struct stream {
	struct mfd_ring *r;
	long count;
	uint64_t seed;
	size_t capacity;
};

/* Mostly short, one in 16 up to half the ring: the same in both threads. */
static size_t length_of(uint64_t dice, size_t capacity)
{
	return (size_t)(dice >> 20) % (dice % 16 == 0 ? capacity / 2 : 200);
}

/* Random lengths, in place or copied, sometimes pausing so that the other
 * thread's waits sleep on the futex instead of spinning. */
static void *produce(void *arg)
{
	struct stream *s = arg;
	uint64_t rng = s->seed;
	unsigned char *buf = malloc(s->capacity);

	check(buf != NULL);
	for (long seq = 0; seq < s->count; seq++) {
		uint64_t dice = next_random(&rng);
		size_t len = length_of(dice, s->capacity);
		void *w;
		int err;

		if (dice % 1024 == 1)
			pause_us(100);
		for (;;) {
			if (dice & 0x100) {
				err = mfd_ring_reserve(s->r, len, &w);
				if (err == 0) {
					fill(w, len, (uint64_t)seq);
					err = mfd_ring_commit(s->r);
				}
			} else {
				fill(buf, len, (uint64_t)seq);
				err = mfd_ring_send(s->r, buf, len);
			}
			if (err != -EAGAIN)
				break;
			check(mfd_ring_wait(s->r, len, PATIENCE_MS) == 0);
		}
		check(err == 0);
	}
	free(buf);
	return NULL;
}

static void consume(struct stream *s)
{
	uint64_t rng = s->seed;
	unsigned char *buf = malloc(s->capacity);

	check(buf != NULL);
	for (long seq = 0; seq < s->count; seq++) {
		uint64_t dice = next_random(&rng);
		size_t len = length_of(dice, s->capacity);
		const void *m;
		ssize_t n;

		if (dice % 1024 == 2)
			pause_us(100);
		while ((n = (dice & 0x200) ? mfd_ring_peek(s->r, &m)
					   : mfd_ring_recv(s->r, buf, s->capacity)) == -EAGAIN)
			check(mfd_ring_wait(s->r, 0, PATIENCE_MS) == 0);
		check(n == (ssize_t)len);
		check(filled((dice & 0x200) ? m : buf, len, (uint64_t)seq));
		if (dice & 0x200)
			check(mfd_ring_release(s->r) == 0);
	}
	free(buf);
}

/* A stream from one thread to the other, the producer's end the creator. */
static void stream(size_t capacity, long count, unsigned int creator)
{
	struct mfd_ring *first, *second;
	struct stream p, c;
	pthread_t thread;

	check(mfd_ring_new(&first, "tsan", capacity, creator) == 0);
	check(mfd_ring_attach_same_mapping(&second, first) == 0);
	p = (struct stream){ creator == LIBMEMFD_RING_PRODUCER ? first : second, count, 42,
			     capacity };
	c = p;
	c.r = creator == LIBMEMFD_RING_PRODUCER ? second : first;
	check(pthread_create(&thread, NULL, produce, &p) == 0);
	consume(&c);
	check(pthread_join(thread, NULL) == 0);
	check(mfd_ring_wait(c.r, 0, 0) == -ETIMEDOUT);
	mfd_ring_free(second);
	mfd_ring_free(first);
}

struct echo {
	struct mfd_ring *in, *out;
	long rounds;
};

static void *echo(void *arg)
{
	struct echo *e = arg;
	unsigned char buf[64];

	for (long i = 0; i < e->rounds; i++) {
		ssize_t n;

		while ((n = mfd_ring_recv(e->in, buf, sizeof(buf))) == -EAGAIN)
			check(mfd_ring_wait(e->in, 0, PATIENCE_MS) == 0);
		check(n == 64 && filled(buf, 64, (uint64_t)i));
		if (i % 64 == 0)
			pause_us(50);
		check(mfd_ring_send(e->out, buf, 64) == 0);
	}
	return NULL;
}

/* Round trips over two rings: every wait sleeps or spins, and is woken. */
static void ping_pong(long rounds)
{
	struct mfd_ring *ping, *ping_in, *pong, *pong_in;
	struct echo e;
	pthread_t thread;
	unsigned char buf[64];

	check(mfd_ring_new(&ping, "ping", 4096, LIBMEMFD_RING_PRODUCER) == 0);
	check(mfd_ring_attach_same_mapping(&ping_in, ping) == 0);
	check(mfd_ring_new(&pong_in, "pong", 4096, LIBMEMFD_RING_CONSUMER) == 0);
	check(mfd_ring_attach_same_mapping(&pong, pong_in) == 0);
	e = (struct echo){ ping_in, pong, rounds };
	check(pthread_create(&thread, NULL, echo, &e) == 0);
	for (long i = 0; i < rounds; i++) {
		ssize_t n;

		fill(buf, 64, (uint64_t)i);
		check(mfd_ring_send(ping, buf, 64) == 0);
		while ((n = mfd_ring_recv(pong_in, buf, sizeof(buf))) == -EAGAIN)
			check(mfd_ring_wait(pong_in, 0, PATIENCE_MS) == 0);
		check(n == 64 && filled(buf, 64, (uint64_t)i));
	}
	check(pthread_join(thread, NULL) == 0);
	mfd_ring_free(ping_in);
	mfd_ring_free(ping);
	mfd_ring_free(pong);
	mfd_ring_free(pong_in);
}

static void *wait_for_the_end(void *arg)
{
	check(mfd_ring_wait(arg, 1, PATIENCE_MS) == -EPIPE);
	return NULL;
}

/* An end that sleeps (the consumer of an empty ring, the producer of a
 * full one) is woken by the other end's mfd_ring_free. The waiter is the
 * creator: the hook's end, which shares its mapping, goes first. */
static void freed_while_waiting(unsigned int waiter)
{
	struct mfd_ring *waits, *goes;
	pthread_t thread;

	check(mfd_ring_new(&waits, "gone", 4096, waiter) == 0);
	check(mfd_ring_attach_same_mapping(&goes, waits) == 0);
	if (waiter == LIBMEMFD_RING_PRODUCER)
		while (mfd_ring_send(waits, "x", 1) == 0)
			;
	check(pthread_create(&thread, NULL, wait_for_the_end, waits) == 0);
	pause_us(2000);
	mfd_ring_free(goes);
	check(pthread_join(thread, NULL) == 0);
	mfd_ring_free(waits);
}

int main(void)
{
	stream(4096, 50000, LIBMEMFD_RING_PRODUCER);
	stream(65536, 20000, LIBMEMFD_RING_CONSUMER);
	ping_pong(5000);
	freed_while_waiting(LIBMEMFD_RING_PRODUCER);
	freed_while_waiting(LIBMEMFD_RING_CONSUMER);
	printf("ok: streams, ping-pong and an end going away, both ends sharing one mapping\n");
	return 0;
}
