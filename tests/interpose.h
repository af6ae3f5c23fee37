/* SPDX-License-Identifier: MIT */
/* This test binary defines read, write, pread, pwrite, lseek, fallocate,
 * posix_fallocate, fstat, fcntl and mmap itself, so that the tests can see and
 * disturb the library's calls of them. */
#ifndef LIBMEMFD_INTERPOSE_H
#define LIBMEMFD_INTERPOSE_H

#include <stddef.h>
#include <sys/types.h>

/* Make the next n calls of read, write, pread, pwrite, lseek, fallocate
 * and posix_fallocate from anywhere in this process fail with EINTR. */
void interrupt_next_calls(int n);

/* Make the next n calls of write and pwrite write half of what they are
 * asked to (at least one byte), as a full disk or a signal may. */
void shorten_next_writes(int n);

/* Let the next n calls of mmap from anywhere in this process through,
 * and make the one after fail with err: a failure halfway through a
 * sequence of mappings, which a seccomp filter cannot single out. */
void fail_mmap_after(int n, int err);
/* For the mmap of interpose-guard.c: the errno this call must fail with
 * as fail_mmap_after() asked, or 0. */
int mmap_failure_due(void);

/* Log calls of fstat and of fcntl(F_GET_SEALS), in order, as a string of
 * "fstat " and "F_GET_SEALS " words, until stopped. */
#define CALL_LOG_MAX 256
void call_log_start(void);
const char *call_log_stop(void);

/* How many of those are still to come. */
int interrupts_pending(void);

struct lseek_call {
	off_t offset;
	int whence;
	off_t result;
};

/* Record the next lseek calls (at most LSEEK_LOG_MAX) until stopped;
 * stopping returns how many there were and copies them to calls. */
#define LSEEK_LOG_MAX 8
void lseek_log_start(void);
size_t lseek_log_stop(struct lseek_call calls[LSEEK_LOG_MAX]);

#endif
