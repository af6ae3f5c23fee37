#!/bin/sh
# The library calls memfd_create the way configure decided: the C library's
# wrapper is an undefined dynamic symbol, the raw system call is not.
set -eu
: "${top_builddir:?}" "${MEMFD_CREATE_VIA:?}"
lib="$top_builddir/lib/.libs/libmemfd.so"
imports=$(${NM:-nm} -D --undefined-only "$lib" | awk '{ print $2 }' | sed 's/@.*//')

has() { printf '%s\n' "$imports" | grep -qx "$1"; }

case "$MEMFD_CREATE_VIA" in
libc)
	has memfd_create || { echo "FAIL: configured for libc, but memfd_create is not imported"; exit 1; }
	;;
syscall)
	if has memfd_create; then
		echo "FAIL: configured for the raw system call, but memfd_create is imported"
		exit 1
	fi
	has syscall || { echo "FAIL: configured for the raw system call, but syscall is not imported"; exit 1; }
	;;
*)
	echo "FAIL: unknown MEMFD_CREATE_VIA '$MEMFD_CREATE_VIA'"
	exit 1
	;;
esac
echo "ok: memfd_create through $MEMFD_CREATE_VIA"
