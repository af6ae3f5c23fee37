/* SPDX-License-Identifier: MIT */
/* What the guarded mapping tests share (test-guard.c, test-hugetlb.c,
 * test-model.c): hostile peers, children expected to die, and a look at
 * the process's own mappings. */
#ifndef LIBMEMFD_GUARD_HELPERS_H
#define LIBMEMFD_GUARD_HELPERS_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* Run fn(arg) in another process (a peer) and return what it returned, or
 * INT32_MIN if it did not. */
int run_in_peer(int (*fn)(void *arg), void *arg);

/* Set the file's size from another process, as a hostile peer would: 0 or
 * the negative errno of its ftruncate. peer_set_size fails the test if
 * the peer could not. */
int peer_resize(int fd, uint64_t size);
void peer_set_size(int fd, uint64_t size);

/* Run fn(arg) in a forked child that dumps no core, and return its wait
 * status; -1 if it still ran after timeout_s seconds (it is killed). What
 * fn returned (a failed CHILD_CHECK's line) is then in child_result, or
 * INT32_MIN if it did not return. The child exits 0 when it returned 0. */
int child_wait_status(int (*fn)(void *arg), void *arg, int timeout_s);
extern int child_result;

/* Both evaluate status once: it is usually the child_wait_status call. */
#define ck_assert_exited_ok(status)                                                 \
	do {                                                                        \
		int s_ = (status);                                                  \
		ck_assert_msg(s_ != -1 && WIFEXITED(s_) && WEXITSTATUS(s_) == 0,    \
			      "the child %s %d", s_ == -1 ? "hung, line" :          \
			      WIFSIGNALED(s_) ? "died of signal" : "failed at line", \
			      s_ != -1 && WIFSIGNALED(s_) ? WTERMSIG(s_) : child_result); \
	} while (0)
#define ck_assert_killed_by(status, sig)                                            \
	do {                                                                        \
		int s_ = (status);                                                  \
		ck_assert_msg(s_ != -1 && WIFSIGNALED(s_) && WTERMSIG(s_) == (sig), \
			      "the child did not die of signal %d: %s %d", (sig),   \
			      s_ == -1 ? "it hung" : WIFSIGNALED(s_) ? "signal"     \
								     : "it returned", \
			      s_ != -1 && WIFSIGNALED(s_) ? WTERMSIG(s_) : child_result); \
	} while (0)

/* Grow the stack now, so that a signal frame never has to: valgrind does
 * not extend a stack for one. A fixture of the tests whose own process
 * takes SIGBUS; children of child_wait_status call it themselves. */
void grow_stack(void);

/* One line of /proc/self/maps. */
struct vma {
	uintptr_t start, end;
	char perms[5]; /* "rw-s" */
	int file;      /* backed by a file (a path follows), else anonymous */
};

/* The mapping that holds addr; 0 if there is none. */
int vma_at(const void *addr, struct vma *out);

/* Valgrind runs the test (make check-valgrind). */
int running_under_valgrind(void);

/* Read one byte, with the compiler kept from moving other accesses (errno)
 * across it. What is read is stored too: valgrind's JIT drops a load
 * whose value no one uses, volatile or not, and with it the fault. */
extern volatile unsigned char touch_sink;

static inline unsigned char touch(const void *addr)
{
	unsigned char c;

	__asm__ __volatile__("" ::: "memory");
	c = *(const volatile unsigned char *)addr;
	touch_sink = c;
	__asm__ __volatile__("" ::: "memory");
	return c;
}

static inline void poke(void *addr, unsigned char c)
{
	__asm__ __volatile__("" ::: "memory");
	*(volatile unsigned char *)addr = c;
	__asm__ __volatile__("" ::: "memory");
}

#endif
