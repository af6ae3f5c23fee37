/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's sections, in the order they run and print; --only
 * chooses among them by name. A new section is a unit of its own,
 * bench/NAME.c, that measures with the harness (harness.h), prints its
 * tables with the report's helpers (report.h) and defines
 *	const struct section NAME_section = { .name = "NAME", ... };
 * It is listed here and in Makefile.am's bench_memfd_bench_SOURCES.
 */
#ifndef MEMFD_BENCH_SECTIONS_H
#define MEMFD_BENCH_SECTIONS_H

#include "harness.h"

extern const struct section lifecycle_section;
extern const struct section handoff_section;
extern const struct section fill_section;
extern const struct section ring_section;
extern const struct section guard_section;

static const struct section *const sections[] = {
	&lifecycle_section,
	&handoff_section,
	&fill_section,
	&ring_section,
	&guard_section,
};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

#endif
