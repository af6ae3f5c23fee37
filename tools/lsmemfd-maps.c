/* SPDX-License-Identifier: MIT */
/*
 * lsmemfd: the mappings of memfds in /proc/PID/maps and smaps. Their text
 * comes from the process's own mappings and names, so it is parsed as
 * hostile: every field bounded, a line that does not parse is no mapping.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lsmemfd.h"

#define PATH_PREFIX "/memfd:"
#define PATH_SUFFIX " (deleted)"
/* How maps writes a newline (seq_file_path escapes only that, in octal). */
#define NEWLINE_ESCAPE "\\012"

/* A whole file is read through this much at first; a process with many
 * mappings takes several reads, never a bigger buffer: it only grows for
 * a line longer than itself, which no kernel writes. */
#define READ_BUFFER_SIZE (64 * 1024)
#define LINE_MAX_BYTES (1024 * 1024)

/* Digits (lowercase hex, or decimal) up to a character that is not one,
 * at most max_digits of them; false if there are none, or too many. */
static bool parse_number(const char **p, const char *end, unsigned int base,
			 unsigned int max_digits, uint64_t *out)
{
	const char *s = *p;
	uint64_t value = 0;
	unsigned int digits = 0;

	for (; s < end; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else
			break;
		if (++digits > max_digits || value > (UINT64_MAX - d) / base)
			return false;
		value = value * base + d;
	}
	if (digits == 0)
		return false;
	*p = s;
	*out = value;
	return true;
}

static bool skip_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

bool parse_maps_line(const char *line, size_t len, struct maps_line *out)
{
	const char *p = line, *end = line + len;
	uint64_t major, minor;
	struct maps_line l;

	/* "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " (show_map_vma) */
	if (!parse_number(&p, end, 16, 16, &l.start) || !skip_char(&p, end, '-') ||
	    !parse_number(&p, end, 16, 16, &l.end) || !skip_char(&p, end, ' '))
		return false;
	if (end - p < 5 || p[4] != ' ')
		return false;
	p += 5;
	if (!parse_number(&p, end, 16, 16, &l.offset) || !skip_char(&p, end, ' ') ||
	    !parse_number(&p, end, 16, 8, &major) || !skip_char(&p, end, ':') ||
	    !parse_number(&p, end, 16, 8, &minor) || !skip_char(&p, end, ' ') ||
	    !parse_number(&p, end, 10, 20, &l.inode))
		return false;
	if (l.end < l.start || major > UINT32_MAX || minor > UINT32_MAX)
		return false;
	l.dev = (uint64_t)makedev((unsigned int)major, (unsigned int)minor);
	l.path = NULL;
	l.path_len = 0;
	if (p < end) {
		/* Padded with spaces to a column, then the path. */
		if (*p != ' ')
			return false;
		while (p < end && *p == ' ')
			p++;
		if (p < end) {
			l.path = p;
			l.path_len = (size_t)(end - p);
		}
	}
	*out = l;
	return true;
}

bool maps_path_is_memfd(const char *path, size_t len, const char **name, size_t *name_len)
{
	size_t prefix = strlen(PATH_PREFIX), suffix = strlen(PATH_SUFFIX);

	if (!path || len < prefix + suffix || memcmp(path, PATH_PREFIX, prefix) != 0 ||
	    memcmp(path + len - suffix, PATH_SUFFIX, suffix) != 0)
		return false;
	*name = path + prefix;
	*name_len = len - prefix - suffix;
	return *name_len <= MAPS_NAME_MAX;
}

bool decode_maps_name(const char *name, size_t len, char *out)
{
	size_t escape = strlen(NEWLINE_ESCAPE), n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '\0' || n == LIBMEMFD_NAME_MAX)
			return false;
		if (c == '\\' && len - i >= escape && memcmp(name + i, NEWLINE_ESCAPE, escape) == 0) {
			c = '\n';
			i += escape - 1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

bool maps_name_matches(const char *name, const char *maps_name, size_t maps_len)
{
	size_t escape = strlen(NEWLINE_ESCAPE), i = 0;

	for (; *name; name++) {
		if (*name == '\n') {
			if (maps_len - i < escape || memcmp(maps_name + i, NEWLINE_ESCAPE, escape) != 0)
				return false;
			i += escape;
		} else {
			if (i == maps_len || maps_name[i] != *name)
				return false;
			i++;
		}
	}
	return i == maps_len;
}

bool parse_smaps_field(const char *line, size_t len, const char *key, uint64_t *bytes)
{
	size_t key_len = strlen(key), unit = strlen(" kB");
	const char *p = line + key_len + 1, *end = line + len;
	uint64_t kib;

	if (len < key_len + 1 + unit || memcmp(line, key, key_len) != 0 || line[key_len] != ':' ||
	    memcmp(end - unit, " kB", unit) != 0)
		return false;
	end -= unit;
	while (p < end && *p == ' ')
		p++;
	if (!parse_number(&p, end, 10, 20, &kib) || p != end || kib > UINT64_MAX / 1024)
		return false;
	*bytes = kib * 1024;
	return true;
}

static int add_mapping(struct mappings *m, const struct maps_line *l, const char *name,
		       size_t name_len)
{
	if (m->count == m->capacity) {
		size_t capacity = m->capacity ? 2 * m->capacity : 16;
		struct memfd_mapping *list = reallocarray(m->list, capacity, sizeof(*list));

		if (!list)
			return -ENOMEM;
		m->list = list;
		m->capacity = capacity;
	}
	if (m->names_capacity - m->names_len < name_len) {
		size_t capacity = m->names_capacity ? 2 * m->names_capacity : 1024;
		char *names;

		while (capacity - m->names_len < name_len)
			capacity *= 2;
		names = realloc(m->names, capacity);
		if (!names)
			return -ENOMEM;
		m->names = names;
		m->names_capacity = capacity;
	}
	memcpy(m->names + m->names_len, name, name_len);
	m->list[m->count++] = (struct memfd_mapping){
		.start = l->start, .end = l->end, .dev = l->dev, .inode = l->inode,
		.name = m->names_len, .name_len = name_len,
	};
	m->names_len += name_len;
	return 0;
}

/* One line of maps or smaps; *current is the mapping smaps fields add to. */
static int parse_line(struct mappings *m, const char *line, size_t len, bool smaps,
		      struct memfd_mapping **current)
{
	static const char *const resident[] = { "Rss", "Shared_Hugetlb", "Private_Hugetlb" };
	struct maps_line l;
	const char *name;
	size_t name_len;
	uint64_t bytes;
	int r;

	/* Most lines are not a memfd's: look no further at them. */
	if (len > strlen(PATH_PREFIX) && memmem(line, len, PATH_PREFIX, strlen(PATH_PREFIX)) &&
	    parse_maps_line(line, len, &l)) {
		*current = NULL;
		if (!maps_path_is_memfd(l.path, l.path_len, &name, &name_len))
			return 0;
		r = add_mapping(m, &l, name, name_len);
		if (r == 0)
			*current = &m->list[m->count - 1];
		return r;
	}
	if (!smaps)
		return 0;
	/* An smaps field, or the header of a mapping of something else. */
	if (*current) {
		for (size_t i = 0; i < sizeof(resident) / sizeof(resident[0]); i++) {
			if (parse_smaps_field(line, len, resident[i], &bytes)) {
				/* Hugetlb pages are not in Rss, but in the others. */
				(*current)->rss += bytes;
				return 0;
			}
		}
	}
	if (len > 0 && ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')))
		*current = NULL;
	return 0;
}

int read_memfd_mappings(struct mappings *m, int proc_dir, bool smaps)
{
	struct memfd_mapping *current = NULL;
	size_t start = 0, end = 0;
	bool eof = false;
	int fd, r = 0;

	m->count = 0;
	m->names_len = 0;
	if (!m->buf) {
		m->buf = malloc(READ_BUFFER_SIZE);
		if (!m->buf)
			return -ENOMEM;
		m->buf_capacity = READ_BUFFER_SIZE;
	}
	fd = openat(proc_dir, smaps ? "smaps" : "maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		char *line = m->buf + start, *newline = memchr(line, '\n', end - start);
		ssize_t n;

		if (newline) {
			r = parse_line(m, line, (size_t)(newline - line), smaps, &current);
			if (r < 0)
				break;
			start += (size_t)(newline - line) + 1;
			continue;
		}
		/* The kernel ends every line: a last one without is cut. */
		if (eof)
			break;
		/* Keep the start of a line, and read on after it. */
		memmove(m->buf, line, end - start);
		end -= start;
		start = 0;
		if (end == m->buf_capacity) {
			char *buf;

			if (m->buf_capacity >= LINE_MAX_BYTES) {
				r = -EOVERFLOW;
				break;
			}
			buf = realloc(m->buf, 2 * m->buf_capacity);
			if (!buf) {
				r = -ENOMEM;
				break;
			}
			m->buf = buf;
			m->buf_capacity *= 2;
		}
		do
			n = read(fd, m->buf + end, m->buf_capacity - end);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			r = -errno;
			break;
		}
		eof = n == 0;
		end += (size_t)n;
	}
	close(fd);
	if (r < 0)
		m->count = 0;
	return r;
}

void mappings_release(struct mappings *m)
{
	free(m->list);
	free(m->names);
	free(m->buf);
	*m = (struct mappings){ 0 };
}
