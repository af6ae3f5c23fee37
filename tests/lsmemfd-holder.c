/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd-holder: for lsmemfd's tests, hold memfds of known names, sizes
 * and seals, the same memfd twice, and files that are not memfds; fork a
 * child that holds the same; print "pid", "child" and one "fd KEY N" line
 * per descriptor, then "ready", and wait to be killed. Made with the raw
 * system calls, not with libmemfd, which lsmemfd itself relies on.
 *
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
 *   shm        an unlinked file in /dev/shm
 *   fakememfd  an unlinked tmpfs file whose link reads like a memfd's,
 *              "/memfd:fake (deleted)" (only as root)
 *   fakefifo   the same for a FIFO, "/memfd:fifo (deleted)" (only as root)
 *   pipe       the read end of a pipe
 *
 * With --churn: fork, until killed, processes that make a memfd and exit
 * at once, so that lsmemfd meets processes that exit while it looks.
 *
 * With --unreadable: hold only "readable" (mode 0644) and "unreadable"
 * (mode 0), which only root can open; print "pid", the "fd" lines and
 * "ready", and wait.
 *
 * Exit status 77 (SKIP) where the kernel forbids executable memfds.
 * The holder dies with its parent, the test script.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmemfd.h" /* the MFD_* and F_SEAL_* constants only */

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif

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

static int make_huge_memfd(void)
{
	unsigned int flags = MFD_HUGETLB | MFD_ALLOW_SEALING;
	int fd = memfd_create_raw("huge", flags | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create_raw("huge", flags);
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

/*
 * A tmpfs file and a FIFO at the root of a mount detached from every
 * namespace: their descriptors then read "/memfd:NAME (deleted)", as a
 * memfd's does. Only a private mount namespace makes that possible, so
 * this needs root.
 */
static void make_fake_memfds(int *file, int *fifo)
{
	char dir[] = "/tmp/lsmemfd-test-XXXXXX", path[sizeof(dir) + 16];

	*file = *fifo = -1;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(dir))
		return;
	if (mount("lsmemfd-test", dir, "tmpfs", 0, "size=1m") == 0) {
		snprintf(path, sizeof(path), "%s/memfd:fake", dir);
		*file = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
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

static void __attribute__((noreturn)) churn(void)
{
	for (;;) {
		pid_t pid = fork();

		if (pid < 0)
			err(EXIT_FAILURE, "fork");
		if (pid == 0) {
			memfd_create_raw("churn", 0);
			_exit(EXIT_SUCCESS);
		}
		waitpid(pid, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	static char page[4096];
	int spaced, plain, fake_file, fake_fifo, pipe_fds[2];
	pid_t child;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		err(EXIT_FAILURE, "PR_SET_PDEATHSIG");
	if (argc > 1 && strcmp(argv[1], "--churn") == 0)
		churn();
	if (argc > 1 && strcmp(argv[1], "--unreadable") == 0)
		hold_unreadable();

	printf("pid %d\n", (int)getpid());
	spaced = make_memfd("lsmemfd test", 0644, 1 << 20,
			    F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	print_fd("spaced", spaced);
	print_fd("dup", fcntl(spaced, F_DUPFD_CLOEXEC, 0));
	print_fd("odd", make_memfd("odd\xff\nbyte", 0755, 1536, F_SEAL_GROW));
	print_fd("utf8", make_memfd("caf\xc3\xa9\\x41", 0644, 2048, 0));
	plain = make_memfd("plain", 0644, 4096, 0);
	memset(page, 0x2a, sizeof(page));
	if (pwrite(plain, page, sizeof(page), 0) != (ssize_t)sizeof(page))
		err(EXIT_FAILURE, "pwrite");
	print_fd("plain", plain);
	print_fd("sparse", make_memfd("sparse", 0644, (1 << 30) - 1, 0));
	print_fd("allseals", make_all_seals_memfd());
	print_fd("huge", make_huge_memfd());
	print_fd("shm", make_shm_file());
	make_fake_memfds(&fake_file, &fake_fifo);
	print_fd("fakememfd", fake_file);
	print_fd("fakefifo", fake_fifo);
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		err(EXIT_FAILURE, "pipe2");
	print_fd("pipe", pipe_fds[0]);

	fflush(stdout);
	child = fork();
	if (child < 0)
		err(EXIT_FAILURE, "fork");
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	printf("child %d\nready\n", (int)child);
	fflush(stdout);
	for (;;)
		pause();
}
