#!/bin/sh
# A ring shared by two processes of different builds: tests/ring-peer of
# this build against the program named by LIBMEMFD_RING_PEER_OTHER, the
# same peer built for the other ABI (a 32-bit build against a 64-bit one),
# each serving once and connecting once. Without it, this build's peer
# runs against itself, and the test reports SKIP for the part it could
# not run. .ci/run sets it in its 32-bit build.
set -eu
: "${top_builddir:?}"
self="$top_builddir/tests/ring-peer"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# $1 serves, $2 connects; both must succeed.
pair() {
	rm -f "$tmp/socket"
	"$1" serve "$tmp/socket" &
	server=$!
	client_status=0
	"$2" connect "$tmp/socket" || client_status=$?
	server_status=0
	wait "$server" || server_status=$?
	if [ "$client_status" -ne 0 ] || [ "$server_status" -ne 0 ]; then
		echo "FAIL: $1 serving, $2 connecting (exit $server_status and $client_status)"
		exit 1
	fi
}

pair "$self" "$self"
if [ -z "${LIBMEMFD_RING_PEER_OTHER:-}" ]; then
	echo "SKIP: the rings work between two processes of this build; LIBMEMFD_RING_PEER_OTHER is"
	echo "      not set, so there is no build of the other ABI (32-bit against 64-bit) to run against"
	exit 77
fi
pair "$self" "$LIBMEMFD_RING_PEER_OTHER"
pair "$LIBMEMFD_RING_PEER_OTHER" "$self"
echo "ok: rings shared with $LIBMEMFD_RING_PEER_OTHER, each side serving once"
