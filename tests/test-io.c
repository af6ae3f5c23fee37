/* SPDX-License-Identifier: MIT */
/* io.c: mfd_read, mfd_write, mfd_seek, mfd_pread, mfd_pwrite. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "interpose.h"
#include "syscall-filter.h"
#include "test-common.h"

START_TEST(test_write_seek_read)
{
	struct mfd *m = NULL;
	char buf[16] = { 0 };

	ck_assert_int_eq(mfd_new(&m, "stream", 0), 0);
	ck_assert_int_eq(mfd_write(m, "hello, ", 7), 7);
	ck_assert_int_eq(mfd_write(m, "world", 5), 5);
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_CUR), 12);
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_END), 12);
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_SET), 0);
	ck_assert_int_eq(mfd_read(m, buf, sizeof(buf)), 12);
	ck_assert_str_eq(buf, "hello, world");
	/* End of file. */
	ck_assert_int_eq(mfd_read(m, buf, sizeof(buf)), 0);
	ck_assert_int_eq(mfd_seek(m, -5, SEEK_END), 7);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(mfd_read(m, buf, 5), 5);
	ck_assert_str_eq(buf, "world");
	mfd_free(m);
}
END_TEST

START_TEST(test_pread_pwrite)
{
	struct mfd *m = new_sized_mfd("positioned", 8192);
	char buf[8] = { 0 };

	ck_assert_int_eq(mfd_pwrite(m, "abc", 3, 5000), 3);
	/* Positioned I/O leaves the file offset alone. */
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_CUR), 0);
	ck_assert_int_eq(mfd_pread(m, buf, 3, 5000), 3);
	ck_assert_str_eq(buf, "abc");
	/* Short read at the end, nothing past it. */
	ck_assert_int_eq(mfd_pread(m, buf, sizeof(buf), 8190), 2);
	ck_assert_int_eq(mfd_pread(m, buf, sizeof(buf), 8192), 0);
	ck_assert_int_eq(mfd_pread(m, buf, sizeof(buf), 1u << 30), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_write_past_end_grows_file_not_record)
{
	struct mfd *m = NULL;
	char c = 0;

	ck_assert_int_eq(mfd_new(&m, "grow", 0), 0);
	ck_assert_int_eq(mfd_pwrite(m, "z", 1, 9999), 1);
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_END), 10000);
	ck_assert_int_eq(mfd_pread(m, &c, 1, 9999), 1);
	ck_assert_int_eq(c, 'z');
	/* The recorded size is mfd_set_size's alone. */
	ck_assert_uint_eq(mfd_size(m), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_seek_data_hole)
{
	uint64_t page = page_size();
	struct mfd *m = new_sized_mfd("sparse", 4 * page);

	ck_assert_int_eq(mfd_pwrite(m, "d", 1, 2 * page), 1);
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_DATA), (int64_t)(2 * page));
	ck_assert_int_eq(mfd_seek(m, (int64_t)(2 * page), SEEK_HOLE), (int64_t)(3 * page));
	ck_assert_int_eq(mfd_seek(m, (int64_t)(4 * page), SEEK_DATA), -ENXIO);
	mfd_free(m);
}
END_TEST

START_TEST(test_io_errors)
{
	struct mfd *m = new_sized_mfd("errors", 4096);
	struct resources before = resources_now();
	char buf[4];

	ck_assert_int_eq(mfd_seek(m, 0, 12345), -EINVAL);
	ck_assert_int_eq(mfd_seek(m, -1, SEEK_SET), -EINVAL);
	ck_assert_int_eq(mfd_pread(m, buf, 1, (uint64_t)INT64_MAX + 1), -EINVAL);
	ck_assert_int_eq(mfd_pwrite(m, "x", 1, (uint64_t)INT64_MAX + 1), -EINVAL);
	ck_assert_int_eq(mfd_pwrite(m, "x", 1, UINT64_MAX), -EINVAL);
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_CUR), 0);
	ck_assert_int_eq(mfd_read(NULL, buf, 1), -EINVAL);
	ck_assert_int_eq(mfd_write(NULL, "x", 1), -EINVAL);
	ck_assert_int_eq(mfd_seek(NULL, 0, SEEK_SET), -EINVAL);
	ck_assert_int_eq(mfd_pread(NULL, buf, 1, 0), -EINVAL);
	ck_assert_int_eq(mfd_pwrite(NULL, "x", 1, 0), -EINVAL);
	ck_assert_uint_eq(mfd_size(m), 4096);
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

START_TEST(test_io_read_only_descriptor)
{
	struct mfd *m = new_sized_mfd("rw", 4096), *ro = NULL;
	char c = 1;

	ro = adopt_read_only(m);
	ck_assert_int_eq(mfd_write(ro, "x", 1), -EBADF);
	ck_assert_int_eq(mfd_pwrite(ro, "x", 1, 0), -EBADF);
	ck_assert_int_eq(mfd_pread(ro, &c, 1, 0), 1);
	ck_assert_int_eq(c, 0);
	mfd_free(ro);
	mfd_free(m);
}
END_TEST

static int positioned_io_under_filter(void *unused)
{
	static const struct denial deny[] = {
		{ .call = CALL_PREAD, .err = EIO },
		{ .call = CALL_PWRITE, .err = ENOSPC },
	};
	struct mfd *m = new_sized_mfd("pio", 4096);
	char c;

	CHILD_CHECK(deny_syscalls(deny, 2) == 0);
	CHILD_CHECK(mfd_pread(m, &c, 1, (uint64_t)INT64_MAX + 1) == -EINVAL);
	CHILD_CHECK(mfd_pwrite(m, "x", 1, (uint64_t)INT64_MAX + 1) == -EINVAL);
	CHILD_CHECK(mfd_pread(m, &c, 1, 0) == -EIO);
	CHILD_CHECK(mfd_pwrite(m, "x", 1, 0) == -ENOSPC);
	mfd_free(m);
	return 0;
}

START_TEST(test_positioned_io_kernel_errors)
{
	ck_assert_child_ok(positioned_io_under_filter, NULL);
}
END_TEST

START_TEST(test_io_retries_eintr)
{
	struct mfd *m = new_sized_mfd("eintr", 4096);
	char buf[4] = { 0 };

	interrupt_next_calls(3);
	ck_assert_int_eq(mfd_pwrite(m, "abcd", 4, 8), 4);
	ck_assert_int_eq(interrupts_pending(), 0);

	interrupt_next_calls(2);
	ck_assert_int_eq(mfd_pread(m, buf, 4, 8), 4);
	ck_assert_int_eq(interrupts_pending(), 0);
	ck_assert_int_eq(memcmp(buf, "abcd", 4), 0);

	interrupt_next_calls(2);
	ck_assert_int_eq(mfd_write(m, "wxyz", 4), 4);
	ck_assert_int_eq(interrupts_pending(), 0);

	interrupt_next_calls(1);
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_SET), 0);
	ck_assert_int_eq(interrupts_pending(), 0);

	interrupt_next_calls(4);
	ck_assert_int_eq(mfd_read(m, buf, 4), 4);
	ck_assert_int_eq(interrupts_pending(), 0);
	ck_assert_int_eq(memcmp(buf, "wxyz", 4), 0);
	mfd_free(m);
}
END_TEST

/*
 * Only -1 with errno set is a failure: /proc/self/mem takes negative
 * offsets, and lseek returns them (glibc takes -4095..-1 for errors, so
 * the offsets here are below that). A stale errno of EINTR must neither
 * loop nor turn the answer into a false success at offset 0.
 */
START_TEST(test_seek_negative_offset)
{
	struct mfd *m = NULL;
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	errno = 0;
	ck_assert_int_eq(mfd_seek(m, -8192, SEEK_SET), -8192);
	errno = EINTR; /* stale, from some earlier call */
	ck_assert_int_eq(mfd_seek(m, -16384, SEEK_SET), -16384);
	ck_assert_int_eq(mfd_seek(m, 4096, SEEK_CUR), -12288);
	/* A real failure is still one. */
	ck_assert_int_eq(mfd_seek(m, 0, SEEK_END), -EINVAL);
	mfd_free(m);
}
END_TEST

Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc = tcase_with_leak_check("io");

	tcase_add_test(tc, test_write_seek_read);
	tcase_add_test(tc, test_pread_pwrite);
	tcase_add_test(tc, test_write_past_end_grows_file_not_record);
	tcase_add_test(tc, test_seek_data_hole);
	tcase_add_test(tc, test_io_errors);
	tcase_add_test(tc, test_io_read_only_descriptor);
	tcase_add_test(tc, test_positioned_io_kernel_errors);
	tcase_add_test(tc, test_io_retries_eintr);
	tcase_add_test(tc, test_seek_negative_offset);
	suite_add_tcase(s, tc);
	return s;
}
