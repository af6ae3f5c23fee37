/* SPDX-License-Identifier: MIT */
/*
 * guard.c: guarded mappings (LIBMEMFD_MAP_GUARD), mfd_map_faulted,
 * mfd_handle_sigbus, and mfd_unmap of a guarded mapping.
 *
 * Every fault is a real one: another process (a peer) or another
 * descriptor shrinks the file, or fills the tmpfs it is on. Only the cases
 * about a SIGBUS that is sent (kill, sigqueue, an action-optional memory
 * error) send one by hand. What the library's handler does with a SIGBUS
 * that is not its own depends on the disposition it found, and a handler
 * once installed stays: each disposition is tried in a child of its own,
 * which must exit 0 (a failed CHILD_CHECK exits with its line) or die of
 * the signal the test says.
 */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard-helpers.h"
#include "interpose-guard.h"
#include "syscall-filter.h"
#include "test-common.h"

#define RW (PROT_READ | PROT_WRITE)
#define SKIPPED (-77) /* a child's result: this part cannot run here */

/* A memfd of the given pages, page i filled with the byte i + 1. */
static struct mfd *filled_mfd(const char *name, size_t pages)
{
	size_t page = page_size();
	struct mfd *m = new_sized_mfd(name, pages * page);
	char *buf = malloc(page);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < pages; i++) {
		memset(buf, (int)(i + 1), page);
		ck_assert_int_eq(mfd_pwrite(m, buf, page, i * page), (ssize_t)page);
	}
	free(buf);
	return m;
}

static char *map_guarded(struct mfd *m, size_t length, int prot)
{
	void *p = NULL;

	ck_assert_int_eq(mfd_map(m, 0, length, prot, LIBMEMFD_MAP_GUARD, &p), 0);
	return p;
}

static void ck_assert_replaced_alone(const char *page_addr, size_t length, const char *perms)
{
	struct vma v;

	ck_assert(vma_at(page_addr, &v));
	ck_assert_msg(!v.file, "the page is still the file's");
	ck_assert_str_eq(v.perms, perms);
	ck_assert_ptr_eq((void *)v.start, page_addr);
	ck_assert_ptr_eq((void *)v.end, page_addr + length);
}

static void ck_assert_still_shared(const char *addr)
{
	struct vma v;

	ck_assert(vma_at(addr, &v));
	ck_assert_msg(v.file, "the page has been replaced");
	ck_assert_int_eq(v.perms[3], 's');
}

/* For children: two pages of a memfd, mapped as asked, then shrunk away
 * by a peer; NULL if that could not be done. */
static char *broken_mapping(int prot, unsigned int flags)
{
	struct mfd *m = NULL;
	void *p = NULL;

	if (mfd_new(&m, "broken", 0) < 0)
		return NULL;
	if (mfd_set_size(m, 2 * page_size()) < 0 ||
	    mfd_map(m, 0, 2 * page_size(), prot, flags, &p) < 0 || peer_resize(mfd_fd(m), 0) < 0)
		p = NULL;
	mfd_free(m); /* the mapping holds the file */
	return p;
}

static int set_handler(void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL);
}

static int guard_works(void);

/* A program's handler for children whose fault must go on to it (nothing
 * could be repaired): they exit with EXITED_ON_SIGBUS, by exit_child, so
 * that a coverage build counts what ran before (a death by signal does
 * not). What the child mapped to fill itself to the limit is given back
 * first, or exit could not allocate. */
#define EXITED_ON_SIGBUS 42

static char *filler;
static size_t filler_length;

static void exit_on_sigbus(int sig)
{
	if (filler)
		munmap(filler, filler_length);
	exit_child(EXITED_ON_SIGBUS);
}

#define ck_assert_exited_on_sigbus(status)                                                \
	do {                                                                              \
		int s_ = (status);                                                        \
		ck_assert_msg(s_ != -1 && WIFEXITED(s_) && WEXITSTATUS(s_) == EXITED_ON_SIGBUS, \
			      "the program's handler was not called: %s %d",               \
			      s_ == -1 ? "hung" : WIFSIGNALED(s_) ? "signal" : "line",     \
			      s_ != -1 && WIFSIGNALED(s_) ? WTERMSIG(s_) : child_result);  \
	} while (0)

/* Guarded mappings at work ------------------------------------------------ */

START_TEST(test_shrunk_page_is_replaced_alone)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("shrunk", 4);
	char *p = map_guarded(m, 4 * page, RW);

	ck_assert_int_eq(mfd_map_faulted(p), 0);
	peer_set_size(mfd_fd(m), page + 100);
	/* The file's last page holds 100 bytes; past them it reads zero,
	 * as in any mapping. */
	ck_assert_uint_eq(touch(p + page + 99), 2);
	ck_assert_uint_eq(touch(p + page + 100), 0);
	ck_assert_int_eq(mfd_map_faulted(p), 0);

	/* Past the end: read, then write, as if nothing had happened. */
	ck_assert_uint_eq(touch(p + 3 * page + 7), 0);
	ck_assert_int_eq(mfd_map_faulted(p), 1);
	poke(p + 3 * page + 7, 0x5a);
	ck_assert_uint_eq(touch(p + 3 * page + 7), 0x5a);
	ck_assert_replaced_alone(p + 3 * page, page, "rw-p");
	ck_assert_still_shared(p + 2 * page);

	/* The pages the file still backs are the file's, both ways. */
	ck_assert_int_eq(mfd_pwrite(m, "abc", 3, 0), 3);
	ck_assert_int_eq(memcmp(p, "abc", 3), 0);
	poke(p + page, 'Z');
	ck_assert_int_eq(mfd_pread(m, p + 3 * page + 100, 1, page), 1);
	ck_assert_uint_eq(touch(p + 3 * page + 100), 'Z');

	/* Grown back: page 2, never touched while it was gone, is the
	 * file's again; page 3 stays the private page it became. */
	peer_set_size(mfd_fd(m), 4 * page);
	ck_assert_int_eq(mfd_pwrite(m, "new", 3, 2 * page), 3);
	ck_assert_int_eq(memcmp(p + 2 * page, "new", 3), 0);
	ck_assert_int_eq(mfd_pwrite(m, "new", 3, 3 * page), 3);
	ck_assert_uint_eq(touch(p + 3 * page), 0);
	ck_assert_uint_eq(touch(p + 3 * page + 7), 0x5a);
	ck_assert_int_eq(mfd_map_faulted(p), 1);
	ck_assert_int_eq(mfd_unmap(p, 4 * page), 0);
	mfd_free(m);
}
END_TEST

/* The range check, at both ends: the first byte and the last byte of a
 * mapping whose length is not whole pages (its last page is mapped). */
START_TEST(test_first_and_last_byte)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("edges", 3);
	size_t length = 3 * page - 10;
	char *p = map_guarded(m, length, RW);

	peer_set_size(mfd_fd(m), 0);
	ck_assert_uint_eq(touch(p), 0);
	ck_assert_replaced_alone(p, page, "rw-p");
	ck_assert_uint_eq(touch(p + 3 * page - 1), 0);
	ck_assert_replaced_alone(p + 2 * page, page, "rw-p");
	ck_assert_still_shared(p + page);
	ck_assert_int_eq(mfd_unmap(p, length), 0);
	mfd_free(m);
}
END_TEST

/* An unguarded mapping of the same shrunk file right next to a guarded
 * one: a fault one byte past either end is no guarded mapping's, and ends
 * the process as it would have. */
static int touch_neighbour(void *arg)
{
	int above = *(int *)arg;
	size_t page = page_size();
	struct mfd *m = NULL;
	char *g, *n, *room;
	int fixed, fd;
	void *p;

	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(mfd_new(&m, "neighbours", 0) == 0);
	CHILD_CHECK(mfd_set_size(m, 16 * page) == 0);
	fd = dup(mfd_fd(m));
	CHILD_CHECK(fd >= 0);
	/* A new mapping goes next to the last one made, under it (above it
	 * under valgrind): room for the guarded mapping, with a page kept
	 * on either side. */
	room = mmap(NULL, 5 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHILD_CHECK(room != MAP_FAILED && munmap(room + page, 3 * page) == 0);
	CHILD_CHECK(mfd_map(m, 0, 2 * page, RW, LIBMEMFD_MAP_GUARD, &p) == 0);
	g = p;
	n = above ? g + 2 * page : g - page;
	/* Over a page kept, or where nothing is. File offset 8 pages is not
	 * contiguous with the guarded mapping's: the kernel keeps the two
	 * apart. */
	fixed = n == room || n == room + 4 * page ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	p = mmap(n, page, PROT_READ, MAP_SHARED | fixed, mfd_fd(m), 8 * page);
	mfd_free(m); /* the mappings hold the file */
	if (p != n)
		return SKIPPED;
	CHILD_CHECK(peer_resize(fd, 0) == 0);
	CHILD_CHECK(touch(g) == 0 && touch(g + 2 * page - 1) == 0);
	touch(above ? n : n + page - 1);
	return __LINE__; /* survived */
}

START_TEST(test_neighbours_are_not_guarded)
{
	for (int above = 0; above <= 1; above++) {
		int status = child_wait_status(touch_neighbour, &above, 30);

		if (WIFEXITED(status) && child_result == SKIPPED) {
			note_skipped(above ? "the address above the mapping is taken"
					   : "the address below the mapping is taken");
			continue;
		}
		ck_assert_killed_by(status, SIGBUS);
	}
}
END_TEST

static int write_read_only(void *arg)
{
	char *p = broken_mapping(PROT_READ, LIBMEMFD_MAP_GUARD);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct vma v;

	CHILD_CHECK(sigaction(SIGSEGV, &dfl, NULL) == 0);
	CHILD_CHECK(p && touch(p) == 0);
	CHILD_CHECK(vma_at(p, &v) && !v.file && strcmp(v.perms, "r--p") == 0);
	poke(p, 1);
	return __LINE__;
}

/* The replacement has the mapping's protection, not more. */
START_TEST(test_read_only_mapping_stays_read_only)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("read-only", 2);
	char *p = map_guarded(m, 2 * page, PROT_READ);

	peer_set_size(mfd_fd(m), page);
	ck_assert_uint_eq(touch(p), 1);
	ck_assert_uint_eq(touch(p + page), 0);
	ck_assert_replaced_alone(p + page, page, "r--p");
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(m);
	ck_assert_killed_by(child_wait_status(write_read_only, NULL, 30), SIGSEGV);
}
END_TEST

START_TEST(test_guard_with_populate)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("populate", 4);
	void *p = NULL;

	ck_assert_int_eq(mfd_map(m, 0, 4 * page, RW, LIBMEMFD_MAP_GUARD | LIBMEMFD_MAP_POPULATE, &p),
			 0);
	ck_assert_uint_eq(pages_mapped(p, 4 * page), 4);
	peer_set_size(mfd_fd(m), 2 * page);
	ck_assert_uint_eq(touch((char *)p + 3 * page), 0);
	ck_assert_uint_eq(touch((char *)p + page), 2);
	ck_assert_int_eq(mfd_map_faulted(p), 1);
	ck_assert_int_eq(mfd_unmap(p, 4 * page), 0);
	mfd_free(m);
}
END_TEST

/* The handler's own system calls (the probe answers EFAULT) leave errno
 * as the interrupted code had it. */
START_TEST(test_handler_keeps_errno)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("errno", 3);
	char *p = map_guarded(m, 3 * page, RW);

	peer_set_size(mfd_fd(m), 0);
	errno = EDOM;
	touch(p + page);
	ck_assert_int_eq(errno, EDOM);
	errno = 0;
	poke(p + 2 * page, 1);
	ck_assert_int_eq(errno, 0);
	errno = ERANGE;
	poke(p, 1); /* a write to a page never touched */
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(mfd_unmap(p, 3 * page), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_unmap_takes_the_whole_mapping)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("unmap", 4);
	char *p = map_guarded(m, 4 * page, RW);
	void *plain = NULL;
	struct resources before = resources_now();

	ck_assert_int_eq(mfd_unmap(p, page), -EINVAL);
	ck_assert_int_eq(mfd_unmap(p + page, page), -EINVAL);
	ck_assert_int_eq(mfd_unmap(p + page, 3 * page), -EINVAL);
	ck_assert_int_eq(mfd_unmap(p + 3 * page, 2 * page), -EINVAL);
	ck_assert_int_eq(mfd_unmap(p, 5 * page), -EINVAL);
	ck_assert_int_eq(mfd_unmap(p - page, 2 * page), -EINVAL);
	ck_assert_int_eq(mfd_unmap(p - page, 6 * page), -EINVAL);
	/* Lengths that wrap, rounded up or added to the address: munmap's
	 * EINVAL, and nothing unmapped. */
	ck_assert_int_eq(mfd_unmap(p, SIZE_MAX), -EINVAL);
	ck_assert_int_eq(mfd_unmap(p, SIZE_MAX - page + 1), -EINVAL);
	ck_assert_resources_unchanged(before);

	/* Still there, still guarded. */
	ck_assert_uint_eq(touch(p + 3 * page), 4);
	peer_set_size(mfd_fd(m), page);
	ck_assert_uint_eq(touch(p + 3 * page), 0);
	ck_assert_uint_eq(touch(p), 1);

	ck_assert_int_eq(mfd_map_faulted(NULL), -EINVAL);
	ck_assert_int_eq(mfd_map_faulted(p + page), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, page, PROT_READ, 0, &plain), 0);
	ck_assert_int_eq(mfd_map_faulted(plain), -EINVAL);
	ck_assert_int_eq(mfd_unmap(plain, page), 0);

	/* munmap rounds the length up to whole pages, and so does this. */
	ck_assert_int_eq(mfd_unmap(p, 4 * page - 100), 0);
	ck_assert_int_eq(mfd_map_faulted(p), -EINVAL);
	mfd_free(m);
}
END_TEST

/* A call that fails installs no handler and maps nothing. */
START_TEST(test_failed_map_changes_nothing)
{
	size_t page = page_size();
	struct mfd *sealed = filled_mfd("refused", 2), *m = filled_mfd("refused", 2), *ro;
	int handlers = sigbus_handlers_set();
	struct sigaction before_sa, after_sa;
	struct resources before;
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_add_seals(sealed, F_SEAL_WRITE), 0);
	ro = adopt_read_only(m);
	before = resources_now();
	ck_assert_int_eq(sigaction(SIGBUS, NULL, &before_sa), 0);
	ck_assert_int_eq(mfd_map(m, 0, page, RW, LIBMEMFD_MAP_GUARD << 1 | LIBMEMFD_MAP_GUARD, &p),
			 -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 0, PROT_READ, LIBMEMFD_MAP_GUARD, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, 3 * page, PROT_READ, LIBMEMFD_MAP_GUARD, &p), -ENXIO);
	/* Refused by mmap itself, after the library took its entry. */
	ck_assert_int_eq(mfd_map(sealed, 0, page, RW, LIBMEMFD_MAP_GUARD, &p), -EPERM);
	ck_assert_int_eq(mfd_map(ro, 0, page, RW, LIBMEMFD_MAP_GUARD, &p), -EACCES);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_resources_unchanged(before);
	ck_assert_int_eq(sigbus_handlers_set(), handlers);
	ck_assert_int_eq(sigaction(SIGBUS, NULL, &after_sa), 0);
	ck_assert_ptr_eq((void *)after_sa.sa_handler, (void *)before_sa.sa_handler);
	/* The entries it took are free again: a guarded mapping works. */
	p = map_guarded(m, 2 * page, RW);
	peer_set_size(mfd_fd(m), 0);
	ck_assert_uint_eq(touch(p), 0);
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(ro);
	mfd_free(m);
	mfd_free(sealed);
}
END_TEST

/* No limit of the library's own: more guarded mappings than its first
 * chunks of registry hold, each repaired at its first and last byte. */
START_TEST(test_a_thousand_mappings_at_once)
{
	enum { N = 1100 };
	size_t page = page_size();
	struct mfd *m = filled_mfd("many", 2);
	char **maps = calloc(N, sizeof(*maps));

	ck_assert_ptr_nonnull(maps);
	for (size_t i = 0; i < N; i++)
		maps[i] = map_guarded(m, 2 * page, i % 2 ? RW : PROT_READ);
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(mfd_map_faulted(maps[i]), 0);
	peer_set_size(mfd_fd(m), 0);
	for (size_t i = 0; i < N; i++) {
		ck_assert_uint_eq(touch(maps[i]), 0);
		ck_assert_uint_eq(touch(maps[i] + 2 * page - 1), 0);
		ck_assert_int_eq(mfd_map_faulted(maps[i]), 1);
	}
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(mfd_unmap(maps[i], 2 * page), 0);
	free(maps);
	mfd_free(m);
}
END_TEST

/* The registry cannot grow (RLIMIT_DATA reached, so calloc fails): the
 * guarded mfd_map is -ENOMEM, and makes no mapping. */
static long data_kib(void)
{
	char buf[4096], *at;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	at = strstr(buf, "VmData:");
	return at ? strtol(at + 7, NULL, 10) : -1;
}

static int registry_cannot_grow(void *arg)
{
	enum { N = 8192 }; /* the next chunk is as large, past the mmap threshold */
	static void *maps[N];
	struct rlimit was, tight;
	struct mfd *m = NULL;
	size_t page = page_size();
	long kib;
	void *p = NULL;
	int err;

	CHILD_CHECK(mfd_new(&m, "no-room", 0) == 0 && mfd_set_size(m, page) == 0);
	for (size_t i = 0; i < N; i++)
		CHILD_CHECK(mfd_map(m, 0, page, PROT_READ, LIBMEMFD_MAP_GUARD, &maps[i]) == 0);
	kib = data_kib();
	CHILD_CHECK(kib > 0 && getrlimit(RLIMIT_DATA, &was) == 0);
	tight = was;
	tight.rlim_cur = (rlim_t)kib * 1024;
	CHILD_CHECK(setrlimit(RLIMIT_DATA, &tight) == 0);
	err = mfd_map(m, 0, page, PROT_READ, LIBMEMFD_MAP_GUARD, &p);
	CHILD_CHECK(setrlimit(RLIMIT_DATA, &was) == 0);
	CHILD_CHECK(err == -ENOMEM && p == NULL);
	/* With room again, it grows. */
	CHILD_CHECK(mfd_map(m, 0, page, PROT_READ, LIBMEMFD_MAP_GUARD, &p) == 0);
	CHILD_CHECK(mfd_unmap(p, page) == 0);
	for (size_t i = 0; i < N; i++)
		CHILD_CHECK(mfd_unmap(maps[i], page) == 0);
	mfd_free(m);
	return 0;
}

#ifdef __SANITIZE_ADDRESS__
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

START_TEST(test_registry_that_cannot_grow)
{
	if (UNDER_ASAN)
		note_skipped("AddressSanitizer reports a failed calloc instead of returning NULL");
	else if (running_under_valgrind())
		note_skipped("valgrind's calloc does not heed RLIMIT_DATA");
	else
		ck_assert_exited_ok(child_wait_status(registry_cannot_grow, NULL, 60));
}
END_TEST

/* A read-only mapping of a write-sealed memfd (which older kernels map
 * through a read-only descriptor) is guarded as well: the write seal does
 * not keep the file from shrinking. */
START_TEST(test_write_sealed_file_still_shrinks)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("write-sealed", 2);
	char *p;

	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_WRITE), 0);
	p = map_guarded(m, 2 * page, PROT_READ);
	peer_set_size(mfd_fd(m), page);
	ck_assert_uint_eq(touch(p + page), 0);
	ck_assert_uint_eq(touch(p), 1);
	ck_assert_int_eq(mfd_map_faulted(p), 1);
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(m);
}
END_TEST

/* A real client: Python's standard library makes an unsealed memfd, sends
 * it, and truncates it while we read it. */
static const char python_client[] =
	"import os, socket, mmap\n"
	"s = socket.socket(fileno=3)\n"
	"fd = os.memfd_create('python-pool', os.MFD_CLOEXEC)\n"
	"os.ftruncate(fd, 4 * mmap.PAGESIZE)\n"
	"os.pwrite(fd, b'pool', 0)\n"
	"socket.send_fds(s, [b'p'], [fd])\n"
	"s.recv(1)\n"
	"os.ftruncate(fd, 0)\n"
	"s.send(b't')\n"
	"s.recv(1)\n";

START_TEST(test_python_client_truncates)
{
	size_t page = page_size();
	struct mfd *m = NULL;
	int sv[2], status;
	char *p, c;
	pid_t client;

	if (access("/usr/bin/python3", X_OK) != 0) {
		note_skipped("no /usr/bin/python3 to play the client");
		return;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	client = fork();
	ck_assert_int_ge(client, 0);
	if (client == 0) {
		dup2(sv[1], 3);
		execl("/usr/bin/python3", "python3", "-c", python_client, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	if (mfd_recv(sv[0], 0, &m) < 0) {
		waitpid(client, &status, 0);
		close(sv[0]);
		/* The seccomp filter that makes this kernel answer like an
		 * older one (check-old-kernels.sh) is for this test's
		 * architecture: a 32-bit test kills a 64-bit python3. */
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
			note_skipped("python3 is of another architecture than this test's seccomp filter");
			return;
		}
		/* socket.send_fds is Python 3.9. */
		ck_assert(WIFEXITED(status));
		note_skipped("this python3 cannot send descriptors");
		return;
	}
	ck_assert_uint_eq(mfd_size(m), 4 * page);
	p = map_guarded(m, 4 * page, PROT_READ);
	ck_assert_int_eq(memcmp(p, "pool", 4), 0);
	ck_assert_int_eq(write(sv[0], "m", 1), 1);
	ck_assert_int_eq(read(sv[0], &c, 1), 1);
	ck_assert_uint_eq(touch(p), 0);
	ck_assert_uint_eq(touch(p + 3 * page), 0);
	ck_assert_int_eq(mfd_map_faulted(p), 1);
	ck_assert_int_eq(write(sv[0], "d", 1), 1);
	ck_assert_int_eq(waitpid(client, &status, 0), client);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(mfd_unmap(p, 4 * page), 0);
	mfd_free(m);
	close(sv[0]);
}
END_TEST

/* Threads ------------------------------------------------------------------- */

enum { WORKERS = 4, FILES = 4, MAPS_PER_FILE = 2, PAGES = 8 };

struct worker {
	pthread_t thread;
	int index;
	char **maps; /* FILES * MAPS_PER_FILE, the same for every worker */
	atomic_int *peer_done;
};

/* Touch every page of every mapping: read one byte, write this worker's. */
static void touch_all(struct worker *w, unsigned char mark)
{
	size_t page = page_size();

	for (size_t i = 0; i < FILES * MAPS_PER_FILE; i++) {
		for (size_t k = 0; k < PAGES; k++) {
			touch(w->maps[i] + k * page + page / 2);
			poke(w->maps[i] + k * page + (size_t)w->index, mark);
		}
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(w->peer_done))
		touch_all(w, 1);
	/* Every file is empty now: each page is repaired, once, and what
	 * every worker writes to it stays. */
	touch_all(w, (unsigned char)(0x80 + w->index));
	return NULL;
}

struct churn {
	struct mfd *m;
	atomic_int stop;
	long rounds;
	int failed;
};

/* Guarded mappings made, faulted and unmapped while the others fault. */
static void *churn(void *arg)
{
	struct churn *c = arg;
	size_t page = page_size();

	while (!atomic_load(&c->stop)) {
		void *p = NULL;

		if (mfd_map(c->m, 0, 2 * page, RW, LIBMEMFD_MAP_GUARD, &p) < 0 ||
		    touch((char *)p + page) != 0 || mfd_map_faulted(p) != 1 ||
		    mfd_unmap(p, 2 * page) < 0) {
			c->failed = 1;
			break;
		}
		c->rounds++;
	}
	return NULL;
}

struct hostile {
	struct mfd **files;
	int rounds;
};

/* The peer: resize each file at random, then leave every one empty. */
static int hostile_peer(void *arg)
{
	const struct hostile *h = arg;
	size_t page = page_size();
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	struct timespec pause = { 0, 200 * 1000 };

	for (int r = 0; r < h->rounds; r++) {
		for (int f = 0; f < FILES; f++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			if (ftruncate(mfd_fd(h->files[f]), (off_t)(rng % (PAGES + 1) * page)) < 0)
				return -errno;
		}
		nanosleep(&pause, NULL);
	}
	for (int f = 0; f < FILES; f++)
		if (ftruncate(mfd_fd(h->files[f]), 0) < 0)
			return -errno;
	return 0;
}

START_TEST(test_threads_and_a_hostile_peer)
{
	size_t page = page_size();
	struct mfd *files[FILES];
	char *maps[FILES * MAPS_PER_FILE];
	struct worker workers[WORKERS];
	struct churn c = { .m = new_sized_mfd("churn", 2 * page) };
	atomic_int peer_done = 0;
	struct hostile peer = { files, running_under_valgrind() ? 50 : 400 };
	pthread_t churner;

	/* Recorded as two pages, so mfd_map maps them; empty, so they fault. */
	peer_set_size(mfd_fd(c.m), 0);
	for (int f = 0; f < FILES; f++) {
		files[f] = filled_mfd("pool", PAGES);
		for (int k = 0; k < MAPS_PER_FILE; k++)
			maps[f * MAPS_PER_FILE + k] = map_guarded(files[f], PAGES * page, RW);
	}
	for (int i = 0; i < WORKERS; i++) {
		workers[i] = (struct worker){ .index = i, .maps = maps, .peer_done = &peer_done };
		ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, work, &workers[i]), 0);
	}
	ck_assert_int_eq(pthread_create(&churner, NULL, churn, &c), 0);
	ck_assert_int_eq(run_in_peer(hostile_peer, &peer), 0);
	atomic_store(&peer_done, 1);
	for (int i = 0; i < WORKERS; i++)
		ck_assert_int_eq(pthread_join(workers[i].thread, NULL), 0);
	atomic_store(&c.stop, 1);
	ck_assert_int_eq(pthread_join(churner, NULL), 0);
	ck_assert_msg(!c.failed, "the churning thread failed after %ld rounds", c.rounds);
	ck_assert_int_gt(c.rounds, 0);

	for (size_t k = 0; k < ARRAY_SIZE(maps); k++) {
		ck_assert_int_eq(mfd_map_faulted(maps[k]), 1);
		for (size_t pg = 0; pg < PAGES; pg++)
			for (int j = 0; j < WORKERS; j++)
				ck_assert_uint_eq(touch(maps[k] + pg * page + (size_t)j), 0x80 + j);
		ck_assert_int_eq(mfd_unmap(maps[k], PAGES * page), 0);
	}
	for (int f = 0; f < FILES; f++)
		mfd_free(files[f]);
	mfd_free(c.m);
}
END_TEST

struct same_page {
	pthread_t thread;
	char *p;
	pthread_barrier_t *barrier;
	int index;
};

enum { RACERS = 8, ROUNDS = 32 };

static void *race_to_page(void *arg)
{
	struct same_page *s = arg;
	size_t page = page_size();

	for (size_t r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(s->barrier);
		poke(s->p + r * page + (size_t)s->index * 64, (unsigned char)(s->index + 1));
	}
	return NULL;
}

/* Threads that fault on one page at the same moment: it is replaced once,
 * and no write that went to the new page is lost to a second one. */
START_TEST(test_same_page_at_once)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("same-page", ROUNDS);
	char *p = map_guarded(m, ROUNDS * page, RW);
	struct same_page racers[RACERS];
	pthread_barrier_t barrier;

	peer_set_size(mfd_fd(m), 0);
	ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, RACERS), 0);
	for (int i = 0; i < RACERS; i++) {
		racers[i] = (struct same_page){ .p = p, .barrier = &barrier, .index = i };
		ck_assert_int_eq(pthread_create(&racers[i].thread, NULL, race_to_page, &racers[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		ck_assert_int_eq(pthread_join(racers[i].thread, NULL), 0);
	for (size_t r = 0; r < ROUNDS; r++)
		for (int i = 0; i < RACERS; i++)
			ck_assert_uint_eq(touch(p + r * page + (size_t)i * 64), i + 1);
	pthread_barrier_destroy(&barrier);
	ck_assert_int_eq(mfd_unmap(p, ROUNDS * page), 0);
	mfd_free(m);
}
END_TEST

static atomic_int program_handler_calls;

static void count_calls(int sig)
{
	atomic_fetch_add(&program_handler_calls, 1);
}

struct first_mapping {
	struct mfd *m;
	pthread_barrier_t *barrier;
	int result;
};

static void *make_first_mapping(void *arg)
{
	struct first_mapping *f = arg;
	void *p;

	pthread_barrier_wait(f->barrier);
	f->result = mfd_map(f->m, 0, page_size(), RW, LIBMEMFD_MAP_GUARD, &p);
	return NULL;
}

/* Threads making their first guarded mappings at the same moment install
 * one handler, which keeps the program's as the one before it. */
static int race_to_install(void *arg)
{
	enum { N = 8 };
	struct first_mapping f[N];
	pthread_t threads[N];
	pthread_barrier_t barrier;
	struct sigaction sa;
	struct mfd *m = NULL;
	int before;
	void *p;

	CHILD_CHECK(set_handler(count_calls) == 0);
	before = sigbus_handlers_set();
	CHILD_CHECK(mfd_new(&m, "first", 0) == 0 && mfd_set_size(m, page_size()) == 0);
	CHILD_CHECK(pthread_barrier_init(&barrier, NULL, N) == 0);
	for (int i = 0; i < N; i++) {
		f[i] = (struct first_mapping){ .m = m, .barrier = &barrier, .result = 1 };
		CHILD_CHECK(pthread_create(&threads[i], NULL, make_first_mapping, &f[i]) == 0);
	}
	for (int i = 0; i < N; i++) {
		CHILD_CHECK(pthread_join(threads[i], NULL) == 0);
		CHILD_CHECK(f[i].result == 0);
	}
	CHILD_CHECK(sigbus_handlers_set() == before + 1);
	CHILD_CHECK(sigaction(SIGBUS, NULL, &sa) == 0);
	CHILD_CHECK(sa.sa_handler != count_calls);
	CHILD_CHECK((sa.sa_flags & (SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART)) ==
		    (SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART));
	/* The program's handler, called once: not the library's own again. */
	CHILD_CHECK(kill(getpid(), SIGBUS) == 0);
	CHILD_CHECK(atomic_load(&program_handler_calls) == 1);
	CHILD_CHECK(mfd_map(m, 0, page_size(), RW, LIBMEMFD_MAP_GUARD, &p) == 0);
	CHILD_CHECK(sigbus_handlers_set() == before + 1);
	mfd_free(m);
	return 0;
}

/* The same, the first installer held inside its sigaction while the
 * others come: they wait for it, and none installs the handler again. */
static int race_to_a_held_install(void *arg)
{
	enum { N = 4 };
	struct first_mapping f[N];
	pthread_t threads[N];
	pthread_barrier_t barrier;
	struct timespec a_while = { 0, 100 * 1000 * 1000 };
	struct mfd *m = NULL;
	int before;

	CHILD_CHECK(set_handler(count_calls) == 0);
	before = sigbus_handlers_set();
	CHILD_CHECK(mfd_new(&m, "first", 0) == 0 && mfd_set_size(m, page_size()) == 0);
	CHILD_CHECK(pthread_barrier_init(&barrier, NULL, 1) == 0);
	hold(HOLD_INSTALL);
	for (int i = 0; i < N; i++) {
		f[i] = (struct first_mapping){ .m = m, .barrier = &barrier, .result = 1 };
		CHILD_CHECK(pthread_create(&threads[i], NULL, make_first_mapping, &f[i]) == 0);
		if (i == 0)
			CHILD_CHECK(wait_for_hold(10000));
	}
	nanosleep(&a_while, NULL);
	release();
	for (int i = 0; i < N; i++) {
		CHILD_CHECK(pthread_join(threads[i], NULL) == 0);
		CHILD_CHECK(f[i].result == 0);
	}
	CHILD_CHECK(sigbus_handlers_set() == before + 1);
	CHILD_CHECK(kill(getpid(), SIGBUS) == 0);
	CHILD_CHECK(atomic_load(&program_handler_calls) == 1);
	mfd_free(m);
	return 0;
}

/* A handler that the program installs from another thread while the
 * library installs its own (held just before its sigaction) is not lost:
 * it is the one before the library's, called for what is not a guarded
 * mapping's. */
static int program_installs_meanwhile(void *arg)
{
	struct first_mapping f;
	pthread_barrier_t barrier;
	pthread_t first;
	struct mfd *m = NULL;

	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(mfd_new(&m, "meanwhile", 0) == 0 && mfd_set_size(m, page_size()) == 0);
	CHILD_CHECK(pthread_barrier_init(&barrier, NULL, 1) == 0);
	f = (struct first_mapping){ .m = m, .barrier = &barrier, .result = 1 };
	hold(HOLD_INSTALL);
	CHILD_CHECK(pthread_create(&first, NULL, make_first_mapping, &f) == 0);
	CHILD_CHECK(wait_for_hold(10000));
	CHILD_CHECK(set_handler(count_calls) == 0);
	release();
	CHILD_CHECK(pthread_join(first, NULL) == 0 && f.result == 0);
	CHILD_CHECK(kill(getpid(), SIGBUS) == 0);
	CHILD_CHECK(atomic_load(&program_handler_calls) == 1);
	CHILD_CHECK(guard_works());
	mfd_free(m);
	return 0;
}

/* A SIGBUS that is no guarded mapping's, in the moment after the library's
 * handler is installed and before what was there is recorded: the handler
 * waits for it, and calls the program's. */
static void *release_in_a_while(void *arg)
{
	struct timespec a_while = { 0, 100 * 1000 * 1000 };

	nanosleep(&a_while, NULL);
	release();
	return NULL;
}

static int sigbus_while_installing(void *arg)
{
	struct first_mapping f;
	pthread_barrier_t barrier;
	pthread_t first, releaser;
	struct mfd *m = NULL;

	CHILD_CHECK(set_handler(count_calls) == 0);
	CHILD_CHECK(mfd_new(&m, "installing", 0) == 0 && mfd_set_size(m, page_size()) == 0);
	CHILD_CHECK(pthread_barrier_init(&barrier, NULL, 1) == 0);
	f = (struct first_mapping){ .m = m, .barrier = &barrier, .result = 1 };
	hold(HOLD_INSTALLED);
	CHILD_CHECK(pthread_create(&first, NULL, make_first_mapping, &f) == 0);
	CHILD_CHECK(wait_for_hold(10000));
	CHILD_CHECK(pthread_create(&releaser, NULL, release_in_a_while, NULL) == 0);
	CHILD_CHECK(pthread_kill(pthread_self(), SIGBUS) == 0);
	CHILD_CHECK(atomic_load(&program_handler_calls) == 1);
	CHILD_CHECK(pthread_join(releaser, NULL) == 0);
	CHILD_CHECK(pthread_join(first, NULL) == 0 && f.result == 0);
	CHILD_CHECK(guard_works());
	mfd_free(m);
	return 0;
}

START_TEST(test_installed_once_by_racing_threads)
{
	ck_assert_exited_ok(child_wait_status(race_to_install, NULL, 60));
	ck_assert_exited_ok(child_wait_status(race_to_a_held_install, NULL, 60));
	ck_assert_exited_ok(child_wait_status(program_installs_meanwhile, NULL, 60));
	if (running_under_valgrind())
		note_skipped("valgrind cannot take a SIGBUS sent to itself");
	else
		ck_assert_exited_ok(child_wait_status(sigbus_while_installing, NULL, 60));
}
END_TEST

struct unmapper {
	char *p;
	size_t length;
	atomic_int done;
	int result;
};

static __thread sigjmp_buf *segv_escape;

static void escape_segv(int sig)
{
	siglongjmp(*segv_escape, 1);
}

/* Touch, and return should the access find the page unmapped by then. */
static void *touch_first_page(void *arg)
{
	struct sigaction sa = { .sa_handler = escape_segv };
	sigjmp_buf escape;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	segv_escape = &escape;
	if (sigsetjmp(escape, 1) == 0)
		touch(arg);
	return NULL;
}

static void *unmap_it(void *arg)
{
	struct unmapper *u = arg;

	u->result = mfd_unmap(u->p, u->length);
	atomic_store(&u->done, 1);
	return NULL;
}

/* mfd_unmap waits for a repair that another thread is making, so that the
 * replacement cannot land where the mapping was, on what is mapped next. */
START_TEST(test_unmap_waits_for_a_repair)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("held", 2);
	struct unmapper u = { .p = map_guarded(m, 2 * page, RW), .length = 2 * page };
	struct timespec a_while = { 0, 200 * 1000 * 1000 };
	pthread_t toucher, unmapper;
	struct vma v;

	peer_set_size(mfd_fd(m), 0);
	hold(HOLD_REPAIR);
	ck_assert_int_eq(pthread_create(&toucher, NULL, touch_first_page, u.p), 0);
	ck_assert_msg(wait_for_hold(10000), "no repair began");
	ck_assert_int_eq(pthread_create(&unmapper, NULL, unmap_it, &u), 0);
	nanosleep(&a_while, NULL);
	ck_assert_msg(!atomic_load(&u.done), "mfd_unmap returned while a repair was in progress");
	ck_assert(vma_at(u.p, &v) && v.file);
	release();
	ck_assert_int_eq(pthread_join(toucher, NULL), 0);
	ck_assert_int_eq(pthread_join(unmapper, NULL), 0);
	ck_assert(repair_mapped());
	ck_assert_int_eq(u.result, 0);
	ck_assert_msg(!vma_at(u.p, &v), "a replacement page was left where the mapping was");
	mfd_free(m);
}
END_TEST

/* Threads that each map and unmap guarded mappings of their own, the
 * addresses going from one to the next: munmap naps after unmapping, so
 * another thread maps the address before the entry of the mapping that was
 * there is free. Each mfd_unmap is of the thread's own mapping: all are 0. */
#define REUSERS 4
#define REUSES 300

struct reuser {
	struct mfd *m;
	atomic_int *failures;
};

static void *map_and_unmap(void *arg)
{
	struct reuser *r = arg;
	size_t page = page_size();

	for (int i = 0; i < REUSES; i++) {
		void *p;

		if (mfd_map(r->m, 0, page, PROT_READ, LIBMEMFD_MAP_GUARD, &p) < 0) {
			atomic_fetch_add(r->failures, 1);
			continue;
		}
		if (mfd_unmap(p, page) != 0) {
			atomic_fetch_add(r->failures, 1);
			while (mfd_unmap(p, page) != 0)
				sched_yield();
		}
	}
	return NULL;
}

START_TEST(test_unmap_of_own_mapping_at_a_reused_address)
{
	struct mfd *m = new_sized_mfd("reused", page_size());
	atomic_int failures = 0;
	struct reuser r = { m, &failures };
	pthread_t threads[REUSERS];

	slow_munmaps(1);
	for (int i = 0; i < REUSERS; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, map_and_unmap, &r), 0);
	for (int i = 0; i < REUSERS; i++)
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
	slow_munmaps(0);
	ck_assert_msg(atomic_load(&failures) == 0, "%d of %d calls failed", atomic_load(&failures),
		      REUSERS * REUSES);
	mfd_free(m);
}
END_TEST

struct reader {
	const char *addr;
	unsigned char value;
};

static void *read_it(void *arg)
{
	struct reader *r = arg;

	r->value = touch(r->addr);
	return NULL;
}

/* A thread that faults in a mapping another thread is repairing sleeps
 * until the repair ends, rather than fault again and again (which, at a
 * real-time priority, would keep the repairer from its CPU). */
static void *touch_it(void *arg)
{
	touch(arg);
	return NULL;
}

struct sleeper {
	char *addr;
	atomic_int tid;
};

static void *note_tid_and_touch(void *arg)
{
	struct sleeper *s = arg;

	atomic_store(&s->tid, (int)syscall(SYS_gettid));
	touch(s->addr);
	return NULL;
}

/* The state letter of a thread of this process (R running, S sleeping). */
static char thread_state(int tid)
{
	char path[64], buf[256], *paren;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	ck_assert_ptr_nonnull(paren);
	return paren[2];
}

START_TEST(test_fault_during_a_repair_sleeps)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("sleeper", 2);
	char *p = map_guarded(m, 2 * page, RW);
	struct sleeper s = { .addr = p + page };
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	pthread_t repairer, waiter;
	int sleeping = 0;

	peer_set_size(mfd_fd(m), 0);
	hold(HOLD_PROBE);
	ck_assert_int_eq(pthread_create(&repairer, NULL, touch_it, p), 0);
	ck_assert_msg(wait_for_hold(10000), "no repair began");
	ck_assert_int_eq(pthread_create(&waiter, NULL, note_tid_and_touch, &s), 0);
	while (!atomic_load(&s.tid))
		sched_yield();
	for (int i = 0; i < 10; i++) {
		nanosleep(&tick, NULL);
		sleeping += thread_state(atomic_load(&s.tid)) == 'S';
	}
	release();
	ck_assert_int_eq(pthread_join(repairer, NULL), 0);
	ck_assert_int_eq(pthread_join(waiter, NULL), 0);
	ck_assert_msg(sleeping == 10, "the waiting thread ran in %d of 10 looks", 10 - sleeping);
	ck_assert_int_eq(touch(p + page), 0);
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(m);
}
END_TEST

/* The handler looks before it replaces: a page that the file backs again
 * by then (or that another thread has replaced since the fault) is left
 * as it is, and the access reads what is there now. */
START_TEST(test_page_backed_again_is_left_alone)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("back-again", 2);
	struct reader r = { .addr = map_guarded(m, 2 * page, RW) + page };
	pthread_t reader;

	peer_set_size(mfd_fd(m), 0);
	hold(HOLD_PROBE);
	ck_assert_int_eq(pthread_create(&reader, NULL, read_it, &r), 0);
	ck_assert_msg(wait_for_hold(10000), "the handler did not look at the page first");
	peer_set_size(mfd_fd(m), 2 * page);
	ck_assert_int_eq(mfd_pwrite(m, "back", 4, page), 4);
	release();
	ck_assert_int_eq(pthread_join(reader, NULL), 0);
	ck_assert_uint_eq(r.value, 'b');
	ck_assert(!repair_mapped());
	ck_assert_int_eq(mfd_map_faulted(r.addr - page), 0);
	ck_assert_still_shared(r.addr);
	ck_assert_int_eq(mfd_unmap((void *)(r.addr - page), 2 * page), 0);
	mfd_free(m);
}
END_TEST

/* A write-only mapping is probed for writing (MADV_POPULATE_READ is
 * EINVAL without PROT_READ): a page the file backs again by then is left
 * as it is, and the write lands in the file. */
static void *write_it(void *arg)
{
	poke(arg, 'X');
	return NULL;
}

START_TEST(test_write_only_page_backed_again_is_left_alone)
{
	size_t page = page_size();
	struct mfd *m = filled_mfd("write-only", 2);
	char *p = map_guarded(m, 2 * page, PROT_WRITE), c = 0;
	pthread_t writer;

	peer_set_size(mfd_fd(m), 0);
	hold(HOLD_PROBE);
	ck_assert_int_eq(pthread_create(&writer, NULL, write_it, p + page + 100), 0);
	ck_assert_msg(wait_for_hold(10000), "the handler did not look at the page first");
	peer_set_size(mfd_fd(m), 2 * page);
	release();
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	ck_assert(!repair_mapped());
	ck_assert_int_eq(mfd_map_faulted(p), 0);
	ck_assert_int_eq(mfd_pread(m, &c, 1, page + 100), 1);
	ck_assert_int_eq(c, 'X');
	ck_assert_still_shared(p + page);
	ck_assert_int_eq(mfd_unmap(p, 2 * page), 0);
	mfd_free(m);
}
END_TEST

/* A fault that every probe finds backed, yet that happens again at once
 * (here the probes are faked): after a few, the page is replaced rather
 * than faulted at for ever. */
static int fault_no_probe_sees(void *arg)
{
	char *p = broken_mapping(RW, LIBMEMFD_MAP_GUARD);

	CHILD_CHECK(p);
	fake_probes(1);
	CHILD_CHECK(touch(p + page_size()) == 0);
	fake_probes(0);
	CHILD_CHECK(mfd_map_faulted(p) == 1);
	CHILD_CHECK(mfd_unmap(p, 2 * page_size()) == 0);
	return 0;
}

START_TEST(test_fault_no_probe_sees_ends)
{
	ck_assert_exited_ok(child_wait_status(fault_no_probe_sees, NULL, 10));
}
END_TEST

/* A program's timeout handler that leaves with siglongjmp, its signal
 * arriving in the middle of a repair: it runs only once the repair is
 * made, so that no repair is left half made, the mapping pinned, for ever
 * (another thread would fault in it for ever, mfd_unmap never return). */
static sigjmp_buf timed_out;

static void time_out(int sig)
{
	siglongjmp(timed_out, 1);
}

static int jump_out_of_a_repair(void *arg)
{
	struct sigaction sa = { .sa_handler = time_out };
	char *p = broken_mapping(PROT_READ, LIBMEMFD_MAP_GUARD);
	volatile int jumped = 0;
	pthread_t other;

	CHILD_CHECK(p);
	sigemptyset(&sa.sa_mask);
	CHILD_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	if (sigsetjmp(timed_out, 1) == 0) {
		raise_at_probe(SIGUSR1);
		touch(p + page_size());
	} else {
		jumped = 1;
	}
	CHILD_CHECK(jumped);
	/* Another page of the mapping, from another thread. */
	CHILD_CHECK(pthread_create(&other, NULL, touch_it, p) == 0);
	CHILD_CHECK(pthread_join(other, NULL) == 0);
	CHILD_CHECK(mfd_map_faulted(p) == 1);
	CHILD_CHECK(mfd_unmap(p, 2 * page_size()) == 0);
	return 0;
}

START_TEST(test_handler_that_jumps_out_of_a_repair)
{
	if (running_under_valgrind()) {
		/* valgrind 3.19 takes SA_NODEFER for the old SA_NOMASK and
		 * blocks nothing of sa_mask while the handler runs. */
		note_skipped("valgrind ignores the sa_mask of a handler with SA_NODEFER");
		return;
	}
	ck_assert_exited_ok(child_wait_status(jump_out_of_a_repair, NULL, 10));
}
END_TEST

/* Dispositions, each in a child of its own ----------------------------------- */

/* The guard still works under the disposition the child set: a guarded
 * mapping shrunk away reads zero. */
static int guard_works(void)
{
	char *p = broken_mapping(RW, LIBMEMFD_MAP_GUARD);

	return p && touch(p) == 0 && touch(p + page_size()) == 0 && mfd_map_faulted(p) == 1;
}

static int default_on_fault(void *arg)
{
	char *plain;

	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(guard_works());
	plain = broken_mapping(PROT_READ, 0);
	CHILD_CHECK(plain);
	touch(plain);
	return __LINE__;
}

static int default_on_kill(void *arg)
{
	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(guard_works());
	kill(getpid(), SIGBUS);
	return __LINE__;
}

/* A fault outside the guarded mappings, under SIG_DFL, whose file grows
 * back as the handler puts the default in place: the access goes on, and
 * the library's handler is back, guarding what it guarded. */
static int grow_back_fd = -1;

static void grow_back(void)
{
	if (ftruncate(grow_back_fd, (off_t)page_size()) < 0)
		_exit(101);
}

static int default_then_grown_back(void *arg)
{
	struct sigaction sa;
	struct mfd *m = NULL;
	void *plain;

	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(guard_works());
	CHILD_CHECK(mfd_new(&m, "grown-back", 0) == 0 && mfd_set_size(m, page_size()) == 0);
	CHILD_CHECK(mfd_map(m, 0, page_size(), PROT_READ, 0, &plain) == 0);
	CHILD_CHECK(peer_resize(mfd_fd(m), 0) == 0);
	grow_back_fd = mfd_fd(m);
	at_sigbus_default(grow_back);
	CHILD_CHECK(touch(plain) == 0);
	CHILD_CHECK(sigaction(SIGBUS, NULL, &sa) == 0 && (sa.sa_flags & SA_SIGINFO));
	CHILD_CHECK(guard_works());
	CHILD_CHECK(mfd_unmap(plain, page_size()) == 0);
	mfd_free(m);
	return 0;
}

/* A fault outside the guarded mappings that the (faked) probes find backed
 * yet happens again: after a few, the default is left in place for it to
 * end the process, rather than the handler being put back for ever. (The
 * default stands for exit_on_sigbus here, which sees the refault.) */
static int default_on_a_fault_no_probe_sees(void *arg)
{
	char *plain;

	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(guard_works());
	plain = broken_mapping(PROT_READ, 0);
	CHILD_CHECK(plain);
	default_means(exit_on_sigbus);
	fake_probes(1);
	touch(plain);
	return __LINE__;
}

START_TEST(test_default_still_ends_the_process)
{
	ck_assert_killed_by(child_wait_status(default_on_fault, NULL, 30), SIGBUS);
	ck_assert_killed_by(child_wait_status(default_on_kill, NULL, 30), SIGBUS);
	ck_assert_exited_ok(child_wait_status(default_then_grown_back, NULL, 30));
	ck_assert_exited_on_sigbus(child_wait_status(default_on_a_fault_no_probe_sees, NULL, 10));
}
END_TEST

static int send_to_self(int code, void *addr)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = code;
	si.si_addr = addr;
	return (int)syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGBUS, &si);
}

static pid_t victim;

static int forge_a_fault(void *addr)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = BUS_ADRERR;
	si.si_addr = addr;
	return syscall(SYS_rt_sigqueueinfo, victim, SIGBUS, &si) < 0 && errno == EPERM ? 0 : -1;
}

static int forge_fault_from_a_peer(void *addr)
{
	victim = getpid();
	return run_in_peer(forge_a_fault, addr);
}

static int ignored_when_sent(void *arg)
{
	const union sigval value = { .sival_int = 1 };
	char *p;

	CHILD_CHECK(set_handler(SIG_IGN) == 0);
	CHILD_CHECK(guard_works());
	p = broken_mapping(RW, LIBMEMFD_MAP_GUARD);
	CHILD_CHECK(p);
	CHILD_CHECK(kill(getpid(), SIGBUS) == 0);
	CHILD_CHECK(sigqueue(getpid(), SIGBUS, value) == 0);
	CHILD_CHECK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGBUS) == 0);
	/* An action-optional memory error is sent, not forced, even when
	 * it names an address inside a guarded mapping. Valgrind takes any
	 * SIGBUS with a kernel's si_code for a fault of its own. */
	if (!running_under_valgrind())
		CHILD_CHECK(send_to_self(BUS_MCEERR_AO, p) == 0);
	/* No other process can make a SIGBUS look like a fault. */
	CHILD_CHECK(forge_fault_from_a_peer(p) == 0);
	CHILD_CHECK(mfd_map_faulted(p) == 0);
	CHILD_CHECK(guard_works());
	return 0;
}

static int ignored_on_fault(void *arg)
{
	char *plain;

	CHILD_CHECK(set_handler(SIG_IGN) == 0);
	CHILD_CHECK(guard_works());
	plain = broken_mapping(PROT_READ, 0);
	CHILD_CHECK(plain);
	/* The kernel would override SIG_IGN for this: ignoring it would
	 * return to the access and fault again, for ever. */
	touch(plain);
	return __LINE__;
}

START_TEST(test_ignored_stays_ignored_but_faults_still_kill)
{
	ck_assert_exited_ok(child_wait_status(ignored_when_sent, NULL, 30));
	ck_assert_killed_by(child_wait_status(ignored_on_fault, NULL, 30), SIGBUS);
}
END_TEST

/* What the program's handler saw, in memory the parent reads after. */
struct seen {
	atomic_int calls;
	int sig, code, errno_at_entry, usr1_blocked, bus_blocked, has_ucontext;
	int usr2_blocked, winch_blocked;
	void *addr;
};

static struct seen *seen;
static sigjmp_buf back;

static void record(int sig, siginfo_t *info, void *ucontext)
{
	sigset_t now;

	seen->errno_at_entry = errno;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	seen->sig = sig;
	seen->code = info ? info->si_code : -1000;
	seen->addr = info ? info->si_addr : NULL;
	seen->has_ucontext = ucontext != NULL;
	seen->usr1_blocked = sigismember(&now, SIGUSR1);
	seen->bus_blocked = sigismember(&now, SIGBUS);
	seen->usr2_blocked = sigismember(&now, SIGUSR2);
	seen->winch_blocked = sigismember(&now, SIGWINCH);
	errno = EILSEQ; /* a handler may change errno; the program sees it */
}

static void program_siginfo_handler(int sig, siginfo_t *info, void *ucontext)
{
	int calls = atomic_fetch_add(&seen->calls, 1) + 1;

	record(sig, info, ucontext);
	if (calls > 1)
		_exit(3); /* a second call: SA_RESETHAND was not honoured */
	if (info->si_code > 0)
		siglongjmp(back, 1); /* returning would fault again */
}

static void program_plain_handler(int sig)
{
	atomic_fetch_add(&seen->calls, 1);
	record(sig, NULL, NULL);
	if (atomic_load(&seen->calls) > 1)
		siglongjmp(back, 1);
}

static int install_program_handler(int flags, int siginfo)
{
	struct sigaction sa = { .sa_flags = flags };

	if (siginfo) {
		sa.sa_flags |= SA_SIGINFO;
		sa.sa_sigaction = program_siginfo_handler;
	} else {
		sa.sa_handler = program_plain_handler;
	}
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	return sigaction(SIGBUS, &sa, NULL);
}

static int program_handler_on_fault(void *arg)
{
	int flags = *(int *)arg;
	sigset_t now, winch;
	char *plain;

	CHILD_CHECK(install_program_handler(flags, 1) == 0);
	CHILD_CHECK(guard_works());
	CHILD_CHECK(atomic_load(&seen->calls) == 0);
	plain = broken_mapping(PROT_READ, 0);
	CHILD_CHECK(plain);
	/* Blocked where the fault interrupts: blocked in the handler too. */
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	CHILD_CHECK(pthread_sigmask(SIG_BLOCK, &winch, NULL) == 0);
	if (sigsetjmp(back, 1) == 0) {
		errno = EDOM;
		touch(plain + 1);
		return __LINE__;
	}
	CHILD_CHECK(pthread_sigmask(SIG_UNBLOCK, &winch, NULL) == 0);
	/* The mask the kernel would have set, not the library's handler's. */
	CHILD_CHECK(seen->winch_blocked && !seen->usr2_blocked);
	CHILD_CHECK(atomic_load(&seen->calls) == 1);
	CHILD_CHECK(seen->sig == SIGBUS && seen->code == BUS_ADRERR && seen->addr == plain + 1);
	CHILD_CHECK(seen->has_ucontext && seen->errno_at_entry == EDOM);
	CHILD_CHECK(seen->usr1_blocked);
	CHILD_CHECK(seen->bus_blocked == !(flags & SA_NODEFER));
	/* siglongjmp put the mask back. */
	CHILD_CHECK(pthread_sigmask(SIG_BLOCK, NULL, &now) == 0 && !sigismember(&now, SIGBUS));
	CHILD_CHECK(guard_works());
	return 0;
}

static int plain_program_handler(void *arg)
{
	char *plain;

	CHILD_CHECK(install_program_handler(0, 0) == 0);
	CHILD_CHECK(guard_works());
	CHILD_CHECK(kill(getpid(), SIGBUS) == 0);
	CHILD_CHECK(atomic_load(&seen->calls) == 1 && seen->sig == SIGBUS);
	CHILD_CHECK(seen->usr1_blocked && seen->bus_blocked);
	plain = broken_mapping(PROT_READ, 0);
	CHILD_CHECK(plain);
	if (sigsetjmp(back, 1) == 0) {
		touch(plain);
		return __LINE__;
	}
	CHILD_CHECK(atomic_load(&seen->calls) == 2);
	return 0;
}

START_TEST(test_program_handler_as_the_kernel_calls_it)
{
	int flags = 0;

	seen = mmap(NULL, sizeof(*seen), RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(seen, MAP_FAILED);
	ck_assert_exited_ok(child_wait_status(program_handler_on_fault, &flags, 30));
	memset(seen, 0, sizeof(*seen));
	flags = SA_NODEFER;
	ck_assert_exited_ok(child_wait_status(program_handler_on_fault, &flags, 30));
	memset(seen, 0, sizeof(*seen));
	ck_assert_exited_ok(child_wait_status(plain_program_handler, NULL, 30));
	munmap(seen, sizeof(*seen));
}
END_TEST

/* SA_RESETHAND: the handler is called once; the next SIGBUS gets the
 * default. */
static int reset_after_one_call(void *arg)
{
	char *plain;

	CHILD_CHECK(install_program_handler(*(int *)arg, 1) == 0);
	CHILD_CHECK(guard_works());
	plain = broken_mapping(PROT_READ, 0);
	CHILD_CHECK(plain);
	if (sigsetjmp(back, 1) == 0) {
		touch(plain);
		return __LINE__;
	}
	CHILD_CHECK(atomic_load(&seen->calls) == 1);
	CHILD_CHECK(guard_works());
	touch(plain);
	return __LINE__;
}

START_TEST(test_reset_handler_is_called_once)
{
	static const int flags[] = { SA_RESETHAND, SA_RESETHAND | SA_NODEFER };

	seen = mmap(NULL, sizeof(*seen), RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(seen, MAP_FAILED);
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		memset(seen, 0, sizeof(*seen));
		ck_assert_killed_by(child_wait_status(reset_after_one_call, (void *)&flags[i], 30),
				    SIGBUS);
		ck_assert_int_eq(atomic_load(&seen->calls), 1);
	}
	munmap(seen, sizeof(*seen));
}
END_TEST

static atomic_int repaired_by_program_handler;

static void later_handler(int sig, siginfo_t *info, void *ucontext)
{
	if (mfd_handle_sigbus(sig, info, ucontext)) {
		repaired_by_program_handler++;
		return;
	}
	siglongjmp(back, 1);
}

/* A program that installs its own handler after the library's, and calls
 * mfd_handle_sigbus from it; the library never takes SIGBUS back. */
static int handler_installed_later(void *arg)
{
	struct sigaction sa = { .sa_sigaction = later_handler, .sa_flags = SA_SIGINFO };
	char *guarded, *plain, *more;
	siginfo_t other_signal;
	int installs;

	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(guard_works());
	sigemptyset(&sa.sa_mask);
	CHILD_CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
	installs = sigbus_handlers_set();
	guarded = broken_mapping(RW, LIBMEMFD_MAP_GUARD);
	plain = broken_mapping(PROT_READ, 0);
	CHILD_CHECK(guarded && plain);
	CHILD_CHECK(sigbus_handlers_set() == installs);
	CHILD_CHECK(sigaction(SIGBUS, NULL, &sa) == 0 && sa.sa_sigaction == later_handler);
	/* The handler returns what mfd_handle_sigbus left: errno as it was
	 * (the probe of a broken page fails with EFAULT). */
	errno = EDOM;
	CHILD_CHECK(touch(guarded + page_size()) == 0);
	CHILD_CHECK(errno == EDOM);
	poke(guarded, 7);
	CHILD_CHECK(touch(guarded) == 7 && repaired_by_program_handler == 2);
	CHILD_CHECK(mfd_map_faulted(guarded) == 1);
	if (sigsetjmp(back, 1) == 0) {
		touch(plain);
		return __LINE__;
	}
	CHILD_CHECK(repaired_by_program_handler == 2);
	more = broken_mapping(RW, LIBMEMFD_MAP_GUARD);
	CHILD_CHECK(more && touch(more) == 0 && repaired_by_program_handler == 3);
	CHILD_CHECK(sigaction(SIGBUS, NULL, &sa) == 0 && sa.sa_sigaction == later_handler);
	CHILD_CHECK(mfd_handle_sigbus(SIGSEGV, NULL, NULL) == 0);
	CHILD_CHECK(mfd_handle_sigbus(SIGBUS, NULL, NULL) == 0);
	/* A siginfo of another signal, even at a guarded address: not ours. */
	more = broken_mapping(RW, LIBMEMFD_MAP_GUARD);
	CHILD_CHECK(more);
	memset(&other_signal, 0, sizeof(other_signal));
	other_signal.si_signo = SIGSEGV;
	other_signal.si_code = BUS_ADRERR;
	other_signal.si_addr = more;
	CHILD_CHECK(mfd_handle_sigbus(SIGBUS, &other_signal, NULL) == 0);
	CHILD_CHECK(mfd_map_faulted(more) == 0);
	return 0;
}

START_TEST(test_handler_installed_later_calls_in)
{
	ck_assert_exited_ok(child_wait_status(handler_installed_later, NULL, 30));
}
END_TEST

struct blocker {
	int fd;
	atomic_int done;
	int result, err;
};

static void *wait_in_poll(void *arg)
{
	struct blocker *b = arg;
	struct pollfd pfd = { .fd = b->fd, .events = POLLIN };

	b->result = poll(&pfd, 1, 20000);
	b->err = errno;
	atomic_store(&b->done, 1);
	return NULL;
}

static void *wait_in_read(void *arg)
{
	struct blocker *b = arg;
	char c;

	b->result = (int)read(b->fd, &c, 1);
	b->err = errno;
	atomic_store(&b->done, 1);
	return NULL;
}

/* The one difference the library cannot avoid (mfd_handle_sigbus(3)): a
 * sent SIGBUS that SIG_IGN discarded now runs a handler, which interrupts
 * poll; read is restarted (SA_RESTART). */
static int interrupted_poll(void *arg)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct blocker polling = { 0 }, reading = { 0 };
	pthread_t t;
	int fds[2];

	CHILD_CHECK(set_handler(SIG_IGN) == 0);
	CHILD_CHECK(guard_works());
	CHILD_CHECK(pipe(fds) == 0);
	polling.fd = reading.fd = fds[0];
	CHILD_CHECK(pthread_create(&t, NULL, wait_in_poll, &polling) == 0);
	for (int i = 0; i < 1000 && !atomic_load(&polling.done); i++) {
		pthread_kill(t, SIGBUS);
		nanosleep(&tick, NULL);
	}
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	CHILD_CHECK(polling.result == -1 && polling.err == EINTR);

	CHILD_CHECK(pthread_create(&t, NULL, wait_in_read, &reading) == 0);
	for (int i = 0; i < 20; i++) {
		pthread_kill(t, SIGBUS);
		nanosleep(&tick, NULL);
	}
	CHILD_CHECK(!atomic_load(&reading.done));
	CHILD_CHECK(write(fds[1], "x", 1) == 1);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	CHILD_CHECK(reading.result == 1);
	return 0;
}

START_TEST(test_sent_sigbus_interrupts_poll)
{
	if (running_under_valgrind()) {
		/* valgrind 3.19 aborts (syswrap-main.c, "sci->status.what ==
		 * SsIdle") when handled signals interrupt another thread's
		 * system calls like this. */
		note_skipped("valgrind cannot interrupt another thread's poll with a handled signal");
		return;
	}
	ck_assert_exited_ok(child_wait_status(interrupted_poll, NULL, 60));
}
END_TEST

/*
 * What the library's handler does with a SIGBUS that is not its own, to
 * the letter: called as a program's later handler may call it (the old
 * sa_sigaction; mfd_handle_sigbus(3) says that works), with SIGBUS
 * blocked, so that what it leaves behind (the disposition, a SIGBUS sent
 * again) can be looked at, and then thrown away, instead of ending the
 * process as it would on its own.
 */
struct chained {
	void (*before)(int);  /* SIG_DFL, SIG_IGN, or count_calls (SA_RESETHAND) */
	int code;             /* the si_code of the SIGBUS */
	int calls;            /* how many times it is handed to the library */
	int reset_to_default; /* the disposition is SIG_DFL afterwards */
	int sent_again;       /* and the same SIGBUS is pending again */
	int program_calls;    /* count_calls ran so many times */
	int queue_refused;    /* rt_tgsigqueueinfo is refused: raise sends it */
	int no_info;          /* handed over with info NULL, by a program's handler */
};

static int hand_over(void *arg)
{
	const struct chained *c = arg;
	struct sigaction sa = { .sa_handler = c->before, .sa_flags = SA_RESETHAND };
	struct timespec now = { 0, 0 };
	siginfo_t si, again;
	sigset_t bus, pending;
	char *outside;

	sigemptyset(&sa.sa_mask);
	CHILD_CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
	CHILD_CHECK(guard_works());
	CHILD_CHECK(sigaction(SIGBUS, NULL, &sa) == 0 && (sa.sa_flags & SA_SIGINFO));
	outside = broken_mapping(PROT_READ, 0);
	CHILD_CHECK(outside);
	sigemptyset(&bus);
	sigaddset(&bus, SIGBUS);
	CHILD_CHECK(pthread_sigmask(SIG_BLOCK, &bus, NULL) == 0);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = c->code;
	si.si_addr = outside;
	if (c->queue_refused) {
		const struct denial no_queue = { .call = CALL_TGSIGQUEUEINFO, .err = EPERM };

		CHILD_CHECK(deny_syscalls(&no_queue, 1) == 0);
	}
	for (int i = 0; i < c->calls; i++)
		sa.sa_sigaction(SIGBUS, c->no_info ? NULL : &si, NULL);
	CHILD_CHECK(atomic_load(&program_handler_calls) == c->program_calls);
	CHILD_CHECK(sigaction(SIGBUS, NULL, &sa) == 0);
	CHILD_CHECK((sa.sa_handler == SIG_DFL) == c->reset_to_default);
	CHILD_CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGBUS) == c->sent_again);
	if (c->sent_again) {
		CHILD_CHECK(sigtimedwait(&bus, &again, &now) == SIGBUS);
		if (c->queue_refused || c->no_info) /* raise(3): kill or tgkill, as the C library likes */
			CHILD_CHECK(again.si_code <= 0 && again.si_pid == getpid());
		else
			CHILD_CHECK(again.si_code == c->code && again.si_addr == outside);
	}
	return 0;
}

START_TEST(test_handed_over_as_the_disposition_says)
{
	static const struct chained cases[] = {
		/* The default: back in place; what was sent is sent again,
		 * a fault is left to happen again (nothing is pending). */
		{ SIG_DFL, SI_USER, 1, 1, 1, 0, 0, 0 },
		{ SIG_DFL, SI_QUEUE, 1, 1, 1, 0, 0, 0 },
		{ SIG_DFL, BUS_ADRERR, 1, 1, 0, 0, 0, 0 },
		{ SIG_DFL, BUS_MCEERR_AR, 1, 1, 0, 0, 0, 0 },
		{ SIG_DFL, BUS_MCEERR_AO, 1, 1, 1, 0, 0, 0 },
		/* Where it cannot be sent as it was, it is sent still. */
		{ SIG_DFL, SI_QUEUE, 1, 1, 1, 0, 1, 0 },
		/* Ignored: what the kernel would not force stays ignored, a
		 * fault gets the default. */
		{ SIG_IGN, SI_USER, 1, 0, 0, 0, 0, 0 },
		{ SIG_IGN, SI_TKILL, 1, 0, 0, 0, 0, 0 },
		{ SIG_IGN, BUS_MCEERR_AO, 1, 0, 0, 0, 0, 0 },
		{ SIG_IGN, BUS_ADRERR, 1, 1, 0, 0, 0, 0 },
		/* SA_RESETHAND: one call, then the default. */
		{ count_calls, SI_USER, 1, 0, 0, 1, 0, 0 },
		{ count_calls, SI_USER, 2, 1, 1, 1, 0, 0 },
		/* No siginfo (a program's handler passes none): what was
		 * sent, as far as it can tell. */
		{ SIG_DFL, SI_USER, 1, 1, 1, 0, 0, 1 },
		{ SIG_IGN, SI_USER, 1, 0, 0, 0, 0, 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		/* Valgrind cannot take a SIGBUS that a process sends itself
		 * ("appears to have lost its siginfo; I can't go on"). */
		if (cases[i].sent_again && running_under_valgrind()) {
			note_skipped("valgrind cannot take a SIGBUS sent to itself");
			continue;
		}
		ck_assert_msg(child_wait_status(hand_over, (void *)&cases[i], 30) == 0,
			      "case %zu: the child failed at line %d", i, child_result);
	}
}
END_TEST

/* Where no page can be mapped at all (here a filter refuses every
 * MAP_FIXED), the fault goes on to what was there before. */
static int repair_refused(void *arg)
{
	int how = *(int *)arg;
	const uint32_t page = (uint32_t)page_size();
	/* 0: every MAP_FIXED refused, ENOMEM (as at the limit); 1: that of
	 * a page, EPERM; 2: the page ENOMEM, the whole mapping EPERM. (Only
	 * these lengths: a sanitizer's allocator maps with MAP_FIXED too.) */
	const struct denial no_fixed_maps[] = {
		{ .call = CALL_MMAP, .err = how == 1 ? EPERM : ENOMEM,
		  .when = { { 3, ARG_HAS_BITS, MAP_FIXED }, { 1, how ? ARG_EQUALS : ARG_ANY, page } } },
		{ .call = CALL_MMAP, .err = EPERM,
		  .when = { { 3, ARG_HAS_BITS, MAP_FIXED }, { 1, ARG_EQUALS, 2 * page } } },
	};
	char *p;

	CHILD_CHECK(set_handler(how ? exit_on_sigbus : SIG_DFL) == 0);
	p = broken_mapping(RW, LIBMEMFD_MAP_GUARD);
	CHILD_CHECK(p);
	CHILD_CHECK(deny_syscalls(no_fixed_maps, how == 2 ? 2 : 1) == 0);
	touch(p);
	return __LINE__;
}

/* Without the probe (madvise refused, or a kernel before 5.14) the page is
 * taken for broken, as the fault says, and replaced. */
static int probe_refused(void *arg)
{
	/* EPERM (refused), or EINVAL (a kernel without MADV_POPULATE_*:
	 * neither probe can tell). */
	const struct denial no_madvise = { .call = CALL_MADVISE, .err = *(int *)arg };
	char *p;

	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	p = broken_mapping(RW, LIBMEMFD_MAP_GUARD);
	CHILD_CHECK(p);
	CHILD_CHECK(deny_syscalls(&no_madvise, 1) == 0);
	CHILD_CHECK(touch(p) == 0 && mfd_map_faulted(p) == 1);
	poke(p + page_size(), 1); /* a write, probed as one */
	CHILD_CHECK(touch(p + page_size()) == 1);
	return 0;
}

START_TEST(test_repair_that_cannot_be_made)
{
	int how = 0;

	/* The default, or the program's handler (how > 0). */
	ck_assert_killed_by(child_wait_status(repair_refused, &how, 30), SIGBUS);
	for (how = 1; how < 3; how++)
		ck_assert_exited_on_sigbus(child_wait_status(repair_refused, &how, 30));
	for (int i = 0; i < 2; i++) {
		int err = i ? EINVAL : EPERM;

		ck_assert_exited_ok(child_wait_status(probe_refused, &err, 30));
	}
}
END_TEST

/* The contract's limit, as the kernel sets it: a thread that blocks SIGBUS
 * is killed by a fault, handler or not. */
static int fault_while_blocked(void *arg)
{
	char *p = broken_mapping(RW, LIBMEMFD_MAP_GUARD);
	sigset_t bus;

	CHILD_CHECK(p);
	sigemptyset(&bus);
	sigaddset(&bus, SIGBUS);
	CHILD_CHECK(pthread_sigmask(SIG_BLOCK, &bus, NULL) == 0);
	touch(p);
	return __LINE__;
}

START_TEST(test_blocked_sigbus_is_not_guarded)
{
	ck_assert_killed_by(child_wait_status(fault_while_blocked, NULL, 30), SIGBUS);
}
END_TEST

/* fork ---------------------------------------------------------------------- */

struct forked {
	struct mfd *m;
	char *p;
};

static int repair_in_child(void *arg)
{
	struct forked *f = arg;

	CHILD_CHECK(mfd_map_faulted(f->p) == 0);
	CHILD_CHECK(peer_resize(mfd_fd(f->m), 0) == 0);
	CHILD_CHECK(touch(f->p + 2 * page_size()) == 0);
	poke(f->p + 2 * page_size(), 9);
	CHILD_CHECK(mfd_map_faulted(f->p) == 1);
	CHILD_CHECK(mfd_unmap(f->p, 3 * page_size()) == 0);
	return 0;
}

/* A child keeps its guarded mappings, and its repairs are its own. */
START_TEST(test_fork_child_repairs_its_own)
{
	size_t page = page_size();
	struct forked f = { .m = filled_mfd("forked", 3) };

	f.p = map_guarded(f.m, 3 * page, RW);
	ck_assert_exited_ok(child_wait_status(repair_in_child, &f, 30));
	ck_assert_int_eq(mfd_map_faulted(f.p), 0);
	/* Here page 2 is still the file's. */
	ck_assert_uint_eq(touch(f.p + page), 0); /* the child emptied the file */
	peer_set_size(mfd_fd(f.m), 3 * page);
	ck_assert_int_eq(mfd_pwrite(f.m, "parent", 6, 2 * page), 6);
	ck_assert_int_eq(memcmp(f.p + 2 * page, "parent", 6), 0);
	ck_assert_still_shared(f.p + 2 * page);
	ck_assert_int_eq(mfd_map_faulted(f.p), 1); /* page 1 above */
	ck_assert_int_eq(mfd_unmap(f.p, 3 * page), 0);
	mfd_free(f.m);
}
END_TEST

static int child_of_a_repair(void *arg)
{
	struct forked *f = arg;

	/* The parent's repair of this very mapping is in progress in a
	 * thread the child does not have. */
	release();
	CHILD_CHECK(touch(f->p + page_size()) == 0);
	CHILD_CHECK(mfd_map_faulted(f->p) == 1);
	CHILD_CHECK(mfd_unmap(f->p, 2 * page_size()) == 0);
	return 0;
}

START_TEST(test_fork_during_a_repair)
{
	size_t page = page_size();
	struct forked f = { .m = filled_mfd("fork-repair", 2) };
	pthread_t toucher;

	f.p = map_guarded(f.m, 2 * page, RW);
	peer_set_size(mfd_fd(f.m), 0);
	hold(HOLD_REPAIR);
	ck_assert_int_eq(pthread_create(&toucher, NULL, touch_first_page, f.p), 0);
	ck_assert(wait_for_hold(10000));
	ck_assert_exited_ok(child_wait_status(child_of_a_repair, &f, 30));
	release();
	ck_assert_int_eq(pthread_join(toucher, NULL), 0);
	ck_assert_int_eq(mfd_map_faulted(f.p), 1);
	ck_assert_int_eq(mfd_unmap(f.p, 2 * page), 0);
	mfd_free(f.m);
}
END_TEST

/* Faults other than a shrink ----------------------------------------------- */

/* A file on a tmpfs of two pages, in a mount namespace of the child's own
 * (the kernel's memfd mount has no size limit), adopted with mfd_from_fd
 * and sized past what the tmpfs can hold. */
static struct mfd *file_on_full_tmpfs(size_t pages)
{
	char dir[] = "/tmp/libmemfd-full-XXXXXX", path[64], options[32];
	struct mfd *m = NULL;
	int fd;

	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    !mkdtemp(dir))
		return NULL;
	snprintf(options, sizeof(options), "size=%zu", 2 * page_size());
	if (mount("tmpfs", dir, "tmpfs", 0, options) < 0) {
		rmdir(dir);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/pool", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	/* The open file keeps the detached mount. */
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)(pages * page_size())) < 0 || mfd_from_fd(&m, fd) < 0) {
		close(fd);
		return NULL;
	}
	return m;
}

static int write_to_full_tmpfs(void *arg)
{
	int guarded = *(int *)arg;
	size_t page = page_size();
	struct mfd *m = file_on_full_tmpfs(6);
	char c;
	void *p;

	if (!m)
		return SKIPPED;
	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(mfd_map(m, 0, 6 * page, RW, guarded ? LIBMEMFD_MAP_GUARD : 0, &p) == 0);
	for (size_t i = 0; i < 6; i++)
		poke((char *)p + i * page, (unsigned char)('a' + i));
	if (!guarded)
		return __LINE__;
	/* Two pages went to the file; the rest could not be allocated
	 * (ENOSPC) and are private. */
	CHILD_CHECK(mfd_map_faulted(p) == 1);
	for (size_t i = 0; i < 6; i++)
		CHILD_CHECK(touch((char *)p + i * page) == 'a' + i);
	CHILD_CHECK(mfd_pread(m, &c, 1, page) == 1 && c == 'b');
	CHILD_CHECK(mfd_pread(m, &c, 1, 4 * page) == 1 && c == 0);
	CHILD_CHECK(mfd_unmap(p, 6 * page) == 0);
	mfd_free(m);
	return 0;
}

/* fn(&guarded) in a child, unguarded and then guarded: the first must end
 * with SIGBUS (the fault is real), the second go on. */
static void ck_assert_only_the_guard_survives(int (*fn)(void *arg), const char *skip_why,
					      int timeout_s)
{
	int guarded = 0, status = child_wait_status(fn, &guarded, timeout_s);

	if (WIFEXITED(status) && child_result == SKIPPED) {
		note_skipped(skip_why);
		return;
	}
	ck_assert_killed_by(status, SIGBUS);
	guarded = 1;
	ck_assert_exited_ok(child_wait_status(fn, &guarded, timeout_s));
}

START_TEST(test_full_tmpfs)
{
	ck_assert_only_the_guard_survives(write_to_full_tmpfs,
					  "no private mount namespace and tmpfs here (needs root)", 30);
}
END_TEST

/* A sparse file on a full ext4 (an image on a loop device, mounted in a
 * mount namespace of the child's own), adopted with mfd_from_fd: reading
 * a hole needs no block, writing one does. NULL if that cannot be done
 * here (not root, no loop device, no mkfs.ext4). */
static struct mfd *sparse_file_on_full_disk(size_t pages)
{
	char dir[] = "/tmp/libmemfd-disk-XXXXXX", command[256], path[64];
	static const char block[4096] = { 1 };
	struct mfd *m = NULL;
	int fd, fill;

	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    !mkdtemp(dir))
		return NULL;
	/* mount -o loop sets the loop device to go away with the mount. */
	snprintf(command, sizeof(command),
		 "PATH=$PATH:/usr/sbin:/sbin; cd %s && truncate -s 1M img && "
		 "mkfs.ext4 -q -F img >/dev/null 2>&1 && mkdir mnt && "
		 "mount -o loop img mnt >/dev/null 2>&1", dir);
	if (system(command) != 0) {
		snprintf(command, sizeof(command), "rm -rf %s", dir);
		(void)system(command);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/mnt/pool", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	snprintf(path, sizeof(path), "%s/mnt/fill", dir);
	fill = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 && fill >= 0 && ftruncate(fd, (off_t)(pages * page_size())) == 0) {
		while (write(fill, block, sizeof(block)) > 0)
			;
		if (errno == ENOSPC && fsync(fill) == 0 && mfd_from_fd(&m, fd) == 0)
			fd = -1;
	}
	if (fill >= 0)
		close(fill);
	if (fd >= 0)
		close(fd);
	/* The open file keeps the detached mount, and its loop device. */
	snprintf(path, sizeof(path), "%s/mnt", dir);
	umount2(path, MNT_DETACH);
	snprintf(command, sizeof(command), "rm -rf %s", dir);
	(void)system(command);
	return m;
}

static int write_to_full_disk(void *arg)
{
	int guarded = *(int *)arg;
	size_t page = page_size();
	struct mfd *m = sparse_file_on_full_disk(4);
	struct vma v;
	char *p;
	void *q;

	if (!m)
		return SKIPPED;
	CHILD_CHECK(set_handler(SIG_DFL) == 0);
	CHILD_CHECK(mfd_map(m, 0, 4 * page, RW, guarded ? LIBMEMFD_MAP_GUARD : 0, &q) == 0);
	p = q;
	/* A read finds the hole backed... */
	CHILD_CHECK(touch(p + page) == 0);
	/* ...a write cannot be: the page is replaced, not probed for ever. */
	poke(p + page, 'x');
	if (!guarded)
		return __LINE__;
	CHILD_CHECK(touch(p + page) == 'x');
	CHILD_CHECK(mfd_map_faulted(p) == 1);
	CHILD_CHECK(vma_at(p + page, &v) && !v.file && v.start == (uintptr_t)(p + page) &&
		    v.end == (uintptr_t)(p + 2 * page) && !strcmp(v.perms, "rw-p"));
	CHILD_CHECK(vma_at(p, &v) && v.file);
	CHILD_CHECK(mfd_unmap(p, 4 * page) == 0);
	mfd_free(m);
	return 0;
}

/* Guarded, the write is repaired and goes on, not faulted at for ever. */
START_TEST(test_write_to_a_hole_on_a_full_disk)
{
	ck_assert_only_the_guard_survives(
		write_to_full_disk, "no loop device, ext4 and private mount namespace here (needs root)",
		10);
}
END_TEST

/* vm.max_map_count ----------------------------------------------------------
 *
 * Each replaced page splits the mapping in up to three: with no mapping
 * left to make, the whole mapping is replaced instead. The limit is
 * system-wide, so this test lowers it only for the milliseconds of the
 * fault, and only as far as a process of this test's own has already
 * gone: first that process makes some 30000 mappings, so that others
 * (which rarely have as many) can go on mapping meanwhile. A lock file
 * keeps two runs from lowering it at once (the second would take the
 * first's lowered value for the original), and a process of its own,
 * outside this test's process group, puts the original back whatever
 * happens to this one, after 10 seconds at the latest.
 */

#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"
#define MAX_MAP_COUNT_LOCK "/tmp/libmemfd-max-map-count.lock"

static long read_number(int fd)
{
	char buf[32] = { 0 };

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static int write_number(int fd, long value)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", value);

	return pwrite(fd, buf, (size_t)len, 0) == len ? 0 : -1;
}

/* The process's mappings, as the kernel counts them (not [vsyscall]). */
static long count_mappings(void)
{
	static char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	long lines = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines - (vma_at((void *)0xffffffffff600000ul, &(struct vma){ 0 }) ? 1 : 0);
}

struct at_the_limit {
	int up, down; /* pipes to and from the test process */
	long spread;  /* mappings to make before the limit is lowered */
};

static int fault_at_the_limit(void *arg)
{
	const struct at_the_limit *run = arg;
	size_t page = page_size(), spare = 1024;
	struct mfd *m = NULL;
	char *p, *area, *tail;
	long count;
	int go, result = 0, i;
	struct vma v;
	void *q;

	/* Eight pages of data; four stay in the file. */
	CHILD_CHECK(mfd_new(&m, "at-the-limit", 0) == 0 && mfd_set_size(m, 8 * page) == 0);
	for (size_t k = 0; k < 8; k++)
		CHILD_CHECK(mfd_pwrite(m, "f", 1, k * page) == 1);
	CHILD_CHECK(mfd_map(m, 0, 8 * page, RW, LIBMEMFD_MAP_GUARD, &q) == 0);
	p = q;
	CHILD_CHECK(peer_resize(mfd_fd(m), 4 * page) == 0);
	/* Mappings by the thousand: every other page of one area. */
	area = mmap(NULL, (size_t)run->spread * page, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	tail = mmap(NULL, spare * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	CHILD_CHECK(area != MAP_FAILED && tail != MAP_FAILED);
	for (long k = 1; k < run->spread; k += 2)
		CHILD_CHECK(mprotect(area + k * page, page, PROT_READ) == 0);
	count = count_mappings();
	CHILD_CHECK(count > 0);
	CHILD_CHECK(write(run->up, &count, sizeof(count)) == sizeof(count));
	CHILD_CHECK(read(run->down, &go, sizeof(go)) == sizeof(go));

	/* The limit is now a little above count: take what is left, one
	 * split at a time, until a split is refused. Nothing here may
	 * allocate until the fault. */
	for (i = 0; i < (int)spare; i++)
		if (mprotect(tail + (size_t)i * page, page, i % 2 ? RW : PROT_READ) < 0)
			break;
	if (i == 0 || i == (int)spare || errno != ENOMEM)
		result = __LINE__;
	/* A page of the guarded mapping would need two more mappings. */
	if (!result && touch(p + 5 * page) != 0)
		result = __LINE__;
	if (!result && touch(p + page) != 0) /* all of it replaced */
		result = __LINE__;
	if (!result && mfd_map_faulted(p) != 1)
		result = __LINE__;
	if (write(run->up, &result, sizeof(result)) != sizeof(result))
		return __LINE__;
	/* The limit is back: check at leisure. */
	CHILD_CHECK(result == 0);
	CHILD_CHECK(vma_at(p, &v) && !v.file && v.start <= (uintptr_t)p &&
		    v.end >= (uintptr_t)(p + 8 * page));
	poke(p + 7 * page, 1);
	CHILD_CHECK(mfd_unmap(p, 8 * page) == 0);
	return 0;
}

/* Put the original back once the test's end of the pipe closes (or after
 * 10 seconds), unless someone has changed the limit since. */
static void restore_limit(int sysctl, int watch, long original)
{
	struct pollfd pfd = { .fd = watch, .events = POLLIN };
	long lowered = -1;

	setsid();
	if (read(watch, &lowered, sizeof(lowered)) == sizeof(lowered))
		poll(&pfd, 1, 10000);
	if (lowered > 0 && read_number(sysctl) == lowered)
		write_number(sysctl, original);
	_exit(0);
}

START_TEST(test_at_max_map_count)
{
	int sysctl, lock, up[2], down[2], watch[2], go = 1, result = -1, status;
	long original, count = 0, lowered;
	struct at_the_limit run;
	struct pollfd pfd;
	pid_t restorer, worker;

	if (running_under_valgrind()) {
		note_skipped("valgrind keeps mappings of its own, too many for a lowered limit");
		return;
	}
	sysctl = open(MAX_MAP_COUNT, O_RDWR | O_CLOEXEC);
	if (sysctl < 0) {
		note_skipped("vm.max_map_count cannot be lowered here (needs root)");
		return;
	}
	lock = open(MAX_MAP_COUNT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(lock, 0);
	ck_assert_int_eq(flock(lock, LOCK_EX), 0);
	original = read_number(sysctl);
	if (original < 4096) {
		note_skipped("vm.max_map_count is already too low to lower it safely");
		close(lock);
		close(sysctl);
		return;
	}
	ck_assert_int_eq(pipe(watch), 0);
	restorer = fork();
	ck_assert_int_ge(restorer, 0);
	if (restorer == 0) {
		close(watch[1]);
		restore_limit(sysctl, watch[0], original); /* keeps the lock */
	}
	close(watch[0]);

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	run = (struct at_the_limit){ .up = up[1], .down = down[0],
				     .spread = original / 2 < 32768 ? original / 2 : 32768 };
	worker = fork_flushed();
	ck_assert_int_ge(worker, 0);
	if (worker == 0) {
		close(watch[1]);
		exit_child(fault_at_the_limit(&run));
	}
	close(up[1]);
	close(down[0]);

	pfd = (struct pollfd){ .fd = up[0], .events = POLLIN };
	if (poll(&pfd, 1, 120000) == 1 && read(up[0], &count, sizeof(count)) == sizeof(count)) {
		lowered = count + 64;
		ck_assert_int_eq(write(watch[1], &lowered, sizeof(lowered)), sizeof(lowered));
		/* The window opens... */
		ck_assert_int_eq(write_number(sysctl, lowered), 0);
		if (write(down[1], &go, sizeof(go)) == sizeof(go) && poll(&pfd, 1, 5000) == 1 &&
		    read(up[0], &result, sizeof(result)) != sizeof(result))
			result = -1;
		/* ...and closes, whatever happened in it. */
		write_number(sysctl, original);
	}
	close(watch[1]);
	close(down[1]);
	ck_assert_int_eq(waitpid(worker, &status, 0), worker);
	ck_assert_int_eq(waitpid(restorer, NULL, 0), restorer);
	ck_assert_int_eq(read_number(sysctl), original);
	close(up[0]);
	close(sysctl);
	close(lock);
	ck_assert_msg(count > 0, "the worker did not get as far as the limit");
	ck_assert_msg(result == 0, "at the limit, the worker failed at line %d", result);
	ck_assert_exited_ok(status);
}
END_TEST

/*
 * Guarded mappings of one file at consecutive offsets, placed so that the
 * kernel merges them into one mapping: at the limit, replacing one alone
 * needs a split too, so the run of guarded mappings of its protection
 * around it is replaced at once. The process fills itself to the limit
 * (mprotect splits, then mappings of a page), with no sysctl change; the
 * lock keeps the test above from lowering the limit meanwhile.
 */
#define RUN_MAX 70

struct merged_run {
	/* Mappings of 256 pages each, the first at the lowest address: g
	 * guarded, u not guarded, r guarded and PROT_READ (not merged). */
	const char *kinds;
	int fault; /* the one touched at the limit */
	/* After: f faulted (replaced), s still the file's; NULL: nothing
	 * could be replaced, and the fault goes on to the program's handler
	 * (exit_on_sigbus), as it would without the guard. */
	const char *after;
	long limit;
};

/* Fill the process to exactly vm.max_map_count, touch, give it all back:
 * what the touch read, or -1 if the limit was not reached. Nothing in
 * between may allocate. */
static int touch_at_the_limit(const char *addr, long limit)
{
	size_t page = page_size(), spread = (size_t)limit * 2 + 2, singles = 0;
	char *area, *single[64];
	int filled = 0, result = -1;

	area = mmap(NULL, spread * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (area == MAP_FAILED)
		return -1;
	filler = area;
	filler_length = spread * page;
	for (size_t k = 1; k < spread; k += 2) {
		if (mprotect(area + k * page, page, PROT_READ) < 0) {
			filled = errno == ENOMEM;
			break;
		}
	}
	/* Up to one past the limit (mmap refuses only above it), then one
	 * back: exactly at it, where no split is left. */
	while (filled && singles < ARRAY_SIZE(single)) {
		single[singles] = mmap(NULL, page, singles % 2 ? PROT_READ : PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (single[singles] == MAP_FAILED)
			break;
		singles++;
	}
	if (filled && singles > 0 && singles < ARRAY_SIZE(single)) {
		munmap(single[--singles], page);
		result = touch(addr);
	}
	while (singles > 0)
		munmap(single[--singles], page);
	munmap(area, spread * page);
	filler = NULL;
	return result;
}

static int merged_at_the_limit(void *arg)
{
	const struct merged_run *run = arg;
	int count = (int)strlen(run->kinds);
	size_t page = page_size(), n = 256 * page; /* larger than the gaps between libraries */
	char *p[RUN_MAX];
	struct mfd *m = NULL;
	struct vma v;

	CHILD_CHECK(count <= RUN_MAX);
	if (!run->after)
		CHILD_CHECK(set_handler(exit_on_sigbus) == 0);
	CHILD_CHECK(mfd_new(&m, "merged", 0) == 0 && mfd_set_size(m, (uint64_t)count * n) == 0);
	/* Top down, each below the last, at the offset below it. */
	for (int i = count - 1; i >= 0; i--) {
		void *q;

		CHILD_CHECK(mfd_map(m, (uint64_t)i * n, n, run->kinds[i] == 'r' ? PROT_READ : RW,
				    run->kinds[i] == 'u' ? 0 : LIBMEMFD_MAP_GUARD, &q) == 0);
		p[i] = q;
	}
	for (int i = 1; i < count; i++)
		if (p[i] != p[i - 1] + n)
			return SKIPPED;
	/* Merged with what is below and above it, as far as that goes. */
	if (!vma_at(p[run->fault], &v) ||
	    (run->fault > 0 && v.start >= (uintptr_t)p[run->fault]) ||
	    (run->fault < count - 1 && run->kinds[run->fault + 1] != 'r' &&
	     v.end <= (uintptr_t)(p[run->fault] + n)))
		return SKIPPED;
	CHILD_CHECK(peer_resize(mfd_fd(m), 0) == 0);
	CHILD_CHECK(touch_at_the_limit(p[run->fault] + page, run->limit) == 0);
	for (int i = 0; i < count; i++) {
		CHILD_CHECK(vma_at(p[i], &v) && v.file == (run->after[i] == 's'));
		if (run->kinds[i] != 'u')
			CHILD_CHECK(mfd_map_faulted(p[i]) == (run->after[i] == 'f'));
	}
	poke(p[run->fault], 1);
	for (int i = 0; i < count; i++)
		CHILD_CHECK(mfd_unmap(p[i], n) == 0);
	mfd_free(m);
	return 0;
}

START_TEST(test_merged_mappings_at_the_limit)
{
	static char many[RUN_MAX + 1];
	struct merged_run runs[] = {
		/* merged.c: a fault in the middle one; it is replaced with the
		 * one below, and the one above stays the file's. */
		{ "ggg", 1, "ffs", 0 },
		/* Nothing guarded below: with the one above. The read-only one
		 * above that is not merged, and not replaced. */
		{ "uggr", 1, "sffs", 0 },
		/* The residual cases, as mfd_map(3) says, where the fault
		 * goes on as without the guard: merged, both ways, with
		 * mappings that are not guarded... */
		{ "ugu", 1, NULL, 0 },
		/* ...or more guarded neighbours than the handler pins. */
		{ many, RUN_MAX - 2, NULL, 0 },
	};
	int sysctl, lock, status;
	long limit;

	if (running_under_valgrind()) {
		note_skipped("valgrind keeps mappings of its own, too many to fill to the limit");
		return;
	}
	sysctl = open(MAX_MAP_COUNT, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(sysctl, 0);
	lock = open(MAX_MAP_COUNT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock >= 0)
		ck_assert_int_eq(flock(lock, LOCK_EX), 0);
	limit = read_number(sysctl);
	close(sysctl);
	if (limit <= 0 || limit > 1000000) {
		note_skipped("vm.max_map_count is too high to fill a process to it");
		limit = 0;
	}
	memset(many, 'g', RUN_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(runs) && limit; i++) {
		runs[i].limit = limit;
		status = child_wait_status(merged_at_the_limit, &runs[i], 60);
		if (WIFEXITED(status) && child_result == SKIPPED)
			note_skipped(runs[i].kinds == many ? "the kernel did not merge many mappings" : "the kernel did not merge the mappings");
		else if (runs[i].after)
			ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
				      "run %zu: the child %s %d", i,
				      WIFSIGNALED(status) ? "died of signal" : "failed at line",
				      WIFSIGNALED(status) ? WTERMSIG(status) : child_result);
		else
			ck_assert_exited_on_sigbus(status);
	}
	if (lock >= 0)
		close(lock);
}
END_TEST

/* Each test case of the suite, its test processes' stacks grown first. */
static TCase *guard_tcase(const char *name)
{
	TCase *tc = tcase_with_leak_check(name);

	tcase_add_checked_fixture(tc, grow_stack, NULL);
	return tc;
}

Suite *guard_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = guard_tcase("guard");

	tcase_add_test(tc, test_shrunk_page_is_replaced_alone);
	tcase_add_test(tc, test_first_and_last_byte);
	tcase_add_test(tc, test_neighbours_are_not_guarded);
	tcase_add_test(tc, test_read_only_mapping_stays_read_only);
	tcase_add_test(tc, test_guard_with_populate);
	tcase_add_test(tc, test_handler_keeps_errno);
	tcase_add_test(tc, test_unmap_takes_the_whole_mapping);
	tcase_add_test(tc, test_failed_map_changes_nothing);
	tcase_add_test(tc, test_a_thousand_mappings_at_once);
	tcase_add_test(tc, test_registry_that_cannot_grow);
	tcase_add_test(tc, test_write_sealed_file_still_shrinks);
	tcase_add_test(tc, test_python_client_truncates);
	suite_add_tcase(s, tc);

	tc = guard_tcase("threads");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_threads_and_a_hostile_peer);
	tcase_add_test(tc, test_same_page_at_once);
	tcase_add_test(tc, test_installed_once_by_racing_threads);
	tcase_add_test(tc, test_unmap_waits_for_a_repair);
	tcase_add_test(tc, test_unmap_of_own_mapping_at_a_reused_address);
	tcase_add_test(tc, test_page_backed_again_is_left_alone);
	tcase_add_test(tc, test_fault_during_a_repair_sleeps);
	tcase_add_test(tc, test_write_only_page_backed_again_is_left_alone);
	tcase_add_test(tc, test_fault_no_probe_sees_ends);
	suite_add_tcase(s, tc);

	tc = guard_tcase("dispositions");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_default_still_ends_the_process);
	tcase_add_test(tc, test_ignored_stays_ignored_but_faults_still_kill);
	tcase_add_test(tc, test_program_handler_as_the_kernel_calls_it);
	tcase_add_test(tc, test_reset_handler_is_called_once);
	tcase_add_test(tc, test_handler_installed_later_calls_in);
	tcase_add_test(tc, test_handed_over_as_the_disposition_says);
	tcase_add_test(tc, test_sent_sigbus_interrupts_poll);
	tcase_add_test(tc, test_repair_that_cannot_be_made);
	tcase_add_test(tc, test_blocked_sigbus_is_not_guarded);
	tcase_add_test(tc, test_handler_that_jumps_out_of_a_repair);
	suite_add_tcase(s, tc);

	tc = guard_tcase("fork");
	tcase_add_test(tc, test_fork_child_repairs_its_own);
	tcase_add_test(tc, test_fork_during_a_repair);
	suite_add_tcase(s, tc);

	tc = guard_tcase("other_faults");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_full_tmpfs);
	tcase_add_test(tc, test_write_to_a_hole_on_a_full_disk);
	suite_add_tcase(s, tc);

	/* Alone in its case; see above. */
	tc = guard_tcase("max_map_count");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_at_max_map_count);
	tcase_add_test(tc, test_merged_mappings_at_the_limit);
	suite_add_tcase(s, tc);
	return s;
}
