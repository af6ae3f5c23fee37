/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmemfd.h"
#include "syscall-filter.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LOW_WORD(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LOW_WORD(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define MAX_NAMES 4
#define MAX_PROGRAM 256

/* Fill nrs with the system call numbers of a group; return how many. */
static size_t syscall_numbers(enum syscall_group call, long nrs[MAX_NAMES])
{
	size_t n = 0;

	switch (call) {
	case CALL_MEMFD_CREATE:
		nrs[n++] = SYS_memfd_create;
		break;
	case CALL_FSTAT:
#ifdef SYS_fstat
		nrs[n++] = SYS_fstat;
#endif
#ifdef SYS_fstat64
		nrs[n++] = SYS_fstat64;
#endif
#ifdef SYS_newfstatat
		nrs[n++] = SYS_newfstatat;
#endif
#ifdef SYS_statx
		nrs[n++] = SYS_statx;
#endif
		break;
	case CALL_FTRUNCATE:
		nrs[n++] = SYS_ftruncate;
#ifdef SYS_ftruncate64
		nrs[n++] = SYS_ftruncate64;
#endif
		break;
	case CALL_FCNTL:
		nrs[n++] = SYS_fcntl;
#ifdef SYS_fcntl64
		nrs[n++] = SYS_fcntl64;
#endif
		break;
	case CALL_MMAP:
#ifdef SYS_mmap
		nrs[n++] = SYS_mmap;
#endif
#ifdef SYS_mmap2
		nrs[n++] = SYS_mmap2;
#endif
		break;
	case CALL_FCHMOD:
		nrs[n++] = SYS_fchmod;
		break;
	case CALL_FSTATFS:
		nrs[n++] = SYS_fstatfs;
#ifdef SYS_fstatfs64
		nrs[n++] = SYS_fstatfs64;
#endif
		break;
	case CALL_LSEEK:
		nrs[n++] = SYS_lseek;
#ifdef SYS__llseek
		nrs[n++] = SYS__llseek;
#endif
		break;
	case CALL_READLINK:
#ifdef SYS_readlink
		nrs[n++] = SYS_readlink;
#endif
		nrs[n++] = SYS_readlinkat;
		break;
	case CALL_OPEN:
#ifdef SYS_open
		nrs[n++] = SYS_open;
#endif
		nrs[n++] = SYS_openat;
		break;
	case CALL_PREAD:
		nrs[n++] = SYS_pread64;
		break;
	case CALL_PWRITE:
		nrs[n++] = SYS_pwrite64;
		break;
	}
	return n;
}

int deny_syscalls(const struct denial *denials, size_t n)
{
	struct sock_filter insns[MAX_PROGRAM];
	struct sock_fprog prog;
	size_t len = 0;

#define EMIT(insn)                                   \
	do {                                         \
		if (len == MAX_PROGRAM)              \
			return -E2BIG;               \
		insns[len++] = (struct sock_filter)insn; \
	} while (0)

#ifdef NATIVE_ARCH
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#endif
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	for (size_t i = 0; i < n; i++) {
		const struct denial *d = &denials[i];
		uint32_t ret = SECCOMP_RET_ERRNO | ((uint32_t)d->err & SECCOMP_RET_DATA);
		long nrs[MAX_NAMES];
		size_t count = syscall_numbers(d->call, nrs);
		size_t tests = 0;

		while (tests < 2 && d->when[tests].op != ARG_ANY)
			tests++;
		for (size_t j = 0; j < count; j++) {
			/* nr == nrs[j] and every test holds: fail. A test that
			 * does not hold jumps to the reload of nr; another
			 * call number skips the whole block. */
			uint8_t block = (uint8_t)(2 * tests + 1 + (tests > 0));

			EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nrs[j], 0, block));
			for (size_t t = 0; t < tests; t++) {
				const struct arg_test *c = &d->when[t];
				uint8_t to_reload = (uint8_t)(2 * (tests - 1 - t) + 1);

				EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW_WORD(c->arg)));
				EMIT(BPF_JUMP(BPF_JMP | (c->op == ARG_EQUALS ? BPF_JEQ : BPF_JSET) | BPF_K,
					      c->value, 0, to_reload));
			}
			EMIT(BPF_STMT(BPF_RET | BPF_K, ret));
			if (tests > 0)
				EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
		}
	}
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#undef EMIT

	prog.len = (unsigned short)len;
	prog.filter = insns;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return 0;
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

int run_isolated(int (*fn)(void *arg), void *arg)
{
	int pipefd[2], status, result = INT32_MIN;
	pid_t child;

	if (pipe(pipefd) < 0)
		return INT32_MIN;
	child = fork();
	if (child < 0)
		return INT32_MIN;
	if (child == 0) {
		close(pipefd[0]);
		result = fn(arg);
		_exit(write(pipefd[1], &result, sizeof(result)) == sizeof(result) ? 0 : 1);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &result, sizeof(result)) != sizeof(result))
		result = INT32_MIN;
	close(pipefd[0]);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		result = INT32_MIN;
	return result;
}
