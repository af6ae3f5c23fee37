/* SPDX-License-Identifier: MIT */
/* lifecycle.c: mfd_new, mfd_from_fd, mfd_free, mfd_fd, mfd_release_fd,
 * mfd_get_name, mfd_kernel_supported. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "interpose.h"
#include "syscall-filter.h"
#include "test-common.h"

static void assert_name(const struct mfd *m, const char *expected)
{
	char buf[LIBMEMFD_NAME_MAX + 1];

	ck_assert_int_eq(mfd_get_name(m, buf, sizeof(buf)), (int)strlen(expected));
	ck_assert_str_eq(buf, expected);
}

/* seed: named */
START_TEST(test_seed_named)
{
	const char *test_name = "Name McCool Person";
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, test_name, 0), 0);
	assert_name(m, test_name);
	mfd_free(m);
}
END_TEST

/* seed: anon */
START_TEST(test_seed_anon)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	ck_assert_ptr_nonnull(m);
	mfd_free(m);
}
END_TEST

/* seed: new */
START_TEST(test_seed_new)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	ck_assert_uint_eq(mfd_size(m), 0);
	mfd_free(m);
}
END_TEST

/* seed: new_named */
START_TEST(test_seed_new_named)
{
	const char *name = "very unique name";
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, name, 0), 0);
	assert_name(m, name);
	mfd_free(m);
}
END_TEST

START_TEST(test_new_default_name)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, NULL, 0), 0);
	assert_name(m, LIBMEMFD_DEFAULT_NAME);
	mfd_free(m);
}
END_TEST

START_TEST(test_new_properties)
{
	struct mfd *m = NULL;
	struct stat st;
	int fd, seals;

	ck_assert_int_eq(mfd_new(&m, "props", 0), 0);
	fd = mfd_fd(m);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 0);
	/* Not executable by default: no x bits, and F_SEAL_EXEC alone where
	 * the kernel knows it. */
	ck_assert_int_eq(st.st_mode & 0111, 0);
	seals = mfd_get_seals(m);
	ck_assert_int_eq(seals, new_memfd_seals());
	/* Sealable. */
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_GROW), 0);
	ck_assert_int_eq(mfd_get_seals(m), seals | F_SEAL_GROW);
	mfd_free(m);
}
END_TEST

START_TEST(test_new_exec)
{
	struct mfd *m = NULL;
	struct stat st;

	if (memfd_noexec_sysctl() == 2) {
		/* This system forbids executable memfds. */
		ck_assert_int_eq(mfd_new(&m, "exec", MFD_EXEC), -EACCES);
		return;
	}
	ck_assert_int_eq(mfd_new(&m, "exec", MFD_EXEC), 0);
	ck_assert_int_eq(fstat(mfd_fd(m), &st), 0);
	ck_assert_int_eq(st.st_mode & 0111, 0111);
	ck_assert_int_eq(mfd_get_seals(m), 0);
	ck_assert_int_eq(fcntl(mfd_fd(m), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	mfd_free(m);
}
END_TEST

START_TEST(test_new_noexec_seal)
{
	struct mfd *m = NULL;
	struct stat st;
	int seals;

	ck_assert_int_eq(mfd_new(&m, "noexec", MFD_NOEXEC_SEAL), 0);
	ck_assert_int_eq(fstat(mfd_fd(m), &st), 0);
	ck_assert_int_eq(st.st_mode & 0111, 0);
	seals = mfd_get_seals(m);
	ck_assert_int_eq(seals, new_memfd_seals());
	/* Still sealable: MFD_ALLOW_SEALING is never dropped. */
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_new_implied_flags)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, "implied", MFD_CLOEXEC | MFD_ALLOW_SEALING), 0);
	ck_assert_int_eq(fcntl(mfd_fd(m), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SEAL), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_new_name_limits)
{
	char name[LIBMEMFD_NAME_MAX + 2];
	struct resources before;
	struct mfd *m = POISON_PTR;

	memset(name, 'n', sizeof(name));
	name[LIBMEMFD_NAME_MAX] = '\0';
	ck_assert_int_eq(mfd_new(&m, name, 0), 0);
	assert_name(m, name);
	mfd_free(m);

	m = POISON_PTR;
	name[LIBMEMFD_NAME_MAX] = 'n';
	name[LIBMEMFD_NAME_MAX + 1] = '\0';
	before = resources_now();
	ck_assert_int_eq(mfd_new(&m, name, 0), -EINVAL);
	ck_assert_ptr_eq(m, POISON_PTR);
	ck_assert_resources_unchanged(before);
}
END_TEST

START_TEST(test_new_bad_flags)
{
	static const unsigned int bad[] = {
		0x20, 0x40, 0x100, 0x8000, 0x02000000,
		MFD_EXEC | MFD_NOEXEC_SEAL,
		MFD_HUGE_2MB,
		MFD_HUGE_1GB | MFD_NOEXEC_SEAL,
		MFD_HUGETLB | 0x20,
	};
	struct resources before = resources_now();

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct mfd *m = POISON_PTR;

		ck_assert_msg(mfd_new(&m, "bad", bad[i]) == -EINVAL, "flags %#x", bad[i]);
		ck_assert_ptr_eq(m, POISON_PTR);
	}
	ck_assert_resources_unchanged(before);
}
END_TEST

START_TEST(test_new_null_out)
{
	struct resources before = resources_now();

	ck_assert_int_eq(mfd_new(NULL, "null", 0), -EINVAL);
	ck_assert_resources_unchanged(before);
}
END_TEST

START_TEST(test_free_closes)
{
	struct resources before = resources_now();
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, "free", 0), 0);
	ck_assert_int_eq(resources_now().fds, before.fds + 1);
	mfd_free(m);
	ck_assert_resources_unchanged(before);
	mfd_free(NULL);
}
END_TEST

START_TEST(test_release_fd)
{
	struct mfd *m = NULL;
	int fd;

	ck_assert_int_eq(mfd_new(&m, "release", 0), 0);
	fd = mfd_fd(m);
	ck_assert_int_eq(mfd_release_fd(m), fd);
	/* Still open, now ours. */
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(close(fd), 0);

	ck_assert_int_eq(mfd_release_fd(NULL), -EINVAL);
	ck_assert_int_eq(mfd_fd(NULL), -EINVAL);
}
END_TEST

START_TEST(test_from_fd_memfd)
{
	struct mfd *m = new_sized_mfd("adopted", 12345), *adopted = NULL;
	int fd = mfd_release_fd(m);

	ck_assert_int_eq(mfd_from_fd(&adopted, fd), 0);
	ck_assert_int_eq(mfd_fd(adopted), fd);
	ck_assert_uint_eq(mfd_size(adopted), 12345);
	assert_name(adopted, "adopted");
	mfd_free(adopted);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
}
END_TEST

START_TEST(test_from_fd_regular_file)
{
	char path[] = "libmemfd-test-XXXXXX";
	struct mfd *m = NULL;
	char name[32];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(write(fd, "hello", 5), 5);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	ck_assert_uint_eq(mfd_size(m), 5);
	/* Adopted, but not a memfd: it has no memfd name. */
	ck_assert_int_eq(mfd_get_name(m, name, sizeof(name)), -EINVAL);
	mfd_free(m);
}
END_TEST

START_TEST(test_from_fd_errors)
{
	struct resources before;
	struct mfd *m = POISON_PTR;
	int pipefd[2], fd;

	ck_assert_int_eq(pipe(pipefd), 0);
	fd = dup(pipefd[0]);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(close(fd), 0); /* now a closed descriptor number */
	before = resources_now();

	ck_assert_int_eq(mfd_from_fd(&m, -1), -EBADF);
	ck_assert_int_eq(mfd_from_fd(&m, fd), -EBADF);
	/* A pipe has no size, as in the seed: refused, still the caller's. */
	ck_assert_int_eq(mfd_from_fd(&m, pipefd[0]), -ESPIPE);
	ck_assert_int_eq(mfd_from_fd(NULL, pipefd[0]), -EINVAL);
	ck_assert_int_ne(fcntl(pipefd[0], F_GETFD), -1);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mfd_from_fd(&m, fd), -EISDIR);
	ck_assert_ptr_eq(m, POISON_PTR);
	close(fd);
	ck_assert_resources_unchanged(before);
	close(pipefd[0]);
	close(pipefd[1]);
}
END_TEST

START_TEST(test_from_fd_device)
{
	struct mfd *m = NULL;
	char name[16];
	int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);

	/* Any file, as the seed's from_file: sized by seeking to its end. */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	ck_assert_uint_eq(mfd_size(m), 0);
	ck_assert_int_eq(mfd_get_seals(m), -EINVAL);
	ck_assert_int_eq(mfd_get_name(m, name, sizeof(name)), -EINVAL);
	mfd_free(m);
}
END_TEST

START_TEST(test_from_fd_device_offset_restored)
{
	struct lseek_call calls[LSEEK_LOG_MAX];
	struct mfd *m = NULL;
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

	/* Sized by seeking to the end, then put back where it was. */
	ck_assert_int_ge(fd, 0);
	lseek_log_start();
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	ck_assert_uint_eq(lseek_log_stop(calls), 3);
	ck_assert_int_eq(calls[0].whence, SEEK_CUR);
	ck_assert_int_eq(calls[1].whence, SEEK_END);
	ck_assert_int_eq(calls[2].whence, SEEK_SET);
	ck_assert_int_eq(calls[2].offset, calls[0].result);
	mfd_free(m);
}
END_TEST

START_TEST(test_from_fd_keeps_file_offset)
{
	struct mfd *m = new_sized_mfd("offset", 100), *adopted = NULL;

	ck_assert_int_eq(mfd_seek(m, 42, SEEK_SET), 42);
	ck_assert_int_eq(mfd_from_fd(&adopted, mfd_release_fd(m)), 0);
	ck_assert_int_eq(mfd_seek(adopted, 0, SEEK_CUR), 42);
	mfd_free(adopted);
}
END_TEST

/* A tmpfs file (/dev/shm) answers F_GET_SEALS, but is no memfd. */
START_TEST(test_from_fd_tmpfs_file_is_not_a_memfd)
{
	struct mfd *m = NULL;
	char name[64];
	void *p = NULL;
	int fd = open_tmpfs_file();

	ck_assert_int_ge(fcntl(fd, F_GET_SEALS), 0);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);

	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	ck_assert_uint_eq(mfd_size(m), 4096);
	ck_assert_int_eq(mfd_get_seals(m), -EINVAL);
	ck_assert_int_eq(mfd_get_name(m, name, sizeof(name)), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ | PROT_WRITE, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, 4096), 0);
	mfd_free(m);
}
END_TEST

/* An O_PATH descriptor of a memfd: fstat and fstatfs find a memfd's
 * file, but no seal can be read through it, so it cannot be proven one:
 * adopted as a plain file (its size known), not as a memfd. */
START_TEST(test_from_fd_o_path_memfd_is_not_a_memfd)
{
	struct mfd *memfd = new_sized_mfd("o_path", 4096), *m = POISON_PTR;
	char path[64], name[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd_fd(memfd));
	fd = open(path, O_PATH | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(fcntl(fd, F_GET_SEALS), 0);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	ck_assert_ptr_ne(m, POISON_PTR);
	ck_assert_int_eq(mfd_fd(m), fd);
	ck_assert_uint_eq(mfd_size(m), 4096);
	ck_assert_int_eq(mfd_get_seals(m), -EINVAL);
	ck_assert_int_eq(mfd_get_name(m, name, sizeof(name)), -EINVAL);
	mfd_free(m);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* mfd_free closed it */
	mfd_free(memfd);
}
END_TEST

/* Shared anonymous memory lives on the memfds' own mount, but is named
 * "dev/zero": reachable as a file only by root, through map_files. */
START_TEST(test_from_fd_shared_anonymous_memory_is_not_a_memfd)
{
	struct mfd *m = NULL;
	char path[96];
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd;

	ck_assert_ptr_ne(p, MAP_FAILED);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)(uintptr_t)p, (unsigned long)(uintptr_t)p + 4096);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && geteuid() != 0) {
		/* Not provable without root; the library is not at fault. */
		ck_assert_int_eq(errno, EPERM);
		note_skipped("no /proc/self/map_files descriptor without root");
		munmap(p, 4096);
		return;
	}
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(fcntl(fd, F_GET_SEALS), 0);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	ck_assert_int_eq(mfd_get_seals(m), -EINVAL);
	mfd_free(m);
	munmap(p, 4096);
}
END_TEST

START_TEST(test_from_fd_memfd_is_a_memfd)
{
	struct mfd *m = NULL, *adopted = NULL;
	char name[16];
	int seals;

	ck_assert_int_eq(mfd_new(&m, "real", 0), 0);
	seals = mfd_get_seals(m);
	ck_assert_int_eq(mfd_from_fd(&adopted, mfd_release_fd(m)), 0);
	ck_assert_int_eq(mfd_get_seals(adopted), seals);
	ck_assert_int_eq(mfd_get_name(adopted, name, sizeof(name)), 4);
	mfd_free(adopted);
}
END_TEST

START_TEST(test_get_name_buffer_sizes)
{
	const char *name = "exactly";
	size_t len = strlen(name);
	struct mfd *m = NULL;
	char buf[16];

	ck_assert_int_eq(mfd_new(&m, name, 0), 0);
	ck_assert_int_eq(mfd_get_name(m, buf, len + 1), (int)len);
	ck_assert_str_eq(buf, name);

	/* Too small: -ERANGE and the buffer untouched, never a truncation. */
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(mfd_get_name(m, buf, len), -ERANGE);
	ck_assert_int_eq(mfd_get_name(m, buf, 1), -ERANGE);
	ck_assert_int_eq(mfd_get_name(m, buf, 0), -ERANGE);
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 'x');

	ck_assert_int_eq(mfd_get_name(m, NULL, 16), -EINVAL);
	ck_assert_int_eq(mfd_get_name(NULL, buf, sizeof(buf)), -EINVAL);
	mfd_free(m);
}
END_TEST

START_TEST(test_get_name_odd_names)
{
	static const char *const names[] = {
		"", " ", "memfd:", "a (deleted)", " (deleted)", "/slash/es",
		"tab\tand\nnewline",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct mfd *m = NULL;

		ck_assert_int_eq(mfd_new(&m, names[i], 0), 0);
		assert_name(m, names[i]);
		mfd_free(m);
	}
}
END_TEST

START_TEST(test_get_name_not_memfd)
{
	struct mfd *m = NULL;
	char buf[64];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(mfd_get_name(m, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(buf[0], 'x');
	mfd_free(m);
}
END_TEST

START_TEST(test_kernel_supported)
{
	struct resources before = resources_now();

	ck_assert_int_eq(mfd_kernel_supported(), 1);
	ck_assert_resources_unchanged(before);
}
END_TEST

/* Kernel faults, injected with a seccomp filter in a child process. */

static int new_bad_input_under_filter(void *unused)
{
	static const struct denial deny = { .call = CALL_MEMFD_CREATE, .err = EPERM };
	char name[LIBMEMFD_NAME_MAX + 2];
	struct mfd *m = POISON_PTR;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	CHILD_CHECK(mfd_new(&m, name, 0) == -EINVAL);
	CHILD_CHECK(mfd_new(&m, NULL, 0x40) == -EINVAL);
	CHILD_CHECK(mfd_new(&m, NULL, MFD_EXEC | MFD_NOEXEC_SEAL) == -EINVAL);
	CHILD_CHECK(mfd_new(&m, NULL, MFD_HUGE_2MB) == -EINVAL);
	CHILD_CHECK(mfd_new(NULL, NULL, 0) == -EINVAL);
	/* The filter works: a valid call reaches the kernel. */
	CHILD_CHECK(mfd_new(&m, NULL, 0) == -EPERM);
	CHILD_CHECK(m == POISON_PTR);
	return 0;
}

START_TEST(test_new_rejects_bad_input_before_any_syscall)
{
	ck_assert_child_ok(new_bad_input_under_filter, NULL);
}
END_TEST

/* Linux before 6.3 answers EINVAL to MFD_NOEXEC_SEAL and MFD_EXEC. */
static const struct denial pre_6_3_kernel = {
	.call = CALL_MEMFD_CREATE, .err = EINVAL, .when = { { 1, ARG_HAS_BITS, MFD_NOEXEC_SEAL | MFD_EXEC } }
	};

static int new_on_pre_6_3_kernel(void *unused)
{
	/* Once remembered, the exec flags are not tried again. */
	static const struct denial exec_flags_fatal = {
		.call = CALL_MEMFD_CREATE, .err = EPERM, .when = { { 1, ARG_HAS_BITS, MFD_NOEXEC_SEAL | MFD_EXEC } }
	};
	struct resources before = resources_now();
	struct mfd *m = NULL, *x = NULL;
	struct stat st;
	int seals;

	CHILD_CHECK(deny_syscalls(&pre_6_3_kernel, 1) == 0);
	CHILD_CHECK(mfd_new(&m, "old", 0) == 0);
	CHILD_CHECK(fstat(mfd_fd(m), &st) == 0);
	CHILD_CHECK((st.st_mode & 0111) == 0);
	CHILD_CHECK(fcntl(mfd_fd(m), F_GETFD) & FD_CLOEXEC);
	seals = mfd_get_seals(m);
	/* Without either flag the kernel follows vm.memfd_noexec. */
	CHILD_CHECK(seals == (memfd_noexec_sysctl() ? F_SEAL_EXEC : 0));
	/* MFD_ALLOW_SEALING was kept. */
	CHILD_CHECK(mfd_add_seals(m, F_SEAL_WRITE) == 0);

	CHILD_CHECK(deny_syscalls(&exec_flags_fatal, 1) == 0);
	CHILD_CHECK(mfd_new(&x, "exec", MFD_EXEC) == 0);
	CHILD_CHECK(fstat(mfd_fd(x), &st) == 0);
	/* Executable, unless the vm.memfd_noexec sysctl forbids it. */
	CHILD_CHECK(memfd_noexec_sysctl() != 0 || (st.st_mode & 0111) == 0111);
	mfd_free(x);
	mfd_free(m);
	CHILD_CHECK(resources_now().fds == before.fds);
	return 0;
}

START_TEST(test_new_falls_back_on_pre_6_3_kernel)
{
	ck_assert_child_ok(new_on_pre_6_3_kernel, NULL);
}
END_TEST

static int new_fallback_chmod_fails(void *unused)
{
	static const struct denial fchmod_fails = { .call = CALL_FCHMOD, .err = EIO };
	struct resources before = resources_now();
	struct mfd *m = POISON_PTR;

	CHILD_CHECK(deny_syscalls(&pre_6_3_kernel, 1) == 0);
	CHILD_CHECK(deny_syscalls(&fchmod_fails, 1) == 0);
	CHILD_CHECK(mfd_new(&m, "chmod", 0) == -EIO);
	CHILD_CHECK(m == POISON_PTR);
	CHILD_CHECK(resources_now().fds == before.fds);
	return 0;
}

START_TEST(test_new_fallback_chmod_failure_leaks_nothing)
{
	ck_assert_child_ok(new_fallback_chmod_fails, NULL);
}
END_TEST

static int new_when_memfd_create_fails(void *arg)
{
	const int err = *(const int *)arg;
	const struct denial deny = { .call = CALL_MEMFD_CREATE, .err = err };
	struct resources before = resources_now();
	struct mfd *m = POISON_PTR;

	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	CHILD_CHECK(mfd_new(&m, "fails", 0) == -err);
	CHILD_CHECK(mfd_new(&m, "fails", MFD_EXEC) == -err);
	CHILD_CHECK(m == POISON_PTR);
	CHILD_CHECK(mfd_kernel_supported() == (err != ENOSYS));
	CHILD_CHECK(resources_now().fds == before.fds);
	return 0;
}

START_TEST(test_new_passes_kernel_errors)
{
	static const int errs[] = { ENOSYS, EMFILE, ENFILE, ENOMEM, EINVAL };

	for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
		int err = errs[i];

		ck_assert_child_ok(new_when_memfd_create_fails, &err);
	}
}
END_TEST

static int from_fd_when_fstat_fails(void *unused)
{
	static const struct denial deny = { .call = CALL_FSTAT, .err = EIO };
	struct mfd *m = POISON_PTR;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	CHILD_CHECK(mfd_from_fd(&m, fd) == -EIO);
	CHILD_CHECK(m == POISON_PTR);
	/* Still the caller's. */
	CHILD_CHECK(close(fd) == 0);
	return 0;
}

START_TEST(test_from_fd_fstat_failure)
{
	ck_assert_child_ok(from_fd_when_fstat_fails, NULL);
}
END_TEST

static int from_fd_inspection_faults(void *unused)
{
	static const struct denial no_fstatfs = { .call = CALL_FSTATFS, .err = EIO };
	static const struct denial no_memfd = { .call = CALL_MEMFD_CREATE, .err = EPERM };
	struct resources before = resources_now();
	struct mfd *m = NULL, *adopted = POISON_PTR;
	int fd, tmpfs_fd = open_tmpfs_file(), seals = new_memfd_seals();

	CHILD_CHECK(mfd_new(&m, "adopt", 0) == 0);
	fd = mfd_release_fd(m);
	/* A sandbox that may not create memfds can still adopt them: the
	 * name tells a memfd from a tmpfs file. */
	CHILD_CHECK(deny_syscalls(&no_memfd, 1) == 0);
	CHILD_CHECK(mfd_from_fd(&adopted, tmpfs_fd) == 0);
	CHILD_CHECK(mfd_get_seals(adopted) == -EINVAL);
	CHILD_CHECK(mfd_release_fd(adopted) == tmpfs_fd);
	CHILD_CHECK(mfd_from_fd(&adopted, fd) == 0);
	CHILD_CHECK(mfd_get_seals(adopted) == seals);
	CHILD_CHECK(mfd_release_fd(adopted) == fd);

	adopted = POISON_PTR;
	CHILD_CHECK(deny_syscalls(&no_fstatfs, 1) == 0);
	CHILD_CHECK(mfd_from_fd(&adopted, fd) == -EIO);
	CHILD_CHECK(adopted == POISON_PTR);
	CHILD_CHECK(close(fd) == 0);
	CHILD_CHECK(close(tmpfs_fd) == 0);
	CHILD_CHECK(resources_now().fds == before.fds);
	return 0;
}

START_TEST(test_from_fd_inspection_failures)
{
	ck_assert_child_ok(from_fd_inspection_faults, NULL);
}
END_TEST

static int new_hugetlb_fstatfs_fails(void *unused)
{
	static const struct denial deny = { .call = CALL_FSTATFS, .err = EIO };
	struct resources before = resources_now();
	struct mfd *m = POISON_PTR;

	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	/* The huge page size is asked of the new memfd, which then goes. */
	CHILD_CHECK(mfd_new(&m, "huge", MFD_HUGETLB) == -EIO);
	CHILD_CHECK(m == POISON_PTR);
	CHILD_CHECK(resources_now().fds == before.fds);
	/* Other memfds need no such question. */
	CHILD_CHECK(mfd_new(&m, "small", 0) == 0);
	mfd_free(m);
	return 0;
}

START_TEST(test_new_hugetlb_fstatfs_failure)
{
	ck_assert_child_ok(new_hugetlb_fstatfs_fails, NULL);
}
END_TEST

Suite *lifecycle_suite(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc;

	tc = tcase_with_leak_check("seed");
	tcase_add_test(tc, test_seed_named);
	tcase_add_test(tc, test_seed_anon);
	tcase_add_test(tc, test_seed_new);
	tcase_add_test(tc, test_seed_new_named);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("new");
	tcase_add_test(tc, test_new_default_name);
	tcase_add_test(tc, test_new_properties);
	tcase_add_test(tc, test_new_exec);
	tcase_add_test(tc, test_new_noexec_seal);
	tcase_add_test(tc, test_new_implied_flags);
	tcase_add_test(tc, test_new_name_limits);
	tcase_add_test(tc, test_new_bad_flags);
	tcase_add_test(tc, test_new_null_out);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("ownership");
	tcase_add_test(tc, test_free_closes);
	tcase_add_test(tc, test_release_fd);
	tcase_add_test(tc, test_from_fd_memfd);
	tcase_add_test(tc, test_from_fd_regular_file);
	tcase_add_test(tc, test_from_fd_errors);
	tcase_add_test(tc, test_from_fd_device);
	tcase_add_test(tc, test_from_fd_device_offset_restored);
	tcase_add_test(tc, test_from_fd_keeps_file_offset);
	tcase_add_test(tc, test_from_fd_tmpfs_file_is_not_a_memfd);
	tcase_add_test(tc, test_from_fd_o_path_memfd_is_not_a_memfd);
	tcase_add_test(tc, test_from_fd_shared_anonymous_memory_is_not_a_memfd);
	tcase_add_test(tc, test_from_fd_memfd_is_a_memfd);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("name");
	tcase_add_test(tc, test_get_name_buffer_sizes);
	tcase_add_test(tc, test_get_name_odd_names);
	tcase_add_test(tc, test_get_name_not_memfd);
	tcase_add_test(tc, test_kernel_supported);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("faults");
	tcase_add_test(tc, test_new_rejects_bad_input_before_any_syscall);
	tcase_add_test(tc, test_new_falls_back_on_pre_6_3_kernel);
	tcase_add_test(tc, test_new_fallback_chmod_failure_leaks_nothing);
	tcase_add_test(tc, test_new_passes_kernel_errors);
	tcase_add_test(tc, test_from_fd_fstat_failure);
	tcase_add_test(tc, test_from_fd_inspection_failures);
	tcase_add_test(tc, test_new_hugetlb_fstatfs_failure);
	suite_add_tcase(s, tc);

	return s;
}
