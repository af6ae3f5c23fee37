#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Python's standard library at the other end of mfd_send_msg and
mfd_recv_msg: socket.send_fds/recv_fds and os.memfd_create, on stream,
datagram and sequenced-packet sockets, both ways, and as a hostile sender
whose every refusal the C end must survive without a leaked descriptor.

    python-peer.py PATH-TO-MSG-PEER
"""
import fcntl
import os
import socket
import subprocess
import sys
import tempfile

SEALED = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
TYPES = {"stream": socket.SOCK_STREAM, "datagram": socket.SOCK_DGRAM,
         "seqpacket": socket.SOCK_SEQPACKET}
failures = 0


def check(what, got, want):
    global failures
    if got == want:
        print(f"ok: {what}")
    else:
        print(f"FAIL: {what}: got {got!r}, want {want!r}")
        failures += 1


def memfd(name, data, seals):
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, data)
    if seals:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    return fd


def python_sends(peer, kind):
    """Python sends; the library receives, requiring SEALED."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, TYPES[kind])
    c = subprocess.Popen([peer, "recv", str(theirs.fileno()), str(SEALED), "8" if kind == "stream" else "9"],
                         pass_fds=[theirs.fileno()], stdout=subprocess.PIPE, text=True)
    theirs.close()
    blob = memfd("py-blob", b"contents from python", SEALED)

    def said():
        return c.stdout.readline().rstrip("\n")

    # One message at a time, each answered before the next is sent: on a
    # stream, bytes of separate sends may otherwise join.
    socket.send_fds(ours, [b"hello"], [blob])
    check(f"{kind}: a sealed memfd from Python", said(),
          "msg 5 hello memfd 20 py-blob contents from python")
    ours.send(b"plain")
    check(f"{kind}: a message without a descriptor", said(), "msg 5 plain none")
    if kind != "stream":
        socket.send_fds(ours, [b""], [blob])
        check(f"{kind}: an empty message with a memfd (as libsystemd sends)", said(),
              "msg 0  memfd 20 py-blob contents from python")

    # A hostile sender: each is refused, nothing leaks.
    # A file on a tmpfs of its own (not the memfd mount), where there is one.
    with tempfile.TemporaryFile(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as shm:
        shm.write(b"x" * 4096)
        shm.flush()
        socket.send_fds(ours, [b"shm"], [shm.fileno()])
        check(f"{kind}: a /dev/shm (or other) file is refused", said(), "error EINVAL")
    r, w = os.pipe()
    socket.send_fds(ours, [b"pipe"], [r])
    check(f"{kind}: a pipe is refused", said(), "error EINVAL")
    os.close(r)
    os.close(w)
    unsealed = memfd("unsealed", b"y" * 100, 0)
    socket.send_fds(ours, [b"open"], [unsealed])
    check(f"{kind}: a memfd without the seals is refused", said(), "error EPERM")
    socket.send_fds(ours, [b"two"], [blob, unsealed])
    check(f"{kind}: two descriptors are refused", said(), "error EBADMSG")
    os.close(unsealed)
    os.close(blob)
    # After every refusal the connection still works, and then ends.
    ours.send(b"after")
    check(f"{kind}: the connection goes on", said(), "msg 5 after none")
    if kind == "datagram":
        ours.send(b"")
        check(f"{kind}: an empty datagram without a descriptor", said(), "error EBADMSG")
    else:
        ours.close()
        check(f"{kind}: the end of the connection", said(), "end")
    rest = c.stdout.read()
    check(f"{kind}: nothing leaked, nothing more said", rest, "")
    check(f"{kind}: the library's end exits 0", c.wait(), 0)
    if kind == "datagram":
        ours.close()


def python_receives(peer, kind):
    """The library sends; Python receives."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, TYPES[kind])
    c = subprocess.Popen([peer, "send", str(theirs.fileno())], pass_fds=[theirs.fileno()])
    theirs.close()

    def check_blob(what, fds):
        check(f"{kind}: {what}: one descriptor", len(fds), 1)
        if len(fds) != 1:
            return
        fd = fds[0]
        check(f"{kind}: {what}: contents", os.pread(fd, 100, 0), b"contents from C")
        check(f"{kind}: {what}: sealed", fcntl.fcntl(fd, fcntl.F_GET_SEALS) & SEALED, SEALED)
        check(f"{kind}: {what}: a memfd", os.readlink(f"/proc/self/fd/{fd}"),
              "/memfd:from-c (deleted)")
        os.close(fd)

    msg, fds, _, _ = socket.recv_fds(ours, 5, 1)
    check(f"{kind}: mfd_send_msg's data", msg, b"hello")
    check_blob("mfd_send_msg's memfd", fds)
    msg, fds, _, _ = socket.recv_fds(ours, 5, 1)
    check(f"{kind}: a plain message", (msg, fds), (b"plain", []))
    if kind != "stream":
        msg, fds, _, _ = socket.recv_fds(ours, 64, 1)
        check(f"{kind}: an empty message", msg, b"")
        check_blob("the empty message's memfd", fds)
    else:
        # 4 MiB that the kernel took in parts: the descriptor with the
        # first of them, every byte in order.
        size, got, fds_seen, first = 4 << 20, bytearray(), [], None
        while len(got) < size:
            msg, fds, _, _ = socket.recv_fds(ours, 1 << 16, 1)
            if not msg:
                break
            if first is None:
                first = fds
            else:
                fds_seen += fds
            got += msg
        check(f"{kind}: the large message's length", len(got), size)
        want = bytes((ord("a") + i % 26) for i in range(26)) * (size // 26 + 1)
        check(f"{kind}: the large message's bytes", bytes(got) == want[:size], True)
        check(f"{kind}: no descriptor after the first part", fds_seen, [])
        check_blob("the large message's memfd", first or [])
    check(f"{kind}: the library's end exits 0", c.wait(), 0)
    ours.close()


def main():
    peer = sys.argv[1]
    for kind in TYPES:
        python_sends(peer, kind)
        python_receives(peer, kind)
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
