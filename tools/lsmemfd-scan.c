/* SPDX-License-Identifier: MIT */
/* lsmemfd: finding the memfds that processes hold or map, through /proc. */
#include "config.h"

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
 * A read-only descriptor of the file that entry (in /proc/PID/fd or
 * map_files) refers to, if that is a regular file on a memfd mount (and,
 * with expect, that very file), with *st its status. Going through O_PATH
 * first means nothing else is ever opened, even if the process puts
 * something else on that descriptor number or address range meanwhile.
 */
static int reopen_memfd(int dir, const char *entry, const struct stat *expect,
			struct stat *st, int *out)
{
	char self[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
	int path_fd, fd, err;

	path_fd = openat(dir, entry, O_PATH | O_CLOEXEC);
	if (path_fd < 0)
		return classify(errno);
	if (fstat(path_fd, st) < 0) {
		err = errno;
		close(path_fd);
		return classify(err);
	}
	if (expect && (st->st_dev != expect->st_dev || st->st_ino != expect->st_ino)) {
		/* Mapped over since maps was read. */
		close(path_fd);
		return FD_GONE;
	}
	/* Where the memfd mounts are unknown, the library decides alone. */
	if (!S_ISREG(st->st_mode) || memfd_mount_of((uint64_t)st->st_dev) == MOUNT_OTHER) {
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
		r = reopen_memfd(fd_dir, fd_name, NULL, &st, &fd);
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
		s->entries[s->count] = (struct memfd_entry){ 0 };
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

/* Room for n of each in the scratch arrays. */
static int scratch_room(struct scan *s, size_t n)
{
	if (s->by_identity_capacity < n) {
		struct memfd_entry **p = reallocarray(s->by_identity, n, sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->by_identity = p;
		s->by_identity_capacity = n;
	}
	if (s->candidates_capacity < n) {
		struct mapped_memfd *p = reallocarray(s->candidates, n, sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->candidates = p;
		s->candidates_capacity = n;
	}
	return 0;
}

static int compare_keys(uint64_t dev_a, uint64_t ino_a, uint64_t dev_b, uint64_t ino_b)
{
	if (dev_a != dev_b)
		return dev_a < dev_b ? -1 : 1;
	return (ino_a > ino_b) - (ino_a < ino_b);
}

/* By file, then by address. */
static int compare_mappings(const void *a, const void *b)
{
	const struct memfd_mapping *x = a, *y = b;
	int c = compare_keys(x->dev, x->inode, y->dev, y->inode);

	return c ? c : (x->start > y->start) - (x->start < y->start);
}

static int compare_entries(const void *a, const void *b)
{
	const struct memfd_entry *x = *(const struct memfd_entry *const *)a;
	const struct memfd_entry *y = *(const struct memfd_entry *const *)b;

	return compare_keys(x->dev, x->inode, y->dev, y->inode);
}

/* qsort has no context: the mappings being sorted by address. */
static const struct memfd_mapping *sorting_mappings;

static int compare_candidates(const void *a, const void *b)
{
	uint64_t x = sorting_mappings[((const struct mapped_memfd *)a)->mapping].start;
	uint64_t y = sorting_mappings[((const struct mapped_memfd *)b)->mapping].start;

	return (x > y) - (x < y);
}

/* /proc/PID/map_files, opened when first needed. */
struct map_files {
	int fd;		/* -1: not open */
	bool tried;
	bool gone;	/* the process has exited */
};

/*
 * Without the privilege to open map_files entries: what maps told, and the
 * name exactly from readlink, which needs none. Where readlink fails, or
 * shows another file than maps did (mapped over since), the name is
 * decoded from maps, where a newline and the characters \012 read alike.
 */
static int degraded_entry(const struct scan *s, const struct map_files *map_files,
			  const char *entry, const struct memfd_mapping *mp, int mount,
			  struct memfd_entry *e)
{
	char link[sizeof("/" MEMFD_PREFIX DELETED_SUFFIX) + LIBMEMFD_NAME_MAX + 1];
	const char *maps_name = s->mappings.names + mp->name;
	size_t prefix = strlen("/" MEMFD_PREFIX), suffix = strlen(DELETED_SUFFIX);
	ssize_t n = -1;

	if (map_files->fd >= 0)
		n = readlinkat(map_files->fd, entry, link, sizeof(link));
	if (n > 0 && (size_t)n < sizeof(link) && link[0] == '/' &&
	    link_is_memfd(link, (size_t)n)) {
		size_t len = (size_t)n - prefix - suffix;

		memcpy(e->name, link + prefix, len);
		e->name[len] = '\0';
		if (len <= LIBMEMFD_NAME_MAX && strlen(e->name) == len &&
		    maps_name_matches(e->name, maps_name, mp->name_len))
			n = 0;
	}
	if (n != 0 && !decode_maps_name(maps_name, mp->name_len, e->name))
		return FD_SKIPPED; /* longer than any memfd's name */
	e->dev = mp->dev;
	e->inode = mp->inode;
	e->hugetlb = mount == MOUNT_HUGETLB;
	e->degraded = true;
	return FD_LISTED;
}

/* A memfd that the process maps and holds no descriptor of, through the
 * first of its mappings. */
static int inspect_mapping(struct scan *s, pid_t pid, int proc_dir,
			   struct map_files *map_files, const struct memfd_mapping *mp,
			   struct memfd_entry *e)
{
	char entry[2 * 16 + 2];
	struct stat expect = { .st_dev = (dev_t)mp->dev, .st_ino = (ino_t)mp->inode }, st;
	int mount, fd = -1, r = FD_DENIED;

	/* A look-alike on another tmpfs is never opened, even by O_PATH. */
	mount = memfd_mount_of(mp->dev);
	if (mount == MOUNT_OTHER)
		return FD_SKIPPED;
	if (!map_files->tried) {
		map_files->tried = true;
		map_files->fd = openat(proc_dir, "map_files", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = map_files->fd < 0 ? classify(errno) : FD_LISTED;
		if (r < 0)
			warnx("/proc/%d/map_files: %s", (int)pid, strerror(-r));
		map_files->gone = r == FD_GONE;
		if (r < 0 || r == FD_GONE)
			return r;
	}
	snprintf(entry, sizeof(entry), "%" PRIx64 "-%" PRIx64, mp->start, mp->end);
	/* Without map_files, what maps tells is all there is. */
	if (map_files->fd >= 0)
		r = reopen_memfd(map_files->fd, entry, &expect, &st, &fd);
	if (r == FD_LISTED)
		r = describe(fd, &st, e);
	else if (r == FD_DENIED && mount < 0)
		s->unproven++; /* maps alone cannot tell it from a look-alike */
	else if (r == FD_DENIED)
		r = degraded_entry(s, map_files, entry, mp, mount, e);
	if (r < 0)
		warnx("/proc/%d/map_files/%s: %s", (int)pid, entry, strerror(-r));
	return r == FD_DENIED ? FD_SKIPPED : r;
}

/*
 * The mappings of memfds, from maps (and smaps, for rss): they give the
 * descriptors' entries (from first on) their mapped and rss, and an entry
 * to each memfd that is only mapped. Fatal errors are printed here.
 */
static int scan_maps(struct scan *s, pid_t pid, int proc_dir, size_t first)
{
	struct mappings *m = &s->mappings;
	size_t nfds = s->count - first, ncandidates = 0, j = 0;
	struct map_files map_files = { .fd = -1 };
	int r;

	r = read_memfd_mappings(m, proc_dir, false);
	/* Only a process that maps memfds pays for a walk of its pages; its
	 * smaps then stands for the maps read before. */
	if (r == 0 && m->count > 0 && s->want_rss)
		r = read_memfd_mappings(m, proc_dir, true);
	if (r == 0)
		r = scratch_room(s, m->count > nfds ? m->count : nfds);
	if (r < 0) {
		r = classify(-r);
		if (r < 0)
			warnx("/proc/%d/%s: %s", (int)pid, s->want_rss ? "smaps" : "maps",
			      strerror(-r));
		return r;
	}
	if (m->count == 0)
		return FD_LISTED;

	qsort(m->list, m->count, sizeof(*m->list), compare_mappings);
	for (size_t i = 0; i < nfds; i++)
		s->by_identity[i] = &s->entries[first + i];
	qsort(s->by_identity, nfds, sizeof(*s->by_identity), compare_entries);
	for (size_t i = 0, next; i < m->count; i = next) {
		const struct memfd_mapping *mp = &m->list[i];
		uint64_t mapped = 0, rss = 0;
		int c = 1;

		for (next = i; next < m->count &&
		     compare_keys(m->list[next].dev, m->list[next].inode, mp->dev, mp->inode) == 0;
		     next++) {
			mapped += m->list[next].end - m->list[next].start;
			rss += m->list[next].rss;
		}
		while (j < nfds && (c = compare_keys(s->by_identity[j]->dev, s->by_identity[j]->inode,
						     mp->dev, mp->inode)) < 0)
			j++;
		if (j < nfds && c == 0) {
			/* Held through descriptors: no entry of its own. */
			for (size_t k = j; k < nfds && compare_entries(&s->by_identity[k],
								       &s->by_identity[j]) == 0; k++) {
				s->by_identity[k]->mapped = mapped;
				s->by_identity[k]->rss = rss;
			}
			continue;
		}
		s->candidates[ncandidates++] = (struct mapped_memfd){ i, mapped, rss };
	}

	/* The memfds only mapped, in the order of their addresses. */
	sorting_mappings = m->list;
	qsort(s->candidates, ncandidates, sizeof(*s->candidates), compare_candidates);
	r = FD_LISTED;
	for (size_t i = 0; i < ncandidates; i++) {
		const struct mapped_memfd *c = &s->candidates[i];
		struct memfd_entry *e;

		r = grow(s);
		if (r < 0)
			break;
		e = &s->entries[s->count];
		*e = (struct memfd_entry){ 0 };
		r = inspect_mapping(s, pid, proc_dir, &map_files, &m->list[c->mapping], e);
		if (r < 0)
			break;
		if (map_files.gone) {
			r = FD_GONE;
			break;
		}
		if (r == FD_LISTED) {
			e->pid = pid;
			e->fd = FD_MAPPED_ONLY;
			e->mapped = c->mapped;
			e->rss = c->rss;
			s->count++;
		}
		/* FD_GONE: unmapped or mapped over meanwhile: that mapping is
		 * gone, whatever the process does next. */
		r = FD_LISTED;
	}
	if (map_files.fd >= 0)
		close(map_files.fd);
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
		if (r == FD_LISTED) {
			r = scan_maps(s, pid, proc_dir, first);
			/* Its descriptors are listed, if not its mappings. */
			if (r == FD_DENIED) {
				denied = true;
				r = FD_LISTED;
			}
		}
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
	mappings_release(&s->mappings);
	free(s->by_identity);
	free(s->candidates);
	free(s->entries);
	*s = (struct scan){ 0 };
}
