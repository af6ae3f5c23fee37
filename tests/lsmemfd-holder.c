/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd-holder: for lsmemfd's tests, hold and map memfds of known names,
 * sizes and seals, the same memfd twice, and files that are not memfds;
 * fork a child that holds and maps the same; print "pid", "child", one
 * "fd KEY N" line per descriptor and one "map KEY INODE" line per memfd
 * mapped, then "ready", and wait to be killed. Made with the raw system
 * calls, not with libmemfd, which lsmemfd itself relies on.
 *
 * Held through descriptors:
 *   spaced     "lsmemfd test", 1 MiB, seal,shrink,grow,write, mode 0644
 *   dup        a second descriptor of spaced
 *   odd        "odd\xff\nbyte", 1536 bytes, grow, mode 0755
 *   utf8       "caf\xc3\xa9\\x41" (valid UTF-8, a backslash), 2048 bytes, no seals, mode 0644
 *   plain      "plain", 4096 bytes written (so allocated), no seals, mode 0644
 *   sparse     "sparse", 1 GiB - 1 bytes, none allocated, no seals, mode 0644
 *   allseals   "all-seals", empty, seal,future_write,exec, mode 0666
 *              (only on Linux >= 6.3)
 *   huge       "huge", empty, MFD_HUGETLB, no seals, executable (only where
 *              hugetlbfs works)
 *   both       "both ways", 8 pages, no seals, mode 0644; its pages 2 to 5
 *              are mapped too, and the first two of them written
 *   shm        an unlinked file in /dev/shm
 *   fakememfd  an unlinked tmpfs file whose link reads like a memfd's,
 *              "/memfd:fake (deleted)" (as root, or where users may make
 *              user namespaces)
 *   fakefifo   the same for a FIFO, "/memfd:fifo (deleted)" (as fakememfd)
 *   pipe       the read end of a pipe
 *
 * Only mapped (MAP_SHARED, read-write), their descriptors closed:
 *   maponly    "mapped only", 16 pages, shrink,grow, mode 0644: all of it,
 *              pages 0, 5 and 9 written
 *   twice      "mapped twice", 8 pages, no seals, mode 0644: all of it,
 *              page 0 written; and pages 4 to 7 again, the first two
 *              written through that mapping
 *   newline, backslash, escape, notutf8: one page each, written, named
 *              "new\nline", "back\\slash", "lit\\012eral" (the four
 *              characters that maps writes for a newline) and "bad\xfe\xff"
 *   hugemap    "huge mapped", one huge page, allocated, mapped and written
 *              (only where at least four huge pages are free)
 * Mapped too, and no memfds ("other KEY" lines): shmmap, an unlinked
 * /dev/shm file of 4 pages; anon, 4 pages of shared anonymous memory;
 * sysv, a SysV segment of 4 pages, removed (where SysV IPC works);
 * fakemap, a tmpfs file "memfd:fakemap" at the root of a detached mount
 * (as fakememfd). Each with a page written.
 *
 * On SIGUSR1 it prints "event KEY" for every inotify event it saw since
 * ready, then "events N": opens, reads, writes and attribute changes of
 * its files that are not memfds, and reads, writes and attribute changes
 * of its memfds. A tool that only looks sees none.
 *
 * With --churn: print "pid" and "ready", then until killed replace one
 * address range over and over with a new memfd (its descriptor closed),
 * the /dev/shm file and (as fakememfd) the tmpfs look-alike, while a forked
 * child forks processes that make and map a memfd and exit at once: so
 * lsmemfd meets mappings and processes that go away while it looks, and
 * files that are not memfds where a memfd was mapped. SIGUSR1 reports
 * events on the /dev/shm file and the look-alike as above.
 *
 * With --unreadable: hold only "readable" (mode 0644) and "unreadable"
 * (mode 0), which only root can open; print "pid", the "fd" lines and
 * "ready", and wait.
 *
 * With --pair: hold and map "pair" (4 pages, page 0 written), and fork a
 * child that only maps it and writes pages 1 and 2 through its mapping;
 * print "pid", "child" and "ready" once it has, and wait.
 *
 * With --many N: fork N processes that each hold and map "many-held" and
 * map "many-mapped" (4 pages each, one written); print "ready" once all
 * are, and wait (for bench/lsmemfd-scan.sh).
 *
 * Exit status 77 (SKIP) where the kernel forbids executable memfds.
 * The holder and its children die with its parent, the test script.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmemfd.h" /* the MFD_* and F_SEAL_* constants only */

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif

static size_t page;

static int memfd_create_raw(const char *name, unsigned int flags)
{
	return (int)syscall(SYS_memfd_create, name, flags | MFD_CLOEXEC);
}

/* A memfd with this mode, size and seals; executable unless mode says not. */
static int make_memfd(const char *name, mode_t mode, off_t size, unsigned int seals)
{
	int fd = memfd_create_raw(name, MFD_ALLOW_SEALING | MFD_EXEC);

	if (fd < 0 && errno == EINVAL) /* before 6.3, memfds are executable */
		fd = memfd_create_raw(name, MFD_ALLOW_SEALING);
	if (fd < 0 && errno == EACCES) {
		fprintf(stderr, "SKIP: vm.memfd_noexec forbids executable memfds\n");
		exit(77);
	}
	if (fd < 0)
		err(EXIT_FAILURE, "memfd_create %s", name);
	if (fchmod(fd, mode) < 0 || ftruncate(fd, size) < 0 ||
	    (seals && fcntl(fd, F_ADD_SEALS, seals) < 0))
		err(EXIT_FAILURE, "setting up memfd %s", name);
	return fd;
}

/* All three seals that need a recent kernel, or none. */
static int make_all_seals_memfd(void)
{
	int fd = memfd_create_raw("all-seals", MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);

	if (fd < 0)
		return -1;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int make_huge_memfd(const char *name)
{
	unsigned int flags = MFD_HUGETLB | MFD_ALLOW_SEALING;
	int fd = memfd_create_raw(name, flags | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create_raw(name, flags);
	return fd;
}

static int make_shm_file(void)
{
	char path[] = "/dev/shm/lsmemfd-test-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	return fd;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = -1;

	if (fd >= 0) {
		r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
		close(fd);
	}
	return r;
}

/* A mount namespace of our own: as root, or as anyone (unshare -Urm)
 * in a user namespace of our own too, where the kernel lets users make
 * them. */
static bool own_mount_namespace(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWNS) == 0)
		return true;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return false;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
	if (write_file("/proc/self/setgroups", "deny") < 0 ||
	    write_file("/proc/self/uid_map", map) < 0)
		return false;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
	return write_file("/proc/self/gid_map", map) == 0;
}

/*
 * tmpfs files and a FIFO at the root of a mount detached from every
 * namespace: their descriptors and mappings then read
 * "/memfd:NAME (deleted)", as a memfd's do: the look-alikes that a
 * hostile peer can make.
 */
static void make_fake_memfds(int *file, int *fifo, int *mapped)
{
	char dir[] = "/tmp/lsmemfd-test-XXXXXX", path[sizeof(dir) + 16];

	*file = *fifo = *mapped = -1;
	if (!own_mount_namespace() ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(dir))
		return;
	if (mount("lsmemfd-test", dir, "tmpfs", 0, "size=1m") == 0) {
		snprintf(path, sizeof(path), "%s/memfd:fake", dir);
		*file = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		unlink(path);
		snprintf(path, sizeof(path), "%s/memfd:fakemap", dir);
		*mapped = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		unlink(path);
		snprintf(path, sizeof(path), "%s/memfd:fifo", dir);
		if (mkfifo(path, 0644) == 0)
			*fifo = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		unlink(path);
		umount2(dir, MNT_DETACH);
	}
	rmdir(dir);
}

static void print_fd(const char *key, int fd)
{
	if (fd >= 0)
		printf("fd %s %d\n", key, fd);
}

/* Map pages [first, first + count) of fd shared and read-write. */
static char *map_pages(int fd, size_t first, size_t count)
{
	void *p = mmap(NULL, count * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)(first * page));

	if (p == MAP_FAILED)
		err(EXIT_FAILURE, "mmap");
	return p;
}

/* A write fault: it maps that one page, and no neighbour (as read
 * faults may, around a page already in the cache). */
static void touch(char *mapping, size_t index)
{
	mapping[index * page] = 0x2a;
}

/* What lsmemfd must not do to the files watched, by watch descriptor. */
#define WATCHES_MAX 32
static struct {
	int fd;
	int wd[WATCHES_MAX];
	const char *key[WATCHES_MAX];
	size_t count;
} watches = { .fd = -1 };

#define NOT_OURS (IN_OPEN | IN_ACCESS | IN_MODIFY | IN_ATTRIB)
#define OURS (IN_ACCESS | IN_MODIFY | IN_ATTRIB)

static void watch(const char *key, int fd, uint32_t mask)
{
	char path[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
	int wd;

	if (fd < 0)
		return;
	if (watches.fd < 0) {
		watches.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (watches.fd < 0)
			err(EXIT_FAILURE, "inotify_init1");
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(watches.fd, path, mask);
	if (wd < 0)
		err(EXIT_FAILURE, "inotify_add_watch %s", key);
	if (watches.count == WATCHES_MAX)
		errx(EXIT_FAILURE, "too many watches");
	watches.wd[watches.count] = wd;
	watches.key[watches.count++] = key;
}

/* Drop what the holder itself caused before it was ready. */
static void drain_events(void)
{
	char buf[4096];

	if (watches.fd >= 0)
		while (read(watches.fd, buf, sizeof(buf)) > 0)
			;
}

static void report_events(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	unsigned int events = 0;
	ssize_t n;

	while (watches.fd >= 0 && (n = read(watches.fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			const char *key = "?";

			for (size_t i = 0; i < watches.count; i++) {
				if (watches.wd[i] == ev->wd)
					key = watches.key[i];
			}
			if (!(ev->mask & IN_IGNORED)) {
				printf("event %s %#x\n", key, (unsigned int)ev->mask);
				events++;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	printf("events %u\n", events);
	fflush(stdout);
}

static volatile sig_atomic_t report_asked;

static void ask_report(int sig)
{
	(void)sig;
	report_asked = 1;
}

/* Before "ready": the test may ask at once. */
static void catch_report_signal(void)
{
	struct sigaction sa = { .sa_handler = ask_report };

	sigaction(SIGUSR1, &sa, NULL);
}

/* Wait to be killed, printing the events on each SIGUSR1. */
static void __attribute__((noreturn)) wait_reporting(void)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		while (!report_asked)
			sigsuspend(&old);
		report_asked = 0;
		report_events();
	}
}

static void __attribute__((noreturn)) hold_unreadable(void)
{
	printf("pid %d\n", (int)getpid());
	print_fd("readable", make_memfd("readable", 0644, 0, 0));
	print_fd("unreadable", make_memfd("unreadable", 0, 0, 0));
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

/* Processes that make and map a memfd and exit, until killed. */
static void __attribute__((noreturn)) fork_short_lived(void)
{
	/* Not inherited: each process asks for it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (unsigned int i = 0;; i++) {
		pid_t pid = fork();

		if (pid < 0)
			err(EXIT_FAILURE, "fork");
		if (pid == 0) {
			int fd = memfd_create_raw("churn", 0);

			if (fd >= 0 && ftruncate(fd, (off_t)(4 * page)) == 0) {
				char *p = map_pages(fd, 0, 4);

				close(fd);
				touch(p, i % 4);
				if (i % 2)
					munmap(p + page, page); /* split it */
			}
			_exit(EXIT_SUCCESS);
		}
		waitpid(pid, NULL, 0);
	}
}

static void __attribute__((noreturn)) churn(void)
{
	int fake_file, fake_fifo, fake_mapped, others[2], nothers = 0;
	char *range;

	printf("pid %d\n", (int)getpid());
	make_fake_memfds(&fake_file, &fake_fifo, &fake_mapped);
	if (fake_file >= 0)
		close(fake_file);
	if (fake_fifo >= 0)
		close(fake_fifo);
	others[nothers] = make_shm_file();
	if (others[nothers] >= 0 && ftruncate(others[nothers], (off_t)(4 * page)) == 0) {
		watch("shmmap", others[nothers], NOT_OURS);
		nothers++;
	}
	if (fake_mapped >= 0 && ftruncate(fake_mapped, (off_t)(4 * page)) == 0) {
		watch("fakemap", fake_mapped, NOT_OURS);
		others[nothers++] = fake_mapped;
	}
	range = map_pages(others[0], 0, 4);
	catch_report_signal();

	switch (fork()) {
	case -1:
		err(EXIT_FAILURE, "fork");
	case 0:
		fork_short_lived();
	default:
		break;
	}
	printf("ready\n");
	fflush(stdout);

	for (unsigned int i = 0;; i++) {
		int fd = -1;

		if (report_asked) {
			report_asked = 0;
			report_events();
		}
		/* A new memfd, then something else, where the last one was. */
		if (i % 2 == 0 || nothers == 0) {
			fd = memfd_create_raw("churn", 0);
			if (fd < 0 || ftruncate(fd, (off_t)(4 * page)) < 0)
				err(EXIT_FAILURE, "memfd_create churn");
		}
		if (mmap(range, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 fd >= 0 ? fd : others[(i / 2) % nothers], 0) == MAP_FAILED)
			err(EXIT_FAILURE, "mmap");
		if (fd >= 0)
			close(fd);
		touch(range, i % 4);
	}
}

/* N processes that hold and map one memfd and only map another. */
static void __attribute__((noreturn)) many(const char *arg)
{
	long n = strtol(arg, NULL, 10);
	int ready[2];
	char byte;

	if (n <= 0 || n > 100000 || pipe2(ready, O_CLOEXEC) < 0)
		errx(EXIT_FAILURE, "--many N");
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			err(EXIT_FAILURE, "fork");
		if (pid == 0) {
			int held = make_memfd("many-held", 0644, (off_t)(4 * page), 0);
			int mapped = make_memfd("many-mapped", 0644, (off_t)(4 * page), 0);

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			touch(map_pages(held, 0, 4), 0);
			touch(map_pages(mapped, 0, 4), 0);
			close(mapped);
			if (write(ready[1], "", 1) != 1)
				_exit(EXIT_FAILURE);
			for (;;)
				pause();
		}
	}
	for (long i = 0; i < n; i++) {
		if (read(ready[0], &byte, 1) != 1)
			errx(EXIT_FAILURE, "a child of --many died");
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

static void __attribute__((noreturn)) pair(void)
{
	int fd = make_memfd("pair", 0644, (off_t)(4 * page), 0), ready[2];
	char *p = map_pages(fd, 0, 4), byte;
	pid_t child;

	touch(p, 0);
	if (pipe2(ready, O_CLOEXEC) < 0)
		err(EXIT_FAILURE, "pipe2");
	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	child = fork();
	if (child < 0)
		err(EXIT_FAILURE, "fork");
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fd);
		touch(p, 1);
		touch(p, 2);
		if (write(ready[1], "", 1) != 1)
			_exit(EXIT_FAILURE);
		for (;;)
			pause();
	}
	if (read(ready[0], &byte, 1) != 1)
		errx(EXIT_FAILURE, "the child of --pair died");
	printf("child %d\nready\n", (int)child);
	fflush(stdout);
	for (;;)
		pause();
}

/* A memfd of that many pages to map, watched: "map KEY INODE". */
static int memfd_to_map(const char *key, const char *name, size_t pages, unsigned int seals)
{
	int fd = make_memfd(name, 0644, (off_t)(pages * page), seals);
	struct stat st;

	if (fstat(fd, &st) < 0)
		err(EXIT_FAILURE, "fstat");
	watch(key, fd, OURS);
	printf("map %s %llu\n", key, (unsigned long long)st.st_ino);
	return fd;
}

/* All of a new memfd mapped, its descriptor closed. */
static char *map_only(const char *key, const char *name, size_t pages, unsigned int seals)
{
	int fd = memfd_to_map(key, name, pages, seals);
	char *p = map_pages(fd, 0, pages);

	close(fd);
	return p;
}

/* Free huge pages of the default size, from /proc/meminfo; 0 if unknown. */
static unsigned long free_huge_pages(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long free_pages = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "HugePages_Free: %lu", &free_pages);
	fclose(f);
	return free_pages;
}

/* One huge page, allocated first: a fault without a free huge page would
 * be SIGBUS, where fallocate only fails. Only where plenty are free: the
 * hugetlb tests that make check runs alongside need theirs. */
static void map_huge(void)
{
	struct statfs sfs;
	struct stat st;
	char *p;
	int fd;

	if (free_huge_pages() < 4)
		return;
	fd = make_huge_memfd("huge mapped");
	if (fd < 0)
		return;
	if (fstatfs(fd, &sfs) < 0 || fallocate(fd, 0, 0, sfs.f_bsize) < 0 ||
	    fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	p = mmap(NULL, (size_t)sfs.f_bsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err(EXIT_FAILURE, "mmap huge");
	p[0] = 0x2a;
	watch("hugemap", fd, OURS);
	close(fd);
	printf("map hugemap %llu\nhugepage %lld\n", (unsigned long long)st.st_ino,
	       (long long)sfs.f_bsize);
}

/* A file that is no memfd, 4 pages of it mapped, a page written, its
 * descriptor closed: "other KEY". */
static void map_other(const char *key, int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, (off_t)(4 * page)) == 0) {
		touch(map_pages(fd, 0, 4), 0);
		watch(key, fd, NOT_OURS);
		printf("other %s\n", key);
	}
	close(fd);
}

/* Files and memory that are no memfds, mapped. */
static void map_others(int fake_mapped)
{
	int id;
	char *p;

	map_other("shmmap", make_shm_file());
	p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		err(EXIT_FAILURE, "mmap anonymous");
	touch(p, 0);
	printf("other anon\n");
	id = shmget(IPC_PRIVATE, 4 * page, IPC_CREAT | 0600);
	if (id >= 0) {
		p = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL);
		if (p != (void *)-1) {
			touch(p, 0);
			printf("other sysv\n");
		}
	}
	map_other("fakemap", fake_mapped);
}

int main(int argc, char **argv)
{
	static char buf[4096];
	int spaced, plain, both, twice, fake_file, fake_fifo, fake_mapped, pipe_fds[2];
	char *p, *q;
	pid_t child;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		err(EXIT_FAILURE, "PR_SET_PDEATHSIG");
	page = (size_t)sysconf(_SC_PAGESIZE);
	if (argc > 1 && strcmp(argv[1], "--churn") == 0)
		churn();
	if (argc > 1 && strcmp(argv[1], "--unreadable") == 0)
		hold_unreadable();
	if (argc > 2 && strcmp(argv[1], "--many") == 0)
		many(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--pair") == 0)
		pair();

	printf("pid %d\n", (int)getpid());
	spaced = make_memfd("lsmemfd test", 0644, 1 << 20,
			    F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	print_fd("spaced", spaced);
	print_fd("dup", fcntl(spaced, F_DUPFD_CLOEXEC, 0));
	watch("spaced", spaced, OURS);
	print_fd("odd", make_memfd("odd\xff\nbyte", 0755, 1536, F_SEAL_GROW));
	print_fd("utf8", make_memfd("caf\xc3\xa9\\x41", 0644, 2048, 0));
	plain = make_memfd("plain", 0644, 4096, 0);
	memset(buf, 0x2a, sizeof(buf));
	if (pwrite(plain, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		err(EXIT_FAILURE, "pwrite");
	print_fd("plain", plain);
	watch("plain", plain, OURS);
	print_fd("sparse", make_memfd("sparse", 0644, (1 << 30) - 1, 0));
	print_fd("allseals", make_all_seals_memfd());
	print_fd("huge", make_huge_memfd("huge"));
	both = make_memfd("both ways", 0644, (off_t)(8 * page), 0);
	p = map_pages(both, 2, 4);
	touch(p, 0);
	touch(p, 1);
	print_fd("both", both);
	watch("both", both, OURS);
	print_fd("shm", make_shm_file());
	make_fake_memfds(&fake_file, &fake_fifo, &fake_mapped);
	print_fd("fakememfd", fake_file);
	print_fd("fakefifo", fake_fifo);
	watch("fakememfd", fake_file, NOT_OURS);
	watch("fakefifo", fake_fifo, NOT_OURS);
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		err(EXIT_FAILURE, "pipe2");
	print_fd("pipe", pipe_fds[0]);

	p = map_only("maponly", "mapped only", 16, F_SEAL_SHRINK | F_SEAL_GROW);
	touch(p, 0);
	touch(p, 5);
	touch(p, 9);
	twice = memfd_to_map("twice", "mapped twice", 8, 0);
	p = map_pages(twice, 0, 8);
	q = map_pages(twice, 4, 4);
	close(twice);
	touch(p, 0);
	touch(q, 0);
	touch(q, 1);
	touch(map_only("newline", "new\nline", 1, 0), 0);
	touch(map_only("backslash", "back\\slash", 1, 0), 0);
	touch(map_only("escape", "lit\\012eral", 1, 0), 0);
	touch(map_only("notutf8", "bad\xfe\xff", 1, 0), 0);
	map_huge();
	map_others(fake_mapped);
	drain_events();

	fflush(stdout);
	child = fork();
	if (child < 0)
		err(EXIT_FAILURE, "fork");
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	catch_report_signal();
	printf("child %d\nready\n", (int)child);
	fflush(stdout);
	wait_reporting();
}
