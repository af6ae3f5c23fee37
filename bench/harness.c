/* SPDX-License-Identifier: MIT */
/*
 * The measuring harness: the clocks, a system call counter that traces
 * (ptrace) a forked copy of a loop, the kernel's page-fault counter, and the
 * rounds that run a section's variants in turn and keep their medians.
 */
#include "config.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif

struct options opt = {
	.max_size = 1 * GiB,
	.lifecycle_cycles = 1000,
	.count = true,
};

struct result results[MAX_RESULTS];
size_t n_results;

void die(const char *fmt, ...)
{
	va_list ap;

	fputs("memfd-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

/* Die with the error of a call that returned a negative errno. */
void check(long r, const char *what)
{
	if (r < 0)
		die("%s: %s", what, strerror((int)-r));
}

void check_errno(long r, const char *what)
{
	if (r < 0)
		die("%s: %s", what, strerror(errno));
}

/* The number a /proc file starts with, or -1. */
double proc_number(const char *path)
{
	FILE *f = fopen(path, "re");
	double n = -1;

	if (f) {
		if (fscanf(f, "%lf", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		check_errno(n, "write");
		p += n;
		len -= (size_t)n;
	}
}

/* false at end of file before the first byte */
bool read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		check_errno(n, "read");
		if (n == 0) {
			if (done == 0)
				return false;
			die("read: end of file after %zu of %zu bytes", done, len);
		}
		done += (size_t)n;
	}
	return true;
}

/* System call counting ---------------------------------------------------- */

/*
 * A traced process brackets what it wants counted with two close() calls
 * on descriptors no one can have; the tracer counts every other call a
 * process makes between them. Outside the tracer these calls are not made
 * (MARK_BEGIN and MARK_END are in harness.h).
 */
bool traced;

void mark(int which)
{
	if (traced)
		syscall(SYS_close, which);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Start and stop both clocks: what is timed is what is counted. */
uint64_t clock_start(void)
{
	uint64_t t = now_ns();

	mark(MARK_BEGIN);
	return t;
}

uint64_t clock_stop(uint64_t start)
{
	mark(MARK_END);
	return now_ns() - start;
}

/* The kernel's struct ptrace_syscall_info, which older C libraries lack. */
struct syscall_info {
	uint8_t op;
	uint32_t arch __attribute__((aligned(4)));
	uint64_t instruction_pointer;
	uint64_t stack_pointer;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		uint8_t other[64];
	};
};
#define SYSCALL_INFO_ENTRY 1

/* Names for the calls these loops make; others print as syscallN. */
static const struct {
	long nr;
	const char *name;
} syscall_names[] = {
#define NAME(call) { SYS_##call, #call }
	NAME(close), NAME(fcntl), NAME(ftruncate), NAME(fstatfs), NAME(munmap),
	NAME(openat), NAME(read), NAME(write), NAME(pwrite64), NAME(unlinkat),
	NAME(readlinkat), NAME(fchmod), NAME(madvise), NAME(lseek), NAME(fallocate),
	NAME(memfd_create),
	/* Not on every architecture, or under other names on some. */
#ifdef SYS_mmap
	NAME(mmap),
#endif
#ifdef SYS_mmap2
	NAME(mmap2),
#endif
#ifdef SYS_fcntl64
	NAME(fcntl64),
#endif
#ifdef SYS_ftruncate64
	NAME(ftruncate64),
#endif
#ifdef SYS_fstatfs64
	NAME(fstatfs64),
#endif
#ifdef SYS_fstat
	NAME(fstat),
#endif
#ifdef SYS_fstat64
	NAME(fstat64),
#endif
#ifdef SYS_newfstatat
	NAME(newfstatat),
#endif
#ifdef SYS_statx
	NAME(statx),
#endif
#ifdef SYS_sendmsg
	NAME(sendmsg),
#endif
#ifdef SYS_recvmsg
	NAME(recvmsg),
#endif
#ifdef SYS_unlink
	NAME(unlink),
#endif
#ifdef SYS_readlink
	NAME(readlink),
#endif
#ifdef SYS_open
	NAME(open),
#endif
#ifdef SYS_futex
	NAME(futex),
#endif
#undef NAME
};

static const char *syscall_name(long nr, char buf[24])
{
	for (size_t i = 0; i < sizeof(syscall_names) / sizeof(syscall_names[0]); i++)
		if (syscall_names[i].nr == nr)
			return syscall_names[i].name;
	snprintf(buf, 24, "syscall%ld", nr);
	return buf;
}

#define MAX_SEQUENCE 64
#define MAX_TRACEES 8

/* What the tracer has seen so far. */
struct tally {
	pid_t inside[MAX_TRACEES]; /* the processes between their marks */
	size_t n_inside;
	pid_t first;               /* the first to mark: its calls are listed */
	bool several;              /* more than one process marked */
	long total;
	long sequence[MAX_SEQUENCE];
	size_t n_sequence;
};

static bool is_mark(const struct syscall_info *info, int which)
{
	return (long)info->entry.nr == SYS_close && (int)info->entry.args[0] == which;
}

static void tally_entry(struct tally *t, pid_t pid, const struct syscall_info *info)
{
	size_t i;

	for (i = 0; i < t->n_inside && t->inside[i] != pid; i++)
		;
	if (is_mark(info, MARK_BEGIN)) {
		if (i == t->n_inside && t->n_inside < MAX_TRACEES)
			t->inside[t->n_inside++] = pid;
		if (!t->first)
			t->first = pid;
		t->several |= pid != t->first;
	} else if (is_mark(info, MARK_END)) {
		if (i < t->n_inside)
			t->inside[i] = t->inside[--t->n_inside];
	} else if (i < t->n_inside) {
		t->total++;
		if (pid == t->first && t->n_sequence < MAX_SEQUENCE)
			t->sequence[t->n_sequence++] = (long)info->entry.nr;
	}
}

/* One operation's calls, in order, when one process made them all. */
static void list_sequence(const struct tally *t, long ops, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (t->several || t->total % ops != 0 || (size_t)(t->total / ops) > t->n_sequence)
		return;
	for (long k = 0; k < t->total / ops && len < size; k++) {
		char name[24];

		len += (size_t)snprintf(buf + len, size - len, "%s%s", k ? " " : "",
					syscall_name(t->sequence[k], name));
	}
}

/* Count, over every process the child starts, the calls made between the
 * marks; run() makes `ops` operations. */
static void count_syscalls(void (*run)(void *arg), void *arg, long ops,
			   struct syscall_count *out)
{
	struct tally t = { .n_inside = 0 };
	bool failed = false, unreadable = false;
	pid_t child, pid;
	int status;

	out->per_op = -1;
	out->sequence[0] = '\0';
	fflush(NULL);
	child = fork();
	check_errno(child, "fork");
	if (child == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(3);
		raise(SIGSTOP);
		run(arg);
		exit(EXIT_SUCCESS);
	}
	if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status)) {
		fprintf(stderr, "memfd-bench: cannot trace (ptrace): system calls not counted\n");
		waitpid(child, &status, 0);
		return;
	}
	if (ptrace(PTRACE_SETOPTIONS, child, NULL,
		   (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
				  PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)) < 0)
		die("ptrace: %s", strerror(errno));
	ptrace(PTRACE_SYSCALL, child, NULL, NULL);

	while ((pid = waitpid(-1, &status, __WALL)) > 0) {
		int sig = 0;

		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (pid == child)
				failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
			continue;
		}
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			struct syscall_info info;

			memset(&info, 0, sizeof(info));
			/* Linux 5.3; without it, nothing is counted. */
			if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
				unreadable = true;
			else if (info.op == SYSCALL_INFO_ENTRY)
				tally_entry(&t, pid, &info);
		} else if (status >> 16 == 0 && WSTOPSIG(status) != SIGSTOP) {
			/* A signal for the tracee (not a fork or clone event,
			 * nor the stop a new tracee starts with): deliver it. */
			sig = WSTOPSIG(status);
		}
		ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig);
	}
	if (failed)
		die("the traced run failed");
	if (unreadable) {
		fprintf(stderr, "memfd-bench: no PTRACE_GET_SYSCALL_INFO: system calls not counted\n");
		return;
	}
	out->per_op = (double)t.total / (double)ops;
	list_sequence(&t, ops, out->sequence, sizeof(out->sequence));
}

/* Measuring ---------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Page faults this thread takes, by the kernel's software counter: unlike
 * getrusage's ru_minflt, it leaves out the faults the kernel makes on its
 * own behalf, such as those of MAP_POPULATE. -1 where perf is not allowed.
 */
static long page_faults(void)
{
	static int fd = -2;
	uint64_t count;

	if (fd == -2) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.size = sizeof(attr),
			.config = PERF_COUNT_SW_PAGE_FAULTS,
			.exclude_kernel = 1,
			.exclude_hv = 1,
		};

		fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	}
	if (fd < 0 || read(fd, &count, sizeof(count)) != sizeof(count))
		return -1;
	return (long)count;
}

/* Run the variants in turn, rounds times, and record their medians. */
struct result *measure(const char *section, const struct variant *variants,
		       size_t n_variants, void *fixture, uint64_t size,
		       const long *ops, int rounds, bool warm_up)
{
	double samples[16][MAX_ROUNDS];
	long faults[16] = { 0 };
	struct result *first = &results[n_results];

	if (n_variants > 16 || rounds > MAX_ROUNDS || n_results + n_variants > MAX_RESULTS)
		die("too many variants, rounds or results");
	if (warm_up)
		for (size_t v = 0; v < n_variants; v++)
			variants[v].run(fixture, size, ops[v]);
	for (int r = 0; r < rounds; r++) {
		/* Each round starts one variant later (A B C, B C A, C A B):
		 * none always runs first, or always after the same one. */
		for (size_t k = 0; k < n_variants; k++) {
			size_t v = (k + (size_t)r) % n_variants;
			long f = page_faults();

			samples[v][r] = (double)variants[v].run(fixture, size, ops[v]) / (double)ops[v];
			faults[v] = f < 0 || faults[v] < 0 ? -1 : faults[v] + page_faults() - f;
		}
	}
	for (size_t v = 0; v < n_variants; v++) {
		struct result *res = &results[n_results++];

		qsort(samples[v], (size_t)rounds, sizeof(double), compare_doubles);
		res->section = section;
		res->variant = variants[v].name;
		res->size = size;
		res->ops = ops[v];
		res->rounds = rounds;
		res->min_ns = samples[v][0];
		res->max_ns = samples[v][rounds - 1];
		res->median_ns = rounds % 2 ? samples[v][rounds / 2]
					    : (samples[v][rounds / 2 - 1] + samples[v][rounds / 2]) / 2;
		res->faults = faults[v] < 0 ? -1 : (double)faults[v] / ((double)rounds * (double)ops[v]);
		res->syscalls.per_op = -1;
		res->syscalls.sequence[0] = '\0';
	}
	return first;
}

/* What a traced child runs: set up, warm up, the counted operations, tear
 * down. */
struct counted_run {
	void *(*setup)(uint64_t size);
	void (*teardown)(void *fixture);
	const struct variant *variant;
	uint64_t size;
	long ops;
};

static void run_counted(void *arg)
{
	const struct counted_run *c = arg;
	void *fixture = c->setup(c->size);

	traced = false;
	c->variant->run(fixture, c->size, 1);
	traced = true;
	c->variant->run(fixture, c->size, c->ops);
	c->teardown(fixture);
}

void count_variants(struct result *res, const struct variant *variants, size_t n,
		    void *(*setup)(uint64_t size), void (*teardown)(void *fixture),
		    uint64_t size, const long *ops)
{
	if (!opt.count)
		return;
	for (size_t v = 0; v < n; v++) {
		struct counted_run c = { setup, teardown, &variants[v], size, ops[v] };

		count_syscalls(run_counted, &c, ops[v], &res[v].syscalls);
	}
}

int rounds_or(int section_default)
{
	return opt.rounds ? opt.rounds : section_default;
}
