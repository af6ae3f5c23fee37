/* SPDX-License-Identifier: MIT */
/* lsmemfd: finding the memfds that processes hold, through /proc. */
#include "config.h"

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lsmemfd.h"

#define MEMFD_PREFIX "memfd:"
#define DELETED_SUFFIX " (deleted)"

/* What became of one descriptor; fatal errors are negative errnos. */
enum fd_result { FD_SKIPPED, FD_LISTED, FD_GONE, FD_DENIED };

static int classify(int err)
{
	if (err == ENOENT || err == ESRCH)
		return FD_GONE;
	if (err == EACCES || err == EPERM)
		return FD_DENIED;
	return -err;
}

/* "/memfd:NAME (deleted)", as a memfd's descriptor reads. Deciding on the
 * link alone keeps FIFOs, devices and network files unopened and unstatted. */
static bool link_is_memfd(const char *link, size_t len)
{
	size_t prefix = strlen(MEMFD_PREFIX), suffix = strlen(DELETED_SUFFIX);

	if (len > 0 && link[0] == '/') {
		link++;
		len--;
	}
	return len >= prefix + suffix && memcmp(link, MEMFD_PREFIX, prefix) == 0 &&
	       memcmp(link + len - suffix, DELETED_SUFFIX, suffix) == 0;
}

/*
 * A read-only descriptor of the file that fd_name (in /proc/PID/fd) refers
 * to, if that is a regular file, with *st its status. Going through O_PATH
 * first means nothing but a regular file is ever opened, even if the
 * process puts something else on that descriptor number meanwhile.
 */
static int reopen_regular(int fd_dir, const char *fd_name, struct stat *st, int *out)
{
	char self[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
	int path_fd, fd, err;

	path_fd = openat(fd_dir, fd_name, O_PATH | O_CLOEXEC);
	if (path_fd < 0)
		return classify(errno);
	if (fstat(path_fd, st) < 0) {
		err = errno;
		close(path_fd);
		return classify(err);
	}
	if (!S_ISREG(st->st_mode)) {
		close(path_fd);
		return FD_SKIPPED;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", path_fd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	err = errno;
	close(path_fd);
	if (fd < 0)
		return classify(err);
	*out = fd;
	return FD_LISTED;
}

/* Fill e from a read-only descriptor of a regular file, if it is a memfd.
 * Takes fd. */
static int describe(int fd, const struct stat *st, struct memfd_entry *e)
{
	struct statfs sfs;
	struct mfd *m;
	int seals, r;

	/* The library tells memfds from tmpfs files, which have seals too. */
	r = mfd_from_fd(&m, fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	seals = mfd_get_seals(m);
	r = seals < 0 ? seals : mfd_get_name(m, e->name, sizeof(e->name));
	if (r >= 0 && fstatfs(mfd_fd(m), &sfs) < 0)
		r = -errno;
	if (r >= 0) {
		e->seals = (unsigned int)seals;
		e->size = mfd_size(m);
		e->alloc = (uint64_t)st->st_blocks * 512;
		e->dev = (uint64_t)st->st_dev;
		e->inode = (uint64_t)st->st_ino;
		e->exec = (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
		e->hugetlb = (uint32_t)sfs.f_type == HUGETLBFS_MAGIC; /* f_type is signed */
	}
	mfd_free(m);
	if (r == -EINVAL)
		return FD_SKIPPED;
	return r < 0 ? r : FD_LISTED;
}

static int inspect_fd(pid_t pid, int fd_dir, const char *fd_name, struct memfd_entry *e)
{
	char link[sizeof("/" MEMFD_PREFIX DELETED_SUFFIX) + LIBMEMFD_NAME_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd = -1, r;

	n = readlinkat(fd_dir, fd_name, link, sizeof(link));
	if (n < 0)
		r = classify(errno);
	else if ((size_t)n >= sizeof(link) || !link_is_memfd(link, (size_t)n))
		return FD_SKIPPED;
	else
		r = reopen_regular(fd_dir, fd_name, &st, &fd);
	if (r == FD_LISTED)
		r = describe(fd, &st, e);
	if (r < 0)
		warnx("/proc/%d/fd/%s: %s", (int)pid, fd_name, strerror(-r));
	return r;
}

static int grow(struct scan *s)
{
	size_t capacity = s->capacity ? 2 * s->capacity : 64;
	struct memfd_entry *entries;

	if (s->count < s->capacity)
		return 0;
	entries = reallocarray(s->entries, capacity, sizeof(*entries));
	if (!entries) {
		warnx("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->entries = entries;
	s->capacity = capacity;
	return 0;
}

/* The number a /proc or /proc/PID/fd entry is named after; -1 for others. */
static int entry_number(const char *name)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(name, &end, 10);
	if (errno || end == name || *end || n < 0 || n > INT32_MAX)
		return -1;
	return (int)n;
}

/* The command name, trailing newline dropped. */
static int read_command(int proc_dir, char command[COMMAND_MAX])
{
	ssize_t n;
	int fd, err;

	fd = openat(proc_dir, "comm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return classify(errno);
	n = read(fd, command, COMMAND_MAX - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return classify(err);
	if (n > 0 && command[n - 1] == '\n')
		n--;
	command[n] = '\0';
	return FD_LISTED;
}

/* The memfds among the descriptors in /proc/PID/fd; the directory
 * descriptor keeps to this process even if its PID is reused. Fatal
 * errors are printed here. */
static int scan_fds(struct scan *s, pid_t pid, int proc_dir, bool *denied)
{
	struct dirent *d;
	DIR *dir;
	int fd_dir, fd, r = 0;

	fd_dir = openat(proc_dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd_dir < 0) {
		r = classify(errno);
		if (r < 0)
			warnx("/proc/%d/fd: %s", (int)pid, strerror(-r));
		return r;
	}
	dir = fdopendir(fd_dir);
	if (!dir) {
		/* Its fstat says ENOENT once the process has exited. */
		r = classify(errno);
		if (r < 0)
			warnx("/proc/%d/fd: %s", (int)pid, strerror(-r));
		close(fd_dir);
		return r;
	}
	for (;;) {
		errno = 0;
		d = readdir(dir);
		if (!d) {
			r = errno ? classify(errno) : FD_LISTED;
			if (r < 0)
				warnx("/proc/%d/fd: %s", (int)pid, strerror(-r));
			break;
		}
		fd = entry_number(d->d_name);
		if (fd < 0)
			continue;
		r = grow(s);
		if (r < 0)
			break;
		r = inspect_fd(pid, dirfd(dir), d->d_name, &s->entries[s->count]);
		if (r < 0)
			break;
		if (r == FD_LISTED) {
			s->entries[s->count].pid = pid;
			s->entries[s->count].fd = fd;
			s->count++;
		}
		/* FD_GONE: closed meanwhile, or the whole process is gone,
		 * which the next readdir says. */
		*denied |= r == FD_DENIED;
	}
	closedir(dir);
	return r;
}

int scan_process(struct scan *s, pid_t pid)
{
	char path[sizeof("/proc/") + 3 * sizeof(pid_t)];
	char command[COMMAND_MAX];
	size_t first = s->count;
	bool denied = false;
	int proc_dir, r;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	proc_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_dir < 0) {
		r = classify(errno);
		if (r < 0)
			warnx("%s: %s", path, strerror(-r));
	} else {
		r = scan_fds(s, pid, proc_dir, &denied);
		if (r == FD_LISTED && s->count > first) {
			r = read_command(proc_dir, command);
			if (r < 0)
				warnx("%s/comm: %s", path, strerror(-r));
		}
		close(proc_dir);
	}

	if (r == FD_LISTED) {
		for (size_t i = first; i < s->count; i++)
			memcpy(s->entries[i].command, command, COMMAND_MAX);
	} else {
		/* Exited, or could not be read at all: keep none of it. */
		s->count = first;
	}
	if (r < 0)
		return r;
	if (r == FD_GONE)
		return SCAN_GONE;
	if (r == FD_DENIED || denied) {
		s->denied++;
		return SCAN_DENIED;
	}
	return SCAN_DONE;
}

int scan_all_processes(struct scan *s)
{
	pid_t self = getpid();
	struct dirent *d;
	DIR *proc;
	int pid, r = 0;

	proc = opendir("/proc");
	if (!proc) {
		r = -errno;
		warn("/proc");
		return r;
	}
	for (;;) {
		errno = 0;
		d = readdir(proc);
		if (!d) {
			if (errno) {
				r = -errno;
				warn("/proc");
			}
			break;
		}
		pid = entry_number(d->d_name);
		/* Not lsmemfd itself, whose descriptors come and go as it looks. */
		if (pid <= 0 || pid == self)
			continue;
		r = scan_process(s, pid);
		if (r < 0)
			break;
		r = 0;
	}
	closedir(proc);
	return r;
}

int process_exists(pid_t pid)
{
	char path[sizeof("/proc/") + 3 * sizeof(pid_t)];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return -errno;
}

void scan_release(struct scan *s)
{
	free(s->entries);
	*s = (struct scan){ 0 };
}
