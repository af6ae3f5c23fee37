/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd's output: the rows of the listing or the summary, made into a
 * table or JSON by libsmartcols. Names and commands are the listed
 * processes' to choose: what reaches a terminal or a JSON parser is
 * escaped here and by libsmartcols (fuzz/fuzz-lsmemfd-names.c checks it).
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsmartcols.h>

#include "lsmemfd.h"

const struct column_info columns[NCOLUMNS] = {
	[COL_PID] = { "PID", 5, SCOLS_FL_RIGHT, KIND_NUMBER, LISTING | SUMMARY,
		      "process ID" },
	[COL_COMMAND] = { "COMMAND", 0.1, SCOLS_FL_TRUNC, KIND_TEXT, LISTING | SUMMARY,
			  "command name of the process" },
	[COL_FD] = { "FD", 3, SCOLS_FL_RIGHT, KIND_NUMBER, LISTING,
		     "file descriptor, or mem: only mapped" },
	[COL_NAME] = { "NAME", 0.3, SCOLS_FL_TRUNC, KIND_TEXT, LISTING,
		       "name given at creation" },
	[COL_SIZE] = { "SIZE", 5, SCOLS_FL_RIGHT, KIND_SIZE, LISTING | SUMMARY,
		       "size of the file" },
	[COL_SEALS] = { "SEALS", 0.1, 0, KIND_TEXT, LISTING,
			"seals: seal,shrink,grow,write,future_write,exec" },
	[COL_EXEC] = { "EXEC", 1, SCOLS_FL_RIGHT, KIND_BOOL, LISTING,
		       "executable (has an execute permission bit)" },
	[COL_HUGETLB] = { "HUGETLB", 1, SCOLS_FL_RIGHT, KIND_BOOL, LISTING,
			  "backed by huge pages" },
	[COL_INODE] = { "INODE", 5, SCOLS_FL_RIGHT, KIND_NUMBER, LISTING,
			"inode number: the same memfd, wherever it is held" },
	[COL_ALLOC] = { "ALLOC", 5, SCOLS_FL_RIGHT, KIND_SIZE, LISTING | SUMMARY,
			"memory allocated to it, in RAM or swap" },
	[COL_MAPPED] = { "MAPPED", 5, SCOLS_FL_RIGHT, KIND_SIZE, LISTING | SUMMARY,
			 "bytes of it the process maps, all its mappings added up" },
	[COL_RSS] = { "RSS", 5, SCOLS_FL_RIGHT, KIND_SIZE, LISTING | SUMMARY,
		      "bytes of those mappings resident in RAM" },
	[COL_MEMFDS] = { "MEMFDS", 3, SCOLS_FL_RIGHT, KIND_NUMBER, SUMMARY,
			 "number of memfds (--summary)" },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	unsigned int bit;
	const char *name;
} seal_names[] = {
	{ F_SEAL_SEAL, "seal" },   { F_SEAL_SHRINK, "shrink" },
	{ F_SEAL_GROW, "grow" },   { F_SEAL_WRITE, "write" },
	{ F_SEAL_FUTURE_WRITE, "future_write" },
	{ F_SEAL_EXEC, "exec" },
};

/* Every name, and room for bits a newer kernel may add. */
#define SEALS_TEXT_MAX sizeof("seal,shrink,grow,write,future_write,exec,0xffffffff")

/* One line of either table: what it shows and what --sort compares. */
struct row {
	uint64_t number[NCOLUMNS]; /* numbers, sizes and booleans */
	/* Text; for a number, a word shown instead (JSON has null). */
	const char *text[NCOLUMNS];
	unsigned int blank; /* bits of the columns left empty */
	char seals[SEALS_TEXT_MAX];
};

/* The table being built and which column each of its columns shows. */
struct output {
	struct libscols_table *table;
	enum column_id ids[NCOLUMNS + 1]; /* + a hidden one to sort by */
	size_t count;
	struct libscols_column *sort;
};

/* A size the way lsblk shows one: 0B, 512B, 1.5K, 4M, 931.5G. */
static void human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "BKMGTPE";
	unsigned int exp = 0, tenths = 0;
	uint64_t whole = bytes;

	while (exp + 1 < sizeof(units) - 1 && whole >= 1024) {
		whole /= 1024;
		exp++;
	}
	if (exp > 0) {
		uint64_t rest = bytes & ((UINT64_C(1) << (10 * exp)) - 1);

		/* rest * 10 stays below 2^64: rest < 2^60. */
		tenths = (unsigned int)((rest * 10 + (UINT64_C(1) << (10 * exp - 1))) >> (10 * exp));
		if (tenths == 10) {
			tenths = 0;
			if (++whole == 1024 && exp + 1 < sizeof(units) - 1) {
				whole = 1;
				exp++;
			}
		}
	}
	if (tenths)
		snprintf(buf, size, "%" PRIu64 ".%u%c", whole, tenths, units[exp]);
	else
		snprintf(buf, size, "%" PRIu64 "%c", whole, units[exp]);
}

static void seals_text(unsigned int seals, char buf[SEALS_TEXT_MAX])
{
	const char *sep = "";
	char *p = buf;

	*p = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(seal_names); i++) {
		if (seals & seal_names[i].bit) {
			p += sprintf(p, "%s%s", sep, seal_names[i].name);
			sep = ",";
			seals &= ~seal_names[i].bit;
		}
	}
	if (seals)
		sprintf(p, "%s%#x", sep, seals);
}

/* The length of the valid UTF-8 sequence that s starts with, or 0. */
static size_t utf8_length(const unsigned char *s)
{
	unsigned int code, min;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, code = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, code = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, code = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		/* Also stops at the terminating NUL. */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		code = code << 6 | (s[i] & 0x3f);
	}
	if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
		return 0;
	return len;
}

/*
 * JSON text must be UTF-8, and names need not be: a byte outside valid
 * UTF-8 becomes \xNN, and so does a backslash before an 'x' (to keep that
 * unambiguous), as libsmartcols encodes table cells. Control characters
 * are JSON's to escape. buf holds 4 * strlen(s) + 1 bytes.
 */
static const char *json_text(const char *s, char *buf)
{
	const unsigned char *in = (const unsigned char *)s;
	char *out = buf;

	while (*in) {
		size_t len = utf8_length(in);

		if (len == 0 || (in[0] == '\\' && in[1] == 'x')) {
			out += sprintf(out, "\\x%02x", in[0]);
			in++;
		} else {
			memcpy(out, in, len);
			out += len;
			in += len;
		}
	}
	*out = '\0';
	return buf;
}

static int compare_numbers(struct libscols_cell *a, struct libscols_cell *b, void *data)
{
	const uint64_t *x = scols_cell_get_userdata(a), *y = scols_cell_get_userdata(b);

	return (*x > *y) - (*x < *y);
}

static int add_column(struct output *out, enum column_id id, int flags,
		      const struct options *o)
{
	const struct column_info *info = &columns[id];
	struct libscols_column *cl;
	int json_type = SCOLS_JSON_STRING;

	cl = scols_table_new_column(out->table, info->name, info->whint, info->flags | flags);
	if (!cl)
		return -ENOMEM;
	/* A boolean is written as a raw value, "true" or "false": the
	 * boolean type writes an empty cell (EXEC unknown) as false. An
	 * empty raw value is null. */
	if (info->kind == KIND_NUMBER || info->kind == KIND_BOOL ||
	    (info->kind == KIND_SIZE && o->bytes))
		json_type = SCOLS_JSON_NUMBER;
	if (scols_column_set_json_type(cl, json_type) < 0 ||
	    scols_column_set_cmpfunc(cl, info->kind == KIND_TEXT ? scols_cmpstr_cells :
			    compare_numbers, NULL) < 0)
		return -ENOMEM;
	if ((int)id == o->sort)
		out->sort = cl;
	out->ids[out->count++] = id;
	return 0;
}

static int new_table(struct output *out, const struct options *o)
{
	int r;

	out->table = scols_new_table();
	if (!out->table)
		return -ENOMEM;
	/* The JSON object's one key: {"memfds": [...]}. */
	if (scols_table_set_name(out->table, o->summary ? "processes" : "memfds") < 0)
		return -ENOMEM;
	scols_table_enable_json(out->table, o->json);
	scols_table_enable_raw(out->table, o->raw);
	scols_table_enable_noheadings(out->table, o->noheadings);

	for (size_t i = 0; i < o->nshown; i++) {
		r = add_column(out, o->shown[i], 0, o);
		if (r < 0)
			return r;
	}
	/* Like lsblk: a sort column not shown is there, hidden. */
	if (o->sort >= 0 && !out->sort)
		return add_column(out, (enum column_id)o->sort, SCOLS_FL_HIDDEN, o);
	return 0;
}

static int add_line(struct output *out, struct row *row, const struct options *o)
{
	char buf[4 * (LIBMEMFD_NAME_MAX + 1)];
	struct libscols_line *line;

	line = scols_table_new_line(out->table, NULL);
	if (!line)
		return -ENOMEM;
	for (size_t i = 0; i < out->count; i++) {
		enum column_id id = out->ids[i];
		struct libscols_cell *cell = scols_line_get_cell(line, i);
		uint64_t number = row->number[id];
		const char *data = buf;

		scols_cell_set_userdata(cell, &row->number[id]);
		if (row->blank & (1U << id))
			continue;
		if (columns[id].kind != KIND_TEXT && row->text[id]) {
			/* "mem" for no descriptor: not a JSON number. */
			if (o->json)
				continue;
			data = row->text[id];
		} else switch (columns[id].kind) {
		case KIND_SIZE:
			if (!o->bytes) {
				human_size(number, buf, sizeof(buf));
				break;
			}
			/* fall through */
		case KIND_NUMBER:
			snprintf(buf, sizeof(buf), "%" PRIu64, number);
			break;
		case KIND_BOOL:
			if (o->json)
				data = number ? "true" : "false";
			else
				data = number ? "1" : "0";
			break;
		case KIND_TEXT:
			data = o->json ? json_text(row->text[id], buf) : row->text[id];
			break;
		}
		if (scols_cell_set_data(cell, data) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* What only the file tells, and a memfd that cannot be opened does not. */
#define UNKNOWN_WHEN_DEGRADED \
	(1U << COL_SIZE | 1U << COL_SEALS | 1U << COL_EXEC | 1U << COL_ALLOC)

static void fill_listing_row(struct row *row, const struct memfd_entry *e)
{
	row->number[COL_PID] = (uint64_t)e->pid;
	row->text[COL_COMMAND] = e->command;
	if (e->fd == FD_MAPPED_ONLY) {
		/* lsfd's word for a mapping; sorted after the descriptors. */
		row->text[COL_FD] = "mem";
		row->number[COL_FD] = UINT64_MAX;
	} else {
		row->number[COL_FD] = (uint64_t)e->fd;
	}
	row->text[COL_NAME] = e->name;
	row->number[COL_SIZE] = e->size;
	seals_text(e->seals, row->seals);
	row->text[COL_SEALS] = row->seals;
	row->number[COL_EXEC] = e->exec;
	row->number[COL_HUGETLB] = e->hugetlb;
	row->number[COL_INODE] = e->inode;
	row->number[COL_ALLOC] = e->alloc;
	row->number[COL_MAPPED] = e->mapped;
	row->number[COL_RSS] = e->rss;
	if (e->degraded)
		row->blank |= UNKNOWN_WHEN_DEGRADED;
}

static int compare_identity(const void *a, const void *b)
{
	const struct memfd_entry *x = *(const struct memfd_entry *const *)a;
	const struct memfd_entry *y = *(const struct memfd_entry *const *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

/* The entries that were opened, by identity: what a degraded entry of the
 * same memfd (another process's, say) does not know, they do. */
struct known {
	const struct memfd_entry **list;
	size_t count;
};

static const struct memfd_entry *known_entry(const struct known *k, const struct memfd_entry *e)
{
	const struct memfd_entry **found;

	if (!e->degraded)
		return e;
	found = bsearch(&e, k->list, k->count, sizeof(*k->list), compare_identity);
	return found ? *found : NULL;
}

/*
 * Count and add up distinct memfds: one held through several descriptors,
 * or by several processes, counts once. With mappings, the memfds of one
 * process: its mapped and rss are the same on each entry. Returns how
 * many sizes were unknown. Reorders list.
 */
static size_t tally(const struct memfd_entry **list, size_t n, struct row *row,
		    const struct known *k, bool mappings)
{
	size_t unknown = 0;

	qsort(list, n, sizeof(*list), compare_identity);
	for (size_t i = 0; i < n; i++) {
		const struct memfd_entry *known;

		if (i > 0 && compare_identity(&list[i - 1], &list[i]) == 0)
			continue;
		row->number[COL_MEMFDS]++;
		if (mappings) {
			row->number[COL_MAPPED] += list[i]->mapped;
			row->number[COL_RSS] += list[i]->rss;
		}
		known = known_entry(k, list[i]);
		if (known) {
			row->number[COL_SIZE] += known->size;
			row->number[COL_ALLOC] += known->alloc;
		} else {
			row->blank |= 1U << COL_SIZE | 1U << COL_ALLOC;
			unknown++;
		}
	}
	return unknown;
}

/* One row per process that holds or maps memfds, then the total (where a
 * page resident in two processes counts twice, as RSS does everywhere).
 * *unknown: the memfds whose size is not known. */
static size_t fill_summary_rows(struct row *rows, const struct scan *s,
				const struct memfd_entry **list, const struct known *k,
				size_t *unknown)
{
	size_t nrows = 0, first = 0;
	struct row *total;

	for (size_t i = 0; i <= s->count; i++) {
		if (i < s->count && s->entries[i].pid == s->entries[first].pid)
			continue;
		if (i > first) {
			struct row *row = &rows[nrows++];

			for (size_t j = first; j < i; j++)
				list[j - first] = &s->entries[j];
			row->number[COL_PID] = (uint64_t)s->entries[first].pid;
			row->text[COL_COMMAND] = s->entries[first].command;
			tally(list, i - first, row, k, true);
		}
		first = i;
	}

	total = &rows[nrows];
	for (size_t i = 0; i < nrows; i++) {
		total->number[COL_MAPPED] += rows[i].number[COL_MAPPED];
		total->number[COL_RSS] += rows[i].number[COL_RSS];
	}
	for (size_t i = 0; i < s->count; i++)
		list[i] = &s->entries[i];
	total->blank = 1U << COL_PID;
	total->text[COL_COMMAND] = "total";
	*unknown = tally(list, s->count, total, k, false);
	return nrows + 1;
}

/* Print the table; *unknown: how many memfds it shows without a size. */
int print_scan(const struct scan *s, const struct options *o, FILE *stream, size_t *unknown)
{
	struct output out = { 0 };
	const struct memfd_entry **list = NULL;
	struct known known = { 0 };
	struct row *rows;
	size_t nrows, sorted;
	int r;

	/* A summary has at most a row per memfd, and the total. */
	rows = calloc(s->count + 1, sizeof(*rows));
	if (o->summary) {
		list = calloc(s->count + 1, sizeof(*list));
		known.list = calloc(s->count + 1, sizeof(*known.list));
	}
	if (!rows || (o->summary && (!list || !known.list))) {
		r = -ENOMEM;
		goto out;
	}
	*unknown = 0;
	if (o->summary) {
		for (size_t i = 0; i < s->count; i++) {
			if (!s->entries[i].degraded)
				known.list[known.count++] = &s->entries[i];
		}
		qsort(known.list, known.count, sizeof(*known.list), compare_identity);
		nrows = fill_summary_rows(rows, s, list, &known, unknown);
		sorted = nrows - 1; /* the total stays last */
	} else {
		for (size_t i = 0; i < s->count; i++) {
			fill_listing_row(&rows[i], &s->entries[i]);
			*unknown += s->entries[i].degraded;
		}
		nrows = sorted = s->count;
	}

	r = new_table(&out, o);
	if (r == 0 && scols_table_set_stream(out.table, stream) < 0)
		r = -EINVAL;
	for (size_t i = 0; r == 0 && i < sorted; i++)
		r = add_line(&out, &rows[i], o);
	if (r == 0 && out.sort)
		r = scols_sort_table(out.table, out.sort);
	for (size_t i = sorted; r == 0 && i < nrows; i++)
		r = add_line(&out, &rows[i], o);
	if (r == 0)
		r = scols_print_table(out.table);
out:
	if (r < 0)
		warnx("%s", strerror(-r));
	scols_unref_table(out.table);
	free(known.list);
	free(list);
	free(rows);
	return r;
}
