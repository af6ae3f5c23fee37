/* SPDX-License-Identifier: MIT */
/*
 * Make chosen system calls fail, to show what the library does when the
 * kernel says no, and that it makes no call at all where it promises not
 * to. The filters are libseccomp's. A seccomp filter cannot be removed, so
 * run such code through run_isolated().
 */
#ifndef LIBMEMFD_SYSCALL_FILTER_H
#define LIBMEMFD_SYSCALL_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The calls that do one job under several names on some architectures. */
enum syscall_group {
	CALL_MEMFD_CREATE,
	CALL_FSTAT,     /* fstat, newfstatat, statx, fstat64 */
	CALL_FTRUNCATE, /* ftruncate, ftruncate64 */
	CALL_FCNTL,     /* fcntl, fcntl64 */
	CALL_MMAP,      /* mmap, mmap2 */
	CALL_MUNMAP,
	CALL_FCHMOD,
	CALL_FSTATFS,   /* fstatfs, fstatfs64 */
	CALL_LSEEK,     /* lseek, _llseek */
	CALL_READLINK,  /* readlink, readlinkat */
	CALL_OPEN,      /* open, openat */
	CALL_READ,
	CALL_WRITE,
	CALL_PREAD,
	CALL_PWRITE,
	CALL_FALLOCATE,
	CALL_SENDMSG,
	CALL_RECVMSG,
	CALL_SENDTO,    /* send(3) */
	CALL_GETSOCKOPT,
	CALL_POLL,      /* poll, ppoll */
	CALL_STATFS,    /* statfs, statfs64 */
	CALL_FUTEX,     /* futex, futex_time64 */
	CALL_SIGACTION, /* rt_sigaction, sigaction */
	CALL_MADVISE,
	CALL_TGSIGQUEUEINFO, /* rt_tgsigqueueinfo */
	CALL_MEMBARRIER,
};

/* A condition on the low 32 bits of one argument of the call. */
struct arg_test {
	int arg;            /* 0 to 5 */
	enum {
		ARG_ANY,    /* no condition (the zero value) */
		ARG_HAS_BITS, /* any of the bits in value */
		ARG_EQUALS,
	} op;
	uint32_t value;
};

struct denial {
	enum syscall_group call;
	int err;                 /* the errno the call fails with, or: */
#define KILL_THREAD (-1)         /* the call kills the calling thread (SIGSYS): all
				  * of a single-threaded process */
	struct arg_test when[2]; /* all must hold */
};

/* Install the denials in this process, on top of any earlier ones (the
 * latest filter's answer wins). 0, or a negative errno. */
int deny_syscalls(const struct denial *denials, size_t n);

/* Make this process's kernel answer like an older one, as the environment
 * variable LIBMEMFD_TEST_OLD_KERNEL says: "pre-6.3" (no MFD_NOEXEC_SEAL,
 * MFD_EXEC or F_SEAL_EXEC) or "pre-5.1" (no F_SEAL_FUTURE_WRITE either).
 * Unset or empty: nothing changes. 0, or a negative errno. */
int emulate_old_kernel_from_environment(void);

/* Run fn(arg) in a forked child and return its result; a child that does
 * not return normally yields INT32_MIN. */
int run_isolated(int (*fn)(void *arg), void *arg);

/* Fork, with stdio flushed first; and end such a child as _exit does,
 * but writing out its coverage counters in a coverage build (make
 * check-coverage), which _exit would lose. */
pid_t fork_flushed(void);
void exit_child(int status) __attribute__((noreturn));

/* In a function given to run_isolated: return the line of a failed check. */
#define CHILD_CHECK(cond)                      \
	do {                                   \
		if (!(cond))                   \
			return __LINE__;       \
	} while (0)

#endif
