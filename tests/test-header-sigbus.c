/* SPDX-License-Identifier: MIT */
/*
 * A program's own SIGBUS handler, installed after the library's, that
 * calls mfd_handle_sigbus, in strict C99 with nothing but
 * _POSIX_C_SOURCE: siginfo_t * goes to the void * of the header without a
 * cast or a warning. Run, it repairs a real fault: the file is shrunk by
 * another process while a guarded mapping of it is touched.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libmemfd.h>

static volatile sig_atomic_t repaired;

static void on_sigbus(int sig, siginfo_t *info, void *ucontext)
{
	if (mfd_handle_sigbus(sig, info, ucontext)) {
		repaired++;
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(void)
{
	struct sigaction sa;
	struct mfd *m;
	void *p;
	int status;
	pid_t peer;

	if (mfd_new(&m, "posix", 0) < 0 || mfd_set_size(m, 8192) < 0 ||
	    mfd_map(m, 0, 8192, PROT_READ, LIBMEMFD_MAP_GUARD, &p) < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return 2;
	peer = fork();
	if (peer == 0)
		_exit(ftruncate(mfd_fd(m), 0) < 0);
	if (peer < 0 || waitpid(peer, &status, 0) != peer || status != 0)
		return 3;
	if (((volatile const char *)p)[4096] != 0 || repaired != 1 || mfd_map_faulted(p) != 1)
		return 4;
	return mfd_unmap(p, 8192) == 0 && mfd_handle_sigbus(SIGSEGV, NULL, NULL) == 0 ? 0 : 5;
}
