/* SPDX-License-Identifier: MIT */
/*
 * rings: a stream of messages from one process to another through one
 * memfd, a control page followed by a data area mapped twice (mirror.c),
 * so that every message is one contiguous range whatever its position.
 *
 * The mapping of an end: [guard][control][data][data again][guard], the
 * guards inaccessible (the reservation itself), so that an access past
 * either end faults instead of reading a neighbour; AddressSanitizer does
 * not check memory from mmap.
 *
 * A message is a record in the data area: an 8-byte length, the bytes,
 * padding to a multiple of 8. The producer counts the bytes of records it
 * has published (head), the consumer those it has freed (tail); both are
 * 64-bit counts that never wrap in practice, and position = count mod
 * capacity. Each end keeps its own count in its private struct and only
 * writes it to shared memory: it never reads it back, so a peer that
 * overwrites it (or punches a hole in the control page, which reads as
 * zeros) changes nothing but what the peer itself believes.
 *
 * Hostile peers. The other end's count and every record length are read
 * once (an atomic load into a local) and checked before use:
 *  - the consumer's tail, read by the producer, lies between the last tail
 *    seen and the producer's head, and is a multiple of RECORD_ALIGN;
 *  - the producer's head, read by the consumer, lies between the last head
 *    seen and the consumer's tail plus the capacity, and is a multiple of
 *    RECORD_ALIGN;
 *  - a record's length leaves the record within what was published.
 * Every record starts at a multiple of RECORD_ALIGN, but a count that
 * falls inside a record is not told from one at its start: it makes the
 * end read (or overwrite) garbage, still within the ring.
 * The producer then never writes past the room between head and tail + capacity,
 * and the consumer never reads past the records between tail and head: at
 * most capacity bytes from a position below capacity, inside the mirror.
 * A failed check makes this end answer -EPROTO for good (the flag is in
 * the private struct, where the peer cannot clear it). What the header
 * says at attach time is checked the same way; after that, nothing of it
 * is read again.
 *
 * Memory ordering (C11 terms; the __atomic builtins are C11's atomics):
 *  - Data: the producer writes a record's bytes and its length (a relaxed
 *    atomic store), then stores head; the consumer loads head, then the
 *    length (relaxed) and the bytes. The store of head is (at least)
 *    release and the load acquire, so the record happens-before the
 *    consumer's reads of it.
 *  - Room: the consumer reads a record, then stores tail; the producer
 *    loads tail, then overwrites the freed room. Store release, load
 *    acquire: the consumer's reads happen-before the producer's
 *    overwriting, so a message never changes under a consumer that
 *    follows the rules.
 *  - Sleeping is the store-buffering pattern, on both sides:
 *        sleeper:  sleeps = 1;   load the other's count (or gone flag)
 *        waker:    store count;  load sleeps, wake if 1
 *    Release and acquire allow both loads to miss both stores, and the
 *    sleeper then sleeps on a count that has already changed: a lost
 *    wake-up. So all four are seq_cst: the store of a count is a seq_cst
 *    exchange (an RMW), the stores and loads of sleeps and of the gone
 *    flags are seq_cst, and so are the loads of the other's count (on
 *    x86-64 and arm64 a seq_cst load costs what an acquire load does). In
 *    the single total order S of seq_cst operations one of the stores
 *    comes first and the other side's later load sees it: either the
 *    sleeper sees the new count and does not sleep, or the waker sees
 *    sleeps == 1. The waker then exchanges sleeps to 0 and calls
 *    FUTEX_WAKE; the sleeper's FUTEX_WAIT(sleeps, 1) is either queued
 *    before (and woken) or finds 0 and returns at once: the kernel checks
 *    the value and queues under one lock. (No fences: ThreadSanitizer
 *    does not model atomic_thread_fence, and seq_cst RMWs say the same.)
 *  - That exchange costs most of a small message: it waits for the cache
 *    line the other end is reading (bench/README.md). So where the kernel
 *    has membarrier(2), the barrier is asymmetric, as the kernel's
 *    GLOBAL_EXPEDITED command was made for: the sleeper, which makes
 *    system calls anyway, calls membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)
 *    between its store of sleeps and its load of the count, and the waker
 *    stores its count (release) and loads sleeps with nothing but a
 *    compiler barrier between. membarrier makes every CPU that runs a
 *    thread of a registered process execute a full barrier while it
 *    runs (and a context switch is one): if the waker's load of sleeps
 *    comes after that barrier it sees sleeps == 1, and if it came before,
 *    its store of the count came before it too, and the sleeper's load
 *    after membarrier returns sees the count. Each end may rely on it
 *    only when the other can do its part: an end whose process is
 *    registered (MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, once per
 *    process; fork keeps it) says so in the control page, its *_fences
 *    word, before it publishes anything; a waker publishes with a plain
 *    release store only when its own process is registered (so the
 *    sleeper's membarrier reaches it) and the sleeper's word says the
 *    sleeper will call membarrier. Any other case is the seq_cst exchange.
 *    A peer that lies in its word only loses its own wake-ups. A sleeper
 *    whose membarrier fails after it said it would call it (a sandbox
 *    installed later) withdraws its word and from then on never sleeps
 *    longer than RING_UNFENCED_SLICE_NS at a time, since a waker may not
 *    have seen the withdrawal yet.
 *  - The futex is shared (no FUTEX_PRIVATE_FLAG): the kernel keys it by
 *    the file and offset, so it works across processes and across the
 *    mappings of one process; a private futex would never wake another
 *    process.
 *  - mfd_ring_free stores its gone flag (seq_cst) and then looks whether
 *    the other end sleeps, the same pattern. The consumer, finding no
 *    message it knows of, loads the gone flag before head: the producer
 *    published its last head before it set the flag, so a flag seen set
 *    means that head is seen too, and what was sent is read before -EPIPE.
 */
#include "libmemfd-private.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RING_ENDS (LIBMEMFD_RING_PRODUCER | LIBMEMFD_RING_CONSUMER)
#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#define RING_MAGIC 0x676e6972646d666cull /* "lfmdring" in a little-endian dump */
#define RING_LAYOUT 1u
/* Two of the most common cache lines: neighbouring-line prefetchers
 * fetch lines in pairs. */
#define RING_LINE 128
#define RECORD_HEADER 8u
#define RECORD_ALIGN 8u
/* The largest capacity whose mapping (2 * capacity and 3 pages) this
 * process can express: 2^62 on 64-bit systems, 2^30 on 32-bit ones. */
#define RING_CAPACITY_MAX (SIZE_MAX / 4 + 1)
/* The counts start this far below the wrap, as Linux's jiffies do, so
 * that every ring crosses it after its first MiB. */
#define RING_INITIAL_COUNT ((uint64_t)0 - ((uint64_t)1 << 20))
/*
 * How long mfd_ring_wait spins before it sleeps (see bench/README.md),
 * unless the other end last waited on the CPU this end runs on: then it
 * cannot run while this one spins, and spinning would only delay it.
 */
#ifndef RING_SPIN_NS
#define RING_SPIN_NS 20000
#endif
_Static_assert(RING_SPIN_NS < 1000000, "the spin ends before the shortest timeout");
/* How long a sleeper whose membarrier has failed sleeps at a time. */
#define RING_UNFENCED_SLICE_NS (1000000ll)

/* mfd_ring_wait without a limit still gives the kernel one, so that a
 * signal handler interrupts it whatever its SA_RESTART; then waits again. */
#define RING_FOREVER_NS (3600 * 1000000000ll)

/*
 * The control page. Every field has a fixed width and a fixed offset
 * (asserted below), so that 32-bit and 64-bit processes share it; each
 * end's fields are on a cache line of their own.
 */
struct ring_control {
	/* Written by the creator before anyone else sees the memfd, then
	 * read only at attach time; and the rare flags. */
	uint64_t magic;
	uint32_t layout;
	uint32_t control_size;  /* the page size: where the data area starts */
	uint64_t capacity;
	uint32_t creator;       /* LIBMEMFD_RING_PRODUCER or _CONSUMER */
	uint32_t attached;      /* set, once, by mfd_ring_attach */
	uint32_t producer_gone; /* set by mfd_ring_free */
	uint32_t consumer_gone;
	/* 1: that end calls membarrier before it sleeps, and may be relied
	 * on to (see the top of this file). Written at setup, or withdrawn. */
	uint32_t producer_fences;
	uint32_t consumer_fences;
	uint8_t pad0[RING_LINE - 48];
	/* The producer's: bytes of records published. */
	uint64_t head;
	uint8_t pad1[RING_LINE - 8];
	/* The consumer's: bytes of records freed. */
	uint64_t tail;
	uint8_t pad2[RING_LINE - 8];
	/* Futex words: 1 while that end sleeps (or is about to) in
	 * mfd_ring_wait. Written rarely, read after every publication. */
	uint32_t consumer_sleeps;
	uint8_t pad3[RING_LINE - 4];
	uint32_t producer_sleeps;
	uint8_t pad4[RING_LINE - 4];
	/* The CPU each end last waited on, plus one (0: not known yet): a
	 * hint for the other's spin, which garbage can only mislead. */
	uint32_t producer_cpu;
	uint8_t pad5[RING_LINE - 4];
	uint32_t consumer_cpu;
	uint8_t pad6[RING_LINE - 4];
};

_Static_assert(offsetof(struct ring_control, magic) == 0, "ring layout");
_Static_assert(offsetof(struct ring_control, layout) == 8, "ring layout");
_Static_assert(offsetof(struct ring_control, control_size) == 12, "ring layout");
_Static_assert(offsetof(struct ring_control, capacity) == 16, "ring layout");
_Static_assert(offsetof(struct ring_control, creator) == 24, "ring layout");
_Static_assert(offsetof(struct ring_control, attached) == 28, "ring layout");
_Static_assert(offsetof(struct ring_control, producer_gone) == 32, "ring layout");
_Static_assert(offsetof(struct ring_control, consumer_gone) == 36, "ring layout");
_Static_assert(offsetof(struct ring_control, producer_fences) == 40, "ring layout");
_Static_assert(offsetof(struct ring_control, consumer_fences) == 44, "ring layout");
_Static_assert(offsetof(struct ring_control, head) == 1 * RING_LINE, "ring layout");
_Static_assert(offsetof(struct ring_control, tail) == 2 * RING_LINE, "ring layout");
_Static_assert(offsetof(struct ring_control, consumer_sleeps) == 3 * RING_LINE, "ring layout");
_Static_assert(offsetof(struct ring_control, producer_sleeps) == 4 * RING_LINE, "ring layout");
_Static_assert(offsetof(struct ring_control, producer_cpu) == 5 * RING_LINE, "ring layout");
_Static_assert(offsetof(struct ring_control, consumer_cpu) == 6 * RING_LINE, "ring layout");
_Static_assert(sizeof(struct ring_control) == 7 * RING_LINE, "ring layout");
_Static_assert(sizeof(uint32_t) == sizeof(int), "futex words are ints");

struct mfd_ring {
	struct mfd *m;          /* NULL for the test hook's end */
	struct ring_control *ctl;
	unsigned char *data;    /* 2 * capacity bytes, the second half a mirror */
	/* The mapping, guards included ([guard][control]...: see the top),
	 * is this end's to unmap; false: another end's, or none yet. */
	bool owns_mapping;
	uint64_t capacity;
	unsigned int end;       /* LIBMEMFD_RING_PRODUCER or _CONSUMER */
	bool broken;            /* the peer broke the rules: -EPROTO for good */
	uint64_t mine;          /* this end's count (head or tail) */
	uint64_t theirs;        /* the other end's, as last read and checked */
	/* Producer: the record reserved (0: none) and its length. Consumer:
	 * the record at tail, its header read once (0: not read yet). */
	uint64_t record;
	uint64_t length;
	bool peeked;            /* consumer: peek has handed out the record */
	/* The other end's gone flag, once seen: a peer that clears it
	 * again changes nothing (the consumer still reads the records
	 * published before it saw the flag). */
	bool other_gone;
	uint32_t cpu;           /* what this end last wrote to its *_cpu */
	/* This end calls membarrier before it sleeps: its process is
	 * registered (membarrier_registered), until a call fails; then it
	 * said it would and cannot, and sleeps in slices. */
	bool fences;
};

static size_t page_size(void)
{
	return (size_t)mfd_page_size();
}

static uint64_t record_size(uint64_t length)
{
	return (RECORD_HEADER + length + RECORD_ALIGN - 1) & ~(uint64_t)(RECORD_ALIGN - 1);
}

static int broken(struct mfd_ring *r)
{
	r->broken = true;
	return -EPROTO;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* A shared futex; with a 64-bit time_t on a 32-bit system the kernel's
 * call for it is futex_time64. */
static long sys_futex(uint32_t *word, int op, uint32_t value, const struct timespec *ts)
{
#ifdef SYS_futex_time64
	if (sizeof(ts->tv_sec) > sizeof(long))
		return syscall(SYS_futex_time64, word, op, value, ts, NULL,
			       FUTEX_BITSET_MATCH_ANY);
#endif
	return syscall(SYS_futex, word, op, value, ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

static long sys_membarrier(int cmd)
{
#ifdef SYS_membarrier
	return syscall(SYS_membarrier, cmd, 0, 0);
#else
	(void)cmd;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Register this process for the sleepers' membarriers, once: true if it
 * is (a fork's child is too). Two threads may both ask the first time;
 * registering twice does no harm. Asked first by say_fences, so that
 * later calls are a load.
 */
static bool membarrier_registered(void)
{
	static int state; /* 0: not asked yet; 1: registered; -1: not to be had */
	int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);

	if (s == 0) {
		long cmds = sys_membarrier(MEMBARRIER_CMD_QUERY);
		long need = MEMBARRIER_CMD_GLOBAL_EXPEDITED |
			    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;

		s = cmds >= 0 && (cmds & need) == need &&
		    sys_membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0 ? 1 : -1;
		__atomic_store_n(&state, s, __ATOMIC_RELEASE);
	}
	return s > 0;
}

/* The word in the control page where an end says whether it calls
 * membarrier before it sleeps. */
static uint32_t *fences_word(const struct mfd_ring *r, unsigned int end)
{
	return end == LIBMEMFD_RING_PRODUCER ? &r->ctl->producer_fences : &r->ctl->consumer_fences;
}

/* Say it for this end: before it publishes anything, so that a waker
 * that reads 1 never relies on an end that does not. */
static void say_fences(struct mfd_ring *r)
{
	r->fences = membarrier_registered();
	__atomic_store_n(fences_word(r, r->end), r->fences ? 1u : 0u, __ATOMIC_SEQ_CST);
}

/* Wake the end that sleeps on word, if it does. Only a kernel without
 * futexes could fail the call, and on such a kernel nobody can sleep. */
static void wake_if_sleeping(uint32_t *word)
{
	if (__atomic_load_n(word, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(word, 0, __ATOMIC_SEQ_CST))
		sys_futex(word, FUTEX_WAKE, INT_MAX, NULL);
}

/*
 * Note in the control page the CPU this end runs on, when it has changed
 * (its line is read by the other end's waits): called as it publishes,
 * so that the other end knows where it was last, whichever end waits.
 * sched_getcpu makes no system call where the C library reads the CPU
 * from rseq (glibc 2.35 and later) or the vDSO (x86); with neither, it is
 * one a publication.
 */
static uint32_t note_cpu(struct mfd_ring *r)
{
	uint32_t *mine = r->end == LIBMEMFD_RING_PRODUCER ? &r->ctl->producer_cpu
							  : &r->ctl->consumer_cpu;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return 0;
	if (r->cpu != (uint32_t)cpu + 1) {
		r->cpu = (uint32_t)cpu + 1;
		__atomic_store_n(mine, r->cpu, __ATOMIC_RELAXED);
	}
	return r->cpu;
}

/* Whether the other end was last seen on the CPU this one runs on. */
static bool shares_cpu(struct mfd_ring *r)
{
	uint32_t *theirs = r->end == LIBMEMFD_RING_PRODUCER ? &r->ctl->consumer_cpu
							    : &r->ctl->producer_cpu;
	uint32_t cpu = note_cpu(r);

	return cpu != 0 && __atomic_load_n(theirs, __ATOMIC_RELAXED) == cpu;
}

/*
 * Store this end's count for the other to see, and wake it if it sleeps:
 * with a release store where the other end's membarrier orders it before
 * the load of sleeps, else with a seq_cst exchange (see the top).
 */
static void publish(struct mfd_ring *r, uint64_t *count, uint64_t value)
{
	bool producer = r->end == LIBMEMFD_RING_PRODUCER;
	unsigned int other = producer ? LIBMEMFD_RING_CONSUMER : LIBMEMFD_RING_PRODUCER;

	if (membarrier_registered() && __atomic_load_n(fences_word(r, other), __ATOMIC_RELAXED) == 1) {
		__atomic_store_n(count, value, __ATOMIC_RELEASE);
		/* The compiler keeps the load of sleeps after the store; the
		 * sleeper's membarrier does what a fence would on the CPU. */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} else {
		(void)__atomic_exchange_n(count, value, __ATOMIC_SEQ_CST);
	}
	wake_if_sleeping(producer ? &r->ctl->consumer_sleeps : &r->ctl->producer_sleeps);
}

/* Producer: the consumer's tail, read once and checked. */
static int load_tail(struct mfd_ring *r)
{
	uint64_t tail = __atomic_load_n(&r->ctl->tail, __ATOMIC_SEQ_CST);

	if (tail % RECORD_ALIGN != 0 || tail - r->theirs > r->mine - r->theirs)
		return broken(r);
	r->theirs = tail;
	return 0;
}

/* Consumer: the producer's head, read once and checked. */
static int load_head(struct mfd_ring *r)
{
	uint64_t head = __atomic_load_n(&r->ctl->head, __ATOMIC_SEQ_CST);

	if (head % RECORD_ALIGN != 0 || head - r->theirs > r->mine + r->capacity - r->theirs)
		return broken(r);
	r->theirs = head;
	return 0;
}

/* Producer: 0 if a record of this size fits now, -EAGAIN if not yet. */
static int room(struct mfd_ring *r, uint64_t record)
{
	int err;

	if (r->other_gone || __atomic_load_n(&r->ctl->consumer_gone, __ATOMIC_SEQ_CST)) {
		r->other_gone = true;
		return -EPIPE;
	}
	if (r->capacity - (r->mine - r->theirs) >= record)
		return 0;
	err = load_tail(r);
	if (err < 0)
		return err;
	return r->capacity - (r->mine - r->theirs) >= record ? 0 : -EAGAIN;
}

/* Consumer: 0 with r->record and r->length set if a message is there. */
static int front(struct mfd_ring *r)
{
	uint64_t avail, length;
	int err;

	if (r->record)
		return 0;
	if (r->mine == r->theirs) {
		/* The gone flag first: what the producer published before it
		 * went is then still seen, and read before -EPIPE. The head
		 * read after the flag was seen is the last one. */
		bool gone;

		if (r->other_gone)
			return -EPIPE;
		gone = __atomic_load_n(&r->ctl->producer_gone, __ATOMIC_SEQ_CST);
		err = load_head(r);
		if (err < 0)
			return err;
		r->other_gone = gone;
		if (r->mine == r->theirs)
			return gone ? -EPIPE : -EAGAIN;
	}
	avail = r->theirs - r->mine;
	length = __atomic_load_n((const uint64_t *)(r->data + (r->mine & (r->capacity - 1))),
				 __ATOMIC_RELAXED);
	if (length > avail - RECORD_HEADER)
		return broken(r);
	r->record = record_size(length);
	r->length = length;
	return 0;
}

/* 0 once this end can go on, -EAGAIN while it cannot. */
static int ready(struct mfd_ring *r, uint64_t record)
{
	return r->end == LIBMEMFD_RING_PRODUCER ? room(r, record) : front(r);
}

/* Reserve the address space with its guards and map the control page. */
static int map_control(struct mfd_ring *r, const struct mfd *m, uint64_t capacity)
{
	size_t page = page_size();
	size_t size = 3 * page + 2 * (size_t)capacity;
	void *base;
	int err;

	err = mfd_reserve_range(size, page, &base);
	if (err < 0)
		return err;
	if (mmap((char *)base + page, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 m->fd, 0) == MAP_FAILED) {
		err = -errno;
		munmap(base, size);
		return err;
	}
	r->owns_mapping = true;
	r->ctl = (struct ring_control *)((char *)base + page);
	r->data = (unsigned char *)base + 2 * page;
	r->capacity = capacity;
	return 0;
}

/* The data area, mirrored; the consumer's read-only. */
static int map_data(struct mfd_ring *r, const struct mfd *m)
{
	int prot = r->end == LIBMEMFD_RING_PRODUCER ? PROT_READ | PROT_WRITE : PROT_READ;

	return mfd_fill_mirror(m, r->data, page_size(), (size_t)r->capacity, prot);
}

static void unmap(struct mfd_ring *r)
{
	size_t page = page_size();

	if (r->owns_mapping)
		munmap((char *)r->ctl - page, 3 * page + 2 * (size_t)r->capacity);
}

LIBMEMFD_EXPORT int mfd_ring_new(struct mfd_ring **out, const char *name, size_t capacity,
				 unsigned int flags)
{
	size_t page = page_size();
	struct ring_control *c;
	struct mfd_ring *r;
	struct mfd *m;
	int err;

	if (!out || (flags != LIBMEMFD_RING_PRODUCER && flags != LIBMEMFD_RING_CONSUMER))
		return -EINVAL;
	if (capacity < page || (capacity & (capacity - 1)) || capacity > RING_CAPACITY_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = mfd_new(&m, name, 0);
	if (err < 0) {
		free(r);
		return err;
	}
	/* Allocated, so that a fault of two ends that play by the rules
	 * cannot fail later (a peer can still punch holes: the pages are
	 * then allocated again, to whoever touches them first); sealed, so
	 * that neither end can shrink it under the other. */
	err = mfd_allocate(m, 0, page + (uint64_t)capacity);
	if (err == 0)
		err = mfd_add_seals(m, RING_SEALS);
	if (err == 0)
		err = map_control(r, m, capacity);
	if (err == 0) {
		r->end = flags;
		err = map_data(r, m);
		if (err < 0)
			unmap(r);
	}
	if (err < 0) {
		mfd_free(m);
		free(r);
		return err;
	}

	/* Nobody else can see the memfd yet: plain stores. */
	c = r->ctl;
	c->magic = RING_MAGIC;
	c->layout = RING_LAYOUT;
	c->control_size = (uint32_t)page;
	c->capacity = capacity;
	c->creator = flags;
	c->head = c->tail = RING_INITIAL_COUNT;
	say_fences(r);
	r->m = m;
	r->mine = r->theirs = RING_INITIAL_COUNT;
	*out = r;
	return 0;
}

/*
 * Read the header that the creator wrote (once: a local copy of each
 * field), check that it describes the ring mapped at r, and take the end
 * the creator left. The end is taken last, when nothing can fail any more.
 */
static int take_other_end(struct mfd_ring *r)
{
	struct ring_control *c = r->ctl;
	uint64_t magic = __atomic_load_n(&c->magic, __ATOMIC_RELAXED);
	uint32_t layout = __atomic_load_n(&c->layout, __ATOMIC_RELAXED);
	uint32_t control_size = __atomic_load_n(&c->control_size, __ATOMIC_RELAXED);
	uint64_t capacity = __atomic_load_n(&c->capacity, __ATOMIC_RELAXED);
	uint32_t creator = __atomic_load_n(&c->creator, __ATOMIC_RELAXED);
	uint64_t head = __atomic_load_n(&c->head, __ATOMIC_SEQ_CST);
	uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_SEQ_CST);

	if (magic != RING_MAGIC || layout != RING_LAYOUT || control_size != page_size() ||
	    capacity != r->capacity)
		return -EINVAL;
	if (creator != LIBMEMFD_RING_PRODUCER && creator != LIBMEMFD_RING_CONSUMER)
		return -EINVAL;
	if (head % RECORD_ALIGN != 0 || tail % RECORD_ALIGN != 0 || head - tail > capacity)
		return -EINVAL;
	r->end = RING_ENDS & ~creator;
	r->mine = r->end == LIBMEMFD_RING_PRODUCER ? head : tail;
	r->theirs = r->end == LIBMEMFD_RING_PRODUCER ? tail : head;
	return 0;
}

static int claim(struct mfd_ring *r)
{
	return __atomic_exchange_n(&r->ctl->attached, 1, __ATOMIC_SEQ_CST) ? -EBUSY : 0;
}

/* The capacity of a ring held in a file of this size, or a negative errno. */
static int64_t capacity_of(uint64_t size)
{
	uint64_t page = page_size(), capacity = size - page;

	if (size <= page || capacity < page || (capacity & (capacity - 1)))
		return -EINVAL;
	/* A ring too large for this process's address space. */
	if (capacity > RING_CAPACITY_MAX)
		return -ENOMEM;
	return (int64_t)capacity;
}

LIBMEMFD_EXPORT int mfd_ring_attach(struct mfd_ring **out, struct mfd *m)
{
	struct mfd_ring *r;
	struct stat st;
	int64_t capacity;
	int seals, err;

	if (!out || !m || !m->memfd || m->map_align != page_size())
		return -EINVAL;
	/* The seals first, then the size they fix. */
	seals = fcntl(m->fd, F_GET_SEALS);
	if (seals < 0)
		return -errno;
	if ((seals & RING_SEALS) != RING_SEALS || (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		return -EINVAL;
	if (fstat(m->fd, &st) < 0)
		return -errno;
	capacity = capacity_of((uint64_t)st.st_size);
	if (capacity < 0)
		return (int)capacity;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = map_control(r, m, (uint64_t)capacity);
	if (err == 0) {
		err = take_other_end(r);
		if (err == 0)
			err = map_data(r, m);
		if (err == 0)
			err = claim(r);
		/* Only the end's taker may say what it will do. */
		if (err == 0)
			say_fences(r);
		if (err < 0)
			unmap(r);
	}
	if (err < 0) {
		free(r);
		return err;
	}
	r->m = m;
	*out = r;
	return 0;
}

#ifdef LIBMEMFD_RING_TEST_HOOKS
int mfd_ring_attach_same_mapping(struct mfd_ring **out, struct mfd_ring *creator)
{
	struct mfd_ring *r;
	int err;

	if (!out || !creator)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ctl = creator->ctl;
	r->data = creator->data;
	r->capacity = creator->capacity;
	err = take_other_end(r);
	/* A consumer's data area is read-only, and the producer writes it. */
	if (err == 0 && r->end == LIBMEMFD_RING_PRODUCER &&
	    mprotect(r->data, 2 * (size_t)r->capacity, PROT_READ | PROT_WRITE) < 0)
		err = -errno;
	if (err == 0)
		err = claim(r);
	if (err < 0) {
		free(r);
		return err;
	}
	say_fences(r);
	*out = r;
	return 0;
}
#endif

LIBMEMFD_EXPORT const struct mfd *mfd_ring_mfd(const struct mfd_ring *r)
{
	return r ? r->m : NULL;
}

LIBMEMFD_EXPORT size_t mfd_ring_capacity(const struct mfd_ring *r)
{
	return r ? (size_t)r->capacity : 0;
}

LIBMEMFD_EXPORT void mfd_ring_free(struct mfd_ring *r)
{
	struct ring_control *c;

	if (!r)
		return;
	c = r->ctl;
	if (r->end == LIBMEMFD_RING_PRODUCER) {
		__atomic_store_n(&c->producer_gone, 1, __ATOMIC_SEQ_CST);
		wake_if_sleeping(&c->consumer_sleeps);
	} else {
		__atomic_store_n(&c->consumer_gone, 1, __ATOMIC_SEQ_CST);
		wake_if_sleeping(&c->producer_sleeps);
	}
	unmap(r);
	mfd_free(r->m);
	free(r);
}

/* The checks that every call of one end starts with. */
static int check_end(const struct mfd_ring *r, unsigned int end)
{
	if (!r || r->end != end)
		return -EINVAL;
	return r->broken ? -EPROTO : 0;
}

LIBMEMFD_EXPORT int mfd_ring_reserve(struct mfd_ring *r, size_t length, void **addr)
{
	uint64_t record;
	int err = check_end(r, LIBMEMFD_RING_PRODUCER);

	if (err < 0 || !addr)
		return err < 0 ? err : -EINVAL;
	if (length > r->capacity - RECORD_HEADER)
		return -EMSGSIZE;
	record = record_size(length);
	err = room(r, record);
	if (err < 0)
		return err;
	r->record = record;
	r->length = length;
	*addr = r->data + (r->mine & (r->capacity - 1)) + RECORD_HEADER;
	return 0;
}

LIBMEMFD_EXPORT int mfd_ring_commit(struct mfd_ring *r)
{
	int err = check_end(r, LIBMEMFD_RING_PRODUCER);

	if (err < 0)
		return err;
	if (!r->record)
		return -EINVAL;
	__atomic_store_n((uint64_t *)(r->data + (r->mine & (r->capacity - 1))), r->length,
			 __ATOMIC_RELAXED);
	r->mine += r->record;
	r->record = 0;
	note_cpu(r);
	publish(r, &r->ctl->head, r->mine);
	return 0;
}

LIBMEMFD_EXPORT int mfd_ring_send(struct mfd_ring *r, const void *data, size_t length)
{
	void *p;
	int err;

	if (!data && length > 0)
		return -EINVAL;
	err = mfd_ring_reserve(r, length, &p);
	if (err < 0)
		return err;
	if (length > 0)
		memcpy(p, data, length);
	return mfd_ring_commit(r);
}

LIBMEMFD_EXPORT ssize_t mfd_ring_peek(struct mfd_ring *r, const void **addr)
{
	int err = check_end(r, LIBMEMFD_RING_CONSUMER);

	if (err < 0 || !addr)
		return err < 0 ? err : -EINVAL;
	err = front(r);
	if (err < 0)
		return err;
	r->peeked = true;
	*addr = r->data + (r->mine & (r->capacity - 1)) + RECORD_HEADER;
	return (ssize_t)r->length;
}

/* Consumer: free the record at tail. */
static void advance(struct mfd_ring *r)
{
	r->mine += r->record;
	r->record = 0;
	r->peeked = false;
	note_cpu(r);
	publish(r, &r->ctl->tail, r->mine);
}

LIBMEMFD_EXPORT int mfd_ring_release(struct mfd_ring *r)
{
	int err = check_end(r, LIBMEMFD_RING_CONSUMER);

	if (err < 0)
		return err;
	if (!r->peeked)
		return -EINVAL;
	advance(r);
	return 0;
}

LIBMEMFD_EXPORT ssize_t mfd_ring_recv(struct mfd_ring *r, void *buf, size_t size)
{
	ssize_t length;
	int err = check_end(r, LIBMEMFD_RING_CONSUMER);

	if (err < 0 || (!buf && size > 0))
		return err < 0 ? err : -EINVAL;
	err = front(r);
	if (err < 0)
		return err;
	if (r->length > size)
		return -EMSGSIZE;
	length = (ssize_t)r->length;
	if (length > 0)
		memcpy(buf, r->data + (r->mine & (r->capacity - 1)) + RECORD_HEADER,
		       (size_t)length);
	advance(r);
	return length;
}

static struct timespec timespec_of(int64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / 1000000000ll);
	ts.tv_nsec = (long)(ns % 1000000000ll);
	return ts;
}

/*
 * This end's membarrier failed: it no longer says it calls it, and since
 * a waker may have read the word before, it sleeps in short slices.
 */
static void withdraw_fences(struct mfd_ring *r)
{
	r->fences = false;
	__atomic_store_n(fences_word(r, r->end), 0, __ATOMIC_SEQ_CST);
}

/*
 * Sleep on this end's futex word until ready() says go on, the deadline
 * passes (-ETIMEDOUT; deadline < 0: none) or a signal handler runs.
 */
static int sleep_until_ready(struct mfd_ring *r, uint64_t record, int64_t deadline)
{
	uint32_t *sleeps = r->end == LIBMEMFD_RING_PRODUCER ? &r->ctl->producer_sleeps
							      : &r->ctl->consumer_sleeps;
	int err;

	for (;;) {
		struct timespec until;
		int64_t now;

		/* Say so first, then look again (see the top of this file). */
		__atomic_store_n(sleeps, 1, __ATOMIC_SEQ_CST);
		if (r->fences && sys_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) < 0)
			withdraw_fences(r);
		err = ready(r, record);
		if (err != -EAGAIN)
			break;
		now = now_ns();
		if (deadline >= 0 && now >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		until = timespec_of(deadline >= 0 ? deadline : now + RING_FOREVER_NS);
		if (!r->fences && membarrier_registered() &&
		    (deadline < 0 || deadline - now > RING_UNFENCED_SLICE_NS))
			until = timespec_of(now + RING_UNFENCED_SLICE_NS);
		if (sys_futex(sleeps, FUTEX_WAIT_BITSET, 1, &until) < 0 && errno != EAGAIN &&
		    errno != ETIMEDOUT) {
			err = -errno;
			break;
		}
	}
	__atomic_store_n(sleeps, 0, __ATOMIC_SEQ_CST);
	return err;
}

LIBMEMFD_EXPORT int mfd_ring_wait(struct mfd_ring *r, size_t length, int timeout_ms)
{
	uint64_t record = 0;
	int64_t start, spin_until, deadline = -1;
	int err;

	if (!r)
		return -EINVAL;
	if (r->broken)
		return -EPROTO;
	if (r->end == LIBMEMFD_RING_PRODUCER) {
		if (length > r->capacity - RECORD_HEADER)
			return -EMSGSIZE;
		record = record_size(length);
	}
	err = ready(r, record);
	if (err != -EAGAIN)
		return err;
	if (timeout_ms == 0)
		return -ETIMEDOUT;

	start = now_ns();
	if (timeout_ms > 0)
		deadline = start + (int64_t)timeout_ms * 1000000;
	/* The other end is most often a few microseconds away: spin that
	 * long before paying for two system calls and two context switches,
	 * unless it cannot run meanwhile. */
	if (RING_SPIN_NS > 0 && !shares_cpu(r)) {
		/* Shorter than the shortest timeout (1 ms): no deadline to mind. */
		spin_until = start + RING_SPIN_NS;
		for (unsigned int i = 1;; i++) {
			cpu_relax();
			err = ready(r, record);
			if (err != -EAGAIN)
				return err;
			if (i % 32 == 0 && now_ns() >= spin_until)
				break;
		}
	}
	return sleep_until_ready(r, record, deadline);
}
