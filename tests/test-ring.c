/* SPDX-License-Identifier: MIT */
/*
 * ring.c: every row of the contract, with both ends in one process and in
 * two; streams of random messages across the wrap; mfd_ring_wait's
 * timeouts, wake-ups, -EPIPE and -EINTR. Peers that do not play by the
 * rules are in test-ring-hostile.c.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interpose.h"
#include "ring-helpers.h"
#include "ring-layout.h"
#include "syscall-filter.h"
#include "test-common.h"

/* --- creating and attaching ------------------------------------------- */

START_TEST(test_ring_new)
{
	size_t page = page_size(), capacity = 16 * page;
	struct mfd_ring *r = NULL;
	const struct mfd *m;
	struct stat st;
	char name[32];
	int seals;

	ck_assert_int_eq(mfd_ring_new(&r, "log", capacity, P), 0);
	ck_assert_uint_eq(mfd_ring_capacity(r), capacity);
	m = mfd_ring_mfd(r);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(mfd_size(m), page + capacity);
	ck_assert_int_eq(mfd_get_name(m, name, sizeof(name)), 3);
	ck_assert_str_eq(name, "log");
	/* Sealed against resizing and further seals, not against writes. */
	seals = mfd_get_seals(m);
	ck_assert_int_eq(seals & ~F_SEAL_EXEC, RING_SEALS);
	ck_assert_int_ne(fcntl(mfd_fd(m), F_GETFD) & FD_CLOEXEC, 0);
	/* Allocated: no page fault can fail later. */
	ck_assert_int_eq(fstat(mfd_fd(m), &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)(page + capacity));
	ck_assert_int_ge((uint64_t)st.st_blocks * 512, page + capacity);
	mfd_ring_free(r);

	ck_assert_int_eq(mfd_ring_new(&r, NULL, page, C), 0);
	ck_assert_int_eq(mfd_get_name(mfd_ring_mfd(r), name, sizeof(name)),
			 (int)strlen(LIBMEMFD_DEFAULT_NAME));
	ck_assert_str_eq(name, LIBMEMFD_DEFAULT_NAME);
	ck_assert_uint_eq(mfd_ring_capacity(r), page);
	mfd_ring_free(r);
}
END_TEST

START_TEST(test_ring_new_bad_arguments)
{
	size_t page = page_size();
	char long_name[LIBMEMFD_NAME_MAX + 2];
	struct resources before = resources_now();
	int reservations = reservations_now();
	struct mfd_ring *r = POISON_PTR;
	static const unsigned int bad_flags[] = {
		0, P | C, 4, P | 4, C | 0x80000000u, ~0u,
	};

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert_int_eq(mfd_ring_new(NULL, "x", page, P), -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(bad_flags); i++)
		ck_assert_int_eq(mfd_ring_new(&r, "x", page, bad_flags[i]), -EINVAL);
	ck_assert_int_eq(mfd_ring_new(&r, "x", 0, P), -EINVAL);
	ck_assert_int_eq(mfd_ring_new(&r, "x", page / 2, P), -EINVAL);
	ck_assert_int_eq(mfd_ring_new(&r, "x", page + 8, C), -EINVAL);
	ck_assert_int_eq(mfd_ring_new(&r, "x", 3 * page, P), -EINVAL);
	ck_assert_int_eq(mfd_ring_new(&r, "x", SIZE_MAX, P), -EINVAL);
	ck_assert_int_eq(mfd_ring_new(&r, "x", SIZE_MAX / 2 + 1, P), -EINVAL);
	ck_assert_int_eq(mfd_ring_new(&r, long_name, page, P), -EINVAL);
	ck_assert_ptr_eq(r, POISON_PTR);
	assert_nothing_left(before, reservations);
}
END_TEST

/* A file size limit below the ring's: -EFBIG from mfd_allocate (SIGXFSZ
 * ignored, as a daemon that sets such a limit does), nothing left. */
static int ring_beyond_file_size_limit(void *unused)
{
	struct rlimit limit = { page_size(), page_size() };
	struct resources before = resources_now();
	int reservations = reservations_now();
	struct mfd_ring *r = POISON_PTR;
	struct resources after;

	CHILD_CHECK(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &limit) == 0);
	CHILD_CHECK(mfd_ring_new(&r, "efbig", page_size(), P) == -EFBIG);
	CHILD_CHECK(mfd_ring_new(&r, "efbig", 16 * page_size(), C) == -EFBIG);
	CHILD_CHECK(r == POISON_PTR);
	after = resources_now();
	CHILD_CHECK(after.fds == before.fds && after.maps == before.maps);
	CHILD_CHECK(reservations_now() == reservations);
	return 0;
}

START_TEST(test_ring_new_beyond_file_size_limit)
{
	ck_assert_child_ok(ring_beyond_file_size_limit, NULL);
}
END_TEST

/* Without CAP_IPC_LOCK, which lifts RLIMIT_MEMLOCK; root has it. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint32_t bit = 1u << (CAP_IPC_LOCK % 32);

	if (syscall(SYS_capget, &header, data) < 0)
		return -1;
	data[CAP_IPC_LOCK / 32].effective &= ~bit;
	data[CAP_IPC_LOCK / 32].permitted &= ~bit;
	data[CAP_IPC_LOCK / 32].inheritable &= ~bit;
	return (int)syscall(SYS_capset, &header, data);
}

/* An unprivileged daemon that locks its future memory, with a lock limit
 * below the ring's mapping: mmap refuses with EAGAIN, and so does
 * mfd_ring_new, leaving nothing. */
static int ring_beyond_memlock_limit(void *unused)
{
	struct rlimit limit = { 1 << 20, 1 << 20 };
	struct resources before = resources_now(), after;
	int reservations = reservations_now();
	struct mfd_ring *r = POISON_PTR;
	int err;

	CHILD_CHECK(drop_ipc_lock() == 0);
	CHILD_CHECK(setrlimit(RLIMIT_MEMLOCK, &limit) == 0);
	CHILD_CHECK(mlockall(MCL_FUTURE) == 0);
	err = mfd_ring_new(&r, "locked", 4 << 20, P);
	CHILD_CHECK(munlockall() == 0);
	CHILD_CHECK(err == -EAGAIN);
	CHILD_CHECK(r == POISON_PTR);
	after = resources_now();
	CHILD_CHECK(after.fds == before.fds && after.maps == before.maps);
	CHILD_CHECK(reservations_now() == reservations);
	return 0;
}

START_TEST(test_ring_new_beyond_memlock_limit)
{
#if defined(__SANITIZE_ADDRESS__)
	note_skipped("AddressSanitizer maps its own memory, which the lock limit would refuse");
	return;
#endif
	if (under_valgrind()) {
		note_skipped("valgrind maps its own memory, which the lock limit would refuse");
		return;
	}
	ck_assert_child_ok(ring_beyond_memlock_limit, NULL);
}
END_TEST

START_TEST(test_ring_null_handles)
{
	ck_assert_uint_eq(mfd_ring_capacity(NULL), 0);
	ck_assert_ptr_null(mfd_ring_mfd(NULL));
	mfd_ring_free(NULL);
	ck_assert_int_eq(mfd_ring_reserve(NULL, 1, (void **)&(void *){ NULL }), -EINVAL);
	ck_assert_int_eq(mfd_ring_commit(NULL), -EINVAL);
	ck_assert_int_eq(mfd_ring_send(NULL, "x", 1), -EINVAL);
	ck_assert_int_eq(mfd_ring_peek(NULL, &(const void *){ NULL }), -EINVAL);
	ck_assert_int_eq(mfd_ring_release(NULL), -EINVAL);
	ck_assert_int_eq(mfd_ring_recv(NULL, (char[1]){ 0 }, 1), -EINVAL);
	ck_assert_int_eq(mfd_ring_wait(NULL, 0, 0), -EINVAL);
}
END_TEST

/* The lines of /proc/self/maps: start, end, permissions and the rest. */
struct map_line {
	uintptr_t start, end;
	char perms[8];
	char path[128];
};

static size_t read_maps(struct map_line *lines, size_t max)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char buf[512];
	size_t n = 0;

	ck_assert_ptr_nonnull(f);
	while (n < max && fgets(buf, sizeof(buf), f)) {
		struct map_line *l = &lines[n];
		int end = 0;

		l->path[0] = '\0';
		if (sscanf(buf, "%" SCNxPTR "-%" SCNxPTR " %7s %*x %*x:%*x %*u %n", &l->start,
			   &l->end, l->perms, &end) < 3)
			continue;
		snprintf(l->path, sizeof(l->path), "%s", buf + end);
		l->path[strcspn(l->path, "\n")] = '\0';
		n++;
	}
	fclose(f);
	return n;
}

/* A fault at addr kills a child process with SIGSEGV. */
static void assert_faults(const volatile uint8_t *addr)
{
	int status;
	pid_t child;

	if (under_valgrind()) {
		/* It checks every access itself, and counts this one an error. */
		note_skipped("under valgrind, the guard pages are not touched");
		return;
	}
	child = fork_flushed();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* Die of it, whatever a sanitizer would make of it. */
		signal(SIGSEGV, SIG_DFL);
		(void)*addr;
		exit_child(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
		      "touching %p did not fault", (const void *)addr);
}

/* [guard][control][data][data again][guard]: the memfd's mappings are one
 * run, with an inaccessible page on each side. */
static void assert_guarded(const char *path, size_t capacity, int data_writable)
{
	static struct map_line lines[4096];
	size_t page = page_size(), n = read_maps(lines, ARRAY_SIZE(lines));
	size_t first = n, last = n;
	uintptr_t start, end;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(lines[i].path, path) != 0)
			continue;
		if (first == n)
			first = i;
		last = i;
	}
	ck_assert_msg(first < n, "no mapping of %s", path);
	ck_assert_uint_gt(first, 0);
	ck_assert_uint_lt(last + 1, n);
	start = lines[first].start;
	end = lines[last].end;
	ck_assert_uint_eq(end - start, page + 2 * capacity);
	for (size_t i = first; i < last; i++)
		ck_assert_uint_eq(lines[i].end, lines[i + 1].start);
	/* The guards: the reservation's own pages, inaccessible. */
	ck_assert_uint_eq(lines[first - 1].end, start);
	ck_assert_str_eq(lines[first - 1].perms, "---p");
	ck_assert_str_eq(lines[first - 1].path, "");
	ck_assert_uint_ge(lines[first - 1].end - lines[first - 1].start, page);
	ck_assert_uint_eq(lines[last + 1].start, end);
	ck_assert_str_eq(lines[last + 1].perms, "---p");
	ck_assert_str_eq(lines[last + 1].path, "");
	ck_assert_uint_ge(lines[last + 1].end - lines[last + 1].start, page);
	ck_assert_str_eq(lines[last].perms, data_writable ? "rw-s" : "r--s");
	assert_faults((const volatile uint8_t *)start - 1);
	assert_faults((const volatile uint8_t *)start - page);
	assert_faults((const volatile uint8_t *)end);
	assert_faults((const volatile uint8_t *)end + page - 1);
}

START_TEST(test_ring_mapping_has_guard_pages)
{
	size_t page = page_size();
	struct mfd_ring *r = NULL;
	struct mfd *m;

	ck_assert_int_eq(mfd_ring_new(&r, "guarded", 4 * page, P), 0);
	assert_guarded("/memfd:guarded (deleted)", 4 * page, 1);
	/* The consumer's end too, its data area read-only. */
	m = received(r);
	mfd_ring_free(r);
	ck_assert_int_eq(mfd_ring_attach(&r, m), 0);
	assert_guarded("/memfd:guarded (deleted)", 4 * page, 0);
	mfd_ring_free(r);
}
END_TEST

START_TEST(test_ring_attach_either_end)
{
	size_t page = page_size();
	unsigned int creators[] = { P, C };

	for (size_t i = 0; i < ARRAY_SIZE(creators); i++) {
		struct pair p = new_pair(page, creators[i]);
		char buf[8];

		ck_assert_uint_eq(mfd_ring_capacity(p.consumer), page);
		ck_assert_uint_eq(mfd_ring_capacity(p.producer), page);
		ck_assert_int_eq(mfd_ring_send(p.producer, "hello", 5), 0);
		ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), 5);
		ck_assert_mem_eq(buf, "hello", 5);
		free_pair(&p);
	}
}
END_TEST

START_TEST(test_ring_attach_bad_arguments)
{
	struct mfd_ring *r = NULL, *other = POISON_PTR;
	struct mfd *m;

	ck_assert_int_eq(mfd_ring_new(&r, "args", page_size(), P), 0);
	m = received(r);
	ck_assert_int_eq(mfd_ring_attach(NULL, m), -EINVAL);
	ck_assert_int_eq(mfd_ring_attach(&other, NULL), -EINVAL);
	ck_assert_ptr_eq(other, POISON_PTR);
	mfd_free(m);
	mfd_ring_free(r);
}
END_TEST

/* A memfd that mfd_ring_new might have made, written by the test itself:
 * its header from ring-layout.h, then edit() to spoil it, then seals. */
static struct mfd *crafted(uint64_t size, uint64_t capacity, unsigned int seals,
			   void (*edit)(uint8_t *ctl))
{
	struct mfd *m = NULL;
	uint8_t *ctl;

	ck_assert_int_eq(mfd_new(&m, "crafted", 0), 0);
	ck_assert_int_eq(mfd_set_size(m, size), 0);
	ctl = calloc(1, page_size());
	ck_assert_ptr_nonnull(ctl);
	poke64(ctl, CTL_MAGIC, RING_MAGIC_VALUE);
	poke32(ctl, CTL_LAYOUT, RING_LAYOUT_VERSION);
	poke32(ctl, CTL_CONTROL_SIZE, (uint32_t)page_size());
	poke64(ctl, CTL_CAPACITY, capacity);
	poke32(ctl, CTL_CREATOR, P);
	poke64(ctl, CTL_HEAD, RING_INITIAL_COUNT + 64);
	poke64(ctl, CTL_TAIL, RING_INITIAL_COUNT + 64);
	if (edit)
		edit(ctl);
	if (size >= page_size())
		ck_assert_int_eq(mfd_pwrite(m, ctl, page_size(), 0), (ssize_t)page_size());
	free(ctl);
	if (seals)
		ck_assert_int_eq(mfd_add_seals(m, seals), 0);
	return m;
}

/* mfd_ring_attach refuses m with want, and the caller still owns m. */
static void assert_attach_refused(struct mfd *m, int want)
{
	struct resources before = resources_now();
	int reservations = reservations_now();
	struct mfd_ring *r = POISON_PTR;

	ck_assert_int_eq(mfd_ring_attach(&r, m), want);
	ck_assert_ptr_eq(r, POISON_PTR);
	assert_nothing_left(before, reservations);
	ck_assert_int_ge(fcntl(mfd_fd(m), F_GETFD), 0);
	mfd_free(m);
}

static void zero_magic(uint8_t *c) { poke64(c, CTL_MAGIC, 0); }
static void other_magic(uint8_t *c) { poke64(c, CTL_MAGIC, RING_MAGIC_VALUE ^ 1); }
static void other_layout(uint8_t *c) { poke32(c, CTL_LAYOUT, RING_LAYOUT_VERSION + 1); }
static void zero_control(uint8_t *c) { poke32(c, CTL_CONTROL_SIZE, 0); }
static void other_control(uint8_t *c) { poke32(c, CTL_CONTROL_SIZE, 2 * (uint32_t)page_size()); }
static void half_capacity(uint8_t *c) { poke64(c, CTL_CAPACITY, peek64(c, CTL_CAPACITY) / 2); }
static void zero_capacity(uint8_t *c) { poke64(c, CTL_CAPACITY, 0); }
static void huge_capacity(uint8_t *c) { poke64(c, CTL_CAPACITY, UINT64_MAX); }
static void no_creator(uint8_t *c) { poke32(c, CTL_CREATOR, 0); }
static void both_creators(uint8_t *c) { poke32(c, CTL_CREATOR, P | C); }
static void odd_creator(uint8_t *c) { poke32(c, CTL_CREATOR, 0x100 | P); }
static void odd_head(uint8_t *c) { poke64(c, CTL_HEAD, peek64(c, CTL_HEAD) + 1); }
static void odd_tail(uint8_t *c) { poke64(c, CTL_TAIL, peek64(c, CTL_TAIL) + 4); }
static void tail_past_head(uint8_t *c) { poke64(c, CTL_TAIL, peek64(c, CTL_HEAD) + 8); }
static void head_too_far(uint8_t *c)
{
	poke64(c, CTL_HEAD, peek64(c, CTL_TAIL) + peek64(c, CTL_CAPACITY) + 8);
}
static void full_ring(uint8_t *c)
{
	poke64(c, CTL_HEAD, peek64(c, CTL_TAIL) + peek64(c, CTL_CAPACITY));
}
static void consumer_made_it(uint8_t *c) { poke32(c, CTL_CREATOR, C); }
static void taken(uint8_t *c) { poke32(c, CTL_ATTACHED, 1); }
static void taken_garbage(uint8_t *c) { poke32(c, CTL_ATTACHED, 0xdeadbeef); }

START_TEST(test_ring_attach_checks_the_header)
{
	size_t page = page_size(), cap = 2 * page;
	static void (*const spoiled[])(uint8_t *) = {
		zero_magic, other_magic, other_layout, zero_control, other_control,
		half_capacity, zero_capacity, huge_capacity, no_creator, both_creators,
		odd_creator, odd_head, odd_tail, tail_past_head, head_too_far,
	};
	void (*const fine[])(uint8_t *) = { NULL, full_ring, consumer_made_it };
	struct mfd_ring *r;
	struct mfd *m;

	/* The test's own header is one the library takes, from either
	 * creator, with a full ring too. */
	for (size_t i = 0; i < ARRAY_SIZE(fine); i++) {
		m = crafted(page + cap, cap, RING_SEALS, fine[i]);
		r = NULL;
		ck_assert_int_eq(mfd_ring_attach(&r, m), 0);
		ck_assert_uint_eq(mfd_ring_capacity(r), cap);
		mfd_ring_free(r);
	}
	for (size_t i = 0; i < ARRAY_SIZE(spoiled); i++)
		assert_attach_refused(crafted(page + cap, cap, RING_SEALS, spoiled[i]), -EINVAL);
	/* Zeros are no ring. */
	m = NULL;
	ck_assert_int_eq(mfd_new(&m, "zeros", 0), 0);
	ck_assert_int_eq(mfd_set_size(m, page + cap), 0);
	ck_assert_int_eq(mfd_add_seals(m, RING_SEALS), 0);
	assert_attach_refused(m, -EINVAL);
	/* An end that is taken, whatever the flag holds. */
	assert_attach_refused(crafted(page + cap, cap, RING_SEALS, taken), -EBUSY);
	assert_attach_refused(crafted(page + cap, cap, RING_SEALS, taken_garbage), -EBUSY);
}
END_TEST

START_TEST(test_ring_attach_checks_size_and_seals)
{
	size_t page = page_size(), cap = 2 * page;
	static const unsigned int bad_seals[] = {
		0,
		F_SEAL_SHRINK | F_SEAL_GROW,
		F_SEAL_SHRINK | F_SEAL_SEAL,
		F_SEAL_GROW | F_SEAL_SEAL,
		RING_SEALS | F_SEAL_WRITE,
	};
	struct mfd_ring *r = NULL;
	struct mfd *m;

	for (size_t i = 0; i < ARRAY_SIZE(bad_seals); i++)
		assert_attach_refused(crafted(page + cap, cap, bad_seals[i], NULL), -EINVAL);
	if (kernel_has_future_write_seal())
		assert_attach_refused(crafted(page + cap, cap, RING_SEALS | F_SEAL_FUTURE_WRITE, NULL),
				      -EINVAL);
	else
		note_skipped("no F_SEAL_FUTURE_WRITE before Linux 5.1");
	/* Sizes that no capacity makes, and sizes the header disagrees with. */
	assert_attach_refused(crafted(0, cap, RING_SEALS, NULL), -EINVAL);
	assert_attach_refused(crafted(page, cap, RING_SEALS, NULL), -EINVAL);
	assert_attach_refused(crafted(page + page / 2, cap, RING_SEALS, NULL), -EINVAL);
	assert_attach_refused(crafted(page + 3 * page, 3 * page, RING_SEALS, NULL), -EINVAL);
	assert_attach_refused(crafted(page + cap + 8, cap, RING_SEALS, NULL), -EINVAL);
	assert_attach_refused(crafted(page + 2 * cap, cap, RING_SEALS, NULL), -EINVAL);
	assert_attach_refused(crafted(2 * page + cap, cap, RING_SEALS, NULL), -EINVAL);
	/* F_SEAL_EXEC, which every new memfd has on Linux 6.3, is ignored. */
	m = crafted(page + cap, cap, RING_SEALS, NULL);
	ck_assert_int_eq(mfd_ring_attach(&r, m), 0);
	mfd_ring_free(r);
}
END_TEST

/* An mmap refused at each step (the reservation, the control page, each
 * half of the data area) leaves nothing behind, and the end untaken. */
START_TEST(test_ring_mmap_refused_at_each_step)
{
	struct resources before;
	struct mfd_ring *r = POISON_PTR, *other = NULL;
	int reservations;
	struct mfd *m;

	ck_assert_int_eq(mfd_ring_new(&other, "steps", page_size(), P), 0);
	m = received(other);
	before = resources_now();
	reservations = reservations_now();
	for (int passed = 0; passed < 4; passed++) {
		fail_mmap_after(passed, ENOMEM);
		ck_assert_int_eq(mfd_ring_new(&r, "steps", page_size(), C), -ENOMEM);
		fail_mmap_after(passed, ENOMEM);
		ck_assert_int_eq(mfd_ring_attach(&r, m), -ENOMEM);
		ck_assert_ptr_eq(r, POISON_PTR);
		assert_nothing_left(before, reservations);
	}
	fail_mmap_after(-1, 0);
	/* Still free to take. */
	ck_assert_int_eq(mfd_ring_attach(&r, m), 0);
	mfd_ring_free(r);
	mfd_ring_free(other);
}
END_TEST

/* Not a memfd: a tmpfs file holding a perfect ring. */
START_TEST(test_ring_attach_refuses_other_files)
{
	size_t page = page_size(), cap = page;
	struct mfd *ring = crafted(page + cap, cap, RING_SEALS, NULL), *m = NULL;
	int fd = open_tmpfs_file();
	char *copy = malloc(page + cap);

	ck_assert_ptr_nonnull(copy);
	ck_assert_int_eq(mfd_pread(ring, copy, page + cap, 0), (ssize_t)(page + cap));
	ck_assert_int_eq(pwrite(fd, copy, page + cap, 0), (ssize_t)(page + cap));
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	assert_attach_refused(m, -EINVAL);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_eq(mfd_from_fd(&m, fd), 0);
	assert_attach_refused(m, -EINVAL);
	free(copy);
	mfd_free(ring);
}
END_TEST

START_TEST(test_ring_end_is_taken_once)
{
	size_t page = page_size();
	struct mfd_ring *r = NULL, *other = NULL;
	struct mfd *m;

	ck_assert_int_eq(mfd_ring_new(&r, "once", page, P), 0);
	ck_assert_int_eq(mfd_ring_attach(&other, received(r)), 0);
	/* Taken. */
	assert_attach_refused(received(r), -EBUSY);
	/* Taken once and freed. */
	mfd_ring_free(other);
	assert_attach_refused(received(r), -EBUSY);
	/* Never the creator's own end either. */
	m = received(r);
	mfd_ring_free(r);
	assert_attach_refused(m, -EBUSY);
}
END_TEST

/* The creator may be gone before the other end is taken: what it sent is
 * still read, then -EPIPE. */
START_TEST(test_ring_attach_after_the_creator_left)
{
	size_t page = page_size();
	struct mfd_ring *r = NULL;
	const void *p;
	struct mfd *m;
	void *w;
	char buf[16];

	ck_assert_int_eq(mfd_ring_new(&r, "orphan", page, P), 0);
	ck_assert_int_eq(mfd_ring_send(r, "last words", 10), 0);
	m = received(r);
	mfd_ring_free(r);
	ck_assert_int_eq(mfd_ring_attach(&r, m), 0);
	ck_assert_int_eq(mfd_ring_recv(r, buf, sizeof(buf)), 10);
	ck_assert_mem_eq(buf, "last words", 10);
	ck_assert_int_eq(mfd_ring_peek(r, &p), -EPIPE);
	ck_assert_int_eq(mfd_ring_wait(r, 0, -1), -EPIPE);
	mfd_ring_free(r);

	ck_assert_int_eq(mfd_ring_new(&r, "orphan", page, C), 0);
	m = received(r);
	mfd_ring_free(r);
	ck_assert_int_eq(mfd_ring_attach(&r, m), 0);
	ck_assert_int_eq(mfd_ring_reserve(r, 1, &w), -EPIPE);
	ck_assert_int_eq(mfd_ring_send(r, "x", 1), -EPIPE);
	ck_assert_int_eq(mfd_ring_wait(r, 1, -1), -EPIPE);
	mfd_ring_free(r);
}
END_TEST

/* Each end notes the CPU it publishes from, for the other's wait to
 * decide whether to spin (see mfd_ring_wait(3)). */
START_TEST(test_ring_notes_its_cpu)
{
	struct pair p = new_pair(page_size(), P);
	struct raw peer = raw_map(p.producer);
	cpu_set_t one;
	int cpu;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(one), &one), 0);
	for (cpu = 0; !CPU_ISSET(cpu, &one); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	ck_assert_int_eq(mfd_ring_send(p.producer, "x", 1), 0);
	ck_assert_uint_eq(peek32(peer.ctl, CTL_PRODUCER_CPU), (uint32_t)cpu + 1);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, (char[4]){ 0 }, 4), 1);
	ck_assert_uint_eq(peek32(peer.ctl, CTL_CONSUMER_CPU), (uint32_t)cpu + 1);
	raw_unmap(&peer);
	free_pair(&p);
}
END_TEST

/* --- the producer ----------------------------------------------------- */

START_TEST(test_ring_reserve_and_commit)
{
	size_t page = page_size(), cap = 4 * page;
	struct pair p = new_pair(cap, P);
	const void *got;
	void *w, *w2;

	/* Up to half the capacity fits in an empty ring, in place. */
	ck_assert_int_eq(mfd_ring_reserve(p.producer, cap / 2, &w), 0);
	fill(w, cap / 2, 1);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &got), -EAGAIN);
	ck_assert_int_eq(mfd_ring_commit(p.producer), 0);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &got), (ssize_t)(cap / 2));
	ck_assert(filled(got, cap / 2, 1));
	ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
	/* Nothing reserved any more. */
	ck_assert_int_eq(mfd_ring_commit(p.producer), -EINVAL);
	/* A second reserve replaces the first; a failed one changes nothing. */
	ck_assert_int_eq(mfd_ring_reserve(p.producer, 100, &w), 0);
	ck_assert_int_eq(mfd_ring_reserve(p.producer, 10, &w2), 0);
	ck_assert_ptr_eq(w, w2);
	w2 = POISON_PTR;
	ck_assert_int_eq(mfd_ring_reserve(p.producer, cap, &w2), -EMSGSIZE);
	ck_assert_ptr_eq(w2, POISON_PTR);
	memcpy(w, "0123456789", 10);
	ck_assert_int_eq(mfd_ring_commit(p.producer), 0);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &got), 10);
	ck_assert_mem_eq(got, "0123456789", 10);
	ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
	free_pair(&p);
}
END_TEST

START_TEST(test_ring_message_sizes)
{
	size_t page = page_size(), cap = 2 * page;
	struct pair p = new_pair(cap, C);
	struct resources before = resources_now();
	char *buf = malloc(cap);
	void *w = POISON_PTR;

	ck_assert_ptr_nonnull(buf);
	/* The largest a record can be: the whole ring, header included. */
	ck_assert_int_eq(mfd_ring_reserve(p.producer, cap - RECORD_HEADER + 1, &w), -EMSGSIZE);
	ck_assert_int_eq(mfd_ring_reserve(p.producer, SIZE_MAX, &w), -EMSGSIZE);
	ck_assert_int_eq(mfd_ring_send(p.producer, buf, cap), -EMSGSIZE);
	ck_assert_int_eq(mfd_ring_wait(p.producer, cap - RECORD_HEADER + 1, -1), -EMSGSIZE);
	ck_assert_ptr_eq(w, POISON_PTR);
	ck_assert_resources_unchanged(before);
	fill(buf, cap - RECORD_HEADER, 9);
	ck_assert_int_eq(mfd_ring_send(p.producer, buf, cap - RECORD_HEADER), 0);
	/* Full now: not even an empty message. */
	ck_assert_int_eq(mfd_ring_send(p.producer, NULL, 0), -EAGAIN);
	memset(buf, 0, cap);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, cap), (ssize_t)(cap - RECORD_HEADER));
	ck_assert(filled(buf, cap - RECORD_HEADER, 9));
	/* Empty messages are messages. */
	ck_assert_int_eq(mfd_ring_send(p.producer, NULL, 0), 0);
	ck_assert_int_eq(mfd_ring_send(p.producer, "", 0), 0);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, NULL, 0), 0);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, cap), 0);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, cap), -EAGAIN);
	free(buf);
	free_pair(&p);
}
END_TEST

START_TEST(test_ring_full_and_wrapped)
{
	size_t page = page_size(), cap = page;
	struct pair p = new_pair(cap, P);
	uint64_t sent = 0, got = 0;
	char buf[512];

	/* A message that straddles the end of the data area arrives whole:
	 * the mirror makes it one range. Every size crosses the end at some
	 * point, and the counts cross 2^64 after the first MiB. */
	for (int round = 0; round < 6000; round++) {
		size_t len = (size_t)(round * 37) % 300;
		int r;

		fill(buf, len, sent);
		r = mfd_ring_send(p.producer, buf, len);
		if (r == -EAGAIN) {
			/* Full: the room a record needs is not there. */
			ck_assert_int_eq(mfd_ring_wait(p.producer, len, 0), -ETIMEDOUT);
			while (mfd_ring_recv(p.consumer, buf, sizeof(buf)) >= 0) {
				got++;
			}
			ck_assert_int_eq(got, sent);
			ck_assert_int_eq(mfd_ring_wait(p.producer, len, 0), 0);
			fill(buf, len, sent);
			r = mfd_ring_send(p.producer, buf, len);
		}
		ck_assert_int_eq(r, 0);
		sent++;
		if (round % 3 == 0) {
			const void *m;
			ssize_t n = mfd_ring_peek(p.consumer, &m);

			ck_assert_int_ge(n, 0);
			ck_assert(filled(m, (size_t)n, got));
			ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
			got++;
		}
	}
	free_pair(&p);
}
END_TEST

START_TEST(test_ring_producer_calls_on_the_consumer)
{
	struct pair p = new_pair(page_size(), P);
	void *w = POISON_PTR;
	const void *r;

	ck_assert_int_eq(mfd_ring_reserve(p.consumer, 1, &w), -EINVAL);
	ck_assert_ptr_eq(w, POISON_PTR);
	ck_assert_int_eq(mfd_ring_commit(p.consumer), -EINVAL);
	ck_assert_int_eq(mfd_ring_send(p.consumer, "x", 1), -EINVAL);
	ck_assert_int_eq(mfd_ring_reserve(p.producer, 1, NULL), -EINVAL);
	ck_assert_int_eq(mfd_ring_send(p.producer, NULL, 1), -EINVAL);
	/* and the consumer's on the producer */
	ck_assert_int_eq(mfd_ring_peek(p.producer, &r), -EINVAL);
	ck_assert_int_eq(mfd_ring_release(p.producer), -EINVAL);
	ck_assert_int_eq(mfd_ring_recv(p.producer, (char[4]){ 0 }, 4), -EINVAL);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, NULL), -EINVAL);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, NULL, 1), -EINVAL);
	/* Nothing of it reached the ring. */
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &r), -EAGAIN);
	free_pair(&p);
}
END_TEST

/* A reservation that is not committed when the producer goes is dropped. */
START_TEST(test_ring_free_drops_a_reservation)
{
	struct pair p = new_pair(page_size(), C);
	const void *r;
	void *w;

	ck_assert_int_eq(mfd_ring_send(p.producer, "sent", 4), 0);
	ck_assert_int_eq(mfd_ring_reserve(p.producer, 8, &w), 0);
	memcpy(w, "reserved", 8);
	mfd_ring_free(p.producer);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &r), 4);
	ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &r), -EPIPE);
	mfd_ring_free(p.consumer);
}
END_TEST

START_TEST(test_ring_reserve_after_the_consumer_left)
{
	struct pair p = new_pair(page_size(), P);
	void *w = POISON_PTR;

	ck_assert_int_eq(mfd_ring_send(p.producer, "unread", 6), 0);
	mfd_ring_free(p.consumer);
	ck_assert_int_eq(mfd_ring_reserve(p.producer, 1, &w), -EPIPE);
	ck_assert_ptr_eq(w, POISON_PTR);
	ck_assert_int_eq(mfd_ring_send(p.producer, "x", 1), -EPIPE);
	ck_assert_int_eq(mfd_ring_wait(p.producer, 1, 0), -EPIPE);
	/* A message never fits: that is said first. */
	ck_assert_int_eq(mfd_ring_reserve(p.producer, SIZE_MAX, &w), -EMSGSIZE);
	mfd_ring_free(p.producer);
}
END_TEST

/* --- the consumer ----------------------------------------------------- */

START_TEST(test_ring_peek_and_release)
{
	struct pair p = new_pair(page_size(), P);
	const void *a = POISON_PTR, *b = NULL;

	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), -EAGAIN);
	ck_assert_ptr_eq(a, POISON_PTR);
	ck_assert_int_eq(mfd_ring_release(p.consumer), -EINVAL);
	ck_assert_int_eq(mfd_ring_send(p.producer, "first", 5), 0);
	ck_assert_int_eq(mfd_ring_send(p.producer, "second", 6), 0);
	/* Peeked again, the same message, until it is released. */
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), 5);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &b), 5);
	ck_assert_ptr_eq(a, b);
	ck_assert_mem_eq(a, "first", 5);
	ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
	ck_assert_int_eq(mfd_ring_release(p.consumer), -EINVAL);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), 6);
	ck_assert_mem_eq(a, "second", 6);
	/* recv takes the peeked message. */
	ck_assert_int_eq(mfd_ring_recv(p.consumer, (char[8]){ 0 }, 8), 6);
	ck_assert_int_eq(mfd_ring_release(p.consumer), -EINVAL);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), -EAGAIN);
	free_pair(&p);
}
END_TEST

START_TEST(test_ring_recv_too_small)
{
	struct pair p = new_pair(page_size(), P);
	char buf[16] = "unchanged";
	const void *a;

	ck_assert_int_eq(mfd_ring_send(p.producer, "a longer message", 16), 0);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, 15), -EMSGSIZE);
	ck_assert_str_eq(buf, "unchanged");
	ck_assert_int_eq(mfd_ring_recv(p.consumer, NULL, 0), -EMSGSIZE);
	/* It stays in the ring, and nothing was peeked. */
	ck_assert_int_eq(mfd_ring_release(p.consumer), -EINVAL);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), 16);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, 15), -EMSGSIZE);
	/* ... and a peek before a failed recv is still there. */
	ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, 16), -EAGAIN);
	free_pair(&p);
}
END_TEST

START_TEST(test_ring_drained_then_pipe)
{
	struct pair p = new_pair(page_size(), C);
	char buf[8];
	const void *a;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(mfd_ring_send(p.producer, "msg", 3), 0);
	mfd_ring_free(p.producer);
	/* In flight, still read; then the end. */
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, 0), 0);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), 3);
	ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), 3);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), 3);
	ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), -EPIPE);
	ck_assert_int_eq(mfd_ring_peek(p.consumer, &a), -EPIPE);
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, -1), -EPIPE);
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, 0), -EPIPE);
	mfd_ring_free(p.consumer);
}
END_TEST

/* Random sizes, in place and by copy, in one process. */
START_TEST(test_ring_random_messages_in_one_process)
{
	size_t cap = 16 * page_size();
	struct pair p = new_pair(cap, P);
	uint64_t rng = 0x9e3779b97f4a7c15ull, sent = 0, got = 0;
	long count = scaled(300000);
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	while (got < (uint64_t)count) {
		uint64_t dice = next_random(&rng);
		size_t len = dice % 64 == 0 ? (size_t)(dice >> 32) % (cap / 2) : (size_t)(dice >> 40) % 200;

		if (sent < (uint64_t)count && (dice >> 8) % 3 != 0) {
			void *w;
			int r = (dice >> 16) & 1 ? mfd_ring_reserve(p.producer, len, &w) : -ENOSYS;

			if (r == 0) {
				fill(w, len, sent);
				ck_assert_int_eq(mfd_ring_commit(p.producer), 0);
				sent++;
			} else if (r == -ENOSYS) {
				fill(buf, len, sent);
				r = mfd_ring_send(p.producer, buf, len);
				ck_assert(r == 0 || r == -EAGAIN);
				sent += r == 0;
			} else {
				ck_assert_int_eq(r, -EAGAIN);
			}
		} else if ((dice >> 16) & 1) {
			const void *m;
			ssize_t n = mfd_ring_peek(p.consumer, &m);

			if (n == -EAGAIN) {
				ck_assert_uint_eq(got, sent);
				continue;
			}
			ck_assert_int_ge(n, 0);
			ck_assert(filled(m, (size_t)n, got));
			ck_assert_int_eq(mfd_ring_release(p.consumer), 0);
			got++;
		} else {
			ssize_t n = mfd_ring_recv(p.consumer, buf, cap);

			if (n == -EAGAIN) {
				ck_assert_uint_eq(got, sent);
				continue;
			}
			ck_assert_int_ge(n, 0);
			ck_assert(filled(buf, (size_t)n, got));
			got++;
		}
	}
	free(buf);
	free_pair(&p);
}
END_TEST

/* --- waiting ---------------------------------------------------------- */

/* After a wait has returned, neither end says it sleeps: a sleeps word
 * left at 1 costs the other end a wake-up call on every message. */
static void assert_nobody_sleeps(const struct mfd_ring *r)
{
	struct raw peer = raw_map(r);

	ck_assert_uint_eq(peek32(peer.ctl, CTL_CONSUMER_SLEEPS), 0);
	ck_assert_uint_eq(peek32(peer.ctl, CTL_PRODUCER_SLEEPS), 0);
	raw_unmap(&peer);
}

START_TEST(test_ring_wait_times_out)
{
	size_t page = page_size();
	struct pair p = new_pair(page, P);
	int64_t start;

	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, 0), -ETIMEDOUT);
	start = now_ms();
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 12345, 50), -ETIMEDOUT);
	ck_assert_int_ge(now_ms() - start, 50);
	assert_nobody_sleeps(p.consumer);
	/* The producer of an empty ring goes on at once; of a full one, not. */
	ck_assert_int_eq(mfd_ring_wait(p.producer, page / 2, 0), 0);
	ck_assert_int_eq(mfd_ring_wait(p.producer, page - RECORD_HEADER, -1), 0);
	while (mfd_ring_send(p.producer, "x", 1) == 0)
		;
	ck_assert_int_eq(mfd_ring_wait(p.producer, 1, 0), -ETIMEDOUT);
	start = now_ms();
	ck_assert_int_eq(mfd_ring_wait(p.producer, 1, 30), -ETIMEDOUT);
	ck_assert_int_ge(now_ms() - start, 30);
	assert_nobody_sleeps(p.producer);
	/* Something to read: the consumer goes on at once. */
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, 0), 0);
	ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, -1), 0);
	free_pair(&p);
}
END_TEST

/* The ring's futex calls, shared ones (the C library's and valgrind's
 * own are private), kill the process that makes one. */
static const struct denial no_shared_futex[] = {
	{ .call = CALL_FUTEX, .err = KILL_THREAD, .when = { { 1, ARG_EQUALS, FUTEX_WAKE } } },
	{ .call = CALL_FUTEX, .err = KILL_THREAD, .when = { { 1, ARG_EQUALS, FUTEX_WAIT_BITSET } } },
};

/* No system call where it can go on at once, and none to wake an end
 * that does not sleep. */
static int ring_without_futex(void *unused)
{
	struct pair p = new_pair(page_size(), P);
	char buf[64];

	CHILD_CHECK(deny_syscalls(no_shared_futex, ARRAY_SIZE(no_shared_futex)) == 0);
	for (int i = 0; i < 10000; i++) {
		CHILD_CHECK(mfd_ring_wait(p.producer, 32, -1) == 0);
		CHILD_CHECK(mfd_ring_send(p.producer, buf, 32) == 0);
		CHILD_CHECK(mfd_ring_wait(p.consumer, 0, -1) == 0);
		CHILD_CHECK(mfd_ring_recv(p.consumer, buf, sizeof(buf)) == 32);
	}
	CHILD_CHECK(mfd_ring_wait(p.consumer, 0, 0) == -ETIMEDOUT);
	free_pair(&p);
	return 0;
}

/* The same filter kills a wait that has to sleep: the test sees calls. */
static int ring_sleeps_on_futex(void *unused)
{
	struct pair p = new_pair(page_size(), P);

	CHILD_CHECK(deny_syscalls(no_shared_futex, ARRAY_SIZE(no_shared_futex)) == 0);
	mfd_ring_wait(p.consumer, 0, 100);
	return 0;
}

START_TEST(test_ring_no_system_call_when_it_can_go_on)
{
	ck_assert_child_ok(ring_without_futex, NULL);
	ck_assert_int_eq(run_isolated(ring_sleeps_on_futex, NULL), INT32_MIN);
}
END_TEST

/*
 * A sleeper says it sleeps, then looks again (the top of lib/ring.c).
 * Between the two, where membarrier(2) is there, it calls membarrier
 * through syscall(), which this test binary defines (ring-helpers.h):
 * there, the other end's count changes behind its back, as a waker's
 * store does whose load of the sleeps word has not come yet. A sleeper
 * that looks after saying so sees it and goes on; one that looked before
 * (and would miss a wake-up whose load came first) calls FUTEX_WAIT,
 * which the hook notes, and then lets through (it clears the word, the
 * waker's part). Without membarrier, nothing comes between the store and
 * the look to stop at.
 */
struct sleep_order {
	struct raw peer;
	unsigned int sleeper;
	size_t capacity;
	int published;      /* at the sleeper's membarrier */
	uint32_t said;      /* its sleeps word then */
	int slept_anyway;   /* FUTEX_WAIT after that */
};

static int is_futex(long number)
{
#ifdef SYS_futex_time64
	if (number == SYS_futex_time64)
		return 1;
#endif
	return number == SYS_futex;
}

static void behind_its_back(long number, const long args[6], void *arg)
{
	struct sleep_order *o = arg;
	size_t word = o->sleeper == C ? CTL_CONSUMER_SLEEPS : CTL_PRODUCER_SLEEPS;
	uint8_t *ctl = o->peer.ctl;

	if (number == SYS_membarrier && args[0] == MEMBARRIER_CMD_GLOBAL_EXPEDITED &&
	    !o->published) {
		o->said = peek32(ctl, word);
		if (o->sleeper == C) {
			uint64_t head = peek64(ctl, CTL_HEAD);
			uint8_t *record = o->peer.data + (head & (o->capacity - 1));

			memcpy(record + RECORD_HEADER, "hello", 5);
			poke64(record, 0, 5);
			poke64(ctl, CTL_HEAD, head + RECORD_SIZE(5));
		} else {
			poke64(ctl, CTL_TAIL, peek64(ctl, CTL_HEAD));
		}
		o->published = 1;
	} else if (o->published && is_futex(number) &&
		   (args[1] & ~FUTEX_PRIVATE_FLAG) == FUTEX_WAIT_BITSET) {
		o->slept_anyway = 1;
		poke32(ctl, word, 0);
	}
}

START_TEST(test_ring_sleeper_says_so_then_looks)
{
	static const unsigned int sleepers[] = { C, P };

	for (size_t i = 0; i < ARRAY_SIZE(sleepers); i++) {
		size_t cap = page_size();
		struct pair p = new_pair(cap, P);
		struct sleep_order o = { raw_map(p.producer), sleepers[i], cap, 0, 0, 0 };
		struct mfd_ring *sleeper = o.sleeper == C ? p.consumer : p.producer;
		size_t length = o.sleeper == C ? 0 : cap - RECORD_HEADER;
		char buf[8];

		if (peek32(o.peer.ctl, o.sleeper == C ? CTL_CONSUMER_FENCES : CTL_PRODUCER_FENCES) !=
		    1) {
			note_skipped("no membarrier here: no call between saying and looking");
			raw_unmap(&o.peer);
			free_pair(&p);
			return;
		}
		if (o.sleeper == P)
			ck_assert_int_eq(mfd_ring_send(p.producer, "x", 1), 0);
		set_syscall_hook(behind_its_back, &o);
		ck_assert_int_eq(mfd_ring_wait(sleeper, length, PATIENCE_MS), 0);
		set_syscall_hook(NULL, NULL);
		ck_assert_int_eq(o.published, 1);
		ck_assert_uint_eq(o.said, 1);
		ck_assert_msg(!o.slept_anyway, "the %s slept on a count it had not looked at again",
			      o.sleeper == C ? "consumer" : "producer");
		assert_nobody_sleeps(sleeper);
		if (o.sleeper == C) {
			ck_assert_int_eq(mfd_ring_recv(p.consumer, buf, sizeof(buf)), 5);
			ck_assert_mem_eq(buf, "hello", 5);
		} else {
			void *w;

			ck_assert_int_eq(mfd_ring_reserve(p.producer, length, &w), 0);
		}
		raw_unmap(&o.peer);
		free_pair(&p);
	}
}
END_TEST

/* --- two processes ---------------------------------------------------- */

struct stream {
	long count;
	uint64_t seed;
	size_t capacity;
};

static size_t random_length(uint64_t *rng, size_t capacity)
{
	uint64_t dice = next_random(rng);

	if (dice % 1024 == 0)
		return (size_t)(dice >> 20) % (capacity / 2 + 1);
	if (dice % 16 == 0)
		return (size_t)(dice >> 20) % 4097;
	return (size_t)(dice >> 20) % 257;
}

/* Producer: count messages of random lengths, in place or by copy,
 * waiting for room when the ring is full, then gone. */
static int produce_stream(struct mfd_ring *r, const struct stream *s)
{
	uint64_t rng = s->seed;
	char *buf = malloc(s->capacity);

	CHILD_CHECK(buf != NULL);
	for (long seq = 0; seq < s->count; seq++) {
		size_t len = random_length(&rng, s->capacity);
		int in_place = (int)(next_random(&rng) & 1);
		void *w;
		int err;

		while ((err = in_place ? mfd_ring_reserve(r, len, &w) : -ENOSYS) == -EAGAIN ||
		       (err == -ENOSYS && (fill(buf, len, (uint64_t)seq),
					   (err = mfd_ring_send(r, buf, len)) == -EAGAIN)))
			CHILD_CHECK(mfd_ring_wait(r, len, PATIENCE_MS) == 0);
		CHILD_CHECK(err == 0);
		if (in_place) {
			fill(w, len, (uint64_t)seq);
			CHILD_CHECK(mfd_ring_commit(r) == 0);
		}
	}
	free(buf);
	return 0;
}

/* Consumer: the same messages, each byte checked, then -EPIPE. */
static int consume_stream(struct mfd_ring *r, const struct stream *s)
{
	uint64_t rng = s->seed;
	char *buf = malloc(s->capacity);

	CHILD_CHECK(buf != NULL);
	for (long seq = 0; seq < s->count; seq++) {
		size_t len = random_length(&rng, s->capacity);
		int in_place = (int)(next_random(&rng) & 2);
		const void *m;
		ssize_t n;

		while ((n = in_place ? mfd_ring_peek(r, &m) : mfd_ring_recv(r, buf, s->capacity)) ==
		       -EAGAIN)
			CHILD_CHECK(mfd_ring_wait(r, 0, PATIENCE_MS) == 0);
		CHILD_CHECK(n == (ssize_t)len);
		CHILD_CHECK(filled(in_place ? m : buf, len, (uint64_t)seq));
		if (in_place)
			CHILD_CHECK(mfd_ring_release(r) == 0);
	}
	CHILD_CHECK(mfd_ring_wait(r, 0, PATIENCE_MS) == -EPIPE);
	CHILD_CHECK(mfd_ring_recv(r, buf, s->capacity) == -EPIPE);
	free(buf);
	return 0;
}

static int stream_producer_child(int sock, void *arg)
{
	struct mfd_ring *r = take_ring(sock);
	int line;

	CHILD_CHECK(r != NULL);
	line = produce_stream(r, arg);
	mfd_ring_free(r);
	return line;
}

static int stream_consumer_child(int sock, void *arg)
{
	struct mfd_ring *r = take_ring(sock);
	int line;

	CHILD_CHECK(r != NULL);
	line = consume_stream(r, arg);
	mfd_ring_free(r);
	return line;
}

/* Millions of messages of random sizes between two processes, every byte
 * checked at the other end, across the wrap of the data area (thousands
 * of times) and of the counts. Each process creates the ring once. */
START_TEST(test_ring_stream_between_processes)
{
	struct stream s = { 2000000, 0x1234567887654321ull, 64 * 1024 };
	struct mfd_ring *r = NULL;
	struct child c;

	s.count = scaled(s.count);
	/* This process consumes; the child produces. */
	ck_assert_int_eq(mfd_ring_new(&r, "stream", s.capacity, C), 0);
	c = spawn(stream_producer_child, &s);
	give_ring(c.sock, r);
	ck_assert_int_eq(consume_stream(r, &s), 0);
	join(c);
	mfd_ring_free(r);

	/* This process produces; the child consumes. */
	s.seed ^= 0xffff;
	s.count /= 4;
	ck_assert_int_eq(mfd_ring_new(&r, "stream", s.capacity, P), 0);
	c = spawn(stream_consumer_child, &s);
	give_ring(c.sock, r);
	ck_assert_int_eq(produce_stream(r, &s), 0);
	mfd_ring_free(r);
	join(c);
}
END_TEST

/* Ping-pong over two rings: each wait sleeps or spins while the other
 * process works, and each message wakes it. */
START_TEST(test_ring_ping_pong_between_processes)
{
	struct mfd_ring *out = NULL, *in = NULL;
	long rounds = scaled(20000);
	char buf[64];
	struct child c;

	ck_assert_int_eq(mfd_ring_new(&out, "ping", page_size(), P), 0);
	ck_assert_int_eq(mfd_ring_new(&in, "pong", page_size(), C), 0);
	c = spawn(echo_child, NULL);
	give_ring(c.sock, out);
	give_ring(c.sock, in);
	for (long i = 0; i < rounds; i++) {
		ssize_t n;

		fill(buf, 64, (uint64_t)i);
		ck_assert_int_eq(mfd_ring_send(out, buf, 64), 0);
		memset(buf, 0, sizeof(buf));
		while ((n = mfd_ring_recv(in, buf, sizeof(buf))) == -EAGAIN)
			ck_assert_int_eq(mfd_ring_wait(in, 0, PATIENCE_MS), 0);
		ck_assert_int_eq(n, 64);
		ck_assert(filled(buf, 64, (uint64_t)i));
	}
	mfd_ring_free(out);
	ck_assert_int_eq(mfd_ring_wait(in, 0, PATIENCE_MS), -EPIPE);
	mfd_ring_free(in);
	join(c);
}
END_TEST

/*
 * The wait of a child woken by the parent: a wait for -EPIPE has a
 * timeout of GONE_MS and must end well before it (the other end's
 * mfd_ring_free wakes it; at the timeout it would find -EPIPE too), or
 * it returns -ETIMEDOUT in its place.
 */
#define GONE_MS 5000

static int timed_wait(struct mfd_ring *r, size_t length, int want)
{
	int64_t start = now_ms();
	int got;

	if (want != -EPIPE)
		return mfd_ring_wait(r, length, PATIENCE_MS);
	got = mfd_ring_wait(r, length, GONE_MS);
	if (got == -EPIPE && now_ms() - start >= GONE_MS / 2) {
		fprintf(stderr, "-EPIPE after %lld ms: not woken\n", (long long)(now_ms() - start));
		return -ETIMEDOUT;
	}
	return got;
}

/* A consumer that sleeps in mfd_ring_wait until the parent acts, and
 * checks that it got what the parent says it will (*arg). */
static int sleeping_consumer_child(int sock, void *arg)
{
	struct mfd_ring *r = take_ring(sock);
	const int *want = arg;
	char buf[64];
	int got;

	CHILD_CHECK(r != NULL);
	CHILD_CHECK(write(sock, "", 1) == 1); /* attached, about to wait */
	got = timed_wait(r, 0, *want);
	CHILD_CHECK(got == *want);
	if (got == 0) {
		/* What woke it is there. */
		CHILD_CHECK(mfd_ring_wait(r, 0, 0) == 0);
		CHILD_CHECK(mfd_ring_recv(r, buf, sizeof(buf)) == 5);
	}
	mfd_ring_free(r);
	return 0;
}

/* Give the child time to go to sleep; the wake-up must not depend on
 * whether it has. */
static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A child that takes the other end of a new ring, says it is about to
 * wait (or sleep), and is given time to: the wake-up must not depend on
 * whether it has. */
static struct child start_waiter(struct mfd_ring **r, unsigned int creator,
				 int (*fn)(int sock, void *arg), const int *arg, int delay_ms)
{
	struct child c;

	ck_assert_int_eq(mfd_ring_new(r, "wake", page_size(), creator), 0);
	c = spawn(fn, (void *)arg);
	give_ring(c.sock, *r);
	expect_byte(c.sock);
	pause_ms(delay_ms);
	return c;
}

START_TEST(test_ring_wait_wakes_across_processes)
{
	static const int data = 0, gone = -EPIPE;
	static const int delays[] = { 0, 1, 50 };
	struct mfd_ring *r;
	struct child c;

	for (size_t d = 0; d < ARRAY_SIZE(delays); d++) {
		/* Woken by a message. */
		c = start_waiter(&r, P, sleeping_consumer_child, &data, delays[d]);
		ck_assert_int_eq(mfd_ring_send(r, "hello", 5), 0);
		join(c);
		assert_nobody_sleeps(r);
		mfd_ring_free(r);

		/* Woken by the producer's going. */
		c = start_waiter(&r, P, sleeping_consumer_child, &gone, delays[d]);
		mfd_ring_free(r);
		join(c);
	}
}
END_TEST

/* A producer that sleeps on a full ring, woken by the consumer here. */
static int full_producer_child(int sock, void *arg)
{
	struct mfd_ring *r = take_ring(sock);
	const int *want = arg;
	char buf[100] = { 0 };
	int got;

	CHILD_CHECK(r != NULL);
	while (mfd_ring_send(r, buf, sizeof(buf)) == 0)
		;
	CHILD_CHECK(mfd_ring_wait(r, sizeof(buf), 0) == -ETIMEDOUT);
	CHILD_CHECK(write(sock, "", 1) == 1); /* full */
	got = timed_wait(r, sizeof(buf), *want);
	CHILD_CHECK(got == *want);
	if (got == 0)
		CHILD_CHECK(mfd_ring_send(r, buf, sizeof(buf)) == 0);
	mfd_ring_free(r);
	return 0;
}

START_TEST(test_ring_wait_for_room_across_processes)
{
	static const int room = 0, gone = -EPIPE;
	static const int delays[] = { 0, 50 };
	struct mfd_ring *r;
	struct child c;
	char buf[100];

	for (size_t d = 0; d < ARRAY_SIZE(delays); d++) {
		/* Woken by room freed. */
		c = start_waiter(&r, C, full_producer_child, &room, delays[d]);
		ck_assert_int_eq(mfd_ring_recv(r, buf, sizeof(buf)), 100);
		join(c);
		assert_nobody_sleeps(r);
		mfd_ring_free(r);

		/* Woken by the consumer's going, at once (M7 of the review
		 * slept until its timeout). */
		c = start_waiter(&r, C, full_producer_child, &gone, delays[d]);
		mfd_ring_free(r);
		join(c);
	}
}
END_TEST

/* --- signals ---------------------------------------------------------- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

/* -EINTR when a handler runs while the wait sleeps, SA_RESTART or not,
 * with a timeout and without one. */
START_TEST(test_ring_wait_interrupted)
{
	static const int flags[] = { 0, SA_RESTART };
	static const int timeouts[] = { -1, PATIENCE_MS };
	struct pair p = new_pair(page_size(), P);

	for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
		for (size_t t = 0; t < ARRAY_SIZE(timeouts); t++) {
			struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = flags[f] };
			struct itimerval once = { .it_value = { 0, 50000 } };
			int64_t start;

			sigemptyset(&sa.sa_mask);
			ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
			alarms = 0;
			start = now_ms();
			ck_assert_int_eq(setitimer(ITIMER_REAL, &once, NULL), 0);
			ck_assert_int_eq(mfd_ring_wait(p.consumer, 0, timeouts[t]), -EINTR);
			ck_assert_int_eq(alarms, 1);
			ck_assert_int_lt(now_ms() - start, PATIENCE_MS);
			/* A producer waiting for room, too. */
			if (t == 0) {
				while (mfd_ring_send(p.producer, "x", 1) == 0)
					;
				alarms = 0;
				ck_assert_int_eq(setitimer(ITIMER_REAL, &once, NULL), 0);
				ck_assert_int_eq(mfd_ring_wait(p.producer, 1, -1), -EINTR);
				ck_assert_int_eq(alarms, 1);
				while (mfd_ring_recv(p.consumer, (char[8]){ 0 }, 8) >= 0)
					;
			}
		}
	}
	signal(SIGALRM, SIG_DFL);
	free_pair(&p);
}
END_TEST

Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc;

	tc = tcase_with_leak_check("new");
	tcase_add_test(tc, test_ring_new);
	tcase_add_test(tc, test_ring_new_bad_arguments);
	tcase_add_test(tc, test_ring_new_beyond_file_size_limit);
	tcase_add_test(tc, test_ring_new_beyond_memlock_limit);
	tcase_add_test(tc, test_ring_null_handles);
	tcase_add_test(tc, test_ring_mapping_has_guard_pages);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("attach");
	tcase_add_test(tc, test_ring_attach_either_end);
	tcase_add_test(tc, test_ring_attach_bad_arguments);
	tcase_add_test(tc, test_ring_attach_checks_the_header);
	tcase_add_test(tc, test_ring_attach_checks_size_and_seals);
	tcase_add_test(tc, test_ring_attach_refuses_other_files);
	tcase_add_test(tc, test_ring_mmap_refused_at_each_step);
	tcase_add_test(tc, test_ring_notes_its_cpu);
	tcase_add_test(tc, test_ring_end_is_taken_once);
	tcase_add_test(tc, test_ring_attach_after_the_creator_left);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("messages");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ring_reserve_and_commit);
	tcase_add_test(tc, test_ring_message_sizes);
	tcase_add_test(tc, test_ring_full_and_wrapped);
	tcase_add_test(tc, test_ring_producer_calls_on_the_consumer);
	tcase_add_test(tc, test_ring_free_drops_a_reservation);
	tcase_add_test(tc, test_ring_reserve_after_the_consumer_left);
	tcase_add_test(tc, test_ring_peek_and_release);
	tcase_add_test(tc, test_ring_recv_too_small);
	tcase_add_test(tc, test_ring_drained_then_pipe);
	tcase_add_test(tc, test_ring_random_messages_in_one_process);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("wait");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ring_wait_times_out);
	tcase_add_test(tc, test_ring_no_system_call_when_it_can_go_on);
	tcase_add_test(tc, test_ring_sleeper_says_so_then_looks);
	tcase_add_test(tc, test_ring_wait_interrupted);
	tcase_add_test(tc, test_ring_wait_wakes_across_processes);
	tcase_add_test(tc, test_ring_wait_for_room_across_processes);
	suite_add_tcase(s, tc);

	tc = tcase_with_leak_check("processes");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ring_stream_between_processes);
	tcase_add_test(tc, test_ring_ping_pong_between_processes);
	suite_add_tcase(s, tc);

	return s;
}
