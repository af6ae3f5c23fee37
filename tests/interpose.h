/* SPDX-License-Identifier: MIT */
/* This test binary defines read, write, pread, pwrite and lseek itself, so
 * that the tests can see and disturb the library's calls of them. */
#ifndef LIBMEMFD_INTERPOSE_H
#define LIBMEMFD_INTERPOSE_H

#include <stddef.h>
#include <sys/types.h>

/* Make the next n calls of read, write, pread, pwrite and lseek from
 * anywhere in this process fail with EINTR. */
void interrupt_next_calls(int n);

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
