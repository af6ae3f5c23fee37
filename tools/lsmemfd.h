/* SPDX-License-Identifier: MIT */
/* lsmemfd: what the /proc scan finds, shared by the scan and the output. */
#ifndef LSMEMFD_H
#define LSMEMFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libmemfd.h>

/* /proc/PID/comm: TASK_COMM_LEN is 16; leave room for kernels that grow it. */
#define COMMAND_MAX 64

/* One descriptor of one process that refers to a memfd. */
struct memfd_entry {
	pid_t pid;
	int fd;
	char command[COMMAND_MAX];
	char name[LIBMEMFD_NAME_MAX + 1];
	uint64_t size;	/* st_size */
	uint64_t alloc;	/* bytes allocated to it, in RAM or swap */
	uint64_t dev, inode; /* the same memfd seen through several descriptors */
	unsigned int seals;
	bool exec;	/* any execute permission bit */
	bool hugetlb;
};

struct scan {
	struct memfd_entry *entries;	/* grouped by process, in scan order */
	size_t count, capacity;
	/* Processes whose descriptors (or some of them) we may not inspect. */
	unsigned int denied;
};

/* What became of one process. */
enum scan_result {
	SCAN_DONE,	/* every descriptor inspected */
	SCAN_GONE,	/* it exited: nothing of it is kept */
	SCAN_DENIED,	/* not, or not fully, inspected; counted in denied */
};

/*
 * Add the memfds that process pid holds to s. Never blocks and changes
 * nothing: only descriptors that readlink shows as memfds are opened, and
 * only after fstat through an O_PATH descriptor found a regular file.
 * Returns a scan_result, or a negative errno after printing why (out of
 * memory or descriptors, or /proc answering what it never should).
 */
int scan_process(struct scan *s, pid_t pid);

/* Every process but this one. 0, or a negative errno after printing why. */
int scan_all_processes(struct scan *s);

/* Whether /proc knows the process: 1, 0, or a negative errno. */
int process_exists(pid_t pid);

void scan_release(struct scan *s);

#endif
