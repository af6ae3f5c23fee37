/* SPDX-License-Identifier: MIT */
/*
 * memfd-demo: libmemfd end to end. A parent creates a named memfd, sizes
 * it, writes into it, maps it and forks; the child answers through the
 * shared mapping; the parent reads the answer back, seals the memfd and
 * shows that the seals hold. Given the path of lsmemfd, it then runs
 * `lsmemfd --pid <its own PID>` to show the memfd as others see it.
 *
 *   cc memfd-demo.c $(pkg-config --cflags --libs libmemfd)
 *   ./a.out [lsmemfd]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmemfd.h>

#define SIZE (1024 * 1024)
#define REPLY_OFFSET 4096

static int fail(const char *what, int err)
{
	fprintf(stderr, "memfd-demo: %s: %s\n", what, strerror(-err));
	return EXIT_FAILURE;
}

/* Run lsmemfd on this process, which still holds the memfd: 0 when it
 * succeeds, 1 when it fails (and has said why), or a negative errno. */
static int show_with_lsmemfd(const char *lsmemfd)
{
	char pid[3 * sizeof(pid_t) + 1];
	pid_t child;
	int status;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	printf("%s --pid %s:\n", lsmemfd, pid);
	fflush(stdout);
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		execlp(lsmemfd, lsmemfd, "--pid", pid, (char *)NULL);
		fprintf(stderr, "memfd-demo: %s: %s\n", lsmemfd, strerror(errno));
		_exit(EXIT_FAILURE);
	}
	if (waitpid(child, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SUCCESS ? 0 : 1;
}

static void print_seals(int seals)
{
	static const struct { int bit; const char *name; } names[] = {
		{ F_SEAL_SEAL, "seal" },   { F_SEAL_SHRINK, "shrink" },
		{ F_SEAL_GROW, "grow" },   { F_SEAL_WRITE, "write" },
		{ F_SEAL_FUTURE_WRITE, "future_write" },
		{ F_SEAL_EXEC, "exec" },
	};
	const char *sep = "";

	printf("seals:   ");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (seals & names[i].bit) {
			printf("%s%s", sep, names[i].name);
			sep = ",";
		}
	}
	printf("%s\n", *sep ? "" : "(none)");
}

int main(int argc, char **argv)
{
	static const char greeting[] = "hello from the parent";
	struct mfd *m;
	char name[LIBMEMFD_NAME_MAX + 1], reply[64] = { 0 };
	void *shared;
	pid_t child;
	int status, r;

	r = mfd_new(&m, "memfd-demo", 0);
	if (r < 0)
		return fail("mfd_new", r);
	r = mfd_set_size(m, SIZE);
	if (r < 0)
		return fail("mfd_set_size", r);
	r = mfd_pwrite(m, greeting, sizeof(greeting), 0);
	if (r < 0)
		return fail("mfd_pwrite", r);
	r = mfd_map(m, 0, SIZE, PROT_READ | PROT_WRITE, 0, &shared);
	if (r < 0)
		return fail("mfd_map", r);

	r = mfd_get_name(m, name, sizeof(name));
	if (r < 0)
		return fail("mfd_get_name", r);
	printf("memfd:   \"%s\" on fd %d, %llu bytes\n", name, mfd_fd(m),
	       (unsigned long long)mfd_size(m));

	fflush(stdout);
	child = fork();
	if (child < 0)
		return fail("fork", -errno);
	if (child == 0) {
		/* Same pages, no copy: read the greeting, write a reply. */
		printf("child:   read \"%s\" from the mapping\n", (const char *)shared);
		snprintf((char *)shared + REPLY_OFFSET, sizeof(reply),
			 "hello back from pid %d", (int)getpid());
		fflush(stdout);
		_exit(EXIT_SUCCESS);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != EXIT_SUCCESS)
		return fail("child", -ECHILD);
	r = mfd_unmap(shared, SIZE);
	if (r < 0)
		return fail("mfd_unmap", r);

	r = (int)mfd_pread(m, reply, sizeof(reply) - 1, REPLY_OFFSET);
	if (r < 0)
		return fail("mfd_pread", r);
	printf("parent:  read \"%s\" with mfd_pread\n", reply);

	r = mfd_add_seals(m, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	if (r < 0)
		return fail("mfd_add_seals", r);
	r = mfd_get_seals(m);
	if (r < 0)
		return fail("mfd_get_seals", r);
	print_seals(r);

	r = (int)mfd_pwrite(m, "x", 1, 0);
	printf("sealed:  mfd_pwrite -> %s\n", r < 0 ? strerror(-r) : "written?!");
	if (r != -EPERM)
		return EXIT_FAILURE;
	r = mfd_set_size(m, SIZE / 2);
	printf("sealed:  mfd_set_size -> %s\n", r < 0 ? strerror(-r) : "resized?!");
	if (r != -EPERM)
		return EXIT_FAILURE;

	if (argc > 1) {
		r = show_with_lsmemfd(argv[1]);
		if (r < 0)
			return fail("running lsmemfd", r);
		if (r > 0)
			return EXIT_FAILURE;
	}
	mfd_free(m);
	printf("ok\n");
	return EXIT_SUCCESS;
}
