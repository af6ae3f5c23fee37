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
#include "test-common.h"

volatile unsigned char touch_sink;

void peer_set_size(int fd, uint64_t size)
{
	pid_t peer = fork();
	int status;

	ck_assert_int_ge(peer, 0);
	if (peer == 0)
		_exit(ftruncate(fd, (off_t)size) == 0 ? 0 : 1);
	ck_assert_int_eq(waitpid(peer, &status, 0), peer);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the peer could not resize");
}

int child_result;

int child_wait_status(int (*fn)(void *arg), void *arg, int timeout_s)
{
	const struct rlimit no_core = { 0, 0 };
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int fds[2], status = -1;
	pid_t child;

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int result;

		close(fds[0]);
		setrlimit(RLIMIT_CORE, &no_core);
		result = fn(arg);
		_exit(write(fds[1], &result, sizeof(result)) == sizeof(result) && result == 0 ? 0 : 1);
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
