#!/bin/sh
# Install into a DESTDIR staging tree, then build and run the example the
# way a consumer would: with nothing but pkg-config's answer.
set -eu
# shellcheck source=tests/staged-install.sh
. "${top_srcdir:?}/tests/staged-install.sh"

pc_cflags=$("$PKG_CONFIG" --cflags libmemfd)
pc_libs=$("$PKG_CONFIG" --libs libmemfd)
echo "pkg-config --cflags --libs libmemfd: $pc_cflags $pc_libs"

# shellcheck disable=SC2086 # word splitting of the flags is intended
${CC:-cc} ${CFLAGS:-} $pc_cflags -o "$tmp/consumer" \
	"$top_srcdir/examples/memfd-demo.c" $pc_libs
check_consumer "$tmp/consumer"
echo "ok: built and ran a consumer against the staged install"
