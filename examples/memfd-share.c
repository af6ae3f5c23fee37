/* SPDX-License-Identifier: MIT */
/*
 * memfd-share: hand a frozen buffer to another process, and refuse one
 * that is not frozen.
 *
 *   cc memfd-share.c $(pkg-config --cflags --libs libmemfd)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libmemfd.h>

#define FROZEN (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int sender(int sock)
{
	static const char frame[] = "hello from the sender";
	struct mfd *sealed, *unsealed;
	int r;

	/* Immutable: the receiver may map it and trust every byte. */
	r = mfd_new_sealed(&sealed, "frame", frame, sizeof(frame));
	if (r == 0) {
		r = mfd_send(sock, sealed);
		mfd_free(sealed);       /* the receiver's copy lives on */
	}
	/* Writable and resizable: a careful receiver refuses it. */
	if (r == 0 && (r = mfd_new(&unsealed, "scratch", 0)) == 0) {
		r = mfd_set_size(unsealed, 4096);
		if (r == 0)
			r = mfd_send(sock, unsealed);
		mfd_free(unsealed);
	}
	return r;
}

static int receiver(int sock)
{
	struct mfd *m;
	void *p;
	int r;

	/* Only a real memfd with every seal in FROZEN gets through. */
	r = mfd_recv(sock, FROZEN, &m);
	if (r < 0)
		return r;
	r = mfd_map(m, 0, mfd_size(m), PROT_READ, 0, &p);
	if (r == 0) {
		/* No one can shrink it under us (no SIGBUS) or change it. */
		printf("received %u bytes: %s\n", (unsigned)mfd_size(m), (char *)p);
		mfd_unmap(p, mfd_size(m));
	}
	mfd_free(m);
	if (r < 0)
		return r;

	r = mfd_recv(sock, FROZEN, &m);
	if (r == 0) {
		mfd_free(m);
		return -1;              /* it should have been refused */
	}
	printf("refused the unsealed one: %s\n", strerror(-r));
	return r == -EPERM ? 0 : r;
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
		_exit(sender(sv[0]) == 0 ? 0 : 1);
	}
	close(sv[0]);
	r = receiver(sv[1]);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		r = -1;
	if (r < 0) {
		fprintf(stderr, "memfd-share: %s\n", r == -1 ? "failed" : strerror(-r));
		return 1;
	}
	printf("ok\n");
	return 0;
}
