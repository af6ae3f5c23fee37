#!/bin/sh
# Linked statically, libmemfd brings every global symbol of its objects into
# the program, hidden visibility and version script notwithstanding: each
# must start with mfd_, so that none can clash with the program's own. The
# archive is made here from the library's objects (the build makes no
# static library unless configured --enable-static, then it is checked too),
# and a program is linked against it and run.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${LIBMEMFD_OBJECTS:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# Each libtool object names its PIC object, relative to its own directory.
objects=
for lo in $LIBMEMFD_OBJECTS; do
	lo="$top_builddir/$lo"
	pic=$(sed -n "s/^pic_object='\\(.*\\)'\$/\\1/p" "$lo")
	if [ -z "$pic" ] || [ "$pic" = none ]; then
		echo "FAIL: $lo names no PIC object"
		exit 1
	fi
	objects="$objects $(dirname "$lo")/$pic"
done
# shellcheck disable=SC2086 # a list of objects
"${AR:-ar}" rcs "$tmp/libmemfd.a" $objects

check_archive() {
	# Not the compiler's own __x86.get_pc_thunk.* (32-bit x86): each object
	# carries a copy in a COMDAT group, which the linker merges with the
	# program's, so they cannot clash.
	${NM:-nm} -g --defined-only "$1" | awk 'NF == 3 { print $3 }' |
		grep -v '^__x86\.get_pc_thunk\.' | sort -u >"$tmp/globals"
	[ -s "$tmp/globals" ] || { echo "FAIL: $1 defines no global symbol"; status=1; return; }
	if grep -v '^mfd_' "$tmp/globals" >"$tmp/foreign"; then
		echo "FAIL: $2 defines global symbols outside mfd_:"
		cat "$tmp/foreign"
		status=1
	fi
	echo "$2: $(wc -l <"$tmp/globals") global symbols, all mfd_"
}
check_archive "$tmp/libmemfd.a" "an archive of the library's objects"
if [ -f "$top_builddir/lib/.libs/libmemfd.a" ]; then
	check_archive "$top_builddir/lib/.libs/libmemfd.a" "lib/.libs/libmemfd.a"
fi

# The archive is complete: the example links against it alone and runs.
# shellcheck disable=SC2086 # CFLAGS is a list of flags
${CC:-cc} ${CFLAGS:-} -I"$top_srcdir/include" -o "$tmp/demo" \
	"$top_srcdir/examples/memfd-demo.c" "$tmp/libmemfd.a"
if ${OBJDUMP:-objdump} -p "$tmp/demo" | grep -q 'NEEDED *libmemfd'; then
	echo "FAIL: the statically linked example still needs libmemfd.so"
	status=1
fi
"$tmp/demo" >"$tmp/out" || { cat "$tmp/out"; echo "FAIL: the statically linked example failed"; status=1; }
grep -qx ok "$tmp/out" || status=1
[ "$status" -ne 0 ] || echo "ok: a static link brings in only mfd_ symbols"
exit "$status"
