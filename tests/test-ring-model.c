/* SPDX-License-Identifier: MIT */
/*
 * A long random sequence of ring operations on both ends, each checked
 * against a small model of the ring: a queue of messages, the room their
 * records take, what is reserved and what is peeked, which end is gone.
 * The model predicts every result (a length, or which errno) and every
 * byte read. As in test-model.c, a divergence prints the seed and the
 * step; LIBMEMFD_MODEL_SEED=<seed> replays it, LIBMEMFD_MODEL_TRACE=1
 * prints every step, LIBMEMFD_MODEL_STEPS=<n> sets the length (default
 * 100000).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring-helpers.h"
#include "ring-layout.h"
#include "test-common.h"

struct message {
	size_t length;
	uint64_t seq;
};

struct model {
	struct pair p;
	size_t capacity;
	struct message *queue; /* capacity / 8 entries: every record takes 8 bytes or more */
	size_t first, count;
	uint64_t used;         /* bytes of the records in the queue */
	uint64_t next_seq;
	int reserved;          /* and the message reserved: */
	struct message pending;
	int peeked;
	int producer_gone, consumer_gone;
	char *buf;
};

struct run {
	uint64_t rng;
	unsigned int seed;
	long step;
	char op[96];
};

static uint64_t below(struct run *r, uint64_t n)
{
	return n ? next_random(&r->rng) % n : 0;
}

static void start(struct model *md, struct run *r)
{
	size_t page = page_size();

	md->capacity = page << below(r, 4);
	md->p = new_pair(md->capacity, below(r, 2) ? P : C);
	md->queue = calloc(md->capacity / RECORD_HEADER, sizeof(*md->queue));
	md->buf = malloc(md->capacity);
	ck_assert_ptr_nonnull(md->queue);
	ck_assert_ptr_nonnull(md->buf);
	md->first = md->count = 0;
	md->used = 0;
	md->reserved = md->peeked = 0;
	md->producer_gone = md->consumer_gone = 0;
	snprintf(r->op, sizeof(r->op), "a new ring of %zu bytes", md->capacity);
}

static void finish(struct model *md)
{
	if (!md->producer_gone)
		mfd_ring_free(md->p.producer);
	if (!md->consumer_gone)
		mfd_ring_free(md->p.consumer);
	free(md->queue);
	free(md->buf);
}

/* A length: mostly small, some up to half the ring, some that never fit. */
static size_t any_length(struct model *md, struct run *r)
{
	switch (below(r, 16)) {
	case 0: return 0;
	case 1: return (size_t)below(r, md->capacity / 2 + 1);
	case 2: return md->capacity - RECORD_HEADER - (size_t)below(r, 2) * 7;
	case 3: return md->capacity - RECORD_HEADER + 1 + (size_t)below(r, 100);
	default: return (size_t)below(r, 300);
	}
}

/* What a producer's call for a message of length must answer first. */
static int producer_refusal(const struct model *md, size_t length)
{
	if (RECORD_SIZE(length) > md->capacity)
		return -EMSGSIZE;
	if (md->consumer_gone)
		return -EPIPE;
	if (RECORD_SIZE(length) > md->capacity - md->used)
		return -EAGAIN;
	return 0;
}

static void push(struct model *md, struct message m)
{
	md->queue[(md->first + md->count++) % (md->capacity / RECORD_HEADER)] = m;
	md->used += RECORD_SIZE(m.length);
}

static struct message *front_of(struct model *md)
{
	return md->count ? &md->queue[md->first] : NULL;
}

static void pop(struct model *md)
{
	md->used -= RECORD_SIZE(md->queue[md->first].length);
	md->first = (md->first + 1) % (md->capacity / RECORD_HEADER);
	md->count--;
	md->peeked = 0;
}

/* What a consumer's call must answer when the queue is empty. */
static int empty_answer(const struct model *md)
{
	return md->producer_gone ? -EPIPE : -EAGAIN;
}

static void model_reserve(struct model *md, struct run *r)
{
	size_t length = any_length(md, r);
	int want = producer_refusal(md, length);
	void *w = POISON_PTR;

	snprintf(r->op, sizeof(r->op), "mfd_ring_reserve(%zu) with %llu of %zu used", length,
		 (unsigned long long)md->used, md->capacity);
	expect(r, mfd_ring_reserve(md->p.producer, length, &w), want);
	if (want < 0) {
		if (w != POISON_PTR)
			diverged(r, "a failed reserve wrote its address");
		return;
	}
	md->reserved = 1;
	md->pending = (struct message){ length, md->next_seq };
	fill(w, length, md->next_seq);
}

static void model_commit(struct model *md, struct run *r)
{
	snprintf(r->op, sizeof(r->op), "mfd_ring_commit, %s reserved", md->reserved ? "one" : "none");
	expect(r, mfd_ring_commit(md->p.producer), md->reserved ? 0 : -EINVAL);
	if (md->reserved) {
		push(md, md->pending);
		md->next_seq++;
		md->reserved = 0;
	}
}

static void model_send(struct model *md, struct run *r)
{
	size_t length = any_length(md, r);
	int want = producer_refusal(md, length);

	snprintf(r->op, sizeof(r->op), "mfd_ring_send(%zu) with %llu of %zu used", length,
		 (unsigned long long)md->used, md->capacity);
	if (length <= md->capacity)
		fill(md->buf, length, md->next_seq);
	expect(r, mfd_ring_send(md->p.producer, md->buf, length), want);
	if (want == 0) {
		/* A reservation before it was replaced, and committed. */
		push(md, (struct message){ length, md->next_seq++ });
		md->reserved = 0;
	}
}

static void producer_wait(struct model *md, struct run *r)
{
	size_t length = any_length(md, r);
	int want = producer_refusal(md, length);

	snprintf(r->op, sizeof(r->op), "mfd_ring_wait(producer, %zu, 0) with %llu of %zu used",
		 length, (unsigned long long)md->used, md->capacity);
	expect(r, mfd_ring_wait(md->p.producer, length, 0), want == -EAGAIN ? -ETIMEDOUT : want);
}

static void model_peek(struct model *md, struct run *r)
{
	struct message *m = front_of(md);
	const void *a = POISON_PTR;
	ssize_t n;

	snprintf(r->op, sizeof(r->op), "mfd_ring_peek with %zu messages", md->count);
	n = mfd_ring_peek(md->p.consumer, &a);
	expect(r, n, m ? (long)m->length : empty_answer(md));
	if (!m)
		return;
	if (!filled(a, m->length, m->seq))
		diverged(r, "the message of %zu bytes peeked is not message %llu", m->length,
			 (unsigned long long)m->seq);
	md->peeked = 1;
}

static void model_release(struct model *md, struct run *r)
{
	snprintf(r->op, sizeof(r->op), "mfd_ring_release, %s peeked", md->peeked ? "one" : "none");
	expect(r, mfd_ring_release(md->p.consumer), md->peeked ? 0 : -EINVAL);
	if (md->peeked)
		pop(md);
}

static void model_recv(struct model *md, struct run *r)
{
	struct message *m = front_of(md);
	size_t size = below(r, 4) ? md->capacity : (size_t)below(r, 300);
	ssize_t n;

	snprintf(r->op, sizeof(r->op), "mfd_ring_recv(%zu) with %zu messages", size, md->count);
	n = mfd_ring_recv(md->p.consumer, md->buf, size);
	if (!m) {
		expect(r, n, empty_answer(md));
	} else if (m->length > size) {
		expect(r, n, -EMSGSIZE);
	} else {
		expect(r, n, (long)m->length);
		if (!filled(md->buf, m->length, m->seq))
			diverged(r, "the message received is not message %llu",
				 (unsigned long long)m->seq);
		pop(md);
	}
}

static void consumer_wait(struct model *md, struct run *r)
{
	snprintf(r->op, sizeof(r->op), "mfd_ring_wait(consumer, 0) with %zu messages", md->count);
	expect(r, mfd_ring_wait(md->p.consumer, (size_t)below(r, 1000), 0),
	       md->count ? 0 : md->producer_gone ? -EPIPE : -ETIMEDOUT);
}

/* Each end's calls on the other end. */
static void wrong_end(struct model *md, struct run *r)
{
	void *w = POISON_PTR;
	const void *a = POISON_PTR;

	snprintf(r->op, sizeof(r->op), "calls on the wrong end");
	if (!md->consumer_gone) {
		expect(r, mfd_ring_reserve(md->p.consumer, 1, &w), -EINVAL);
		expect(r, mfd_ring_commit(md->p.consumer), -EINVAL);
		expect(r, mfd_ring_send(md->p.consumer, "x", 1), -EINVAL);
	}
	if (!md->producer_gone) {
		expect(r, mfd_ring_peek(md->p.producer, &a), -EINVAL);
		expect(r, mfd_ring_release(md->p.producer), -EINVAL);
		expect(r, mfd_ring_recv(md->p.producer, md->buf, md->capacity), -EINVAL);
	}
	if (w != POISON_PTR || a != POISON_PTR)
		diverged(r, "a refused call wrote its address");
}

static unsigned int seed_from_environment(void)
{
	const char *s = getenv("LIBMEMFD_MODEL_SEED");

	if (s && *s)
		return (unsigned int)strtoul(s, NULL, 0);
	return (unsigned int)time(NULL) ^ (unsigned int)getpid();
}

START_TEST(test_random_ring_operations_follow_the_model)
{
	const char *steps_env = getenv("LIBMEMFD_MODEL_STEPS");
	long steps = steps_env && *steps_env ? strtol(steps_env, NULL, 10) : 100000;
	const char *trace = getenv("LIBMEMFD_MODEL_TRACE");
	struct run r = { .seed = seed_from_environment() };
	struct model md = { .next_seq = 0 };

	r.rng = 0x9e3779b97f4a7c15ull * (r.seed + 1ull);
	steps = scaled(steps);
	fprintf(stderr, "ring model: seed %u, %ld steps (LIBMEMFD_MODEL_SEED replays it)\n",
		r.seed, steps);
	start(&md, &r);
	for (r.step = 1; r.step <= steps; r.step++) {
		uint64_t dice = below(&r, 1000);
		int producer = !md.producer_gone, consumer = !md.consumer_gone;

		if (dice < 2 || (!producer && (!consumer || md.count == 0) && dice < 50) ||
		    (!consumer && dice < 50)) {
			/* Both ends done with: a fresh ring. */
			finish(&md);
			start(&md, &r);
		} else if (dice < 4 && producer) {
			snprintf(r.op, sizeof(r.op), "mfd_ring_free(producer)%s",
				 md.reserved ? ", a message reserved" : "");
			mfd_ring_free(md.p.producer);
			md.producer_gone = 1;
			md.reserved = 0;
		} else if (dice < 6 && consumer) {
			snprintf(r.op, sizeof(r.op), "mfd_ring_free(consumer)");
			mfd_ring_free(md.p.consumer);
			md.consumer_gone = 1;
		} else if (dice < 200 && producer) {
			model_reserve(&md, &r);
		} else if (dice < 380 && producer) {
			model_commit(&md, &r);
		} else if (dice < 500 && producer) {
			model_send(&md, &r);
		} else if (dice < 540 && producer) {
			producer_wait(&md, &r);
		} else if (dice < 700 && consumer) {
			model_peek(&md, &r);
		} else if (dice < 820 && consumer) {
			model_release(&md, &r);
		} else if (dice < 960 && consumer) {
			model_recv(&md, &r);
		} else if (dice < 990 && consumer) {
			consumer_wait(&md, &r);
		} else {
			wrong_end(&md, &r);
		}
		if (trace)
			fprintf(stderr, "%ld: %s\n", r.step, r.op);
	}
	finish(&md);
}
END_TEST

Suite *ring_model_suite(void)
{
	Suite *s = suite_create("ring-model");
	TCase *tc = tcase_with_leak_check("ring_rules");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_random_ring_operations_follow_the_model);
	suite_add_tcase(s, tc);
	return s;
}
