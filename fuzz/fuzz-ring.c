/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: both ends of a ring against a peer that writes what the
 * fuzzer says into the shared control page and data area, through a
 * mapping of its own, between the ends' calls: any field set to any
 * value or nudged from what it is, record lengths, holes punched in the
 * memfd, a header scribbled before the other end attaches, and real
 * messages sent and received in between so that the rings' own states
 * are reached too.
 *
 * What must hold whatever the peer writes: a message peeked lies inside
 * the consumer's data area (both mirrored halves, found in
 * /proc/self/maps), a reservation inside the producer's, and no longer
 * than asked; recv never returns more than the buffer; -EPROTO, once
 * answered, is the answer of that end for good; nothing crashes, and
 * every descriptor and mapping is gone once the ends are freed
 * (LeakSanitizer sees neither, so they are counted).
 *
 * Input: a mode byte (bit 0: the producer creates the ring; bit 1: the
 * header is scribbled before the other end attaches), a capacity byte,
 * then operations of an opcode byte and its operands.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmemfd.h"
#include "open-fds.h"

#define MAX_OPS 96

struct input {
	const uint8_t *p, *end;
};

static int take(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint64_t take64(struct input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)take(in) << (8 * i);
	return v;
}

/*
 * What a ring could leave behind: a mapping of its memfd (inode ino)
 * anywhere, or anything inaccessible where an end's reservation was (its
 * guard pages, the rest of it). The sanitizers' allocators map and unmap
 * memory of their own whenever they like, so a count of every mapping
 * would not do.
 */
struct window {
	uintptr_t lo, hi;
};

static int left_behind(unsigned long long ino, const struct window *was, int n)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int found = 0;

	if (!f)
		abort();
	while (fgets(line, sizeof(line), f)) {
		unsigned long long inode;
		uintptr_t lo, hi;
		char perms[5];

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %*x %*s %llu", &lo, &hi, perms,
			   &inode) != 4)
			continue;
		if (inode == ino)
			found++;
		for (int i = 0; i < n; i++)
			if (was[i].lo && lo < was[i].hi && hi > was[i].lo &&
			    strcmp(perms, "---p") == 0)
				found++;
	}
	fclose(f);
	return found;
}

/*
 * Where an end's data area is: its mapping of the ring's memfd is the
 * control page and the two halves of the data area, contiguous; the
 * consumer's halves are read-only, the producer's writable. The peer's
 * own mapping (at peer) is left out.
 */

static void find_windows(ino_t ino, const void *peer, size_t page, size_t capacity,
			 struct window *producer, struct window *consumer)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	if (!f)
		abort();
	memset(producer, 0, sizeof(*producer));
	memset(consumer, 0, sizeof(*consumer));
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		unsigned long long offset, inode;
		char perms[5];
		struct window *w;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %llx %*s %llu", &lo, &hi, perms,
			   &offset, &inode) != 5 || inode != (unsigned long long)ino ||
		    lo == (uintptr_t)peer)
			continue;
		/* The control page, alone or merged by the kernel with the
		 * first half of the data behind it (the same file, on). */
		if (offset < page) {
			if (hi - lo <= page - offset)
				continue;
			lo += page - offset;
		}
		w = perms[1] == 'w' ? producer : consumer;
		if (!w->lo || lo < w->lo)
			w->lo = lo;
		if (hi > w->hi)
			w->hi = hi;
	}
	fclose(f);
	if ((producer->lo && producer->hi - producer->lo != 2 * capacity) ||
	    (consumer->lo && consumer->hi - consumer->lo != 2 * capacity))
		abort();
}

static int inside(const struct window *w, const void *addr, size_t length)
{
	uintptr_t a = (uintptr_t)addr;

	return a >= w->lo && a <= w->hi && length <= w->hi - a;
}

/* An end answers -EPROTO for good once it has. */
struct end {
	struct mfd_ring *r;
	int broken;
};

static void answered(struct end *e, long r)
{
	if (e->broken && r != -EPROTO)
		abort();
	if (r == -EPROTO)
		e->broken = 1;
}

/* Offsets of the control page's fields (lib/ring.c pins them). */
static const uint16_t fields[] = {
	0, 8, 12, 16, 24, 28, 32, 36, /* header and the gone flags */
	40, 44,                       /* the words that say who calls membarrier */
	128, 256,                     /* head, tail */
	384, 512,                     /* the two futex words */
	640, 768,                     /* the two CPUs */
};
static const uint16_t wake_fields[] = { 32, 36, 40, 44, 384, 512 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	int mode = take(&in);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t capacity = page << (take(&in) % 3);
	unsigned int creator = mode & 1 ? LIBMEMFD_RING_PRODUCER : LIBMEMFD_RING_CONSUMER;
	int fds = open_fds();
	struct end producer = { 0 }, consumer = { 0 };
	struct end *made = mode & 1 ? &producer : &consumer;
	struct end *taken = mode & 1 ? &consumer : &producer;
	struct window pw, cw;
	static uint8_t buf[1 << 16];
	struct mfd *m;
	uint8_t *peer;
	struct stat st;
	int fd;

	if (mfd_ring_new(&made->r, "fuzz", capacity, creator) < 0)
		abort();
	fd = mfd_fd(mfd_ring_mfd(made->r));
	if (fstat(fd, &st) < 0)
		abort();
	peer = mmap(NULL, page + capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (peer == MAP_FAILED)
		abort();
	if (mode & 2) {
		/* Before the attach: header fields set, or a bit of them flipped. */
		for (int n = take(&in) % 4; n > 0; n--) {
			uint16_t at = fields[take(&in) % 10];

			if (take(&in) & 1)
				__atomic_store_n((uint32_t *)(peer + at), (uint32_t)take64(&in),
						 __ATOMIC_RELAXED);
			else
				peer[at] ^= (uint8_t)(1u << (take(&in) % 8));
		}
	}
	if (mfd_from_fd(&m, fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		abort();
	if (mfd_ring_attach(&taken->r, m) < 0) {
		if (!(mode & 2))
			abort(); /* an untouched ring must attach */
		mfd_free(m);
		taken->r = NULL;
	} else if (mode & 2 && (mfd_ring_recv(taken->r, buf, 0) == -EINVAL) !=
				       (taken == &producer)) {
		/* The attacher takes the end the header says the creator did
		 * not: a scribbled header can give it the creator's own kind
		 * (a consumer answers recv, a producer -EINVAL). Let it go. */
		mfd_ring_free(taken->r);
		taken->r = NULL;
	}
	find_windows(st.st_ino, peer, page, capacity, &pw, &cw);

	for (int op = 0; op < MAX_OPS && in.p < in.end; op++) {
		int code = take(&in);
		long r;

		switch (code % 11) {
		case 0: { /* a field set to any value */
			uint16_t at = fields[take(&in) % (sizeof(fields) / sizeof(fields[0]))];
			uint64_t v = take64(&in);

			if (at % 8 == 0)
				__atomic_store_n((uint64_t *)(peer + at), v, __ATOMIC_RELAXED);
			else
				__atomic_store_n((uint32_t *)(peer + at), (uint32_t)v, __ATOMIC_RELAXED);
			break;
		}
		case 1: { /* head or tail nudged, so that the checks are near */
			uint64_t *count = (uint64_t *)(peer + (take(&in) & 1 ? 256 : 128));
			int8_t delta = (int8_t)take(&in);

			__atomic_fetch_add(count, (uint64_t)(int64_t)delta * (take(&in) & 1 ? 1 : 8),
					   __ATOMIC_RELAXED);
			break;
		}
		case 2: { /* a record length, or any eight bytes, in the data area */
			size_t at = ((size_t)take(&in) << 8 | (size_t)take(&in)) * 8 % capacity;
			uint64_t v = take(&in) & 1 ? take64(&in) : (uint64_t)take(&in) * 8;

			__atomic_store_n((uint64_t *)(peer + page + at), v, __ATOMIC_RELAXED);
			break;
		}
		case 3: /* a page of the memfd punched away: it reads zeros */
			(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)(take(&in) % (1 + capacity / page) * page), (off_t)page);
			break;
		case 4: /* a real message */
			if (producer.r) {
				size_t length = ((size_t)take(&in) << 4) % capacity;

				r = mfd_ring_send(producer.r, buf, length);
				answered(&producer, r);
			}
			break;
		case 5: /* reserved in place, written, committed (or not) */
			if (producer.r) {
				size_t length = ((size_t)take(&in) << 2) % (capacity + 16);
				void *addr = buf;

				r = mfd_ring_reserve(producer.r, length, &addr);
				answered(&producer, r);
				if (r == 0) {
					if (!inside(&pw, addr, length))
						abort();
					if (length)
						memset(addr, 0x5a, length);
					if (take(&in) & 1) {
						r = mfd_ring_commit(producer.r);
						answered(&producer, r);
					}
				} else if (addr != buf) {
					abort();
				}
			}
			break;
		case 6: /* peeked in place, read, released (or not) */
			if (consumer.r) {
				const void *addr = buf;

				r = mfd_ring_peek(consumer.r, &addr);
				answered(&consumer, r);
				if (r >= 0) {
					if (!inside(&cw, addr, (size_t)r))
						abort();
					if (r > 0 && (((const volatile uint8_t *)addr)[0] |
						      ((const volatile uint8_t *)addr)[r - 1]) == 0x100)
						abort(); /* read both ends; never true */
					if (take(&in) & 1) {
						r = mfd_ring_release(consumer.r);
						answered(&consumer, r);
					}
				} else if (addr != buf) {
					abort();
				}
			}
			break;
		case 7: /* copied out */
			if (consumer.r) {
				size_t room = ((size_t)take(&in) << 6) % sizeof(buf);

				r = mfd_ring_recv(consumer.r, buf, room);
				answered(&consumer, r);
				if (r > (long)room)
					abort();
			}
			break;
		case 8: { /* a wait that only checks */
			struct end *e = take(&in) & 1 ? &producer : &consumer;

			if (e->r) {
				r = mfd_ring_wait(e->r, (size_t)take(&in) << 4, 0);
				answered(e, r);
				if (r != 0 && r != -ETIMEDOUT && r != -EPIPE && r != -EPROTO &&
				    r != -EMSGSIZE)
					abort();
			}
			break;
		}
		case 9: /* a flag or a futex word set, as if the end had gone, slept or
			 * promised membarrier */
			__atomic_store_n((uint32_t *)(peer + wake_fields[take(&in) % 6]), 1u,
					 __ATOMIC_RELAXED);
			break;
		case 10: /* the producer goes */
			mfd_ring_free(producer.r);
			producer.r = NULL;
			break;
		}
	}

	munmap(peer, page + capacity);
	mfd_ring_free(producer.r);
	mfd_ring_free(consumer.r);
	if (open_fds() != fds)
		abort();
	/* Each end's reservation: a guard page, the control page, the data
	 * area's two halves, a guard page. */
	for (int i = 0; i < 2; i++) {
		struct window *w = i ? &cw : &pw;

		if (w->lo) {
			w->lo -= 2 * page;
			w->hi += page;
		}
	}
	if (left_behind((unsigned long long)st.st_ino, (struct window[]){ pw, cw }, 2))
		abort();
	return 0;
}
