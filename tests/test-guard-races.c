/* SPDX-License-Identifier: MIT */
/*
 * The races of guard.c that no test from outside can hit at will: the
 * library is compiled into this program with LIBMEMFD_RACE_WINDOWS, and
 * mfd_race_window() makes happen, inside a window, what another thread
 * could have done there (unmap the mapping, map something else at its
 * address). Each window's re-check must then see it.
 */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard-helpers.h"
#include "libmemfd-private.h"
#include "syscall-filter.h"
#include "test-common.h"

#define EXIT_SKIP 77
#define RW (PROT_READ | PROT_WRITE)

static void (*_Atomic in_window[MFD_RACE_WINDOWS])(void);

void mfd_race_window(enum mfd_race_window window)
{
	void (*fn)(void) = atomic_exchange(&in_window[window], NULL);

	if (fn)
		fn();
}

static char *mapped;      /* the guarded mapping the window is about */
static int broken_fd = -1; /* a memfd of size 0: any page of it faults */

static struct mfd *other_file; /* for a guarded mapping made in a window */
static char *other;

/* Another thread's doing, in the handler's window: the guarded mapping is
 * unmapped (its entry is FREE, its range still there), and a mapping that
 * is not guarded, of a file that backs none of it, takes its address. */
static void unmap_and_map_unguarded(void)
{
	if (mfd_unmap(mapped, page_size()) != 0 ||
	    mmap(mapped, page_size(), PROT_READ, MAP_SHARED | MAP_FIXED, broken_fd, 0) != mapped)
		_exit(100);
}

/* The same, and a new guarded mapping elsewhere takes the entry: it is
 * LIVE again, for another range. */
static void unmap_map_unguarded_and_take_the_entry(void)
{
	void *p;

	unmap_and_map_unguarded();
	if (mfd_map(other_file, 0, 2 * page_size(), RW, LIBMEMFD_MAP_GUARD, &p) != 0)
		_exit(101);
	other = p;
}

static sigjmp_buf back;
static atomic_int program_handler_calls;

static void program_handler(int sig)
{
	atomic_fetch_add(&program_handler_calls, 1);
	siglongjmp(back, 1);
}

static int fault_after_the_mapping_went(void *arg)
{
	int taken = *(int *)arg;
	struct sigaction sa = { .sa_handler = program_handler };
	struct mfd *m = NULL, *broken = NULL;
	struct vma v;
	void *p;

	sigemptyset(&sa.sa_mask);
	CHILD_CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
	CHILD_CHECK(mfd_new(&m, "went", 0) == 0 && mfd_set_size(m, page_size()) == 0);
	CHILD_CHECK(mfd_new(&broken, "broken", 0) == 0);
	CHILD_CHECK(mfd_new(&other_file, "other", 0) == 0 &&
		    mfd_set_size(other_file, 2 * page_size()) == 0);
	broken_fd = mfd_fd(broken);
	CHILD_CHECK(mfd_map(m, 0, page_size(), RW, LIBMEMFD_MAP_GUARD, &p) == 0);
	mapped = p;
	CHILD_CHECK(peer_resize(mfd_fd(m), 0) == 0);
	atomic_store(&in_window[MFD_RACE_PIN],
		     taken ? unmap_map_unguarded_and_take_the_entry : unmap_and_map_unguarded);
	if (sigsetjmp(back, 1) == 0) {
		touch(mapped);
		return __LINE__;
	}
	/* The fault is the new mapping's, which no guard covers: it goes to
	 * the program's handler, and nothing was mapped over it. */
	CHILD_CHECK(atomic_load(&program_handler_calls) == 1);
	CHILD_CHECK(vma_at(mapped, &v) && v.file && v.perms[3] == 's');
	CHILD_CHECK(munmap(mapped, page_size()) == 0);
	CHILD_CHECK(!taken || mfd_unmap(other, 2 * page_size()) == 0);
	mfd_free(other_file);
	mfd_free(broken);
	mfd_free(m);
	return 0;
}

/* pin_if looks at an entry, then pins it: the entry may have been freed
 * in between (its range is no longer a guarded mapping's), or freed and
 * taken for another range. */
START_TEST(test_pin_of_an_entry_freed_meanwhile)
{
	int taken = 0;

	ck_assert_exited_ok(child_wait_status(fault_after_the_mapping_went, &taken, 30));
	taken = 1;
	ck_assert_exited_ok(child_wait_status(fault_after_the_mapping_went, &taken, 30));
}
END_TEST

/* Another thread's doing, in retire's window: the mapping being unmapped
 * is unmapped (a double unmap, from elsewhere) and something else is
 * mapped at its address... */
static void unmap_it_first(void)
{
	if (mfd_unmap(mapped, page_size()) != 0 ||
	    mmap(mapped, page_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    mapped)
		_exit(100);
}

/* ...and a new guarded mapping takes its entry. */
static void unmap_it_and_take_the_entry(void)
{
	void *p;

	unmap_it_first();
	if (mfd_map(other_file, 0, 2 * page_size(), RW, LIBMEMFD_MAP_GUARD, &p) != 0)
		_exit(101);
	other = p;
}

/* With the entry freed only, the mapping is no longer guarded: mfd_unmap
 * unmaps what is there, as munmap would. */
static int retire_of_an_entry_freed_meanwhile(void *arg)
{
	struct mfd *m = NULL;
	struct vma v;
	void *p;

	CHILD_CHECK(mfd_new(&m, "first", 0) == 0 && mfd_set_size(m, page_size()) == 0);
	CHILD_CHECK(mfd_map(m, 0, page_size(), RW, LIBMEMFD_MAP_GUARD, &p) == 0);
	mapped = p;
	atomic_store(&in_window[MFD_RACE_RETIRE], unmap_it_first);
	CHILD_CHECK(mfd_unmap(mapped, page_size()) == 0);
	CHILD_CHECK(!vma_at(mapped, &v) || v.start >= (uintptr_t)(mapped + page_size()) ||
		    strcmp(v.perms, "---p") != 0);
	mfd_free(m);
	return 0;
}

static int retire_of_an_entry_taken_meanwhile(void *arg)
{
	struct mfd *m = NULL;
	void *p;

	CHILD_CHECK(mfd_new(&m, "first", 0) == 0 && mfd_set_size(m, page_size()) == 0);
	CHILD_CHECK(mfd_new(&other_file, "other", 0) == 0 &&
		    mfd_set_size(other_file, 2 * page_size()) == 0);
	CHILD_CHECK(mfd_map(m, 0, page_size(), RW, LIBMEMFD_MAP_GUARD, &p) == 0);
	mapped = p;
	atomic_store(&in_window[MFD_RACE_RETIRE], unmap_it_and_take_the_entry);
	CHILD_CHECK(mfd_unmap(mapped, page_size()) == 0);
	CHILD_CHECK(other && (other + 2 * page_size() <= mapped || other >= mapped + page_size()));
	/* The new mapping is still guarded. */
	CHILD_CHECK(peer_resize(mfd_fd(other_file), 0) == 0);
	CHILD_CHECK(touch(other + page_size()) == 0);
	CHILD_CHECK(mfd_map_faulted(other) == 1);
	CHILD_CHECK(mfd_unmap(other, 2 * page_size()) == 0);
	mfd_free(other_file);
	mfd_free(m);
	return 0;
}

/* retire reads an entry's range, then claims it: the entry may have been
 * freed in between, or freed and taken for another mapping. */
START_TEST(test_retire_of_an_entry_taken_meanwhile)
{
	ck_assert_exited_ok(child_wait_status(retire_of_an_entry_freed_meanwhile, NULL, 30));
	ck_assert_exited_ok(child_wait_status(retire_of_an_entry_taken_meanwhile, NULL, 30));
}
END_TEST

static struct mfd_guard *taken_first;

/* Another thread's doing, in the window of a registration: it takes the
 * free entry first (claim), or grows the registry first (grow). */
static void reserve_first(void)
{
	if (mfd_guard_reserve(&taken_first) != 0)
		_exit(100);
}

/* The mapping made while another thread took the entry it looked at, or
 * grew the registry at the same moment, is guarded all the same. */
static int register_meanwhile(void *arg)
{
	enum mfd_race_window window = *(enum mfd_race_window *)arg;
	struct mfd *m = NULL;
	void *p;

	CHILD_CHECK(mfd_new(&m, "meanwhile", 0) == 0 && mfd_set_size(m, 2 * page_size()) == 0);
	if (window == MFD_RACE_CLAIM) {
		/* A free entry to look at. */
		CHILD_CHECK(mfd_map(m, 0, page_size(), RW, LIBMEMFD_MAP_GUARD, &p) == 0);
		CHILD_CHECK(mfd_unmap(p, page_size()) == 0);
	}
	atomic_store(&in_window[window], reserve_first);
	CHILD_CHECK(mfd_map(m, 0, 2 * page_size(), RW, LIBMEMFD_MAP_GUARD, &p) == 0);
	CHILD_CHECK(taken_first);
	mfd_guard_cancel(taken_first);
	CHILD_CHECK(peer_resize(mfd_fd(m), 0) == 0);
	CHILD_CHECK(touch((char *)p + page_size()) == 0 && mfd_map_faulted(p) == 1);
	CHILD_CHECK(mfd_unmap(p, 2 * page_size()) == 0);
	mfd_free(m);
	return 0;
}

START_TEST(test_registration_races)
{
	enum mfd_race_window window = MFD_RACE_CLAIM;

	ck_assert_exited_ok(child_wait_status(register_meanwhile, &window, 30));
	window = MFD_RACE_GROW;
	ck_assert_exited_ok(child_wait_status(register_meanwhile, &window, 30));
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	if (!mfd_kernel_supported()) {
		fprintf(stderr, "SKIP: this kernel has no memfd_create\n");
		return EXIT_SKIP;
	}
	s = suite_create("guard_races");
	tc = tcase_with_leak_check("guard_races");
	tcase_add_checked_fixture(tc, grow_stack, NULL);
	tcase_add_test(tc, test_pin_of_an_entry_freed_meanwhile);
	tcase_add_test(tc, test_retire_of_an_entry_taken_meanwhile);
	tcase_add_test(tc, test_registration_races);
	suite_add_tcase(s, tc);

	return run_suites(srunner_create(s));
}
