/* SPDX-License-Identifier: MIT */
/*
 * Every system call the library makes, made to fail: each failure comes
 * back as that negative errno, and the handle, the file and the process
 * are as they were (no descriptor, mapping or recorded size changed).
 *
 * Each case runs in a child of its own behind a libseccomp filter. Where
 * a call takes a descriptor, the filter fails it only for the library's
 * descriptor, so that the checks afterwards can still use the call.
 *
 * Not here: close, whose failure mfd_free cannot report (and Linux frees
 * the descriptor anyway); the open of the read-only fallback for kernels
 * before 6.7, which test-map.c and test-mirror.c fail on such an emulated
 * kernel; the munmap of a reservation's leftover ends, which cannot fail;
 * the futex wake-up of a ring's commit, release and free, which only a
 * kernel without futexes could refuse, where no end can sleep either;
 * membarrier, whose refusal changes how a ring's ends publish and sleep,
 * not what they return (test-ring-fence.c); and
 * the calls of the SIGBUS handler of guarded mappings (madvise, mmap),
 * which test-guard.c fails where it makes a fault.
 */
#include "config.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard-helpers.h"
#include "syscall-filter.h"
#include "test-common.h"

/* Stand-ins in a denial's argument test, filled in once the values exist. */
#define THE_MFD 0xfd000001u    /* the handle's descriptor */
#define THE_SOCKET 0xfd000002u /* the receiving end of the socket pair */
#define NEXT_FD 0xfd000003u    /* the descriptor the next open will get */
#define THE_MAPPING 0xfd000004u /* the low half of the mapping's address */
#define THE_RING_END 0xfd000005u /* the ring's memfd, as its producer would receive it */
#define NO_FD 0xffffffffu      /* mmap's descriptor for anonymous memory */
#define THE_GUARDED 0xfd000006u /* the same of the guarded mapping's */

struct env {
	struct mfd *m;  /* two pages, "data" at 0 */
	int probe;      /* the same file, to check it through */
	int sv[2];      /* a sealed memfd waits in sv[1] */
	int plain_sv[2]; /* and in plain_sv[1] one whose seals prove nothing */
	int next_fd;
	void *mapping;  /* the first page of m, read-only */
	void *guarded;  /* the same, guarded, where the fault asks for it */
	uint64_t size;
	int seals;
	struct mfd_ring *ring;  /* a consumer's end, empty */
	struct mfd *ring_end;   /* its memfd, for the producer to attach */
};

struct fault {
	const char *what;
	struct denial deny[2];
	/* The library call, made behind the filter; its result is compared
	 * with -deny[0].err. */
	long (*call)(struct env *e);
};

static long new_memfd(struct env *e)
{
	struct mfd *m = POISON_PTR;
	int r = mfd_new(&m, "fault", 0);

	return m == POISON_PTR ? r : 1;
}

static long new_hugetlb_memfd(struct env *e)
{
	struct mfd *m = POISON_PTR;
	int r = mfd_new(&m, "fault", MFD_HUGETLB);

	return m == POISON_PTR ? r : 1;
}

static long kernel_supported(struct env *e)
{
	/* 0 is the answer the ENOSYS case wants: report it as -ENOSYS. */
	return mfd_kernel_supported() == 0 ? -ENOSYS : 1;
}

static long adopt(struct env *e)
{
	struct mfd *m = POISON_PTR;
	int fd = dup(e->probe), r;

	r = mfd_from_fd(&m, fd);
	if (m != POISON_PTR)
		return 1;
	/* The caller still owns the descriptor. */
	if (fcntl(fd, F_GETFD) < 0 || close(fd) < 0)
		return 2;
	return r;
}

/* A memfd whose seals prove nothing: mfd_from_fd asks /proc for its name. */
static long adopt_unsealed(struct env *e)
{
	struct mfd *m = POISON_PTR;
	int fd = memfd_without_sealing(), r;

	if (fd < 0) {
		note_skipped("memfd_noexec=2 seals every memfd: no memfd needs the readlink");
		return -EACCES;
	}
	r = mfd_from_fd(&m, fd);
	if (m != POISON_PTR)
		return 1;
	if (fcntl(fd, F_GETFD) < 0 || close(fd) < 0)
		return 2;
	return r;
}

static long adopt_device(struct env *e)
{
	struct mfd *m = POISON_PTR;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), r;

	r = mfd_from_fd(&m, fd);
	close(fd);
	return m == POISON_PTR ? r : 1;
}

static long get_name(struct env *e)
{
	char name[64] = "unchanged";
	int r = mfd_get_name(e->m, name, sizeof(name));

	return strcmp(name, "unchanged") == 0 ? r : 1;
}

static long set_size(struct env *e)
{
	return mfd_set_size(e->m, 3 * e->size);
}

static long get_seals(struct env *e)
{
	return mfd_get_seals(e->m);
}

static long check_seals(struct env *e)
{
	return mfd_check_seals(e->m, 0);
}

static long add_seals(struct env *e)
{
	return mfd_add_seals(e->m, F_SEAL_WRITE);
}

static long map(struct env *e)
{
	void *p = POISON_PTR;
	int r = mfd_map(e->m, 0, (size_t)e->size, PROT_READ | PROT_WRITE, 0, &p);

	return p == POISON_PTR ? r : 1;
}

static long map_past_recorded_size(struct env *e)
{
	void *p = POISON_PTR;
	int r = mfd_map(e->m, 0, (size_t)(2 * e->size), PROT_READ, 0, &p);

	return p == POISON_PTR ? r : 1;
}

static long unmap(struct env *e)
{
	return mfd_unmap(e->mapping, page_size());
}

static long map_guarded(struct env *e)
{
	void *p = POISON_PTR;
	int r = mfd_map(e->m, 0, (size_t)e->size, PROT_READ | PROT_WRITE, LIBMEMFD_MAP_GUARD, &p);

	return p == POISON_PTR ? r : 1;
}

/* A guarded mapping that could not be unmapped is still guarded. */
static long unmap_guarded(struct env *e)
{
	int r = mfd_unmap(e->guarded, page_size());

	return mfd_map_faulted(e->guarded) == 0 ? r : 2;
}

static long stream_read(struct env *e)
{
	char buf[4];

	return mfd_read(e->m, buf, sizeof(buf));
}

static long stream_write(struct env *e)
{
	return mfd_write(e->m, "new", 3);
}

static long stream_seek(struct env *e)
{
	return mfd_seek(e->m, 1, SEEK_SET);
}

static long positioned_read(struct env *e)
{
	char buf[4];

	return mfd_pread(e->m, buf, sizeof(buf), 0);
}

static long positioned_write(struct env *e)
{
	return mfd_pwrite(e->m, "new", 3, 0);
}

static long new_sealed(struct env *e)
{
	struct mfd *m = POISON_PTR;
	int r = mfd_new_sealed(&m, "fault", "blob", 4);

	return m == POISON_PTR ? r : 1;
}

static long send_memfd(struct env *e)
{
	return mfd_send(e->sv[0], e->m);
}

static long recv_memfd(struct env *e)
{
	struct mfd *m = POISON_PTR;
	int r = mfd_recv(e->sv[1], 0, &m);

	return m == POISON_PTR ? r : 1;
}

/* Where the seals prove nothing (F_SEAL_SEAL alone, as a tmpfs file has),
 * mfd_recv tells a memfd by its name in /proc. */
static long recv_unsealed_memfd(struct env *e)
{
	struct mfd *m = POISON_PTR;
	int r;

	if (e->plain_sv[1] < 0) {
		note_skipped("memfd_noexec=2 seals every memfd: no memfd needs the readlink");
		return -EIO;
	}
	r = mfd_recv(e->plain_sv[1], 0, &m);
	return m == POISON_PTR ? r : 1;
}

static long send_msg(struct env *e)
{
	return mfd_send_msg(e->sv[0], e->m, "abc", 3);
}

static long send_empty_msg(struct env *e)
{
	return mfd_send_msg(e->sv[0], e->m, NULL, 0);
}

/* A message larger than a non-blocking stream has room for, with no
 * reader: the first part goes with sendmsg, the rest needs send and poll. */
static long send_msg_in_parts(struct env *e)
{
	static char data[1 << 20];
	int sv[2], sndbuf = 16384;
	long r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)
		return 1;
	r = mfd_send_msg(sv[0], e->m, data, sizeof(data));
	close(sv[0]);
	close(sv[1]);
	return r;
}

static long recv_msg(struct env *e)
{
	struct mfd *m = POISON_PTR;
	char buf[4];
	long r = mfd_recv_msg(e->sv[1], 0, buf, sizeof(buf), &m);

	return m == POISON_PTR ? r : 1;
}

static long recv_empty_msg(struct env *e)
{
	struct mfd *m = POISON_PTR;
	long r = mfd_recv_msg(e->sv[1], 0, NULL, 0, &m);

	return m == POISON_PTR ? r : 1;
}

static long allocate(struct env *e)
{
	return mfd_allocate(e->m, 0, 4 * e->size);
}

static long punch_hole(struct env *e)
{
	return mfd_punch_hole(e->m, 0, e->size);
}

static long map_mirror(struct env *e)
{
	void *p = POISON_PTR;
	int r = mfd_map_mirror(e->m, 0, (size_t)e->size, PROT_READ | PROT_WRITE, &p);

	return p == POISON_PTR ? r : 1;
}

static long map_mirror_past_recorded_size(struct env *e)
{
	void *p = POISON_PTR;
	int r = mfd_map_mirror(e->m, 0, (size_t)(2 * e->size), PROT_READ, &p);

	return p == POISON_PTR ? r : 1;
}

static long new_ring(struct env *e)
{
	struct mfd_ring *r = POISON_PTR;
	int err = mfd_ring_new(&r, "fault", page_size(), LIBMEMFD_RING_PRODUCER);

	return r == POISON_PTR ? err : 1;
}

static long attach_ring(struct env *e)
{
	struct mfd_ring *r = POISON_PTR;
	int err = mfd_ring_attach(&r, e->ring_end);

	/* The caller still owns the memfd. */
	if (r != POISON_PTR || fcntl(mfd_fd(e->ring_end), F_GETFD) < 0)
		return 1;
	return err;
}

static long wait_on_ring(struct env *e)
{
	return mfd_ring_wait(e->ring, 0, 1000);
}

/* lseek's whence: its third argument, the fifth of _llseek, which the C
 * library calls instead where there is one (32-bit systems). */
#ifdef SYS__llseek
#define WHENCE 4
#else
#define WHENCE 2
#endif

#define FAIL(c, e) { .call = (c), .err = (e) }
/* The inaccessible anonymous mmap that reserves address space: not the
 * allocator's (AddressSanitizer's maps memory as the tests run). */
#define FAIL_RESERVATION \
	{ .call = CALL_MMAP, .err = ENOMEM, \
	  .when = { { 2, ARG_EQUALS, PROT_NONE }, { 4, ARG_EQUALS, NO_FD } } }
#define FAIL_ON(c, e, arg, value) { .call = (c), .err = (e), .when = { { (arg), ARG_EQUALS, (value) } } }

static const struct fault faults[] = {
	{ "mfd_new: memfd_create ENOSYS", { FAIL(CALL_MEMFD_CREATE, ENOSYS) }, new_memfd },
	{ "mfd_new: memfd_create EMFILE", { FAIL(CALL_MEMFD_CREATE, EMFILE) }, new_memfd },
	{ "mfd_new: memfd_create ENOMEM", { FAIL(CALL_MEMFD_CREATE, ENOMEM) }, new_memfd },
	/* A pre-6.3 kernel refuses the exec flags; a failing fallback chmod. */
	{ "mfd_new: fchmod EPERM after the pre-6.3 fallback",
	  { FAIL(CALL_FCHMOD, EPERM),
	    { .call = CALL_MEMFD_CREATE, .err = EINVAL,
	      .when = { { 1, ARG_HAS_BITS, MFD_NOEXEC_SEAL | MFD_EXEC } } } },
	  new_memfd },
	{ "mfd_new(MFD_HUGETLB): fstatfs EIO", { FAIL(CALL_FSTATFS, EIO) }, new_hugetlb_memfd },
	{ "mfd_kernel_supported: memfd_create ENOSYS answers 0",
	  { FAIL(CALL_MEMFD_CREATE, ENOSYS) }, kernel_supported },
	{ "mfd_from_fd: fstat EIO", { FAIL_ON(CALL_FSTAT, EIO, 0, NEXT_FD) }, adopt },
	{ "mfd_from_fd: fstatfs EIO", { FAIL_ON(CALL_FSTATFS, EIO, 0, NEXT_FD) }, adopt },
	{ "mfd_from_fd: readlink EACCES", { FAIL(CALL_READLINK, EACCES) }, adopt_unsealed },
	{ "mfd_from_fd: lseek EIO on a device", { FAIL_ON(CALL_LSEEK, EIO, 0, NEXT_FD) },
	  adopt_device },
	/* Its size is found by seeking to the end and back. */
	{ "mfd_from_fd: lseek(SEEK_END) EIO on a device",
	  { { .call = CALL_LSEEK, .err = EIO,
	      .when = { { 0, ARG_EQUALS, NEXT_FD }, { WHENCE, ARG_EQUALS, SEEK_END } } } },
	  adopt_device },
	{ "mfd_from_fd: lseek(SEEK_SET) back EIO on a device",
	  { { .call = CALL_LSEEK, .err = EIO,
	      .when = { { 0, ARG_EQUALS, NEXT_FD }, { WHENCE, ARG_EQUALS, SEEK_SET } } } },
	  adopt_device },
	{ "mfd_get_name: readlink EIO", { FAIL(CALL_READLINK, EIO) }, get_name },
	{ "mfd_set_size: ftruncate ENOSPC", { FAIL_ON(CALL_FTRUNCATE, ENOSPC, 0, THE_MFD) },
	  set_size },
	{ "mfd_get_seals: fcntl EIO", { FAIL_ON(CALL_FCNTL, EIO, 0, THE_MFD) }, get_seals },
	{ "mfd_check_seals: fcntl EIO", { FAIL_ON(CALL_FCNTL, EIO, 0, THE_MFD) }, check_seals },
	{ "mfd_add_seals: fcntl(F_ADD_SEALS) EBUSY",
	  { { .call = CALL_FCNTL, .err = EBUSY,
	      .when = { { 0, ARG_EQUALS, THE_MFD }, { 1, ARG_EQUALS, F_ADD_SEALS } } } },
	  add_seals },
	{ "mfd_map: mmap ENOMEM", { FAIL_ON(CALL_MMAP, ENOMEM, 4, THE_MFD) }, map },
	{ "mfd_map: mmap EAGAIN (locked memory)", { FAIL_ON(CALL_MMAP, EAGAIN, 4, THE_MFD) }, map },
	{ "mfd_map past the recorded size: fstat EIO", { FAIL_ON(CALL_FSTAT, EIO, 0, THE_MFD) },
	  map_past_recorded_size },
	{ "mfd_unmap: munmap ENOMEM", { FAIL_ON(CALL_MUNMAP, ENOMEM, 0, THE_MAPPING) }, unmap },
	/* The first guarded mapping installs the SIGBUS handler: a failure
	 * unmaps what was mapped and installs nothing. */
	{ "mfd_map(LIBMEMFD_MAP_GUARD): rt_sigaction EINVAL at the first",
	  { FAIL_ON(CALL_SIGACTION, EINVAL, 0, SIGBUS) }, map_guarded },
	{ "mfd_map(LIBMEMFD_MAP_GUARD): mmap ENOMEM", { FAIL_ON(CALL_MMAP, ENOMEM, 4, THE_MFD) },
	  map_guarded },

	{ "mfd_read: read EIO", { FAIL_ON(CALL_READ, EIO, 0, THE_MFD) }, stream_read },
	{ "mfd_write: write ENOSPC", { FAIL_ON(CALL_WRITE, ENOSPC, 0, THE_MFD) }, stream_write },
	{ "mfd_write: write EFBIG", { FAIL_ON(CALL_WRITE, EFBIG, 0, THE_MFD) }, stream_write },
	{ "mfd_seek: lseek EIO", { FAIL_ON(CALL_LSEEK, EIO, 0, THE_MFD) }, stream_seek },
	{ "mfd_pread: pread EIO", { FAIL_ON(CALL_PREAD, EIO, 0, THE_MFD) }, positioned_read },
	{ "mfd_pwrite: pwrite ENOSPC", { FAIL_ON(CALL_PWRITE, ENOSPC, 0, THE_MFD) },
	  positioned_write },
	{ "mfd_new_sealed: memfd_create EMFILE", { FAIL(CALL_MEMFD_CREATE, EMFILE) }, new_sealed },
	{ "mfd_new_sealed: pwrite ENOSPC", { FAIL_ON(CALL_PWRITE, ENOSPC, 0, NEXT_FD) }, new_sealed },
	{ "mfd_new_sealed: fcntl(F_ADD_SEALS) EBUSY",
	  { { .call = CALL_FCNTL, .err = EBUSY,
	      .when = { { 0, ARG_EQUALS, NEXT_FD }, { 1, ARG_EQUALS, F_ADD_SEALS } } } },
	  new_sealed },
	{ "mfd_send: sendmsg EPIPE", { FAIL(CALL_SENDMSG, EPIPE) }, send_memfd },
	{ "mfd_send: sendmsg ENOBUFS", { FAIL(CALL_SENDMSG, ENOBUFS) }, send_memfd },
	{ "mfd_recv: recvmsg ENOMEM", { FAIL_ON(CALL_RECVMSG, ENOMEM, 0, THE_SOCKET) }, recv_memfd },
	{ "mfd_recv: fstat EIO", { FAIL_ON(CALL_FSTAT, EIO, 0, NEXT_FD) }, recv_memfd },
	{ "mfd_recv: fstatfs EIO", { FAIL_ON(CALL_FSTATFS, EIO, 0, NEXT_FD) }, recv_memfd },
	{ "mfd_recv: readlink EIO", { FAIL(CALL_READLINK, EIO) }, recv_unsealed_memfd },
	/* Seals that cannot be read, whatever the reason (here the kernel's
	 * own for a file that has none), prove nothing: refused as no memfd. */
	{ "mfd_recv: fcntl(F_GET_SEALS) EINVAL", { FAIL_ON(CALL_FCNTL, EINVAL, 0, NEXT_FD) },
	  recv_memfd },
	{ "mfd_recv: statfs(/proc) EIO", { FAIL(CALL_STATFS, EIO) }, recv_unsealed_memfd },
	{ "mfd_send_msg: sendmsg ENOBUFS", { FAIL(CALL_SENDMSG, ENOBUFS) }, send_msg },
	{ "mfd_send_msg(length 0): getsockopt ENOMEM", { FAIL(CALL_GETSOCKOPT, ENOMEM) },
	  send_empty_msg },
	{ "mfd_send_msg: send of the rest EPIPE", { FAIL(CALL_SENDTO, EPIPE) }, send_msg_in_parts },
	{ "mfd_send_msg: poll for room ENOMEM", { FAIL(CALL_POLL, ENOMEM) }, send_msg_in_parts },
	{ "mfd_recv_msg: recvmsg ENOMEM", { FAIL_ON(CALL_RECVMSG, ENOMEM, 0, THE_SOCKET) },
	  recv_msg },
	{ "mfd_recv_msg(size 0): getsockopt ENOMEM", { FAIL(CALL_GETSOCKOPT, ENOMEM) },
	  recv_empty_msg },
	{ "mfd_allocate: fallocate ENOSPC", { FAIL_ON(CALL_FALLOCATE, ENOSPC, 0, THE_MFD) },
	  allocate },
	{ "mfd_punch_hole: fallocate EIO", { FAIL_ON(CALL_FALLOCATE, EIO, 0, THE_MFD) },
	  punch_hole },
	{ "mfd_map_mirror: mmap ENOMEM for the reservation", { FAIL_RESERVATION },
	  map_mirror },
	{ "mfd_map_mirror: mmap ENOMEM for the halves", { FAIL_ON(CALL_MMAP, ENOMEM, 4, THE_MFD) },
	  map_mirror },
	{ "mfd_map_mirror past the recorded size: fstat EIO", { FAIL_ON(CALL_FSTAT, EIO, 0, THE_MFD) },
	  map_mirror_past_recorded_size },
	{ "mfd_ring_new: memfd_create EMFILE", { FAIL(CALL_MEMFD_CREATE, EMFILE) }, new_ring },
	{ "mfd_ring_new: fallocate ENOSPC", { FAIL_ON(CALL_FALLOCATE, ENOSPC, 0, NEXT_FD) }, new_ring },
	{ "mfd_ring_new: fcntl(F_ADD_SEALS) EBUSY",
	  { { .call = CALL_FCNTL, .err = EBUSY,
	      .when = { { 0, ARG_EQUALS, NEXT_FD }, { 1, ARG_EQUALS, F_ADD_SEALS } } } },
	  new_ring },
	{ "mfd_ring_new: mmap ENOMEM for the reservation", { FAIL_RESERVATION },
	  new_ring },
	{ "mfd_ring_new: mmap ENOMEM for the memfd", { FAIL_ON(CALL_MMAP, ENOMEM, 4, NEXT_FD) },
	  new_ring },
	{ "mfd_ring_attach: fcntl(F_GET_SEALS) EIO",
	  { { .call = CALL_FCNTL, .err = EIO,
	      .when = { { 0, ARG_EQUALS, THE_RING_END }, { 1, ARG_EQUALS, F_GET_SEALS } } } },
	  attach_ring },
	{ "mfd_ring_attach: fstat EIO", { FAIL_ON(CALL_FSTAT, EIO, 0, THE_RING_END) }, attach_ring },
	{ "mfd_ring_attach: mmap ENOMEM for the reservation", { FAIL_RESERVATION },
	  attach_ring },
	{ "mfd_ring_attach: mmap ENOMEM for the memfd",
	  { FAIL_ON(CALL_MMAP, ENOMEM, 4, THE_RING_END) }, attach_ring },
	{ "mfd_ring_wait: futex ENOSYS", { FAIL_ON(CALL_FUTEX, ENOSYS, 1, FUTEX_WAIT_BITSET) },
	  wait_on_ring },
};

/* These find a guarded mapping made before the filter. */
static const struct fault faults_after_a_guarded_mapping[] = {
	{ "mfd_map(LIBMEMFD_MAP_GUARD): mmap ENOMEM after the first",
	  { FAIL_ON(CALL_MMAP, ENOMEM, 4, THE_MFD) }, map_guarded },
	{ "mfd_unmap of a guarded mapping: munmap ENOMEM",
	  { FAIL_ON(CALL_MUNMAP, ENOMEM, 0, THE_GUARDED) }, unmap_guarded },
};

static uint32_t actual(const struct env *e, uint32_t value)
{
	switch (value) {
	case THE_MFD:
		return (uint32_t)mfd_fd(e->m);
	case THE_SOCKET:
		return (uint32_t)e->sv[1];
	case NEXT_FD:
		return (uint32_t)e->next_fd;
	case THE_MAPPING:
		return (uint32_t)(uintptr_t)e->mapping;
	case THE_RING_END:
		return (uint32_t)mfd_fd(e->ring_end);
	case THE_GUARDED:
		return (uint32_t)(uintptr_t)e->guarded;
	default:
		return value;
	}
}

static void set_up(struct env *e, int guarded)
{
	struct mfd *sealed, *plain;
	int plain_fd;
	char path[64];

	e->size = 2 * page_size();
	e->m = new_sized_mfd("fault", e->size);
	ck_assert_int_eq(mfd_pwrite(e->m, "data", 4, 0), 4);
	e->seals = mfd_get_seals(e->m);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd_fd(e->m));
	e->probe = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(e->probe, 0);
	ck_assert_int_eq(mfd_map(e->m, 0, page_size(), PROT_READ, 0, &e->mapping), 0);
	e->guarded = NULL;
	if (guarded)
		ck_assert_int_eq(mfd_map(e->m, 0, page_size(), PROT_READ, LIBMEMFD_MAP_GUARD,
					 &e->guarded), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e->sv), 0);
	ck_assert_int_eq(mfd_new_sealed(&sealed, "queued", "q", 1), 0);
	ck_assert_int_eq(mfd_send(e->sv[0], sealed), 0);
	mfd_free(sealed);
	/* A memfd made without MFD_ALLOW_SEALING. */
	e->plain_sv[0] = e->plain_sv[1] = -1;
	plain_fd = memfd_without_sealing();
	if (plain_fd >= 0) {
		ck_assert_int_eq(mfd_from_fd(&plain, plain_fd), 0);
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e->plain_sv), 0);
		ck_assert_int_eq(mfd_send(e->plain_sv[0], plain), 0);
		mfd_free(plain);
	}
	ck_assert_int_eq(mfd_ring_new(&e->ring, "fault", page_size(), LIBMEMFD_RING_CONSUMER), 0);
	ck_assert_int_eq(mfd_from_fd(&e->ring_end, dup(mfd_fd(mfd_ring_mfd(e->ring)))), 0);
	/* The lowest free number, which the kernel gives out next. */
	e->next_fd = dup(0);
	ck_assert_int_ge(e->next_fd, 0);
	close(e->next_fd);
}

static void tear_down(struct env *e)
{
	mfd_unmap(e->mapping, page_size()); /* fails where munmap is denied */
	if (e->guarded)
		mfd_unmap(e->guarded, page_size());
	mfd_free(e->m);
	close(e->probe);
	mfd_free(e->ring_end);
	mfd_ring_free(e->ring);
	close(e->sv[0]);
	close(e->sv[1]);
	if (e->plain_sv[0] >= 0) {
		close(e->plain_sv[0]);
		close(e->plain_sv[1]);
	}
}

/* The file as the probe descriptor sees it is as set_up left it. */
static int unchanged(const struct env *e)
{
	struct stat st;
	char data[4];

	return mfd_size(e->m) == e->size && fstat(e->probe, &st) == 0 &&
	       (uint64_t)st.st_size == e->size && fcntl(e->probe, F_GET_SEALS) == e->seals &&
	       pread(e->probe, data, 4, 0) == 4 && memcmp(data, "data", 4) == 0 &&
	       memcmp(e->mapping, "data", 4) == 0;
}

struct fault_run {
	const struct fault *f;
	int guarded; /* make a guarded mapping before the filter */
};

static int fail_one_call(void *arg)
{
	const struct fault_run *run = arg;
	const struct fault *f = run->f;
	struct denial deny[2];
	struct resources before;
	size_t n = f->deny[1].err ? 2 : 1;
	struct env e;

	if (f->deny[0].call == CALL_SIGACTION && running_under_valgrind()) {
		/* It emulates the program's sigaction, and dies of the filter. */
		note_skipped("valgrind cannot have rt_sigaction failed under it");
		return 0;
	}
	set_up(&e, run->guarded);
	memcpy(deny, f->deny, sizeof(deny));
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < 2; t++)
			deny[i].when[t].value = actual(&e, deny[i].when[t].value);
	before = resources_now();
	CHILD_CHECK(deny_syscalls(deny, n) == 0);
	CHILD_CHECK(f->call(&e) == -f->deny[0].err);
	CHILD_CHECK(unchanged(&e));
	CHILD_CHECK(resources_now().fds == before.fds);
	CHILD_CHECK(resources_now().maps == before.maps);
	tear_down(&e);
	return 0;
}

static void ck_assert_fails_cleanly(const struct fault *f, int guarded)
{
	struct fault_run run = { f, guarded };
	int line = run_isolated(fail_one_call, &run);

	ck_assert_msg(line != INT32_MIN, "%s: the child died", f->what);
	ck_assert_msg(line == 0, "%s: CHILD_CHECK at line %d failed", f->what, line);
}

START_TEST(test_every_call_fails_cleanly)
{
	ck_assert_fails_cleanly(&faults[_i], 0);
}
END_TEST

START_TEST(test_every_call_fails_cleanly_after_a_guarded_mapping)
{
	ck_assert_fails_cleanly(&faults_after_a_guarded_mapping[_i], 1);
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_with_leak_check("every_call");

	tcase_add_loop_test(tc, test_every_call_fails_cleanly, 0, (int)ARRAY_SIZE(faults));
	tcase_add_loop_test(tc, test_every_call_fails_cleanly_after_a_guarded_mapping, 0,
			    (int)ARRAY_SIZE(faults_after_a_guarded_mapping));
	suite_add_tcase(s, tc);
	return s;
}
