/* SPDX-License-Identifier: MIT */
/* size.c: mfd_size, mfd_set_size. */
#include "config.h"

#include <sys/stat.h>
#include <unistd.h>

#include "syscall-filter.h"
#include "test-common.h"

static int64_t file_size(const struct mfd *m)
{
	struct stat st;

	ck_assert_int_eq(fstat(mfd_fd(m), &st), 0);
	return st.st_size;
}

/* seed: new_sized */
START_TEST(test_seed_new_sized)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	ck_assert_int_eq(mfd_set_size(m, 1024), 0);
	ck_assert_uint_eq(mfd_size(m), 1024);
	mfd_free(m);
}
END_TEST

/* seed: new_huge */
START_TEST(test_seed_new_huge)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	ck_assert_int_eq(mfd_set_size(m, 0x7fffffffffffffffULL), 0);
	ck_assert_uint_eq(mfd_size(m), 0x7fffffffffffffffULL);
	mfd_free(m);
}
END_TEST

/* seed: new_too_huge */
START_TEST(test_seed_new_too_huge)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	ck_assert_int_lt(mfd_set_size(m, 0x8000000000000000ULL), 0);
	ck_assert_uint_eq(mfd_size(m), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_set_size_follows_file)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, "resize", 0), 0);
	ck_assert_int_eq(mfd_set_size(m, 3 * 4096 + 7), 0);
	ck_assert_int_eq(file_size(m), 3 * 4096 + 7);
	ck_assert_int_eq(mfd_set_size(m, 10), 0);
	ck_assert_int_eq(file_size(m), 10);
	ck_assert_uint_eq(mfd_size(m), 10);
	ck_assert_int_eq(mfd_set_size(m, 0), 0);
	ck_assert_uint_eq(mfd_size(m), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_set_size_above_int64_max)
{
	static const uint64_t bad[] = { (uint64_t)INT64_MAX + 1, UINT64_MAX };
	struct mfd *m = new_sized_mfd("big", 100);
	struct resources before = resources_now();

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(mfd_set_size(m, bad[i]), -EINVAL);
		ck_assert_uint_eq(mfd_size(m), 100);
		ck_assert_int_eq(file_size(m), 100);
	}
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

START_TEST(test_set_size_read_only_descriptor)
{
	struct mfd *m = new_sized_mfd("ro", 100), *ro = NULL;

	ro = adopt_read_only(m);
	ck_assert_uint_eq(mfd_size(ro), 100);
	ck_assert_int_eq(mfd_set_size(ro, 200), -EINVAL);
	ck_assert_uint_eq(mfd_size(ro), 100);
	ck_assert_int_eq(file_size(m), 100);
	mfd_free(ro);
	mfd_free(m);
}
END_TEST

START_TEST(test_size_ignores_other_descriptors)
{
	struct mfd *m = new_sized_mfd("other", 4096);

	/* As in the seed: the recorded size does not follow the file. */
	ck_assert_int_eq(ftruncate(mfd_fd(m), 8192), 0);
	ck_assert_uint_eq(mfd_size(m), 4096);
	mfd_free(m);
}
END_TEST

START_TEST(test_size_null_handle)
{
	ck_assert_uint_eq(mfd_size(NULL), 0);
	ck_assert_int_eq(mfd_set_size(NULL, 1), -EINVAL);
}
END_TEST

static int set_size_under_filter(void *unused)
{
	static const struct denial deny = { .call = CALL_FTRUNCATE, .err = ENOSPC };
	struct mfd *m = new_sized_mfd("nospace", 4096);

	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	/* Refused before the system call... */
	CHILD_CHECK(mfd_set_size(m, (uint64_t)INT64_MAX + 1) == -EINVAL);
	/* ...and the kernel's answer passed on, the size kept. */
	CHILD_CHECK(mfd_set_size(m, 1 << 20) == -ENOSPC);
	CHILD_CHECK(mfd_size(m) == 4096);
	CHILD_CHECK(file_size(m) == 4096);
	mfd_free(m);
	return 0;
}

START_TEST(test_set_size_ftruncate_failure)
{
	ck_assert_child_ok(set_size_under_filter, NULL);
}
END_TEST

Suite *size_suite(void)
{
	Suite *s = suite_create("size");
	TCase *tc;

	tc = tcase_with_leak_check("seed");
	tcase_add_test(tc, test_seed_new_sized);
	tcase_add_test(tc, test_seed_new_huge);
	tcase_add_test(tc, test_seed_new_too_huge);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("set_size");
	tcase_add_test(tc, test_set_size_follows_file);
	tcase_add_test(tc, test_set_size_above_int64_max);
	tcase_add_test(tc, test_set_size_read_only_descriptor);
	tcase_add_test(tc, test_size_ignores_other_descriptors);
	tcase_add_test(tc, test_size_null_handle);
	tcase_add_test(tc, test_set_size_ftruncate_failure);
	suite_add_tcase(s, tc);

	return s;
}
