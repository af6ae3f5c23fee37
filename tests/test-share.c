/* SPDX-License-Identifier: MIT */
/* share.c: sealed blobs, handing memfds between processes, reserving and
 * returning pages; and a sender that does not play by the rules. */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interpose.h"
#include "syscall-filter.h"
#include "test-common.h"

#define IMMUTABLE (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static const char blob[] = "a sealed blob of bytes";

static void new_socketpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* What a sender that does not use mfd_send may put on the wire: n
 * descriptors (0 for none) with one byte of data. */
static void send_raw(int sock, const int *fds, size_t n)
{
	ck_assert_uint_le(n, MAX_SENT_FDS);
	ck_assert_int_eq(send_with_fds(sock, "x", 1, fds, n), 1);
}

/* Send fds as a hostile peer would, close the sender's copies, and check
 * that mfd_recv refuses them with want, leaving no descriptor behind. */
static void assert_refused(const int *fds, size_t n, unsigned int required, int want)
{
	struct mfd *got = POISON_PTR;
	struct resources before;
	int sv[2];

	new_socketpair(sv);
	send_raw(sv[0], fds, n);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || fds[i] != fds[i - 1])
			close(fds[i]);
	before = resources_now();
	ck_assert_int_eq(mfd_recv(sv[1], required, &got), want);
	ck_assert_ptr_eq(got, POISON_PTR);
	ck_assert_resources_unchanged(before);
	close(sv[0]);
	close(sv[1]);
}

/* A memfd made without the library, with these seals. */
static int raw_memfd(unsigned int seals)
{
	int fd = memfd_create("raw", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static void assert_content(struct mfd *m, const void *want, size_t len)
{
	char *buf = malloc(len + 1);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(mfd_pread(m, buf, len, 0), (ssize_t)len);
	ck_assert_mem_eq(buf, want, len);
	free(buf);
}

START_TEST(test_new_sealed)
{
	struct mfd *m = NULL;
	char name[32];
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_new_sealed(&m, "blob", blob, sizeof(blob)), 0);
	ck_assert_uint_eq(mfd_size(m), sizeof(blob));
	ck_assert_int_eq(mfd_check_seals(m, IMMUTABLE), 0);
	ck_assert_int_eq(mfd_get_seals(m), IMMUTABLE | new_memfd_seals());
	ck_assert_int_eq(mfd_get_name(m, name, sizeof(name)), 4);
	ck_assert_str_eq(name, "blob");
	assert_content(m, blob, sizeof(blob));
	ck_assert_int_ne(fcntl(mfd_fd(m), F_GETFD) & FD_CLOEXEC, 0);
	/* Immutable: no write, no resize, no writable mapping, no new seal. */
	ck_assert_int_eq(mfd_pwrite(m, "x", 1, 0), -EPERM);
	ck_assert_int_eq(mfd_set_size(m, 0), -EPERM);
	ck_assert_int_eq(mfd_set_size(m, 8192), -EPERM);
	ck_assert_int_eq(mfd_map(m, 0, page_size(), PROT_READ | PROT_WRITE, 0, &p), -EPERM);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK), -EPERM);
	ck_assert_int_eq(mfd_map(m, 0, page_size(), PROT_READ, 0, &p), 0);
	ck_assert_mem_eq(p, blob, sizeof(blob));
	ck_assert_int_eq(mfd_unmap(p, page_size()), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_new_sealed_empty)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new_sealed(&m, NULL, NULL, 0), 0);
	ck_assert_uint_eq(mfd_size(m), 0);
	ck_assert_int_eq(mfd_check_seals(m, IMMUTABLE), 0);
	ck_assert_int_eq(mfd_pread(m, (char[1]){ 0 }, 1, 0), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_new_sealed_short_and_interrupted_writes)
{
	size_t len = 3 * page_size() + 17;
	char *data = malloc(len);
	struct mfd *m = NULL;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7 + 1);
	shorten_next_writes(5);
	interrupt_next_calls(2);
	ck_assert_int_eq(mfd_new_sealed(&m, "pieces", data, len), 0);
	ck_assert_int_eq(interrupts_pending(), 0);
	ck_assert_uint_eq(mfd_size(m), len);
	assert_content(m, data, len);
	mfd_free(m);
	free(data);
}
END_TEST

START_TEST(test_new_sealed_bad_arguments)
{
	char long_name[LIBMEMFD_NAME_MAX + 2];
	struct mfd *m = POISON_PTR;
	struct resources before = resources_now();

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert_int_eq(mfd_new_sealed(NULL, "x", blob, sizeof(blob)), -EINVAL);
	ck_assert_int_eq(mfd_new_sealed(&m, "x", NULL, 1), -EINVAL);
	ck_assert_int_eq(mfd_new_sealed(&m, long_name, blob, sizeof(blob)), -EINVAL);
	/* A length no file offset can reach, refused before any system call
	 * (only where size_t is wider than off_t's range: 64 bits). */
	if ((uint64_t)SIZE_MAX > (uint64_t)INT64_MAX)
		ck_assert_int_eq(mfd_new_sealed(&m, "x", blob, SIZE_MAX), -EINVAL);
	else
		note_skipped("size_t cannot exceed the largest file offset here");
	ck_assert_ptr_eq(m, POISON_PTR);
	ck_assert_resources_unchanged(before);
}
END_TEST

static int new_sealed_when_kernel_refuses(void *arg)
{
	const struct denial *deny = arg;
	struct resources before = resources_now();
	struct mfd *m = POISON_PTR;

	CHILD_CHECK(deny_syscalls(deny, 1) == 0);
	CHILD_CHECK(mfd_new_sealed(&m, "refused", blob, sizeof(blob)) == -deny->err);
	CHILD_CHECK(m == POISON_PTR);
	CHILD_CHECK(resources_now().fds == before.fds);
	return 0;
}

START_TEST(test_new_sealed_leaves_nothing_behind)
{
	static const struct denial faults[] = {
		{ .call = CALL_MEMFD_CREATE, .err = EMFILE },
		{ .call = CALL_PWRITE, .err = ENOSPC },
		{ .call = CALL_FCNTL, .err = EBUSY, .when = { { 1, ARG_EQUALS, F_ADD_SEALS } } },
	};

	ck_assert_child_ok(new_sealed_when_kernel_refuses, (void *)&faults[_i]);
}
END_TEST

START_TEST(test_check_seals_is_a_subset_test)
{
	struct mfd *m = new_sized_mfd("subset", 4096);
	unsigned int extra = (unsigned int)new_memfd_seals();

	ck_assert_int_eq(mfd_check_seals(m, 0), 0);
	ck_assert_int_eq(mfd_check_seals(m, extra), 0);
	ck_assert_int_eq(mfd_check_seals(m, F_SEAL_SHRINK), -EPERM);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	/* Seals beyond those asked for, F_SEAL_EXEC included, never fail it. */
	ck_assert_int_eq(mfd_check_seals(m, F_SEAL_SHRINK), 0);
	ck_assert_int_eq(mfd_check_seals(m, F_SEAL_GROW | F_SEAL_SHRINK), 0);
	ck_assert_int_eq(mfd_check_seals(m, F_SEAL_SHRINK | F_SEAL_WRITE), -EPERM);
	mfd_free(m);
}
END_TEST

START_TEST(test_check_seals_future_write_is_not_write)
{
	struct mfd *m;

	if (!kernel_has_future_write_seal()) {
		note_skipped("before 5.1: no F_SEAL_FUTURE_WRITE to confuse");
		return;
	}
	m = new_sized_mfd("future", 4096);
	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), 0);
	ck_assert_int_eq(mfd_check_seals(m, F_SEAL_FUTURE_WRITE), 0);
	/* Writable mappings made before the seal still write: not immutable. */
	ck_assert_int_eq(mfd_check_seals(m, F_SEAL_WRITE), -EPERM);
	mfd_free(m);
}
END_TEST

START_TEST(test_check_seals_bad_arguments)
{
	struct mfd *m = new_sized_mfd("args", 0);
	struct mfd *tmpfs = NULL;

	ck_assert_int_eq(mfd_check_seals(NULL, 0), -EINVAL);
	ck_assert_int_eq(mfd_check_seals(m, 0x40), -EINVAL);
	ck_assert_int_eq(mfd_check_seals(m, F_SEAL_SEAL | 0x1000), -EINVAL);
	/* A tmpfs file answers F_GET_SEALS, but it is not a memfd. */
	ck_assert_int_eq(mfd_from_fd(&tmpfs, open_tmpfs_file()), 0);
	ck_assert_int_eq(mfd_check_seals(tmpfs, 0), -EINVAL);
	mfd_free(tmpfs);
	mfd_free(m);
}
END_TEST

/* The sender: a separate process that makes a sealed blob and hands it
 * over; the receiver checks what it got. */
START_TEST(test_send_recv_between_processes)
{
	struct mfd *got = NULL;
	int sv[2], status;
	char name[32];
	pid_t child;
	void *p;

	new_socketpair(sv);
	child = fork_flushed();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct mfd *m;

		close(sv[1]);
		exit_child(mfd_new_sealed(&m, "handoff", blob, sizeof(blob)) == 0 &&
			   mfd_send(sv[0], m) == 0 ? 0 : 1);
	}
	close(sv[0]);
	ck_assert_int_eq(mfd_recv(sv[1], IMMUTABLE, &got), 0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The sender is gone; the memfd lives on in the receiver. */
	ck_assert_uint_eq(mfd_size(got), sizeof(blob));
	ck_assert_int_ne(fcntl(mfd_fd(got), F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(mfd_get_name(got, name, sizeof(name)), 7);
	ck_assert_str_eq(name, "handoff");
	ck_assert_int_eq(mfd_map(got, 0, page_size(), PROT_READ, 0, &p), 0);
	ck_assert_mem_eq(p, blob, sizeof(blob));
	ck_assert_int_eq(mfd_unmap(p, page_size()), 0);
	mfd_free(got);
	close(sv[1]);
}
END_TEST

START_TEST(test_send_recv_keeps_senders_handle)
{
	struct mfd *m = new_sized_mfd("kept", 3 * 4096);
	struct mfd *got = NULL;
	int sv[2];

	new_socketpair(sv);
	ck_assert_int_eq(mfd_send(sv[0], m), 0);
	ck_assert_int_eq(mfd_recv(sv[1], 0, &got), 0);
	/* Both handles name the same file, through different descriptors. */
	ck_assert_int_ne(mfd_fd(got), mfd_fd(m));
	ck_assert_uint_eq(mfd_size(got), 3 * 4096);
	ck_assert_int_eq(mfd_pwrite(m, "same", 4, 0), 4);
	assert_content(got, "same\0", 5);
	mfd_free(got);
	mfd_free(m);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Extra seals (F_SEAL_EXEC, F_SEAL_FUTURE_WRITE) never refuse a buffer. */
START_TEST(test_recv_accepts_extra_seals)
{
	struct mfd *got = NULL;
	unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	int fd, sv[2];

	if (kernel_has_future_write_seal())
		seals |= F_SEAL_FUTURE_WRITE;
	fd = raw_memfd(seals);
	new_socketpair(sv);
	send_raw(sv[0], &fd, 1);
	close(fd);
	ck_assert_int_eq(mfd_recv(sv[1], F_SEAL_WRITE | F_SEAL_SHRINK, &got), 0);
	ck_assert_int_eq(mfd_check_seals(got, seals), 0);
	mfd_free(got);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* The size is read after the seals are checked: once F_SEAL_SHRINK is
 * known to be set, the size cannot go down under the receiver. */
START_TEST(test_recv_reads_size_after_seals)
{
	struct mfd *m = new_sized_mfd("order", 4096);
	struct mfd *got = NULL;
	const char *log, *seals_at;
	int sv[2];

	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK), 0);
	new_socketpair(sv);
	ck_assert_int_eq(mfd_send(sv[0], m), 0);
	call_log_start();
	ck_assert_int_eq(mfd_recv(sv[1], F_SEAL_SHRINK, &got), 0);
	log = call_log_stop();
	seals_at = strstr(log, "F_GET_SEALS ");
	ck_assert_msg(seals_at, "calls: %s", log);
	ck_assert_msg(strcmp(seals_at, "F_GET_SEALS fstat ") == 0, "calls: %s", log);
	mfd_free(got);
	mfd_free(m);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* mfd_from_fd too: a size read before the seals could be one the peer
 * shrank the file below before it sealed it. */
START_TEST(test_from_fd_reads_size_after_seals)
{
	struct mfd *m = new_sized_mfd("order", 4096);
	struct mfd *got = NULL;
	const char *log, *seals_at;
	int fd;

	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK), 0);
	fd = fcntl(mfd_fd(m), F_DUPFD_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	call_log_start();
	ck_assert_int_eq(mfd_from_fd(&got, fd), 0);
	log = call_log_stop();
	seals_at = strstr(log, "F_GET_SEALS ");
	ck_assert_msg(seals_at, "calls: %s", log);
	ck_assert_msg(strcmp(log, "F_GET_SEALS fstat ") == 0, "calls: %s", log);
	ck_assert_uint_eq(mfd_size(got), 4096);
	mfd_free(got);
	mfd_free(m);
}
END_TEST

/* A seal other than F_SEAL_SEAL proves a memfd (no other file can take
 * one), so then mfd_recv does not ask /proc for the name, the costliest
 * step of a handoff; where the seals prove nothing, it still asks. */
static int recv_proven_by_seals(void *unused)
{
	static const struct denial deny = { .call = CALL_READLINK, .err = EIO };
	struct mfd *m = NULL, *plain = NULL, *got = NULL;
	int fd = memfd_without_sealing();
	int sv[2];

	if (fd < 0) {
		note_skipped("memfd_noexec=2 seals every memfd");
		fd = memfd_create("plain", MFD_CLOEXEC);
	}
	CHILD_CHECK(fd >= 0 && mfd_from_fd(&plain, fd) == 0);
	CHILD_CHECK(mfd_new_sealed(&m, "proven", blob, sizeof(blob)) == 0);
	CHILD_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);

	CHILD_CHECK(mfd_send(sv[0], m) == 0);
	CHILD_CHECK(mfd_recv(sv[1], F_SEAL_WRITE, &got) == 0);
	CHILD_CHECK(mfd_size(got) == sizeof(blob));
	mfd_free(got);

	if (mfd_get_seals(plain) == F_SEAL_SEAL) {
		got = POISON_PTR;
		CHILD_CHECK(mfd_send(sv[0], plain) == 0);
		CHILD_CHECK(mfd_recv(sv[1], 0, &got) == -EIO);
		CHILD_CHECK(got == POISON_PTR);
	}
	mfd_free(plain);
	mfd_free(m);
	return 0;
}

START_TEST(test_recv_proven_by_seals)
{
	ck_assert_child_ok(recv_proven_by_seals, NULL);
}
END_TEST

START_TEST(test_recv_refuses_no_descriptor)
{
	assert_refused(NULL, 0, 0, -EBADMSG);
}
END_TEST

START_TEST(test_recv_refuses_several_descriptors)
{
	int fds[2] = { raw_memfd(IMMUTABLE), raw_memfd(IMMUTABLE) };

	assert_refused(fds, 2, IMMUTABLE, -EBADMSG);
}
END_TEST

START_TEST(test_recv_refuses_the_same_memfd_twice)
{
	int fd = raw_memfd(IMMUTABLE);
	int fds[2] = { fd, fd };

	assert_refused(fds, 2, IMMUTABLE, -EBADMSG);
}
END_TEST

/* More descriptors than the receiver has room for: the kernel truncates
 * the control data (MSG_CTRUNC) and drops the rest; the ones that arrived
 * are closed. */
START_TEST(test_recv_refuses_truncated_control_data)
{
	int fds[MAX_SENT_FDS];

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = raw_memfd(IMMUTABLE);
	assert_refused(fds, ARRAY_SIZE(fds), IMMUTABLE, -EBADMSG);
}
END_TEST

/* Two sent where the receiver has room for one more descriptor: one is
 * installed, the other dropped, and only MSG_CTRUNC tells. */
static int recv_at_descriptor_limit(void *unused)
{
	struct mfd *got = POISON_PTR;
	int sv[2], fds[2], next;
	struct rlimit limit;

	CHILD_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	fds[0] = raw_memfd(IMMUTABLE);
	fds[1] = raw_memfd(IMMUTABLE);
	send_raw(sv[0], fds, 2);
	close(fds[0]);
	close(fds[1]);
	next = dup(0); /* the lowest free number; all below are in use */
	CHILD_CHECK(next >= 0 && close(next) == 0);
	CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0);
	limit.rlim_cur = (rlim_t)next + 1;
	CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
	CHILD_CHECK(mfd_recv(sv[1], IMMUTABLE, &got) == -EBADMSG);
	CHILD_CHECK(got == POISON_PTR);
	CHILD_CHECK(fcntl(next, F_GETFD) < 0 && errno == EBADF);
	return 0;
}

START_TEST(test_recv_refuses_what_the_kernel_truncated)
{
	ck_assert_child_ok(recv_at_descriptor_limit, NULL);
}
END_TEST

START_TEST(test_recv_refuses_a_pipe)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	assert_refused(&p[0], 1, 0, -EINVAL);
	close(p[1]);
}
END_TEST

START_TEST(test_recv_refuses_a_socket)
{
	int sv[2];

	new_socketpair(sv);
	assert_refused(&sv[0], 1, 0, -EINVAL);
	close(sv[1]);
}
END_TEST

START_TEST(test_recv_refuses_a_directory)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	assert_refused(&fd, 1, 0, -EINVAL);
}
END_TEST

START_TEST(test_recv_refuses_a_regular_file)
{
	char path[] = "/tmp/libmemfd-recv-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);
	assert_refused(&fd, 1, 0, -EINVAL);
}
END_TEST

/* F_GET_SEALS works on a tmpfs file (it reports F_SEAL_SEAL), which proves
 * nothing: it is not a memfd, and its size is not protected. */
START_TEST(test_recv_refuses_a_tmpfs_file)
{
	int fd = open_tmpfs_file();

	ck_assert_int_ge(fcntl(fd, F_GET_SEALS), 0);
	assert_refused(&fd, 1, 0, -EINVAL);
}
END_TEST

START_TEST(test_recv_refuses_missing_seals)
{
	int fd = raw_memfd(F_SEAL_SHRINK | F_SEAL_GROW);

	assert_refused(&fd, 1, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE, -EPERM);
}
END_TEST

START_TEST(test_recv_refuses_future_write_for_write)
{
	int fd;

	if (!kernel_has_future_write_seal()) {
		note_skipped("before 5.1: no sender can add F_SEAL_FUTURE_WRITE");
		return;
	}
	fd = raw_memfd(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
	assert_refused(&fd, 1, IMMUTABLE, -EPERM);
}
END_TEST

/* An O_PATH descriptor of a memfd passes fstat, but no seal can be read
 * through it (nor can it be mapped). */
START_TEST(test_recv_refuses_an_o_path_memfd)
{
	int memfd = raw_memfd(0);
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	fd = open(path, O_PATH | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	close(memfd);
	/* Its seals cannot be read: it cannot be proven a memfd. */
	assert_refused(&fd, 1, 0, -EINVAL);
}
END_TEST

/* The seals are asked first: a file that has none is refused before
 * fstatfs or fstat could reach its file system (a FUSE or NFS server the
 * peer runs, which could stall the receiver or choose its errno). */
static int recv_asks_seals_first(void *unused)
{
	static const struct denial stat_calls[] = {
		{ .call = CALL_FSTATFS, .err = EIO },
		{ .call = CALL_FSTAT, .err = EIO },
	};
	char path[] = "/tmp/libmemfd-seals-first-XXXXXX";
	int p[2], files[2], sv[2];
	struct mfd *got = POISON_PTR;

	CHILD_CHECK(pipe2(p, O_CLOEXEC) == 0);
	files[0] = p[0];
	files[1] = mkostemp(path, O_CLOEXEC);
	CHILD_CHECK(files[1] >= 0 && unlink(path) == 0);
	CHILD_CHECK(deny_syscalls(stat_calls, ARRAY_SIZE(stat_calls)) == 0);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		CHILD_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
		CHILD_CHECK(send_with_fds(sv[0], "x", 1, &files[i], 1) == 1);
		CHILD_CHECK(mfd_recv(sv[1], 0, &got) == -EINVAL);
		CHILD_CHECK(got == POISON_PTR);
		close(sv[0]);
		close(sv[1]);
	}
	return 0;
}

START_TEST(test_recv_asks_seals_first)
{
	ck_assert_child_ok(recv_asks_seals_first, NULL);
}
END_TEST

/* Handoffs work on sequenced-packet sockets too; there an empty message
 * is no end of the connection, but a message without a descriptor. */
START_TEST(test_recv_seqpacket)
{
	struct mfd *m = new_sized_mfd("packet", 4096), *got = POISON_PTR;
	struct resources before;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(mfd_send(sv[0], m), 0);
	ck_assert_int_eq(mfd_recv(sv[1], 0, &got), 0);
	ck_assert_uint_eq(mfd_size(got), 4096);
	mfd_free(got);
	got = POISON_PTR;
	ck_assert_int_eq(send(sv[0], "", 0, 0), 0);
	before = resources_now();
	ck_assert_int_eq(mfd_recv(sv[1], 0, &got), -EBADMSG);
	ck_assert_ptr_eq(got, POISON_PTR);
	ck_assert_resources_unchanged(before);
	close(sv[0]);
	close(sv[1]);
	mfd_free(m);
}
END_TEST

/* A peer that has closed its end, or shut down writing: -ECONNRESET on
 * every later call (never an error a caller would retry for ever), on a
 * stream and on a sequenced-packet socket alike. */
static void assert_closed_peer(int type, bool shut_down)
{
	struct mfd *got = POISON_PTR;
	struct resources before;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
	if (shut_down)
		ck_assert_int_eq(shutdown(sv[0], SHUT_WR), 0);
	else
		close(sv[0]);
	before = resources_now();
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(mfd_recv(sv[1], 0, &got), -ECONNRESET);
	ck_assert_ptr_eq(got, POISON_PTR);
	ck_assert_resources_unchanged(before);
	if (shut_down)
		close(sv[0]);
	close(sv[1]);
}

START_TEST(test_recv_from_closed_peer)
{
	assert_closed_peer(SOCK_STREAM, false);
	assert_closed_peer(SOCK_STREAM, true);
	assert_closed_peer(SOCK_SEQPACKET, false);
	assert_closed_peer(SOCK_SEQPACKET, true);
}
END_TEST

/* An empty datagram or packet that carries one memfd is a handoff, as
 * libsystemd sends large journal entries; one that carries none is not. */
START_TEST(test_recv_empty_message_with_memfd)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET };

	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		struct mfd *m = new_sized_mfd("empty", 4096), *got = POISON_PTR;
		struct resources before;
		int sv[2], fd = mfd_fd(m);

		ck_assert_int_eq(socketpair(AF_UNIX, types[t] | SOCK_CLOEXEC, 0, sv), 0);
		ck_assert_int_eq(send_with_fds(sv[0], NULL, 0, &fd, 1), 0);
		ck_assert_int_eq(mfd_recv(sv[1], 0, &got), 0);
		ck_assert_uint_eq(mfd_size(got), 4096);
		mfd_free(got);
		got = POISON_PTR;
		ck_assert_int_eq(send_with_fds(sv[0], NULL, 0, NULL, 0), 0);
		before = resources_now();
		ck_assert_int_eq(mfd_recv(sv[1], 0, &got), -EBADMSG);
		ck_assert_ptr_eq(got, POISON_PTR);
		ck_assert_resources_unchanged(before);
		close(sv[0]);
		close(sv[1]);
		mfd_free(m);
	}
}
END_TEST

START_TEST(test_recv_bad_arguments)
{
	struct mfd *got = POISON_PTR;
	struct resources before;
	int fd = raw_memfd(IMMUTABLE), sv[2];

	new_socketpair(sv);
	send_raw(sv[0], &fd, 1);
	close(fd);
	before = resources_now();
	ck_assert_int_eq(mfd_recv(sv[1], 0, NULL), -EINVAL);
	ck_assert_int_eq(mfd_recv(sv[1], 0x40, &got), -EINVAL);
	ck_assert_int_eq(mfd_recv(-1, 0, &got), -EBADF);
	ck_assert_ptr_eq(got, POISON_PTR);
	ck_assert_resources_unchanged(before);
	/* None of those took the message. */
	ck_assert_int_eq(mfd_recv(sv[1], IMMUTABLE, &got), 0);
	mfd_free(got);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A peer that has gone: -EPIPE, and no SIGPIPE to kill the sender. */
START_TEST(test_send_to_closed_peer)
{
	struct mfd *m = new_sized_mfd("orphan", 4096);
	int sv[2];

	ck_assert_ptr_eq(signal(SIGPIPE, SIG_DFL), SIG_DFL);
	new_socketpair(sv);
	close(sv[1]);
	ck_assert_int_eq(mfd_send(sv[0], m), -EPIPE);
	close(sv[0]);
	mfd_free(m);
}
END_TEST

START_TEST(test_send_bad_arguments)
{
	struct mfd *m = new_sized_mfd("args", 4096);
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(mfd_send(p[1], NULL), -EINVAL);
	ck_assert_int_eq(mfd_send(-1, m), -EBADF);
	ck_assert_int_eq(mfd_send(p[1], m), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
	mfd_free(m);
}
END_TEST

static int send_when_sendmsg_fails(void *unused)
{
	static const struct denial deny = { .call = CALL_SENDMSG, .err = EPIPE };
	struct mfd *m = new_sized_mfd("send", 4096);
	int sv[2];

	CHILD_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	CHILD_CHECK(mfd_send(sv[0], m) == -EPIPE);
	CHILD_CHECK(mfd_fd(m) >= 0 && fcntl(mfd_fd(m), F_GETFD) >= 0);
	mfd_free(m);
	return 0;
}

START_TEST(test_send_sendmsg_failure)
{
	ck_assert_child_ok(send_when_sendmsg_fails, NULL);
}
END_TEST

START_TEST(test_allocate_grows_file_and_size)
{
	struct mfd *m = new_sized_mfd("alloc", 4096);
	struct stat st;

	ck_assert_int_eq(mfd_allocate(m, 0, 4096), 0);
	ck_assert_uint_eq(mfd_size(m), 4096);
	ck_assert_int_eq(mfd_allocate(m, 4096, 3 * 4096), 0);
	ck_assert_uint_eq(mfd_size(m), 4 * 4096);
	ck_assert_int_eq(fstat(mfd_fd(m), &st), 0);
	ck_assert_int_eq(st.st_size, 4 * 4096);
	/* The pages are there: backing store is counted in st_blocks. */
	ck_assert_int_ge(st.st_blocks * 512, 4 * 4096);
	/* Within the size: nothing changes but the reservation. */
	ck_assert_int_eq(mfd_allocate(m, 100, 200), 0);
	ck_assert_uint_eq(mfd_size(m), 4 * 4096);
	mfd_free(m);
}
END_TEST

START_TEST(test_allocate_respects_seals)
{
	struct mfd *m = new_sized_mfd("alloc-sealed", 2 * 4096);

	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_GROW | F_SEAL_WRITE), 0);
	/* Reserving what is already there writes nothing: allowed. */
	ck_assert_int_eq(mfd_allocate(m, 0, 2 * 4096), 0);
	ck_assert_int_eq(mfd_allocate(m, 4096, 2 * 4096), -EPERM);
	ck_assert_uint_eq(mfd_size(m), 2 * 4096);
	mfd_free(m);
}
END_TEST

START_TEST(test_allocate_bad_arguments)
{
	struct mfd *m = new_sized_mfd("alloc-args", 4096);
	struct resources before = resources_now();

	ck_assert_int_eq(mfd_allocate(NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(mfd_allocate(m, 0, 0), -EINVAL);
	ck_assert_int_eq(mfd_allocate(m, (uint64_t)INT64_MAX + 1, 1), -EINVAL);
	ck_assert_int_eq(mfd_allocate(m, INT64_MAX, 1), -EFBIG);
	ck_assert_int_eq(mfd_allocate(m, 1, UINT64_MAX), -EFBIG);
	ck_assert_uint_eq(mfd_size(m), 4096);
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

START_TEST(test_allocate_retries_eintr)
{
	struct mfd *m = new_sized_mfd("alloc-eintr", 0);

	interrupt_next_calls(3);
	ck_assert_int_eq(mfd_allocate(m, 0, 8192), 0);
	ck_assert_int_eq(interrupts_pending(), 0);
	ck_assert_uint_eq(mfd_size(m), 8192);
	mfd_free(m);
}
END_TEST

static int allocate_when_full(void *unused)
{
	static const struct denial deny = { .call = CALL_FALLOCATE, .err = ENOSPC };
	struct mfd *m = new_sized_mfd("full", 4096);
	struct stat st;

	CHILD_CHECK(deny_syscalls(&deny, 1) == 0);
	CHILD_CHECK(mfd_allocate(m, 0, 1 << 20) == -ENOSPC);
	CHILD_CHECK(mfd_size(m) == 4096);
	CHILD_CHECK(fstat(mfd_fd(m), &st) == 0 && st.st_size == 4096);
	mfd_free(m);
	return 0;
}

START_TEST(test_allocate_fallocate_failure)
{
	ck_assert_child_ok(allocate_when_full, NULL);
}
END_TEST

/*
 * A really full tmpfs: a 1 MiB one mounted in a mount namespace of a child
 * of its own. mfd_allocate says so at once, where a mapping would only
 * have raised SIGBUS at the first touch of a page that cannot be had.
 */
static int allocate_on_full_tmpfs(void *unused)
{
	char dir[] = "/tmp/libmemfd-full-XXXXXX";
	char path[64];
	struct mfd *m = NULL;
	int fd;

	if (unshare(CLONE_NEWNS) < 0) {
		CHILD_CHECK(errno == EPERM);
		note_skipped("no mount namespace without root (the seccomp test covers ENOSPC)");
		return 0;
	}
	/* The types are ignored here, but valgrind checks them. */
	CHILD_CHECK(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0);
	CHILD_CHECK(mkdtemp(dir) != NULL);
	CHILD_CHECK(mount("tmpfs", dir, "tmpfs", 0, "size=1m") == 0);
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(mfd_from_fd(&m, fd) == 0);
	CHILD_CHECK(mfd_allocate(m, 0, 4 << 20) == -ENOSPC);
	CHILD_CHECK(mfd_size(m) == 0);
	CHILD_CHECK(mfd_allocate(m, 0, 512 << 10) == 0);
	CHILD_CHECK(mfd_size(m) == 512 << 10);
	mfd_free(m);
	CHILD_CHECK(umount(dir) == 0 && rmdir(dir) == 0);
	return 0;
}

START_TEST(test_allocate_on_full_tmpfs)
{
	ck_assert_child_ok(allocate_on_full_tmpfs, NULL);
}
END_TEST

START_TEST(test_punch_hole)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd("hole", 4 * page);
	char *data = malloc(4 * page), *zeros = calloc(1, 2 * page);
	struct stat before, after;

	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(zeros);
	memset(data, 0x5a, 4 * page);
	ck_assert_int_eq(mfd_pwrite(m, data, 4 * page, 0), (ssize_t)(4 * page));
	ck_assert_int_eq(fstat(mfd_fd(m), &before), 0);
	ck_assert_int_eq(mfd_punch_hole(m, page, 2 * page), 0);
	ck_assert_int_eq(fstat(mfd_fd(m), &after), 0);
	/* Same size, fewer pages, and the hole reads as zeros. */
	ck_assert_int_eq(after.st_size, 4 * page);
	ck_assert_uint_eq(mfd_size(m), 4 * page);
	ck_assert_int_eq((before.st_blocks - after.st_blocks) * 512, 2 * page);
	memcpy(data + page, zeros, 2 * page);
	assert_content(m, data, 4 * page);
	/* Not page-aligned: the partial pages are zeroed, the rest kept. */
	ck_assert_int_eq(mfd_punch_hole(m, 10, 20), 0);
	memset(data + 10, 0, 20);
	assert_content(m, data, 4 * page);
	free(zeros);
	free(data);
	mfd_free(m);
}
END_TEST

START_TEST(test_punch_hole_respects_write_seals)
{
	struct mfd *m;

	if (_i == 1 && !kernel_has_future_write_seal()) {
		note_skipped("before 5.1: no F_SEAL_FUTURE_WRITE");
		return;
	}
	m = new_sized_mfd("hole-sealed", 4096);
	ck_assert_int_eq(mfd_pwrite(m, "keep", 4, 0), 4);
	ck_assert_int_eq(mfd_add_seals(m, _i ? F_SEAL_FUTURE_WRITE : F_SEAL_WRITE), 0);
	ck_assert_int_eq(mfd_punch_hole(m, 0, 4096), -EPERM);
	assert_content(m, "keep", 4);
	mfd_free(m);
}
END_TEST

START_TEST(test_punch_hole_bad_arguments)
{
	struct mfd *m = new_sized_mfd("hole-args", 4096);

	ck_assert_int_eq(mfd_punch_hole(NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(mfd_punch_hole(m, 0, 0), -EINVAL);
	ck_assert_int_eq(mfd_punch_hole(m, (uint64_t)INT64_MAX + 1, 1), -EINVAL);
	ck_assert_int_eq(mfd_punch_hole(m, INT64_MAX, 2), -EFBIG);
	mfd_free(m);
}
END_TEST

START_TEST(test_punch_hole_retries_eintr)
{
	struct mfd *m = new_sized_mfd("hole-eintr", 4096);

	ck_assert_int_eq(mfd_pwrite(m, "gone", 4, 0), 4);
	interrupt_next_calls(2);
	ck_assert_int_eq(mfd_punch_hole(m, 0, 4096), 0);
	ck_assert_int_eq(interrupts_pending(), 0);
	assert_content(m, "\0\0\0\0", 4);
	mfd_free(m);
}
END_TEST

Suite *share_suite(void)
{
	Suite *s = suite_create("share");
	TCase *tc = tcase_with_leak_check("new_sealed");

	tcase_add_test(tc, test_new_sealed);
	tcase_add_test(tc, test_new_sealed_empty);
	tcase_add_test(tc, test_new_sealed_short_and_interrupted_writes);
	tcase_add_test(tc, test_new_sealed_bad_arguments);
	tcase_add_loop_test(tc, test_new_sealed_leaves_nothing_behind, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("check_seals");
	tcase_add_test(tc, test_check_seals_is_a_subset_test);
	tcase_add_test(tc, test_check_seals_future_write_is_not_write);
	tcase_add_test(tc, test_check_seals_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("send_recv");
	tcase_add_test(tc, test_send_recv_between_processes);
	tcase_add_test(tc, test_send_recv_keeps_senders_handle);
	tcase_add_test(tc, test_recv_accepts_extra_seals);
	tcase_add_test(tc, test_recv_reads_size_after_seals);
	tcase_add_test(tc, test_from_fd_reads_size_after_seals);
	tcase_add_test(tc, test_recv_proven_by_seals);
	tcase_add_test(tc, test_recv_bad_arguments);
	tcase_add_test(tc, test_send_to_closed_peer);
	tcase_add_test(tc, test_send_bad_arguments);
	tcase_add_test(tc, test_send_sendmsg_failure);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("hostile_sender");
	tcase_add_test(tc, test_recv_refuses_no_descriptor);
	tcase_add_test(tc, test_recv_refuses_several_descriptors);
	tcase_add_test(tc, test_recv_refuses_the_same_memfd_twice);
	tcase_add_test(tc, test_recv_refuses_truncated_control_data);
	tcase_add_test(tc, test_recv_refuses_what_the_kernel_truncated);
	tcase_add_test(tc, test_recv_refuses_a_pipe);
	tcase_add_test(tc, test_recv_refuses_a_socket);
	tcase_add_test(tc, test_recv_refuses_a_directory);
	tcase_add_test(tc, test_recv_refuses_a_regular_file);
	tcase_add_test(tc, test_recv_refuses_a_tmpfs_file);
	tcase_add_test(tc, test_recv_refuses_missing_seals);
	tcase_add_test(tc, test_recv_refuses_future_write_for_write);
	tcase_add_test(tc, test_recv_refuses_an_o_path_memfd);
	tcase_add_test(tc, test_recv_asks_seals_first);
	tcase_add_test(tc, test_recv_from_closed_peer);
	tcase_add_test(tc, test_recv_empty_message_with_memfd);
	tcase_add_test(tc, test_recv_seqpacket);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("allocate");
	tcase_add_test(tc, test_allocate_grows_file_and_size);
	tcase_add_test(tc, test_allocate_respects_seals);
	tcase_add_test(tc, test_allocate_bad_arguments);
	tcase_add_test(tc, test_allocate_retries_eintr);
	tcase_add_test(tc, test_allocate_fallocate_failure);
	tcase_add_test(tc, test_allocate_on_full_tmpfs);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("punch_hole");
	tcase_add_test(tc, test_punch_hole);
	tcase_add_loop_test(tc, test_punch_hole_respects_write_seals, 0, 2);
	tcase_add_test(tc, test_punch_hole_bad_arguments);
	tcase_add_test(tc, test_punch_hole_retries_eintr);
	suite_add_tcase(s, tc);
	return s;
}
