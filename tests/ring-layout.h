/* SPDX-License-Identifier: MIT */
/*
 * The shared layout of a ring as a peer sees it in the memfd: the tests
 * write garbage into it through mappings of their own, and check that
 * lib/ring.c keeps to it (its static asserts say the same). Offsets in
 * bytes from the start of the file; the data area starts at the page
 * size, and each record there is an 8-byte length, the bytes, and padding
 * to a multiple of 8.
 */
#ifndef LIBMEMFD_RING_LAYOUT_H
#define LIBMEMFD_RING_LAYOUT_H

#include <stdint.h>
#include <string.h>

#define RING_MAGIC_VALUE 0x676e6972646d666cull
#define RING_LAYOUT_VERSION 1u

#define CTL_MAGIC 0           /* uint64_t */
#define CTL_LAYOUT 8          /* uint32_t */
#define CTL_CONTROL_SIZE 12   /* uint32_t, the page size */
#define CTL_CAPACITY 16       /* uint64_t */
#define CTL_CREATOR 24        /* uint32_t, LIBMEMFD_RING_PRODUCER or _CONSUMER */
#define CTL_ATTACHED 28       /* uint32_t */
#define CTL_PRODUCER_GONE 32  /* uint32_t */
#define CTL_CONSUMER_GONE 36  /* uint32_t */
#define CTL_PRODUCER_FENCES 40 /* uint32_t, 1: it calls membarrier before it sleeps */
#define CTL_CONSUMER_FENCES 44 /* uint32_t */
#define CTL_HEAD 128          /* uint64_t, the producer's count */
#define CTL_TAIL 256          /* uint64_t, the consumer's count */
#define CTL_CONSUMER_SLEEPS 384 /* uint32_t futex word */
#define CTL_PRODUCER_SLEEPS 512 /* uint32_t futex word */
#define CTL_PRODUCER_CPU 640  /* uint32_t, the CPU it last waited on + 1 */
#define CTL_CONSUMER_CPU 768

#define RECORD_HEADER 8u
#define RECORD_SIZE(length) ((RECORD_HEADER + (uint64_t)(length) + 7) & ~(uint64_t)7)
/* Where mfd_ring_new starts both counts. */
#define RING_INITIAL_COUNT ((uint64_t)0 - ((uint64_t)1 << 20))

/* Stores and loads through a peer's own mapping, which the compiler must
 * neither merge nor reorder across the library's calls. */
static inline void poke64(void *ctl, size_t offset, uint64_t value)
{
	__atomic_store_n((uint64_t *)((char *)ctl + offset), value, __ATOMIC_SEQ_CST);
}

static inline void poke32(void *ctl, size_t offset, uint32_t value)
{
	__atomic_store_n((uint32_t *)((char *)ctl + offset), value, __ATOMIC_SEQ_CST);
}

static inline uint64_t peek64(const void *ctl, size_t offset)
{
	return __atomic_load_n((const uint64_t *)((const char *)ctl + offset), __ATOMIC_SEQ_CST);
}

static inline uint32_t peek32(const void *ctl, size_t offset)
{
	return __atomic_load_n((const uint32_t *)((const char *)ctl + offset), __ATOMIC_SEQ_CST);
}

#endif
