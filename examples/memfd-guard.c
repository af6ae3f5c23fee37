/* SPDX-License-Identifier: MIT */
/*
 * memfd-guard: read a buffer that a client did not seal, as a compositor
 * reads a Wayland client's pool, and drop the client when it shrinks the
 * buffer midway, instead of dying of SIGBUS.
 *
 *   cc memfd-guard.c $(pkg-config --cflags --libs libmemfd)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libmemfd.h>

#define POOL_SIZE (256 * 1024)

/* A client that hands over its pool, then pulls it away after one frame. */
static int client(int sock)
{
	static const char frame[] = "hello from the client";
	struct mfd *pool;
	char go;
	int r;

	r = mfd_new(&pool, "client-pool", 0);   /* not sealed: it can shrink */
	if (r == 0)
		r = mfd_set_size(pool, POOL_SIZE);
	if (r == 0 && mfd_pwrite(pool, frame, sizeof(frame), 0) != sizeof(frame))
		r = -EIO;
	if (r == 0)
		r = mfd_send(sock, pool);
	if (r == 0 && read(sock, &go, 1) != 1)
		r = -EPIPE;
	if (r == 0)
		r = mfd_set_size(pool, 0);      /* the receiver is still using it */
	if (r == 0 && write(sock, "!", 1) != 1)
		r = -EPIPE;
	mfd_free(pool);
	return r;
}

/* Read every byte of a frame, as rendering it would. */
static unsigned long checksum(const unsigned char *p, size_t size)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < size; i++)
		sum += p[i];
	return sum;
}

static int compositor(int sock)
{
	struct mfd *m;
	size_t size;
	void *pool;
	char c;
	int r;

	/* The protocol does not ask for seals, so none are required. */
	r = mfd_recv(sock, 0, &m);
	if (r < 0)
		return r;
	size = (size_t)mfd_size(m);
	r = size > 0 ? mfd_map(m, 0, size, PROT_READ, LIBMEMFD_MAP_GUARD, &pool) : -EINVAL;
	mfd_free(m);                            /* the mapping keeps the file */
	if (r < 0)
		return r;
	printf("pool of %zu bytes, not sealed: mapped guarded\n", size);
	for (int frame = 1; frame <= 2; frame++) {
		unsigned long sum = checksum(pool, size);

		/* Had the client shrunk the pool, the pages it took read as
		 * zeros: the frame is garbage, and the client is dropped. */
		if (mfd_map_faulted(pool) == 1) {
			printf("frame %d: the client shrank its pool, dropping it\n", frame);
			break;
		}
		printf("frame %d: \"%s\", checksum %lu\n", frame, (char *)pool, sum);
		/* Let the client go on, and wait until it has. */
		if (write(sock, "f", 1) != 1 || read(sock, &c, 1) != 1)
			break;
	}
	mfd_unmap(pool, size);
	return 0;
}

int main(void)
{
	int sv[2], status, r;
	pid_t child;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		close(sv[1]);
		_exit(client(sv[0]) == 0 ? 0 : 1);
	}
	close(sv[0]);
	r = compositor(sv[1]);
	close(sv[1]);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		r = -1;
	if (r < 0) {
		fprintf(stderr, "memfd-guard: %s\n", r == -1 ? "failed" : strerror(-r));
		return 1;
	}
	printf("ok\n");
	return 0;
}
