#!/bin/sh
# mfd_send_msg against a real systemd-journald: started in a private mount
# namespace with a /run and a journal directory of its own (the system's
# journal, if any, is never touched), it must take an entry sent as an
# empty datagram carrying a sealed memfd, and journalctl must show it.
# Needs root (a mount namespace, journald's own needs) and Debian's systemd
# package; otherwise SKIP. Run by .ci/run, which installs systemd.
set -eu
: "${top_builddir:?}"
journald=
for candidate in /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
	[ -x "$candidate" ] && journald=$candidate && break
done
if [ -z "$journald" ] || ! command -v journalctl >/dev/null 2>&1; then
	echo "SKIP: no systemd-journald here (apt-get install systemd)"
	exit 77
fi
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
	echo "SKIP: a private journald needs root and a mount namespace"
	exit 77
fi
if [ "${LIBMEMFD_IN_PRIVATE_JOURNAL:-}" != yes ]; then
	LIBMEMFD_IN_PRIVATE_JOURNAL=yes exec unshare -m --propagation private "$0" "$@"
fi

# In the namespace: a journald of our own.
mount -t tmpfs tmpfs /run
[ ! -d /var/log/journal ] || mount -t tmpfs tmpfs /var/log/journal
mkdir -p /run/systemd/journal
"$journald" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
socket=/run/systemd/journal/socket
for _ in $(seq 100); do
	[ -S "$socket" ] && break
	sleep 0.1
done
[ -S "$socket" ] || { echo "FAIL: journald made no $socket"; exit 1; }
echo "journald of $(journalctl --version | head -n 1) listens on $socket"

token="libmemfd handoff $$ $(date +%s)"
"$top_builddir/tests/journal-send" "$socket" "$token"
for _ in $(seq 50); do
	shown=$(journalctl --directory=/run/log/journal --no-pager -o cat \
		SYSLOG_IDENTIFIER=libmemfd-test 2>/dev/null || true)
	[ "$shown" = "$token" ] && break
	sleep 0.1
done
if [ "$shown" != "$token" ]; then
	echo "FAIL: journalctl does not show the entry; it shows:"
	journalctl --directory=/run/log/journal --no-pager -o short 2>&1 | tail -n 20
	exit 1
fi
echo "ok: journalctl shows the entry sent in a sealed memfd: $shown"
if [ -n "${JQ:-}" ]; then
	big=$(journalctl --directory=/run/log/journal --no-pager -o json --all \
		SYSLOG_IDENTIFIER=libmemfd-test | "$JQ" -r '.LIBMEMFD_BIG | length')
	[ "$big" = 262144 ] || { echo "FAIL: LIBMEMFD_BIG has $big bytes, not 262144"; exit 1; }
	echo "ok: with its 256 KiB field, more than a datagram holds"
fi
