/* SPDX-License-Identifier: MIT */
/*
 * The library must retry calls that a signal interrupts and finish short
 * writes, but a memfd never blocks, so no real signal can interrupt it.
 * Instead this test binary defines read, write, pread, pwrite, lseek,
 * fallocate, posix_fallocate, fstat and fcntl itself (and mmap, in
 * interpose-guard.c): the library's calls
 * bind to these (an executable's definitions come first), which fail with
 * EINTR while interrupt_next_calls() has a budget left, write less than
 * asked while shorten_next_writes() has one, log calls on request, and
 * otherwise pass straight to the C library's.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interpose.h"
#include "libmemfd.h"

static int interrupts_left;
static int mmaps_to_pass = -1;
static int mmap_error;
static int short_writes_left;
static int call_logging;
static char call_log[CALL_LOG_MAX];
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

void call_log_start(void)
{
	call_log[0] = '\0';
	call_logging = 1;
}

const char *call_log_stop(void)
{
	call_logging = 0;
	return call_log;
}

static void log_call(const char *what)
{
	size_t len = strlen(call_log);

	if (call_logging && len + strlen(what) + 2 <= sizeof(call_log)) {
		strcpy(call_log + len, what);
		strcat(call_log + len, " ");
	}
}

void shorten_next_writes(int n)
{
	short_writes_left = n;
}

/* Half of count (at least 1 byte) while the budget lasts. */
static size_t shortened(size_t count)
{
	if (short_writes_left <= 0 || count < 2)
		return count;
	short_writes_left--;
	return count / 2;
}

void fail_mmap_after(int n, int err)
{
	mmaps_to_pass = n;
	mmap_error = err;
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
typedef int (*fallocate_fn)(int, int, off_t, off_t);
typedef int (*posix_fallocate_fn)(int, off_t, off_t);
typedef int (*fstat_fn)(int, struct stat *);
typedef int (*fcntl_fn)(int, int, ...);

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
	return interrupted() ? -1 : REAL(write_fn, "write")(fd, buf, shortened(count));
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	return interrupted() ? -1 : REAL(pread_fn, OFF_NAME("pread"))(fd, buf, count, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	return interrupted() ? -1
			     : REAL(pwrite_fn, OFF_NAME("pwrite"))(fd, buf, shortened(count), offset);
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

int fallocate(int fd, int mode, off_t offset, off_t len)
{
	return interrupted() ? -1 : REAL(fallocate_fn, OFF_NAME("fallocate"))(fd, mode, offset, len);
}

/* Like the C library's, it returns the error instead of setting errno. */
int posix_fallocate(int fd, off_t offset, off_t len)
{
	if (interrupted())
		return EINTR;
	return REAL(posix_fallocate_fn, OFF_NAME("posix_fallocate"))(fd, offset, len);
}

int fstat(int fd, struct stat *st)
{
	log_call("fstat");
	return REAL(fstat_fn, OFF_NAME("fstat"))(fd, st);
}

/* The argument is passed on as the C library reads it: a pointer's width. */
int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (cmd == F_GET_SEALS)
		log_call("F_GET_SEALS");
	return REAL(fcntl_fn, OFF_NAME("fcntl"))(fd, cmd, arg);
}

/* The one definition of mmap is interpose-guard.c's: it asks this first. */
int mmap_failure_due(void)
{
	if (mmaps_to_pass == 0) {
		mmaps_to_pass = -1;
		return mmap_error;
	}
	if (mmaps_to_pass > 0)
		mmaps_to_pass--;
	return 0;
}
