/* SPDX-License-Identifier: MIT */
/*
 * ring: messages from one process to another through a ring (mfd_ring_*),
 * against a pipe, an AF_UNIX sequenced-packet socket and the per-buffer
 * handoff (mfd_send of a sealed buffer; mfd_recv, map, read, unmap, free):
 *  - streamed: 64 B, 4 KiB and 1 MiB messages sent without waiting, one
 *    acknowledgment a round; the ring's written and read in place (the
 *    producer copies the message into the ring, the consumer reads its
 *    first and last byte there, as the handoff's receiver does), and also
 *    by copy (mfd_ring_send, mfd_ring_recv into a buffer), and at 64 B
 *    published 16 to a commit (one ring message holding 16); the handoff
 *    with a sealed buffer made for each message (mfd_new_sealed: its one
 *    copy), and with one buffer sent over and over (no copy at all, the
 *    handoff section's way: the floor of the mechanism);
 *  - ping-pong: a 64 B message there and its answer back, over two rings
 *    (each end waiting with mfd_ring_wait), two pipes or one socket; and
 *    over two rings polled without ever sleeping, the floor.
 * Besides time and system calls it measures the CPU time both processes
 * use, since a ring's wait spins before it sleeps.
 *
 * The two processes, and where they run: ring-peers.c.
 */
#include "config.h"

#include <stdio.h>

#include "harness.h"
#include "report.h"
#include "ring-peers.h"

#define VARIANT(fn, name, op)                                          \
	static uint64_t fn(void *fixture, uint64_t size, long n)       \
	{                                                              \
		return ring_exchange(fixture, name, op, n);            \
	}

VARIANT(streamed_ring, "ring", OP_RING)
VARIANT(streamed_ring_copy, "ring send/recv", OP_RING_COPY)
VARIANT(streamed_ring_batch, "ring (16 a commit)", OP_RING_BATCH)
VARIANT(streamed_pipe, "pipe", OP_PIPE)
VARIANT(streamed_socket, "seqpacket socket", OP_SOCKET)
VARIANT(streamed_handoff, "handoff", OP_HANDOFF)
VARIANT(streamed_handoff_same, "handoff (same buffer)", OP_HANDOFF_SAME)
VARIANT(pong_ring, "ring", OP_PONG_RING)
VARIANT(pong_poll, "ring (polled)", OP_PONG_POLL)
VARIANT(pong_pipe, "pipe", OP_PONG_PIPE)
VARIANT(pong_socket, "seqpacket socket", OP_PONG_SOCKET)

static const struct variant streamed_variants[] = {
	{ "ring", streamed_ring },
	{ "ring send/recv", streamed_ring_copy },
	{ "pipe", streamed_pipe },
	{ "seqpacket socket", streamed_socket },
	{ "handoff", streamed_handoff },
	{ "handoff (same buffer)", streamed_handoff_same },
	{ "ring (16 a commit)", streamed_ring_batch },
};
#define N_STREAMED (sizeof(streamed_variants) / sizeof(streamed_variants[0]))

static const struct variant pong_variants[] = {
	{ "ring", pong_ring },
	{ "pipe", pong_pipe },
	{ "seqpacket socket", pong_socket },
	{ "ring (polled)", pong_poll },
};
#define N_PONG (sizeof(pong_variants) / sizeof(pong_variants[0]))

static const uint64_t streamed_sizes[] = { 64, 4 * KiB, 1 * MiB };
#define N_SIZES (sizeof(streamed_sizes) / sizeof(streamed_sizes[0]))

/* Messages a round: about 20 ms of each variant here. */
static long full_streamed_ops(size_t variant, size_t size_index)
{
	static const long ops[N_SIZES][N_STREAMED] = {
		{ 200000, 200000, 20000, 20000, 1000, 2000, 400000 },
		{ 20000, 20000, 5000, 5000, 1000, 2000, 0 },
		{ 100, 100, 50, 50, 50, 1000, 0 },
	};

	return ops[size_index][variant];
}

static long streamed_ops(size_t variant, size_t size_index)
{
	long n = full_streamed_ops(variant, size_index);

	return opt.small && n > 10 * BATCH ? n / 10 / BATCH * BATCH : n;
}

static void bench_ring(void)
{
	int rounds = rounds_or(opt.small ? 3 : 11);
	long ops[N_STREAMED], count_ops[N_STREAMED];

	for (size_t s = 0; s < N_SIZES; s++) {
		/* The batch is for small messages only; the socket for what
		 * its buffer can hold. */
		void *b = ring_setup(streamed_sizes[s]);
		size_t n = streamed_sizes[s] == 64 ? N_STREAMED : N_STREAMED - 1;
		struct variant variants[N_STREAMED];
		struct result *res;
		size_t k = 0;

		for (size_t v = 0; v < n; v++) {
			if (!ring_socket_fits(b) && streamed_variants[v].run == streamed_socket)
				continue;
			variants[k] = streamed_variants[v];
			ops[k] = streamed_ops(v, s);
			/* Counted over as many messages in a quick run as in a
			 * full one: a round's start and end make a few calls,
			 * which a short count would spread over too few. */
			count_ops[k] = full_streamed_ops(v, s) / 10 / BATCH * BATCH;
			if (count_ops[k] < BATCH)
				count_ops[k] = full_streamed_ops(v, s);
			k++;
		}
		res = measure("ring", variants, k, b, streamed_sizes[s], ops, rounds, true);
		ring_teardown(b);
		count_variants(res, variants, k, ring_setup, ring_teardown, streamed_sizes[s],
			       count_ops);
	}
	{
		void *b = ring_setup(PING);
		struct result *res;

		for (size_t v = 0; v < N_PONG; v++) {
			ops[v] = opt.small ? 500 : 5000;
			count_ops[v] = 500;
		}
		/* Pipes and sockets wake the other process every time: fewer. */
		ops[1] = ops[2] = opt.small ? 200 : 2000;
		res = measure("ring-pingpong", pong_variants, N_PONG, b, PING, ops, rounds, true);
		ring_teardown(b);
		count_variants(res, pong_variants, N_PONG, ring_setup, ring_teardown, PING,
			       count_ops);
	}
}

static double cpu_percent(const struct result *r)
{
	return ring_cpu_percent(r->variant, r->size);
}

static void print_ring(void)
{
	const struct result *pipe64 = find_result("ring", "pipe", 64);
	bool rate = true, bytes = true, ahead = true, calls = true;
	char size[32], syscalls[16];
	int sender, receiver;

	if (!pipe64)
		return;
	printf("\nring: messages to another process, streamed, one acknowledgment a round"
	       " (%d rounds)\n", pipe64->rounds);
	if (ring_pinned(&sender, &receiver))
		printf("  (the sender on CPU %d, the receiver on CPU %d)\n", sender, receiver);
	printf("  %-7s %-20s %10s %12s %10s %8s %6s %9s\n", "size", "", "ns/msg", "msgs/s",
	       "MB/s", "vs pipe", "cpu %", "syscalls");
	for (size_t s = 0; s < N_SIZES; s++) {
		const struct result *pipe = find_result("ring", "pipe", streamed_sizes[s]);
		const struct result *ring = find_result("ring", "ring", streamed_sizes[s]);
		const struct result *handoff = find_result("ring", "handoff", streamed_sizes[s]);

		format_size(size, streamed_sizes[s]);
		for (size_t v = 0; v < N_STREAMED; v++) {
			const struct result *r = find_result("ring", streamed_variants[v].name,
							     streamed_sizes[s]);

			if (!r)
				continue;
			format_syscalls(syscalls, r);
			printf("  %-7s %-20s %10.1f %12.0f %10.1f %8.2f %6.0f %9s\n",
			       v == 0 ? size : "", r->variant, r->median_ns, 1e9 / r->median_ns,
			       (double)r->size * 1e3 / r->median_ns, pipe->median_ns / r->median_ns,
			       cpu_percent(r), syscalls);
		}
		if (s == 0)
			rate = pipe->median_ns >= 4 * ring->median_ns;
		else
			bytes &= pipe->median_ns >= 2 * ring->median_ns;
		ahead &= ring->median_ns < pipe->median_ns && ring->median_ns < handoff->median_ns;
		if (s < N_SIZES - 1)
			calls &= ring->syscalls.per_op >= 0 && ring->syscalls.per_op <= 0.05;
	}
	printf("  target: 64 B messages at least 4x the pipe's rate: %s (%.1fx)\n",
	       rate ? "met" : "not met",
	       pipe64->median_ns / find_result("ring", "ring", 64)->median_ns);
	printf("  target: 4 KiB and 1 MiB at least 2x the pipe's byte rate: %s (%.1fx, %.1fx)\n",
	       bytes ? "met" : "not met",
	       find_result("ring", "pipe", 4 * KiB)->median_ns /
		       find_result("ring", "ring", 4 * KiB)->median_ns,
	       find_result("ring", "pipe", MiB)->median_ns / find_result("ring", "ring", MiB)->median_ns);
	printf("  target: ahead of the pipe and the handoff (a buffer a message) at every size: %s\n",
	       ahead ? "met" : "not met");
	if (find_result("ring", "ring", 64)->syscalls.per_op < 0)
		printf("  target: at most 0.05 system calls per message: not counted (--no-count)\n");
	else
		printf("  target: at most 0.05 system calls per message at 64 B and 4 KiB: %s;"
		       " %.2f at 1 MiB\n", calls ? "met" : "not met",
		       find_result("ring", "ring", MiB)->syscalls.per_op);

	{
		const struct result *pipe = find_result("ring-pingpong", "pipe", PING);
		const struct result *ring = find_result("ring-pingpong", "ring", PING);

		printf("\nring, ping-pong: %d B to another process and back (%d rounds)\n", PING,
		       ring->rounds);
		printf("  %-20s %12s %8s %6s %9s\n", "", "us/round trip", "vs pipe", "cpu %",
		       "syscalls");
		for (size_t v = 0; v < N_PONG; v++) {
			const struct result *r = find_result("ring-pingpong", pong_variants[v].name,
							     PING);

			format_syscalls(syscalls, r);
			printf("  %-20s %12.2f %8.2f %6.0f %9s\n", r->variant, r->median_ns / 1e3,
			       pipe->median_ns / r->median_ns, cpu_percent(r), syscalls);
		}
		printf("  target: a round trip at least 2x faster than the pipe's: %s (%.1fx)\n",
		       pipe->median_ns >= 2 * ring->median_ns ? "met" : "not met",
		       pipe->median_ns / ring->median_ns);
	}
	printf("  (cpu %%: CPU time of both processes over the wall time, 200 = both busy)\n");
}

const struct section ring_section = {
	.name = "ring",
	.run = bench_ring,
	.print = print_ring,
};
