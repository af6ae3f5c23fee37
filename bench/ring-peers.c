/* SPDX-License-Identifier: MIT */
/*
 * The ring section's two processes: this one, the sender, and the
 * receiver it forks, with every channel a variant uses between them (two
 * rings, two pipes, a sequenced-packet socket, a socket for mfd_send), and
 * the commands by which each round tells the receiver what to take.
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
#include "ring-peers.h"

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#endif

#define FROZEN (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#define FIRST_BYTE 0x11
#define LAST_BYTE 0x22
/* A wait that does not end in this long means the other process is stuck. */
#define PATIENCE_MS 30000

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

void *ring_setup(uint64_t size)
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

void ring_teardown(void *fixture)
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
uint64_t ring_exchange(void *fixture, const char *variant, enum ring_op op, long n)
{
	struct ring_bench *b = fixture;
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

bool ring_socket_fits(const void *fixture)
{
	const struct ring_bench *b = fixture;

	return b->sock_fits;
}

double ring_cpu_percent(const char *variant, uint64_t size)
{
	const struct cpu_tally *t = find_cpu(variant, size);

	if (!t)
		return -1;
	return 100 * (t->sender_ns + t->receiver_ns) / t->wall_ns;
}

bool ring_pinned(int *sender, int *receiver)
{
	*sender = cpus[0];
	*receiver = cpus[1];
	return cpus[0] >= 0;
}
