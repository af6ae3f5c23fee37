# The consumer tests share this (sourced, not run): `make install
# DESTDIR=` into a staging tree in a new temporary directory ($tmp, gone on
# exit), pkg-config made to find nothing but what was staged, and the
# checks every consumer must pass, whatever built it.
: "${top_srcdir:?}" "${top_builddir:?}" "${libdir:?}" "${pkgconfigdir:?}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/libmemfd-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
stage="$tmp/stage"

# A make of our own, not a job of the make that runs the tests.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -C "$top_builddir" \
	install DESTDIR="$stage" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: make install DESTDIR=$stage"
	exit 1
fi

PKG_CONFIG=${PKG_CONFIG:-pkg-config}
PKG_CONFIG_LIBDIR="$stage$pkgconfigdir"
PKG_CONFIG_SYSROOT_DIR="$stage"
# Keep -I/usr/include and -L/usr/lib: under the sysroot they are ours.
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
export PKG_CONFIG PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR \
	PKG_CONFIG_ALLOW_SYSTEM_CFLAGS PKG_CONFIG_ALLOW_SYSTEM_LIBS
unset PKG_CONFIG_PATH

# The consumer's sources, where a build system may write next to them
# (srcdir is read-only under make distcheck).
consumer_source() {
	mkdir -p "$tmp/src"
	cp "$top_srcdir/examples/memfd-demo.c" "$@" "$tmp/src/"
}

# check_consumer BINARY: it links the versioned soname, and run against
# the staged library it says ok, and nothing on stderr.
check_consumer() {
	if ! ${OBJDUMP:-objdump} -p "$1" | grep -q 'NEEDED *libmemfd\.so\.[0-9]'; then
		echo "FAIL: $1 does not link the versioned soname"
		${OBJDUMP:-objdump} -p "$1" | grep NEEDED
		exit 1
	fi
	if ! LD_LIBRARY_PATH="$stage$libdir" "$1" >"$tmp/out" 2>"$tmp/err"; then
		cat "$tmp/out" "$tmp/err"
		echo "FAIL: $1 failed"
		exit 1
	fi
	cat "$tmp/out"
	if [ -s "$tmp/err" ] || ! grep -qx ok "$tmp/out"; then
		cat "$tmp/err"
		echo "FAIL: $1 did not say ok, or wrote on stderr"
		exit 1
	fi
}
