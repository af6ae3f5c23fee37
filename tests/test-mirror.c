/* SPDX-License-Identifier: MIT */
/* mirror.c: mfd_map_mirror. Every access through one half that is checked
 * through the other goes through a volatile pointer, so that the compiler
 * cannot reorder or merge them (it does not know the halves alias). */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interpose.h"
#include "syscall-filter.h"
#include "test-common.h"

/* Resources and reservations both. */
#define assert_nothing_left(before, reservations)                    \
	do {                                                         \
		ck_assert_resources_unchanged(before);               \
		ck_assert_int_eq(reservations_now(), (reservations)); \
	} while (0)

/* Every byte of [p, p + length) is the byte at p + length + i, and a store
 * through either half shows through the other. */
static void assert_mirrored(void *addr, size_t length)
{
	volatile uint8_t *p = addr;

	for (size_t i = 0; i < length; i += 509) {
		p[i] = (uint8_t)(i * 7 + 1);
		ck_assert_uint_eq(p[i + length], (uint8_t)(i * 7 + 1));
		p[i + length] = (uint8_t)(i * 11 + 3);
		ck_assert_uint_eq(p[i], (uint8_t)(i * 11 + 3));
	}
	p[length - 1] = 0x5a;
	ck_assert_uint_eq(p[2 * length - 1], 0x5a);
}

START_TEST(test_mirror_aliases)
{
	size_t page = page_size(), length = 4 * page;
	struct mfd *m = new_sized_mfd("mirror", length);
	int reservations = reservations_now();
	char buf[16];
	void *p = NULL;

	ck_assert_int_eq(mfd_pwrite(m, "through ", 8, length - 8), 8);
	ck_assert_int_eq(mfd_map_mirror(m, 0, length, PROT_READ | PROT_WRITE, &p), 0);
	ck_assert_uint_eq((uintptr_t)p % page, 0);
	/* What the file holds shows in both halves. */
	ck_assert_mem_eq((const char *)p + length - 8, "through ", 8);
	ck_assert_mem_eq((const char *)p + 2 * length - 8, "through ", 8);
	assert_mirrored(p, length);
	/* A copy across the middle lands at the start, as a ring needs. The
	 * compiler does not know the halves are one memory: volatile keeps it
	 * from moving the loads before the stores. */
	for (size_t i = 0; i < 7; i++)
		((volatile char *)p)[length - 3 + i] = "wrapped"[i];
	for (size_t i = 0; i < 4; i++)
		buf[i] = ((volatile const char *)p)[i];
	ck_assert_mem_eq(buf, "pped", 4);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(mfd_pread(m, buf, 4, 0), 4);
	ck_assert_mem_eq(buf, "pped", 4);
	/* Nothing of the reservation is left over: two memfd mappings. */
	ck_assert_int_eq(reservations_now(), reservations);
	ck_assert_int_eq(mfd_unmap(p, 2 * length), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_mirror_of_a_range)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("range", 5 * page);
	volatile uint8_t *v;
	void *p = NULL, *whole = NULL;

	ck_assert_int_eq(mfd_map(m, 0, 5 * page, PROT_READ | PROT_WRITE, 0, &whole), 0);
	ck_assert_int_eq(mfd_map_mirror(m, 2 * page, 2 * page, PROT_READ | PROT_WRITE, &p), 0);
	v = p;
	v[0] = 0x11;
	v[2 * page + 1] = 0x22;
	ck_assert_uint_eq(((volatile uint8_t *)whole)[2 * page], 0x11);
	ck_assert_uint_eq(((volatile uint8_t *)whole)[2 * page + 1], 0x22);
	ck_assert_uint_eq(v[1], 0x22);
	assert_mirrored(p, 2 * page);
	ck_assert_int_eq(mfd_unmap(p, 4 * page), 0);
	ck_assert_int_eq(mfd_unmap(whole, 5 * page), 0);
	mfd_free(m);
}
END_TEST

/* The mapping holds the file, as mfd_map's do. */
START_TEST(test_mirror_outlives_the_handle)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("outlives", page);
	void *p = NULL;

	ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ | PROT_WRITE, &p), 0);
	mfd_free(m);
	assert_mirrored(p, page);
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
}
END_TEST

START_TEST(test_mirror_read_only)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("read-only", page);
	void *p = NULL;

	ck_assert_int_eq(mfd_pwrite(m, "ro", 2, 0), 2);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ, &p), 0);
	ck_assert_mem_eq((const char *)p + page, "ro", 2);
	ck_assert_int_eq(mfd_pwrite(m, "RO", 2, 0), 2);
	ck_assert_uint_eq(((const volatile char *)p)[page], 'R');
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_mirror_invalid_arguments)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("args", 4 * page);
	struct resources before = resources_now();
	int reservations = reservations_now();
	uint64_t top_off = (uint64_t)INT64_MAX / page * page;
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_map_mirror(NULL, 0, page, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ, NULL), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, 0, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, 1, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page + 1, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page / 2, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 1, page, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, page / 2, page, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ | 0x100, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page, -1, &p), -EINVAL);
	/* Ranges that overflow the offset or the doubled length. */
	ck_assert_int_eq(mfd_map_mirror(m, top_off, 2 * page, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, UINT64_MAX / page * page, page, PROT_READ, &p),
			 -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, SIZE_MAX / page * page, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, (SIZE_MAX / 2 + 1) / page * page + page, PROT_READ,
					&p), -EINVAL);
	ck_assert_ptr_eq(p, POISON_PTR);
	assert_nothing_left(before, reservations);
	mfd_free(m);
}
END_TEST

START_TEST(test_mirror_past_the_end)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("bounds", 2 * page + 100);
	struct resources before = resources_now();
	int reservations = reservations_now();
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_map_mirror(m, 0, 4 * page, PROT_READ, &p), -ENXIO);
	ck_assert_int_eq(mfd_map_mirror(m, 3 * page, page, PROT_READ, &p), -ENXIO);
	ck_assert_int_eq(mfd_map_mirror(m, 100 * page, page, PROT_READ, &p), -ENXIO);
	ck_assert_ptr_eq(p, POISON_PTR);
	assert_nothing_left(before, reservations);
	/* The last page, partly the file's, is the file's. */
	ck_assert_int_eq(mfd_map_mirror(m, 0, 3 * page, PROT_READ, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 6 * page), 0);
	mfd_free(m);
}
END_TEST

/* The bounds check is mfd_map's: a file grown through another descriptor
 * is asked for its size. */
START_TEST(test_mirror_of_a_file_grown_elsewhere)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("grown", page);
	void *p = NULL;

	ck_assert_int_eq(ftruncate(mfd_fd(m), 4 * (off_t)page), 0);
	ck_assert_int_eq(mfd_map_mirror(m, 0, 4 * page, PROT_READ | PROT_WRITE, &p), 0);
	assert_mirrored(p, 4 * page);
	ck_assert_int_eq(mfd_unmap(p, 8 * page), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_mirror_sealed)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("sealed", page);
	struct mfd *ro = adopt_read_only(m);
	struct resources before;
	int reservations;
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_pwrite(m, "frozen", 6, 0), 6);
	/* A read-only descriptor cannot map it writable. */
	before = resources_now();
	reservations = reservations_now();
	ck_assert_int_eq(mfd_map_mirror(ro, 0, page, PROT_READ | PROT_WRITE, &p), -EACCES);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE), 0);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ | PROT_WRITE, &p), -EPERM);
	ck_assert_ptr_eq(p, POISON_PTR);
	assert_nothing_left(before, reservations);
	/* Read-only, it works, and can never be made writable. */
	ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ, &p), 0);
	ck_assert_mem_eq((const char *)p + page, "frozen", 6);
	ck_assert_int_eq(mprotect(p, 2 * page, PROT_READ | PROT_WRITE), -1);
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(ro);
	mfd_free(m);
}
END_TEST

START_TEST(test_mirror_future_write_sealed)
{
	size_t page = page_size();
	struct mfd *m;
	void *p = POISON_PTR;

	if (!kernel_has_future_write_seal()) {
		note_skipped("no F_SEAL_FUTURE_WRITE before Linux 5.1");
		return;
	}
	m = new_sized_mfd("future", page);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_FUTURE_WRITE), 0);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ | PROT_WRITE, &p), -EPERM);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(m);
}
END_TEST

/* Kernels before 6.7 refuse a shared mapping of a write-sealed memfd
 * through a writable descriptor, read-only ones too: mfd_map_mirror maps
 * it through a read-only descriptor, or without /proc, private. */
static int mirror_on_kernel_refusing_shared_read_only(void *arg)
{
	/* Without /proc: open denied by the filter ("denied"), or /proc
	 * covered with an empty tmpfs in a mount namespace ("hidden"). */
	const int without_proc = arg != NULL;
	const int hidden = arg && !strcmp(arg, "hidden");
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("frozen", page);
	struct mfd *open_one = new_sized_mfd("open", page);
	struct denial deny[3] = {
		{ .call = CALL_MMAP, .err = EPERM,
		  .when = { { 3, ARG_HAS_BITS, MAP_SHARED },
			    { 4, ARG_EQUALS, (uint32_t)mfd_fd(m) } } },
		{ .call = CALL_MMAP, .err = EPERM,
		  .when = { { 3, ARG_HAS_BITS, MAP_SHARED },
			    { 4, ARG_EQUALS, (uint32_t)mfd_fd(open_one) } } },
		{ .call = CALL_OPEN, .err = ENOENT },
	};
	struct resources before;
	int reservations;
	void *p = POISON_PTR;

	CHILD_CHECK(mfd_pwrite(m, "frozen", 6, 0) == 6);
	CHILD_CHECK(mfd_add_seals(m, F_SEAL_WRITE) == 0);
	before = resources_now();
	reservations = reservations_now();
	if (hidden) {
		if (enter_mount_namespace() < 0) {
			note_skipped("no mount namespace here to hide /proc in");
			return 0;
		}
		CHILD_CHECK(mount("tmpfs", "/proc", "tmpfs", 0, "size=4k") == 0);
	}
	CHILD_CHECK(deny_syscalls(deny, without_proc && !hidden ? 3 : 2) == 0);
	CHILD_CHECK(mfd_map_mirror(m, 0, page, PROT_READ, &p) == 0);
	CHILD_CHECK(memcmp((const char *)p + page, "frozen", 6) == 0);
	CHILD_CHECK(memcmp(p, "frozen", 6) == 0);
	/* Shared through a read-only descriptor, it can never be made
	 * writable; private, what it writes stays its own. */
	CHILD_CHECK(without_proc || mprotect(p, 2 * page, PROT_READ | PROT_WRITE) == -1);
	CHILD_CHECK(mfd_unmap(p, 2 * page) == 0);
	/* Writable, the kernel's refusal stands; and for a memfd that is not
	 * write-sealed, whatever made the kernel refuse. */
	p = POISON_PTR;
	CHILD_CHECK(mfd_map_mirror(m, 0, page, PROT_READ | PROT_WRITE, &p) == -EPERM);
	CHILD_CHECK(mfd_map_mirror(open_one, 0, page, PROT_READ, &p) == -EPERM);
	CHILD_CHECK(p == POISON_PTR);
	/* (Counting needs /proc, which the last two cases lack.) */
	if (!without_proc) {
		CHILD_CHECK(resources_now().maps == before.maps);
		CHILD_CHECK(resources_now().fds == before.fds);
		CHILD_CHECK(reservations_now() == reservations);
	}
	/*
	 * Each mmap in turn refused for want of memory: the reservation (0),
	 * the shared mapping the kernel refuses anyway (1), then the two
	 * halves through the read-only descriptor (2, 3), where a failure
	 * falls back to the private halves as without /proc; or, without
	 * /proc, the private halves (2, 3), whose failure is the answer.
	 */
	for (int passed = 0; passed < 4; passed++) {
		int want = passed < 2 || without_proc ? -ENOMEM : 0;

		p = POISON_PTR;
		fail_mmap_after(passed, ENOMEM);
		CHILD_CHECK(mfd_map_mirror(m, 0, page, PROT_READ, &p) == want);
		fail_mmap_after(-1, 0);
		if (want == 0) {
			CHILD_CHECK(memcmp((const char *)p + page, "frozen", 6) == 0);
			CHILD_CHECK(memcmp(p, "frozen", 6) == 0);
			CHILD_CHECK(mfd_unmap(p, 2 * page) == 0);
		} else {
			CHILD_CHECK(p == POISON_PTR);
		}
	}
	if (!without_proc) {
		CHILD_CHECK(resources_now().maps == before.maps);
		CHILD_CHECK(resources_now().fds == before.fds);
		CHILD_CHECK(reservations_now() == reservations);
	}
	mfd_free(open_one);
	mfd_free(m);
	return 0;
}

START_TEST(test_mirror_write_sealed_on_older_kernel)
{
	ck_assert_child_ok(mirror_on_kernel_refusing_shared_read_only, NULL);
	ck_assert_child_ok(mirror_on_kernel_refusing_shared_read_only, "denied");
	ck_assert_child_ok(mirror_on_kernel_refusing_shared_read_only, "hidden");
}
END_TEST

/* A failure halfway leaves nothing: the mapping of the second half is
 * refused, after the reservation and the first half were made. */
START_TEST(test_mirror_refused_halfway_leaves_nothing)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("half", 2 * page);
	struct resources before = resources_now();
	int reservations = reservations_now();
	void *p = POISON_PTR;

	for (int passed = 0; passed < 3; passed++) {
		fail_mmap_after(passed, ENOMEM);
		ck_assert_int_eq(mfd_map_mirror(m, 0, page, PROT_READ, &p), -ENOMEM);
		ck_assert_ptr_eq(p, POISON_PTR);
		assert_nothing_left(before, reservations);
	}
	fail_mmap_after(-1, 0);
	mfd_free(m);
}
END_TEST

/*
 * No window for another thread: while mirrors are made and unmapped over
 * and over, a thread keeps mappings of its own, tagged, and checks that
 * none is ever replaced. (Unmapping the reservation and mapping the halves
 * at its address again would let the kernel give that address to the
 * thread in between, and MAP_FIXED would then replace its mapping.)
 */
#define NEIGHBOURS 64

struct neighbour {
	volatile int stop;
	long replaced;
	long rounds;
};

static void *keep_mappings(void *arg)
{
	struct neighbour *n = arg;
	size_t page = page_size();
	volatile uint64_t *maps[NEIGHBOURS] = { NULL };

	for (unsigned int i = 0; !n->stop; i = (i + 1) % NEIGHBOURS, n->rounds++) {
		if (maps[i]) {
			if (maps[i][0] != (uintptr_t)maps[i] || maps[i][1] != i)
				n->replaced++;
			munmap((void *)maps[i], page);
		}
		maps[i] = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);
		ck_assert_ptr_ne((void *)maps[i], MAP_FAILED);
		maps[i][0] = (uintptr_t)maps[i];
		maps[i][1] = i;
	}
	for (unsigned int i = 0; i < NEIGHBOURS; i++) {
		if (maps[i] && (maps[i][0] != (uintptr_t)maps[i] || maps[i][1] != i))
			n->replaced++;
		if (maps[i])
			munmap((void *)maps[i], page);
	}
	return NULL;
}

START_TEST(test_mirror_never_replaces_another_mapping)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("race", 2 * page);
	struct neighbour n = { 0, 0, 0 };
	pthread_t thread;

	ck_assert_int_eq(pthread_create(&thread, NULL, keep_mappings, &n), 0);
	for (int i = 0; i < 20000; i++) {
		volatile uint8_t *p = NULL;

		ck_assert_int_eq(mfd_map_mirror(m, 0, 2 * page, PROT_READ | PROT_WRITE,
						(void **)&p), 0);
		p[i % (2 * page)] = (uint8_t)i;
		ck_assert_uint_eq(p[2 * page + i % (2 * page)], (uint8_t)i);
		ck_assert_int_eq(mfd_unmap((void *)p, 4 * page), 0);
	}
	n.stop = 1;
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_int_gt(n.rounds, 0);
	ck_assert_int_eq(n.replaced, 0);
	mfd_free(m);
}
END_TEST

Suite *mirror_suite(void)
{
	Suite *s = suite_create("mirror");
	TCase *tc;

	tc = tcase_with_leak_check("aliases");
	tcase_add_test(tc, test_mirror_aliases);
	tcase_add_test(tc, test_mirror_of_a_range);
	tcase_add_test(tc, test_mirror_outlives_the_handle);
	tcase_add_test(tc, test_mirror_read_only);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("refusals");
	tcase_add_test(tc, test_mirror_invalid_arguments);
	tcase_add_test(tc, test_mirror_past_the_end);
	tcase_add_test(tc, test_mirror_of_a_file_grown_elsewhere);
	tcase_add_test(tc, test_mirror_sealed);
	tcase_add_test(tc, test_mirror_future_write_sealed);
	tcase_add_test(tc, test_mirror_write_sealed_on_older_kernel);
	tcase_add_test(tc, test_mirror_refused_halfway_leaves_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("threads");
	/* Valgrind serializes the threads, and slows each mapping. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mirror_never_replaces_another_mapping);
	suite_add_tcase(s, tc);
	return s;
}
