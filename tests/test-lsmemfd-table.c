/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd's output (tools/lsmemfd-table.c) of names and commands that the
 * listed processes choose: JSON keeps well-formed UTF-8 (3- and 4-byte
 * sequences too) and writes every other byte as \xNN (overlong forms,
 * surrogates, code points above U+10FFFF, stray and cut sequences), the
 * table lets no control character through, and seal bits that lsmemfd has
 * no name for are printed in hex. fuzz/fuzz-lsmemfd-names.c checks the
 * same properties over any bytes.
 */
#include "config.h"

#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/lsmemfd.h"
#include "test-common.h"

enum format { TABLE, RAW, JSON };

/* What lsmemfd prints of one memfd with this name and seals, held by a
 * process with this command: the columns NAME, COMMAND and SEALS. */
static char *print(const char *name, const char *command, unsigned int seals,
		   enum format format, const char *locale)
{
	static struct memfd_entry e;
	struct scan s = { .entries = &e, .count = 1 };
	struct options o = { .sort = -1, .json = format == JSON, .raw = format == RAW,
			     .noheadings = true };
	char *text = NULL;
	size_t len = 0, unknown = 1;
	FILE *stream;

	memset(&e, 0, sizeof(e));
	e.pid = 1;
	e.fd = 3;
	ck_assert_uint_le(strlen(name), LIBMEMFD_NAME_MAX);
	strcpy(e.name, name);
	strcpy(e.command, command);
	e.seals = seals;
	o.shown[o.nshown++] = COL_NAME;
	o.shown[o.nshown++] = COL_COMMAND;
	o.shown[o.nshown++] = COL_SEALS;
	ck_assert_ptr_nonnull(setlocale(LC_ALL, locale));
	stream = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(stream);
	ck_assert_int_eq(print_scan(&s, &o, stream, &unknown), 0);
	ck_assert_int_eq(fclose(stream), 0);
	ck_assert_uint_eq(unknown, 0);
	return text;
}

/* The JSON value of key in lsmemfd's output for name. */
static void ck_json_value(const char *name, const char *command, const char *key,
			  const char *want)
{
	char *text = print(name, command, 0, JSON, "C.UTF-8"), line[2048];

	snprintf(line, sizeof(line), "\"%s\": %s", key, want);
	if (!strstr(text, line))
		ck_abort_msg("JSON for name \"%s\": no %s in\n%s", name, line, text);
	free(text);
}

#define ck_json_name(name, want) ck_json_value(name, "c", "name", "\"" want "\"")

START_TEST(test_json_utf8)
{
	ck_json_name("plain", "plain");
	/* 2-, 3- and 4-byte sequences: kept as they are. */
	ck_json_name("caf\xc3\xa9", "caf\xc3\xa9");
	ck_json_name("\xe2\x82\xac 3 bytes", "\xe2\x82\xac 3 bytes");
	ck_json_name("\xef\xbf\xbd\xe0\xa0\x80", "\xef\xbf\xbd\xe0\xa0\x80"); /* U+FFFD, U+0800 */
	ck_json_name("\xf0\x9f\x98\x80 4 bytes", "\xf0\x9f\x98\x80 4 bytes");
	ck_json_name("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
	/* The highest code point below the surrogates and the lowest after. */
	ck_json_name("\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80");
}
END_TEST

START_TEST(test_json_not_utf8)
{
	/* Overlong forms, of '/' and of NUL. */
	ck_json_name("\xc0\xaf", "\\\\xc0\\\\xaf");
	ck_json_name("\xc1\xbf", "\\\\xc1\\\\xbf");
	ck_json_name("\xe0\x80\xaf", "\\\\xe0\\\\x80\\\\xaf");
	ck_json_name("\xe0\x9f\xbf", "\\\\xe0\\\\x9f\\\\xbf");
	ck_json_name("\xf0\x80\x80\xaf", "\\\\xf0\\\\x80\\\\x80\\\\xaf");
	ck_json_name("\xf0\x8f\xbf\xbf", "\\\\xf0\\\\x8f\\\\xbf\\\\xbf");
	ck_json_name("a\xc0\x80z", "a\\\\xc0\\\\x80z");
	/* Surrogates, alone and as a pair (CESU-8). */
	ck_json_name("\xed\xa0\x80", "\\\\xed\\\\xa0\\\\x80");
	ck_json_name("\xed\xbf\xbf", "\\\\xed\\\\xbf\\\\xbf");
	ck_json_name("\xed\xa0\xbd\xed\xb8\x80",
		     "\\\\xed\\\\xa0\\\\xbd\\\\xed\\\\xb8\\\\x80");
	/* Above U+10FFFF, and lead bytes that never start a sequence. */
	ck_json_name("\xf4\x90\x80\x80", "\\\\xf4\\\\x90\\\\x80\\\\x80");
	ck_json_name("\xf5\x80\x80\x80", "\\\\xf5\\\\x80\\\\x80\\\\x80");
	ck_json_name("\xf8\x88\x80\x80\x80", "\\\\xf8\\\\x88\\\\x80\\\\x80\\\\x80");
	ck_json_name("\xfe\xff", "\\\\xfe\\\\xff");
	/* A stray continuation byte; sequences cut short, here and at the end,
	 * where what follows is kept. */
	ck_json_name("\x80", "\\\\x80");
	ck_json_name("\xe2\x82z", "\\\\xe2\\\\x82z");
	ck_json_name("\xe2\xe2\x82\xac", "\\\\xe2\xe2\x82\xac");
	ck_json_name("end\xf0\x9f\x98", "end\\\\xf0\\\\x9f\\\\x98");
	/* The backslash of a "\x" that was in the name: not an escape. */
	ck_json_name("\\x41", "\\\\x5cx41");
	ck_json_name("a\\b", "a\\\\b");
}
END_TEST

START_TEST(test_json_specials)
{
	/* Quotes and control characters are JSON's to escape. */
	ck_json_name("\"quoted\"", "\\\"quoted\\\"");
	ck_json_name("tab\tnew\nline", "tab\\tnew\\nline");
	ck_json_name("\x1b[31m", "\\u001b[31m");
	ck_json_name("x (deleted)", "x (deleted)");
	/* The command, which the process sets with prctl(PR_SET_NAME). */
	ck_json_value("n", "\xff\x1b\xe2\x82\xac", "command", "\"\\\\xff\\u001b\xe2\x82\xac\"");
	/* No name, like no seals: an empty cell, which JSON shows as null. */
	ck_json_value("", "c", "name", "null");
	ck_json_value("n", "c", "seals", "null");
}
END_TEST

/* Whether text holds a control character a terminal would obey: C0
 * (other than the newline ending a line), DEL, or (in UTF-8) C1. */
static bool has_control(const char *text, bool utf8)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			return true;
		if (utf8 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return true;
	}
	return false;
}

START_TEST(test_table_controls)
{
	static const char name[] = "\x1b]0;title\x07\x1b[2J\r\b\x7f\xc2\x9b" "2J\xc2\x85\xe2\x82\xac";
	static const struct {
		enum format format;
		const char *locale;
		bool utf8;
	} ways[] = {
		{ TABLE, "C.UTF-8", true }, { RAW, "C.UTF-8", true },
		{ TABLE, "C", false },      { RAW, "C", false },
	};

	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		char *text = print(name, "\x1b[1m\t", 0, ways[i].format, ways[i].locale);

		if (has_control(text, ways[i].utf8))
			ck_abort_msg("way %zu lets a control character through: %s", i, text);
		ck_assert_ptr_nonnull(strstr(text, "\\x1b]0;title\\x07\\x1b[2J\\x0d\\x08\\x7f"));
		free(text);
	}
}
END_TEST

START_TEST(test_seals_in_hex)
{
	static const struct {
		unsigned int seals;
		const char *text;
	} cases[] = {
		{ F_SEAL_SEAL | F_SEAL_WRITE, "seal,write" },
		{ F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE |
			  F_SEAL_EXEC, "seal,shrink,grow,write,future_write,exec" },
		/* Bits a newer kernel may add, after the names it knows. */
		{ F_SEAL_SEAL | 0x40, "seal,0x40" },
		{ F_SEAL_EXEC | 0x80000000u, "exec,0x80000000" },
		{ 0x100, "0x100" },
		{ 0xffffffffu, "seal,shrink,grow,write,future_write,exec,0xffffffc0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = print("n", "c", cases[i].seals, RAW, "C");
		char want[128];

		snprintf(want, sizeof(want), "n c %s\n", cases[i].text);
		ck_assert_str_eq(text, want);
		free(text);
		text = print("n", "c", cases[i].seals, JSON, "C");
		snprintf(want, sizeof(want), "\"seals\": \"%s\"", cases[i].text);
		ck_assert_ptr_nonnull(strstr(text, want));
		free(text);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lsmemfd-table");
	TCase *tc = tcase_with_leak_check("json");

	tcase_add_test(tc, test_json_utf8);
	tcase_add_test(tc, test_json_not_utf8);
	tcase_add_test(tc, test_json_specials);
	suite_add_tcase(s, tc);
	tc = tcase_with_leak_check("table");
	tcase_add_test(tc, test_table_controls);
	tcase_add_test(tc, test_seals_in_hex);
	suite_add_tcase(s, tc);

	return run_suites(srunner_create(s));
}
