/* SPDX-License-Identifier: MIT */
/*
 * memfd-bench: what libmemfd costs over the raw system calls, measured side
 * by side in one run. The sections (sections.h) each measure one use
 * against what a program would do without libmemfd; this is the command
 * line, and the order of things.
 *
 * The variants of a section take turns within each round (A B C, B C A, ...)
 * so that a noisy neighbour slows them alike, and each result is the
 * median of the rounds. System calls are counted by tracing (ptrace) a
 * forked copy of the same loop: what is timed is what is counted
 * (harness.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "report.h"
#include "sections.h"

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		die("not a size: %s", s);
	switch (*end) {
	case 'k': case 'K': n *= KiB; end++; break;
	case 'm': case 'M': n *= MiB; end++; break;
	case 'g': case 'G': n *= GiB; end++; break;
	}
	if (*end || n < 4096)
		die("not a size of at least 4096 bytes: %s", s);
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: memfd-bench [OPTION]...\n"
		"Measure libmemfd against the raw system calls, side by side.\n\n"
		"  --max-size=SIZE   fill size and largest handoff (K, M, G suffixes; default 1G)\n"
		"  --rounds=N        alternating rounds per measurement (default per section)\n"
		"  --cycles=N        lifecycle cycles per round (default 1000)\n"
		"  --small           a quick run: --max-size=16M, few rounds and cycles\n"
		"  --only=LIST       sections to run, of ");
	for (size_t i = 0; i < N_SECTIONS; i++)
		fprintf(f, "%s%s", i ? "," : "", sections[i]->name);
	fprintf(f, "\n"
		"  --no-count        do not count system calls (no ptrace)\n"
		"  --csv             print CSV instead of tables\n"
		"  --csv=FILE        print tables, and write CSV into FILE\n"
		"  --help            show this and exit\n\n"
		"Exits with 1 if libmemfd makes more system calls per lifecycle cycle than\n"
		"the raw sequence, or a guarded mfd_map more than an unguarded one.\n");
}

/* The sections --only names (all without it). */
static bool selected[N_SECTIONS];

static void select_sections(const char *arg)
{
	char *list = strdup(arg), *save = NULL;

	if (!list)
		die("%s", strerror(ENOMEM));
	for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < N_SECTIONS && strcmp(s, sections[i]->name); i++)
			;
		if (i == N_SECTIONS)
			die("--only: no section %s", s);
		selected[i] = true;
	}
	free(list);
}

static void parse_options(int argc, char **argv)
{
	enum { MAX_SIZE = 256, ROUNDS, CYCLES, SMALL, ONLY, NO_COUNT, CSV, HELP };
	static const struct option longopts[] = {
		{ "max-size", required_argument, NULL, MAX_SIZE },
		{ "rounds", required_argument, NULL, ROUNDS },
		{ "cycles", required_argument, NULL, CYCLES },
		{ "small", no_argument, NULL, SMALL },
		{ "only", required_argument, NULL, ONLY },
		{ "no-count", no_argument, NULL, NO_COUNT },
		{ "csv", optional_argument, NULL, CSV },
		{ "help", no_argument, NULL, HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool max_size_given = false, cycles_given = false, only_given = false;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case MAX_SIZE:
			opt.max_size = parse_size(optarg);
			max_size_given = true;
			break;
		case ROUNDS:
			opt.rounds = atoi(optarg);
			if (opt.rounds < 1 || opt.rounds > MAX_ROUNDS)
				die("--rounds: 1 to %d", MAX_ROUNDS);
			break;
		case CYCLES:
			opt.lifecycle_cycles = atol(optarg);
			if (opt.lifecycle_cycles < 1)
				die("--cycles: at least 1");
			cycles_given = true;
			break;
		case SMALL:
			opt.small = true;
			break;
		case ONLY:
			only_given = true;
			select_sections(optarg);
			break;
		case NO_COUNT:
			opt.count = false;
			break;
		case CSV:
			if (optarg)
				opt.csv_file = optarg;
			else
				opt.csv = true;
			break;
		case HELP:
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	if (!only_given)
		for (size_t i = 0; i < N_SECTIONS; i++)
			selected[i] = true;
	if (opt.small) {
		if (!max_size_given)
			opt.max_size = 16 * MiB;
		if (!cycles_given)
			opt.lifecycle_cycles = 100;
	}
}

int main(int argc, char **argv)
{
	bool ok = true;

	parse_options(argc, argv);
	report_start();
	/* A receiver that dies must not kill the benchmark with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < N_SECTIONS; i++)
		if (selected[i])
			sections[i]->run();

	if (opt.csv_file) {
		FILE *f = fopen(opt.csv_file, "we");

		if (!f)
			die("%s: %s", opt.csv_file, strerror(errno));
		print_csv(f);
		if (fclose(f) != 0)
			die("%s: %s", opt.csv_file, strerror(errno));
	}
	if (opt.csv) {
		print_csv(stdout);
	} else {
		print_machine();
		for (size_t i = 0; i < N_SECTIONS; i++)
			if (selected[i])
				sections[i]->print();
	}
	/* Every section's check, even after one has failed: each says why. */
	for (size_t i = 0; i < N_SECTIONS; i++)
		if (selected[i] && sections[i]->check && !sections[i]->check())
			ok = false;
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
