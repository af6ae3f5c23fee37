/* SPDX-License-Identifier: MIT */
/*
 * What the ring tests send and check: a random sequence that is the same
 * on every system (xorshift64*), and the bytes of message number seq,
 * eight at a time, so that streams of millions of messages checked byte
 * by byte stay quick. Header-only: tests/ring-peer.c and tests/ring-tsan.c
 * are programs of their own.
 */
#ifndef LIBMEMFD_RING_PATTERN_H
#define LIBMEMFD_RING_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

static inline uint64_t pattern_word(uint64_t seq, size_t i)
{
	return (seq + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)i * 0x0101010101010101ull;
}

static inline void fill(void *p, size_t n, uint64_t seq)
{
	uint8_t *b = p;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w = pattern_word(seq, i);

		memcpy(b + i, &w, 8);
	}
	for (; i < n; i++)
		b[i] = (uint8_t)(pattern_word(seq, i) >> 8);
}

static inline int filled(const void *p, size_t n, uint64_t seq)
{
	const uint8_t *b = p;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w = pattern_word(seq, i);

		if (memcmp(b + i, &w, 8) != 0)
			return 0;
	}
	for (; i < n; i++)
		if (b[i] != (uint8_t)(pattern_word(seq, i) >> 8))
			return 0;
	return 1;
}

#endif
