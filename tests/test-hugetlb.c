/* SPDX-License-Identifier: MIT */
/* MFD_HUGETLB memfds. Needs reserved huge pages (vm.nr_hugepages); without
 * them the whole program reports a skip. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard-helpers.h"
#include "test-common.h"

#define EXIT_SKIP 77

static uint64_t huge_page_size;

/* The default huge page size if at least two are free, else 0. */
static uint64_t free_huge_page_size(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long free_pages = 0, kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %llu", &free_pages);
		sscanf(line, "Hugepagesize: %llu kB", &kib);
	}
	fclose(f);
	return free_pages >= 2 ? kib * 1024 : 0;
}

static unsigned long long huge_pages_total(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long total = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "HugePages_Total: %llu", &total);
	fclose(f);
	return total;
}

static struct mfd *new_huge_mfd(const char *name, unsigned int flags)
{
	struct mfd *m = NULL;

	ck_assert_int_eq(mfd_new(&m, name, MFD_HUGETLB | flags), 0);
	ck_assert_int_eq(mfd_set_size(m, huge_page_size), 0);
	return m;
}

START_TEST(test_hugetlb_map_and_io)
{
	struct mfd *m = new_huge_mfd("huge", 0);
	void *a = NULL, *b = NULL;
	char buf[8] = { 0 };
	int seals;

	ck_assert_uint_eq(mfd_size(m), huge_page_size);
	seals = mfd_get_seals(m);
	ck_assert_int_eq(seals, new_memfd_seals());
	ck_assert_int_eq(mfd_map(m, 0, (size_t)huge_page_size, PROT_READ | PROT_WRITE, 0, &a), 0);
	ck_assert_int_eq(mfd_map(m, 0, (size_t)huge_page_size, PROT_READ, 0, &b), 0);
	ck_assert_uint_eq((uintptr_t)a % huge_page_size, 0);
	memset(a, 0x45, (size_t)huge_page_size);
	ck_assert_uint_eq(((const volatile uint8_t *)b)[huge_page_size - 1], 0x45);
	ck_assert_int_eq(mfd_pread(m, buf, 4, huge_page_size - 4), 4);
	ck_assert_int_eq(memcmp(buf, "\x45\x45\x45\x45", 4), 0);
	ck_assert_int_eq(mfd_unmap(a, (size_t)huge_page_size), 0);
	ck_assert_int_eq(mfd_unmap(b, (size_t)huge_page_size), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_hugetlb_name_and_size_flag)
{
	unsigned int shift = 0;
	struct mfd *m;
	char name[16];

	while ((1ull << shift) < huge_page_size)
		shift++;
	m = new_huge_mfd("sized", shift << MFD_HUGE_SHIFT);
	ck_assert_int_eq(mfd_get_name(m, name, sizeof(name)), 5);
	ck_assert_str_eq(name, "sized");
	mfd_free(m);
}
END_TEST

START_TEST(test_hugetlb_size_must_be_whole_pages)
{
	struct mfd *m = new_huge_mfd("partial", 0);
	struct resources before = resources_now();

	ck_assert_int_eq(mfd_set_size(m, huge_page_size + 4096), -EINVAL);
	ck_assert_uint_eq(mfd_size(m), huge_page_size);
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

START_TEST(test_hugetlb_seals)
{
	struct mfd *m = new_huge_mfd("sealed", 0);
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), 0);
	ck_assert_int_eq(mfd_set_size(m, 2 * huge_page_size), -EPERM);
	ck_assert_int_eq(mfd_map(m, 0, (size_t)huge_page_size, PROT_READ | PROT_WRITE, 0, &p), -EPERM);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_int_eq(mfd_map(m, 0, (size_t)huge_page_size, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, (size_t)huge_page_size), 0);
	mfd_free(m);
}
END_TEST

START_TEST(test_hugetlb_maps_whole_huge_pages)
{
	struct mfd *m = new_huge_mfd("whole", 0);
	struct resources before = resources_now();
	void *p = POISON_PTR;

	/* A huge page cannot be unmapped in part: mapping part of one would
	 * give mfd_unmap a range it cannot undo. */
	ck_assert_int_eq(mfd_map(m, 0, 4096, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 0, (size_t)huge_page_size - 4096, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(m, 4096, 4096, PROT_READ, 0, &p), -EINVAL);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_resources_unchanged(before);
	ck_assert_int_eq(mfd_map(m, 0, (size_t)huge_page_size, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, (size_t)huge_page_size), 0);
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

START_TEST(test_hugetlb_adopted)
{
	struct mfd *m = new_huge_mfd("adopted", 0), *adopted = NULL;
	void *p = POISON_PTR;
	char name[16];
	int fd = dup(mfd_fd(m));

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mfd_from_fd(&adopted, fd), 0);
	ck_assert_uint_eq(mfd_size(adopted), huge_page_size);
	ck_assert_int_eq(mfd_get_name(adopted, name, sizeof(name)), 7);
	ck_assert_int_ge(mfd_get_seals(adopted), 0);
	ck_assert_int_eq(mfd_map(adopted, 0, 4096, PROT_READ, 0, &p), -EINVAL);
	ck_assert_int_eq(mfd_map(adopted, 0, (size_t)huge_page_size, PROT_READ, 0, &p), 0);
	ck_assert_int_eq(mfd_unmap(p, (size_t)huge_page_size), 0);
	mfd_free(adopted);
	mfd_free(m);
}
END_TEST

/* More huge pages than the pool has: mfd_allocate says -ENOSPC now, where
 * a mapping would raise SIGBUS at the first touch of a missing page. */
/* The peer: a process of its own that makes a hugetlb memfd with raw
 * system calls, fills its huge page with 0x5a, seals it against shrinking,
 * growing and writing, and sends it with SCM_RIGHTS (the data byte that
 * mfd_send would send); then exits. */
static pid_t send_sealed_huge_memfd(int sock)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = (int)syscall(SYS_memfd_create, "huge-peer",
				      MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
		void *p;

		if (fd < 0 || ftruncate(fd, (off_t)huge_page_size) < 0)
			_exit(1);
		p = mmap(NULL, (size_t)huge_page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(2);
		memset(p, 0x5a, (size_t)huge_page_size);
		munmap(p, (size_t)huge_page_size);
		if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
			_exit(3);
		_exit(send_with_fds(sock, "M", 1, &fd, 1) == 1 ? 0 : 4);
	}
	return pid;
}

/* A sealed hugetlb memfd from another process: proven a memfd on the
 * mount of its huge page size, its size read after the seals, and mapped
 * in whole huge pages; seals it lacks are refused without a leak. */
START_TEST(test_hugetlb_received_sealed)
{
	const unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	struct resources before = resources_now();

	for (int how = 0; how < 3; how++) {
		struct mfd *got = POISON_PTR;
		unsigned char buf[4] = { 0 };
		void *p = POISON_PTR;
		int sv[2];
		pid_t peer;

		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		peer = send_sealed_huge_memfd(sv[0]);
		ck_assert_peer_ok(peer);
		if (how == 2) {
			/* F_SEAL_SEAL it lacks: refused, and closed. */
			ck_assert_int_eq(mfd_recv(sv[1], seals | F_SEAL_SEAL, &got), -EPERM);
			ck_assert_ptr_eq(got, POISON_PTR);
			close(sv[0]);
			close(sv[1]);
			ck_assert_resources_unchanged(before);
			continue;
		}
		if (how == 0)
			ck_assert_int_eq(mfd_recv(sv[1], seals, &got), 0);
		else
			ck_assert_int_eq(mfd_recv_msg(sv[1], seals, buf, sizeof(buf), &got), 1);
		ck_assert_ptr_nonnull(got);
		ck_assert_ptr_ne(got, POISON_PTR);
		ck_assert_uint_eq(mfd_size(got), huge_page_size);
		ck_assert_int_eq(mfd_get_seals(got), (int)seals);
		/* Known to be on hugetlbfs: less than a huge page is refused. */
		ck_assert_int_eq(mfd_map(got, 0, 4096, PROT_READ, 0, &p), -EINVAL);
		ck_assert_int_eq(mfd_map(got, 0, (size_t)huge_page_size, PROT_READ | PROT_WRITE, 0, &p),
				 -EPERM);
		ck_assert_ptr_eq(p, POISON_PTR);
		ck_assert_int_eq(mfd_map(got, 0, (size_t)huge_page_size, PROT_READ, 0, &p), 0);
		ck_assert_uint_eq(((const unsigned char *)p)[huge_page_size - 1], 0x5a);
		ck_assert_int_eq(mfd_unmap(p, (size_t)huge_page_size), 0);
		ck_assert_int_eq(mfd_pread(got, buf, 4, 0), 4);
		ck_assert_int_eq(memcmp(buf, "\x5a\x5a\x5a\x5a", 4), 0);
		mfd_free(got);
		close(sv[0]);
		close(sv[1]);
		ck_assert_resources_unchanged(before);
	}
}
END_TEST

START_TEST(test_hugetlb_allocate)
{
	struct mfd *m = new_huge_mfd("reserve", 0);
	uint64_t too_many = (huge_pages_total() + 1) * huge_page_size;

	ck_assert_int_eq(mfd_allocate(m, 0, too_many), -ENOSPC);
	ck_assert_uint_eq(mfd_size(m), huge_page_size);
	ck_assert_int_eq(mfd_allocate(m, 0, huge_page_size), 0);
	ck_assert_uint_eq(mfd_size(m), huge_page_size);
	ck_assert_int_eq(mfd_punch_hole(m, 0, huge_page_size), 0);
	ck_assert_uint_eq(mfd_size(m), huge_page_size);
	mfd_free(m);
}
END_TEST

START_TEST(test_hugetlb_populate)
{
	struct mfd *m = new_huge_mfd("populate", 0);
	size_t length = (size_t)huge_page_size;
	void *p = NULL;

	ck_assert_int_eq(mfd_map(m, 0, length, PROT_READ | PROT_WRITE, 0, &p), 0);
	ck_assert_uint_eq(pages_mapped(p, length), 0);
	ck_assert_int_eq(mfd_unmap(p, length), 0);
	ck_assert_int_eq(mfd_map(m, 0, length, PROT_READ | PROT_WRITE, LIBMEMFD_MAP_POPULATE, &p), 0);
	ck_assert_uint_eq(pages_mapped(p, length), length / page_size());
	((volatile uint8_t *)p)[length - 1] = 0x45;
	ck_assert_int_eq(mfd_unmap(p, length), 0);
	mfd_free(m);
}
END_TEST

/* A mirror of huge pages: the reservation is aligned to the huge page
 * size, and only whole huge pages are mirrored. */
START_TEST(test_hugetlb_mirror)
{
	struct mfd *m = new_huge_mfd("mirror", 0);
	size_t length = (size_t)huge_page_size;
	struct resources before = resources_now();
	int reservations = reservations_now();
	volatile uint8_t *v;
	void *p = POISON_PTR;

	ck_assert_int_eq(mfd_map_mirror(m, 0, 4096, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 0, length / 2, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, 4096, length - 4096, PROT_READ, &p), -EINVAL);
	ck_assert_int_eq(mfd_map_mirror(m, length, length, PROT_READ, &p), -ENXIO);
	/* Two halves and the alignment's slack must fit the address space. */
	ck_assert_int_eq(mfd_map_mirror(m, 0, ((SIZE_MAX - length) / 2 / length + 1) * length,
					PROT_READ, &p), -EINVAL);
	ck_assert_ptr_eq(p, POISON_PTR);
	ck_assert_resources_unchanged(before);
	ck_assert_int_eq(reservations_now(), reservations);

	ck_assert_int_eq(mfd_map_mirror(m, 0, length, PROT_READ | PROT_WRITE, &p), 0);
	ck_assert_uint_eq((uintptr_t)p % huge_page_size, 0);
	v = p;
	v[0] = 0x45;
	ck_assert_uint_eq(v[length], 0x45);
	v[2 * length - 1] = 0x46;
	ck_assert_uint_eq(v[length - 1], 0x46);
	/* The alignment left nothing of the reservation behind. */
	ck_assert_int_eq(reservations_now(), reservations);
	ck_assert_int_eq(mfd_unmap(p, 2 * length), 0);
	ck_assert_resources_unchanged(before);
	mfd_free(m);
}
END_TEST

/* Guarded: a huge page cannot be replaced in part (a 4 KiB MAP_FIXED in
 * it is EINVAL), so the whole huge page that faulted is, and only it. */
START_TEST(test_hugetlb_guard_replaces_a_whole_huge_page)
{
	struct mfd *m = new_huge_mfd("guarded", 0);
	size_t length = 2 * (size_t)huge_page_size;
	struct vma v;
	char *p;
	void *q;

	ck_assert_int_eq(mfd_set_size(m, length), 0);
	ck_assert_int_eq(mfd_map(m, 0, length, PROT_READ | PROT_WRITE, LIBMEMFD_MAP_GUARD, &q), 0);
	p = q;
	memcpy(p, "huge", 4); /* hugetlbfs has no write(2) */
	peer_set_size(mfd_fd(m), huge_page_size);
	ck_assert_uint_eq(touch(p + huge_page_size + 4096 + 1), 0);
	poke(p + length - 1, 0x45);
	ck_assert_uint_eq(touch(p + length - 1), 0x45);
	ck_assert_int_eq(mfd_map_faulted(p), 1);
	ck_assert(vma_at(p + huge_page_size, &v));
	ck_assert(!v.file);
	ck_assert_str_eq(v.perms, "rw-p");
	ck_assert_ptr_eq((void *)v.start, p + huge_page_size);
	ck_assert_ptr_eq((void *)v.end, p + length);
	/* The huge page the file still has is still the file's. */
	ck_assert(vma_at(p, &v) && v.file);
	ck_assert_int_eq(memcmp(p, "huge", 4), 0);
	poke(p + 1, 'U');
	ck_assert_int_eq(mfd_pread(m, p + huge_page_size, 2, 0), 2);
	ck_assert_int_eq(memcmp(p + huge_page_size, "hU", 2), 0);
	ck_assert_int_eq(mfd_unmap(p, length), 0);
	mfd_free(m);
}
END_TEST

/* mfd_ring_new makes no hugetlb rings: such a memfd is none. */
START_TEST(test_hugetlb_is_no_ring)
{
	struct mfd *m = new_huge_mfd("ring", 0);
	struct mfd_ring *r = POISON_PTR;

	ck_assert_int_eq(mfd_add_seals(m, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
	ck_assert_int_eq(mfd_ring_attach(&r, m), -EINVAL);
	ck_assert_ptr_eq(r, POISON_PTR);
	mfd_free(m);
}
END_TEST

static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "re");
	long value = -1;

	if (f) {
		if (fscanf(f, "%ld", &value) != 1)
			value = -1;
		fclose(f);
	}
	return value;
}

/*
 * A huge page that the mapping reserved is given back when the file is
 * shrunk; grown again, the file has no reservation, and with the pool
 * empty its next fault raises SIGBUS. The pool is the system's: this
 * takes only the pages no one has reserved, for the moment of one fault,
 * and gives them back at once. Should another process give one back in
 * that moment (the fault then gets it), it tries again.
 */
START_TEST(test_hugetlb_guard_empty_pool)
{
	struct mfd *m = new_huge_mfd("emptied", 0), *hog = NULL;
	unsigned long long limit = huge_pages_total() + 1, taken = 0;
	char *p;
	void *q;
	int r = 0;

	if (running_under_valgrind()) {
		/* Its copy of the mapping keeps the huge page past the shrink
		 * (the pool has one page fewer), so there is no fault. */
		note_skipped("under valgrind the huge page outlives the shrink: nothing faults");
		mfd_free(m);
		return;
	}
	if (read_sysctl("/proc/sys/vm/nr_overcommit_hugepages") != 0) {
		note_skipped("vm.nr_overcommit_hugepages is set: the pool cannot be emptied");
		mfd_free(m);
		return;
	}
	ck_assert_int_eq(mfd_map(m, 0, (size_t)huge_page_size, PROT_READ | PROT_WRITE,
				 LIBMEMFD_MAP_GUARD, &q), 0);
	p = q;
	poke(p, 1);
	ck_assert_int_eq(mfd_new(&hog, "hog", MFD_HUGETLB), 0);
	for (int round = 0; round < 10 && mfd_map_faulted(p) == 0; round++) {
		peer_set_size(mfd_fd(m), 0);
		peer_set_size(mfd_fd(m), huge_page_size);
		while (taken < limit &&
		       (r = mfd_allocate(hog, taken * huge_page_size, huge_page_size)) == 0)
			taken++;
		/* The pool is empty: the fault cannot be backed. */
		ck_assert_uint_eq(touch(p + 4096), 0);
		ck_assert_int_eq(r, -ENOSPC);
	}
	mfd_free(hog);
	ck_assert_int_eq(mfd_map_faulted(p), 1);
	poke(p, 2);
	ck_assert_uint_eq(touch(p), 2);
	ck_assert_int_eq(mfd_unmap(p, (size_t)huge_page_size), 0);
	mfd_free(m);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	huge_page_size = free_huge_page_size();
	if (!mfd_kernel_supported() || huge_page_size == 0) {
		fprintf(stderr, "SKIP: no free huge pages (as root: echo 8 > /proc/sys/vm/nr_hugepages)\n");
		return EXIT_SKIP;
	}

	s = suite_create("hugetlb");
	tc = tcase_with_leak_check("hugetlb");
	/* The guard tests take SIGBUS in the test process. */
	tcase_add_checked_fixture(tc, grow_stack, NULL);
	tcase_add_test(tc, test_hugetlb_map_and_io);
	tcase_add_test(tc, test_hugetlb_name_and_size_flag);
	tcase_add_test(tc, test_hugetlb_size_must_be_whole_pages);
	tcase_add_test(tc, test_hugetlb_seals);
	tcase_add_test(tc, test_hugetlb_maps_whole_huge_pages);
	tcase_add_test(tc, test_hugetlb_adopted);
	tcase_add_test(tc, test_hugetlb_received_sealed);
	tcase_add_test(tc, test_hugetlb_allocate);
	tcase_add_test(tc, test_hugetlb_populate);
	tcase_add_test(tc, test_hugetlb_guard_replaces_a_whole_huge_page);
	tcase_add_test(tc, test_hugetlb_guard_empty_pool);
	suite_add_tcase(s, tc);
	tc = tcase_with_leak_check("mirror");
	tcase_add_test(tc, test_hugetlb_mirror);
	tcase_add_test(tc, test_hugetlb_is_no_ring);
	suite_add_tcase(s, tc);

	return run_suites(srunner_create(s));
}
