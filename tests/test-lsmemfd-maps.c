/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd's reading of /proc/PID/maps and smaps (tools/lsmemfd-maps.c):
 * lines as the kernel writes them, lines no kernel writes (what a parser
 * of text that other processes' names are in must refuse), the \012 rule
 * of names, and files read whole: this process's own, and made-up ones.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../tools/lsmemfd.h"
#include "test-common.h"

static bool parse(const char *line, struct maps_line *l)
{
	return parse_maps_line(line, strlen(line), l);
}

START_TEST(test_memfd_line)
{
	const char *line = "7f7174fc6000-7f7174fc7000 rw-s 00004000 00:01 110950"
			   "                     /memfd:lit\\012eral (deleted)";
	struct maps_line l;
	const char *name;
	size_t len;

	ck_assert(parse(line, &l));
	ck_assert_uint_eq(l.start, 0x7f7174fc6000);
	ck_assert_uint_eq(l.end, 0x7f7174fc7000);
	ck_assert_uint_eq(l.offset, 0x4000);
	ck_assert_uint_eq(l.dev, makedev(0, 1));
	ck_assert_uint_eq(l.inode, 110950);
	ck_assert_uint_eq(l.path_len, strlen("/memfd:lit\\012eral (deleted)"));
	ck_assert(memcmp(l.path, "/memfd:lit\\012eral (deleted)", l.path_len) == 0);
	ck_assert(maps_path_is_memfd(l.path, l.path_len, &name, &len));
	ck_assert_uint_eq(len, strlen("lit\\012eral"));
	ck_assert(memcmp(name, "lit\\012eral", len) == 0);
}
END_TEST

START_TEST(test_other_lines)
{
	struct maps_line l;

	/* Anonymous memory: no path. */
	ck_assert(parse("7f79b152f000-7f79b1532000 rw-p 00000000 00:00 0 ", &l));
	ck_assert_ptr_null(l.path);
	ck_assert(parse("7f79b152f000-7f79b1532000 rw-p 00000000 00:00 0", &l));
	ck_assert_ptr_null(l.path);
	/* A 32-bit process, a device of more than two digits. */
	ck_assert(parse("08048000-08049000 r-xp 00000000 103:02 1234 /bin/x", &l));
	ck_assert_uint_eq(l.start, 0x08048000);
	ck_assert_uint_eq(l.dev, makedev(0x103, 2));
	ck_assert(parse("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
			"                  [vsyscall]", &l));
	ck_assert_uint_eq(l.end, 0xffffffffff601000);
}
END_TEST

/* What no kernel writes is no mapping: smaps fields among them. */
START_TEST(test_malformed_lines)
{
	static const char *const bad[] = {
		"",
		"Rss:                   4 kB",
		"VmFlags: rd wr sh mr mw me ms sd",
		"7F00-7F01 rw-s 00000000 00:01 1 /memfd:x (deleted)",	/* upper case */
		"7f00-7f01 rw-s 00000000 00:01 1/memfd:x (deleted)",	/* no space */
		"7f00 rw-s 00000000 00:01 1 /memfd:x (deleted)",
		"7f00-7f01 rw-s 00000000 00:01",
		"7f00-7f01 rw-s 00000000 0001 1 /memfd:x (deleted)",
		"7f00-7f01 rws 00000000 00:01 1 /memfd:x (deleted)",	/* perms */
		"7f00-7f01 rw-s 00000000 00:01 x /memfd:x (deleted)",
		"7f01-7f00 rw-s 00000000 00:01 1 /memfd:x (deleted)",	/* end < start */
		"1000000000000000f-1000000000000001f rw-s 0 00:01 1 /memfd:x (deleted)",
		"7f00-7f01 rw-s 00000000 00:100000000 1 /memfd:x (deleted)",
		"7f00-7f01 rw-s 00000000 00:01 184467440737095516160 /memfd:x (deleted)",
		"7f00-7f01 rw-s 00000000 00:01 18446744073709551616 /memfd:x (deleted)",
		"-7f01 rw-s 00000000 00:01 1 /memfd:x (deleted)",
	};
	struct maps_line l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse(bad[i], &l), "parsed: %s", bad[i]);
	ck_assert(parse("7f00-7f01 rw-s 00000000 00:01 18446744073709551615 /memfd:x (deleted)", &l));
	ck_assert_uint_eq(l.inode, UINT64_MAX);
}
END_TEST

static bool is_memfd(const char *path, const char *want)
{
	const char *name;
	size_t len;

	if (!maps_path_is_memfd(path, strlen(path), &name, &len))
		return false;
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(name, want, len) == 0);
	return true;
}

START_TEST(test_memfd_paths)
{
	char longest[1 + 6 + MAPS_NAME_MAX + 1 + 10 + 1], *p = longest;

	ck_assert(is_memfd("/memfd:x (deleted)", "x"));
	ck_assert(is_memfd("/memfd: (deleted)", ""));
	/* A name that ends the way the kernel's suffix does. */
	ck_assert(is_memfd("/memfd:a (deleted) (deleted)", "a (deleted)"));
	ck_assert(is_memfd("/memfd:/memfd:x (deleted)", "/memfd:x"));
	ck_assert(!is_memfd("/memfd:x", NULL));
	ck_assert(!is_memfd("memfd:x (deleted)", NULL));
	ck_assert(!is_memfd("/dev/zero (deleted)", NULL));
	ck_assert(!is_memfd("/SYSV00000000 (deleted)", NULL));
	ck_assert(!is_memfd("/dev/shm/memfd:x (deleted)", NULL));
	ck_assert(!is_memfd("/memfd:x(deleted)", NULL));
	ck_assert(!maps_path_is_memfd(NULL, 0, &(const char *){ NULL }, &(size_t){ 0 }));

	p += sprintf(p, "/memfd:");
	for (int i = 0; i < LIBMEMFD_NAME_MAX; i++)
		p += sprintf(p, "\\012");
	sprintf(p, " (deleted)");
	ck_assert(maps_path_is_memfd(longest, strlen(longest), &(const char *){ NULL },
				     &(size_t){ 0 }));
	strcpy(p, "x (deleted)");
	ck_assert(!maps_path_is_memfd(longest, strlen(longest), &(const char *){ NULL },
				      &(size_t){ 0 }));
}
END_TEST

static const char *decoded(const char *name)
{
	static char out[LIBMEMFD_NAME_MAX + 1];

	return decode_maps_name(name, strlen(name), out) ? out : NULL;
}

START_TEST(test_decode)
{
	char name[4 * LIBMEMFD_NAME_MAX + 2] = "";

	ck_assert_str_eq(decoded("plain"), "plain");
	ck_assert_str_eq(decoded("new\\012line"), "new\nline");
	/* The four characters read as a newline: maps cannot tell. */
	ck_assert_str_eq(decoded("\\012\\012"), "\n\n");
	ck_assert_str_eq(decoded("back\\slash"), "back\\slash");
	ck_assert_str_eq(decoded("\\01"), "\\01");
	ck_assert_str_eq(decoded("\\0123"), "\n3");
	ck_assert_str_eq(decoded("\\\\012"), "\\\n");
	ck_assert_str_eq(decoded("bad\xfe\xff"), "bad\xfe\xff");
	ck_assert_str_eq(decoded(""), "");

	for (int i = 0; i < LIBMEMFD_NAME_MAX; i++)
		strcat(name, "\\012");
	ck_assert_uint_eq(strlen(decoded(name)), LIBMEMFD_NAME_MAX);
	strcat(name, "x");
	ck_assert_ptr_null(decoded(name));
	memset(name, 'a', LIBMEMFD_NAME_MAX);
	name[LIBMEMFD_NAME_MAX] = '\0';
	ck_assert_uint_eq(strlen(decoded(name)), LIBMEMFD_NAME_MAX);
	ck_assert(!decode_maps_name("a\0b", 3, name));
}
END_TEST

static bool matches(const char *name, const char *maps_name)
{
	return maps_name_matches(name, maps_name, strlen(maps_name));
}

START_TEST(test_matches)
{
	ck_assert(matches("plain", "plain"));
	ck_assert(matches("new\nline", "new\\012line"));
	ck_assert(matches("lit\\012eral", "lit\\012eral"));
	ck_assert(matches("", ""));
	/* maps never holds a newline itself. */
	ck_assert(!matches("new\nline", "new\nline"));
	ck_assert(!matches("plain", "plain2"));
	ck_assert(!matches("plain2", "plain"));
	ck_assert(!matches("a\n", "a\\01"));
	ck_assert(!matches("other", "plain"));
}
END_TEST

static bool field(const char *line, const char *key, uint64_t *bytes)
{
	return parse_smaps_field(line, strlen(line), key, bytes);
}

START_TEST(test_smaps_fields)
{
	uint64_t bytes = 0;

	ck_assert(field("Rss:                   4 kB", "Rss", &bytes));
	ck_assert_uint_eq(bytes, 4096);
	ck_assert(field("Private_Hugetlb:    2048 kB", "Private_Hugetlb", &bytes));
	ck_assert_uint_eq(bytes, 2048 * 1024);
	ck_assert(field("Rss: 0 kB", "Rss", &bytes));
	ck_assert_uint_eq(bytes, 0);
	ck_assert(field("Rss: 18014398509481983 kB", "Rss", &bytes));
	ck_assert_uint_eq(bytes, UINT64_C(18014398509481983) * 1024);
	ck_assert(!field("Rss: 18014398509481984 kB", "Rss", &bytes));
	ck_assert(!field("Pss:                   4 kB", "Rss", &bytes));
	ck_assert(!field("RssAnon:               4 kB", "Rss", &bytes));
	ck_assert(!field("Rss:                   4 MB", "Rss", &bytes));
	ck_assert(!field("Rss:                   x kB", "Rss", &bytes));
	ck_assert(!field("Rss:                  -4 kB", "Rss", &bytes));
	ck_assert(!field("Rss:                     kB", "Rss", &bytes));
	ck_assert(!field("Rss: 4 kB ", "Rss", &bytes));
	ck_assert(!field("Rss:", "Rss", &bytes));
}
END_TEST

#define FAKE_PROC "/tmp/lsmemfd-maps-test-XXXXXX"

/* A directory standing for /proc/PID, with maps or smaps as given. */
static int fake_proc(char dir[sizeof(FAKE_PROC)], const char *file, const char *text, size_t len)
{
	char path[PATH_MAX];
	int fd, dir_fd;

	strcpy(dir, FAKE_PROC);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir_fd, 0);
	return dir_fd;
}

static void remove_fake_proc(char dir[], int dir_fd, const char *file)
{
	char path[PATH_MAX];

	close(dir_fd);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	unlink(path);
	rmdir(dir);
}

START_TEST(test_read_smaps)
{
	static const char text[] =
		"7f00-7f04 rw-s 00000000 00:01 10 /memfd:a (deleted)\n"
		"Size:                 16 kB\n"
		"Rss:                   8 kB\n"
		"Shared_Hugetlb:        0 kB\n"
		"VmFlags: rd wr sh\n"
		"7f04-7f05 rw-p 00000000 00:00 0 \n"
		"Rss:                   4 kB\n" /* anonymous: no memfd's */
		"7f05-7f06 rw-s 00000000 00:01 11 /dev/zero (deleted)\n"
		"Rss:                   4 kB\n"
		"7e00-7e20 rw-s 00000000 00:11 12 /memfd:huge (deleted)\n"
		"Rss:                   0 kB\n"
		"Shared_Hugetlb:     2048 kB\n"
		"Private_Hugetlb:    2048 kB\n"
		"7f06-7f07 rw-s 00000000 00:01 13 /memfd:new\\012line (deleted)\n"
		"7f07-7f08 rw-s 00000000 00:01 14 /memfd:cut (deleted)"; /* no newline */
	char dir[sizeof(FAKE_PROC)];
	struct mappings m = { 0 };
	int dir_fd = fake_proc(dir, "smaps", text, strlen(text));

	ck_assert_int_eq(read_memfd_mappings(&m, dir_fd, true), 0);
	ck_assert_uint_eq(m.count, 3);
	ck_assert_uint_eq(m.list[0].inode, 10);
	ck_assert_uint_eq(m.list[0].rss, 8192);
	ck_assert_uint_eq(m.list[1].inode, 12);
	ck_assert_uint_eq(m.list[1].dev, makedev(0, 0x11));
	ck_assert_uint_eq(m.list[1].rss, 4096 * 1024);
	ck_assert_uint_eq(m.list[2].inode, 13);
	ck_assert_uint_eq(m.list[2].rss, 0);
	ck_assert_uint_eq(m.list[2].name_len, strlen("new\\012line"));
	ck_assert(memcmp(m.names + m.list[2].name, "new\\012line", m.list[2].name_len) == 0);
	/* Read again, into the same buffers. */
	ck_assert_int_eq(read_memfd_mappings(&m, dir_fd, true), 0);
	ck_assert_uint_eq(m.count, 3);
	/* maps has no fields: an smaps file read as maps adds no RSS. */
	remove_fake_proc(dir, dir_fd, "smaps");
	mappings_release(&m);
}
END_TEST

START_TEST(test_read_many_and_long)
{
	const size_t lines = 10000, line_len = 64;
	char dir[sizeof(FAKE_PROC)];
	struct mappings m = { 0 };
	char *text = malloc(lines * line_len + 3 * 1024 * 1024), *p = text;
	int dir_fd;

	ck_assert_ptr_nonnull(text);
	/* Many mappings, more than one read of the buffer holds. */
	for (size_t i = 0; i < lines; i++)
		p += sprintf(p, "%zx-%zx rw-s 00000000 00:01 %zu /memfd:m%zu (deleted)\n",
			     0x10000 + i * 0x1000, 0x11000 + i * 0x1000, i + 1, i);
	dir_fd = fake_proc(dir, "maps", text, (size_t)(p - text));
	ck_assert_int_eq(read_memfd_mappings(&m, dir_fd, false), 0);
	ck_assert_uint_eq(m.count, lines);
	ck_assert_uint_eq(m.list[lines - 1].inode, lines);
	remove_fake_proc(dir, dir_fd, "maps");

	/* A line longer than any kernel writes: refused, not a huge buffer. */
	memset(text, 'a', 3 * 1024 * 1024);
	strcpy(text + 3 * 1024 * 1024 - 2, "\n");
	dir_fd = fake_proc(dir, "maps", text, strlen(text));
	ck_assert_int_eq(read_memfd_mappings(&m, dir_fd, false), -EOVERFLOW);
	ck_assert_uint_eq(m.count, 0);
	remove_fake_proc(dir, dir_fd, "maps");
	mappings_release(&m);
	free(text);
}
END_TEST

/* This process's own maps and smaps, as the kernel writes them. */
START_TEST(test_read_self)
{
	/* A name that tries to make a line of its own in maps. */
	const char *name = "x\n7f00-7f01 rw-s 00000000 00:01 1 /memfd:evil (deleted)";
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct mappings m = { 0 };
	struct stat st;
	char *a, *b, *z;
	int fd, self;

	fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)(4 * page)), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	a = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)page);
	z = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(a != MAP_FAILED && b != MAP_FAILED && z != MAP_FAILED);
	a[0] = b[0] = b[page] = z[0] = 1;
	self = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(self, 0);

	for (int smaps = 0; smaps <= 1; smaps++) {
		uint64_t mapped = 0, rss = 0;
		char decoded_name[LIBMEMFD_NAME_MAX + 1];

		ck_assert_int_eq(read_memfd_mappings(&m, self, smaps), 0);
		ck_assert_uint_eq(m.count, 2);
		for (size_t i = 0; i < m.count; i++) {
			ck_assert_uint_eq(m.list[i].dev, (uint64_t)st.st_dev);
			ck_assert_uint_eq(m.list[i].inode, (uint64_t)st.st_ino);
			ck_assert(decode_maps_name(m.names + m.list[i].name, m.list[i].name_len,
						   decoded_name));
			ck_assert_str_eq(decoded_name, name);
			ck_assert(maps_name_matches(name, m.names + m.list[i].name,
						    m.list[i].name_len));
			mapped += m.list[i].end - m.list[i].start;
			rss += m.list[i].rss;
		}
		ck_assert_uint_eq(mapped, 6 * page);
		/* Huge pages of shmem would make more of it resident. */
		if (smaps)
			ck_assert_uint_ge(rss, 3 * page);
		else
			ck_assert_uint_eq(rss, 0);
	}
	close(self);
	munmap(a, 4 * page);
	munmap(b, 2 * page);
	munmap(z, page);
	close(fd);
	mappings_release(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lsmemfd-maps");
	TCase *tc = tcase_with_leak_check("parse");

	tcase_add_test(tc, test_memfd_line);
	tcase_add_test(tc, test_other_lines);
	tcase_add_test(tc, test_malformed_lines);
	tcase_add_test(tc, test_memfd_paths);
	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_matches);
	tcase_add_test(tc, test_smaps_fields);
	suite_add_tcase(s, tc);
	tc = tcase_with_leak_check("read");
	tcase_add_test(tc, test_read_smaps);
	tcase_add_test(tc, test_read_many_and_long);
	tcase_add_test(tc, test_read_self);
	suite_add_tcase(s, tc);

	return run_suites(srunner_create(s));
}
