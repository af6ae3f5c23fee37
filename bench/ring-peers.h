/* SPDX-License-Identifier: MIT */
/*
 * The ring section's two processes and the channels between them
 * (ring-peers.c): ring_setup forks the receiver, ring_exchange makes the
 * sender's side of a round of one variant, and the receiver answers it.
 */
#ifndef MEMFD_BENCH_RING_PEERS_H
#define MEMFD_BENCH_RING_PEERS_H

#include <stdbool.h>
#include <stdint.h>

/* The batched variant's messages to a commit. */
#define BATCH 16
/* The ping-pong's message, and the least any buffer here holds. */
#define PING 64

enum ring_op {
	OP_QUIT,
	OP_RING, OP_RING_COPY, OP_RING_BATCH, OP_PIPE, OP_SOCKET, OP_HANDOFF, OP_HANDOFF_SAME,
	OP_PONG_RING, OP_PONG_POLL, OP_PONG_PIPE, OP_PONG_SOCKET,
};

/* Fork the receiver and pin both (the fixture of measure and
 * count_variants), and stop it. */
void *ring_setup(uint64_t size);
void ring_teardown(void *fixture);

/* Have the receiver take n of op while this side makes them; the
 * nanoseconds this side took, both sides' CPU time tallied as variant's. */
uint64_t ring_exchange(void *fixture, const char *variant, enum ring_op op, long n);

/* A message of the fixture's size fits the socket's buffer. */
bool ring_socket_fits(const void *fixture);

/* Both processes' CPU time over the wall time for variant at size, in
 * percent (200: both busy all the time); -1 if not measured. */
double ring_cpu_percent(const char *variant, uint64_t size);

/* The CPUs the sender and the receiver are pinned to; false if none. */
bool ring_pinned(int *sender, int *receiver);

#endif
