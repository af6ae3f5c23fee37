/* SPDX-License-Identifier: MIT */
/*
 * libmemfd - Linux memfd shared memory: a named, sized, sealable file in RAM
 * that can be mapped and shared between processes.
 *
 * Every function that can fail returns a negative errno value; output
 * parameters are written only on success, and a failed call leaves no
 * descriptor, memory or mapping behind. A handle is not locked: use it from
 * one thread at a time (mfd_pread, mfd_pwrite and mfd_map may be shared).
 */
#ifndef LIBMEMFD_H
#define LIBMEMFD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The kernel's constants, for C libraries older than the kernel (or built
 * without _GNU_SOURCE). Each is spelled as in the kernel's own uapi headers,
 * so that including <linux/memfd.h> after this header redefines nothing.
 */
#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL	0x0001	/* prevent further seals from being set */
#endif
#ifndef F_SEAL_SHRINK
#define F_SEAL_SHRINK	0x0002	/* prevent file from shrinking */
#endif
#ifndef F_SEAL_GROW
#define F_SEAL_GROW	0x0004	/* prevent file from growing */
#endif
#ifndef F_SEAL_WRITE
#define F_SEAL_WRITE	0x0008	/* prevent writes */
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010  /* prevent future writes while mapped */
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC	0x0020  /* prevent chmod modifying exec bits */
#endif

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC		0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING	0x0002U
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB		0x0004U
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL		0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC		0x0010U
#endif

#ifndef HUGETLB_FLAG_ENCODE_SHIFT
#define HUGETLB_FLAG_ENCODE_SHIFT	26
#endif
#ifndef HUGETLB_FLAG_ENCODE_MASK
#define HUGETLB_FLAG_ENCODE_MASK	0x3f
#endif
#ifndef HUGETLB_FLAG_ENCODE_64KB
#define HUGETLB_FLAG_ENCODE_64KB	(16U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_512KB
#define HUGETLB_FLAG_ENCODE_512KB	(19U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_1MB
#define HUGETLB_FLAG_ENCODE_1MB		(20U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_2MB
#define HUGETLB_FLAG_ENCODE_2MB		(21U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_8MB
#define HUGETLB_FLAG_ENCODE_8MB		(23U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_16MB
#define HUGETLB_FLAG_ENCODE_16MB	(24U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_32MB
#define HUGETLB_FLAG_ENCODE_32MB	(25U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_256MB
#define HUGETLB_FLAG_ENCODE_256MB	(28U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_512MB
#define HUGETLB_FLAG_ENCODE_512MB	(29U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_1GB
#define HUGETLB_FLAG_ENCODE_1GB		(30U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_2GB
#define HUGETLB_FLAG_ENCODE_2GB		(31U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif
#ifndef HUGETLB_FLAG_ENCODE_16GB
#define HUGETLB_FLAG_ENCODE_16GB	(34U << HUGETLB_FLAG_ENCODE_SHIFT)
#endif

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT	HUGETLB_FLAG_ENCODE_SHIFT
#endif
#ifndef MFD_HUGE_MASK
#define MFD_HUGE_MASK	HUGETLB_FLAG_ENCODE_MASK
#endif
#ifndef MFD_HUGE_64KB
#define MFD_HUGE_64KB	HUGETLB_FLAG_ENCODE_64KB
#endif
#ifndef MFD_HUGE_512KB
#define MFD_HUGE_512KB	HUGETLB_FLAG_ENCODE_512KB
#endif
#ifndef MFD_HUGE_1MB
#define MFD_HUGE_1MB	HUGETLB_FLAG_ENCODE_1MB
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB	HUGETLB_FLAG_ENCODE_2MB
#endif
#ifndef MFD_HUGE_8MB
#define MFD_HUGE_8MB	HUGETLB_FLAG_ENCODE_8MB
#endif
#ifndef MFD_HUGE_16MB
#define MFD_HUGE_16MB	HUGETLB_FLAG_ENCODE_16MB
#endif
#ifndef MFD_HUGE_32MB
#define MFD_HUGE_32MB	HUGETLB_FLAG_ENCODE_32MB
#endif
#ifndef MFD_HUGE_256MB
#define MFD_HUGE_256MB	HUGETLB_FLAG_ENCODE_256MB
#endif
#ifndef MFD_HUGE_512MB
#define MFD_HUGE_512MB	HUGETLB_FLAG_ENCODE_512MB
#endif
#ifndef MFD_HUGE_1GB
#define MFD_HUGE_1GB	HUGETLB_FLAG_ENCODE_1GB
#endif
#ifndef MFD_HUGE_2GB
#define MFD_HUGE_2GB	HUGETLB_FLAG_ENCODE_2GB
#endif
#ifndef MFD_HUGE_16GB
#define MFD_HUGE_16GB	HUGETLB_FLAG_ENCODE_16GB
#endif

/* The longest name mfd_new accepts, in bytes (the kernel's limit). */
#define LIBMEMFD_NAME_MAX 249

/* The name a memfd gets when mfd_new is given none. */
#define LIBMEMFD_DEFAULT_NAME "libmemfd"

/* A memfd and the size this handle has recorded for it. */
struct mfd;

/* fd lifecycle */

/*
 * Create a memfd, close-on-exec and sealable, of size 0. Without MFD_EXEC it
 * is not executable (sealed with F_SEAL_EXEC where the kernel knows it).
 * flags: 0 or MFD_HUGETLB (with an optional MFD_HUGE_* size), MFD_EXEC,
 * MFD_NOEXEC_SEAL; MFD_CLOEXEC and MFD_ALLOW_SEALING are always implied.
 * -EINVAL: out is NULL, name longer than LIBMEMFD_NAME_MAX, unknown flags,
 * MFD_EXEC with MFD_NOEXEC_SEAL, or a huge page size without MFD_HUGETLB.
 */
int mfd_new(struct mfd **out, const char *name, unsigned int flags);

/*
 * Adopt an open descriptor of any file; the recorded size is the file's
 * size (found by seeking to its end, offset restored, for other than
 * regular files). Whether it is a memfd is decided as mfd_recv decides,
 * failing closed: what cannot be proven one (with no descriptor slot left
 * for the proof, a file whose seals prove nothing) is taken for a file
 * that is not. On failure the caller still owns fd. -EBADF: fd < 0 or
 * not open; -EINVAL: out is NULL; -EISDIR: a directory; -ESPIPE: a pipe
 * or socket, which has no size.
 */
int mfd_from_fd(struct mfd **out, int fd);

/* Close the descriptor and free the handle. NULL is a no-op. */
void mfd_free(struct mfd *m);

/* The descriptor, still owned by the handle. */
int mfd_fd(const struct mfd *m);

/* Free the handle without closing; the returned descriptor is the caller's. */
int mfd_release_fd(struct mfd *m);

/*
 * Copy the name given at creation (without the kernel's "memfd:" prefix and
 * " (deleted)" suffix) into buf, NUL-terminated, and return its length.
 * -ERANGE: buf cannot hold it (nothing is written); -EINVAL: not a memfd.
 */
int mfd_get_name(const struct mfd *m, char *buf, size_t size);

/* 1 if the running kernel has memfd_create, else 0. */
int mfd_kernel_supported(void);

/* sizing */

/*
 * The size this handle has recorded: 0 at creation, the file's size at
 * adoption, the last successful mfd_set_size. Like the seed it does not
 * follow changes made through other descriptors, nor writes past the end.
 */
uint64_t mfd_size(const struct mfd *m);

/* ftruncate. -EINVAL above INT64_MAX; any failure keeps mfd_size. */
int mfd_set_size(struct mfd *m, uint64_t size);

/* seals */

/*
 * The F_SEAL_* bitmask, or -EINVAL for a file that is not a memfd (tmpfs
 * and hugetlbfs files answer F_GET_SEALS too, but are not memfds; an
 * adopted file is told apart by its seals, or else by the kernel-internal
 * mount memfds live on and its "memfd:" name).
 */
int mfd_get_seals(const struct mfd *m);

/*
 * Add F_SEAL_* seals. -EINVAL: unknown bits; -EPERM: F_SEAL_SEAL is set or
 * the descriptor is read-only; -EBUSY: F_SEAL_WRITE while a shared mapping
 * exists that is or could be made writable. A PROT_READ mapping made
 * through a writable descriptor counts (mprotect could make it writable),
 * unless the file was already write-sealed when it was made: unmap it
 * first, or map through a read-only descriptor.
 */
int mfd_add_seals(struct mfd *m, unsigned int seals);

/* mappings */

/*
 * mfd_map flags.
 *
 * LIBMEMFD_MAP_POPULATE: prefault the mapping (MAP_POPULATE) so that later
 * accesses take no page fault; on a memfd this allocates the pages, so the
 * mapping takes longer to make and the memory is in use at once. It is
 * best effort, as in the kernel: the mapping is made even where pages could
 * not be allocated (memory, a cgroup limit or an adopted tmpfs file's size
 * limit exhausted), and touching those later may still raise SIGBUS; use
 * mfd_allocate to reserve them for certain. Huge pages are reserved by the
 * mapping itself, with or without this flag (-ENOMEM when too few are
 * free). A PROT_NONE mapping is not prefaulted.
 */
#define LIBMEMFD_MAP_POPULATE	0x0001U

/*
 * Map [offset, offset + length) shared and store the address in *addr.
 * prot is PROT_NONE or PROT_READ, PROT_WRITE, PROT_EXEC; flags is 0 or
 * LIBMEMFD_MAP_* bits.
 * -EINVAL: length 0, offset not page-aligned, an overflowing range, unknown
 * prot or flags bits, or on hugetlbfs an offset or length that is not a
 * whole number of huge pages (a huge page cannot be unmapped in part);
 * -ENXIO: the range reaches past the last page of both the recorded size
 * and the file's current size (touching it would raise SIGBUS); -EPERM:
 * PROT_WRITE on a memfd sealed with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE.
 * Within the recorded size the check makes no system call, so a shrink
 * through another descriptor goes unseen: F_SEAL_SHRINK rules it out.
 * A read-only mapping of a write-sealed memfd works on every kernel.
 */
int mfd_map(struct mfd *m, uint64_t offset, size_t length, int prot,
	    unsigned int flags, void **addr);

/*
 * Undo mfd_map. -EINVAL: addr NULL or not page-aligned, length 0, or a
 * range that overlaps a guarded mapping (LIBMEMFD_MAP_GUARD) without being
 * exactly it.
 */
int mfd_unmap(void *addr, size_t length);

/* stream I/O: read(2), write(2), lseek(2), pread(2), pwrite(2), retrying EINTR */

ssize_t mfd_read(struct mfd *m, void *buf, size_t count);
ssize_t mfd_write(struct mfd *m, const void *buf, size_t count);
int64_t mfd_seek(struct mfd *m, int64_t offset, int whence);
ssize_t mfd_pread(struct mfd *m, void *buf, size_t count, uint64_t offset);
ssize_t mfd_pwrite(struct mfd *m, const void *buf, size_t count,
		   uint64_t offset);

/* sharing between processes (since 1.1) */

/*
 * An immutable blob: a new memfd holding a copy of data[0, length), sealed
 * with F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_WRITE (and, as
 * every new memfd, not executable). length 0 is valid. -EINVAL: out NULL,
 * data NULL with length > 0, or a bad name (as mfd_new); otherwise the
 * error of memfd_create, the write (-ENOSPC, ...) or the sealing, and
 * nothing is left behind.
 */
int mfd_new_sealed(struct mfd **out, const char *name, const void *data,
		   size_t length);

/*
 * 0 if every seal in required is set. A subset test: extra seals (such as
 * F_SEAL_EXEC on newer kernels) never fail it. -EPERM: a required seal is
 * missing; -EINVAL: unknown bits in required, or not a memfd.
 */
int mfd_check_seals(const struct mfd *m, unsigned int required);

/*
 * Send the memfd's descriptor over a connected AF_UNIX socket (SCM_RIGHTS,
 * with one byte of data), never raising SIGPIPE. The handle keeps its
 * descriptor. -EINVAL: m NULL; -EBADF: sock < 0; -EPIPE: the peer has
 * closed its end; otherwise sendmsg(2)'s error.
 */
int mfd_send(int sock, const struct mfd *m);

/*
 * Receive one memfd sent by mfd_send and adopt it, close-on-exec. It is
 * accepted only if it can be proven a real memfd (a tmpfs or /dev/shm
 * file is not, though it answers F_GET_SEALS; what cannot be proven is
 * refused) carrying every seal in required_seals; the recorded size is
 * read after the seals are checked, so that with F_SEAL_SHRINK it can be
 * trusted. An empty datagram or packet that carries one memfd is a valid
 * handoff. Whatever is refused, every descriptor that arrived is closed.
 * -EINVAL: out NULL, unknown bits in required_seals, or the descriptor is
 * not (or cannot be proven) a memfd (a pipe, a socket, a regular or tmpfs
 * file, an O_PATH descriptor); -EPERM: a required seal is missing;
 * -EBADMSG: no descriptor, several, control data the kernel truncated, or
 * an empty datagram or packet that carries none; -ECONNRESET: the peer
 * closed its end (of a stream or a sequenced-packet socket); -EBADF: sock
 * < 0; otherwise recvmsg(2)'s error.
 */
int mfd_recv(int sock, unsigned int required_seals, struct mfd **out);

/*
 * Reserve backing store for [offset, offset + length) (posix_fallocate,
 * retried on EINTR), so that page faults there cannot raise SIGBUS on a
 * full tmpfs or an empty huge page pool later: the error comes now. Grows
 * the file, and mfd_size, if the range ends past it. -EINVAL: length 0 or
 * offset above INT64_MAX; -EFBIG: the range ends above INT64_MAX; -ENOSPC:
 * no memory (or huge pages) to back it; -EPERM: F_SEAL_GROW and the range
 * ends past the file.
 */
int mfd_allocate(struct mfd *m, uint64_t offset, uint64_t length);

/*
 * Give the pages of [offset, offset + length) back to the system; they read
 * as zeros afterwards, and the size is kept. -EINVAL: length 0 or offset
 * above INT64_MAX; -EFBIG: the range ends above INT64_MAX; -EPERM: sealed
 * with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE.
 */
int mfd_punch_hole(struct mfd *m, uint64_t offset, uint64_t length);

/* messages that carry a memfd (since 1.2) */

/*
 * Send data[0, length) as one message with the memfd's descriptor attached
 * (SCM_RIGHTS), never raising SIGPIPE; 0 once all of it is sent. A short
 * send on a stream is completed, waiting for room even on a non-blocking
 * socket; the descriptor travels with the first byte, and on a stream the
 * bytes may arrive joined to earlier ones. length 0 sends an empty
 * datagram or packet carrying the descriptor (as systemd-journald takes
 * large entries). -EINVAL: m NULL, data NULL with length > 0, or length 0
 * on a stream socket; -EBADF: sock < 0; -EAGAIN: a non-blocking socket
 * had no room and nothing was sent; -ETIMEDOUT: the rest of a message
 * found no room within the socket's SO_SNDTIMEO; -EPIPE: the peer has
 * gone; otherwise sendmsg(2)'s error. After part of a message went out on
 * a stream, an error leaves that stream unusable.
 */
int mfd_send_msg(int sock, const struct mfd *m, const void *data, size_t length);

/*
 * One recvmsg(2) of at most size bytes into buf; returns the number of
 * bytes, and sets *out to the memfd that came with them, accepted as
 * mfd_recv accepts one, or to NULL when none came. 0 with *out NULL is
 * the end of the connection and nothing else (end of file on a stream; an
 * empty read with the peer gone on a sequenced-packet socket). An empty
 * datagram or packet that carries a memfd returns 0 with *out set.
 * -EINVAL: out NULL, buf NULL with size > 0, unknown bits in
 * required_seals, size 0 on a stream socket, or a descriptor that is not
 * a memfd; -EBADF: sock < 0; -EMSGSIZE: a datagram or packet longer than
 * size; -EBADMSG: several descriptors, control data the kernel truncated,
 * or an empty datagram or packet that carries none; -EPERM: a required
 * seal is missing; otherwise recvmsg(2)'s error. On every error the
 * message is consumed, *out is not written, every descriptor that
 * arrived is closed, and what buf holds is unspecified (the kernel writes
 * the bytes before the descriptor can be judged).
 */
ssize_t mfd_recv_msg(int sock, unsigned int required_seals, void *buf, size_t size,
		     struct mfd **out);
/* guarded mappings (since 1.2) */

/*
 * mfd_map flag LIBMEMFD_MAP_GUARD, for memory that a peer who is not
 * trusted may shrink (a Wayland client's pool, which the protocol does not
 * require to be sealed). Touching a page of the mapping that the file can
 * no longer back (shrunk below it; a full tmpfs; an empty huge page pool)
 * does not end the process with SIGBUS: that page (on hugetlbfs, that huge
 * page) is replaced by a private zero-filled one with the mapping's
 * protection, and the access goes on; the other pages stay shared. At
 * vm.max_map_count the whole mapping is replaced at once. Combinable with
 * LIBMEMFD_MAP_POPULATE; no cost per access.
 *
 * The first guarded mapping installs the library's SIGBUS handler
 * (SA_SIGINFO, SA_ONSTACK, SA_NODEFER, SA_RESTART). A SIGBUS that is not
 * such a fault goes on to the disposition that was in place before (the
 * default, SIG_IGN, or the program's handler, with its mask and flags).
 * A thread that blocks SIGBUS is not protected: the kernel kills it. A
 * program that installs a SIGBUS handler of its own later calls
 * mfd_handle_sigbus from it. Undo with mfd_unmap, of the whole mapping;
 * munmap, mremap or mprotect on it are the caller's error.
 */
#define LIBMEMFD_MAP_GUARD	0x0002U

/*
 * For the guarded mapping that starts at addr: 1 if a page of it has been
 * replaced since mfd_map made it (the peer shrank it: drop the peer), 0 if
 * not. -EINVAL: no guarded mapping starts at addr. Async-signal-safe.
 */
int mfd_map_faulted(const void *addr);

/*
 * For a SIGBUS handler installed after the library's: call this first,
 * with the handler's three arguments (info is its siginfo_t *). 1: the
 * fault was in a guarded mapping and is repaired: return from the handler
 * and the access goes on. 0: it was not; handle it yourself.
 * Async-signal-safe.
 */
int mfd_handle_sigbus(int sig, void *info, void *ucontext);

/* mirrored mappings and rings (since 1.2) */

/*
 * Map [offset, offset + length) shared twice, back to back: at *addr and at
 * *addr + length, so that byte i and byte i + length are the same memory.
 * length is a non-zero multiple of the page size (of the huge page size on
 * hugetlbfs), offset a multiple likewise. The address range is reserved
 * first and then filled, so that no other mapping of the process is ever
 * replaced, even by another thread mapping at the same time. Undo it with
 * mfd_unmap(*addr, 2 * length).
 * -EINVAL: m or addr NULL, length 0 or not a multiple, offset not aligned,
 * unknown prot bits, or a range that overflows; -ENXIO: the range reaches
 * past the last page of the file (as for mfd_map); -EPERM: PROT_WRITE on a
 * write-sealed memfd; -ENOMEM: no room in the address space.
 */
int mfd_map_mirror(struct mfd *m, uint64_t offset, size_t length, int prot,
		   void **addr);

/* The end of a ring that mfd_ring_new's caller takes. */
#define LIBMEMFD_RING_PRODUCER	0x0001U
#define LIBMEMFD_RING_CONSUMER	0x0002U

/*
 * One end of a ring: a stream of messages from one process (the producer)
 * to another (the consumer) through a memfd they both map, a control page
 * and a mirrored data area. Single producer, single consumer; each end is
 * used by one thread at a time. Neither end trusts the other: an index or
 * a length in shared memory that no end following the rules could have
 * written makes the calls answer -EPROTO from then on, and nothing outside
 * the ring is ever read or handed out.
 */
struct mfd_ring;

/*
 * Create a ring whose data area holds capacity bytes (a power of two, at
 * least the page size) in a new memfd (name as for mfd_new), and take the
 * end flags names: exactly one of LIBMEMFD_RING_PRODUCER and
 * LIBMEMFD_RING_CONSUMER. The memfd is sized, allocated and sealed
 * F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL before this returns; send it
 * (mfd_ring_mfd) to the process that takes the other end.
 * -EINVAL: out NULL, bad flags, name or capacity; -ENOSPC: no memory to
 * back it; -ENOMEM: no room in the address space; or mfd_new's errors.
 */
int mfd_ring_new(struct mfd_ring **out, const char *name, size_t capacity,
		 unsigned int flags);

/*
 * Take the other end of the ring in m (as mfd_recv gives it); on success
 * the ring owns m, on failure the caller still does. -EINVAL: m is not a
 * real memfd sealed F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL (and not
 * F_SEAL_WRITE or F_SEAL_FUTURE_WRITE), or its size and control data are
 * not those of a ring mfd_ring_new makes; -EBUSY: the other end was taken
 * before; -ENOMEM: no room in the address space.
 */
int mfd_ring_attach(struct mfd_ring **out, struct mfd *m);

/* The ring's memfd, still owned by the ring: mfd_send it to the other end. */
const struct mfd *mfd_ring_mfd(const struct mfd_ring *r);

/* The data area's size: every message of up to half of it fits in an
 * empty ring. 0 for NULL. */
size_t mfd_ring_capacity(const struct mfd_ring *r);

/* Unmap and close this end and tell the other, which gets -EPIPE once it
 * has read what is in flight. NULL is a no-op. */
void mfd_ring_free(struct mfd_ring *r);

/*
 * Producer: room for the next message of length bytes (0 is a message too)
 * at *addr, to be written in place and published by mfd_ring_commit. A
 * second reserve before the commit replaces the first. -EAGAIN: not that
 * much free room now; -EMSGSIZE: never; -EPIPE: the consumer is gone;
 * -EINVAL: the consumer's end, or addr NULL; -EPROTO: the consumer broke
 * the ring.
 */
int mfd_ring_reserve(struct mfd_ring *r, size_t length, void **addr);

/* Publish the reserved message (release ordering) and wake the consumer if
 * it sleeps in mfd_ring_wait. -EINVAL: nothing reserved; -EPROTO. */
int mfd_ring_commit(struct mfd_ring *r);

/* Reserve, copy data[0, length) and commit; the errors of reserve. */
int mfd_ring_send(struct mfd_ring *r, const void *data, size_t length);

/*
 * Consumer: the next message in place, its length returned and its bytes
 * at *addr until mfd_ring_release. A producer that does not play by the
 * rules can still change them while they are read: copy what must not
 * change. -EAGAIN: none yet; -EPIPE: none, and the producer is gone;
 * -EINVAL: the producer's end, or addr NULL; -EPROTO: the producer broke
 * the ring.
 */
ssize_t mfd_ring_peek(struct mfd_ring *r, const void **addr);

/* Free the peeked message's room and wake the producer if it sleeps in
 * mfd_ring_wait. -EINVAL: nothing peeked; -EPROTO. */
int mfd_ring_release(struct mfd_ring *r);

/* Peek, copy into buf and release; returns the length. -EMSGSIZE: the
 * message is longer than size, and stays in the ring; else peek's errors. */
ssize_t mfd_ring_recv(struct mfd_ring *r, void *buf, size_t size);

/*
 * Block until this end can go on: the producer until there is room for
 * length bytes, the consumer until a message is there (length ignored).
 * timeout_ms: -1 (any negative value) waits without limit, 0 only checks.
 * It makes no system call when it can go on at once, spins briefly, then
 * sleeps on a futex in the shared control page. -ETIMEDOUT; -EINTR: a
 * signal handler ran (SA_RESTART or not); -EPIPE: the other end is gone
 * (and, for the consumer, nothing is left); -EMSGSIZE: length can never
 * fit; -EINVAL; -EPROTO. A peer that dies without mfd_ring_free is not
 * noticed: wait with a timeout, or watch the socket the ring came over.
 */
int mfd_ring_wait(struct mfd_ring *r, size_t length, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* LIBMEMFD_H */
