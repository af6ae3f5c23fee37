/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check suites. */
#ifndef LIBMEMFD_TEST_COMMON_H
#define LIBMEMFD_TEST_COMMON_H

#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "libmemfd.h"

/* What a failed call must leave as it found it. */
struct resources {
	int fds;  /* entries of /proc/self/fd */
	int maps; /* memfd mappings in /proc/self/maps */
};

struct resources resources_now(void);

/* Fail the test if descriptors or mappings differ from the snapshot. */
#define ck_assert_resources_unchanged(before)                          \
	do {                                                           \
		struct resources now_ = resources_now();               \
		ck_assert_int_eq(now_.fds, (before).fds);              \
		ck_assert_int_eq(now_.maps, (before).maps);            \
	} while (0)

/* Run fn(arg) through run_isolated (syscall-filter.h); it returns 0, or
 * the line of the CHILD_CHECK that failed. */
#define ck_assert_child_ok(fn, arg)                                           \
	do {                                                                  \
		int line_ = run_isolated((fn), (arg));                        \
		ck_assert_msg(line_ != INT32_MIN, "%s: the child died", #fn);  \
		ck_assert_msg(line_ == 0, "%s: CHILD_CHECK at line %d failed", \
			      #fn, line_);                                    \
	} while (0)

/* An out-parameter value no successful call would write. */
#define POISON_PTR ((void *)(uintptr_t)0xdead0000)

/* Run the suites of sr, each test in a forked process, and free it: the
 * exit status of a test program. */
int run_suites(SRunner *sr);

/* A test case whose every test must end with the descriptors and
 * mappings it started with. */
TCase *tcase_with_leak_check(const char *name);

size_t page_size(void);

/* How many of the base pages of [addr, addr + length) have a page table
 * entry, from /proc/self/pagemap: a mapping's pages, faulted in or not. */
size_t pages_mapped(const void *addr, size_t length);

/* A memfd of the given size made by the library; fails the test otherwise. */
struct mfd *new_sized_mfd(const char *name, uint64_t size);

/* What the running kernel knows, asked of it without the library:
 * MFD_NOEXEC_SEAL and F_SEAL_EXEC (Linux 6.3), F_SEAL_FUTURE_WRITE (5.1). */
int kernel_has_noexec_seal(void);
int kernel_has_future_write_seal(void);

/* The seals of a new memfd made without MFD_EXEC on this kernel. */
int new_memfd_seals(void);

/* An unlinked read-write file on a tmpfs (not a memfd). */
int open_tmpfs_file(void);

/* A memfd whose seals are F_SEAL_SEAL alone, as a tmpfs file's are (made
 * without MFD_ALLOW_SEALING), or -1 where the memfd_noexec sysctl seals
 * every memfd anyway. */
int memfd_without_sealing(void);

/* Say on stderr that part of a test could not run here, and why: such a
 * test passes on what it could check, and the log shows what it could not. */
#define note_skipped(why) \
	fprintf(stderr, "%s:%d: skipped here: %s\n", __FILE__, __LINE__, (why))

/* /proc/sys/vm/memfd_noexec: 2 makes the kernel refuse MFD_EXEC (EACCES). */
int memfd_noexec_sysctl(void);

/* Open the same file read-only through /proc/self/fd. */
int reopen_read_only(const struct mfd *m);

/* A second handle on the same file, through a read-only descriptor. */
struct mfd *adopt_read_only(const struct mfd *m);

/* The kernel's limit on descriptors in one message (SCM_MAX_FD). */
#define MAX_SENT_FDS 253

/* What a sender that does not use the library may put on the wire:
 * data[0, length) with n descriptors (0 for none) as SCM_RIGHTS; sendmsg's
 * result, with MSG_NOSIGNAL. */
long send_with_fds(int sock, const void *data, size_t length, const int *fds, size_t n);

/* Make fd the only descriptor slot left (RLIMIT_NOFILE), or leave none
 * (free_slots 0), for a test of what happens at the limit; the lowest
 * free descriptor number. Only for a child of run_isolated. -ENOTSUP
 * (said on stderr) where it cannot be tested: under valgrind. */
int leave_free_slots(int free_slots);

/* Enter a mount namespace of this process's own, with every mount
 * private: as root, or else in a user namespace mapping this user to its
 * root. 0, or a negative errno where neither is allowed here. */
int enter_mount_namespace(void);

/* Inaccessible anonymous mappings ("---p" with no file): the address
 * space that reservations hold, such as a mirrored mapping's or a ring's
 * guard pages. A single-threaded test makes none through malloc (under
 * AddressSanitizer, whose allocator does, it answers 0). */
int reservations_now(void);

/* Wait for a peer process the test forked; fail the test unless it
 * exited with status 0. */
void ck_assert_peer_ok(pid_t pid);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

Suite *lifecycle_suite(void);
Suite *size_suite(void);
Suite *seals_suite(void);
Suite *map_suite(void);
Suite *io_suite(void);
Suite *share_suite(void);
Suite *identify_suite(void);
Suite *message_suite(void);
Suite *faults_suite(void);
Suite *model_suite(void);
Suite *mirror_suite(void);
Suite *ring_suite(void);
Suite *ring_hostile_suite(void);
Suite *ring_model_suite(void);
Suite *ring_fence_suite(void);
Suite *guard_suite(void);

/*
 * The seeded model tests (test-model.c, test-ring-model.c), whose struct
 * run has the seed, the step and the operation: fail naming them and how
 * to replay the run.
 */
void model_diverged(unsigned int seed, long step, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diverged(r, ...) model_diverged((r)->seed, (r)->step, (r)->op, __VA_ARGS__)
#define expect(r, got, want)                                                   \
	do {                                                                   \
		long got_ = (long)(got), want_ = (long)(want);                 \
		if (got_ != want_)                                             \
			diverged(r, "got %ld, the model says %ld", got_, want_); \
	} while (0)

#endif
