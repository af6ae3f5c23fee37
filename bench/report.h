/* SPDX-License-Identifier: MIT */
/*
 * The report: what every section's tables are made of, the machine they
 * came from, and the CSV of all results. Each section prints its own
 * tables (its `print`), from its results.
 */
#ifndef MEMFD_BENCH_REPORT_H
#define MEMFD_BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "harness.h"

/* The result of one variant of a section at one size, or NULL. */
const struct result *find_result(const char *section, const char *variant, uint64_t size);
/* 4 KiB, 16 MiB, 1 GiB, or bytes. */
void format_size(char buf[32], uint64_t size);
/* System calls per operation: whole, with a decimal, or "-" if not counted. */
void format_syscalls(char buf[16], const struct result *r);

/* Note the load average when the run starts, for print_machine(). */
void report_start(void);
/* What ran where: the heading of the tables. */
void print_machine(void);
/* Every result, one line each. */
void print_csv(FILE *f);

#endif
