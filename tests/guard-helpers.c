/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard-helpers.h"
#include "syscall-filter.h"
#include "test-common.h"

volatile unsigned char touch_sink;

int run_in_peer(int (*fn)(void *arg), void *arg)
{
	int result = INT32_MIN, fds[2];
	pid_t peer;

	if (pipe(fds) < 0)
		return INT32_MIN;
	peer = fork();
	if (peer == 0) {
		close(fds[0]);
		result = fn(arg);
		if (write(fds[1], &result, sizeof(result)) != sizeof(result))
			result = INT32_MIN;
		/* Not exit, nor a SIGKILL of its own: valgrind turns both
		 * into an exit and looks for leaks in this copy of the
		 * process, where the pointers in the parent's registers are
		 * not. The parent's SIGKILL ends it before valgrind can. */
		for (;;)
			pause();
	}
	close(fds[1]);
	if (peer < 0 || read(fds[0], &result, sizeof(result)) != sizeof(result))
		result = INT32_MIN;
	close(fds[0]);
	if (peer > 0) {
		kill(peer, SIGKILL);
		waitpid(peer, NULL, 0);
	}
	return result;
}

struct resize {
	int fd;
	uint64_t size;
};

static int resize(void *arg)
{
	const struct resize *r = arg;

	return ftruncate(r->fd, (off_t)r->size) == 0 ? 0 : -errno;
}

int peer_resize(int fd, uint64_t size)
{
	struct resize r = { fd, size };

	return run_in_peer(resize, &r);
}

void peer_set_size(int fd, uint64_t size)
{
	ck_assert_int_eq(peer_resize(fd, size), 0);
}

int child_result;

/*
 * Touch the next 256 KiB of the stack. Valgrind grows a stack as it is
 * touched, but not to make room for a signal frame ("Can't extend stack
 * ... during signal delivery"), and dies of SIGSEGV where a handler's
 * frame is the first to go below it.
 */
void __attribute__((noinline)) grow_stack(void)
{
	volatile char room[256 * 1024];

	for (size_t i = 0; i < sizeof(room); i += 1024)
		room[i] = 0;
}

int child_wait_status(int (*fn)(void *arg), void *arg, int timeout_s)
{
	const struct rlimit no_core = { 0, 0 };
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int fds[2], status = -1;
	pid_t child;

	ck_assert_int_eq(pipe(fds), 0);
	child = fork_flushed();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int result;

		close(fds[0]);
		setrlimit(RLIMIT_CORE, &no_core);
		grow_stack();
		result = fn(arg);
		exit_child(write(fds[1], &result, sizeof(result)) == sizeof(result) && result == 0 ? 0 : 1);
	}
	close(fds[1]);
	for (long waited = 0; waited < timeout_s * 100L; waited++) {
		pid_t r = waitpid(child, &status, WNOHANG);

		ck_assert_int_ge(r, 0);
		if (r == child)
			break;
		nanosleep(&tick, NULL);
		status = -1;
	}
	if (status == -1) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (read(fds[0], &child_result, sizeof(child_result)) != sizeof(child_result))
		child_result = INT32_MIN;
	close(fds[0]);
	return status;
}

int vma_at(const void *addr, struct vma *out)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int found = 0;

	ck_assert_ptr_nonnull(f);
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char perms[5];
		int path = 0;

		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms, &path) < 3)
			continue;
		if ((uintptr_t)addr < start || (uintptr_t)addr >= end)
			continue;
		out->start = start;
		out->end = end;
		memcpy(out->perms, perms, sizeof(out->perms));
		out->file = path > 0 && line[path] == '/';
		found = 1;
	}
	fclose(f);
	return found;
}

int running_under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload");
}
