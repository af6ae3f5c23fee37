#!/bin/sh
# Install into a DESTDIR staging tree, then build and run the example the
# way a consumer would: with nothing but pkg-config's answer.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${libdir:?}" "${pkgconfigdir:?}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/libmemfd-pkgconfig.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stage="$tmp/stage"

# A make of our own, not a job of the make that runs the tests.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -C "$top_builddir" \
	install DESTDIR="$stage" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: make install DESTDIR=$stage"
	exit 1
fi

PKG_CONFIG_LIBDIR="$stage$pkgconfigdir"
PKG_CONFIG_SYSROOT_DIR="$stage"
# Keep -I/usr/include and -L/usr/lib: under the sysroot they are ours.
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
export PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS \
	PKG_CONFIG_ALLOW_SYSTEM_LIBS
unset PKG_CONFIG_PATH

pc_cflags=$("${PKG_CONFIG:-pkg-config}" --cflags libmemfd)
pc_libs=$("${PKG_CONFIG:-pkg-config}" --libs libmemfd)
echo "pkg-config --cflags --libs libmemfd: $pc_cflags $pc_libs"

# shellcheck disable=SC2086 # word splitting of the flags is intended
${CC:-cc} ${CFLAGS:-} $pc_cflags -o "$tmp/consumer" \
	"$top_srcdir/examples/memfd-demo.c" $pc_libs

if ! ${OBJDUMP:-objdump} -p "$tmp/consumer" | grep -q 'NEEDED *libmemfd\.so\.[0-9]'; then
	echo "FAIL: the consumer does not link the versioned soname"
	${OBJDUMP:-objdump} -p "$tmp/consumer" | grep NEEDED
	exit 1
fi
LD_LIBRARY_PATH="$stage$libdir" "$tmp/consumer" >"$tmp/out"
cat "$tmp/out"
grep -qx ok "$tmp/out"
echo "ok: built and ran a consumer against the staged install"
