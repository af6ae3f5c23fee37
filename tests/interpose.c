/* SPDX-License-Identifier: MIT */
/*
 * The library's stream I/O must retry calls that a signal interrupts, but
 * a memfd never blocks, so no real signal can interrupt it. Instead this
 * test binary defines read, write, pread, pwrite and lseek itself: the
 * library's calls bind to these (an executable's definitions come first),
 * which fail with EINTR while interrupt_next_calls() has a budget left,
 * log lseek calls on request, and otherwise pass straight to the C
 * library's.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include "interpose.h"

#include <string.h>

static int interrupts_left;
static int lseek_logging;
static size_t lseek_logged;
static struct lseek_call lseek_log[LSEEK_LOG_MAX];

void lseek_log_start(void)
{
	lseek_logged = 0;
	lseek_logging = 1;
}

size_t lseek_log_stop(struct lseek_call calls[LSEEK_LOG_MAX])
{
	lseek_logging = 0;
	memcpy(calls, lseek_log, sizeof(lseek_log));
	return lseek_logged;
}

void interrupt_next_calls(int n)
{
	interrupts_left = n;
}

int interrupts_pending(void)
{
	return interrupts_left;
}

static int interrupted(void)
{
	if (interrupts_left <= 0)
		return 0;
	interrupts_left--;
	errno = EINTR;
	return 1;
}

/* With a 64-bit off_t on a 32-bit system the C library's names end in 64;
 * the declarations in <unistd.h> rename our definitions to match. */
#if defined(__ILP32__) || (!defined(__LP64__) && !defined(_LP64))
#define OFF_NAME(name) name "64"
#else
#define OFF_NAME(name) name
#endif

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef off_t (*lseek_fn)(int, off_t, int);

/* The C library's definition of a function this file replaces. */
#define REAL(fn_type, symbol)                                   \
	({                                                      \
		static fn_type real_;                           \
		if (!real_)                                     \
			real_ = (fn_type)dlsym(RTLD_NEXT, symbol); \
		real_;                                          \
	})

ssize_t read(int fd, void *buf, size_t count)
{
	return interrupted() ? -1 : REAL(read_fn, "read")(fd, buf, count);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	return interrupted() ? -1 : REAL(write_fn, "write")(fd, buf, count);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	return interrupted() ? -1 : REAL(pread_fn, OFF_NAME("pread"))(fd, buf, count, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	return interrupted() ? -1 : REAL(pwrite_fn, OFF_NAME("pwrite"))(fd, buf, count, offset);
}

off_t lseek(int fd, off_t offset, int whence)
{
	off_t result;

	if (interrupted())
		return -1;
	result = REAL(lseek_fn, OFF_NAME("lseek"))(fd, offset, whence);
	if (lseek_logging && lseek_logged < LSEEK_LOG_MAX)
		lseek_log[lseek_logged++] = (struct lseek_call){ offset, whence, result };
	return result;
}
