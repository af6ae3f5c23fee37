/* SPDX-License-Identifier: MIT */
/*
 * The report: the machine, the formatting the sections' tables share, and
 * the CSV (one line per result, the same columns for every section).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "report.h"

#ifdef __GLIBC__
#include <gnu/libc-version.h>
#define LIBC_VERSION "glibc ", gnu_get_libc_version()
#else
#define LIBC_VERSION "a C library other than glibc", ""
#endif

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "an unknown compiler"
#endif

const struct result *find_result(const char *section, const char *variant, uint64_t size)
{
	for (size_t i = 0; i < n_results; i++)
		if (!strcmp(results[i].section, section) &&
		    !strcmp(results[i].variant, variant) && results[i].size == size)
			return &results[i];
	return NULL;
}

void format_size(char buf[32], uint64_t size)
{
	if (size >= GiB && size % GiB == 0)
		snprintf(buf, 32, "%" PRIu64 " GiB", size / GiB);
	else if (size >= MiB && size % MiB == 0)
		snprintf(buf, 32, "%" PRIu64 " MiB", size / MiB);
	else if (size >= KiB && size % KiB == 0)
		snprintf(buf, 32, "%" PRIu64 " KiB", size / KiB);
	else
		snprintf(buf, 32, "%" PRIu64 " B", size);
}

void format_syscalls(char buf[16], const struct result *r)
{
	if (r->syscalls.per_op < 0)
		snprintf(buf, 16, "-");
	else if (r->syscalls.per_op == (double)(long)r->syscalls.per_op)
		snprintf(buf, 16, "%ld", (long)r->syscalls.per_op);
	else
		snprintf(buf, 16, "%.1f", r->syscalls.per_op);
}

/* The 1-minute load average: the benchmark shares the machine. */
static double load_average(void)
{
	return proc_number("/proc/loadavg");
}

static double load_at_start;

void report_start(void)
{
	load_at_start = load_average();
}

void print_machine(void)
{
	char model[128] = "unknown CPU", line[256];
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	printf("libmemfd %s benchmark: %s, %ld CPUs, Linux %s %s\n", PACKAGE_VERSION,
	       model, sysconf(_SC_NPROCESSORS_ONLN), u.release, u.machine);
	printf("%s%s, %s; load average %.2f at the start, %.2f at the end\n",
	       LIBC_VERSION, COMPILER, load_at_start, load_average());
	printf("times are medians of alternating rounds; ratios compare variants of one run\n");
}

/* The same columns for every section; a column a section has no number
 * for is empty. */
void print_csv(FILE *f)
{
	fprintf(f, "section,variant,bytes,ops_per_round,rounds,median_ns,min_ns,max_ns,"
	       "syscalls_per_op,page_faults_per_op\n");
	for (size_t i = 0; i < n_results; i++) {
		const struct result *r = &results[i];

		fprintf(f, "%s,%s,%" PRIu64 ",%ld,%d,%.1f,%.1f,%.1f,", r->section, r->variant,
		       r->size, r->ops, r->rounds, r->median_ns, r->min_ns, r->max_ns);
		if (r->syscalls.per_op >= 0)
			fprintf(f, "%.2f", r->syscalls.per_op);
		fputc(',', f);
		if (r->faults >= 0)
			fprintf(f, "%.3f", r->faults);
		fputc('\n', f);
	}
}
