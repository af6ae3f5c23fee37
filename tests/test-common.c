/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"

/* Both counters use bare system calls: opendir and stdio call fstat, which
 * some fault-injection tests make fail. */

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int count_fds(void)
{
	static char buf[16384];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;
	int count = 0;

	ck_assert_int_ge(dir, 0);
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			const struct linux_dirent64 *e = (const void *)(buf + off);

			count += e->d_name[0] != '.';
			off += e->d_reclen;
		}
	}
	ck_assert_int_eq(n, 0);
	close(dir);
	return count - 1; /* the directory's own descriptor */
}

/* /proc/self/maps, whole and NUL-terminated, in a buffer of its own. */
static char *read_maps(void)
{
	static char buf[1 << 20];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	ck_assert_int_eq(n, 0);
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Mappings of memfds: other mappings come and go with malloc (and valgrind). */
static int count_memfd_maps(void)
{
	const char *buf = read_maps();
	int count = 0;

	for (const char *p = buf; (p = strstr(p, " /memfd:")); p++)
		count++;
	return count;
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

int reservations_now(void)
{
	char *buf;
	int count = 0;

#ifdef UNDER_ASAN
	static int said;

	/* Its allocator reserves inaccessible memory of its own as it goes. */
	if (!said++)
		note_skipped("under AddressSanitizer, reservations are not counted");
	return 0;
#endif
	buf = read_maps();
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char perms[8];
		unsigned long long inode;
		int end = 0;

		if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %llu %n", perms, &inode, &end) >= 2 &&
		    strcmp(perms, "---p") == 0 && inode == 0 && line[end] == '\0')
			count++;
	}
	return count;
}

struct resources resources_now(void)
{
	struct resources r;

	r.fds = count_fds();
	r.maps = count_memfd_maps();
	return r;
}

size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

size_t pages_mapped(const void *addr, size_t length)
{
	const uint64_t present = 1ull << 63;
	size_t page = page_size(), count = 0;
	uintptr_t first = (uintptr_t)addr / page;
	size_t n = (length + page - 1) / page;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t entry;

		ck_assert_int_eq(pread(fd, &entry, sizeof(entry),
				       (off_t)((first + i) * sizeof(entry))),
				 (ssize_t)sizeof(entry));
		count += (entry & present) != 0;
	}
	close(fd);
	return count;
}

struct mfd *new_sized_mfd(const char *name, uint64_t size)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, name, 0), 0);
	ck_assert_int_eq(mfd_set_size(m, size), 0);
	return m;
}

int kernel_has_noexec_seal(void)
{
	int fd = (int)syscall(SYS_memfd_create, "probe", MFD_CLOEXEC | MFD_NOEXEC_SEAL);

	if (fd < 0) {
		ck_assert_int_eq(errno, EINVAL);
		return 0;
	}
	close(fd);
	return 1;
}

int kernel_has_future_write_seal(void)
{
	int fd = (int)syscall(SYS_memfd_create, "probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int ok;

	ck_assert_int_ge(fd, 0);
	ok = fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0;
	close(fd);
	return ok;
}

int new_memfd_seals(void)
{
	return kernel_has_noexec_seal() ? F_SEAL_EXEC : 0;
}

static int is_tmpfs(const char *dir)
{
	struct statfs sfs;

	return statfs(dir, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
}

int open_tmpfs_file(void)
{
	static const char *const candidates[] = { "/dev/shm", "/run/shm", "/tmp", "/run" };
	char dir[] = "/tmp/libmemfd-tmpfs-XXXXXX";
	const char *found = NULL;
	char path[64];
	int fd;

	for (size_t i = 0; i < ARRAY_SIZE(candidates) && !found; i++)
		if (is_tmpfs(candidates[i]) && access(candidates[i], W_OK) == 0)
			found = candidates[i];
	if (!found) {
		/* Mount one, in a mount namespace of this test process alone. */
		ck_assert_msg(unshare(CLONE_NEWNS) == 0,
			      "no writable tmpfs here, and no mount namespace: %s", strerror(errno));
		ck_assert_int_eq(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
		ck_assert_ptr_nonnull(mkdtemp(dir));
		ck_assert_int_eq(mount("tmpfs", dir, "tmpfs", 0, NULL), 0);
		found = dir;
	}
	snprintf(path, sizeof(path), "%s/libmemfd-test-XXXXXX", found);
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(unlink(path), 0);
	return fd;
}

int memfd_without_sealing(void)
{
	/* MFD_EXEC first: with memfd_noexec at 1 a memfd made without it is
	 * sealed with F_SEAL_EXEC; before 6.3 the flag is unknown. */
	int fd = (int)syscall(SYS_memfd_create, "unsealable", MFD_CLOEXEC | MFD_EXEC);

	if (fd < 0)
		fd = (int)syscall(SYS_memfd_create, "unsealable", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	if (fcntl(fd, F_GET_SEALS) != F_SEAL_SEAL) {
		close(fd);
		return -1;
	}
	return fd;
}

int memfd_noexec_sysctl(void)
{
	FILE *f = fopen("/proc/sys/vm/memfd_noexec", "re");
	int value = 0;

	if (f) {
		if (fscanf(f, "%d", &value) != 1)
			value = 0;
		fclose(f);
	}
	return value;
}

int reopen_read_only(const struct mfd *m)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd_fd(m));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static struct resources at_test_start;

static void snapshot_resources(void)
{
	at_test_start = resources_now();
}

static void assert_resources_restored(void)
{
	ck_assert_resources_unchanged(at_test_start);
}

TCase *tcase_with_leak_check(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, snapshot_resources, assert_resources_restored);
	return tc;
}

struct mfd *adopt_read_only(const struct mfd *m)
{
	struct mfd *ro = NULL;

	ck_assert_int_eq(mfd_from_fd(&ro, reopen_read_only(m)), 0);
	return ro;
}

/* Write all of text to a file of /proc/self. */
static int write_proc_self(const char *name, const char *text)
{
	char path[64];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		err = -errno;
	close(fd);
	return err;
}

int enter_mount_namespace(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	int err;

	if (unshare(CLONE_NEWNS) < 0) {
		if (errno != EPERM)
			return -errno;
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -errno;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
		err = write_proc_self("uid_map", map);
		if (err == 0)
			err = write_proc_self("setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
		if (err == 0)
			err = write_proc_self("gid_map", map);
		if (err < 0)
			return err;
	}
	/* The types are ignored here, but valgrind checks them. */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	return 0;
}

long send_with_fds(int sock, const void *data, size_t length, const int *fds, size_t n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(MAX_SENT_FDS * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = length };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n > MAX_SENT_FDS)
		return -1;
	if (n > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	return (long)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

int leave_free_slots(int free_slots)
{
	struct rlimit lim;
	int lowest;

	/* Valgrind keeps descriptors of its own at the top and only pretends
	 * to lower the limit for its guest: nothing would be tested. */
	if (getenv("LIBMEMFD_TEST_UNDER_VALGRIND")) {
		note_skipped("valgrind does not enforce RLIMIT_NOFILE on its guest");
		return -ENOTSUP;
	}
	lowest = dup(0);

	if (lowest < 0)
		return -errno;
	close(lowest);
	/* Every number below the lowest free one is taken; those above the
	 * new limit that are open stay open, but none can be opened there.
	 * The hard limit stays, for exit_child to raise the soft one again:
	 * a coverage build's counters need descriptors to be written. */
	if (getrlimit(RLIMIT_NOFILE, &lim) < 0)
		return -errno;
	lim.rlim_cur = (rlim_t)(lowest + free_slots);
	if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
		return -errno;
	return lowest;
}

void model_diverged(unsigned int seed, long step, const char *op, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ck_abort_msg("seed %u, step %ld (%s): %s; replay with LIBMEMFD_MODEL_SEED=%u", seed, step,
		     op, what, seed);
}

void ck_assert_peer_ok(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the peer failed: %#x",
		      status);
}

int run_suites(SRunner *sr)
{
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
