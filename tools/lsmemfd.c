/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd: list the memfds that processes hold or map, with their names,
 * sizes, seals and how much of them each process maps and keeps resident;
 * or, with --summary, how much each process holds. The table and JSON
 * output follow util-linux's lsblk and lsfd, through libsmartcols.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lsmemfd.h"

/* MAPPED costs nothing more (maps is read for the memfds only mapped);
 * RSS is left out: smaps would double the time of a scan. */
static const enum column_id default_listing[] = {
	COL_PID, COL_COMMAND, COL_FD, COL_NAME, COL_SIZE, COL_SEALS, COL_EXEC, COL_HUGETLB,
	COL_MAPPED,
};
static const enum column_id default_summary[] = {
	COL_PID, COL_COMMAND, COL_MEMFDS, COL_SIZE, COL_ALLOC, COL_MAPPED, COL_RSS,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void print_column_list(const char *title, const enum column_id *ids, size_t n)
{
	fputs(title, stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", columns[ids[i]].name);
	putchar('\n');
}

static void __attribute__((noreturn)) usage(void)
{
	printf("\nUsage:\n"
	       " %s [options]\n"
	       "\nList the memfds that processes hold or map: their names, sizes, seals,\n"
	       "and how much of them each process maps and keeps resident.\n"
	       "\nOptions:\n"
	       " -b, --bytes            print sizes in bytes rather than in human units\n"
	       " -J, --json             use JSON output format\n"
	       " -n, --noheadings       don't print headings\n"
	       " -o, --output <list>    output columns (+<list> adds to the defaults)\n"
	       " -p, --pid <pid,...>    only these processes (repeatable)\n"
	       " -r, --raw              use raw output format\n"
	       " -s, --summary          totals per process and overall\n"
	       "     --sort <column>    sort output by <column>\n"
	       "\n"
	       " -h, --help             display this help\n"
	       " -V, --version          display version\n"
	       "\nAvailable output columns:\n",
	       program_invocation_short_name);
	for (size_t i = 0; i < NCOLUMNS; i++)
		printf(" %7s  %s\n", columns[i].name, columns[i].help);
	print_column_list("\nDefault columns: ", default_listing, ARRAY_SIZE(default_listing));
	print_column_list("With --summary, only: ", default_summary, ARRAY_SIZE(default_summary));
	printf("\nFor more details see lsmemfd(1).\n");
	exit(EXIT_SUCCESS);
}

static void __attribute__((noreturn)) try_help(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n",
		program_invocation_short_name);
	exit(EXIT_FAILURE);
}

static int column_by_name(const char *name, size_t len)
{
	for (int i = 0; i < NCOLUMNS; i++) {
		if (strlen(columns[i].name) == len &&
		    strncasecmp(columns[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

static int required_column(const char *name, size_t len, const struct options *o)
{
	int id = column_by_name(name, len);

	if (id < 0) {
		warnx("unknown column: %.*s", (int)len, name);
		try_help();
	}
	if (!(columns[id].tables & (o->summary ? SUMMARY : LISTING))) {
		warnx("column %s is only available %s --summary", columns[id].name,
		      o->summary ? "without" : "with");
		try_help();
	}
	return id;
}

static void show_column(struct options *o, enum column_id id)
{
	for (size_t i = 0; i < o->nshown; i++) {
		if (o->shown[i] == id)
			return;
	}
	o->shown[o->nshown++] = id;
}

/* The columns to show: -o's list, the defaults, or the defaults and +list. */
static void choose_columns(struct options *o, const char *list)
{
	if (!list || *list == '+') {
		const enum column_id *ids = o->summary ? default_summary : default_listing;
		size_t n = o->summary ? ARRAY_SIZE(default_summary) : ARRAY_SIZE(default_listing);

		for (size_t i = 0; i < n; i++)
			show_column(o, ids[i]);
		if (!list)
			return;
		list++;
	}
	for (;;) {
		size_t len = strcspn(list, ",");

		show_column(o, (enum column_id)required_column(list, len, o));
		if (!list[len])
			break;
		list += len + 1;
	}
}

static bool has_pid(const struct options *o, pid_t pid)
{
	for (size_t i = 0; i < o->npids; i++) {
		if (o->pids[i] == pid)
			return true;
	}
	return false;
}

/* A PID list: "1,2", repeatable; duplicates are dropped. */
static void add_pids(struct options *o, const char *list)
{
	char *copy = strdup(list), *token, *save = NULL, *end;
	size_t tokens = 0;
	pid_t *pids;
	long pid;

	if (!copy)
		err(EXIT_FAILURE, NULL);
	for (token = strtok_r(copy, ",", &save); token; token = strtok_r(NULL, ",", &save)) {
		errno = 0;
		pid = strtol(token, &end, 10);
		if (errno || end == token || *end || pid <= 0 || pid > INT_MAX) {
			warnx("invalid PID: '%s'", token);
			try_help();
		}
		tokens++;
		if (has_pid(o, (pid_t)pid))
			continue;
		pids = reallocarray(o->pids, o->npids + 1, sizeof(*pids));
		if (!pids)
			err(EXIT_FAILURE, NULL);
		o->pids = pids;
		o->pids[o->npids++] = (pid_t)pid;
	}
	if (tokens == 0) {
		warnx("invalid PID list: '%s'", list);
		try_help();
	}
	free(copy);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_SORT = CHAR_MAX + 1 };
	static const struct option long_options[] = {
		{ "bytes", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'J' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "raw", no_argument, NULL, 'r' },
		{ "summary", no_argument, NULL, 's' },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sort = NULL, *output = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "bJno:p:rshV", long_options, NULL)) != -1) {
		switch (c) {
		case 'b': o->bytes = true; break;
		case 'J': o->json = true; break;
		case 'n': o->noheadings = true; break;
		case 'o': output = optarg; break;
		case 'p': add_pids(o, optarg); break;
		case 'r': o->raw = true; break;
		case 's': o->summary = true; break;
		case OPT_SORT: sort = optarg; break;
		case 'h': usage();
		case 'V':
			printf("%s from %s %s\n", program_invocation_short_name,
			       PACKAGE_NAME, PACKAGE_VERSION);
			exit(EXIT_SUCCESS);
		default: try_help();
		}
	}
	if (optind < argc) {
		warnx("unexpected argument: %s", argv[optind]);
		try_help();
	}
	if (o->json && o->raw) {
		warnx("--json and --raw are mutually exclusive");
		try_help();
	}
	choose_columns(o, output);
	o->sort = sort ? required_column(sort, strlen(sort), o) : -1;
}

static bool shows(const struct options *o, enum column_id id)
{
	for (size_t i = 0; i < o->nshown; i++) {
		if (o->shown[i] == id)
			return true;
	}
	return o->sort == (int)id;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct scan s = { 0 };
	bool requested_denied = false;
	size_t unknown = 0;
	int r, status = EXIT_SUCCESS;

	setlocale(LC_ALL, "");
	parse_options(argc, argv, &o);
	/* smaps costs a walk of the page tables: only for RSS. */
	s.want_rss = shows(&o, COL_RSS);
	/* Learn the memfd mounts now, before any other process's file is
	 * looked at and while descriptors are plenty. */
	find_memfd_mounts();

	/* A process named with -p must exist; one that exits later, while
	 * being scanned, is skipped like any other. */
	for (size_t i = 0; i < o.npids; i++) {
		r = process_exists(o.pids[i]);
		if (r < 0)
			errx(EXIT_FAILURE, "/proc/%d: %s", (int)o.pids[i], strerror(-r));
		if (r == 0)
			errx(EXIT_FAILURE, "%d: no such process", (int)o.pids[i]);
	}
	if (o.npids) {
		for (size_t i = 0; i < o.npids; i++) {
			r = scan_process(&s, o.pids[i]);
			if (r < 0)
				return EXIT_FAILURE;
			requested_denied |= r == SCAN_DENIED;
		}
	} else if (scan_all_processes(&s) < 0) {
		return EXIT_FAILURE;
	}

	if (print_scan(&s, &o, stdout, &unknown) < 0)
		status = EXIT_FAILURE;
	/* Not a process that could not be inspected: the status stays. */
	if (unknown)
		warnx("%zu memfd%s only mapped, %s: opening %s through /proc/PID/map_files "
		      "needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE", unknown,
		      unknown == 1 ? "" : "s",
		      o.summary ? "counted without size and allocation" :
				  "shown without size, seals, exec and allocation",
		      unknown == 1 ? "it" : "them");
	if (s.unproven)
		warnx("%u mapping%s that read%s like memfds not listed: without memfd_create "
		      "(%s) they cannot be told from look-alikes", s.unproven,
		      s.unproven == 1 ? "" : "s", s.unproven == 1 ? "s" : "",
		      strerror(-find_memfd_mounts()));
	if (s.denied)
		warnx("could not inspect %u process%s (permission denied)", s.denied,
		      s.denied == 1 ? "" : "es");
	/* Asked for by PID and not shown: not a success. */
	if (requested_denied)
		status = EXIT_FAILURE;
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		warn("write error");
		status = EXIT_FAILURE;
	}
	scan_release(&s);
	free(o.pids);
	return status;
}
