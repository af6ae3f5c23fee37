/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: lsmemfd's output of names and commands, which the listed
 * processes choose (a memfd's name, prctl(PR_SET_NAME)), through the tool's
 * own print_scan: as a table, raw, and as JSON, in the C and a UTF-8
 * locale. Whatever the bytes, the JSON must be valid (RFC 8259, UTF-8) and
 * give back the very name and command once its \xNN escapes are undone;
 * the table must hold no control character a terminal would obey, and in
 * a UTF-8 locale be valid UTF-8. No descriptor may be left behind.
 *
 * Input: a flags byte, four bytes of seals (little-endian), then the name
 * (as readlink gives it, or with flag PATH the name field of a line of
 * /proc/PID/maps, decoded as lsmemfd decodes it), a NUL, and the command.
 *
 * fuzz-needs: tools/lsmemfd-table.c tools/lsmemfd-maps.c
 * fuzz-packages: smartcols
 */
#include "config.h"

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsmemfd.h"

#include "open-fds.h"

enum {
	JSON = 1 << 0,
	RAW = 1 << 1,
	NOHEADINGS = 1 << 2,
	UTF8 = 1 << 3,
	PATH = 1 << 4,
	SUMMARY_TABLE = 1 << 5,
};

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *s, const unsigned char *end,
			    unsigned int *code)
{
	size_t len;
	unsigned int c, min;

	if (s[0] < 0x80) {
		*code = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - s) < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*code = c;
	return len;
}

static void put_utf8(unsigned int c, char **out)
{
	unsigned char *o = (unsigned char *)*out;

	if (c < 0x80) {
		*o++ = (unsigned char)c;
	} else if (c < 0x800) {
		*o++ = (unsigned char)(0xc0 | c >> 6);
		*o++ = (unsigned char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*o++ = (unsigned char)(0xe0 | c >> 12);
		*o++ = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		*o++ = (unsigned char)(0x80 | (c & 0x3f));
	} else {
		*o++ = (unsigned char)(0xf0 | c >> 18);
		*o++ = (unsigned char)(0x80 | (c >> 12 & 0x3f));
		*o++ = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		*o++ = (unsigned char)(0x80 | (c & 0x3f));
	}
	*out = (char *)o;
}

/* A strict JSON parser (RFC 8259) that keeps the values of the strings
 * whose key is "name" or "command", decoded. */
struct json {
	const unsigned char *p, *end;
	char names[3][4 * COMMAND_MAX + 4 * (LIBMEMFD_NAME_MAX + 1)];
	int found[2];
};

static void ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned int hex4(struct json *j)
{
	unsigned int v = 0;

	if (j->end - j->p < 4)
		abort();
	for (int i = 0; i < 4; i++) {
		int h = hex(*j->p++);

		if (h < 0)
			abort();
		v = v << 4 | (unsigned int)h;
	}
	return v;
}

/* A string at j->p, decoded into out (NULL: skipped); aborts if invalid. */
static void string(struct json *j, char *out, size_t size)
{
	char *o = out, buf[4];

	if (j->p == j->end || *j->p++ != '"')
		abort();
	for (;;) {
		unsigned int c;
		size_t len;
		char *b = buf;

		if (j->p == j->end)
			abort(); /* unterminated */
		if (*j->p == '"') {
			j->p++;
			break;
		}
		if (*j->p < 0x20)
			abort(); /* a raw control character */
		if (*j->p == '\\') {
			j->p++;
			if (j->p == j->end)
				abort();
			switch (*j->p++) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				c = hex4(j);
				if (c >= 0xdc00 && c <= 0xdfff)
					abort(); /* a lone low surrogate */
				if (c >= 0xd800 && c <= 0xdbff) {
					unsigned int low;

					if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
						abort();
					j->p += 2;
					low = hex4(j);
					if (low < 0xdc00 || low > 0xdfff)
						abort();
					c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
				}
				break;
			default:
				abort(); /* no such escape */
			}
		} else {
			len = utf8_sequence(j->p, j->end, &c);
			if (len == 0)
				abort(); /* JSON text is UTF-8 */
			j->p += len;
		}
		put_utf8(c, &b);
		if (out) {
			if ((size_t)(o - out) + (size_t)(b - buf) >= size)
				abort();
			memcpy(o, buf, (size_t)(b - buf));
			o += b - buf;
		}
	}
	if (out)
		*o = '\0';
}

static void value(struct json *j, int depth);
static void literal(struct json *j, const char *word);

static void members(struct json *j, int depth, bool object)
{
	ws(j);
	if (j->p < j->end && *j->p == (object ? '}' : ']')) {
		j->p++;
		return;
	}
	for (;;) {
		ws(j);
		if (object) {
			const unsigned char *key = j->p;
			int which = -1;

			string(j, NULL, 0);
			if ((size_t)(j->p - key) == 6 && memcmp(key, "\"name\"", 6) == 0)
				which = 0;
			else if ((size_t)(j->p - key) == 9 && memcmp(key, "\"command\"", 9) == 0)
				which = 1;
			ws(j);
			if (j->p == j->end || *j->p++ != ':')
				abort();
			ws(j);
			if (which >= 0) {
				/* The first: the summary's total comes after. */
				char *out = j->found[which] ? j->names[2] : j->names[which];

				/* libsmartcols writes an empty cell as null. */
				if (j->p < j->end && *j->p == 'n') {
					literal(j, "null");
					*out = '\0';
				} else {
					string(j, out, sizeof(j->names[which]));
					if (!*out)
						abort();
				}
				j->found[which]++;
			} else {
				value(j, depth + 1);
			}
		} else {
			value(j, depth + 1);
		}
		ws(j);
		if (j->p == j->end)
			abort();
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != (object ? '}' : ']'))
			abort();
		return;
	}
}

static void literal(struct json *j, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(j->end - j->p) < len || memcmp(j->p, word, len) != 0)
		abort();
	j->p += len;
}

static void value(struct json *j, int depth)
{
	if (depth > 8 || j->p == j->end)
		abort();
	switch (*j->p) {
	case '{': j->p++; members(j, depth, true); break;
	case '[': j->p++; members(j, depth, false); break;
	case '"': string(j, NULL, 0); break;
	case 't': literal(j, "true"); break;
	case 'f': literal(j, "false"); break;
	case 'n': literal(j, "null"); break;
	default:
		/* lsmemfd's numbers are unsigned integers. */
		if (*j->p < '0' || *j->p > '9')
			abort();
		if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9')
			abort();
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
}

/* Undo lsmemfd's \xNN, which stands for a byte that is not valid UTF-8
 * (and for the backslash of a "\x" in a name): the name comes back. */
static void undo_hex_escapes(char *s)
{
	char *in = s, *out = s;

	while (*in) {
		if (in[0] == '\\' && in[1] == 'x' && hex(in[2]) >= 0 && hex(in[3]) >= 0) {
			*out++ = (char)(hex(in[2]) << 4 | hex(in[3]));
			in += 4;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

static void check_json(const char *text, size_t len, const struct memfd_entry *e, bool summary)
{
	struct json j = { .p = (const unsigned char *)text, .end = (const unsigned char *)text + len };

	ws(&j);
	value(&j, 0);
	ws(&j);
	if (j.p != j.end)
		abort(); /* anything after the one value */
	/* The summary's second row is the total, "command": "total". */
	if (j.found[0] != !summary || j.found[1] != 1 + summary ||
	    (summary && strcmp(j.names[2], "total") != 0))
		abort();
	for (int i = 0; i < 2; i++) {
		if (!j.found[i])
			continue;
		undo_hex_escapes(j.names[i]);
		if (strcmp(j.names[i], i == 0 ? e->name : e->command) != 0)
			abort();
	}
}

/* Nothing a terminal would obey: no C0 control character but the newline
 * that ends a line, no DEL, and no C1 control character; in a UTF-8
 * locale nothing that is not well-formed UTF-8, in the C locale nothing
 * but ASCII. */
static void check_table(const char *text, size_t len, bool utf8)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;

	while (p < end) {
		unsigned int c;
		size_t n = 1;

		if (utf8) {
			n = utf8_sequence(p, end, &c);
			if (n == 0)
				abort();
		} else {
			c = *p;
			if (c >= 0x80)
				abort();
		}
		if ((c < 0x20 && c != '\n') || c == 0x7f || (c >= 0x80 && c <= 0x9f))
			abort();
		p += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct memfd_entry entry;
	struct scan s = { .entries = &entry, .count = 1 };
	struct options o = { .sort = -1 };
	const uint8_t *end = data + size, *name, *nul;
	char *text = NULL;
	size_t text_len = 0, unknown, name_len;
	int before, flags;
	FILE *stream;

	if (size < 5)
		return 0;
	before = open_fds();
	flags = data[0];
	memset(&entry, 0, sizeof(entry));
	entry.pid = 4242;
	entry.fd = flags & 0x40 ? FD_MAPPED_ONLY : 3;
	entry.seals = (unsigned int)data[1] | (unsigned int)data[2] << 8 |
		      (unsigned int)data[3] << 16 | (unsigned int)data[4] << 24;
	entry.size = entry.mapped = (uint64_t)data[1] << (data[2] & 63);
	entry.degraded = flags & 0x80;
	name = data + 5;
	nul = memchr(name, '\0', (size_t)(end - name));
	name_len = (size_t)((nul ? nul : end) - name);
	if (flags & PATH) {
		/* As lsmemfd-scan.c takes a name from maps. */
		const char *field;
		size_t field_len;

		if (!maps_path_is_memfd((const char *)name, name_len, &field, &field_len) ||
		    !decode_maps_name(field, field_len, entry.name))
			return 0;
	} else {
		/* A memfd's name, as its descriptor's link in /proc reads. */
		if (name_len > LIBMEMFD_NAME_MAX)
			return 0;
		memcpy(entry.name, name, name_len);
	}
	if (nul) {
		size_t command_len = (size_t)(end - nul - 1);

		memcpy(entry.command, nul + 1,
		       command_len < COMMAND_MAX - 1 ? command_len : COMMAND_MAX - 1);
		/* /proc/PID/comm holds no NUL: the command ends at the first. */
	}

	o.json = flags & JSON;
	o.raw = !o.json && (flags & RAW);
	o.noheadings = flags & NOHEADINGS;
	o.summary = flags & SUMMARY_TABLE;
	if (o.summary) {
		o.shown[o.nshown++] = COL_PID;
		o.shown[o.nshown++] = COL_COMMAND;
		o.shown[o.nshown++] = COL_MEMFDS;
		o.shown[o.nshown++] = COL_SIZE;
	} else {
		o.shown[o.nshown++] = COL_PID;
		o.shown[o.nshown++] = COL_COMMAND;
		o.shown[o.nshown++] = COL_FD;
		o.shown[o.nshown++] = COL_NAME;
		o.shown[o.nshown++] = COL_SIZE;
		o.shown[o.nshown++] = COL_SEALS;
		o.shown[o.nshown++] = COL_EXEC;
		o.shown[o.nshown++] = COL_MAPPED;
	}
	if (!setlocale(LC_ALL, flags & UTF8 ? "C.UTF-8" : "C"))
		abort();

	stream = open_memstream(&text, &text_len);
	if (!stream)
		abort();
	if (print_scan(&s, &o, stream, &unknown) < 0)
		abort();
	if (fclose(stream) != 0)
		abort();
	if (unknown != (entry.degraded ? 1 : 0))
		abort();
	if (o.json)
		check_json(text, text_len, &entry, o.summary);
	else
		check_table(text, text_len, flags & UTF8);
	free(text);
	if (open_fds() != before)
		abort(); /* a descriptor left behind */
	return 0;
}
