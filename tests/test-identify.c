/* SPDX-License-Identifier: MIT */
/*
 * Failing closed: mfd_recv and mfd_from_fd take a file for a memfd only
 * when that is proven, also where the library cannot make the memfd that
 * teaches it the memfd mount (a seccomp sandbox, the descriptor limit) and
 * where /proc is not mounted. The hostile files are a tmpfs file on a
 * detached mount, named exactly like a memfd, and a /dev/shm file.
 *
 * Each case runs in a child of its own (run_isolated): namespaces, seccomp
 * filters and resource limits cannot be undone, and the library's cache of
 * the memfd mount starts cold in each (the runner never fills it).
 */
#include "config.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "syscall-filter.h"
#include "test-common.h"

#define SEALED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* What a child reports when a part cannot run here (said on stderr). */
#define SKIPPED 0

static const struct denial no_memfd_create = { .call = CALL_MEMFD_CREATE, .err = EPERM };

/* Send fd with one byte over a new stream socket pair, as a hostile peer
 * would, and close the sender's copy; the receiving end is returned. */
static int queue_fd(int fd)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (send_with_fds(sv[0], "x", 1, &fd, 1) != 1)
		return -1;
	close(sv[0]);
	close(fd);
	return sv[1];
}

/* mfd_recv's answer for fd sent by a peer; a handle it accepts is freed,
 * after checking that it is what was sent (its size). */
static int recv_answer(int fd, unsigned int required)
{
	struct mfd *got = POISON_PTR;
	int sock = queue_fd(fd), r;

	if (sock < 0)
		return -ENOTRECOVERABLE;
	r = mfd_recv(sock, required, &got);
	close(sock);
	if (r < 0)
		return got == POISON_PTR ? r : -ENOTRECOVERABLE;
	if (mfd_size(got) != 4096)
		r = -ENOTRECOVERABLE;
	mfd_free(got);
	return r;
}

/* What mfd_get_seals answers for a file adopted with mfd_from_fd. */
static int seals_of_adopted(int fd)
{
	struct mfd *m = NULL;
	int r = mfd_from_fd(&m, fd);

	if (r < 0)
		return -ENOTRECOVERABLE;
	r = mfd_get_seals(m);
	mfd_release_fd(m);
	return r;
}

/* A real memfd of 4 KiB whose seals prove nothing: F_SEAL_SEAL alone, as
 * every tmpfs file has; -1 where memfd_noexec=2 seals every memfd. */
static int unprovable_memfd(void)
{
	int fd = memfd_without_sealing();

	if (fd >= 0 && ftruncate(fd, 4096) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A real memfd of 4 KiB sealed against shrinking and more. */
static int sealed_memfd(void)
{
	int fd = (int)syscall(SYS_memfd_create, "sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, 4096) < 0 || fcntl(fd, F_ADD_SEALS, SEALED) < 0)
		return -1;
	return fd;
}

/*
 * A tmpfs file that reads exactly like a memfd: "memfd:evil", unlinked, on
 * a tmpfs that is then detached, so that /proc/self/fd shows
 * "/memfd:evil (deleted)". Any user can make one in a user namespace.
 * Needs the mount namespace entered; -1 on failure.
 */
static int detached_fake_memfd(void)
{
	char dir[] = "/tmp/libmemfd-fake-XXXXXX", path[64], link[64];
	int fd;
	ssize_t n;

	if (!mkdtemp(dir) || mount("tmpfs", dir, "tmpfs", 0, "size=1m") < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/memfd:evil", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0 || unlink(path) < 0)
		return -1;
	if (umount2(dir, MNT_DETACH) < 0 || rmdir(dir) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	/* The fake is only worth refusing if it reads like the real thing. */
	if (strcmp(link, "/memfd:evil (deleted)") != 0 || fcntl(fd, F_GET_SEALS) != F_SEAL_SEAL)
		return -1;
	return fd;
}

/* A file in /dev/shm (a tmpfs of its own, not the memfd mount), unlinked;
 * -1 where there is none. */
static int dev_shm_file(void)
{
	char path[] = "/dev/shm/libmemfd-identify-XXXXXX";
	struct statfs sfs;
	int fd;

	if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != TMPFS_MAGIC)
		return -1;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (unlink(path) < 0 || ftruncate(fd, 4096) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Cover /proc with an empty tmpfs, so that procfs is not what is mounted
 * there; needs the mount namespace entered. */
static int hide_proc(void)
{
	return mount("tmpfs", "/proc", "tmpfs", 0, "size=4k");
}

static int enter_or_skip(void)
{
	int err = enter_mount_namespace();

	if (err < 0)
		note_skipped("no mount namespace here, not even in a user namespace");
	return err;
}

static int fake_refused(void *unused)
{
	int fake;

	if (enter_or_skip() < 0)
		return SKIPPED;
	fake = detached_fake_memfd();
	CHILD_CHECK(fake >= 0);
	CHILD_CHECK(recv_answer(dup(fake), 0) == -EINVAL);
	CHILD_CHECK(recv_answer(dup(fake), F_SEAL_SEAL) == -EINVAL);
	CHILD_CHECK(seals_of_adopted(fake) == -EINVAL);
	close(fake);
	return 0;
}

START_TEST(test_fake_memfd_refused)
{
	ck_assert_child_ok(fake_refused, NULL);
}
END_TEST

/* Without memfd_create the mount cannot be learned: the name, which is
 * all that is left, proves nothing. */
static int fake_refused_without_memfd_create(void *unused)
{
	int fake;

	if (enter_or_skip() < 0)
		return SKIPPED;
	fake = detached_fake_memfd();
	CHILD_CHECK(fake >= 0);
	CHILD_CHECK(deny_syscalls(&no_memfd_create, 1) == 0);
	CHILD_CHECK(recv_answer(dup(fake), 0) == -EINVAL);
	CHILD_CHECK(recv_answer(dup(fake), F_SEAL_SEAL) == -EINVAL);
	CHILD_CHECK(seals_of_adopted(fake) == -EINVAL);
	close(fake);
	return 0;
}

START_TEST(test_fake_memfd_refused_without_memfd_create)
{
	ck_assert_child_ok(fake_refused_without_memfd_create, NULL);
}
END_TEST

/* A receiver with one descriptor slot left and a cold cache: the mount is
 * learned before the descriptor takes the slot, so the fake is told apart. */
static int fake_refused_at_the_limit(void *unused)
{
	struct mfd *got = POISON_PTR;
	int fake, sock, slot;

	if (enter_or_skip() < 0)
		return SKIPPED;
	fake = detached_fake_memfd();
	CHILD_CHECK(fake >= 0);
	sock = queue_fd(fake);
	CHILD_CHECK(sock >= 0);
	slot = leave_free_slots(1);
	if (slot == -ENOTSUP)
		return SKIPPED;
	CHILD_CHECK(slot >= 0);
	CHILD_CHECK(mfd_recv(sock, 0, &got) == -EINVAL);
	CHILD_CHECK(got == POISON_PTR);
	/* The refused descriptor is closed: its slot is free again. */
	CHILD_CHECK(fcntl(slot, F_GETFD) == -1 && errno == EBADF);
	return 0;
}

START_TEST(test_fake_memfd_refused_at_the_descriptor_limit)
{
	ck_assert_child_ok(fake_refused_at_the_limit, NULL);
}
END_TEST

/* /dev/shm with and without /proc, and with neither /proc nor memfd_create. */
static int dev_shm_refused(void *arg)
{
	const char *how = arg;
	int shm = dev_shm_file();

	if (shm < 0) {
		note_skipped("no tmpfs at /dev/shm");
		return SKIPPED;
	}
	if (strcmp(how, "with /proc") != 0) {
		if (enter_or_skip() < 0)
			return SKIPPED;
		CHILD_CHECK(hide_proc() == 0);
		if (strcmp(how, "without /proc or memfd_create") == 0)
			CHILD_CHECK(deny_syscalls(&no_memfd_create, 1) == 0);
	}
	CHILD_CHECK(recv_answer(dup(shm), 0) == -EINVAL);
	CHILD_CHECK(recv_answer(dup(shm), F_SEAL_SEAL) == -EINVAL);
	CHILD_CHECK(seals_of_adopted(shm) == -EINVAL);
	close(shm);
	return 0;
}

static const char *const dev_shm_cases[] = {
	"with /proc",
	"without /proc",
	"without /proc or memfd_create",
};

START_TEST(test_dev_shm_file_refused)
{
	int line = run_isolated(dev_shm_refused, (void *)dev_shm_cases[_i]);

	ck_assert_msg(line != INT32_MIN, "%s: the child died", dev_shm_cases[_i]);
	ck_assert_msg(line == 0, "%s: CHILD_CHECK at line %d failed", dev_shm_cases[_i], line);
}
END_TEST

/* Without /proc the mount alone decides: a real memfd is still taken,
 * whatever its seals, and only its name cannot be read. /proc covered by
 * an empty tmpfs (statfs finds no procfs), or no /proc directory at all
 * (a chroot into that tmpfs, as in a minimal container: statfs says
 * ENOENT, which is no error but the same answer); fakes stay refused. */
static int real_memfd_without_proc(void *arg)
{
	bool no_directory = arg != NULL;
	int plain = unprovable_memfd(), sealed = sealed_memfd(), shm = dev_shm_file(), fake;
	struct mfd *m = NULL;
	struct stat st;
	char name[64];

	CHILD_CHECK(sealed >= 0);
	if (enter_or_skip() < 0)
		return SKIPPED;
	fake = detached_fake_memfd();
	CHILD_CHECK(fake >= 0);
	CHILD_CHECK(hide_proc() == 0);
	if (no_directory) {
		CHILD_CHECK(chroot("/proc") == 0 && chdir("/") == 0);
		CHILD_CHECK(stat("/proc", &st) == -1 && errno == ENOENT);
	}
	CHILD_CHECK(recv_answer(sealed, SEALED) == 0);
	CHILD_CHECK(recv_answer(dup(fake), 0) == -EINVAL);
	CHILD_CHECK(seals_of_adopted(fake) == -EINVAL);
	close(fake);
	if (shm >= 0) {
		CHILD_CHECK(recv_answer(dup(shm), 0) == -EINVAL);
		close(shm);
	}
	if (plain < 0) {
		note_skipped("memfd_noexec=2 seals every memfd: none whose seals prove nothing");
		return 0;
	}
	CHILD_CHECK(recv_answer(dup(plain), F_SEAL_SEAL) == 0);
	CHILD_CHECK(mfd_from_fd(&m, plain) == 0);
	CHILD_CHECK(mfd_get_seals(m) == F_SEAL_SEAL);
	CHILD_CHECK(mfd_get_name(m, name, sizeof(name)) == -ENOENT);
	mfd_free(m);
	return 0;
}

START_TEST(test_real_memfd_without_proc)
{
	ck_assert_child_ok(real_memfd_without_proc, NULL);
}
END_TEST

START_TEST(test_real_memfd_without_a_proc_directory)
{
	ck_assert_child_ok(real_memfd_without_proc, "no directory");
}
END_TEST

/*
 * In a sandbox without memfd_create, or where procfs is mounted but a
 * descriptor's link in it cannot be found (ENOENT: a thread-self hidden,
 * an entry gone): seals still prove a memfd; a memfd whose seals prove
 * nothing cannot be told from a tmpfs file (its mount, or its name, is
 * unknown), and is refused (the contract fails closed).
 */
static int real_memfd_unprovable(void *arg)
{
	const struct denial *deny = arg;
	int plain = unprovable_memfd(), sealed = sealed_memfd();
	int unsealed = (int)syscall(SYS_memfd_create, "unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	CHILD_CHECK(sealed >= 0 && unsealed >= 0 && ftruncate(unsealed, 4096) == 0);
	CHILD_CHECK(deny_syscalls(deny, 1) == 0);
	CHILD_CHECK(recv_answer(sealed, SEALED) == 0);
	/* No F_SEAL_SEAL: only memfd_create makes such a file. */
	CHILD_CHECK(recv_answer(dup(unsealed), 0) == 0);
	CHILD_CHECK(seals_of_adopted(unsealed) == fcntl(unsealed, F_GET_SEALS));
	close(unsealed);
	if (plain < 0) {
		note_skipped("memfd_noexec=2 seals every memfd: none whose seals prove nothing");
		return 0;
	}
	CHILD_CHECK(recv_answer(dup(plain), 0) == -EINVAL);
	CHILD_CHECK(seals_of_adopted(plain) == -EINVAL);
	close(plain);
	return 0;
}

START_TEST(test_real_memfd_without_memfd_create)
{
	ck_assert_child_ok(real_memfd_unprovable, (void *)&no_memfd_create);
}
END_TEST

START_TEST(test_real_memfd_whose_link_is_missing)
{
	static const struct denial no_links = { .call = CALL_READLINK, .err = ENOENT };

	ck_assert_child_ok(real_memfd_unprovable, (void *)&no_links);
}
END_TEST

/* One slot left, cold cache: the proof (the library's own probe memfd) is
 * made before the descriptor arrives and takes that slot. */
static int recv_at_the_limit(void *arg)
{
	bool hugetlb = arg != NULL;
	int fd = hugetlb ? (int)syscall(SYS_memfd_create, "huge", MFD_CLOEXEC | MFD_HUGETLB)
			 : unprovable_memfd();
	struct mfd *got = POISON_PTR;
	int sock, slot;

	if (fd < 0) {
		note_skipped(hugetlb ? "no MFD_HUGETLB memfd on this system"
				     : "memfd_noexec=2 seals every memfd: none whose seals prove nothing");
		return SKIPPED;
	}
	CHILD_CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL);
	sock = queue_fd(fd);
	CHILD_CHECK(sock >= 0);
	slot = leave_free_slots(1);
	if (slot == -ENOTSUP)
		return SKIPPED;
	CHILD_CHECK(slot >= 0);
	CHILD_CHECK(mfd_recv(sock, F_SEAL_SEAL, &got) == 0);
	CHILD_CHECK(mfd_fd(got) == slot);
	CHILD_CHECK(mfd_get_seals(got) == F_SEAL_SEAL);
	CHILD_CHECK(mfd_size(got) == (hugetlb ? 0 : 4096));
	mfd_free(got);
	return 0;
}

START_TEST(test_recv_at_the_descriptor_limit)
{
	ck_assert_child_ok(recv_at_the_limit, NULL);
}
END_TEST

START_TEST(test_recv_hugetlb_at_the_descriptor_limit)
{
	ck_assert_child_ok(recv_at_the_limit, "hugetlb");
}
END_TEST

/* mfd_from_fd at the limit: with one slot the probe can be made and a
 * memfd whose seals prove nothing is recognized; with none it is taken
 * for a plain file, while one that its seals prove is still a memfd. */
static int adopt_at_the_limit(void *arg)
{
	int free_slots = *(const int *)arg;
	int plain = unprovable_memfd(), sealed = sealed_memfd(), slot;

	CHILD_CHECK(sealed >= 0);
	if (plain < 0) {
		note_skipped("memfd_noexec=2 seals every memfd: none whose seals prove nothing");
		plain = dup(sealed);
	}
	slot = leave_free_slots(free_slots);
	if (slot == -ENOTSUP)
		return SKIPPED;
	CHILD_CHECK(slot >= 0);
	CHILD_CHECK(seals_of_adopted(sealed) == fcntl(sealed, F_GET_SEALS));
	if (fcntl(plain, F_GET_SEALS) == F_SEAL_SEAL)
		CHILD_CHECK(seals_of_adopted(plain) == (free_slots ? F_SEAL_SEAL : -EINVAL));
	return 0;
}

START_TEST(test_from_fd_at_the_descriptor_limit)
{
	static const int one = 1, none = 0;

	ck_assert_child_ok(adopt_at_the_limit, (void *)&one);
	ck_assert_child_ok(adopt_at_the_limit, (void *)&none);
}
END_TEST

/*
 * The file of a shared anonymous mapping (as /dev/zero or MAP_ANONYMOUS
 * make): it lies on the kernel's own memfd mount and carries F_SEAL_SEAL
 * alone, so only its name ("/dev/zero (deleted)") tells it from a memfd. A
 * descriptor of it comes from /proc/self/map_files, which needs
 * CAP_SYS_ADMIN; -1 without.
 */
static int shared_anonymous_file(void)
{
	size_t size = 4096;
	char path[64];
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd;

	if (p == MAP_FAILED)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)p + size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	munmap(p, size);
	return fd;
}

/* A sender with the privilege to reach it sends the file of a shared
 * anonymous mapping: the name, read in /proc, refuses it. */
static int shared_anonymous_refused(void *unused)
{
	int fd = shared_anonymous_file();

	if (fd < 0) {
		note_skipped("no /proc/self/map_files descriptor without CAP_SYS_ADMIN");
		return SKIPPED;
	}
	CHILD_CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL);
	CHILD_CHECK(recv_answer(dup(fd), 0) == -EINVAL);
	CHILD_CHECK(seals_of_adopted(fd) == -EINVAL);
	close(fd);
	return 0;
}

START_TEST(test_shared_anonymous_memory_refused)
{
	ck_assert_child_ok(shared_anonymous_refused, NULL);
}
END_TEST

/* A thread with a descriptor table of its own: fd holds there what it
 * holds in no other thread's. */
struct own_table {
	int fd, other; /* dup2(other, fd) in the thread's own table */
	int seals;     /* what mfd_get_seals answers there */
	char name[64];
	int name_length;
};

static void *in_own_table(void *arg)
{
	struct own_table *t = arg;
	struct mfd *m = NULL;

	t->seals = t->name_length = -ENOTRECOVERABLE;
	if (unshare(CLONE_FILES) < 0 || dup2(t->other, t->fd) != t->fd)
		return NULL;
	if (mfd_from_fd(&m, t->fd) == 0) {
		t->seals = mfd_get_seals(m);
		t->name_length = mfd_get_name(m, t->name, sizeof(t->name));
		mfd_free(m);
	}
	return NULL;
}

/*
 * The name is read in the calling thread's own table (/proc/thread-self),
 * not the thread group leader's (/proc/self): a memfd that only this
 * thread holds at that number is recognized, and the shared anonymous
 * file that only it holds is refused where the leader holds a memfd.
 */
static int names_in_own_table(void *unused)
{
	struct own_table t;
	pthread_t thread;
	int plain = unprovable_memfd(), anon = shared_anonymous_file(), leaders;

	if (plain < 0) {
		note_skipped("memfd_noexec=2 seals every memfd: none whose seals prove nothing");
		return SKIPPED;
	}
	/* The leader holds /dev/null at the number; the thread, the memfd. */
	leaders = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHILD_CHECK(leaders >= 0);
	t.fd = leaders;
	t.other = plain;
	CHILD_CHECK(pthread_create(&thread, NULL, in_own_table, &t) == 0);
	CHILD_CHECK(pthread_join(thread, NULL) == 0);
	CHILD_CHECK(t.seals == F_SEAL_SEAL);
	CHILD_CHECK(t.name_length == 10 && strcmp(t.name, "unsealable") == 0);
	close(leaders);
	if (anon < 0) {
		note_skipped("no /proc/self/map_files descriptor without CAP_SYS_ADMIN");
		return 0;
	}
	/* The leader holds a memfd at the number; the thread, the anonymous file. */
	t.fd = plain;
	t.other = anon;
	CHILD_CHECK(pthread_create(&thread, NULL, in_own_table, &t) == 0);
	CHILD_CHECK(pthread_join(thread, NULL) == 0);
	CHILD_CHECK(t.seals == -EINVAL);
	close(anon);
	close(plain);
	return 0;
}

START_TEST(test_names_read_in_the_threads_own_table)
{
	ck_assert_child_ok(names_in_own_table, NULL);
}
END_TEST

Suite *identify_suite(void)
{
	Suite *s = suite_create("identify");
	TCase *tc = tcase_with_leak_check("fail_closed");

	tcase_add_test(tc, test_fake_memfd_refused);
	tcase_add_test(tc, test_fake_memfd_refused_without_memfd_create);
	tcase_add_test(tc, test_fake_memfd_refused_at_the_descriptor_limit);
	tcase_add_loop_test(tc, test_dev_shm_file_refused, 0, (int)ARRAY_SIZE(dev_shm_cases));
	tcase_add_test(tc, test_real_memfd_without_proc);
	tcase_add_test(tc, test_real_memfd_without_a_proc_directory);
	tcase_add_test(tc, test_real_memfd_whose_link_is_missing);
	tcase_add_test(tc, test_real_memfd_without_memfd_create);
	tcase_add_test(tc, test_recv_at_the_descriptor_limit);
	tcase_add_test(tc, test_recv_hugetlb_at_the_descriptor_limit);
	tcase_add_test(tc, test_from_fd_at_the_descriptor_limit);
	tcase_add_test(tc, test_shared_anonymous_memory_refused);
	tcase_add_test(tc, test_names_read_in_the_threads_own_table);
	suite_add_tcase(s, tc);
	return s;
}
