/* SPDX-License-Identifier: MIT */
/*
 * How an end of a ring goes to sleep where membarrier(2) is there and
 * where it is not (lib/ring.c, the top comment): each end says in the
 * control page whether it calls membarrier before it sleeps; a waker
 * publishes without a full barrier only when its process is registered
 * and the sleeper says so. Wake-ups must never be lost: with membarrier
 * refused from the start, refused after an end has said it would call
 * it, and with a third party scribbling over both ends' words.
 */
#include "config.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring-helpers.h"
#include "ring-layout.h"
#include "syscall-filter.h"
#include "test-common.h"

/* What the library needs of membarrier, asked of the kernel directly
 * (valgrind, for one, does not know the call). */
static int kernel_has_global_membarrier(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	long need = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;

	return cmds >= 0 && (cmds & need) == need;
}

static const struct denial no_membarrier[] = {
	{ .call = CALL_MEMBARRIER, .err = ENOSYS },
};

struct echo {
	struct mfd_ring *out, *in;
	struct child child;
};

static struct echo start_echo(const int *delay_us)
{
	struct echo e;

	ck_assert_int_eq(mfd_ring_new(&e.out, "ping", page_size(), P), 0);
	ck_assert_int_eq(mfd_ring_new(&e.in, "pong", page_size(), C), 0);
	e.child = spawn(echo_child, (void *)delay_us);
	give_ring(e.child.sock, e.out);
	give_ring(e.child.sock, e.in);
	return e;
}

/* rounds round trips, each answer waited for (so the waits here sleep
 * whenever the child takes longer than their spin); 0 if all came back. */
static int ping_pong(struct echo *e, long rounds)
{
	char buf[64];

	for (long i = 0; i < rounds; i++) {
		ssize_t n;

		fill(buf, 64, (uint64_t)i);
		CHILD_CHECK(mfd_ring_send(e->out, buf, 64) == 0);
		memset(buf, 0, sizeof(buf));
		while ((n = mfd_ring_recv(e->in, buf, sizeof(buf))) == -EAGAIN)
			CHILD_CHECK(mfd_ring_wait(e->in, 0, PATIENCE_MS) == 0);
		CHILD_CHECK(n == 64 && filled(buf, 64, (uint64_t)i));
	}
	return 0;
}

static void stop_echo(struct echo *e)
{
	mfd_ring_free(e->out);
	ck_assert_int_eq(mfd_ring_wait(e->in, 0, PATIENCE_MS), -EPIPE);
	mfd_ring_free(e->in);
	join(e->child);
}

/* Both ends say what the kernel lets them do, from the start. */
START_TEST(test_ring_fence_words_say_what_the_kernel_has)
{
	uint32_t want = kernel_has_global_membarrier() ? 1 : 0;

	for (unsigned int creator = P; creator <= C; creator++) {
		struct pair p = new_pair(page_size(), creator);
		struct raw w = raw_map(p.producer);

		ck_assert_uint_eq(peek32(w.ctl, CTL_PRODUCER_FENCES), want);
		ck_assert_uint_eq(peek32(w.ctl, CTL_CONSUMER_FENCES), want);
		raw_unmap(&w);
		free_pair(&p);
	}
	if (!want)
		note_skipped("no MEMBARRIER_CMD_GLOBAL_EXPEDITED here: both words say 0");
}
END_TEST

/* Without membarrier, in both processes, the ends say so and every
 * wake-up still comes: the wakers exchange. */
static int ring_without_membarrier(void *unused)
{
	static const int delay_us = 50;
	struct echo e;
	struct raw w;
	int line;

	(void)unused;
	CHILD_CHECK(deny_syscalls(no_membarrier, ARRAY_SIZE(no_membarrier)) == 0);
	e = start_echo(&delay_us); /* the child inherits the filter */
	line = ping_pong(&e, scaled(3000));
	if (line)
		return line;
	w = raw_map(e.in);
	CHILD_CHECK(peek32(w.ctl, CTL_PRODUCER_FENCES) == 0);
	CHILD_CHECK(peek32(w.ctl, CTL_CONSUMER_FENCES) == 0);
	raw_unmap(&w);
	stop_echo(&e);
	return 0;
}

START_TEST(test_ring_without_membarrier)
{
	ck_assert_child_ok(ring_without_membarrier, NULL);
}
END_TEST

/*
 * An end that said it would call membarrier and then cannot (a filter
 * installed after the rings were made) withdraws its word at its first
 * sleep and is still woken every time, though the other process may
 * publish without a barrier: it sleeps in short slices from then on.
 */
static int ring_membarrier_refused_later(void *unused)
{
	static const int delay_us = 2000; /* far longer than the spin */
	struct echo e;
	struct raw w;
	int line;

	(void)unused;
	e = start_echo(&delay_us);
	w = raw_map(e.in);
	CHILD_CHECK(peek32(w.ctl, CTL_CONSUMER_FENCES) == 1);
	CHILD_CHECK(deny_syscalls(no_membarrier, ARRAY_SIZE(no_membarrier)) == 0);
	line = ping_pong(&e, scaled(500));
	if (line)
		return line;
	CHILD_CHECK(peek32(w.ctl, CTL_CONSUMER_FENCES) == 0);
	/* The child, unfiltered, still says it calls it. */
	CHILD_CHECK(peek32(w.ctl, CTL_PRODUCER_FENCES) == 1);
	raw_unmap(&w);
	stop_echo(&e);
	return 0;
}

START_TEST(test_ring_membarrier_refused_later)
{
	if (!kernel_has_global_membarrier()) {
		note_skipped("no MEMBARRIER_CMD_GLOBAL_EXPEDITED here: no end says it calls it");
		return;
	}
	ck_assert_child_ok(ring_membarrier_refused_later, NULL);
}
END_TEST

struct scribbler {
	uint8_t *ctl;
	atomic_int stop;
};

/* Garbage in both words, over and over: 0, 1, 2 and all ones. */
static void *scribble(void *arg)
{
	static const uint32_t values[] = { 0, 1, 2, UINT32_MAX };
	struct scribbler *s = arg;

	for (unsigned int i = 0; !atomic_load(&s->stop); i++) {
		poke32(s->ctl, CTL_PRODUCER_FENCES, values[i % 4]);
		poke32(s->ctl, CTL_CONSUMER_FENCES, values[(i / 4) % 4]);
	}
	return NULL;
}

/* What a word says only changes how its reader publishes: whatever a
 * third party writes there, no wake-up is lost. */
START_TEST(test_ring_fence_words_scribbled)
{
	static const int delay_us = 20; /* about the spin: waits race wakers */
	struct scribbler ping, pong;
	pthread_t t[2];
	struct echo e = start_echo(&delay_us);
	struct raw wp = raw_map(e.out), wq = raw_map(e.in);
	int line;

	ping.ctl = wp.ctl;
	pong.ctl = wq.ctl;
	atomic_init(&ping.stop, 0);
	atomic_init(&pong.stop, 0);
	ck_assert_int_eq(pthread_create(&t[0], NULL, scribble, &ping), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, scribble, &pong), 0);
	line = ping_pong(&e, scaled(20000));
	atomic_store(&ping.stop, 1);
	atomic_store(&pong.stop, 1);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	ck_assert_msg(line == 0, "the ping-pong failed at line %d", line);
	raw_unmap(&wp);
	raw_unmap(&wq);
	stop_echo(&e);
}
END_TEST

Suite *ring_fence_suite(void)
{
	Suite *s = suite_create("ring-fence");
	TCase *tc = tcase_with_leak_check("fence");

	tcase_add_test(tc, test_ring_fence_words_say_what_the_kernel_has);
	tcase_add_test(tc, test_ring_without_membarrier);
	tcase_add_test(tc, test_ring_membarrier_refused_later);
	tcase_add_test(tc, test_ring_fence_words_scribbled);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
