/* SPDX-License-Identifier: MIT */
/*
 * The measuring harness every section uses: the options, the clocks (timing
 * and the marks that bracket what the system call counter counts), the
 * rounds-and-medians loop and the results it records.
 */
#ifndef MEMFD_BENCH_HARNESS_H
#define MEMFD_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* What the buffers the sections fill and hand off are filled with. */
#define FILL_BYTE 0x5a

#define MAX_RESULTS 128
#define MAX_ROUNDS 128

/* The command line (main.c). */
struct options {
	uint64_t max_size;
	int rounds; /* 0: each section's default */
	long lifecycle_cycles;
	bool small;
	bool csv;             /* CSV on stdout instead of tables */
	const char *csv_file; /* tables on stdout, CSV into this file */
	bool count;
};
extern struct options opt;

/* One of the benchmark's sections (listed in sections.h). */
struct section {
	const char *name;  /* for --only */
	void (*run)(void); /* measure, recording results */
	void (*print)(void); /* its tables, from the results */
	/* NULL, or false if the run missed a target it checks for certain
	 * (counted, not timed): the benchmark then exits with 1. */
	bool (*check)(void);
};

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Die with the error of a call that returned a negative errno. */
void check(long r, const char *what);
/* Die with errno if r < 0. */
void check_errno(long r, const char *what);
/* The number a /proc file starts with, or -1. */
double proc_number(const char *path);
/* All of len, retrying on EINTR; die on error. */
void write_all(int fd, const void *buf, size_t len);
/* false at end of file before the first byte; die on error or a short read */
bool read_all(int fd, void *buf, size_t len);

/*
 * Time the part of an operation that counts, and bracket it for the system
 * call counter: what is timed is what is counted. clock_stop() returns the
 * nanoseconds since clock_start().
 */
uint64_t clock_start(void);
uint64_t clock_stop(uint64_t start);

/*
 * Set in a process the counter traces, during the counted operations. A
 * second process that takes part (a receiver) brackets its own share with
 * mark(MARK_BEGIN) and mark(MARK_END) while it is set.
 */
extern bool traced;
#define MARK_BEGIN (-0x6d6662)
#define MARK_END (-0x6d6665)
void mark(int which);

struct syscall_count {
	double per_op;      /* < 0: could not be counted */
	char sequence[256]; /* one operation's calls, where one process makes them */
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

/* Every result so far, in the order measured. */
extern struct result results[MAX_RESULTS];
extern size_t n_results;

struct variant {
	const char *name;
	/* Make n operations; return the nanoseconds the timed parts took. */
	uint64_t (*run)(void *fixture, uint64_t size, long n);
};

/*
 * Run the variants in turn, rounds times, ops[v] operations of variant v a
 * round (after one warm-up run of each if warm_up), and record their
 * medians as results of `section`: the first of n_variants, in order.
 */
struct result *measure(const char *section, const struct variant *variants,
		       size_t n_variants, void *fixture, uint64_t size,
		       const long *ops, int rounds, bool warm_up);

/*
 * Count the system calls of each variant (unless --no-count) into
 * res[v].syscalls: in a traced child that calls setup(size), runs the
 * variant once uncounted, ops[v] operations counted, then teardown().
 */
void count_variants(struct result *res, const struct variant *variants, size_t n,
		    void *(*setup)(uint64_t size), void (*teardown)(void *fixture),
		    uint64_t size, const long *ops);

/* --rounds, or the section's default. */
int rounds_or(int section_default);

#endif
