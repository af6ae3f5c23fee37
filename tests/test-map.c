/* SPDX-License-Identifier: MIT */
/* map.c: mfd_map, mfd_unmap. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syscall-filter.h"
#include "test-common.h"

/* seed: mmap_page */
START_TEST(test_seed_mmap_page)
{
	struct mfd *m = NULL;
	void *mmap1 = NULL, *mmap2 = NULL;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	ck_assert_int_eq(mfd_set_size(m, 4096), 0);
	ck_assert_int_eq(mfd_map(m, 0, (size_t)mfd_size(m), PROT_READ | PROT_WRITE, 0, &mmap1), 0);
	ck_assert_int_eq(mfd_map(m, 0, (size_t)mfd_size(m), PROT_READ | PROT_WRITE, 0, &mmap2), 0);
	ck_assert_ptr_ne(mmap1, mmap2);
	memset(mmap1, 0x45, 4096);
	for (size_t i = 0; i < 4096; i++)
		ck_assert_uint_eq(((const volatile uint8_t *)mmap2)[i], 0x45u);
	ck_assert_int_eq(mfd_unmap(mmap1, 4096), 0);
	ck_assert_int_eq(mfd_unmap(mmap2, 4096), 0);
	mfd_free(m);
}
END_TEST

/* seed: mmap_page_offset */
START_TEST(test_seed_mmap_page_offset)
{
	struct mfd *m = NULL;
	void *mmap1 = POISON_PTR, *mmap2 = NULL;
	size_t size;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	ck_assert_int_eq(mfd_set_size(m, 8092), 0);
	size = (size_t)mfd_size(m);
	/* Adapted: the seed maps size bytes from offset 4096, reaching past
	 * the file's last page, which mfd_map refuses (touching it would
	 * raise SIGBUS). Map what the file holds past 4096 instead. */
	ck_assert_int_eq(mfd_map(m, 4096, size, PROT_READ | PROT_WRITE, 0, &mmap1), -ENXIO);
	ck_assert_ptr_eq(mmap1, POISON_PTR);
	ck_assert_int_eq(mfd_map(m, 4096, size - 4096, PROT_READ | PROT_WRITE, 0, &mmap1), 0);
	ck_assert_int_eq(mfd_map(m, 0, size, PROT_READ | PROT_WRITE, 0, &mmap2), 0);
	memset(mmap1, 0x45, 4096);
	for (size_t i = 0; i < 4096; i++)
		ck_assert_uint_eq(((const volatile uint8_t *)mmap2)[i], 0);
	for (size_t i = 4096; i < 8092; i++)
		ck_assert_uint_eq(((const volatile uint8_t *)mmap2)[i], 0x45u);
	ck_assert_int_eq(mfd_unmap(mmap1, size - 4096), 0);
	ck_assert_int_eq(mfd_unmap(mmap2, size), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_invalid_arguments)
{
	struct mfd *m = new_sized_mfd("args", 4 * 4096);
	uint64_t page = page_size();
	struct resources before = resources_now();
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_map(m, 0, 0, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 1, 4096, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, page / 2, 4096, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, page + 1, 1, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, LIBMEMFD_MAP_GUARD << 1, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, 0x80000000u, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, LIBMEMFD_MAP_POPULATE | 0x80000000u, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, ~0u, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ | 0x100, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 4096, -1, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(NULL, 0, 4096, PROT_READ, 0, &p), -EINVAL);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, 0, NULL), -EINVAL);
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_overflowing_range)
{
	struct mfd *m = new_sized_mfd("overflow", 4096);
	uint64_t page = page_size();
	uint64_t top = UINT64_MAX / page * page;
	uint64_t top_off = (uint64_t)INT64_MAX / page * page;
	struct resources before = resources_now();
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_map(m, top, 2 * page, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, top, page, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, top_off, 2 * page, PROT_READ, 0, &p), -EINVAL);
#if SIZE_MAX > UINT32_MAX
	/* Only a 64-bit size_t can overflow off_t. */
	ck_assert_int_eq(mfd_map(m, 0, SIZE_MAX, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, page, SIZE_MAX - page + 1, PROT_READ, 0, &p), -EINVAL);
#endif
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_past_last_page)
{
	uint64_t page = page_size();
	struct mfd *m = new_sized_mfd("bounds", 2 * page + 100);
	struct resources before = resources_now();
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_map(m, 0, 3 * page + 1, PROT_READ, 0, &p), -ENXIO);
	ck_assert_int_eq(mfd_map(m, 3 * page, 1, PROT_READ, 0, &p), -ENXIO);
	ck_assert_int_eq(mfd_map(m, 2 * page, page + 1, PROT_READ, 0, &p), -ENXIO);
	ck_assert_int_eq(mfd_map(m, 100 * page, page, PROT_READ, 0, &p), -ENXIO);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_resources_unchanged(before);

	/* The page holding the last byte can be mapped whole. */
	ck_assert_int_eq(mfd_map(m, 0, 3 * page, PROT_READ | PROT_WRITE, 0, &p), 0);
	((volatile char *)p)[3 * page - 1] = 1;
	ck_assert_int_eq(mfd_unmap(p, 3 * page), 0);
	ck_assert_int_eq(mfd_map(m, 2 * page, 1, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 1), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_empty_file)
{
	struct mfd *m = NULL;
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_new(&m, "empty", 0), 0);
	ck_assert_int_eq(mfd_map(m, 0, 1, PROT_READ, 0, &p), -ENXIO);
	ck_assert_ptr_eq(p, POISON_PTR);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_grown_elsewhere)
{
	uint64_t page = page_size();
	struct mfd *m = new_sized_mfd("grown", page);
	void *p = NULL;

	/* Past the recorded size, mfd_map asks the file itself. */
	ck_assert_int_eq(ftruncate(mfd_fd(m), 4 * page), 0);
	ck_assert_int_eq(mfd_map(m, 0, 4 * page, PROT_READ | PROT_WRITE, 0, &p), 0);
	((volatile char *)p)[4 * page - 1] = 1;
	ck_assert_int_eq(mfd_unmap(p, 4 * page), 0);
	ck_assert_uint_eq(mfd_size(m), page);
	ck_assert_int_eq(mfd_map(m, 0, 5 * page, PROT_READ, 0, &p), -ENXIO);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_within_recorded_size_asks_nothing)
{
	uint64_t page = page_size();
	struct mfd *m = new_sized_mfd("trusted", 4 * page);
	void *p = NULL;

	/* Within the recorded size the check costs no system call, so a
	 * shrink through another descriptor goes unseen (the mapping is
	 * not touched: its tail would now raise SIGBUS). */
	ck_assert_int_eq(ftruncate(mfd_fd(m), page), 0);
	ck_assert_int_eq(mfd_map(m, 0, 4 * page, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 4 * page), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_prot_none_and_read)
{
	struct mfd *m = new_sized_mfd("prot", 4096);
	void *p = NULL;

	ck_assert_int_eq(mfd_pwrite(m, "hi", 2, 0), 2);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_NONE, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 4096), 0);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(memcmp(p, "hi", 2), 0);
	ck_assert_int_eq(mfd_unmap(p, 4096), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_read_only_descriptor)
{
	struct mfd *m = new_sized_mfd("rw", 4096), *ro = NULL;
	struct resources before;
	void *p = POISON_PTR;

	ro = adopt_read_only(m);
	before = resources_now();
	ck_assert_int_eq(mfd_map(ro, 0, 4096, PROT_READ | PROT_WRITE, 0, &p), -EACCES);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_resources_unchanged(before);
	ck_assert_int_eq(mfd_map(ro, 0, 4096, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 4096), 0);
	mfd_free(ro);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_write_sealed_shared_read_only)
{
	struct mfd *m = new_sized_mfd("sealed", 4096), *other = NULL;
	void *p = NULL, *q = NULL;

	ck_assert_int_eq(mfd_pwrite(m, "sealed", 6, 0), 6);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE | F_SEAL_SHRINK), 0);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(memcmp(p, "sealed", 6), 0);
	/* Through a second handle on a read-only descriptor too. */
	other = adopt_read_only(m);
	ck_assert_int_eq(mfd_map(other, 0, 4096, PROT_READ, 0, &q), 0);
	ck_assert_int_eq(memcmp(q, "sealed", 6), 0);
	ck_assert_int_eq(mfd_unmap(q, 4096), 0);
	ck_assert_int_eq(mfd_unmap(p, 4096), 0);
	mfd_free(other);
	mfd_free(m);
}
END_TEST

START_TEST(test_unmap_errors)
{
	struct mfd *m = new_sized_mfd("unmap", 2 * page_size());
	void *p = NULL;

	ck_assert_int_eq(mfd_unmap(NULL, 4096), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 2 * page_size(), PROT_READ, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 0), -EINVAL);
	ck_assert_int_eq(mfd_unmap((char *)p + 1, page_size()), -EINVAL);
	ck_assert_int_eq(((const volatile char *)p)[0], 0);
	ck_assert_int_eq(mfd_unmap(p, 2 * page_size()), 0);
	mfd_free(m);
}
END_TEST

/* How many pages of [addr, addr + length) are in the file's page cache. */
static size_t pages_resident(void *addr, size_t length)
{
	size_t page = page_size(), n = (length + page - 1) / page, count = 0;
	unsigned char vec[64];

	ck_assert_uint_le(n, sizeof(vec));
	ck_assert_int_eq(mincore(addr, length, vec), 0);
	for (size_t i = 0; i < n; i++)
		count += vec[i] & 1;
	return count;
}

static uint64_t bytes_allocated(const struct mfd *m)
{
	struct stat st;

	ck_assert_int_eq(fstat(mfd_fd(m), &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

START_TEST(test_map_populate)
{
	const size_t pages = 16, page = page_size(), length = pages * page;
	struct mfd *m = new_sized_mfd("populate", length);
	volatile uint8_t *bytes;
	void *p = NULL, *q = NULL;
	uint8_t last = 0;

	/* Without the flag, the pages come one fault at a time. */
	ck_assert_int_eq(mfd_map(m, 0, length, PROT_READ | PROT_WRITE, 0, &p), 0);
	ck_assert_uint_eq(pages_mapped(p, length), 0);
	ck_assert_uint_eq(pages_resident(p, length), 0);
	ck_assert_uint_eq(bytes_allocated(m), 0);
	ck_assert_int_eq(mfd_unmap(p, length), 0);

	/* With it, every page is allocated and mapped before mfd_map returns. */
	ck_assert_int_eq(mfd_map(m, 0, length, PROT_READ | PROT_WRITE, LIBMEMFD_MAP_POPULATE, &p), 0);
	ck_assert_uint_eq(pages_mapped(p, length), pages);
	ck_assert_uint_eq(pages_resident(p, length), pages);
	/* At least: with shmem huge pages on, a whole huge page may back it. */
	ck_assert_uint_ge(bytes_allocated(m), length);
	ck_assert_uint_eq(mfd_size(m), length);
	bytes = p;
	for (size_t i = 0; i < length; i += page)
		ck_assert_uint_eq(bytes[i] | bytes[i + page - 1], 0);

	/* Writable and shared like any other mapping. */
	memset(p, 0x5a, length);
	ck_assert_int_eq(mfd_pread(m, &last, 1, length - 1), 1);
	ck_assert_uint_eq(last, 0x5a);
	ck_assert_int_eq(mfd_map(m, page, length - page, PROT_READ, LIBMEMFD_MAP_POPULATE, &q), 0);
	ck_assert_uint_eq(pages_mapped(q, length - page), pages - 1);
	ck_assert_uint_eq(((const volatile uint8_t *)q)[0], 0x5a);
	ck_assert_int_eq(mfd_unmap(q, length - page), 0);
	ck_assert_int_eq(mfd_unmap(p, length), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_populate_write_sealed)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("sealed", 2 * page);
	const volatile uint8_t *bytes;
	void *p = NULL;

	/* One page written, one a hole: both are there to read at once. */
	ck_assert_int_eq(mfd_pwrite(m, "sealed", 6, 0), 6);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE), 0);
	ck_assert_int_eq(mfd_map(m, 0, 2 * page, PROT_READ, LIBMEMFD_MAP_POPULATE, &p), 0);
	ck_assert_uint_eq(pages_mapped(p, 2 * page), 2);
	bytes = p;
	ck_assert_int_eq(memcmp(p, "sealed", 6), 0);
	ck_assert_uint_eq(bytes[page], 0);
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_map_populate_prot_none)
{
	size_t length = 4 * page_size();
	struct mfd *m = new_sized_mfd("none", length);
	void *p = NULL;

	/* Nothing can be faulted in through PROT_NONE: the kernel skips it. */
	ck_assert_int_eq(mfd_map(m, 0, length, PROT_NONE, LIBMEMFD_MAP_POPULATE, &p), 0);
	ck_assert_uint_eq(pages_mapped(p, length), 0);
	ck_assert_uint_eq(bytes_allocated(m), 0);
	ck_assert_int_eq(mfd_unmap(p, length), 0);
	mfd_free(m);
}
END_TEST

static int map_bounds_without_fstat(void *unused)
{
	/* Every call that could tell the file's size or state, but mmap. */
	static const struct denial deny[] = {
		{ .call = CALL_FSTAT, .err = EIO },
		{ .call = CALL_FSTATFS, .err = EIO },
		{ .call = CALL_FCNTL, .err = EIO },
		{ .call = CALL_LSEEK, .err = EIO },
		{ .call = CALL_READLINK, .err = EIO },
		{ .call = CALL_PREAD, .err = EIO },
	};
	struct resources before = resources_now();
	uint64_t page = page_size();
	struct mfd *m = new_sized_mfd("nofstat", 2 * page);
	void *p = POISON_PTR;

	CHILD_CHECK(deny_syscalls(deny, ARRAY_SIZE(deny)) == 0);
	/* Within the recorded size: no other call, so no denial is met. */
	CHILD_CHECK(mfd_map(m, 0, 2 * page, PROT_READ, 0, &p) == 0);
	CHILD_CHECK(mfd_unmap(p, 2 * page) == 0);
	/* Beyond it the file is asked, and its failure passed on. */
	p = POISON_PTR;
	CHILD_CHECK(mfd_map(m, 0, 3 * page, PROT_READ, 0, &p) == -EIO);
	CHILD_CHECK(p == POISON_PTR);
	mfd_free(m);
	CHILD_CHECK(resources_now().maps == before.maps);
	CHILD_CHECK(resources_now().fds == before.fds);
	return 0;
}

START_TEST(test_map_within_size_makes_no_fstat)
{
	ck_assert_child_ok(map_bounds_without_fstat, NULL);
}
END_TEST

static int map_when_mmap_fails(void *unused)
{
	/* Shared mappings only: malloc (and valgrind) need private ones. */
	static const struct denial deny = { .call = CALL_MMAP, .err = ENOMEM, .when = { { 3, ARG_HAS_BITS, MAP_SHARED } } };
	struct mfd *m = new_sized_mfd("nomem", 4096);
	void *p = POISON_PTR;

	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	CHILD_CHECK(mfd_map(m, 1, 4096, PROT_READ, 0, &p) == -EINVAL);
	CHILD_CHECK(mfd_map(m, 0, 4096, PROT_READ | PROT_WRITE, 0, &p) == -ENOMEM);
	CHILD_CHECK(p == POISON_PTR);
	mfd_free(m);
	return 0;
}

START_TEST(test_map_mmap_failure)
{
	ck_assert_child_ok(map_when_mmap_fails, NULL);
}
END_TEST

/* A page that reads "frozen", sealed against writes. */
static struct mfd *new_frozen_mfd(void)
{
	struct mfd *m = new_sized_mfd("frozen", 4096);

	ck_assert_int_eq(mfd_pwrite(m, "frozen", 6, 0), 6);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE), 0);
	return m;
}

/* Before 6.7 the kernel refuses every shared mapping of a write-sealed
 * memfd through a writable descriptor, read-only ones included, with
 * EPERM; through a read-only descriptor it allows them. */
static int map_on_kernel_refusing_shared_read_only(void *unused)
{
	struct mfd *sealed = new_frozen_mfd();
	struct mfd *open = new_sized_mfd("open", 4096);
	const struct denial deny[] = {
		{ .call = CALL_MMAP, .err = EPERM,
		  .when = { { 3, ARG_HAS_BITS, MAP_SHARED },
			    { 4, ARG_EQUALS, (uint32_t)mfd_fd(sealed) } } },
		{ .call = CALL_MMAP, .err = EPERM,
		  .when = { { 3, ARG_HAS_BITS, MAP_SHARED },
			    { 4, ARG_EQUALS, (uint32_t)mfd_fd(open) } } },
	};
	struct resources before = resources_now();
	void *p = POISON_PTR;

	CHILD_CHECK(deny_syscalls(deny, 2) == 0);

	/* Read-only and write-sealed: shared through a read-only descriptor,
	 * so it can never be made writable. */
	CHILD_CHECK(mfd_map(sealed, 0, 4096, PROT_READ, 0, &p) == 0);
	CHILD_CHECK(memcmp(p, "frozen", 6) == 0);
	CHILD_CHECK(mprotect(p, 4096, PROT_READ | PROT_WRITE) == -1);
	CHILD_CHECK(resources_now().fds == before.fds);
	CHILD_CHECK(mfd_unmap(p, 4096) == 0);
	/* The fallback prefaults too. */
	CHILD_CHECK(mfd_map(sealed, 0, 4096, PROT_READ, LIBMEMFD_MAP_POPULATE, &p) == 0);
	CHILD_CHECK(pages_mapped(p, 4096) == 1);
	CHILD_CHECK(memcmp(p, "frozen", 6) == 0);
	CHILD_CHECK(mfd_unmap(p, 4096) == 0);
	/* Otherwise the kernel's refusal stands. */
	p = POISON_PTR;
	CHILD_CHECK(mfd_map(sealed, 0, 4096, PROT_READ | PROT_WRITE, 0, &p) == -EPERM);
	CHILD_CHECK(mfd_map(open, 0, 4096, PROT_READ, 0, &p) == -EPERM);
	CHILD_CHECK(p == POISON_PTR);
	CHILD_CHECK(resources_now().maps == before.maps);
	mfd_free(open);
	mfd_free(sealed);
	return 0;
}

START_TEST(test_map_write_sealed_on_older_kernel)
{
	ck_assert_child_ok(map_on_kernel_refusing_shared_read_only, NULL);
}
END_TEST

/* The same without /proc to reopen the memfd read-only: a private mapping
 * shows the same bytes, since they can no longer change. Where that
 * fails too, its error is the answer. */
static int map_write_sealed_without_proc(void *unused)
{
	/* Only the opens of openat(2) with O_CLOEXEC, as the library's are:
	 * exit_child's, and gcov's that write a coverage build's counters,
	 * must still work. */
	static const struct denial deny[] = {
		{ .call = CALL_MMAP, .err = EPERM, .when = { { 3, ARG_HAS_BITS, MAP_SHARED } } },
		{ .call = CALL_OPEN, .err = ENOENT, .when = { { 2, ARG_HAS_BITS, O_CLOEXEC } } },
	};
	struct mfd *sealed = new_frozen_mfd();
	struct denial no_private = {
		.call = CALL_MMAP, .err = ENOMEM,
		.when = { { 3, ARG_HAS_BITS, MAP_PRIVATE },
			  { 4, ARG_EQUALS, (uint32_t)mfd_fd(sealed) } },
	};
	void *p = POISON_PTR;

	/* (resources_now() needs open, so no counting here.) */
	CHILD_CHECK(deny_syscalls(deny, 2) == 0);
	CHILD_CHECK(mfd_map(sealed, 0, 4096, PROT_READ, 0, &p) == 0);
	CHILD_CHECK(memcmp(p, "frozen", 6) == 0);
	CHILD_CHECK(mfd_unmap(p, 4096) == 0);
	CHILD_CHECK(mfd_map(sealed, 0, 4096, PROT_READ, LIBMEMFD_MAP_POPULATE, &p) == 0);
	CHILD_CHECK(memcmp(p, "frozen", 6) == 0);
	CHILD_CHECK(mfd_unmap(p, 4096) == 0);
	p = POISON_PTR;
	CHILD_CHECK(deny_syscalls(&no_private, 1) == 0);
	CHILD_CHECK(mfd_map(sealed, 0, 4096, PROT_READ, 0, &p) == -ENOMEM);
	CHILD_CHECK(p == POISON_PTR);
	mfd_free(sealed);
	return 0;
}

START_TEST(test_map_write_sealed_on_older_kernel_without_proc)
{
	ck_assert_child_ok(map_write_sealed_without_proc, NULL);
}
END_TEST

START_TEST(test_map_write_sealed_read_only_descriptor)
{
	const unsigned int seals[] = { F_SEAL_WRITE, F_SEAL_FUTURE_WRITE };

	for (size_t i = 0; i < ARRAY_SIZE(seals); i++) {
		struct mfd *m = new_sized_mfd("sealed", 4096), *ro = NULL;
		void *p = POISON_PTR;

		if (seals[i] == F_SEAL_FUTURE_WRITE && !kernel_has_future_write_seal()) {
			mfd_free(m);
			continue;
		}
		ck_assert_int_eq(mfd_add_seals(m, seals[i]), 0);
		ro = adopt_read_only(m);
		/* The kernel says EACCES for the descriptor; the seal says
		 * EPERM, whichever descriptor is asked. */
		ck_assert_int_eq(mfd_map(ro, 0, 4096, PROT_READ | PROT_WRITE, 0, &p), -EPERM);
		ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ | PROT_WRITE, 0, &p), -EPERM);
		ck_assert_ptr_eq(p, POISON_PTR);
		mfd_free(ro);
		mfd_free(m);
	}
}
END_TEST

Suite *map_suite(void)
{
	Suite *s = suite_create("map");
	TCase *tc;

	tc = tcase_with_leak_check("seed");
	tcase_add_test(tc, test_seed_mmap_page);
	tcase_add_test(tc, test_seed_mmap_page_offset);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("bounds");
	tcase_add_test(tc, test_map_invalid_arguments);
	tcase_add_test(tc, test_map_overflowing_range);
	tcase_add_test(tc, test_map_past_last_page);
	tcase_add_test(tc, test_map_empty_file);
	tcase_add_test(tc, test_map_grown_elsewhere);
	tcase_add_test(tc, test_map_within_recorded_size_asks_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("protection");
	tcase_add_test(tc, test_map_prot_none_and_read);
	tcase_add_test(tc, test_map_read_only_descriptor);
	tcase_add_test(tc, test_map_write_sealed_shared_read_only);
	tcase_add_test(tc, test_map_write_sealed_read_only_descriptor);
	tcase_add_test(tc, test_unmap_errors);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("populate");
	tcase_add_test(tc, test_map_populate);
	tcase_add_test(tc, test_map_populate_write_sealed);
	tcase_add_test(tc, test_map_populate_prot_none);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("faults");
	tcase_add_test(tc, test_map_within_size_makes_no_fstat);
	tcase_add_test(tc, test_map_mmap_failure);
	tcase_add_test(tc, test_map_write_sealed_on_older_kernel);
	tcase_add_test(tc, test_map_write_sealed_on_older_kernel_without_proc);
	suite_add_tcase(s, tc);

	return s;
}
