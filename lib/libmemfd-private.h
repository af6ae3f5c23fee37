/* SPDX-License-Identifier: MIT */
/* What the compilation units of lib/ share; nothing here is installed. */
#ifndef LIBMEMFD_PRIVATE_H
#define LIBMEMFD_PRIVATE_H

#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include "libmemfd.h"

/* Marks a definition as part of the ABI; everything else stays hidden. */
#define LIBMEMFD_EXPORT __attribute__((visibility("default")))

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif
#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif

#define LIBMEMFD_ALL_SEALS                                           \
	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |  \
	 F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)

struct mfd {
	int fd;
	/* A real memfd, not a tmpfs or other file: known from creation or
	 * found out once at adoption, since it never changes. */
	bool memfd;
	/* What mfd_size() answers; map.c trusts it to skip an fstat. */
	uint64_t size;
	/* Mappings start and (on hugetlbfs) end on multiples of this: the
	 * page size, or the huge page size. */
	uint64_t map_align;
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The system's page size, without a system call. */
uint64_t mfd_page_size(void);

/* "/proc/thread-self/fd/N": the path that names descriptor N, to readlink
 * or to reopen it. Not /proc/self, the thread group leader's: a thread may
 * have a descriptor table of its own (unshare(CLONE_FILES)), and once the
 * leader has exited /proc/self/fd is empty. */
#define MFD_FD_PATH_MAX (sizeof("/proc/thread-self/fd/") + 3 * sizeof(int))
void mfd_fd_path(char path[MFD_FD_PATH_MAX], int fd);

/*
 * Run a system call until no signal interrupts it; -errno on failure.
 * Only -1 with errno set is a failure: lseek on some files (/proc/self/mem)
 * succeeds with a negative offset, and a stale EINTR must not loop.
 * Whether it failed is one decision, taken with & rather than &&: the
 * calls this wraps set errno whenever they return -1 (lseek of a memfd
 * never reaches -1), so a second branch would be one no test can take.
 */
#define RETRY_EINTR(type, call)                                 \
	({                                                      \
		type r_;                                        \
		do {                                            \
			errno = 0;                              \
			r_ = (call);                            \
		} while (r_ == -1 && errno == EINTR);           \
		((r_ == -1) & (errno != 0)) ? (type)-errno : r_; \
	})

/* A file system's magic number (<linux/magic.h>): f_type is a signed
 * word, 32 bits on 32-bit systems, where some magics do not fit. */
static inline uint32_t mfd_fs_magic(const struct statfs *sfs)
{
	return (uint32_t)sfs->f_type;
}

/* Whether n cannot be a file offset; takes any unsigned width (size_t
 * too, where the comparison alone would be always false on 32 bits). */
static inline bool mfd_above_off_max(uint64_t n)
{
	return n > (uint64_t)INT64_MAX;
}

/*
 * Whether fd, a regular file with the given stat, statfs and seals (as
 * F_GET_SEALS answered, or negative if it failed), can be proven a memfd,
 * failing closed: what cannot be proven is not one. Also the alignment its
 * mappings need. 0, or a negative errno if the file could not be asked.
 */
int mfd_identify(int fd, const struct stat *st, const struct statfs *sfs, int seals,
		 bool *memfd, uint64_t *map_align);

/* Learn what mfd_identify needs (the devices of the kernel's memfd mounts)
 * while a descriptor slot is still free: called before a receive. */
void mfd_identify_prepare(void);

/*
 * mfd_map's bounds check: 0 if a mapping ending at end stays within the
 * pages that hold the file's bytes (no system call when it lies within the
 * recorded size), else -ENXIO, or fstat's error.
 */
int mfd_check_end(const struct mfd *m, uint64_t end);

/*
 * Reserve length bytes of address space starting at a multiple of align
 * (a power of two, at least the page size), inaccessible: mappings made
 * into it with MAP_FIXED replace only the reservation, never another
 * mapping of the process. length + align must fit in a size_t (the
 * callers' limits on lengths see to it). 0, or a negative errno.
 */
int mfd_reserve_range(size_t length, size_t align, void **addr);

/*
 * Map [offset, offset + length) of m shared at at and again at at + length,
 * over a range the caller has reserved. On failure the range may be left
 * partly mapped: the caller unmaps its whole reservation.
 */
int mfd_fill_mirror(const struct mfd *m, void *at, uint64_t offset, size_t length, int prot);

/*
 * For the ThreadSanitizer test only (tests/ring-tsan.c, which builds lib/
 * into itself with LIBMEMFD_RING_TEST_HOOKS defined; the library proper
 * has no such function): the other end of the ring that creator made, sharing its
 * mapping instead of mapping the memfd again. TSan tracks addresses, not
 * memory, so the two ends of a ring in one process must share one mapping
 * for it to see their accesses meet (a consumer creator's data area is
 * made writable for it). Free this end before the creator's.
 */
int mfd_ring_attach_same_mapping(struct mfd_ring **out, struct mfd_ring *creator);

/*
 * guard.c: the registry of guarded mappings, for map.c. mfd_map reserves
 * an entry, then publishes it once the mapping is made (installing the
 * SIGBUS handler at the first: if that fails, the entry is cancelled and
 * the mapping is the caller's to undo), or cancels it.
 */
struct mfd_guard;
int mfd_guard_reserve(struct mfd_guard **entry);
int mfd_guard_publish(struct mfd_guard *entry, void *addr, size_t length, int prot,
		      uint64_t granule);
void mfd_guard_cancel(struct mfd_guard *entry);

/* mfd_unmap of a guarded mapping: 0 or a negative errno, or MFD_GUARD_NONE
 * when the range overlaps none and is the caller's to munmap. */
#define MFD_GUARD_NONE 1
int mfd_guard_unmap(void *addr, size_t length);

/*
 * Race windows of guard.c: a test build (tests/test-guard-races.c, which
 * compiles lib/ into itself) defines LIBMEMFD_RACE_WINDOWS and
 * mfd_race_window(), and makes happen in a window what another thread
 * could. Nothing at all otherwise.
 */
enum mfd_race_window {
	MFD_RACE_PIN,	 /* pin_if: the entry looked LIVE and matching */
	MFD_RACE_RETIRE, /* retire: the entry looked LIVE and the same range */
	MFD_RACE_CLAIM,	 /* claim_free_entry: the entry looked FREE */
	MFD_RACE_GROW,	 /* grow: the new chunk is about to be pushed */
	MFD_RACE_WINDOWS
};
#ifdef LIBMEMFD_RACE_WINDOWS
void mfd_race_window(enum mfd_race_window window);
#define MFD_RACE_WINDOW(window) mfd_race_window(window)
#else
#define MFD_RACE_WINDOW(window) ((void)0)
#endif

#endif /* LIBMEMFD_PRIVATE_H */
