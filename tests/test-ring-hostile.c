/* SPDX-License-Identifier: MIT */
/*
 * ring.c against peers that do not play by the rules: garbage written
 * into every shared field of the control page and into record headers,
 * holes punched in the shared pages, through mappings of the peer's own,
 * in this process and from another. The end under attack answers -EPROTO
 * (for good) or goes on, and never reads or hands out anything outside
 * its ring: a stray access would fault on a guard page.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ring-helpers.h"
#include "ring-layout.h"
#include "syscall-filter.h"
#include "test-common.h"

/* Every call of the consumer answers -EPROTO, for good. */
static void assert_consumer_broken(struct mfd_ring *r)
{
	const void *a = POISON_PTR;
	char buf[8];

	ck_assert_int_eq(mfd_ring_peek(r, &a), -EPROTO);
	ck_assert_ptr_eq(a, POISON_PTR);
	ck_assert_int_eq(mfd_ring_recv(r, buf, sizeof(buf)), -EPROTO);
	ck_assert_int_eq(mfd_ring_release(r), -EPROTO);
	ck_assert_int_eq(mfd_ring_wait(r, 0, 0), -EPROTO);
	ck_assert_int_eq(mfd_ring_wait(r, 0, -1), -EPROTO);
	ck_assert_int_eq(mfd_ring_peek(r, &a), -EPROTO);
}

static void assert_producer_broken(struct mfd_ring *r)
{
	void *w = POISON_PTR;

	ck_assert_int_eq(mfd_ring_reserve(r, 1, &w), -EPROTO);
	ck_assert_ptr_eq(w, POISON_PTR);
	ck_assert_int_eq(mfd_ring_send(r, "x", 1), -EPROTO);
	ck_assert_int_eq(mfd_ring_commit(r), -EPROTO);
	ck_assert_int_eq(mfd_ring_wait(r, 1, 0), -EPROTO);
	ck_assert_int_eq(mfd_ring_wait(r, 1, -1), -EPROTO);
	ck_assert_int_eq(mfd_ring_reserve(r, 1, &w), -EPROTO);
}

/* A producer that writes what it likes: the consumer's ring, and the
 * hostile producer's own mapping of the memfd. The consumer has read two
 * messages so far. */
struct victim {
	struct mfd_ring *consumer, *producer;
	struct raw peer;
	size_t capacity;
	uint64_t head; /* what the honest producer has published */
};

static struct victim new_victim(size_t capacity)
{
	struct pair p = new_pair(capacity, C);
	struct victim v = { p.consumer, p.producer, raw_map(p.producer), capacity, 0 };
	char buf[16];

	ck_assert_int_eq(mfd_ring_send(v.producer, "one", 3), 0);
	ck_assert_int_eq(mfd_ring_send(v.producer, "two", 3), 0);
	ck_assert_int_eq(mfd_ring_recv(v.consumer, buf, sizeof(buf)), 3);
	ck_assert_int_eq(mfd_ring_recv(v.consumer, buf, sizeof(buf)), 3);
	v.head = peek64(v.peer.ctl, CTL_HEAD);
	ck_assert_uint_eq(v.head, RING_INITIAL_COUNT + 2 * RECORD_SIZE(3));
	return v;
}

static void free_victim(struct victim *v)
{
	raw_unmap(&v->peer);
	mfd_ring_free(v->producer);
	mfd_ring_free(v->consumer);
}

START_TEST(test_ring_hostile_head)
{
	size_t cap = page_size();
	const uint64_t bad[] = {
		RING_INITIAL_COUNT + 2 * RECORD_SIZE(3) + cap + 8, /* past a full ring */
		RING_INITIAL_COUNT + 2 * RECORD_SIZE(3) + 1,       /* off a record boundary */
		RING_INITIAL_COUNT + 2 * RECORD_SIZE(3) + cap + 4,
		RING_INITIAL_COUNT + RECORD_SIZE(3),               /* backwards */
		RING_INITIAL_COUNT - 8,
		0,                                                 /* a punched hole */
		UINT64_MAX,
		UINT64_MAX - 7,
		(uint64_t)INT64_MAX + 1,
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct victim v = new_victim(cap);

		poke64(v.peer.ctl, CTL_HEAD, bad[i]);
		assert_consumer_broken(v.consumer);
		free_victim(&v);
	}
}
END_TEST

/* A head that leaves the ring exactly full is one an honest producer
 * writes: the records there are what it says, within the ring. */
START_TEST(test_ring_hostile_head_at_the_limit)
{
	size_t cap = page_size();
	struct victim v = new_victim(cap);
	uint64_t tail = v.head, pos = tail & (cap - 1);
	const void *a;

	/* One record of cap - 8 bytes filling the ring, written by the peer. */
	poke64(v.peer.data + pos, 0, cap - RECORD_HEADER);
	poke64(v.peer.ctl, CTL_HEAD, tail + cap);
	ck_assert_int_eq(mfd_ring_peek(v.consumer, &a), (ssize_t)(cap - RECORD_HEADER));
	ck_assert_int_eq(mfd_ring_release(v.consumer), 0);
	ck_assert_int_eq(mfd_ring_peek(v.consumer, &a), -EAGAIN);
	free_victim(&v);
}
END_TEST

START_TEST(test_ring_hostile_record_length)
{
	size_t cap = page_size();
	const uint64_t lengths[] = {
		17, 24, 25, 4096, cap, cap + 16, 1u << 31, UINT64_MAX / 2, UINT64_MAX - 7, UINT64_MAX,
	};

	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
		struct victim v = new_victim(cap);
		uint64_t pos = v.head & (cap - 1);

		/* Published: one record of 16 bytes; its header claims more. */
		ck_assert_int_eq(mfd_ring_send(v.producer, "sixteen bytes!!!", 16), 0);
		poke64(v.peer.data + pos, 0, lengths[i]);
		assert_consumer_broken(v.consumer);
		free_victim(&v);
	}
}
END_TEST

/* Read once: a header changed after the peek changes nothing. */
START_TEST(test_ring_record_length_read_once)
{
	size_t cap = page_size();
	struct victim v = new_victim(cap);
	uint64_t pos = v.head & (cap - 1);
	const void *a;
	char buf[16];

	ck_assert_int_eq(mfd_ring_send(v.producer, "abc", 3), 0);
	ck_assert_int_eq(mfd_ring_send(v.producer, "defg", 4), 0);
	ck_assert_int_eq(mfd_ring_peek(v.consumer, &a), 3);
	poke64(v.peer.data + pos, 0, UINT64_MAX);
	ck_assert_int_eq(mfd_ring_peek(v.consumer, &a), 3);
	ck_assert_int_eq(mfd_ring_wait(v.consumer, 0, 0), 0);
	ck_assert_int_eq(mfd_ring_release(v.consumer), 0);
	ck_assert_int_eq(mfd_ring_recv(v.consumer, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "defg", 4);
	free_victim(&v);
}
END_TEST

/* Holes punched in the shared pages read as zeros: in the data area,
 * records of length 0, which are messages; in the control page, counts
 * that no end could have reached. */
START_TEST(test_ring_punched_holes)
{
	size_t page = page_size(), cap = 4 * page;
	struct victim v = new_victim(cap);
	uint64_t published, count = 0;
	char buf[64];
	ssize_t n;

	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(mfd_ring_send(v.producer, "0123456789abcdef", 16), 0);
	published = 8 * RECORD_SIZE(16);
	ck_assert_int_eq(mfd_punch_hole(v.peer.m, page, cap), 0);
	while ((n = mfd_ring_recv(v.consumer, buf, sizeof(buf))) >= 0) {
		ck_assert_int_eq(n, 0);
		count++;
	}
	ck_assert_int_eq(n, -EAGAIN);
	ck_assert_uint_eq(count, published / RECORD_HEADER);
	/* The ring goes on. */
	ck_assert_int_eq(mfd_ring_send(v.producer, "after", 5), 0);
	ck_assert_int_eq(mfd_ring_recv(v.consumer, buf, sizeof(buf)), 5);
	ck_assert_mem_eq(buf, "after", 5);
	/* The control page: both ends' counts gone to zero. */
	ck_assert_int_eq(mfd_ring_send(v.producer, "lost", 4), 0);
	ck_assert_int_eq(mfd_punch_hole(v.peer.m, 0, page), 0);
	assert_consumer_broken(v.consumer);
	free_victim(&v);
}
END_TEST

/* What only attach reads, and the flags: garbage there is survived. */
START_TEST(test_ring_hostile_header_after_attach)
{
	size_t cap = page_size();
	struct victim v = new_victim(cap);
	char buf[16];

	poke64(v.peer.ctl, CTL_MAGIC, 0);
	poke32(v.peer.ctl, CTL_LAYOUT, 0xffffffff);
	poke32(v.peer.ctl, CTL_CONTROL_SIZE, 0);
	poke64(v.peer.ctl, CTL_CAPACITY, UINT64_MAX);
	poke32(v.peer.ctl, CTL_CREATOR, 0);
	poke32(v.peer.ctl, CTL_ATTACHED, 0);
	/* Sleepers that are not there: wake-up calls for nothing. */
	poke32(v.peer.ctl, CTL_CONSUMER_SLEEPS, 0xffffffff);
	poke32(v.peer.ctl, CTL_PRODUCER_SLEEPS, 1);
	/* CPUs that say nothing true: a hint for the spin, no more. */
	poke32(v.peer.ctl, CTL_PRODUCER_CPU, 0xffffffff);
	poke32(v.peer.ctl, CTL_CONSUMER_CPU, 12345);
	ck_assert_int_eq(mfd_ring_send(v.producer, "still", 5), 0);
	ck_assert_int_eq(mfd_ring_recv(v.consumer, buf, sizeof(buf)), 5);
	ck_assert_int_eq(mfd_ring_wait(v.consumer, 0, 10), -ETIMEDOUT);
	ck_assert_int_eq(mfd_ring_wait(v.producer, 16, 0), 0);
	/* A gone flag set by the peer: the consumer reads what is there,
	 * then stops. */
	ck_assert_int_eq(mfd_ring_send(v.producer, "final", 5), 0);
	poke32(v.peer.ctl, CTL_PRODUCER_GONE, 0x12345678);
	ck_assert_int_eq(mfd_ring_recv(v.consumer, buf, sizeof(buf)), 5);
	ck_assert_int_eq(mfd_ring_recv(v.consumer, buf, sizeof(buf)), -EPIPE);
	poke32(v.peer.ctl, CTL_CONSUMER_GONE, 2);
	ck_assert_int_eq(mfd_ring_send(v.producer, "x", 1), -EPIPE);
	free_victim(&v);
}
END_TEST

/* A gone flag that a peer sets and clears again: -EPIPE, once said, is
 * final. The consumer still reads what was published before it saw the
 * flag, and nothing after. */
START_TEST(test_ring_gone_is_final_for_the_consumer)
{
	struct pair p = new_pair(page_size(), P);
	struct raw peer = raw_map(p.producer);
	const void *a;
	char buf[8];

	ck_assert_int_eq(mfd_ring_send(p.producer, "one", 3), 0);
	poke32(peer.ctl, CTL_PRODUCER_GONE, 1);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), 3);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), -EPIPE);
	poke32(peer.ctl, CTL_PRODUCER_GONE, 0);
	ck_assert_int_eq(mfd_ring_send(p.producer, "two", 3), 0);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), -EPIPE);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), -EPIPE);
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, 0), -EPIPE);
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, -1), -EPIPE);
	raw_unmap(&peer);
	free_pair(&p);

	/* The flag seen with messages still to read: those are read, and
	 * what comes after the flag was cleared is not. */
	p = new_pair(page_size(), P);
	peer = raw_map(p.producer);
	ck_assert_int_eq(mfd_ring_send(p.producer, "a", 1), 0);
	ck_assert_int_eq(mfd_ring_send(p.producer, "bc", 2), 0);
	poke32(peer.ctl, CTL_PRODUCER_GONE, 1);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), 1);
	poke32(peer.ctl, CTL_PRODUCER_GONE, 0);
	ck_assert_int_eq(mfd_ring_send(p.producer, "def", 3), 0);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), 2);
	ck_assert_mem_eq(a, "bc", 2);
	ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, -1), -EPIPE);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), -EPIPE);
	raw_unmap(&peer);
	free_pair(&p);
}
END_TEST

START_TEST(test_ring_gone_is_final_for_the_producer)
{
	struct pair p = new_pair(page_size(), P);
	struct raw peer = raw_map(p.consumer);
	void *w = POISON_PTR;

	poke32(peer.ctl, CTL_CONSUMER_GONE, 1);
	ck_assert_int_eq(mfd_ring_send(p.producer, "x", 1), -EPIPE);
	poke32(peer.ctl, CTL_CONSUMER_GONE, 0);
	ck_assert_int_eq(mfd_ring_send(p.producer, "x", 1), -EPIPE);
	ck_assert_int_eq(mfd_ring_reserve(p.producer, 1, &w), -EPIPE);
	ck_assert_ptr_eq(w, POISON_PTR);
	ck_assert_int_eq(mfd_ring_wait(p.producer, 1, 0), -EPIPE);
	ck_assert_int_eq(mfd_ring_wait(p.producer, 1, -1), -EPIPE);
	raw_unmap(&peer);
	free_pair(&p);
}
END_TEST

/* Fill the ring until not even an empty message fits: the producer's
 * next reserve must read the consumer's tail. */
static void fill_up(struct mfd_ring *producer)
{
	while (mfd_ring_send(producer, "0123456789", 10) == 0)
		;
	while (mfd_ring_send(producer, NULL, 0) == 0)
		;
}

/* A consumer that writes what it likes into tail, seen by a producer
 * that has filled the ring, and so must look. */
START_TEST(test_ring_hostile_tail)
{
	size_t cap = page_size();
	const int64_t bad[] = {
		8,          /* past the head */
		cap,
		1,          /* off a record boundary */
		/* Within bounds, but not a multiple of 8 as a record's
		 * start is (M1 of the review dropped that check). */
		-4,
		-12,
		-(int64_t)cap / 2 - 4,
		-(int64_t)cap - 4,
		-(int64_t)cap - 8, /* behind what it had freed */
	};
	const uint64_t absolute[] = { 0, UINT64_MAX, RING_INITIAL_COUNT - 8, (uint64_t)INT64_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(bad) + ARRAY_SIZE(absolute); i++) {
		struct pair p = new_pair(cap, P);
		struct raw peer = raw_map(p.consumer);
		uint64_t head;

		fill_up(p.producer);
		head = peek64(peer.ctl, CTL_HEAD);
		poke64(peer.ctl, CTL_TAIL,
		       i < ARRAY_SIZE(bad) ? head + (uint64_t)bad[i] : absolute[i - ARRAY_SIZE(bad)]);
		assert_producer_broken(p.producer);
		raw_unmap(&peer);
		free_pair(&p);
	}
}
END_TEST

/* A tail anywhere between what was freed and the head is one an honest
 * consumer could write, and frees that room. */
START_TEST(test_ring_hostile_tail_within_bounds)
{
	size_t cap = page_size();
	struct pair p = new_pair(cap, P);
	struct raw peer = raw_map(p.consumer);
	uint64_t head;
	void *w;

	while (mfd_ring_send(p.producer, "0123456789", 10) == 0)
		;
	head = peek64(peer.ctl, CTL_HEAD);
	poke64(peer.ctl, CTL_TAIL, head);
	ck_assert_int_eq(mfd_ring_reserve(p.producer, cap - RECORD_HEADER, &w), 0);
	memset(w, 0x55, cap - RECORD_HEADER);
	ck_assert_int_eq(mfd_ring_commit(p.producer), 0);
	raw_unmap(&peer);
	free_pair(&p);
}
END_TEST

START_TEST(test_ring_punched_control_page_seen_by_producer)
{
	size_t cap = page_size();
	struct pair p = new_pair(cap, P);
	struct raw peer = raw_map(p.consumer);

	fill_up(p.producer);
	ck_assert_int_eq(mfd_punch_hole(peer.m, 0, page_size()), 0);
	assert_producer_broken(p.producer);
	raw_unmap(&peer);
	free_pair(&p);
}
END_TEST

/*
 * A hostile peer in another process, writing random garbage (and now and
 * then something plausible) into every shared field and every record
 * header while this process uses its end. Whatever it does, this end
 * answers only what the contract allows, hands out nothing outside its
 * data area, and once it says -EPROTO, says it for good. A stray access
 * would fault on a guard page and kill the test.
 */
struct fuzz {
	uint64_t seed;
	size_t capacity;
	unsigned int victim; /* the end this process takes */
	unsigned int garbage; /* 1 in garbage writes is wild, 0: none */
};

static int hostile_child(int sock, void *arg)
{
	const struct fuzz *f = arg;
	struct mfd *m = NULL;
	uint64_t rng = f->seed ^ 0xabcdef;
	size_t page = page_size();
	uint8_t *ctl, *data;
	void *p;

	CHILD_CHECK(mfd_recv(sock, RING_SEALS, &m) == 0);
	CHILD_CHECK(mfd_map(m, 0, (size_t)mfd_size(m), PROT_READ | PROT_WRITE, 0, &p) == 0);
	ctl = p;
	data = ctl + page;
	CHILD_CHECK(write(sock, "", 1) == 1);
	/* Until the parent says stop, or is gone. */
	for (long i = 0;; i++) {
		uint64_t dice = next_random(&rng), value = next_random(&rng);
		uint64_t head = peek64(ctl, CTL_HEAD), tail = peek64(ctl, CTL_TAIL);
		size_t pos = (size_t)(value % f->capacity) & ~(size_t)7;
		char byte;

		/* Wild garbage now and then; mostly values an honest end
		 * could almost have written. */
		int wild = f->garbage && dice % f->garbage == 0;

		switch (wild ? (dice >> 8) % 4 : 4 + (dice >> 8) % 9) {
		case 0: poke64(ctl, CTL_HEAD, value); break;
		case 1: poke64(ctl, CTL_TAIL, value); break;
		case 2: poke64(data, pos, value); break;
		case 3: poke64(ctl, (size_t)(value % (7 * 128)) & ~(size_t)7, value >> 3); break;
		case 4: poke64(ctl, CTL_HEAD, tail + (value % (f->capacity + 16)) / 8 * 8); break;
		case 5: poke64(ctl, CTL_TAIL, head - (value % (f->capacity + 16)) / 8 * 8); break;
		case 6: poke64(data, pos, value % 64); break;
		case 7: poke64(data, tail & (f->capacity - 8), value % f->capacity); break;
		case 8: poke32(ctl, CTL_CONSUMER_SLEEPS, (uint32_t)value & 1); break;
		case 9: poke32(ctl, CTL_PRODUCER_SLEEPS, (uint32_t)value); break;
		case 10: poke32(ctl, (value & 1) ? CTL_PRODUCER_GONE : CTL_CONSUMER_GONE,
				(value & 0xfe) ? 0 : 1); break;
		case 11:
			if (value % 64 == 0)
				mfd_punch_hole(m, (value >> 8) % 2 ? 0 : page,
					       (value >> 8) % 2 ? page : f->capacity);
			break;
		default: break; /* leave it be for a while */
		}
		if (i % 256 == 0 && recv(sock, &byte, 1, MSG_DONTWAIT) >= 0)
			break;
	}
	mfd_unmap(p, (size_t)mfd_size(m));
	mfd_free(m);
	return 0;
}

static void assert_within(const void *addr, size_t length, const uint8_t *data, size_t capacity)
{
	const uint8_t *a = addr;

	ck_assert_uint_ge((uintptr_t)a, (uintptr_t)data + RECORD_HEADER);
	ck_assert_uint_le((uintptr_t)a + length, (uintptr_t)data + 2 * capacity);
	ck_assert_uint_le(length, capacity - RECORD_HEADER);
}

static void fuzz_one(struct fuzz *f)
{
	size_t cap = f->capacity;
	struct mfd_ring *mine = NULL, *honest = NULL;
	uint64_t rng = f->seed;
	const uint8_t *data = NULL;
	long broken = 0, calls;
	struct child c;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	/* This end and an honest other end here; the hostile one is a
	 * child with its own mapping. Find where the data area is from the
	 * first record, at the initial count. */
	ck_assert_int_eq(mfd_ring_new(&mine, "fuzz", cap, f->victim), 0);
	ck_assert_int_eq(mfd_ring_attach(&honest, received(mine)), 0);
	if (f->victim == P) {
		void *w;

		ck_assert_int_eq(mfd_ring_reserve(mine, 0, &w), 0);
		data = (const uint8_t *)w - RECORD_HEADER - (RING_INITIAL_COUNT & (cap - 1));
	} else {
		const void *a;

		ck_assert_int_eq(mfd_ring_send(honest, NULL, 0), 0);
		ck_assert_int_eq(mfd_ring_peek(mine, &a), 0);
		data = (const uint8_t *)a - RECORD_HEADER - (RING_INITIAL_COUNT & (cap - 1));
		ck_assert_int_eq(mfd_ring_release(mine), 0);
	}
	c = spawn(hostile_child, f);
	give_ring(c.sock, mine);
	expect_byte(c.sock);
	/* Calls until -EPROTO, and a thousand more that must say it again. */
	calls = scaled(100000);
	for (long i = 0; i < calls && (!broken || i < broken + 1000); i++) {
		uint64_t dice = next_random(&rng);
		size_t len = (size_t)(dice >> 32) % (dice % 7 == 0 ? cap + 16 : 128);
		long r;

		if (f->victim == P) {
			void *w = NULL;

			switch (dice % 4) {
			case 0:
				r = mfd_ring_reserve(mine, len, &w);
				if (r == 0) {
					assert_within(w, len, data, cap);
					memset(w, 0x77, len);
				}
				break;
			case 1: r = mfd_ring_commit(mine); break;
			case 2: r = mfd_ring_send(mine, buf, len < cap ? len : cap); break;
			default: r = mfd_ring_wait(mine, len, 0); break;
			}
			ck_assert(r == 0 || r == -EAGAIN || r == -EMSGSIZE || r == -EPIPE ||
				  r == -EPROTO || r == -EINVAL || r == -ETIMEDOUT);
			/* The honest consumer here drains now and then. */
			if (dice % 16 == 0)
				while (mfd_ring_recv(honest, buf, cap) >= 0)
					;
		} else {
			const void *a = NULL;

			switch (dice % 4) {
			case 0:
				r = mfd_ring_peek(mine, &a);
				if (r >= 0) {
					assert_within(a, (size_t)r, data, cap);
					/* Every byte of it can be read. */
					memcpy(buf, a, (size_t)r);
				}
				break;
			case 1: r = mfd_ring_release(mine); break;
			case 2:
				r = mfd_ring_recv(mine, buf, len);
				if (r >= 0)
					ck_assert_uint_le((size_t)r, len);
				break;
			default: r = mfd_ring_wait(mine, 0, 0); break;
			}
			ck_assert(r >= 0 || r == -EAGAIN || r == -EMSGSIZE || r == -EPIPE ||
				  r == -EPROTO || r == -EINVAL || r == -ETIMEDOUT);
			if (dice % 8 == 0)
				mfd_ring_send(honest, buf, len % 256);
		}
		if (broken)
			ck_assert_int_eq(r, -EPROTO);
		else if (r == -EPROTO)
			broken = i + 1;
	}
	fprintf(stderr, "hostile %s, garbage 1/%u: -EPROTO after %ld calls\n",
		f->victim == P ? "consumer" : "producer", f->garbage, broken);
	ck_assert_int_eq(send(c.sock, "", 1, MSG_NOSIGNAL), 1);
	join(c);
	mfd_ring_free(honest);
	mfd_ring_free(mine);
	free(buf);
}

START_TEST(test_ring_hostile_peer_in_another_process)
{
	static const size_t capacities[] = { 1, 4 };
	static const unsigned int garbage[] = { 0, 100000, 1000 };
	struct fuzz f;

	for (int seed = 1; seed <= 2; seed++) {
		for (size_t i = 0; i < ARRAY_SIZE(capacities); i++) {
			for (size_t g = 0; g < ARRAY_SIZE(garbage); g++) {
				f.seed = 0x5eed0000ull + (uint64_t)seed * 977 + i * 31 + g;
				f.capacity = capacities[i] * page_size();
				f.victim = seed % 2 ? C : P;
				f.garbage = garbage[g];
				fuzz_one(&f);
			}
		}
	}
}
END_TEST

/*
 * Each shared value is read once: a peer that flips a word between a
 * value that passes the checks and one that does not, as fast as it can,
 * must get either the good value's answer or -EPROTO (for good), never
 * an answer made of a check of one read and the use of another. The
 * window is a few instructions wide, so the victim end is taken afresh
 * again and again (the peer can clear the attached flag, and the test,
 * with its own mapping, does) for a bounded time, each trial running
 * until its -EPROTO. The peer is a child on the other core. The two loads
 * of a mutant that reads twice are of one cache line, a few instructions
 * apart: the CPU executes them together, and they differ only when an
 * interrupt comes between them while the peer flips. So a timer
 * interrupts this process every FLIP_TICK_US meanwhile, which makes
 * such a mutant fail within a second or so (the commit says how often);
 * while the machine gives the two processes no cores at once, fewer
 * flips land, and the test checks less (it can only pass then).
 */
#define FLIP_MS 1500
#define FLIP_TICK_US 50

struct flip {
	size_t offset;      /* in the memfd */
	uint64_t good, bad; /* stored in turn */
};

static int flipper_child(int sock, void *arg)
{
	const struct flip *f = arg;
	struct mfd *m = NULL;
	uint64_t *word;
	void *p;

	CHILD_CHECK(mfd_recv(sock, RING_SEALS, &m) == 0);
	CHILD_CHECK(mfd_map(m, 0, (size_t)mfd_size(m), PROT_READ | PROT_WRITE, 0, &p) == 0);
	word = (uint64_t *)((uint8_t *)p + f->offset);
	CHILD_CHECK(write(sock, "", 1) == 1);
	for (;;) {
		char byte;

		for (int i = 0; i < 4096; i++) {
			__atomic_store_n(word, f->good, __ATOMIC_RELAXED);
			__atomic_store_n(word, f->bad, __ATOMIC_RELAXED);
		}
		if (recv(sock, &byte, 1, MSG_DONTWAIT) >= 0)
			break;
	}
	mfd_unmap(p, (size_t)mfd_size(m));
	mfd_free(m);
	return 0;
}

static void on_tick(int sig)
{
	(void)sig;
}

/* Interrupt this process every interval_us (0: stop). */
static void ticks(long interval_us)
{
	struct sigaction sa = { .sa_handler = interval_us ? on_tick : SIG_DFL,
				.sa_flags = SA_RESTART };
	struct itimerval every = { { 0, interval_us }, { 0, interval_us } };

	sigemptyset(&sa.sa_mask);
	if (interval_us)
		ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
	if (!interval_us)
		ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
}

enum flipped { FLIP_HEAD, FLIP_TAIL, FLIP_LENGTH };

/*
 * The ring, with a flipper on one word, and trials until FLIP_MS have
 * passed: each takes the victim end afresh (head and tail set back
 * first; attach itself refuses the bad value, and is asked again) and
 * calls it until -EPROTO, and the log says how many calls saw a good value.
 *  - head: good = one record of 8 bytes published, bad = far past the
 *    ring; the record after the good one claims 64 capacities, so that a
 *    consumer keeping a second read of a bad head hands that out.
 *  - tail: a full ring; good = 16 bytes freed, bad = past the head; a
 *    reserve of capacity - 8 bytes needs more than good ever frees.
 *  - length: one record published, its header 8 or 64 capacities.
 */
static void flip_trials(enum flipped what)
{
	size_t page = page_size(), cap = page;
	const uint64_t t0 = RING_INITIAL_COUNT, pos = t0 & (cap - 1);
	unsigned int victim = what == FLIP_TAIL ? P : C;
	struct mfd_ring *creator = NULL;
	long trials = 0, good = 0, refused = 0;
	struct flip f;
	struct raw raw;
	struct child c;
	int64_t start, until;

	ck_assert_int_eq(mfd_ring_new(&creator, "flip", cap, victim == P ? C : P), 0);
	raw = raw_map(creator);
	poke64(raw.data + pos, 0, 8);
	poke64(raw.data + ((pos + RECORD_SIZE(8)) & (cap - 1)), 0, 64 * (uint64_t)cap);
	if (what == FLIP_HEAD)
		f = (struct flip){ CTL_HEAD, t0 + RECORD_SIZE(8), t0 + ((uint64_t)1 << 40) };
	else if (what == FLIP_TAIL)
		f = (struct flip){ CTL_TAIL, t0 + 16, t0 + cap + ((uint64_t)1 << 20) };
	else
		f = (struct flip){ page + pos, 8, 64 * (uint64_t)cap };
	c = spawn(flipper_child, &f);
	give_ring(c.sock, creator);
	expect_byte(c.sock);

	ticks(FLIP_TICK_US);
	start = now_ms();
	until = start + FLIP_MS;
	while (now_ms() < until) {
		struct mfd_ring *r = NULL;
		struct mfd *m = received(creator);
		int err;

		if (what != FLIP_TAIL)
			poke64(raw.ctl, CTL_TAIL, t0);
		poke64(raw.ctl, CTL_HEAD, what == FLIP_TAIL ? t0 + cap : t0 + RECORD_SIZE(8));
		poke32(raw.ctl, CTL_ATTACHED, 0);
		err = mfd_ring_attach(&r, m);
		if (err == -EINVAL) {
			/* It read the bad value, and refused. */
			mfd_free(m);
			refused++;
			continue;
		}
		ck_assert_int_eq(err, 0);
		trials++;
		for (int k = 0; k < 1000; k++) {
			if (victim == P) {
				void *w = POISON_PTR;

				err = mfd_ring_reserve(r, cap - RECORD_HEADER, &w);
				ck_assert_msg(err != 0, "reserved room never freed after %lld ms",
					      (long long)(now_ms() - start));
				ck_assert_ptr_eq(w, POISON_PTR);
			} else {
				const void *a = POISON_PTR;
				ssize_t n = mfd_ring_peek(r, &a);

				ck_assert_msg(n < 0 || n == 8, "peek handed out %zd bytes after %lld ms", n,
					      (long long)(now_ms() - start));
				err = n < 0 ? (int)n : 0;
				if (n == 8)
					ck_assert_int_eq(mfd_ring_release(r), 0);
			}
			if (err == -EPROTO)
				break;
			ck_assert(err == 0 || err == -EAGAIN);
			good++;
			/* The one record read: nothing more comes. */
			if (what == FLIP_LENGTH && err == -EAGAIN)
				break;
		}
		/* Once said, for good, whatever the word holds now. */
		if (err == -EPROTO) {
			if (victim == P)
				assert_producer_broken(r);
			else
				assert_consumer_broken(r);
		}
		mfd_ring_free(r);
	}
	ticks(0);
	ck_assert_int_eq(send(c.sock, "", 1, MSG_NOSIGNAL), 1);
	join(c);
	fprintf(stderr, "flipped %s: %ld trials (%ld attaches refused), %ld good reads\n",
		what == FLIP_HEAD ? "head" : what == FLIP_TAIL ? "tail" : "length", trials,
		refused, good);
	raw_unmap(&raw);
	mfd_ring_free(creator);
}

START_TEST(test_ring_head_read_once)
{
	flip_trials(FLIP_HEAD);
}
END_TEST

START_TEST(test_ring_tail_read_once)
{
	flip_trials(FLIP_TAIL);
}
END_TEST

/* Its window is the narrowest: between the check of a length and the
 * computing of its record's size. */
START_TEST(test_ring_record_length_read_once_under_flips)
{
	flip_trials(FLIP_LENGTH);
}
END_TEST

Suite *ring_hostile_suite(void)
{
	Suite *s = suite_create("ring-hostile");
	TCase *tc;

	tc = tcase_with_leak_check("fields");
	tcase_add_test(tc, test_ring_hostile_head);
	tcase_add_test(tc, test_ring_hostile_head_at_the_limit);
	tcase_add_test(tc, test_ring_hostile_record_length);
	tcase_add_test(tc, test_ring_record_length_read_once);
	tcase_add_test(tc, test_ring_punched_holes);
	tcase_add_test(tc, test_ring_hostile_header_after_attach);
	tcase_add_test(tc, test_ring_gone_is_final_for_the_consumer);
	tcase_add_test(tc, test_ring_gone_is_final_for_the_producer);
	tcase_add_test(tc, test_ring_hostile_tail);
	tcase_add_test(tc, test_ring_hostile_tail_within_bounds);
	tcase_add_test(tc, test_ring_punched_control_page_seen_by_producer);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("process");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ring_hostile_peer_in_another_process);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("flips");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ring_head_read_once);
	tcase_add_test(tc, test_ring_tail_read_once);
	tcase_add_test(tc, test_ring_record_length_read_once_under_flips);
	suite_add_tcase(s, tc);
	return s;
}
