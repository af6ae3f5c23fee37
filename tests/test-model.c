/* SPDX-License-Identifier: MIT */
/*
 * A long random sequence of operations on one memfd, each checked against
 * a small model of the kernel's seal rules: what must fail, with which
 * errno, and what the file holds afterwards. Some mappings are guarded
 * (LIBMEMFD_MAP_GUARD) and the file is shrunk under them, through the
 * handle or through another descriptor it does not hear of: the model says
 * which of their pages are still the file's and which have become private
 * (zeros at first, then what was stored there). On a divergence the test
 * prints the seed and the step; LIBMEMFD_MODEL_SEED=<seed> replays it,
 * LIBMEMFD_MODEL_TRACE=1 prints every step, and LIBMEMFD_MODEL_STEPS=<n>
 * sets the length (default 10000).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guard-helpers.h"
#include "test-common.h"

#define MAX_PAGES 12
#define MAX_MAPS 6
#define MAX_MAP_PAGES 3

struct mapping {
	char *addr;
	uint64_t offset, length;
	int writable;
	/* Could be made writable with mprotect: a shared mapping through a
	 * writable descriptor, read-only or not, made before any write seal
	 * (the kernel then clears VM_MAYWRITE). Any such one makes
	 * F_SEAL_WRITE -EBUSY. */
	int may_write;
	/* Guarded: which pages have been replaced by private ones, and what
	 * those hold. */
	int guarded;
	unsigned char replaced[MAX_MAP_PAGES];
	unsigned char *own;
};

struct model {
	uint64_t page, limit;     /* limit: the largest size the test uses */
	uint64_t file_size;       /* the file's size */
	uint64_t recorded;        /* what mfd_size must say */
	unsigned int seals;
	unsigned char *bytes;     /* the file's contents, zero past the end */
	struct mapping maps[MAX_MAPS];
	size_t nmaps;
	/* What this kernel knows (or is made to know by
	 * LIBMEMFD_TEST_OLD_KERNEL): otherwise those seals are EINVAL. */
	int has_exec_seal, has_future_write;
	long replaced; /* guarded pages replaced, for the log */
};

struct run {
	uint64_t rng;
	unsigned int seed;
	long step;
	char op[96];              /* the step's operation, for the report */
};

static uint64_t next_random(struct run *r)
{
	/* xorshift64*: small, and the same sequence on every system. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct run *r, uint64_t n)
{
	return n ? next_random(r) % n : 0;
}

static struct mfd *start(struct model *md)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, "model", 0), 0);
	md->file_size = md->recorded = 0;
	md->seals = (unsigned int)mfd_get_seals(m);
	memset(md->bytes, 0, md->limit);
	md->nmaps = 0;
	return m;
}

static void forget(struct mapping *p)
{
	free(p->own);
	p->own = NULL;
}

static void unmap_all(struct model *md)
{
	for (size_t i = 0; i < md->nmaps; i++) {
		ck_assert_int_eq(mfd_unmap(md->maps[i].addr, md->maps[i].length), 0);
		forget(&md->maps[i]);
	}
	md->nmaps = 0;
}

static size_t pages_of(const struct model *md, const struct mapping *p)
{
	return (size_t)(p->length / md->page);
}

/* A guarded mapping whose every page has been replaced maps the file no
 * more, and so cannot stand in the way of F_SEAL_WRITE. */
static int still_maps_the_file(const struct model *md, const struct mapping *p)
{
	for (size_t k = 0; k < pages_of(md, p); k++)
		if (!p->guarded || !p->replaced[k])
			return 1;
	return 0;
}

static size_t maps_that_may_write(const struct model *md)
{
	size_t n = 0;

	for (size_t i = 0; i < md->nmaps; i++)
		n += md->maps[i].may_write && still_maps_the_file(md, &md->maps[i]);
	return n;
}

static uint64_t round_up(uint64_t n, uint64_t page)
{
	return (n + page - 1) / page * page;
}

/* Page k of a guarded mapping, about to be touched: one the file no
 * longer backs becomes private and zero-filled. */
static void touching(struct model *md, struct mapping *p, size_t k)
{
	if (p->guarded && !p->replaced[k] && p->offset + k * md->page >= round_up(md->file_size, md->page)) {
		p->replaced[k] = 1;
		md->replaced++;
		memset(p->own + k * md->page, 0, md->page);
	}
}

static void shrunk(struct model *md, uint64_t size)
{
	if (size < md->file_size)
		memset(md->bytes + size, 0, md->file_size - size);
	md->file_size = size;
}

/* The file shrunk through another descriptor: the recorded size stays. */
static void shrink_elsewhere(struct mfd *m, struct model *md, struct run *r)
{
	uint64_t size = below(r, md->file_size + 1);
	int fd = dup(mfd_fd(m)), got;

	snprintf(r->op, sizeof(r->op), "another descriptor shrinks the file to %llu, seals %#x",
		 (unsigned long long)size, md->seals);
	ck_assert_int_ge(fd, 0);
	got = ftruncate(fd, (off_t)size) == 0 ? 0 : -errno;
	close(fd);
	expect(r, got, size < md->file_size && (md->seals & F_SEAL_SHRINK) ? -EPERM : 0);
	if (got == 0)
		shrunk(md, size);
}

static void set_size(struct mfd *m, struct model *md, struct run *r)
{
	uint64_t size = below(r, md->limit + 1);
	int want = 0;

	snprintf(r->op, sizeof(r->op), "mfd_set_size(%llu)", (unsigned long long)size);
	if ((size < md->file_size && (md->seals & F_SEAL_SHRINK)) ||
	    (size > md->file_size && (md->seals & F_SEAL_GROW)))
		want = -EPERM;
	expect(r, mfd_set_size(m, size), want);
	if (want == 0) {
		shrunk(md, size);
		md->recorded = size;
	}
}

static void add_seals(struct mfd *m, struct model *md, struct run *r)
{
	unsigned int seals = (unsigned int)below(r, 0x40) & (unsigned int)next_random(r);
	int want = 0;

	snprintf(r->op, sizeof(r->op), "mfd_add_seals(%#x) on %#x", seals, md->seals);
	if (((seals & F_SEAL_EXEC) && !md->has_exec_seal) ||
	    ((seals & F_SEAL_FUTURE_WRITE) && !md->has_future_write))
		want = -EINVAL;
	else if (md->seals & F_SEAL_SEAL)
		want = -EPERM;
	else if ((seals & F_SEAL_WRITE) && !(md->seals & F_SEAL_WRITE) && maps_that_may_write(md))
		want = -EBUSY;
	expect(r, mfd_add_seals(m, seals), want);
	/* The memfd is not executable, so F_SEAL_EXEC implies nothing more. */
	if (want == 0)
		md->seals |= seals;
}

static void pwrite_bytes(struct mfd *m, struct model *md, struct run *r)
{
	uint64_t offset = below(r, md->limit);
	uint64_t length = 1 + below(r, md->limit - offset < 2 * md->page ? md->limit - offset
									 : 2 * md->page);
	unsigned char *data = malloc(length);
	ssize_t got;

	ck_assert_ptr_nonnull(data);
	for (uint64_t i = 0; i < length; i++)
		data[i] = (unsigned char)next_random(r);
	snprintf(r->op, sizeof(r->op), "mfd_pwrite(%llu bytes at %llu) on size %llu, seals %#x",
		 (unsigned long long)length, (unsigned long long)offset,
		 (unsigned long long)md->file_size, md->seals);
	got = mfd_pwrite(m, data, length, offset);
	if (md->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
		expect(r, got, -EPERM);
	} else if ((md->seals & F_SEAL_GROW) && offset + length > md->file_size) {
		/* The kernel writes page by page and stops at the first one
		 * that would grow the file: a short write, or none. */
		if (got != -EPERM && (got <= 0 || offset + (uint64_t)got > md->file_size))
			diverged(r, "got %zd, the model says -EPERM or a short write within the size",
				 got);
	} else {
		expect(r, got, (ssize_t)length);
	}
	if (got > 0) {
		memcpy(md->bytes + offset, data, (size_t)got);
		if (offset + (uint64_t)got > md->file_size)
			md->file_size = offset + (uint64_t)got;
	}
	free(data);
}

static void map_pages(struct mfd *m, struct model *md, struct run *r)
{
	uint64_t offset = below(r, MAX_PAGES) * md->page;
	uint64_t length = (1 + below(r, MAX_MAP_PAGES)) * md->page;
	int prot = below(r, 2) ? PROT_READ | PROT_WRITE : PROT_READ;
	unsigned int flags = below(r, 2) ? LIBMEMFD_MAP_GUARD : 0;
	uint64_t end_ok = round_up(md->recorded > md->file_size ? md->recorded : md->file_size,
				   md->page);
	void *addr = NULL;
	int want = 0;

	snprintf(r->op, sizeof(r->op), "mfd_map(%llu, %llu, %s%s) on size %llu/%llu, seals %#x",
		 (unsigned long long)offset, (unsigned long long)length,
		 prot & PROT_WRITE ? "rw" : "r", flags ? ", guarded" : "",
		 (unsigned long long)md->recorded,
		 (unsigned long long)md->file_size, md->seals);
	if (md->nmaps == MAX_MAPS)
		return;
	if (offset + length > end_ok)
		want = -ENXIO;
	else if ((prot & PROT_WRITE) && (md->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		want = -EPERM;
	expect(r, mfd_map(m, offset, (size_t)length, prot, flags, &addr), want);
	if (want == 0) {
		md->maps[md->nmaps++] = (struct mapping){
			addr, offset, length, !!(prot & PROT_WRITE),
			!(md->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)), !!flags, { 0 },
			flags ? malloc(length) : NULL
		};
		ck_assert(!flags || md->maps[md->nmaps - 1].own);
	}
}

static void unmap_one(struct model *md, struct run *r)
{
	size_t i = (size_t)below(r, md->nmaps);

	snprintf(r->op, sizeof(r->op), "mfd_unmap of mapping %zu", i);
	if (md->nmaps == 0)
		return;
	expect(r, mfd_unmap(md->maps[i].addr, md->maps[i].length), 0);
	forget(&md->maps[i]);
	md->maps[i] = md->maps[--md->nmaps];
}

/* Writes through a mapping made writable before any write seal still land
 * (F_SEAL_FUTURE_WRITE stops only new ones). Unguarded, only bytes within
 * the file are touched: beyond its last page lies SIGBUS. Guarded, a page
 * past it is replaced, and the store lands on the private page. In the
 * file's last page, past its end, the model does not say what a store
 * leaves, so none is made there. */
static void store_through_mapping(struct model *md, struct run *r)
{
	struct mapping *w = NULL;
	uint64_t at, k;
	unsigned char value;

	for (size_t i = 0, n = (size_t)below(r, md->nmaps); i < md->nmaps && !w; i++)
		if (md->maps[(n + i) % md->nmaps].writable)
			w = &md->maps[(n + i) % md->nmaps];
	snprintf(r->op, sizeof(r->op), "a store through a writable mapping");
	if (!w)
		return;
	at = w->offset + below(r, w->length);
	k = (at - w->offset) / md->page;
	value = (unsigned char)next_random(r);
	snprintf(r->op, sizeof(r->op), "a store at %llu through a %smapping of [%llu, +%llu), size %llu",
		 (unsigned long long)at, w->guarded ? "guarded " : "",
		 (unsigned long long)w->offset, (unsigned long long)w->length,
		 (unsigned long long)md->file_size);
	if (!w->guarded || !w->replaced[k]) {
		if (at >= md->file_size && (!w->guarded || at < round_up(md->file_size, md->page)))
			return;
		touching(md, w, (size_t)k);
	}
	if (w->guarded && w->replaced[k])
		w->own[at - w->offset] = value;
	else
		md->bytes[at] = value;
	w->addr[at - w->offset] = (char)value;
}

static void allocate(struct mfd *m, struct model *md, struct run *r)
{
	uint64_t offset = below(r, md->limit);
	uint64_t length = 1 + below(r, md->limit - offset);
	int want = 0;

	snprintf(r->op, sizeof(r->op), "mfd_allocate(%llu, %llu) on size %llu, seals %#x",
		 (unsigned long long)offset, (unsigned long long)length,
		 (unsigned long long)md->file_size, md->seals);
	if ((md->seals & F_SEAL_GROW) && offset + length > md->file_size)
		want = -EPERM;
	expect(r, mfd_allocate(m, offset, length), want);
	if (want == 0) {
		if (offset + length > md->file_size)
			md->file_size = offset + length;
		if (offset + length > md->recorded)
			md->recorded = offset + length;
	}
}

static void punch_hole(struct mfd *m, struct model *md, struct run *r)
{
	uint64_t offset = below(r, md->limit);
	uint64_t length = 1 + below(r, md->limit - offset);
	int want = 0;

	snprintf(r->op, sizeof(r->op), "mfd_punch_hole(%llu, %llu), seals %#x",
		 (unsigned long long)offset, (unsigned long long)length, md->seals);
	if (md->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		want = -EPERM;
	expect(r, mfd_punch_hole(m, offset, length), want);
	if (want == 0 && offset < md->file_size) {
		uint64_t end = offset + length < md->file_size ? offset + length : md->file_size;

		memset(md->bytes + offset, 0, end - offset);
	}
}

/* The file, the handle and every mapping agree with the model (which
 * reading the guarded pages updates). */
static void compare(struct mfd *m, struct model *md, struct run *r, unsigned char *buf)
{
	struct stat st;

	ck_assert_int_eq(fstat(mfd_fd(m), &st), 0);
	expect(r, st.st_size, md->file_size);
	expect(r, mfd_size(m), md->recorded);
	expect(r, mfd_get_seals(m), md->seals);
	expect(r, mfd_pread(m, buf, md->limit, 0), md->file_size);
	if (memcmp(buf, md->bytes, md->file_size) != 0)
		diverged(r, "the file's bytes differ from the model's");
	for (size_t i = 0; i < md->nmaps; i++) {
		struct mapping *p = &md->maps[i];
		int faulted = 0;

		if (!p->guarded) {
			if (p->offset < md->file_size &&
			    memcmp(p->addr, md->bytes + p->offset,
				   (p->offset + p->length < md->file_size ? p->offset + p->length
									   : md->file_size) - p->offset))
				diverged(r, "mapping %zu shows other bytes than the file", i);
			continue;
		}
		/* Reading a guarded page is touching it. */
		for (size_t k = 0; k < pages_of(md, p); k++) {
			touching(md, p, k);
			if (memcmp(p->addr + k * md->page,
				   p->replaced[k] ? p->own + k * md->page
						  : md->bytes + p->offset + k * md->page,
				   md->page))
				diverged(r, "page %zu of guarded mapping %zu shows other bytes than %s",
					 k, i, p->replaced[k] ? "its private page" : "the file");
			faulted |= p->replaced[k];
		}
		expect(r, mfd_map_faulted(p->addr), faulted);
	}
}

static unsigned int seed_from_environment(void)
{
	const char *s = getenv("LIBMEMFD_MODEL_SEED");

	if (s && *s)
		return (unsigned int)strtoul(s, NULL, 0);
	return (unsigned int)time(NULL) ^ (unsigned int)getpid();
}

START_TEST(test_random_operations_follow_the_seal_rules)
{
	const char *steps_env = getenv("LIBMEMFD_MODEL_STEPS");
	long steps = steps_env && *steps_env ? strtol(steps_env, NULL, 10) : 10000;
	const char *trace = getenv("LIBMEMFD_MODEL_TRACE");
	struct model md = { .page = page_size() };
	struct run r = { .seed = seed_from_environment() };
	unsigned char *buf;
	struct mfd *m;

	md.limit = MAX_PAGES * md.page;
	md.bytes = malloc(md.limit);
	buf = malloc(md.limit);
	ck_assert_ptr_nonnull(md.bytes);
	ck_assert_ptr_nonnull(buf);
	md.has_exec_seal = kernel_has_noexec_seal();
	md.has_future_write = kernel_has_future_write_seal();
	r.rng = 0x9e3779b97f4a7c15ull * (r.seed + 1ull);
	fprintf(stderr, "model: seed %u, %ld steps (LIBMEMFD_MODEL_SEED replays it)\n", r.seed,
		steps);

	m = start(&md);
	for (r.step = 1; r.step <= steps; r.step++) {
		uint64_t dice = below(&r, 100);

		if (dice < 2) { /* a fresh memfd, so that seals do not pile up for good */
			unmap_all(&md);
			mfd_free(m);
			m = start(&md);
			snprintf(r.op, sizeof(r.op), "a fresh memfd");
		} else if (dice < 16) {
			set_size(m, &md, &r);
		} else if (dice < 24) {
			add_seals(m, &md, &r);
		} else if (dice < 42) {
			pwrite_bytes(m, &md, &r);
		} else if (dice < 44) {
			shrink_elsewhere(m, &md, &r);
		} else if (dice < 58) {
			map_pages(m, &md, &r);
		} else if (dice < 68) {
			unmap_one(&md, &r);
		} else if (dice < 78) {
			store_through_mapping(&md, &r);
		} else if (dice < 89) {
			allocate(m, &md, &r);
		} else {
			punch_hole(m, &md, &r);
		}
		if (trace)
			fprintf(stderr, "%ld: %s\n", r.step, r.op);
		compare(m, &md, &r, buf);
	}
	unmap_all(&md);
	mfd_free(m);
	free(buf);
	free(md.bytes);
	fprintf(stderr, "model: %ld pages of guarded mappings replaced\n", md.replaced);
}
END_TEST

Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_with_leak_check("seal_rules");

	/* Reading a guarded page the file no longer backs takes SIGBUS. */
	tcase_add_checked_fixture(tc, grow_stack, NULL);

	/* Valgrind makes each step slower by far. */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_random_operations_follow_the_seal_rules);
	suite_add_tcase(s, tc);
	return s;
}
