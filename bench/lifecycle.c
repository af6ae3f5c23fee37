/* SPDX-License-Identifier: MIT */
/*
 * lifecycle: create, size, seal, map, touch a byte, unmap, free: through
 * libmemfd, through the raw system calls, and through shm_open +
 * shm_unlink. The one target a run checks for certain: libmemfd makes no
 * more system calls per cycle than the raw sequence.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libmemfd.h"
#include "harness.h"
#include "report.h"

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif

/* The seals the cycle adds: the mapping stays writable. */
#define CYCLE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

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

/* The one target a run can check for certain: system calls are counted,
 * not timed. */
static bool lifecycle_syscalls_ok(void)
{
	const struct result *raw = find_result("lifecycle", "raw system calls", (uint64_t)sysconf(_SC_PAGESIZE));
	const struct result *lib = raw ? find_result("lifecycle", "libmemfd", raw->size) : NULL;

	if (!lib || lib->syscalls.per_op <= raw->syscalls.per_op)
		return true;
	fprintf(stderr, "memfd-bench: libmemfd made more system calls per cycle than the raw sequence\n");
	return false;
}

static void print_lifecycle(void)
{
	const struct result *raw = find_result("lifecycle", "raw system calls", (uint64_t)sysconf(_SC_PAGESIZE));
	const struct result *lib = raw ? find_result("lifecycle", "libmemfd", raw->size) : NULL;
	char calls[16];

	if (!raw || !lib)
		return;
	printf("\nlifecycle: create, size %" PRIu64 ", seal, map, touch a byte, unmap, free"
	       " (%ld cycles x %d rounds)\n", raw->size, raw->ops, raw->rounds);
	printf("  %-22s %10s %8s %9s  %s\n", "", "ns/cycle", "vs raw", "syscalls", "calls of one cycle");
	for (size_t v = 0; v < N_LIFECYCLE; v++) {
		const struct result *r = find_result("lifecycle", lifecycle_variants[v].name, raw->size);

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

const struct section lifecycle_section = {
	.name = "lifecycle",
	.run = bench_lifecycle,
	.print = print_lifecycle,
	.check = lifecycle_syscalls_ok,
};
