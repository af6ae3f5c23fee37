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
 * Where a ring's ends run matters more than anything else: on one CPU they
 * take turns and never fight over a cache line; on two, every published
 * index crosses between their caches. So the sender and the receiver are
 * pinned to two different CPUs, the first two this process may use, or
 * those MEMFD_BENCH_CPUS=SENDER,RECEIVER names (the same twice for one).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libmemfd.h"
#include "harness.h"
#include "report.h"

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#endif

#define FROZEN (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#define FIRST_BYTE 0x11
#define LAST_BYTE 0x22
#define BATCH 16
#define PING 64
/* A wait that does not end in this long means the other process is stuck. */
#define PATIENCE_MS 30000

enum ring_op {
	OP_QUIT,
	OP_RING, OP_RING_COPY, OP_RING_BATCH, OP_PIPE, OP_SOCKET, OP_HANDOFF, OP_HANDOFF_SAME,
	OP_PONG_RING, OP_PONG_POLL, OP_PONG_PIPE, OP_PONG_SOCKET,
};

struct command {
	uint32_t op;
	uint32_t counted;
	uint64_t n;
};

/* The receiver's answer to a command: its CPU time for it. */
struct ack {
	uint64_t cpu_ns;
};

struct ring_bench {
	uint64_t size;
	pid_t receiver;
	int ctl;                  /* commands out, acknowledgments back */
	struct mfd_ring *out;     /* producer: messages, and pings */
	struct mfd_ring *back;    /* consumer: pongs */
	int pipe, pipe_back;      /* the sender writes one, reads the other */
	int sock;                 /* sequenced-packet, both ways */
	bool sock_fits;           /* a message of size fits its buffer */
	int fds;                  /* for mfd_send */
	struct mfd *blob;         /* the handoff's sealed buffer */
	uint8_t *src;             /* what messages are copied from */
	uint8_t *buf;             /* what copies are read into */
};

/* CPU time of both processes per operation, summed over the rounds. */
struct cpu_tally {
	const char *variant;
	uint64_t size;
	double sender_ns, receiver_ns, wall_ns;
};
static struct cpu_tally cpu[64];
static size_t n_cpu;

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void tally_cpu(const char *variant, uint64_t size, uint64_t sender, uint64_t receiver,
		      uint64_t wall)
{
	struct cpu_tally *t = NULL;

	for (size_t i = 0; i < n_cpu && !t; i++)
		if (cpu[i].size == size && !strcmp(cpu[i].variant, variant))
			t = &cpu[i];
	if (!t && n_cpu < sizeof(cpu) / sizeof(cpu[0])) {
		t = &cpu[n_cpu++];
		*t = (struct cpu_tally){ variant, size, 0, 0, 0 };
	}
	if (t && !traced) {
		t->sender_ns += (double)sender;
		t->receiver_ns += (double)receiver;
		t->wall_ns += (double)wall;
	}
}

static const struct cpu_tally *find_cpu(const char *variant, uint64_t size)
{
	for (size_t i = 0; i < n_cpu; i++)
		if (cpu[i].size == size && !strcmp(cpu[i].variant, variant) && cpu[i].wall_ns > 0)
			return &cpu[i];
	return NULL;
}

/* The CPUs the sender and the receiver run on (see the top); -1: any. */
static int cpus[2] = { -2, -2 };
static cpu_set_t sender_affinity;

static void choose_cpus(void)
{
	const char *env = getenv("MEMFD_BENCH_CPUS");
	cpu_set_t allowed;
	int found = 0;

	if (cpus[0] != -2)
		return;
	cpus[0] = cpus[1] = -1;
	if (env && sscanf(env, "%d,%d", &cpus[0], &cpus[1]) == 2)
		return;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[found++] = c;
	if (found < 2)
		cpus[0] = cpus[1] = -1;
}

static void pin(int which)
{
	cpu_set_t set;

	if (which < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(which, &set);
	check_errno(sched_setaffinity(0, sizeof(set), &set), "sched_setaffinity");
}

static void wait_ring(struct mfd_ring *r, size_t length)
{
	check(mfd_ring_wait(r, length, PATIENCE_MS), "mfd_ring_wait");
}

static void expect_bytes(const uint8_t *p, uint64_t size)
{
	if (p[0] != FIRST_BYTE || p[size - 1] != LAST_BYTE)
		die("the receiver got the wrong bytes");
}

/* The receiver: n of what the command says, then its CPU time. */
static void receive_one_command(struct ring_bench *b, const struct command *cmd,
				struct mfd_ring *in, struct mfd_ring *reply)
{
	uint64_t size = b->size;

	for (uint64_t i = 0; i < cmd->n; i++) {
		const void *m;
		struct mfd *blob;
		const uint8_t *p;
		ssize_t n;

		switch (cmd->op) {
		case OP_RING:
		case OP_PONG_RING:
		case OP_PONG_POLL:
			while ((n = mfd_ring_peek(in, &m)) == -EAGAIN)
				if (cmd->op != OP_PONG_POLL)
					wait_ring(in, 0);
			if (n != (ssize_t)(cmd->op == OP_RING ? size : PING))
				die("mfd_ring_peek: %zd", n);
			expect_bytes(m, (uint64_t)n);
			check(mfd_ring_release(in), "mfd_ring_release");
			if (cmd->op != OP_RING) {
				while (mfd_ring_send(reply, b->src, PING) == -EAGAIN)
					wait_ring(reply, PING);
			}
			break;
		case OP_RING_COPY:
			while ((n = mfd_ring_recv(in, b->buf, size)) == -EAGAIN)
				wait_ring(in, 0);
			if (n != (ssize_t)size)
				die("mfd_ring_recv: %zd", n);
			expect_bytes(b->buf, size);
			break;
		case OP_RING_BATCH:
			while ((n = mfd_ring_peek(in, &m)) == -EAGAIN)
				wait_ring(in, 0);
			if (n != (ssize_t)(BATCH * size))
				die("mfd_ring_peek: %zd", n);
			for (int k = 0; k < BATCH; k++)
				expect_bytes((const uint8_t *)m + k * size, size);
			check(mfd_ring_release(in), "mfd_ring_release");
			i += BATCH - 1;
			break;
		case OP_PIPE:
		case OP_PONG_PIPE:
			read_all(b->pipe, b->buf, cmd->op == OP_PIPE ? size : PING);
			expect_bytes(b->buf, cmd->op == OP_PIPE ? size : PING);
			if (cmd->op == OP_PONG_PIPE)
				write_all(b->pipe_back, b->src, PING);
			break;
		case OP_SOCKET:
		case OP_PONG_SOCKET:
			n = recv(b->sock, b->buf, size, 0);
			if (n != (ssize_t)(cmd->op == OP_SOCKET ? size : PING))
				die("recv: %zd", n);
			expect_bytes(b->buf, (uint64_t)n);
			if (cmd->op == OP_PONG_SOCKET)
				check_errno(send(b->sock, b->src, PING, 0), "send");
			break;
		case OP_HANDOFF:
		case OP_HANDOFF_SAME:
			check(mfd_recv(b->fds, FROZEN, &blob), "mfd_recv");
			check(mfd_map(blob, 0, size, PROT_READ, 0, (void **)&p), "mfd_map");
			expect_bytes(p, size);
			check(mfd_unmap((void *)p, size), "mfd_unmap");
			mfd_free(blob);
			break;
		default:
			die("the receiver got an unknown command");
		}
	}
}

static void receiver(struct ring_bench *b, int ctl, int ring_sock)
{
	struct mfd_ring *in, *reply;
	struct command cmd;
	struct mfd *m;

	check(mfd_recv(ring_sock, RING_SEALS, &m), "mfd_recv");
	check(mfd_ring_attach(&in, m), "mfd_ring_attach");
	check(mfd_recv(ring_sock, RING_SEALS, &m), "mfd_recv");
	check(mfd_ring_attach(&reply, m), "mfd_ring_attach");
	close(ring_sock);
	while (read_all(ctl, &cmd, sizeof(cmd)) && cmd.op != OP_QUIT) {
		uint64_t start = cpu_ns();
		struct ack ack;

		traced = cmd.counted;
		mark(MARK_BEGIN);
		receive_one_command(b, &cmd, in, reply);
		mark(MARK_END);
		traced = false;
		ack.cpu_ns = cpu_ns() - start;
		write_all(ctl, &ack, sizeof(ack));
	}
	mfd_ring_free(in);
	mfd_ring_free(reply);
	_exit(EXIT_SUCCESS);
}

/* A buffer of size bytes, first and last byte marked, faulted in. */
static uint8_t *marked_buffer(uint64_t size)
{
	uint8_t *p = mmap(NULL, size < PING ? PING : size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(p, FILL_BYTE, size < PING ? PING : size);
	p[0] = FIRST_BYTE;
	p[size - 1] = LAST_BYTE;
	if (size > PING)
		p[PING - 1] = LAST_BYTE;
	return p;
}

/* A ring capacity that holds a batch of the largest messages four times. */
static size_t capacity_for(uint64_t size)
{
	size_t capacity = 64 * KiB;

	while (capacity < 4 * BATCH * (size + 8) && capacity < 4 * MiB)
		capacity *= 2;
	while (capacity < 4 * (size + 8))
		capacity *= 2;
	return capacity;
}

static void *ring_setup(uint64_t size)
{
	static struct ring_bench b;
	int ctl[2], pipe_out[2], pipe_back[2], sock[2], fds[2], rings[2];
	long pipe_size = (long)proc_number("/proc/sys/fs/pipe-max-size");
	int sndbuf = (int)(4 * size + 64 * KiB);
	socklen_t len = sizeof(sndbuf);

	b.size = size;
	b.src = marked_buffer(size);
	b.buf = marked_buffer(size > BATCH * PING ? size : BATCH * PING);
	check(mfd_new_sealed(&b.blob, "ring-handoff", b.src, size), "mfd_new_sealed");
	check(mfd_ring_new(&b.out, "bench-out", capacity_for(size), LIBMEMFD_RING_PRODUCER),
	      "mfd_ring_new");
	check(mfd_ring_new(&b.back, "bench-back", capacity_for(PING), LIBMEMFD_RING_CONSUMER),
	      "mfd_ring_new");

	check_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl), "socketpair");
	check_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rings), "socketpair");
	check_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
	check_errno(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock), "socketpair");
	check_errno(pipe2(pipe_out, O_CLOEXEC), "pipe2");
	check_errno(pipe2(pipe_back, O_CLOEXEC), "pipe2");
	/* The largest pipe an unprivileged process may have, as the handoff
	 * section's; a socket buffer that holds a few messages (root may
	 * force it past net.core.wmem_max). */
	if (pipe_size > 0)
		fcntl(pipe_out[1], F_SETPIPE_SZ, (int)pipe_size);
	for (int i = 0; i < 2; i++)
		if (setsockopt(sock[i], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
			setsockopt(sock[i], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	sndbuf = 0;
	getsockopt(sock[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
	b.sock_fits = (uint64_t)sndbuf >= 2 * size + 4 * KiB;
	check(mfd_send(rings[0], mfd_ring_mfd(b.out)), "mfd_send");
	check(mfd_send(rings[0], mfd_ring_mfd(b.back)), "mfd_send");

	choose_cpus();
	fflush(NULL);
	b.receiver = fork();
	check_errno(b.receiver, "fork");
	if (b.receiver == 0) {
		pin(cpus[1]);
		close(ctl[0]);
		close(rings[0]);
		close(fds[0]);
		close(sock[0]);
		close(pipe_out[1]);
		close(pipe_back[0]);
		/* It reads what comes down the first pipe and answers
		 * pings on the other. */
		b.pipe = pipe_out[0];
		b.pipe_back = pipe_back[1];
		b.sock = sock[1];
		b.fds = fds[1];
		receiver(&b, ctl[1], rings[1]);
	}
	close(ctl[1]);
	close(rings[0]);
	close(rings[1]);
	close(fds[1]);
	close(sock[1]);
	close(pipe_out[0]);
	close(pipe_back[1]);
	sched_getaffinity(0, sizeof(sender_affinity), &sender_affinity);
	pin(cpus[0]);
	b.ctl = ctl[0];
	b.fds = fds[0];
	b.sock = sock[0];
	b.pipe = pipe_out[1];
	b.pipe_back = pipe_back[0];
	return &b;
}

static void ring_teardown(void *fixture)
{
	struct ring_bench *b = fixture;
	struct command quit = { .op = OP_QUIT };
	uint64_t big = b->size > BATCH * PING ? b->size : BATCH * PING;
	int status;

	write_all(b->ctl, &quit, sizeof(quit));
	if (cpus[0] >= 0)
		sched_setaffinity(0, sizeof(sender_affinity), &sender_affinity);
	if (waitpid(b->receiver, &status, 0) != b->receiver || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("the receiver failed");
	close(b->ctl);
	close(b->fds);
	close(b->sock);
	close(b->pipe);
	close(b->pipe_back);
	mfd_ring_free(b->out);
	mfd_ring_free(b->back);
	mfd_free(b->blob);
	munmap(b->src, b->size < PING ? PING : b->size);
	munmap(b->buf, big);
}

/* Ask the receiver for n of op, do this side's n, wait for its answer;
 * the time this side's part took, and both sides' CPU time tallied. */
static uint64_t exchange(struct ring_bench *b, const char *variant, enum ring_op op, long n)
{
	struct command cmd = { .op = op, .counted = traced, .n = (uint64_t)n };
	uint64_t size = b->size, t, cpu_start, wall;
	struct ack ack;

	write_all(b->ctl, &cmd, sizeof(cmd));
	cpu_start = cpu_ns();
	t = clock_start();
	for (long i = 0; i < n; i++) {
		struct mfd *blob;
		const void *m;
		void *w;
		ssize_t got;
		int err;

		switch (op) {
		case OP_RING:
			while ((err = mfd_ring_reserve(b->out, size, &w)) == -EAGAIN)
				wait_ring(b->out, size);
			check(err, "mfd_ring_reserve");
			memcpy(w, b->src, size);
			check(mfd_ring_commit(b->out), "mfd_ring_commit");
			break;
		case OP_RING_COPY:
			while ((err = mfd_ring_send(b->out, b->src, size)) == -EAGAIN)
				wait_ring(b->out, size);
			check(err, "mfd_ring_send");
			break;
		case OP_RING_BATCH:
			while ((err = mfd_ring_reserve(b->out, BATCH * size, &w)) == -EAGAIN)
				wait_ring(b->out, BATCH * size);
			check(err, "mfd_ring_reserve");
			for (int k = 0; k < BATCH; k++)
				memcpy((uint8_t *)w + k * size, b->src, size);
			check(mfd_ring_commit(b->out), "mfd_ring_commit");
			i += BATCH - 1;
			break;
		case OP_PIPE:
			write_all(b->pipe, b->src, size);
			break;
		case OP_SOCKET:
			check_errno(send(b->sock, b->src, size, 0), "send");
			break;
		case OP_HANDOFF:
			/* A buffer of its own for each message, as a sender
			 * that hands over what it produces must make. */
			check(mfd_new_sealed(&blob, "message", b->src, size), "mfd_new_sealed");
			check(mfd_send(b->fds, blob), "mfd_send");
			mfd_free(blob);
			break;
		case OP_HANDOFF_SAME:
			check(mfd_send(b->fds, b->blob), "mfd_send");
			break;
		case OP_PONG_RING:
		case OP_PONG_POLL:
			check(mfd_ring_send(b->out, b->src, PING), "mfd_ring_send");
			while ((got = mfd_ring_peek(b->back, &m)) == -EAGAIN)
				if (op == OP_PONG_RING)
					wait_ring(b->back, 0);
			if (got != PING)
				die("mfd_ring_peek: %zd", got);
			expect_bytes(m, PING);
			check(mfd_ring_release(b->back), "mfd_ring_release");
			break;
		case OP_PONG_PIPE:
			write_all(b->pipe, b->src, PING);
			read_all(b->pipe_back, b->buf, PING);
			expect_bytes(b->buf, PING);
			break;
		case OP_PONG_SOCKET:
			check_errno(send(b->sock, b->src, PING, 0), "send");
			if (recv(b->sock, b->buf, PING, 0) != PING)
				die("recv: the answer is missing");
			expect_bytes(b->buf, PING);
			break;
		default:
			break;
		}
	}
	if (!read_all(b->ctl, &ack, sizeof(ack)))
		die("the receiver has gone");
	wall = clock_stop(t);
	tally_cpu(variant, size, cpu_ns() - cpu_start, ack.cpu_ns, wall);
	return wall;
}

#define VARIANT(fn, name, op)                                          \
	static uint64_t fn(void *fixture, uint64_t size, long n)       \
	{                                                              \
		return exchange(fixture, name, op, n);                 \
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
		struct ring_bench *b = ring_setup(streamed_sizes[s]);
		size_t n = streamed_sizes[s] == 64 ? N_STREAMED : N_STREAMED - 1;
		struct variant variants[N_STREAMED];
		struct result *res;
		size_t k = 0;

		for (size_t v = 0; v < n; v++) {
			if (!b->sock_fits && streamed_variants[v].run == streamed_socket)
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
		struct ring_bench *b = ring_setup(PING);
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
	const struct cpu_tally *t = find_cpu(r->variant, r->size);

	if (!t)
		return -1;
	return 100 * (t->sender_ns + t->receiver_ns) / t->wall_ns;
}

static void print_ring(void)
{
	const struct result *pipe64 = find_result("ring", "pipe", 64);
	bool rate = true, bytes = true, ahead = true, calls = true;
	char size[32], syscalls[16];

	if (!pipe64)
		return;
	printf("\nring: messages to another process, streamed, one acknowledgment a round"
	       " (%d rounds)\n", pipe64->rounds);
	if (cpus[0] >= 0)
		printf("  (the sender on CPU %d, the receiver on CPU %d)\n", cpus[0], cpus[1]);
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
