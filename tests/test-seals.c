/* SPDX-License-Identifier: MIT */
/* seals.c: mfd_get_seals, mfd_add_seals, and what each seal then refuses. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syscall-filter.h"
#include "test-common.h"

/* seed: new_sealed */
START_TEST(test_seed_new_sealed)
{
	struct mfd *m = NULL;
	int seals;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	seals = mfd_get_seals(m);
	ck_assert_int_ge(seals, 0);
	/* Adapted: the seed expects 0, but a fresh memfd is not executable
	 * and may carry F_SEAL_EXEC alone (MFD_NOEXEC_SEAL, Linux >= 6.3). */
	ck_assert_int_eq(seals, new_memfd_seals());
	seals |= F_SEAL_SEAL;
	ck_assert_int_eq(mfd_add_seals(m, (unsigned int)seals), 0);
	seals = mfd_get_seals(m);
	ck_assert_int_ge(seals, 0);
	ck_assert(seals & F_SEAL_SEAL);
	/* Adding more seals should be rejected by the kernel. */
	ck_assert_int_lt(mfd_add_seals(m, (unsigned int)seals), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_add_seals_accumulate)
{
	struct mfd *m = NULL;
	int base;

	ck_assert_int_eq(mfd_new(&m, "acc", 0), 0);
	base = mfd_get_seals(m);
	ck_assert_int_eq(mfd_add_seals(m, 0), 0);
	ck_assert_int_eq(mfd_get_seals(m), base);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK), 0);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_GROW | F_SEAL_SHRINK), 0);
	ck_assert_int_eq(mfd_get_seals(m), base | F_SEAL_SHRINK | F_SEAL_GROW);
	mfd_free(m);
}
END_TEST

START_TEST(test_add_seals_unknown_bits)
{
	static const unsigned int bad[] = { 0x40, 0x80, 0x100, 0x80000000u,
					    F_SEAL_WRITE | 0x1000 };
	struct mfd *m = NULL;
	struct resources before;
	int seals;

	ck_assert_int_eq(mfd_new(&m, "unknown", 0), 0);
	seals = mfd_get_seals(m);
	before = resources_now();
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(mfd_add_seals(m, bad[i]), -EINVAL);
		ck_assert_int_eq(mfd_get_seals(m), seals);
	}
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

START_TEST(test_add_seals_after_seal_seal)
{
	struct mfd *m = NULL;
	int seals;

	ck_assert_int_eq(mfd_new(&m, "sealed", 0), 0);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SEAL), 0);
	seals = mfd_get_seals(m);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE), -EPERM);
	ck_assert_int_eq(mfd_add_seals(m, 0), -EPERM);
	ck_assert_int_eq(mfd_get_seals(m), seals);
	mfd_free(m);
}
END_TEST

START_TEST(test_add_seals_read_only_descriptor)
{
	struct mfd *m = new_sized_mfd("rw", 4096), *ro = NULL;
	int seals = mfd_get_seals(m);

	ro = adopt_read_only(m);
	ck_assert_int_eq(mfd_get_seals(ro), seals);
	ck_assert_int_eq(mfd_add_seals(ro, F_SEAL_SHRINK), -EPERM);
	ck_assert_int_eq(mfd_get_seals(m), seals);
	mfd_free(ro);
	mfd_free(m);
}
END_TEST

START_TEST(test_add_write_seal_while_mapped_writable)
{
	struct mfd *m = new_sized_mfd("busy", 4096);
	void *p = NULL;
	int seals = mfd_get_seals(m);

	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ | PROT_WRITE, 0, &p), 0);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE), -EBUSY);
	ck_assert_int_eq(mfd_get_seals(m), seals);
	ck_assert_int_eq(mfd_unmap(p, 4096), 0);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE), 0);
	ck_assert_int_eq(mfd_get_seals(m), seals | F_SEAL_WRITE);
	mfd_free(m);
}
END_TEST

START_TEST(test_seals_not_a_memfd)
{
	struct mfd *m = NULL;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	ck_assert_int_eq(mfd_get_seals(m), -EINVAL);
	mfd_free(m);
}
END_TEST

START_TEST(test_seals_null_handle)
{
	ck_assert_int_eq(mfd_get_seals(NULL), -EINVAL);
	ck_assert_int_eq(mfd_add_seals(NULL, F_SEAL_SEAL), -EINVAL);
}
END_TEST

START_TEST(test_seal_shrink)
{
	struct mfd *m = new_sized_mfd("shrink", 8192);

	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK), 0);
	ck_assert_int_eq(mfd_set_size(m, 4096), -EPERM);
	ck_assert_uint_eq(mfd_size(m), 8192);
	ck_assert_int_eq(mfd_set_size(m, 16384), 0);
	ck_assert_uint_eq(mfd_size(m), 16384);
	ck_assert_int_eq(mfd_pwrite(m, "x", 1, 0), 1);
	mfd_free(m);
}
END_TEST

START_TEST(test_seal_grow)
{
	struct mfd *m = new_sized_mfd("grow", 8192);
	void *p = NULL;

	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_GROW), 0);
	ck_assert_int_eq(mfd_set_size(m, 16384), -EPERM);
	ck_assert_uint_eq(mfd_size(m), 8192);
	/* Writes inside the file work; past its end they would grow it. */
	ck_assert_int_eq(mfd_pwrite(m, "x", 1, 8191), 1);
	ck_assert_int_eq(mfd_pwrite(m, "x", 1, 8192), -EPERM);
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_END), 8192);
	ck_assert_int_eq(mfd_write(m, "x", 1), -EPERM);
	ck_assert_int_eq(mfd_map(m, 0, 8192, PROT_READ | PROT_WRITE, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 8192), 0);
	ck_assert_int_eq(mfd_set_size(m, 4096), 0);
	ck_assert_uint_eq(mfd_size(m), 4096);
	mfd_free(m);
}
END_TEST

START_TEST(test_seal_write)
{
	struct mfd *m = new_sized_mfd("write", 4096);
	struct resources before;
	void *p = POISON_PTR;
	char c = 0;

	ck_assert_int_eq(mfd_pwrite(m, "A", 1, 0), 1);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE), 0);
	before = resources_now();
	ck_assert_int_eq(mfd_pwrite(m, "B", 1, 0), -EPERM);
	ck_assert_int_eq(mfd_write(m, "B", 1), -EPERM);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ | PROT_WRITE, 0, &p), -EPERM);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_WRITE, 0, &p), -EPERM);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_resources_unchanged(before);
	ck_assert_int_eq(mfd_pread(m, &c, 1, 0), 1);
	ck_assert_int_eq(c, 'A');

	/* A read-only mapping still works and shows the sealed bytes. */
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(((const char *)p)[0], 'A');
	ck_assert_int_eq(mprotect(p, 4096, PROT_READ | PROT_WRITE), -1);
	ck_assert_int_eq(mfd_unmap(p, 4096), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_seal_future_write)
{
	struct mfd *m = new_sized_mfd("future", 4096);
	void *old = NULL, *p = POISON_PTR;
	char c = 0;

	if (!kernel_has_future_write_seal()) {
		/* Before Linux 5.1: the kernel's answer to an unknown seal. */
		ck_assert_int_eq(mfd_add_seals(m, F_SEAL_FUTURE_WRITE), -EINVAL);
		mfd_free(m);
		return;
	}
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ | PROT_WRITE, 0, &old), 0);
	/* Unlike F_SEAL_WRITE, accepted while a writable mapping exists. */
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_FUTURE_WRITE), 0);
	ck_assert_int_eq(mfd_pwrite(m, "B", 1, 0), -EPERM);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ | PROT_WRITE, 0, &p), -EPERM);
	ck_assert_ptr_eq(p, POISON_PTR);

	/* Not immutability: the mapping made before still writes. */
	((char *)old)[0] = 'C';
	ck_assert_int_eq(mfd_pread(m, &c, 1, 0), 1);
	ck_assert_int_eq(c, 'C');

	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(((const char *)p)[0], 'C');
	ck_assert_int_eq(mprotect(p, 4096, PROT_READ | PROT_WRITE), -1);
	ck_assert_int_eq(mfd_unmap(p, 4096), 0);
	ck_assert_int_eq(mfd_unmap(old, 4096), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_seal_exec)
{
	struct mfd *m = NULL;
	struct stat st;

	if (!kernel_has_noexec_seal()) {
		/* Before Linux 6.3: the kernel's answer to an unknown seal. */
		ck_assert_int_eq(mfd_new(&m, "exec", 0), 0);
		ck_assert_int_eq(mfd_add_seals(m, F_SEAL_EXEC), -EINVAL);
		mfd_free(m);
		return;
	}
	if (memfd_noexec_sysctl() == 2) {
		/* No executable memfds here: seal one that is not. */
		ck_assert_int_eq(mfd_new(&m, "exec", 0), 0);
		ck_assert_int_eq(mfd_add_seals(m, F_SEAL_EXEC), 0);
		ck_assert_int_eq(fchmod(mfd_fd(m), 0755), -1);
		ck_assert_int_eq(errno, EPERM);
		mfd_free(m);
		return;
	}
	ck_assert_int_eq(mfd_new(&m, "exec", MFD_EXEC), 0);
	ck_assert_int_eq(mfd_pwrite(m, "#!", 2, 0), 2);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_EXEC), 0);
	/* The x bits are frozen; on an executable memfd the kernel also
	 * seals it against writes (W^X from then on). */
	ck_assert_int_eq(mfd_get_seals(m), F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW |
						   F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
	ck_assert_int_eq(fchmod(mfd_fd(m), 0644), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(fstat(mfd_fd(m), &st), 0);
	ck_assert_int_eq(st.st_mode & 0111, 0111);
	ck_assert_int_eq(mfd_pwrite(m, "x", 1, 0), -EPERM);
	mfd_free(m);
}
END_TEST

static int seals_under_filter(void *unused)
{
	static const struct denial deny = { .call = CALL_FCNTL, .err = EIO };
	struct mfd *m = NULL;

	CHILD_CHECK(mfd_new(&m, "fcntl", 0) == 0);
	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	CHILD_CHECK(mfd_add_seals(m, 0x40) == -EINVAL);
	CHILD_CHECK(mfd_add_seals(m, F_SEAL_WRITE) == -EIO);
	CHILD_CHECK(mfd_get_seals(m) == -EIO);
	mfd_free(m);
	return 0;
}

START_TEST(test_seals_fcntl_failure)
{
	ck_assert_child_ok(seals_under_filter, NULL);
}
END_TEST

Suite *seals_suite(void)
{
	Suite *s = suite_create("seals");
	TCase *tc;

	tc = tcase_with_leak_check("seed");
	tcase_add_test(tc, test_seed_new_sealed);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("add_seals");
	tcase_add_test(tc, test_add_seals_accumulate);
	tcase_add_test(tc, test_add_seals_unknown_bits);
	tcase_add_test(tc, test_add_seals_after_seal_seal);
	tcase_add_test(tc, test_add_seals_read_only_descriptor);
	tcase_add_test(tc, test_add_write_seal_while_mapped_writable);
	tcase_add_test(tc, test_seals_not_a_memfd);
	tcase_add_test(tc, test_seals_null_handle);
	tcase_add_test(tc, test_seals_fcntl_failure);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("effects");
	tcase_add_test(tc, test_seal_shrink);
	tcase_add_test(tc, test_seal_grow);
	tcase_add_test(tc, test_seal_write);
	tcase_add_test(tc, test_seal_future_write);
	tcase_add_test(tc, test_seal_exec);
	suite_add_tcase(s, tc);

	return s;
}
