/* SPDX-License-Identifier: MIT */
/*
 * guard: what LIBMEMFD_MAP_GUARD costs, against the same mapping made
 * without it, in one run: making and unmapping one (after the first, which
 * installs the SIGBUS handler), reading a mapping that takes no fault, and
 * touching each page of a new one (page faults, none of them a SIGBUS).
 * Then what a broken promise costs: a page the file no longer backs,
 * repaired, against an ordinary page fault. The one target a run checks
 * for certain: a guarded mapping takes no more system calls to make.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmemfd.h"
#include "harness.h"
#include "report.h"

#define MAP_SIZE (64 * KiB)  /* made and unmapped */
#define REPAIR_PAGES 64      /* faulted, or repaired, a mapping */

struct guard_fixture {
	bool ready;
	uint64_t page, size;   /* size: what is read and touched */
	struct mfd *file;      /* size bytes, filled */
	struct mfd *shrunk;    /* REPAIR_PAGES recorded, none left in the file */
	const uint64_t *plain, *guarded; /* the file, populated, mapped both ways */
};

/* Where the reads go, so that the compiler keeps them. */
static volatile uint64_t sink;

static void *guard_setup(uint64_t size)
{
	static struct guard_fixture f;
	void *p;

	if (f.ready)
		return &f;
	f.page = (uint64_t)sysconf(_SC_PAGESIZE);
	f.size = size;
	check(mfd_new(&f.file, "bench-guard", 0), "mfd_new");
	check(mfd_allocate(f.file, 0, size), "mfd_allocate");
	check(mfd_map(f.file, 0, size, PROT_READ | PROT_WRITE, 0, &p), "mfd_map");
	memset(p, FILL_BYTE, size);
	check(mfd_unmap(p, size), "mfd_unmap");
	check(mfd_map(f.file, 0, size, PROT_READ, LIBMEMFD_MAP_POPULATE, &p), "mfd_map");
	f.plain = p;
	check(mfd_map(f.file, 0, size, PROT_READ, LIBMEMFD_MAP_GUARD | LIBMEMFD_MAP_POPULATE, &p),
	      "mfd_map");
	f.guarded = p;
	/* Shrunk behind the handle's back: mfd_size still says the pages
	 * are there, so mfd_map maps them, and each touch is a SIGBUS. */
	check(mfd_new(&f.shrunk, "bench-shrunk", 0), "mfd_new");
	check(mfd_set_size(f.shrunk, REPAIR_PAGES * f.page), "mfd_set_size");
	check_errno(ftruncate(mfd_fd(f.shrunk), 0), "ftruncate");
	f.ready = true;
	return &f;
}

static void guard_teardown(void *fixture)
{
}

static uint64_t map_unmap(const struct guard_fixture *f, long n, unsigned int flags)
{
	uint64_t t = clock_start();

	for (long i = 0; i < n; i++) {
		void *p;

		check(mfd_map(f->file, 0, MAP_SIZE, PROT_READ | PROT_WRITE, flags, &p), "mfd_map");
		check(mfd_unmap(p, MAP_SIZE), "mfd_unmap");
	}
	return clock_stop(t);
}

static uint64_t map_plain(void *fixture, uint64_t size, long n)
{
	return map_unmap(fixture, n, 0);
}

static uint64_t map_guarded(void *fixture, uint64_t size, long n)
{
	return map_unmap(fixture, n, LIBMEMFD_MAP_GUARD);
}

static uint64_t read_all_of(const uint64_t *p, uint64_t size, long n)
{
	uint64_t t = clock_start(), sum = 0;

	for (long i = 0; i < n; i++)
		for (size_t k = 0; k < size / sizeof(*p); k++)
			sum += p[k];
	t = clock_stop(t);
	sink = sum;
	return t;
}

static uint64_t read_plain(void *fixture, uint64_t size, long n)
{
	return read_all_of(((struct guard_fixture *)fixture)->plain, size, n);
}

static uint64_t read_guarded(void *fixture, uint64_t size, long n)
{
	return read_all_of(((struct guard_fixture *)fixture)->guarded, size, n);
}

/* Map, write a byte to each page (a page fault each), unmap. */
static uint64_t touch_pages(struct mfd *m, uint64_t page, uint64_t size, long n,
			    unsigned int flags)
{
	uint64_t t = clock_start();

	for (long i = 0; i < n; i++) {
		void *q;
		char *p;

		check(mfd_map(m, 0, size, PROT_READ | PROT_WRITE, flags, &q), "mfd_map");
		p = q;
		for (uint64_t off = 0; off < size; off += page)
			*(volatile char *)(p + off) = 1;
		check(mfd_unmap(q, size), "mfd_unmap");
	}
	return clock_stop(t);
}

static uint64_t touch_plain(void *fixture, uint64_t size, long n)
{
	struct guard_fixture *f = fixture;

	return touch_pages(f->file, f->page, size, n, 0);
}

static uint64_t touch_guarded(void *fixture, uint64_t size, long n)
{
	struct guard_fixture *f = fixture;

	return touch_pages(f->file, f->page, size, n, LIBMEMFD_MAP_GUARD);
}

static uint64_t fault_from_file(void *fixture, uint64_t size, long n)
{
	struct guard_fixture *f = fixture;

	return touch_pages(f->file, f->page, REPAIR_PAGES * f->page, n, 0);
}

static uint64_t fault_repaired(void *fixture, uint64_t size, long n)
{
	struct guard_fixture *f = fixture;

	return touch_pages(f->shrunk, f->page, REPAIR_PAGES * f->page, n, LIBMEMFD_MAP_GUARD);
}

static const struct variant map_variants[] = {
	{ "mfd_map+mfd_unmap", map_plain },
	{ "mfd_map(GUARD)+mfd_unmap", map_guarded },
};
static const struct variant read_variants[] = {
	{ "read all, unguarded", read_plain },
	{ "read all, guarded", read_guarded },
};
static const struct variant touch_variants[] = {
	{ "map, touch each page, unmap", touch_plain },
	{ "the same, guarded", touch_guarded },
};
static const struct variant repair_variants[] = {
	{ "a page fault, from the file", fault_from_file },
	{ "a SIGBUS, page repaired", fault_repaired },
};

static uint64_t guard_size(void)
{
	return opt.small ? 1 * MiB : 16 * MiB;
}

static void measure_pair(const struct variant *variants, long ops, long count_ops, int rounds)
{
	const long o[2] = { ops, ops }, c[2] = { count_ops, count_ops };
	void *fixture = guard_setup(guard_size());
	struct result *res;

	res = measure("guard", variants, 2, fixture, guard_size(), o, rounds, true);
	count_variants(res, variants, 2, guard_setup, guard_teardown, guard_size(), c);
}

static void bench_guard(void)
{
	int rounds = rounds_or(opt.small ? 5 : 31);

	measure_pair(map_variants, opt.small ? 200 : 2000, 100, rounds);
	measure_pair(read_variants, opt.small ? 4 : 16, 1, rounds);
	measure_pair(touch_variants, opt.small ? 2 : 8, 1, rounds);
	measure_pair(repair_variants, opt.small ? 4 : 32, 2, rounds);
}

static const struct result *guard_result(const struct variant *v)
{
	return find_result("guard", v->name, guard_size());
}

/* The one target a run can check for certain: system calls are counted,
 * not timed. */
static bool guard_syscalls_ok(void)
{
	const struct result *plain = guard_result(&map_variants[0]);
	const struct result *guarded = guard_result(&map_variants[1]);

	if (!plain || !guarded || guarded->syscalls.per_op <= plain->syscalls.per_op)
		return true;
	fprintf(stderr, "memfd-bench: a guarded mfd_map made more system calls than an unguarded one\n");
	return false;
}

static void print_pair(const struct variant *variants, const char *unit, double per)
{
	const struct result *base = guard_result(&variants[0]);
	char calls[16];

	for (size_t v = 0; v < 2 && base; v++) {
		const struct result *r = guard_result(&variants[v]);

		format_syscalls(calls, r);
		printf("  %-32s %12.1f %-5s %9.3f %9s  %s\n", r->variant, r->median_ns / per, unit,
		       r->median_ns / base->median_ns, calls, r->syscalls.sequence);
	}
}

static void print_guard(void)
{
	const struct result *map[2] = { guard_result(&map_variants[0]), guard_result(&map_variants[1]) };
	const struct result *read[2] = { guard_result(&read_variants[0]), guard_result(&read_variants[1]) };
	const struct result *touch[2] = { guard_result(&touch_variants[0]), guard_result(&touch_variants[1]) };
	const struct result *repair = guard_result(&repair_variants[1]);
	double page = (double)sysconf(_SC_PAGESIZE), pages = (double)guard_size() / page;
	char size[32], map_size[32];

	if (!map[0] || !map[1] || !read[0] || !read[1] || !touch[0] || !touch[1] || !repair)
		return;
	format_size(size, guard_size());
	format_size(map_size, MAP_SIZE);
	printf("\nguard: LIBMEMFD_MAP_GUARD against the same mapping without it (%d rounds)\n",
	       map[0]->rounds);
	printf("  %-32s %18s %9s %9s  %s\n", "", "time", "vs first", "syscalls", "calls of one");
	printf("  make and unmap a %s mapping, after the first guarded one:\n", map_size);
	print_pair(map_variants, "ns", 1);
	printf("  read a populated %s mapping, no fault:\n", size);
	print_pair(read_variants, "us", 1000);
	printf("  a new %s mapping, a byte written to each page:\n", size);
	print_pair(touch_variants, "ns/pg", pages);
	printf("  the first touch of a page, %d pages a mapping:\n", REPAIR_PAGES);
	print_pair(repair_variants, "ns/pg", REPAIR_PAGES);
	if (repair->syscalls.per_op >= 0 && map[0]->syscalls.per_op >= 0)
		printf("  a repaired page: %.1f system calls of the handler's (gettid, madvise, mmap,"
		       " rt_sigreturn)\n",
		       (repair->syscalls.per_op - map[0]->syscalls.per_op) / REPAIR_PAGES);
	printf("  target: no more system calls to make: %s; touching costs nothing: "
	       "read %+.1f%%, page faults %+.1f%%\n",
	       map[1]->syscalls.per_op < 0 ? "not counted"
	       : map[1]->syscalls.per_op <= map[0]->syscalls.per_op ? "met" : "NOT MET",
	       (read[1]->median_ns / read[0]->median_ns - 1) * 100,
	       (touch[1]->median_ns / touch[0]->median_ns - 1) * 100);
}

const struct section guard_section = {
	.name = "guard",
	.run = bench_guard,
	.print = print_guard,
	.check = guard_syscalls_ok,
};
