/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd-sandbox PROGRAM [ARG...]: run PROGRAM where memfd_create fails
 * with EPERM, as in a seccomp sandbox that denies it, for lsmemfd's tests:
 * lsmemfd then cannot learn the memfd mounts by making a memfd. A classic
 * BPF filter, no libseccomp; unprivileged, through no_new_privs. Exits 77
 * (SKIP) where it knows no audit architecture for this build.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) && !defined(__ILP32__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define THIS_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#endif

int main(int argc, char **argv)
{
#ifdef THIS_ARCH
	struct sock_filter filter[] = {
		/* Another architecture's system calls have other numbers. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_memfd_create, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog program = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (argc < 2)
		errx(EXIT_FAILURE, "usage: lsmemfd-sandbox PROGRAM [ARG...]");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) < 0)
		err(EXIT_FAILURE, "seccomp");
	execvp(argv[1], argv + 1);
	err(EXIT_FAILURE, "%s", argv[1]);
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "SKIP: no seccomp architecture known for this build\n");
	return 77;
#endif
}
