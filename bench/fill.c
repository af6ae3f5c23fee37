/* SPDX-License-Identifier: MIT */
/*
 * fill: fill a new memfd, from nothing to filled, through mfd_write,
 * mfd_pwrite, a mapping that takes page faults, a LIBMEMFD_MAP_POPULATE
 * mapping and one prefaulted by MADV_POPULATE_WRITE, against memset of new
 * anonymous memory.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmemfd.h"
#include "harness.h"
#include "report.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Write in chunks of this size. */
#define CHUNK (1 * MiB)

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

static void print_fill(void)
{
	const struct result *ceiling = find_result("fill", "memset anonymous", opt.max_size);
	char size[32], calls[16];

	if (!ceiling)
		return;
	format_size(size, opt.max_size);
	printf("\nfill: a new %s buffer, from nothing to filled (%d rounds)\n", size, ceiling->rounds);
	printf("  %-36s %9s %7s %10s %12s %9s\n", "", "ms", "GiB/s", "vs memset", "faults/page", "syscalls");
	for (size_t v = 0; v < N_FILL; v++) {
		const struct result *r = find_result("fill", fill_variants[v].name, opt.max_size);
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

const struct section fill_section = {
	.name = "fill",
	.run = bench_fill,
	.print = print_fill,
};
