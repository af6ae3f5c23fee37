/* SPDX-License-Identifier: MIT */
/*
 * handoff: give a sealed buffer to another process (mfd_send; mfd_recv with
 * a seal check, map, read the first and last byte), against copying the
 * same bytes through a pipe and a socket; one at a time, each buffer
 * acknowledged, and streamed (the "stream" results), one acknowledgment a
 * round.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmemfd.h"
#include "harness.h"
#include "report.h"

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#endif

/* The seals a handed-off buffer carries, and its receiver demands. */
#define FROZEN (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

#define FIRST_BYTE 0x11
#define LAST_BYTE 0x22

enum handoff_op { OP_QUIT, OP_HANDOFF, OP_PIPE, OP_SOCKET };

/* What the sender asks of the receiver: n operations of one kind. */
struct command {
	uint32_t op;
	uint32_t flags;
	uint64_t n;
};
#define COUNTED 1u /* bracket them with marks for the tracer */
#define STREAM 2u  /* acknowledge only the last */

struct handoff {
	struct mfd *blob;     /* the sealed buffer */
	const uint8_t *bytes; /* its mapping: what the copies copy */
	int ctl;              /* commands out, one-byte acknowledgments back */
	int fds;              /* for mfd_send */
	int pipe;             /* the write end of the data pipe */
	int sock;             /* the data socket */
	pid_t receiver;
	bool stream;          /* send the next buffer without waiting */
};

/* The other process: takes the buffer, or the copy, and says it has it. */
static void receive(int ctl, int fds, int data_pipe, int sock, uint64_t size)
{
	uint8_t *copy = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct command cmd;

	if (copy == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	/* Faulted in once: the copies measure copying, not page faults. */
	memset(copy, 0, size);
	while (read_all(ctl, &cmd, sizeof(cmd)) && cmd.op != OP_QUIT) {
		traced = cmd.flags & COUNTED;
		mark(MARK_BEGIN);
		for (uint64_t i = 0; i < cmd.n; i++) {
			const uint8_t *p = copy;
			struct mfd *m = NULL;
			uint8_t first, last;

			if (cmd.op == OP_HANDOFF) {
				check(mfd_recv(fds, FROZEN, &m), "mfd_recv");
				if (mfd_size(m) != size)
					die("mfd_recv: a buffer of the wrong size");
				check(mfd_map(m, 0, size, PROT_READ, 0, (void **)&p), "mfd_map");
			} else {
				read_all(cmd.op == OP_PIPE ? data_pipe : sock, copy, size);
			}
			first = p[0];
			last = p[size - 1];
			if (m) {
				check(mfd_unmap((void *)p, size), "mfd_unmap");
				mfd_free(m);
			}
			if (first != FIRST_BYTE || last != LAST_BYTE)
				die("the receiver got the wrong bytes");
			if (!(cmd.flags & STREAM) || i + 1 == cmd.n)
				write_all(ctl, "k", 1);
		}
		mark(MARK_END);
		traced = false;
	}
	_exit(EXIT_SUCCESS);
}

static void *handoff_setup(uint64_t size)
{
	static struct handoff h;
	int ctl[2], fds[2], data_pipe[2], sock[2];
	uint8_t *data;
	long pipe_size = (long)proc_number("/proc/sys/fs/pipe-max-size");

	/* The sealed buffer, and its mapping as the source of the copies. */
	data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(data, FILL_BYTE, size);
	data[0] = FIRST_BYTE;
	data[size - 1] = LAST_BYTE;
	check(mfd_new_sealed(&h.blob, "handoff", data, size), "mfd_new_sealed");
	check_errno(munmap(data, size), "munmap");
	check(mfd_map(h.blob, 0, size, PROT_READ, LIBMEMFD_MAP_POPULATE, (void **)&h.bytes),
	      "mfd_map");

	check_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl), "socketpair");
	check_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
	check_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock), "socketpair");
	check_errno(pipe2(data_pipe, O_CLOEXEC), "pipe2");
	/* The largest pipe an unprivileged process may have: fewer trips. */
	if (pipe_size > 0)
		fcntl(data_pipe[1], F_SETPIPE_SZ, (int)pipe_size);

	fflush(NULL);
	h.receiver = fork();
	check_errno(h.receiver, "fork");
	if (h.receiver == 0) {
		close(ctl[0]);
		close(fds[0]);
		close(sock[0]);
		close(data_pipe[1]);
		receive(ctl[1], fds[1], data_pipe[0], sock[1], size);
	}
	close(ctl[1]);
	close(fds[1]);
	close(sock[1]);
	close(data_pipe[0]);
	h.ctl = ctl[0];
	h.fds = fds[0];
	h.sock = sock[0];
	h.pipe = data_pipe[1];
	h.stream = false;
	return &h;
}

static void handoff_teardown(void *fixture)
{
	struct handoff *h = fixture;
	struct command quit = { .op = OP_QUIT };
	int status;

	write_all(h->ctl, &quit, sizeof(quit));
	if (waitpid(h->receiver, &status, 0) != h->receiver || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("the receiver failed");
	close(h->ctl);
	close(h->fds);
	close(h->sock);
	close(h->pipe);
	check(mfd_unmap((void *)h->bytes, mfd_size(h->blob)), "mfd_unmap");
	mfd_free(h->blob);
}

/* Have the receiver take n buffers, and wait for its acknowledgment of
 * each, or (streaming) of the last only; the time that took. */
static uint64_t hand_over(struct handoff *h, enum handoff_op op, uint64_t size, long n)
{
	struct command cmd = { .op = op, .n = (uint64_t)n };
	uint64_t t;
	char ack;

	cmd.flags = (traced ? COUNTED : 0) | (h->stream ? STREAM : 0);
	write_all(h->ctl, &cmd, sizeof(cmd));
	t = clock_start();
	for (long i = 0; i < n; i++) {
		if (op == OP_HANDOFF)
			check(mfd_send(h->fds, h->blob), "mfd_send");
		else
			write_all(op == OP_PIPE ? h->pipe : h->sock, h->bytes, size);
		if ((!h->stream || i + 1 == n) && !read_all(h->ctl, &ack, 1))
			die("the receiver has gone");
	}
	return clock_stop(t);
}

static uint64_t handoff_mfd_send(void *fixture, uint64_t size, long n)
{
	return hand_over(fixture, OP_HANDOFF, size, n);
}

static uint64_t handoff_pipe(void *fixture, uint64_t size, long n)
{
	return hand_over(fixture, OP_PIPE, size, n);
}

static uint64_t handoff_socket(void *fixture, uint64_t size, long n)
{
	return hand_over(fixture, OP_SOCKET, size, n);
}

static const struct variant handoff_variants[] = {
	{ "mfd_send+mfd_recv", handoff_mfd_send },
	{ "pipe copy", handoff_pipe },
	{ "socket copy", handoff_socket },
};
#define N_HANDOFF (sizeof(handoff_variants) / sizeof(handoff_variants[0]))

/* The same, streamed: what each buffer costs when the next one follows
 * without waiting, without the two processes' wake-ups in between. */
static void *stream_setup(uint64_t size)
{
	struct handoff *h = handoff_setup(size);

	h->stream = true;
	return h;
}

/* 4 KiB, 16 KiB, ... up to the largest size, and that size itself. */
static size_t handoff_sizes(uint64_t sizes[32])
{
	size_t n = 0;

	for (uint64_t s = 4 * KiB; s < opt.max_size && n < 31; s *= 4)
		sizes[n++] = s;
	sizes[n++] = opt.max_size;
	return n;
}

/* Buffers per round: always `most` handed off; of the copies, as many as
 * make bytes_per_round (at most `most`, at least one). */
static long handoff_ops(size_t variant, uint64_t size, uint64_t bytes_per_round, long most)
{
	uint64_t n = bytes_per_round / size;

	if (variant == 0)
		return most;
	return n < 1 ? 1 : n > (uint64_t)most ? most : (long)n;
}

static void bench_handoff(void)
{
	uint64_t sizes[32];
	size_t n_sizes = handoff_sizes(sizes);
	long most = opt.small ? 20 : 200;

	for (size_t i = 0; i < n_sizes; i++) {
		long ops[N_HANDOFF], count_ops[N_HANDOFF];
		struct handoff *fixture = handoff_setup(sizes[i]);
		struct result *res, *streamed;

		for (size_t v = 0; v < N_HANDOFF; v++) {
			ops[v] = handoff_ops(v, sizes[i], 64 * MiB, most);
			count_ops[v] = handoff_ops(v, sizes[i], 16 * MiB, 50);
		}
		res = measure("handoff", handoff_variants, N_HANDOFF, fixture, sizes[i], ops,
			      rounds_or(opt.small ? 3 : 11), true);
		fixture->stream = true;
		streamed = measure("stream", handoff_variants, N_HANDOFF, fixture, sizes[i], ops,
				   rounds_or(opt.small ? 3 : 11), true);
		handoff_teardown(fixture);
		count_variants(res, handoff_variants, N_HANDOFF, handoff_setup, handoff_teardown,
			       sizes[i], count_ops);
		count_variants(streamed, handoff_variants, N_HANDOFF, stream_setup,
			       handoff_teardown, sizes[i], count_ops);
	}
}

static void print_handoff(const char *section, const char *what)
{
	uint64_t sizes[32], at = 256 * MiB;
	size_t n_sizes = handoff_sizes(sizes);
	const struct result *smallest = find_result(section, handoff_variants[0].name, sizes[0]);
	const struct result *largest = find_result(section, handoff_variants[0].name, sizes[n_sizes - 1]);
	const struct result *target = find_result(section, handoff_variants[0].name, at);
	const struct result *target_pipe = find_result(section, "pipe copy", at);
	char size[32];

	if (!smallest)
		return;
	printf("\n%s (%d rounds); microseconds per buffer\n", what, smallest->rounds);
	printf("  %-8s %12s %12s %12s %11s %11s  %s\n", "size", "mfd_send", "pipe copy",
	       "socket copy", "pipe/send", "sock/send", "syscalls (send/pipe/socket)");
	for (size_t i = 0; i < n_sizes; i++) {
		const struct result *r[N_HANDOFF];
		char calls[N_HANDOFF][16], all_calls[64];

		for (size_t v = 0; v < N_HANDOFF; v++) {
			r[v] = find_result(section, handoff_variants[v].name, sizes[i]);
			format_syscalls(calls[v], r[v]);
		}
		snprintf(all_calls, sizeof(all_calls), "%s/%s/%s", calls[0], calls[1], calls[2]);
		format_size(size, sizes[i]);
		printf("  %-8s %12.1f %12.1f %12.1f %11.0f %11.0f  %s\n", size,
		       r[0]->median_ns / 1e3, r[1]->median_ns / 1e3, r[2]->median_ns / 1e3,
		       r[1]->median_ns / r[0]->median_ns, r[2]->median_ns / r[0]->median_ns,
		       all_calls);
	}
	format_size(size, largest->size);
	printf("  target: flat in the size: %s takes %.2fx the time of 4 KiB\n", size,
	       largest->median_ns / smallest->median_ns);
	if (target && target_pipe)
		printf("  target: at 256 MiB at least 3000x faster than the pipe copy: %s (%.0fx)\n",
		       target_pipe->median_ns >= 3000 * target->median_ns ? "met" : "not met",
		       target_pipe->median_ns / target->median_ns);
}

static void print_handoffs(void)
{
	print_handoff("handoff", "handoff: give a sealed buffer to another process, which reads its\n"
		      "first and last byte and acknowledges it");
	print_handoff("stream", "handoff, streamed: the same, the next buffer sent without waiting,\n"
		      "one acknowledgment per round");
}

const struct section handoff_section = {
	.name = "handoff",
	.run = bench_handoff,
	.print = print_handoffs,
};
