/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ring-helpers.h"
#include "syscall-filter.h"
#include "test-common.h"

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload");
}

long scaled(long n)
{
	const char *old = getenv("LIBMEMFD_TEST_OLD_KERNEL");
	long divisor = 1;

	if (under_valgrind())
		divisor = 100;
	else if (old && *old)
		divisor = 10;
	if (divisor > 1)
		fprintf(stderr, "%s: %ld messages instead of %ld\n",
			divisor == 100 ? "under valgrind" : "on an emulated older kernel",
			n / divisor, n);
	return n / divisor;
}

struct mfd *received(const struct mfd_ring *r)
{
	struct mfd *m = NULL;
	int fd = dup(mfd_fd(mfd_ring_mfd(r)));

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	return m;
}

struct pair new_pair(size_t capacity, unsigned int creator)
{
	struct pair p = { NULL, NULL };
	struct mfd_ring *first = NULL, *second = NULL;
	struct mfd *m;

	ck_assert_int_eq(mfd_ring_new(&first, "pair", capacity, creator), 0);
	m = received(first);
	ck_assert_int_eq(mfd_ring_attach(&second, m), 0);
	ck_assert_ptr_eq(mfd_ring_mfd(second), m);
	p.producer = creator == P ? first : second;
	p.consumer = creator == P ? second : first;
	return p;
}

void free_pair(struct pair *p)
{
	mfd_ring_free(p->producer);
	mfd_ring_free(p->consumer);
}

struct raw raw_map(const struct mfd_ring *r)
{
	struct raw w;
	void *p = NULL;

	w.m = received(r);
	w.size = (size_t)mfd_size(w.m);
	ck_assert_int_eq(mfd_map(w.m, 0, w.size, PROT_READ | PROT_WRITE, 0, &p), 0);
	w.ctl = p;
	w.data = w.ctl + page_size();
	return w;
}

void raw_unmap(struct raw *w)
{
	ck_assert_int_eq(mfd_unmap(w->ctl, w->size), 0);
	mfd_free(w->m);
}

static void report(int line)
{
	if (line)
		fprintf(stderr, "child %d: check at line %d failed\n", (int)getpid(), line);
}

struct child spawn(int (*fn)(int sock, void *arg), void *arg)
{
	struct child c;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	c.pid = fork_flushed();
	ck_assert_int_ge(c.pid, 0);
	if (c.pid == 0) {
		int line;

		close(sv[0]);
		line = fn(sv[1], arg);
		report(line);
		exit_child(line == 0 ? 0 : 1);
	}
	close(sv[1]);
	c.sock = sv[0];
	return c;
}

void join(struct child c)
{
	int status;

	close(c.sock);
	ck_assert_int_eq(waitpid(c.pid, &status, 0), c.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the child failed (status %#x): see its line above", status);
}

struct mfd_ring *take_ring(int sock)
{
	struct mfd_ring *r = NULL;
	struct mfd *m = NULL;

	if (mfd_recv(sock, RING_SEALS, &m) < 0)
		return NULL;
	if (mfd_ring_attach(&r, m) < 0) {
		mfd_free(m);
		return NULL;
	}
	return r;
}

void give_ring(int sock, const struct mfd_ring *r)
{
	ck_assert_int_eq(mfd_send(sock, mfd_ring_mfd(r)), 0);
}

void expect_byte(int sock)
{
	char byte;

	ck_assert_int_eq(read(sock, &byte, 1), 1);
}


typedef long (*syscall_fn)(long, ...);

static syscall_fn real_syscall;
static syscall_hook *hook_fn;
static void *hook_arg;
static __thread int in_hook;

/* Looked up before main: the library's guard.c calls syscall in signal
 * handlers, where dlsym is no safe call. */
__attribute__((constructor)) static void find_real_syscall(void)
{
	if (!real_syscall)
		real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
}

void set_syscall_hook(syscall_hook *hook, void *arg)
{
	__atomic_store_n(&hook_arg, arg, __ATOMIC_SEQ_CST);
	__atomic_store_n(&hook_fn, hook, __ATOMIC_SEQ_CST);
}

/* Six longs, as the C library's own reads them, whatever was passed:
 * those past the caller's arguments are read from its stack frame, which
 * AddressSanitizer would count an error; they are passed on, unused. */
__attribute__((no_sanitize_address)) long syscall(long number, ...)
{
	syscall_hook *hook = __atomic_load_n(&hook_fn, __ATOMIC_SEQ_CST);
	long a[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (hook && !in_hook) {
		int saved = errno;

		in_hook = 1;
		hook(number, a, __atomic_load_n(&hook_arg, __ATOMIC_SEQ_CST));
		in_hook = 0;
		errno = saved;
	}
	find_real_syscall();
	return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int echo_child(int sock, void *delay_us)
{
	const int *delay = delay_us;
	struct mfd_ring *in = take_ring(sock), *out = take_ring(sock);
	char buf[256];
	ssize_t n;

	CHILD_CHECK(in != NULL && out != NULL);
	for (;;) {
		while ((n = mfd_ring_recv(in, buf, sizeof(buf))) == -EAGAIN) {
			int err = mfd_ring_wait(in, 0, PATIENCE_MS);

			CHILD_CHECK(err == 0 || err == -EPIPE);
		}
		if (n == -EPIPE)
			break;
		CHILD_CHECK(n >= 0);
		if (delay && *delay) {
			struct timespec ts = { 0, *delay * 1000L };

			nanosleep(&ts, NULL);
		}
		CHILD_CHECK(mfd_ring_wait(out, (size_t)n, PATIENCE_MS) == 0);
		CHILD_CHECK(mfd_ring_send(out, buf, (size_t)n) == 0);
	}
	mfd_ring_free(in);
	mfd_ring_free(out);
	return 0;
}
