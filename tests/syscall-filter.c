/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmemfd.h"
#include "syscall-filter.h"

#define MAX_NAMES 4

/* The names of a group's system calls, NULL-terminated; libseccomp knows
 * which of them this architecture has. */
static const char *const *syscall_names(enum syscall_group call)
{
	static const char *const names[][MAX_NAMES + 1] = {
		[CALL_MEMFD_CREATE] = { "memfd_create" },
		[CALL_FSTAT] = { "fstat", "fstat64", "newfstatat", "statx" },
		[CALL_FTRUNCATE] = { "ftruncate", "ftruncate64" },
		[CALL_FCNTL] = { "fcntl", "fcntl64" },
		[CALL_MMAP] = { "mmap", "mmap2" },
		[CALL_MUNMAP] = { "munmap" },
		[CALL_FCHMOD] = { "fchmod" },
		[CALL_FSTATFS] = { "fstatfs", "fstatfs64" },
		[CALL_LSEEK] = { "lseek", "_llseek" },
		[CALL_READLINK] = { "readlink", "readlinkat" },
		[CALL_OPEN] = { "open", "openat" },
		[CALL_READ] = { "read" },
		[CALL_WRITE] = { "write" },
		[CALL_PREAD] = { "pread64" },
		[CALL_PWRITE] = { "pwrite64" },
		[CALL_FALLOCATE] = { "fallocate" },
		[CALL_SENDMSG] = { "sendmsg" },
		[CALL_RECVMSG] = { "recvmsg" },
		[CALL_SENDTO] = { "sendto", "send" },
		[CALL_GETSOCKOPT] = { "getsockopt" },
		[CALL_POLL] = { "poll", "ppoll" },
		[CALL_STATFS] = { "statfs", "statfs64" },
		[CALL_FUTEX] = { "futex", "futex_time64" },
		[CALL_SIGACTION] = { "rt_sigaction", "sigaction" },
		[CALL_MADVISE] = { "madvise" },
		[CALL_TGSIGQUEUEINFO] = { "rt_tgsigqueueinfo" },
		[CALL_MEMBARRIER] = { "membarrier" },
	};

	return names[call];
}

/* The comparisons a test can stand for: "has any of these bits" is one
 * per bit, since libseccomp compares an argument with one mask. */
static unsigned int alternatives(const struct arg_test *t)
{
	return t->op == ARG_HAS_BITS ? (unsigned int)__builtin_popcount(t->value) : 1;
}

static struct scmp_arg_cmp comparison(const struct arg_test *t, unsigned int which)
{
	uint32_t bits = t->value;

	if (t->op == ARG_HAS_BITS) {
		while (which--)
			bits &= bits - 1;
		bits &= -bits;
		return (struct scmp_arg_cmp){ (unsigned int)t->arg, SCMP_CMP_MASKED_EQ, bits, bits };
	}
	/* The low 32 bits only: an int argument's upper half is undefined. */
	return (struct scmp_arg_cmp){ (unsigned int)t->arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, bits };
}

static int add_denial(scmp_filter_ctx ctx, const struct denial *d)
{
	const char *const *names = syscall_names(d->call);
	const struct arg_test any = { .op = ARG_ANY };
	const struct arg_test *t0 = d->when[0].op != ARG_ANY ? &d->when[0] : &any;
	const struct arg_test *t1 = d->when[1].op != ARG_ANY ? &d->when[1] : &any;
	unsigned int tests = (t0 != &any) + (t1 != &any);

	for (size_t i = 0; i < MAX_NAMES && names[i]; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		/* A negative number other than __NR_SCMP_ERROR is one of
		 * libseccomp's pseudo-syscalls, which it maps to the calls
		 * that do the job here (the socket calls through socketcall
		 * on 32-bit x86). */
		if (nr == __NR_SCMP_ERROR) /* not on this architecture */
			continue;
		for (unsigned int a = 0; a < alternatives(t0); a++) {
			for (unsigned int b = 0; b < alternatives(t1); b++) {
				struct scmp_arg_cmp cmp[2] = { comparison(t0, a), comparison(t1, b) };
				/* Not SCMP_ACT_KILL_PROCESS: it needs a seccomp()
				 * call that valgrind does not emulate. */
				uint32_t action = d->err == KILL_THREAD
							  ? SCMP_ACT_KILL_THREAD
							  : SCMP_ACT_ERRNO((uint32_t)d->err);
				int err = seccomp_rule_add_array(ctx, action, nr, tests, cmp);

				if (err < 0)
					return err;
			}
		}
	}
	return 0;
}

int deny_syscalls(const struct denial *denials, size_t n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int err = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < n && err == 0; i++)
		err = add_denial(ctx, &denials[i]);
	if (err == 0)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

int emulate_old_kernel_from_environment(void)
{
	/* Unknown flags and seal bits are EINVAL to a kernel. */
	static const struct denial pre_6_3[] = {
		{ .call = CALL_MEMFD_CREATE, .err = EINVAL,
		  .when = { { 1, ARG_HAS_BITS, MFD_NOEXEC_SEAL | MFD_EXEC } } },
		{ .call = CALL_FCNTL, .err = EINVAL,
		  .when = { { 1, ARG_EQUALS, F_ADD_SEALS }, { 2, ARG_HAS_BITS, F_SEAL_EXEC } } },
		{ .call = CALL_FCNTL, .err = EINVAL,
		  .when = { { 1, ARG_EQUALS, F_ADD_SEALS }, { 2, ARG_HAS_BITS, F_SEAL_FUTURE_WRITE } } },
	};
	const char *which = getenv("LIBMEMFD_TEST_OLD_KERNEL");

	if (!which || !*which)
		return 0;
	if (strcmp(which, "pre-6.3") == 0)
		return deny_syscalls(pre_6_3, 2);
	if (strcmp(which, "pre-5.1") == 0)
		return deny_syscalls(pre_6_3, 3);
	return -EINVAL;
}

/*
 * A coverage build (make check-coverage defines LIBMEMFD_TEST_COVERAGE)
 * exits rather than _exits: libmemfd.so carries a libgcov of its own,
 * which its version script keeps to itself, so only its destructor writes
 * its counters (__gcov_dump here would reach only the test program's).
 * Whoever forks flushes stdio first (fork_flushed), so that exit writes
 * nothing twice.
 */
void exit_child(int status)
{
#ifdef LIBMEMFD_TEST_COVERAGE
	/* gcov opens its files now: keep them off the low descriptor numbers
	 * whose calls a fault test may be failing (THE_MFD, NEXT_FD), or its
	 * writes fail and leave the counters of every process corrupt. */
	struct rlimit lim;
	int fd;

	/* A child at its descriptor limit (leave_free_slots) could open
	 * none: its counters would be lost. */
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
	while ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd < 64)
		;
	exit(status);
#else
	_exit(status);
#endif
}

pid_t fork_flushed(void)
{
	fflush(NULL);
	return fork();
}

int run_isolated(int (*fn)(void *arg), void *arg)
{
	int pipefd[2], status, result = INT32_MIN;
	pid_t child;

	if (pipe(pipefd) < 0)
		return INT32_MIN;
	child = fork_flushed();
	if (child < 0)
		return INT32_MIN;
	if (child == 0) {
		close(pipefd[0]);
		result = fn(arg);
		exit_child(write(pipefd[1], &result, sizeof(result)) == sizeof(result) ? 0 : 1);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &result, sizeof(result)) != sizeof(result))
		result = INT32_MIN;
	close(pipefd[0]);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		result = INT32_MIN;
	return result;
}
