/* SPDX-License-Identifier: MIT */
/*
 * sigaction, mmap, munmap and madvise, defined by the test binary so that the
 * library's calls bind to these (see interpose.c): they count the SIGBUS
 * handlers installed and can hold a repair's mmap or its probe, then pass
 * on to the C library's; mmap fails first where interpose.c's
 * fail_mmap_after() asks (no test asks while a handler may run).
 * They run in signal handlers, so they only use atomics and nanosleep, and
 * the C library's functions are looked up before main; what calls them
 * earlier still (a sanitizer's runtime, as it starts) looks them up then.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "interpose-guard.h"
#include "interpose.h"

#if defined(__ILP32__) || (!defined(__LP64__) && !defined(_LP64))
#define MMAP_NAME "mmap64"
#else
#define MMAP_NAME "mmap"
#endif

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*madvise_fn)(void *, size_t, int);
typedef int (*munmap_fn)(void *, size_t);

static sigaction_fn real_sigaction;
static mmap_fn real_mmap;
static madvise_fn real_madvise;
static munmap_fn real_munmap;

static atomic_int handlers_set;
static void (*_Atomic at_default)(void);
static void (*_Atomic default_handler)(int);
static atomic_int holding, held, mapped, faking, slow, to_raise;

__attribute__((constructor)) static void find_real_functions(void)
{
	if (!real_sigaction)
		real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
	if (!real_mmap)
		real_mmap = (mmap_fn)dlsym(RTLD_NEXT, MMAP_NAME);
	if (!real_madvise)
		real_madvise = (madvise_fn)dlsym(RTLD_NEXT, "madvise");
	if (!real_munmap)
		real_munmap = (munmap_fn)dlsym(RTLD_NEXT, "munmap");
}

static void nap(void);

/* Hold the library's sigaction that installs its handler, if what says so. */
static void hold_install(int sig, const struct sigaction *act, enum hold what)
{
	if (sig == SIGBUS && act && (act->sa_flags & SA_SIGINFO) &&
	    atomic_load(&holding) == (int)what && !atomic_exchange(&held, 1)) {
		while (atomic_load(&holding) == (int)what)
			nap();
	}
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int r;

	hold_install(sig, act, HOLD_INSTALL);
	if (sig == SIGBUS && act) {
		atomic_fetch_add(&handlers_set, 1);
		if (!(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL) {
			void (*fn)(void) = atomic_exchange(&at_default, NULL);

			if (fn)
				fn();
		}
	}
	find_real_functions();
	if (sig == SIGBUS && act && !(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL &&
	    atomic_load(&default_handler)) {
		struct sigaction instead = *act;

		instead.sa_handler = atomic_load(&default_handler);
		return real_sigaction(sig, &instead, old);
	}
	r = real_sigaction(sig, act, old);
	hold_install(sig, act, HOLD_INSTALLED);
	return r;
}

int sigbus_handlers_set(void)
{
	return atomic_load(&handlers_set);
}

static void nap(void)
{
	struct timespec ms = { 0, 1000 * 1000 };

	nanosleep(&ms, NULL);
}

static void wait_if_held(enum hold what)
{
	if (atomic_load(&holding) != (int)what)
		return;
	atomic_store(&held, 1);
	while (atomic_load(&holding) == (int)what)
		nap();
}

#define REPAIR_FLAGS (MAP_FIXED | MAP_ANONYMOUS)

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	void *p;
	int err = mmap_failure_due();

	if (err) {
		errno = err;
		return MAP_FAILED;
	}
	if ((flags & REPAIR_FLAGS) == REPAIR_FLAGS)
		wait_if_held(HOLD_REPAIR);
	find_real_functions();
	p = real_mmap(addr, length, prot, flags, fd, offset);
	if ((flags & REPAIR_FLAGS) == REPAIR_FLAGS && p != MAP_FAILED)
		atomic_store(&mapped, 1);
	return p;
}

int munmap(void *addr, size_t length)
{
	struct timespec nap = { 0, 20 * 1000 };
	int r;

	find_real_functions();
	r = real_munmap(addr, length);
	if (atomic_load(&slow))
		nanosleep(&nap, NULL);
	return r;
}

int madvise(void *addr, size_t length, int advice)
{
	int sig = atomic_exchange(&to_raise, 0);

	if (sig)
		raise(sig);
	wait_if_held(HOLD_PROBE);
	if (atomic_load(&faking))
		return 0;
	find_real_functions();
	return real_madvise(addr, length, advice);
}

void hold(enum hold what)
{
	atomic_store(&held, 0);
	atomic_store(&mapped, 0);
	atomic_store(&holding, (int)what);
}

int wait_for_hold(int timeout_ms)
{
	for (int i = 0; i < timeout_ms && !atomic_load(&held); i++)
		nap();
	return atomic_load(&held);
}

void release(void)
{
	atomic_store(&holding, 0);
}

int repair_mapped(void)
{
	return atomic_load(&mapped);
}

void fake_probes(int on)
{
	atomic_store(&faking, on);
}

void slow_munmaps(int on)
{
	atomic_store(&slow, on);
}

void raise_at_probe(int sig)
{
	atomic_store(&to_raise, sig);
}

void at_sigbus_default(void (*fn)(void))
{
	atomic_store(&at_default, fn);
}

void default_means(void (*handler)(int))
{
	atomic_store(&default_handler, handler);
}
