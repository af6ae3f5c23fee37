/* SPDX-License-Identifier: MIT */
/*
 * memfd-bench: what libmemfd costs over the raw system calls, measured side
 * by side in one run.
 *
 *   lifecycle  create, size, seal, map, touch a byte, unmap, free: through
 *              libmemfd, through the raw system calls, and through
 *              shm_open + shm_unlink
 *   handoff    give a sealed buffer to another process (mfd_send; mfd_recv
 *              with a seal check, map, read the first and last byte),
 *              against copying the same bytes through a pipe and a socket
 *   fill       fill a new memfd through mfd_write, mfd_pwrite, a mapping
 *              that takes page faults and a LIBMEMFD_MAP_POPULATE mapping,
 *              against memset of new anonymous memory
 *
 * The variants of a section take turns within each round (A B C A B C ...)
 * so that a noisy neighbour slows them alike, and each result is the
 * median of the rounds. System calls are counted by tracing (ptrace) a
 * forked copy of the same loop: what is timed is what is counted.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libmemfd.h"

#ifdef __GLIBC__
#include <gnu/libc-version.h>
#define LIBC_VERSION "glibc ", gnu_get_libc_version()
#else
#define LIBC_VERSION "a C library other than glibc", ""
#endif

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif
#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "an unknown compiler"
#endif

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* The seals a handed-off buffer carries, and its receiver demands. */
#define FROZEN (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
/* The seals the lifecycle cycle adds: the mapping stays writable. */
#define CYCLE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

#define FILL_BYTE 0x5a
#define FIRST_BYTE 0x11
#define LAST_BYTE 0x22
/* Write and copy in chunks of this size. */
#define CHUNK (1 * MiB)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
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
static void check(long r, const char *what)
{
	if (r < 0)
		die("%s: %s", what, strerror((int)-r));
}

static void check_errno(long r, const char *what)
{
	if (r < 0)
		die("%s: %s", what, strerror(errno));
}

/* The number a /proc file starts with, or -1. */
static double proc_number(const char *path)
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

/* System call counting ---------------------------------------------------- */

/*
 * A traced process brackets what it wants counted with two close() calls
 * on descriptors no one can have; the tracer counts every other call a
 * process makes between them. Outside the tracer these calls are not made.
 */
#define MARK_BEGIN (-0x6d6662)
#define MARK_END (-0x6d6665)

static bool traced;

static void mark(int which)
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
static uint64_t clock_start(void)
{
	uint64_t t = now_ns();

	mark(MARK_BEGIN);
	return t;
}

static uint64_t clock_stop(uint64_t start)
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

struct syscall_count {
	double per_op;      /* < 0: could not be counted */
	char sequence[256]; /* one operation's calls, where one process makes them */
};

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

struct options {
	uint64_t max_size;
	int rounds; /* 0: each section's default */
	long lifecycle_cycles;
	bool small;
	bool csv;             /* CSV on stdout instead of tables */
	const char *csv_file; /* tables on stdout, CSV into this file */
	bool count;
	bool lifecycle, handoff, fill;
};

static struct options opt = {
	.max_size = 1 * GiB,
	.lifecycle_cycles = 1000,
	.count = true,
};

struct result {
	const char *section;
	const char *variant;
	uint64_t size;
	long ops;       /* per round */
	int rounds;
	double median_ns, min_ns, max_ns; /* per operation */
	double faults;  /* page faults per operation in this process (for the
			 * handoff, the sender); < 0: unknown */
	struct syscall_count syscalls;
};

#define MAX_RESULTS 128
#define MAX_ROUNDS 128
static struct result results[MAX_RESULTS];
static size_t n_results;

struct variant {
	const char *name;
	/* Make n operations; return the nanoseconds the timed parts took. */
	uint64_t (*run)(void *fixture, uint64_t size, long n);
};

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
static struct result *measure(const char *section, const struct variant *variants,
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

static void count_variants(struct result *res, const struct variant *variants, size_t n,
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

static int rounds_or(int section_default)
{
	return opt.rounds ? opt.rounds : section_default;
}

/* Lifecycle ----------------------------------------------------------------- */

struct lifecycle {
	char shm_name[64];
	bool noexec_seal; /* the kernel knows MFD_NOEXEC_SEAL (6.3) */
};

static int raw_memfd_create(const char *name, unsigned int flags)
{
#if MEMFD_CREATE_USE_LIBC
	return memfd_create(name, flags);
#else
	return (int)syscall(SYS_memfd_create, name, flags);
#endif
}

static void *lifecycle_setup(uint64_t size)
{
	static struct lifecycle l;
	int fd;

	snprintf(l.shm_name, sizeof(l.shm_name), "/libmemfd-bench-%ld", (long)getpid());
	fd = raw_memfd_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	l.noexec_seal = fd >= 0;
	if (fd >= 0)
		close(fd);
	return &l;
}

static void lifecycle_teardown(void *fixture)
{
}

static void touch(void *p)
{
	*(volatile char *)p = 1;
}

/* The end of a cycle by hand: map, touch, unmap, close. */
static void map_touch_close(int fd, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	touch(p);
	check_errno(munmap(p, size), "munmap");
	close(fd);
}

/* What a careful program does by hand: the same guarantees as mfd_new (not
 * executable, sealable, close-on-exec), on older kernels too. */
static uint64_t cycle_raw(void *fixture, uint64_t size, long n)
{
	const struct lifecycle *l = fixture;
	uint64_t t = clock_start();

	for (long i = 0; i < n; i++) {
		int fd;

		if (l->noexec_seal) {
			fd = raw_memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
		} else {
			fd = raw_memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
			if (fd >= 0 && fchmod(fd, 0666) < 0)
				die("fchmod: %s", strerror(errno));
		}
		check_errno(fd, "memfd_create");
		check_errno(ftruncate(fd, (off_t)size), "ftruncate");
		check_errno(fcntl(fd, F_ADD_SEALS, CYCLE_SEALS), "F_ADD_SEALS");
		map_touch_close(fd, size);
	}
	return clock_stop(t);
}

static uint64_t cycle_libmemfd(void *fixture, uint64_t size, long n)
{
	uint64_t t = clock_start();

	for (long i = 0; i < n; i++) {
		struct mfd *m;
		void *p;

		check(mfd_new(&m, "bench", 0), "mfd_new");
		check(mfd_set_size(m, size), "mfd_set_size");
		check(mfd_add_seals(m, CYCLE_SEALS), "mfd_add_seals");
		check(mfd_map(m, 0, size, PROT_READ | PROT_WRITE, 0, &p), "mfd_map");
		touch(p);
		check(mfd_unmap(p, size), "mfd_unmap");
		mfd_free(m);
	}
	return clock_stop(t);
}

/* The classic alternative; a /dev/shm file cannot be sealed. */
static uint64_t cycle_shm_open(void *fixture, uint64_t size, long n)
{
	const struct lifecycle *l = fixture;
	uint64_t t = clock_start();

	for (long i = 0; i < n; i++) {
		int fd = shm_open(l->shm_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		check_errno(fd, "shm_open");
		check_errno(shm_unlink(l->shm_name), "shm_unlink");
		check_errno(ftruncate(fd, (off_t)size), "ftruncate");
		map_touch_close(fd, size);
	}
	return clock_stop(t);
}

static const struct variant lifecycle_variants[] = {
	{ "raw system calls", cycle_raw },
	{ "libmemfd", cycle_libmemfd },
	{ "shm_open+shm_unlink", cycle_shm_open },
};
#define N_LIFECYCLE (sizeof(lifecycle_variants) / sizeof(lifecycle_variants[0]))

static void bench_lifecycle(void)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	long ops[N_LIFECYCLE], count_ops[N_LIFECYCLE];
	void *fixture = lifecycle_setup(page);
	struct result *res;

	for (size_t v = 0; v < N_LIFECYCLE; v++) {
		ops[v] = opt.lifecycle_cycles;
		count_ops[v] = 100;
	}
	res = measure("lifecycle", lifecycle_variants, N_LIFECYCLE, fixture, page, ops,
		      rounds_or(opt.small ? 5 : 61), true);
	lifecycle_teardown(fixture);
	count_variants(res, lifecycle_variants, N_LIFECYCLE, lifecycle_setup,
		       lifecycle_teardown, page, count_ops);
}

/* Fill ---------------------------------------------------------------------- */

static void *fill_setup(uint64_t size)
{
	static uint8_t *chunk;

	if (!chunk) {
		chunk = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (chunk == MAP_FAILED)
			die("mmap: %s", strerror(errno));
		memset(chunk, FILL_BYTE, CHUNK);
	}
	return chunk;
}

static void fill_teardown(void *fixture)
{
}

static uint64_t fill_write(void *chunk, uint64_t size, long n, bool positioned)
{
	uint64_t total = 0;

	for (long i = 0; i < n; i++) {
		uint64_t t = clock_start(), done = 0;
		struct mfd *m;

		check(mfd_new(&m, "fill", 0), "mfd_new");
		while (done < size) {
			size_t len = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
			ssize_t w = positioned ? mfd_pwrite(m, chunk, len, done)
					       : mfd_write(m, chunk, len);

			check(w, positioned ? "mfd_pwrite" : "mfd_write");
			done += (uint64_t)w;
		}
		total += clock_stop(t);
		mfd_free(m);
	}
	return total;
}

static uint64_t fill_mfd_write(void *chunk, uint64_t size, long n)
{
	return fill_write(chunk, size, n, false);
}

static uint64_t fill_mfd_pwrite(void *chunk, uint64_t size, long n)
{
	return fill_write(chunk, size, n, true);
}

/* MADV_POPULATE_WRITE (Linux 5.14) failed with EINVAL: the variant that
 * uses it took page faults instead. */
static bool no_populate_write;

static uint64_t fill_mapping(uint64_t size, long n, unsigned int flags, bool populate_write)
{
	uint64_t total = 0;

	for (long i = 0; i < n; i++) {
		uint64_t t = clock_start();
		struct mfd *m;
		void *p;

		check(mfd_new(&m, "fill", 0), "mfd_new");
		check(mfd_set_size(m, size), "mfd_set_size");
		check(mfd_map(m, 0, size, PROT_READ | PROT_WRITE, flags, &p), "mfd_map");
		if (populate_write && madvise(p, size, MADV_POPULATE_WRITE) < 0) {
			if (errno != EINVAL)
				die("madvise(MADV_POPULATE_WRITE): %s", strerror(errno));
			no_populate_write = true;
		}
		memset(p, FILL_BYTE, size);
		total += clock_stop(t);
		check(mfd_unmap(p, size), "mfd_unmap");
		mfd_free(m);
	}
	return total;
}

static uint64_t fill_map_faults(void *chunk, uint64_t size, long n)
{
	return fill_mapping(size, n, 0, false);
}

static uint64_t fill_map_populate(void *chunk, uint64_t size, long n)
{
	return fill_mapping(size, n, LIBMEMFD_MAP_POPULATE, false);
}

/* What a caller can do instead, where the kernel has it: unlike
 * MAP_POPULATE, it reports a page it cannot allocate. */
static uint64_t fill_map_populate_write(void *chunk, uint64_t size, long n)
{
	return fill_mapping(size, n, 0, true);
}

static uint64_t fill_anonymous(void *chunk, uint64_t size, long n)
{
	uint64_t total = 0;

	for (long i = 0; i < n; i++) {
		uint64_t t = clock_start();
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			die("mmap: %s", strerror(errno));
		memset(p, FILL_BYTE, size);
		total += clock_stop(t);
		check_errno(munmap(p, size), "munmap");
	}
	return total;
}

static const struct variant fill_variants[] = {
	{ "mfd_write", fill_mfd_write },
	{ "mfd_pwrite", fill_mfd_pwrite },
	{ "mfd_map+memset", fill_map_faults },
	{ "mfd_map(POPULATE)+memset", fill_map_populate },
	{ "mfd_map+MADV_POPULATE_WRITE+memset", fill_map_populate_write },
	{ "memset anonymous", fill_anonymous },
};
#define N_FILL (sizeof(fill_variants) / sizeof(fill_variants[0]))

static void bench_fill(void)
{
	long ops[N_FILL];
	struct result *res;
	void *fixture = fill_setup(opt.max_size);

	for (size_t v = 0; v < N_FILL; v++)
		ops[v] = 1;
	res = measure("fill", fill_variants, N_FILL, fixture, opt.max_size, ops,
		      rounds_or(opt.small ? 3 : 7), false);
	count_variants(res, fill_variants, N_FILL, fill_setup, fill_teardown, opt.max_size, ops);
}

/* Handoff ------------------------------------------------------------------- */

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

static void write_all(int fd, const void *buf, size_t len)
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
static bool read_all(int fd, void *buf, size_t len)
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

/* Output -------------------------------------------------------------------- */

static const struct result *find(const char *section, const char *variant, uint64_t size)
{
	for (size_t i = 0; i < n_results; i++)
		if (!strcmp(results[i].section, section) &&
		    !strcmp(results[i].variant, variant) && results[i].size == size)
			return &results[i];
	return NULL;
}

static void format_size(char buf[32], uint64_t size)
{
	if (size >= GiB && size % GiB == 0)
		snprintf(buf, 32, "%" PRIu64 " GiB", size / GiB);
	else if (size >= MiB && size % MiB == 0)
		snprintf(buf, 32, "%" PRIu64 " MiB", size / MiB);
	else if (size >= KiB && size % KiB == 0)
		snprintf(buf, 32, "%" PRIu64 " KiB", size / KiB);
	else
		snprintf(buf, 32, "%" PRIu64 " B", size);
}

static void format_syscalls(char buf[16], const struct result *r)
{
	if (r->syscalls.per_op < 0)
		snprintf(buf, 16, "-");
	else if (r->syscalls.per_op == (double)(long)r->syscalls.per_op)
		snprintf(buf, 16, "%ld", (long)r->syscalls.per_op);
	else
		snprintf(buf, 16, "%.1f", r->syscalls.per_op);
}

/* The 1-minute load average: the benchmark shares the machine. */
static double load_average(void)
{
	return proc_number("/proc/loadavg");
}

static double load_at_start;

static void print_machine(void)
{
	char model[128] = "unknown CPU", line[256];
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	printf("libmemfd %s benchmark: %s, %ld CPUs, Linux %s %s\n", PACKAGE_VERSION,
	       model, sysconf(_SC_NPROCESSORS_ONLN), u.release, u.machine);
	printf("%s%s, %s; load average %.2f at the start, %.2f at the end\n",
	       LIBC_VERSION, COMPILER, load_at_start, load_average());
	printf("times are medians of alternating rounds; ratios compare variants of one run\n");
}

/* The one target a run can check for certain: system calls are counted,
 * not timed. */
static bool lifecycle_syscalls_ok(void)
{
	const struct result *raw = find("lifecycle", "raw system calls", (uint64_t)sysconf(_SC_PAGESIZE));
	const struct result *lib = raw ? find("lifecycle", "libmemfd", raw->size) : NULL;

	return !lib || lib->syscalls.per_op <= raw->syscalls.per_op;
}

static void print_lifecycle(void)
{
	const struct result *raw = find("lifecycle", "raw system calls", (uint64_t)sysconf(_SC_PAGESIZE));
	const struct result *lib = raw ? find("lifecycle", "libmemfd", raw->size) : NULL;
	char calls[16];

	if (!raw || !lib)
		return;
	printf("\nlifecycle: create, size %" PRIu64 ", seal, map, touch a byte, unmap, free"
	       " (%ld cycles x %d rounds)\n", raw->size, raw->ops, raw->rounds);
	printf("  %-22s %10s %8s %9s  %s\n", "", "ns/cycle", "vs raw", "syscalls", "calls of one cycle");
	for (size_t v = 0; v < N_LIFECYCLE; v++) {
		const struct result *r = find("lifecycle", lifecycle_variants[v].name, raw->size);

		format_syscalls(calls, r);
		printf("  %-22s %10.0f %8.3f %9s  %s\n", r->variant, r->median_ns,
		       r->median_ns / raw->median_ns, calls, r->syscalls.sequence);
	}
	printf("  target: no more system calls than raw: %s; time within 5%% of raw: %s (%+.1f%%)\n",
	       lib->syscalls.per_op < 0 ? "not counted"
	       : lib->syscalls.per_op <= raw->syscalls.per_op ? "met" : "NOT MET",
	       lib->median_ns <= raw->median_ns * 1.05 ? "met" : "not met",
	       (lib->median_ns / raw->median_ns - 1) * 100);
}

static void print_fill(void)
{
	const struct result *ceiling = find("fill", "memset anonymous", opt.max_size);
	char size[32], calls[16];

	if (!ceiling)
		return;
	format_size(size, opt.max_size);
	printf("\nfill: a new %s buffer, from nothing to filled (%d rounds)\n", size, ceiling->rounds);
	printf("  %-36s %9s %7s %10s %12s %9s\n", "", "ms", "GiB/s", "vs memset", "faults/page", "syscalls");
	for (size_t v = 0; v < N_FILL; v++) {
		const struct result *r = find("fill", fill_variants[v].name, opt.max_size);
		double pages = (double)opt.max_size / (double)sysconf(_SC_PAGESIZE);
		char faults[16] = "-";

		format_syscalls(calls, r);
		if (r->faults >= 0)
			snprintf(faults, sizeof(faults), "%.3f", r->faults / pages);
		printf("  %-36s %9.1f %7.2f %10.2f %12s %9s\n", r->variant, r->median_ns / 1e6,
		       (double)opt.max_size / GiB / (r->median_ns / 1e9),
		       r->median_ns / ceiling->median_ns, faults, calls);
	}
	if (no_populate_write)
		printf("  (this kernel has no MADV_POPULATE_WRITE: that variant took page faults)\n");
}

static void print_handoff(const char *section, const char *what)
{
	uint64_t sizes[32], at = 256 * MiB;
	size_t n_sizes = handoff_sizes(sizes);
	const struct result *smallest = find(section, handoff_variants[0].name, sizes[0]);
	const struct result *largest = find(section, handoff_variants[0].name, sizes[n_sizes - 1]);
	const struct result *target = find(section, handoff_variants[0].name, at);
	const struct result *target_pipe = find(section, "pipe copy", at);
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
			r[v] = find(section, handoff_variants[v].name, sizes[i]);
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

static void print_csv(FILE *f)
{
	fprintf(f, "section,variant,bytes,ops_per_round,rounds,median_ns,min_ns,max_ns,"
	       "syscalls_per_op,page_faults_per_op\n");
	for (size_t i = 0; i < n_results; i++) {
		const struct result *r = &results[i];

		fprintf(f, "%s,%s,%" PRIu64 ",%ld,%d,%.1f,%.1f,%.1f,", r->section, r->variant,
		       r->size, r->ops, r->rounds, r->median_ns, r->min_ns, r->max_ns);
		if (r->syscalls.per_op >= 0)
			fprintf(f, "%.2f", r->syscalls.per_op);
		fputc(',', f);
		if (r->faults >= 0)
			fprintf(f, "%.3f", r->faults);
		fputc('\n', f);
	}
}

/* Command line -------------------------------------------------------------- */

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		die("not a size: %s", s);
	switch (*end) {
	case 'k': case 'K': n *= KiB; end++; break;
	case 'm': case 'M': n *= MiB; end++; break;
	case 'g': case 'G': n *= GiB; end++; break;
	}
	if (*end || n < 4096)
		die("not a size of at least 4096 bytes: %s", s);
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: memfd-bench [OPTION]...\n"
		"Measure libmemfd against the raw system calls, side by side.\n\n"
		"  --max-size=SIZE   fill size and largest handoff (K, M, G suffixes; default 1G)\n"
		"  --rounds=N        alternating rounds per measurement (default per section)\n"
		"  --cycles=N        lifecycle cycles per round (default 1000)\n"
		"  --small           a quick run: --max-size=16M, few rounds and cycles\n"
		"  --only=LIST       sections to run, of lifecycle,handoff,fill\n"
		"  --no-count        do not count system calls (no ptrace)\n"
		"  --csv             print CSV instead of tables\n"
		"  --csv=FILE        print tables, and write CSV into FILE\n"
		"  --help            show this and exit\n\n"
		"Exits with 1 if libmemfd makes more system calls per lifecycle cycle than\n"
		"the raw sequence.\n");
}

static void parse_options(int argc, char **argv)
{
	enum { MAX_SIZE = 256, ROUNDS, CYCLES, SMALL, ONLY, NO_COUNT, CSV, HELP };
	static const struct option longopts[] = {
		{ "max-size", required_argument, NULL, MAX_SIZE },
		{ "rounds", required_argument, NULL, ROUNDS },
		{ "cycles", required_argument, NULL, CYCLES },
		{ "small", no_argument, NULL, SMALL },
		{ "only", required_argument, NULL, ONLY },
		{ "no-count", no_argument, NULL, NO_COUNT },
		{ "csv", optional_argument, NULL, CSV },
		{ "help", no_argument, NULL, HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool max_size_given = false, cycles_given = false, only_given = false;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case MAX_SIZE:
			opt.max_size = parse_size(optarg);
			max_size_given = true;
			break;
		case ROUNDS:
			opt.rounds = atoi(optarg);
			if (opt.rounds < 1 || opt.rounds > MAX_ROUNDS)
				die("--rounds: 1 to %d", MAX_ROUNDS);
			break;
		case CYCLES:
			opt.lifecycle_cycles = atol(optarg);
			if (opt.lifecycle_cycles < 1)
				die("--cycles: at least 1");
			cycles_given = true;
			break;
		case SMALL:
			opt.small = true;
			break;
		case ONLY: {
			char *list = strdup(optarg), *save = NULL;

			only_given = true;
			for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
				if (!strcmp(s, "lifecycle"))
					opt.lifecycle = true;
				else if (!strcmp(s, "handoff"))
					opt.handoff = true;
				else if (!strcmp(s, "fill"))
					opt.fill = true;
				else
					die("--only: no section %s", s);
			}
			free(list);
			break;
		}
		case NO_COUNT:
			opt.count = false;
			break;
		case CSV:
			if (optarg)
				opt.csv_file = optarg;
			else
				opt.csv = true;
			break;
		case HELP:
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	if (!only_given)
		opt.lifecycle = opt.handoff = opt.fill = true;
	if (opt.small) {
		if (!max_size_given)
			opt.max_size = 16 * MiB;
		if (!cycles_given)
			opt.lifecycle_cycles = 100;
	}
}

int main(int argc, char **argv)
{
	bool ok;

	parse_options(argc, argv);
	load_at_start = load_average();
	/* A receiver that dies must not kill the benchmark with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	if (opt.lifecycle)
		bench_lifecycle();
	if (opt.handoff)
		bench_handoff();
	if (opt.fill)
		bench_fill();

	if (opt.csv_file) {
		FILE *f = fopen(opt.csv_file, "we");

		if (!f)
			die("%s: %s", opt.csv_file, strerror(errno));
		print_csv(f);
		if (fclose(f) != 0)
			die("%s: %s", opt.csv_file, strerror(errno));
	}
	if (opt.csv) {
		print_csv(stdout);
	} else {
		print_machine();
		if (opt.lifecycle)
			print_lifecycle();
		if (opt.handoff) {
			print_handoff("handoff", "handoff: give a sealed buffer to another process, which reads its\n"
				      "first and last byte and acknowledges it");
			print_handoff("stream", "handoff, streamed: the same, the next buffer sent without waiting,\n"
				      "one acknowledgment per round");
		}
		if (opt.fill)
			print_fill();
	}
	ok = lifecycle_syscalls_ok();
	if (!ok)
		fprintf(stderr, "memfd-bench: libmemfd made more system calls per cycle than the raw sequence\n");
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
