#!/bin/sh
# The symbol map, the exported definitions in lib/, the public header and
# the built library must name the same functions, each bound to a
# LIBMEMFD_ version node; the library exports nothing else.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
lib="$top_builddir/lib/.libs/libmemfd.so"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed -n 's/^[[:space:]]*\(mfd_[a-z0-9_]*\);.*/\1/p' "$top_srcdir/lib/libmemfd.sym" |
	sort >"$tmp/map"
sed -n 's/^LIBMEMFD_EXPORT .*[ *]\(mfd_[a-z0-9_]*\)(.*/\1/p' "$top_srcdir"/lib/*.c |
	sort >"$tmp/definitions"
sed -n 's/^[a-z].*[ *]\(mfd_[a-z0-9_]*\)(.*/\1/p' "$top_srcdir/include/libmemfd.h" |
	sort >"$tmp/header"
${NM:-nm} -D --defined-only "$lib" >"$tmp/nm"
# Version node definitions themselves ("A LIBMEMFD_1.0") are not symbols.
awk '!($2 == "A" && $3 ~ /^LIBMEMFD_[0-9.]+$/) { print $2, $3 }' "$tmp/nm" |
	sort >"$tmp/dynamic"
sed -n 's/^T \(mfd_[a-z0-9_]*\)@@LIBMEMFD_[0-9.]*$/\1/p' "$tmp/dynamic" >"$tmp/exported"

status=0
compare() {
	if ! diff -u "$tmp/map" "$tmp/$1" >"$tmp/diff"; then
		echo "FAIL: lib/libmemfd.sym and $2 disagree:"
		cat "$tmp/diff"
		status=1
	fi
}
compare definitions "the LIBMEMFD_EXPORT definitions in lib/*.c"
compare header "include/libmemfd.h"
compare exported "the versioned symbols of $lib"
if grep -v '^T mfd_[a-z0-9_]*@@LIBMEMFD_[0-9.]*$' "$tmp/dynamic"; then
	echo "FAIL: $lib exports the symbols above, outside the mfd_ functions of a LIBMEMFD_ node"
	status=1
fi
[ -s "$tmp/map" ] || { echo "FAIL: no symbols found in lib/libmemfd.sym"; status=1; }
[ "$status" -ne 0 ] || echo "ok: $(wc -l <"$tmp/map") functions, map = definitions = header = library"
exit "$status"
