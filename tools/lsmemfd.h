/* SPDX-License-Identifier: MIT */
/* lsmemfd: what the /proc scan finds, shared by the scan and the output. */
#ifndef LSMEMFD_H
#define LSMEMFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <libmemfd.h>

/* /proc/PID/comm: TASK_COMM_LEN is 16; leave room for kernels that grow it. */
#define COMMAND_MAX 64

/* The fd of a memfd that a process only maps. */
#define FD_MAPPED_ONLY (-1)

/*
 * One memfd of one process: held through descriptor fd, or (fd is
 * FD_MAPPED_ONLY) only mapped. A memfd held through several descriptors
 * has an entry for each, all with the same mapped and rss.
 */
struct memfd_entry {
	pid_t pid;
	int fd;
	char command[COMMAND_MAX];
	char name[LIBMEMFD_NAME_MAX + 1];
	uint64_t size;	/* st_size */
	uint64_t alloc;	/* bytes allocated to it, in RAM or swap */
	uint64_t dev, inode; /* the same memfd seen through several descriptors */
	uint64_t mapped; /* bytes of it this process maps, every mapping counted */
	uint64_t rss;	/* bytes of those mappings resident (only if asked for) */
	unsigned int seals;
	bool exec;	/* any execute permission bit */
	bool hugetlb;
	/* Only mapped, and could not be opened: what only the file tells
	 * (size, alloc, seals, exec) is unknown; name, dev, inode, hugetlb,
	 * mapped and rss come from /proc/PID/maps, smaps and map_files. */
	bool degraded;
};

/* lsmemfd-maps.c: the mappings of memfds in /proc/PID/maps or smaps. */

/* The longest name field of a memfd's line in maps: each byte of the
 * name may be a newline, written as the four characters \012. */
#define MAPS_NAME_MAX (4 * LIBMEMFD_NAME_MAX)

/* One mapping whose path reads like a memfd's: "/memfd:NAME (deleted)". */
struct memfd_mapping {
	uint64_t start, end;
	uint64_t dev, inode;
	uint64_t rss;	/* bytes resident, from smaps; 0 from maps */
	size_t name;	/* offset in mappings.names of NAME, as maps wrote it */
	size_t name_len;
};

struct mappings {
	struct memfd_mapping *list;
	size_t count, capacity;
	char *names;	/* the names, one after another, not terminated */
	size_t names_len, names_capacity;
	char *buf;	/* what is read of the file */
	size_t buf_capacity;
};

/* The fields of one header line of maps or smaps. */
struct maps_line {
	uint64_t start, end, offset, dev, inode;
	const char *path;	/* not terminated; NULL if none */
	size_t path_len;
};

/* Parse a header line ("START-END PERMS OFFSET MAJ:MIN INODE  PATH"),
 * without its newline. false if it is none (an smaps field). */
bool parse_maps_line(const char *line, size_t len, struct maps_line *out);

/* If path is "/memfd:NAME (deleted)", NAME (as maps writes it: a newline
 * as \012) in *name and *name_len, and true. */
bool maps_path_is_memfd(const char *path, size_t len, const char **name, size_t *name_len);

/* NAME as maps writes it, decoded into out (LIBMEMFD_NAME_MAX + 1 bytes):
 * the kernel writes a newline as \012 and escapes nothing else, so a name
 * that holds those four characters decodes to a newline. false if it
 * cannot be a memfd's name (too long, or a NUL). */
bool decode_maps_name(const char *name, size_t len, char *out);

/* Whether name (a memfd's exact name, as readlink gives it) is what maps
 * wrote as maps_name. */
bool maps_name_matches(const char *name, const char *maps_name, size_t maps_len);

/* The value of smaps field key ("Rss" for "Rss:     12 kB") in bytes, if
 * line is that field. */
bool parse_smaps_field(const char *line, size_t len, const char *key, uint64_t *bytes);

/*
 * Read the mappings of memfds of the process whose /proc directory is
 * proc_dir from maps, or with smaps from smaps (rss filled in), replacing
 * what m held. 0, or a negative errno (-ENOENT or -ESRCH once the
 * process has gone, -EACCES if we may not read it).
 */
int read_memfd_mappings(struct mappings *m, int proc_dir, bool smaps);

void mappings_release(struct mappings *m);

/* A memfd that a process maps: its first mapping, and all of them added up. */
struct mapped_memfd {
	size_t mapping;	/* in mappings.list */
	uint64_t mapped, rss;
};

struct scan {
	struct memfd_entry *entries;	/* grouped by process, in scan order */
	size_t count, capacity;
	/* Processes whose descriptors or mappings (or some of them) we may
	 * not inspect. */
	unsigned int denied;
	/* Mappings that read like memfds, left out unopened because the
	 * memfd mounts that would prove them memfds are unknown (no
	 * memfd_create for us). */
	unsigned int unproven;
	/* Read smaps, for rss: it costs a walk of the page tables. */
	bool want_rss;
	/* Scratch space, reused from process to process. */
	struct mappings mappings;
	struct memfd_entry **by_identity;
	struct mapped_memfd *candidates;
	size_t by_identity_capacity, candidates_capacity;
};

/* What became of one process. */
enum scan_result {
	SCAN_DONE,	/* every descriptor and mapping inspected */
	SCAN_GONE,	/* it exited: nothing of it is kept */
	SCAN_DENIED,	/* not, or not fully, inspected; counted in denied */
};

/*
 * Add the memfds that process pid holds or maps to s. Never blocks and
 * changes nothing: only descriptors and mappings that /proc shows as
 * memfds are looked at, and a file is opened only after fstat through an
 * O_PATH descriptor found a regular file on a memfd mount.
 * Returns a scan_result, or a negative errno after printing why (out of
 * memory or descriptors, or /proc answering what it never should).
 */
int scan_process(struct scan *s, pid_t pid);

/* Every process but this one. 0, or a negative errno after printing why. */
int scan_all_processes(struct scan *s);

/* Whether /proc knows the process: 1, 0, or a negative errno. */
int process_exists(pid_t pid);

void scan_release(struct scan *s);

/* lsmemfd-mount.c: the kernel's own mounts that memfds live on. */
enum memfd_mount {
	MOUNT_OTHER,	/* not a memfd mount: the file is no memfd */
	MOUNT_SHMEM,	/* the tmpfs of memfd_create(2) */
	MOUNT_HUGETLB,	/* a hugetlbfs of memfd_create(MFD_HUGETLB) */
};

/* Find the tmpfs (the hugetlbfs mounts are found when first asked for):
 * 0, or a negative errno if memfd_create fails for us. */
int find_memfd_mounts(void);

/* Which mount st_dev dev is: an enum memfd_mount, or a negative errno if
 * the memfd mounts cannot be found (memfd_create fails for us). */
int memfd_mount_of(uint64_t dev);

/* lsmemfd-table.c: the listing or summary, as a table or as JSON. */
enum column_id {
	COL_PID,
	COL_COMMAND,
	COL_FD,
	COL_NAME,
	COL_SIZE,
	COL_SEALS,
	COL_EXEC,
	COL_HUGETLB,
	COL_INODE,
	COL_ALLOC,
	COL_MAPPED,
	COL_RSS,
	COL_MEMFDS,
	NCOLUMNS
};

/* How a column's value is shown, and what JSON type it has. */
enum kind {
	KIND_NUMBER,
	KIND_SIZE, /* human units, or with --bytes a number */
	KIND_BOOL,
	KIND_TEXT,
};

/* Which table a column belongs to. */
#define LISTING (1U << 0)
#define SUMMARY (1U << 1)

struct column_info {
	const char *name;
	double whint; /* below 1: a share of the terminal's width */
	int flags;
	enum kind kind;
	unsigned int tables;
	const char *help;
};

extern const struct column_info columns[NCOLUMNS];

struct options {
	enum column_id shown[NCOLUMNS];
	size_t nshown;
	pid_t *pids;
	size_t npids;
	int sort; /* a column, or -1 */
	bool bytes, json, raw, noheadings, summary;
};

/* Print the listing (or with o->summary the summary) of s to stream;
 * *unknown: how many memfds it shows without a size. 0, or a negative
 * errno after printing why. */
int print_scan(const struct scan *s, const struct options *o, FILE *stream, size_t *unknown);

#endif
