/* SPDX-License-Identifier: MIT */
/* The test binary defines sigaction, mmap, munmap and madvise too (interpose-guard.c), so
 * that the guard tests can count the library's sigaction(SIGBUS) calls and
 * hold its repairs while another thread unmaps, forks or resizes. */
#ifndef LIBMEMFD_INTERPOSE_GUARD_H
#define LIBMEMFD_INTERPOSE_GUARD_H

/* sigaction(SIGBUS, act, ...) calls with act not NULL, from anywhere in
 * this process, since it started. */
int sigbus_handlers_set(void);

/* What a handler may be made to wait in, before the call, until released:
 * a repair's mmap (anonymous, MAP_FIXED), or the madvise that probes the
 * page first; or the first sigaction that installs a SA_SIGINFO handler
 * for SIGBUS (the library's), alone, before the call or (HOLD_INSTALLED)
 * after it. */
enum hold { HOLD_REPAIR = 1, HOLD_PROBE, HOLD_INSTALL, HOLD_INSTALLED };
void hold(enum hold what);
/* Wait until a handler waits; 0 if none did within timeout_ms. */
int wait_for_hold(int timeout_ms);
void release(void);
/* An anonymous MAP_FIXED mmap has been made since hold(). */
int repair_mapped(void);

/* While on, madvise does nothing and says it did: a probe then finds
 * every page backed, as it would a fault that no probe can see. */
void fake_probes(int on);

/* While on, munmap naps after it has unmapped: another thread can then
 * map the address again before the caller goes on. */
void slow_munmaps(int on);

/* The next madvise (a repair's probe) raises sig first, once: a signal
 * that arrives in the middle of a repair. */
void raise_at_probe(int sig);

/* The next sigaction that sets SIGBUS to SIG_DFL calls fn first, once. */
void at_sigbus_default(void (*fn)(void));

/* While set, a sigaction that sets SIGBUS to SIG_DFL installs handler
 * instead: what the default would end, it sees. */
void default_means(void (*handler)(int));

#endif
