/* SPDX-License-Identifier: MIT */
/*
 * guarded mappings: memory a peer may shrink, whose pages the file can no
 * longer back are replaced, from a SIGBUS handler, by private zero-filled
 * pages instead of killing the process.
 *
 * The registry is a list of chunks of entries that only ever grows: the
 * handler walks it without a lock, so nothing it may be reading is ever
 * freed. Each entry is claimed, published, retired and freed through one
 * atomic word that holds its state and the number of handlers that have it
 * pinned; see "Memory ordering" below.
 */
#include "libmemfd-private.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#endif
#ifndef BUS_MCEERR_AO
#define BUS_MCEERR_AO 5
#endif

/*
 * An entry's word: its state in the top two bits, pins below.
 *
 * FREE -> FILLING (mfd_map took it) -> LIVE (published) -> DYING (mfd_unmap
 * retired it) -> FREE; FILLING -> FREE when the mmap failed, DYING -> LIVE
 * when the munmap did. Every change is one atomic add to the word, so the
 * pins are carried across it.
 */
enum { FREE, FILLING, LIVE, DYING };
#define STATE_SHIFT 30
#define STATE(state) ((uint32_t)(state) << STATE_SHIFT)
#define PINS_MASK (STATE(1) - 1)

struct mfd_guard {
	_Atomic uint32_t word;
	/* The thread that is repairing this mapping, 0 for none; a futex
	 * that the threads in waiters wait on. */
	_Atomic pid_t repairer;
	atomic_int waiters;
	/* A page has been replaced since mfd_map made it. */
	atomic_bool faulted;
	/* Read without a pin while the handler looks for its entry, so
	 * atomic; they change only in FILLING. */
	_Atomic uintptr_t start;
	_Atomic size_t length; /* whole granules */
	/* Read only by whoever has the entry pinned LIVE, or owns it. */
	size_t granule; /* the page size, or the huge page size */
	int prot;
};

struct chunk {
	struct chunk *next; /* older chunks; never changes once pushed */
	size_t count;
	struct mfd_guard entries[];
};

static _Atomic(struct chunk *) chunks;
static _Atomic size_t entries_total;

#define FIRST_CHUNK 32

static uint32_t state_of(uint32_t word)
{
	return word >> STATE_SHIFT;
}

static uint32_t pins_of(uint32_t word)
{
	return word & PINS_MASK;
}

/* Move an entry from one state to another, keeping its pins. */
static void set_state(struct mfd_guard *g, uint32_t from, uint32_t to, memory_order order)
{
	atomic_fetch_add_explicit(&g->word, STATE(to) - STATE(from), order);
}

static int contains(struct mfd_guard *g, uintptr_t addr)
{
	uintptr_t start = atomic_load_explicit(&g->start, memory_order_relaxed);

	return addr >= start && addr - start < atomic_load_explicit(&g->length, memory_order_relaxed);
}

static int starts_at(struct mfd_guard *g, uintptr_t addr)
{
	return atomic_load_explicit(&g->start, memory_order_relaxed) == addr;
}

static int ends_at(struct mfd_guard *g, uintptr_t addr)
{
	return atomic_load_explicit(&g->start, memory_order_relaxed) +
		       atomic_load_explicit(&g->length, memory_order_relaxed) == addr;
}

/*
 * Memory ordering. The handler pins an entry (an acquire increment of its
 * word) before it trusts the entry's fields, and unpins it (a release
 * decrement) after its last mmap. mfd_unmap retires an entry by an add to
 * the same word (LIVE -> DYING) and then waits until it reads no pins
 * (acquire) before the munmap. All of these are read-modify-writes of one
 * atomic object, so they fall in one modification order: a pin ordered
 * after the retirement sees DYING and lets go without repairing; a pin
 * ordered before it is counted in the word that the retirement carried
 * over, and the munmap waits for its unpin. That unpin is a release read by
 * the waiter's acquire load, so the repair's mmap happens before the
 * munmap: a replacement page can never land on an address that was given
 * back, where another mapping may now be. Publication (FILLING -> LIVE) is
 * a release, so a pin that sees LIVE also sees the fields written before.
 */
static struct mfd_guard *pin_if(struct mfd_guard *g, int (*match)(struct mfd_guard *, uintptr_t),
				uintptr_t addr)
{
	uint32_t word;

	if (state_of(atomic_load_explicit(&g->word, memory_order_relaxed)) != LIVE || !match(g, addr))
		return NULL;
	MFD_RACE_WINDOW(MFD_RACE_PIN);
	word = atomic_fetch_add_explicit(&g->word, 1, memory_order_acquire);
	if (state_of(word) == LIVE && match(g, addr))
		return g;
	atomic_fetch_sub_explicit(&g->word, 1, memory_order_release);
	return NULL;
}

static void unpin(struct mfd_guard *g)
{
	atomic_fetch_sub_explicit(&g->word, 1, memory_order_release);
}

/* The LIVE entry that match() picks for addr, pinned; async-signal-safe. */
static struct mfd_guard *find_and_pin(int (*match)(struct mfd_guard *, uintptr_t), uintptr_t addr)
{
	for (struct chunk *c = atomic_load_explicit(&chunks, memory_order_acquire); c; c = c->next) {
		for (size_t i = 0; i < c->count; i++) {
			struct mfd_guard *g = pin_if(&c->entries[i], match, addr);

			if (g)
				return g;
		}
	}
	return NULL;
}

/* Repairs ------------------------------------------------------------------ */

static pid_t this_thread(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Whether the access that faulted was a write: 1 or 0 where the machine
 * says (x86 puts the page fault's error code in the context, bit 1 for a
 * write), -1 where it does not.
 */
static int fault_was_write(const void *ucontext)
{
#if defined(__x86_64__) || defined(__i386__)
	if (ucontext)
		return (((const ucontext_t *)ucontext)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#else
	(void)ucontext;
#endif
	return -1;
}

enum verdict { BACKED, BROKEN, CANNOT_TELL };

/*
 * MADV_POPULATE_READ/WRITE fault the range in as a read or a write would,
 * and answer EFAULT where that access would raise SIGBUS. EINVAL is a
 * kernel before 5.14, or a mapping the access type does not apply to
 * (MADV_POPULATE_READ without PROT_READ): that probe cannot tell.
 */
static enum verdict probe(uintptr_t page, size_t length, int advice)
{
	if (madvise((void *)page, length, advice) == 0)
		return BACKED;
	return errno == EINVAL ? CANNOT_TELL : BROKEN;
}

/*
 * Whether the access that faulted at page would fault again, probed as it
 * was made: a write can fault where a read would not (a hole of a sparse
 * file on a full disk needs a block only to be written). Where the machine
 * does not say which it was, a writable mapping is probed for writing.
 * When no probe can tell, the fault is taken at its word.
 */
static int would_fault(uintptr_t page, size_t length, int prot, const void *ucontext)
{
	int known = fault_was_write(ucontext), write, first, second;
	enum verdict v;

	write = known < 0 ? (prot & PROT_WRITE) != 0 : known;
	first = write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
	/* A page backed for writing is backed for reading too, not the
	 * other way: a known write has no second probe. */
	second = !write ? MADV_POPULATE_WRITE : known < 0 ? MADV_POPULATE_READ : 0;
	v = probe(page, length, first);
	if (v == CANNOT_TELL && second)
		v = probe(page, length, second);
	return v != BACKED;
}

/*
 * A fault at a page that the probe finds backed may be a race (another
 * thread replaced it, the file grew back) or a fault that no probe sees:
 * the first few times in a row at one page, in one thread, the access is
 * let go on; after that the page is taken for broken, rather than fault
 * for ever. Per thread, since a thread that faults for ever faults at the
 * same page each time; initial-exec, so that the handler may touch it.
 */
#define FAULTS_AT_A_BACKED_PAGE 3

static __thread struct {
	uintptr_t page;
	unsigned int times;
} backed_faults __attribute__((tls_model("initial-exec")));

static int faulting_for_ever(uintptr_t page)
{
	if (backed_faults.page != page) {
		backed_faults.page = page;
		backed_faults.times = 0;
	}
	return ++backed_faults.times > FAULTS_AT_A_BACKED_PAGE;
}

static void fault_repaired(void)
{
	backed_faults.page = 0;
}

/*
 * Whether the granule at page still cannot be backed. Another thread may
 * have replaced it already, or the file grown back under it: then it is
 * left as it is, and no write that went there since is lost.
 */
static int still_broken(const struct mfd_guard *g, uintptr_t page, const void *ucontext)
{
	return would_fault(page, g->granule, g->prot, ucontext) || faulting_for_ever(page);
}

static int replace(const struct mfd_guard *g, uintptr_t addr, size_t length)
{
	return mmap((void *)addr, length, g->prot,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) != MAP_FAILED;
}

static uintptr_t start_of(struct mfd_guard *g)
{
	return atomic_load_explicit(&g->start, memory_order_relaxed);
}

static uintptr_t end_of(struct mfd_guard *g)
{
	return start_of(g) + atomic_load_explicit(&g->length, memory_order_relaxed);
}

/* The guarded mapping that starts or ends at addr, pinned, if it has g's
 * protection (which a neighbour the kernel merged g's mapping with has). */
static struct mfd_guard *pin_neighbour(const struct mfd_guard *g,
				       int (*match)(struct mfd_guard *, uintptr_t), uintptr_t addr)
{
	struct mfd_guard *n = find_and_pin(match, addr);

	if (n && n->prot != g->prot) {
		unpin(n);
		n = NULL;
	}
	return n;
}

/*
 * At vm.max_map_count, where even replacing the whole mapping failed: the
 * kernel merged its mapping with neighbours, guarded mappings of the same
 * file at the next offsets, and replacing a part in the middle of the
 * merged one needs a split (a part at either end needs none). Replace it
 * with the run of guarded mappings of its protection below it, else with
 * the run above (up to NEIGHBOURS_MAX neighbours in all, pinned
 * meanwhile), in one mmap, the entries replaced marked faulted: the pages
 * of the other run stay the file's. Where the merged mapping reaches
 * beyond the runs on both sides (into mappings that are not guarded),
 * nothing can be done.
 */
#define NEIGHBOURS_MAX 64

static int replace_run(struct mfd_guard *g, struct mfd_guard **pinned, size_t from, size_t to)
{
	uintptr_t start = start_of(g), end = end_of(g);

	for (size_t i = from; i < to; i++) {
		start = start_of(pinned[i]) < start ? start_of(pinned[i]) : start;
		end = end_of(pinned[i]) > end ? end_of(pinned[i]) : end;
	}
	if (!replace(g, start, end - start))
		return 0;
	for (size_t i = from; i < to; i++)
		atomic_store_explicit(&pinned[i]->faulted, true, memory_order_relaxed);
	return 1;
}

static int replace_with_neighbours(struct mfd_guard *g)
{
	struct mfd_guard *pinned[NEIGHBOURS_MAX], *n;
	uintptr_t edge = start_of(g);
	size_t count = 0, below;
	int done;

	while (count < NEIGHBOURS_MAX && (n = pin_neighbour(g, ends_at, edge))) {
		pinned[count++] = n;
		edge = start_of(n);
	}
	below = count;
	edge = end_of(g);
	while (count < NEIGHBOURS_MAX && (n = pin_neighbour(g, starts_at, edge))) {
		pinned[count++] = n;
		edge = end_of(n);
	}
	/* A run that reaches neither end of the merged mapping needs a
	 * split, and so would both runs together. */
	done = (below > 0 && replace_run(g, pinned, 0, below)) ||
	       (count > below && errno == ENOMEM && replace_run(g, pinned, below, count));
	for (size_t i = 0; i < count; i++)
		unpin(pinned[i]);
	return done;
}

#ifndef SYS_futex
#define SYS_futex SYS_futex_time64 /* 32-bit machines born with a 64-bit time_t */
#endif

/*
 * Sleep until the repair that owner is making of g ends: a thread that
 * returned to fault again at once would spin, and one of a real-time
 * priority would keep the repairer from the CPU. Sequentially consistent,
 * with end_repair(): either the repairer sees the waiter, or the waiter's
 * futex sees the repairer gone.
 */
static void wait_for_repair(struct mfd_guard *g, pid_t owner)
{
	atomic_fetch_add(&g->waiters, 1);
	syscall(SYS_futex, &g->repairer, FUTEX_WAIT_PRIVATE, owner, NULL, NULL, 0);
	atomic_fetch_sub(&g->waiters, 1);
}

static void end_repair(struct mfd_guard *g)
{
	atomic_store(&g->repairer, 0);
	if (atomic_load(&g->waiters))
		syscall(SYS_futex, &g->repairer, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/*
 * A fault in a guarded mapping: replace the granule that faulted. 1 when
 * the access can go on (repaired, or repaired by another thread meanwhile:
 * the access then finds the new page, or faults again), 0 when this is no
 * fault of a guarded mapping or it could not be repaired.
 *
 * One thread repairs a mapping at a time, so that a page another thread
 * has just replaced and written is not replaced again under it; a thread
 * that finds a repair in progress waits for its end. Every catchable
 * signal is blocked meanwhile (the handler's sa_mask, or
 * mfd_handle_sigbus), so no handler of the program's can leave a repair
 * half made (siglongjmp) with the entry pinned and its repairer set, nor
 * come back into one.
 */
static int repair(const siginfo_t *info, const void *ucontext)
{
	uintptr_t addr = (uintptr_t)info->si_addr, page;
	struct mfd_guard *g;
	pid_t owner = 0;
	int done = 1;

	if (info->si_signo != SIGBUS || info->si_code != BUS_ADRERR)
		return 0;
	g = find_and_pin(contains, addr);
	if (!g)
		return 0;
	if (!atomic_compare_exchange_strong_explicit(&g->repairer, &owner, this_thread(),
						     memory_order_acquire, memory_order_relaxed)) {
		unpin(g);
		wait_for_repair(g, owner);
		return 1;
	}
	page = addr & ~(uintptr_t)(g->granule - 1);
	if (still_broken(g, page, ucontext)) {
		/* Each replaced page splits the mapping: at vm.max_map_count
		 * (ENOMEM) only replacing all of it needs no new mapping. */
		done = replace(g, page, g->granule) ||
		       (errno == ENOMEM && (replace(g, start_of(g), end_of(g) - start_of(g)) ||
					    (errno == ENOMEM && replace_with_neighbours(g))));
		if (done) {
			atomic_store_explicit(&g->faulted, true, memory_order_relaxed);
			fault_repaired();
		}
	}
	end_repair(g);
	unpin(g);
	return done;
}

/* The handler and what was there before it --------------------------------- */

/*
 * The disposition the library's handler replaced: what the sigaction that
 * installed it returned, written just after (see install_handler), never
 * changed after; installed says it has been (release).
 */
static struct sigaction previous;
static atomic_bool installed;
/* SA_RESETHAND: the previous handler has had its one call. */
static atomic_bool previous_used;

/* The faults that happen again when the access is made again. */
static int faults_again(const siginfo_t *info)
{
	switch (info->si_code) {
	case BUS_ADRALN:
	case BUS_ADRERR:
	case BUS_OBJERR:
	case BUS_MCEERR_AR:
		return 1;
	default:
		return 0;
	}
}

/* The page size, for the handler: set before it is installed. */
static size_t handler_page_size;

/*
 * Whether a fault outside the guarded mappings happens again when the
 * access is made again: probed as for a guarded mapping, of a protection
 * not known (a probe for writing that cannot tell is followed by one for
 * reading).
 */
static int fault_persists(const siginfo_t *info, const void *ucontext)
{
	uintptr_t at = (uintptr_t)info->si_addr & ~(uintptr_t)(handler_page_size - 1);

	return would_fault(at, handler_page_size, PROT_READ | PROT_WRITE, ucontext) ||
	       faulting_for_ever(at);
}

/*
 * End the process as the default action would. A fault is left to happen
 * again under SIG_DFL once the handler returns: the process ends at the
 * access itself, with the kernel's own siginfo, and a core shows that
 * access on top rather than this handler. Should the file have grown back
 * meanwhile (the probe after SIG_DFL is set finds the page backed), the
 * handler that was there is put back before the access goes on, so that
 * one fault elsewhere does not leave the process unguarded for good. What
 * was sent is sent again, as it was.
 */
static void as_default(int sig, siginfo_t *info, void *ucontext)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, was;

	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, &was);
	if (info && faults_again(info)) {
		if (info->si_code == BUS_ADRERR && !fault_persists(info, ucontext))
			sigaction(sig, &was, NULL);
		return;
	}
	if (!info || syscall(SYS_rt_tgsigqueueinfo, getpid(), this_thread(), sig, info) < 0)
		raise(sig);
}

/*
 * What the kernel does when it delivers to the program's own handler: the
 * mask is the interrupted code's, its sa_mask and the signal (unless
 * SA_NODEFER) added, not the library's handler's (everything). Without a
 * context (the library's handler called by a program's, as a function),
 * the caller's mask stands for it.
 */
static void call_program_handler(const struct sigaction *sa, int sig, siginfo_t *info,
				 void *ucontext, int saved_errno)
{
	sigset_t mask, ours;
	int err;

	if (ucontext)
		mask = ((const ucontext_t *)ucontext)->uc_sigmask;
	else
		pthread_sigmask(SIG_BLOCK, NULL, &mask);
	sigorset(&mask, &mask, &sa->sa_mask);
	if (!(sa->sa_flags & SA_NODEFER))
		sigaddset(&mask, sig);
	pthread_sigmask(SIG_SETMASK, &mask, &ours);
	errno = saved_errno;
	if (sa->sa_flags & SA_SIGINFO)
		sa->sa_sigaction(sig, info, ucontext);
	else
		sa->sa_handler(sig);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &ours, NULL);
	errno = err;
}

/* A SIGBUS that is no fault of a guarded mapping, as if libmemfd were absent. */
static void chain(int sig, siginfo_t *info, void *ucontext, int saved_errno)
{
	void (*handler)(int);
	int code = info ? info->si_code : SI_USER;

	/* Another thread's SIGBUS may come between the sigaction that
	 * installed the handler and the store of what it returned: that is
	 * a few instructions away, in a thread that no signal interrupts. */
	while (!atomic_load_explicit(&installed, memory_order_acquire))
		sched_yield();
	handler = previous.sa_handler;
	if ((previous.sa_flags & SA_RESETHAND) && handler != SIG_DFL && handler != SIG_IGN &&
	    atomic_exchange_explicit(&previous_used, true, memory_order_relaxed))
		handler = SIG_DFL;
	if (handler == SIG_IGN) {
		/* The kernel overrides SIG_IGN only for what it forces. */
		if (code <= 0 || code == BUS_MCEERR_AO) {
			errno = saved_errno;
			return;
		}
		handler = SIG_DFL;
	}
	if (handler == SIG_DFL) {
		as_default(sig, info, ucontext);
		errno = saved_errno;
		return;
	}
	call_program_handler(&previous, sig, info, ucontext, saved_errno);
}

static void on_sigbus(int sig, siginfo_t *info, void *ucontext)
{
	int saved_errno = errno;

	if (info && repair(info, ucontext)) {
		errno = saved_errno;
		return;
	}
	chain(sig, info, ucontext, saved_errno);
}

LIBMEMFD_EXPORT int mfd_handle_sigbus(int sig, void *info, void *ucontext)
{
	int saved_errno = errno, repaired;
	sigset_t all, old;

	if (sig != SIGBUS || !info)
		return 0;
	/* As in the library's own handler (see repair). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	repaired = repair(info, ucontext);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved_errno;
	return repaired;
}

/* Installing the handler, once ---------------------------------------------- */

/* Held while the handler is installed, and across fork, so that a child
 * never starts with an installation half made. */
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_error;

static void before_fork(void)
{
	pthread_mutex_lock(&install_lock);
}

static void after_fork_in_parent(void)
{
	pthread_mutex_unlock(&install_lock);
}

/*
 * A child of fork has only the thread that forked: every pin, repair or
 * registration in progress belonged to a thread it does not have. An
 * entry being retired may or may not have been unmapped yet; it is
 * forgotten rather than trusted.
 */
static void after_fork_in_child(void)
{
	pthread_mutex_unlock(&install_lock);
	for (struct chunk *c = atomic_load(&chunks); c; c = c->next) {
		for (size_t i = 0; i < c->count; i++) {
			struct mfd_guard *g = &c->entries[i];
			uint32_t state = state_of(atomic_load(&g->word));

			atomic_store(&g->word, STATE(state == LIVE ? LIVE : FREE));
			atomic_store(&g->repairer, 0);
			atomic_store(&g->waiters, 0);
		}
	}
}

static void register_atfork(void)
{
	atfork_error = pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

/* One sigaction installs ours and returns what was there: a handler that
 * another thread installs meanwhile is either replaced and kept in
 * previous, or installed after ours (and calls mfd_handle_sigbus). */
static int install(void)
{
	struct sigaction ours = {
		.sa_sigaction = on_sigbus,
		.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART,
	}, old;

	/* Nothing interrupts a repair (see repair). */
	sigfillset(&ours.sa_mask);
	if (sigaction(SIGBUS, &ours, &old) < 0)
		return -errno;
	previous = old;
	atomic_store_explicit(&installed, true, memory_order_release);
	return 0;
}

/*
 * Install the handler at the first guarded mapping, and never again: a
 * program that puts its own in its place later keeps it (and calls
 * mfd_handle_sigbus). Threads making their first guarded mappings at once
 * wait for the one that installs it. No signal is taken meanwhile: the
 * library's handler, run here before previous is written, would wait for
 * it for ever, and a fork from a handler for the lock.
 */
static int install_handler(void)
{
	sigset_t all, mask;
	int err = 0;

	if (atomic_load_explicit(&installed, memory_order_acquire))
		return 0;
	pthread_once(&atfork_once, register_atfork);
	if (atfork_error)
		return -atfork_error;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &mask);
	pthread_mutex_lock(&install_lock);
	if (!atomic_load_explicit(&installed, memory_order_relaxed)) {
		handler_page_size = (size_t)mfd_page_size();
		err = install();
	}
	pthread_mutex_unlock(&install_lock);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	return err;
}

/* The registry, for map.c -------------------------------------------------- */

static struct mfd_guard *claim_free_entry(void)
{
	for (struct chunk *c = atomic_load_explicit(&chunks, memory_order_acquire); c; c = c->next) {
		for (size_t i = 0; i < c->count; i++) {
			struct mfd_guard *g = &c->entries[i];
			uint32_t word = atomic_load_explicit(&g->word, memory_order_relaxed);

			/* A handler may hold a passing pin on a free entry. */
			while (state_of(word) == FREE) {
				MFD_RACE_WINDOW(MFD_RACE_CLAIM);
				if (atomic_compare_exchange_weak_explicit(
					    &g->word, &word, word + STATE(FILLING),
					    memory_order_acquire, memory_order_relaxed))
					return g;
			}
		}
	}
	return NULL;
}

/* A new chunk, twice as large as all before, its first entry ours. */
static struct mfd_guard *grow(void)
{
	size_t count = atomic_load(&entries_total);
	struct chunk *c, *head;

	count = count < FIRST_CHUNK ? FIRST_CHUNK : count;
	c = calloc(1, sizeof(*c) + count * sizeof(c->entries[0]));
	if (!c)
		return NULL;
	c->count = count;
	atomic_init(&c->entries[0].word, STATE(FILLING));
	atomic_fetch_add(&entries_total, count);
	head = atomic_load_explicit(&chunks, memory_order_relaxed);
	MFD_RACE_WINDOW(MFD_RACE_GROW);
	do
		c->next = head;
	while (!atomic_compare_exchange_weak_explicit(&chunks, &head, c, memory_order_release,
						      memory_order_relaxed));
	return &c->entries[0];
}

int mfd_guard_reserve(struct mfd_guard **entry)
{
	struct mfd_guard *g = claim_free_entry();

	if (!g)
		g = grow();
	if (!g)
		return -errno; /* calloc's ENOMEM */
	*entry = g;
	return 0;
}

void mfd_guard_cancel(struct mfd_guard *g)
{
	set_state(g, FILLING, FREE, memory_order_relaxed);
}

static size_t round_up(size_t n, size_t align)
{
	return (n + align - 1) / align * align;
}

int mfd_guard_publish(struct mfd_guard *g, void *addr, size_t length, int prot,
		      uint64_t granule)
{
	/* Only now, so that a call that fails changes no disposition. No
	 * fault can come before: no one else has the address yet. */
	int err = install_handler();

	if (err < 0) {
		mfd_guard_cancel(g);
		return err;
	}
	g->granule = (size_t)granule;
	g->prot = prot;
	atomic_store_explicit(&g->start, (uintptr_t)addr, memory_order_relaxed);
	atomic_store_explicit(&g->length, round_up(length, (size_t)granule), memory_order_relaxed);
	atomic_store_explicit(&g->faulted, false, memory_order_relaxed);
	set_state(g, FILLING, LIVE, memory_order_release);
	return 0;
}

static int same_range(struct mfd_guard *g, uintptr_t addr, size_t length)
{
	return atomic_load_explicit(&g->start, memory_order_relaxed) == addr &&
	       atomic_load_explicit(&g->length, memory_order_relaxed) == length;
}

static int overlaps(struct mfd_guard *g, uintptr_t addr, size_t length)
{
	uintptr_t start = atomic_load_explicit(&g->start, memory_order_relaxed);

	return start < addr + length && addr < start + atomic_load_explicit(&g->length,
									      memory_order_relaxed);
}

/*
 * The LIVE entry for exactly [addr, addr + length), retired (DYING), or
 * NULL with *overlap set when the range overlaps a guarded mapping without
 * being one. A DYING entry is never in the way: it stays DYING a moment
 * after its munmap, and the address may by then be a new mapping's, this
 * very one's. (The handler never repairs through it: pin_if takes only
 * LIVE entries.)
 */
static struct mfd_guard *retire(uintptr_t addr, size_t length, int *overlap)
{
	for (struct chunk *c = atomic_load_explicit(&chunks, memory_order_acquire); c; c = c->next) {
		for (size_t i = 0; i < c->count; i++) {
			struct mfd_guard *g = &c->entries[i];
			uint32_t word = atomic_load_explicit(&g->word, memory_order_acquire);

			if (state_of(word) != LIVE || !overlaps(g, addr, length))
				continue;
			/* The weak CAS fails too when a handler's pin comes or goes. */
			while (state_of(word) == LIVE && same_range(g, addr, length)) {
				MFD_RACE_WINDOW(MFD_RACE_RETIRE);
				if (!atomic_compare_exchange_weak_explicit(
					    &g->word, &word, word + STATE(DYING) - STATE(LIVE),
					    memory_order_acquire, memory_order_acquire))
					continue;
				/* The range was read before the claim: the entry
				 * may have been freed and taken for another. */
				if (same_range(g, addr, length))
					return g;
				set_state(g, DYING, LIVE, memory_order_release);
				break;
			}
			if (state_of(word) == LIVE && overlaps(g, addr, length)) {
				*overlap = 1;
				return NULL;
			}
		}
	}
	return NULL;
}

int mfd_guard_unmap(void *addr, size_t length)
{
	uintptr_t start = (uintptr_t)addr;
	size_t len = round_up(length, (size_t)mfd_page_size());
	struct mfd_guard *g;
	int overlap = 0;

	if (!atomic_load_explicit(&chunks, memory_order_acquire) || len < length ||
	    start + len < start)
		return MFD_GUARD_NONE; /* munmap judges it */
	g = retire(start, len, &overlap);
	if (!g)
		return overlap ? -EINVAL : MFD_GUARD_NONE;
	/* A repair in progress in another thread ends before the munmap. */
	while (pins_of(atomic_load_explicit(&g->word, memory_order_acquire)) != 0)
		sched_yield();
	if (munmap(addr, len) < 0) {
		int err = -errno;

		set_state(g, DYING, LIVE, memory_order_release);
		return err;
	}
	set_state(g, DYING, FREE, memory_order_release);
	return 0;
}

LIBMEMFD_EXPORT int mfd_map_faulted(const void *addr)
{
	struct mfd_guard *g = find_and_pin(starts_at, (uintptr_t)addr);
	int faulted;

	if (!g)
		return -EINVAL;
	faulted = atomic_load_explicit(&g->faulted, memory_order_relaxed);
	unpin(g);
	return faulted;
}
