/* SPDX-License-Identifier: MIT */
#ifndef LIBMEMFD_INTERRUPT_H
#define LIBMEMFD_INTERRUPT_H

/* Make the next n calls of read, write, pread, pwrite and lseek from
 * anywhere in this process fail with EINTR. */
void interrupt_next_calls(int n);

/* How many of those are still to come. */
int interrupts_pending(void);

#endif
