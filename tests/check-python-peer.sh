#!/bin/sh
# mfd_send_msg and mfd_recv_msg against a peer the library did not write:
# Python's standard library (socket.send_fds/recv_fds, os.memfd_create,
# Python 3.9 or later), both ways, on every socket type, and as a hostile
# sender (tests/python-peer.py; the library's end is tests/msg-peer).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
	echo "SKIP: no python3 (apt-get install python3)"
	exit 77
fi
if ! "$python" -c 'import os, socket; socket.send_fds; os.memfd_create' 2>/dev/null; then
	echo "SKIP: $python has no socket.send_fds (Python 3.9 or later is needed)"
	exit 77
fi
exec "$python" "$top_srcdir/tests/python-peer.py" "$top_builddir/tests/msg-peer"
