#!/bin/sh
# Every exported function has a manual page (a real one, or a .so alias of
# a real page that names it), every page is installed, and each real page
# has the sections a reader looks for. The errnos a compilation unit of
# lib/ returns must appear on the pages of the functions it defines.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
man="$top_srcdir/man"
lib="$top_builddir/lib/.libs/libmemfd.so"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

# The functions: those of the symbol map and those the library exports.
sed -n 's/^[[:space:]]*\(mfd_[a-z0-9_]*\);.*/\1/p' "$top_srcdir/lib/libmemfd.sym" >"$tmp/symbols"
${NM:-nm} -D --defined-only "$lib" |
	sed -n 's/^[0-9a-f]* T \(mfd_[a-z0-9_]*\)@@LIBMEMFD_[0-9.]*$/\1/p' >>"$tmp/symbols"
sort -u "$tmp/symbols" -o "$tmp/symbols"
[ -s "$tmp/symbols" ] || fail "no exported functions found"

# The page a name resolves to: itself, or the target of its .so line.
real_page() {
	if grep -q '^\.so ' "$1"; then
		echo "$man/$(sed -n 's|^\.so man[0-9]/||p' "$1")"
	else
		echo "$1"
	fi
}
# The names a page's NAME section documents, one a line.
# shellcheck disable=SC2020 # commas and spaces both end a name
page_names() {
	sed -n '/^\.SH NAME/,/^\.SH/{/^\.SH/d;p}' "$1" | tr '\n' ' ' |
		sed 's/ \\-.*//' | tr ', ' '\n\n' | grep -v '^$' || true
}

while read -r sym; do
	page="$man/$sym.3"
	if [ ! -f "$page" ]; then
		fail "$sym has no manual page (man/$sym.3)"
		continue
	fi
	if grep -q '^\.so ' "$page"; then
		if [ "$(grep -cv '^\.\\"' "$page")" -ne 1 ] ||
		   ! grep -qx '\.so man3/[a-z0-9_]*\.3' "$page"; then
			fail "man/$sym.3: an alias page is one line, .so man3/PAGE.3"
			continue
		fi
	fi
	target=$(real_page "$page")
	if [ ! -f "$target" ] || grep -q '^\.so ' "$target"; then
		fail "man/$sym.3 points to ${target#"$top_srcdir/"}, which is not a real page"
		continue
	fi
	page_names "$target" | grep -qx "$sym" ||
		fail "${target#"$top_srcdir/"} does not name $sym in its NAME section"
done <"$tmp/symbols"

# Real pages: the sections, the include and how to link; no page documents
# a function the library does not export.
for page in "$man"/*.3 "$man"/*.7; do
	grep -q '^\.so ' "$page" && continue
	name=${page#"$top_srcdir/"}
	case $page in *.3) sections="NAME SYNOPSIS DESCRIPTION RETURN.VALUE VERSIONS SEE.ALSO" ;;
	              *) sections="NAME SYNOPSIS DESCRIPTION SEE.ALSO" ;; esac
	for section in $sections; do
		grep -q "^\\.SH \"\\{0,1\\}$section\"\\{0,1\\}\$" "$page" ||
			fail "$name has no $(echo "$section" | tr . ' ') section"
	done
	grep -q '^\.B #include <libmemfd\.h>$' "$page" || fail "$name does not show #include <libmemfd.h>"
	case $page in *.3)
		grep -q '\\-lmemfd' "$page" || fail "$name does not say to link with -lmemfd"
		for fn in $(page_names "$page"); do
			grep -qx "$fn" "$tmp/symbols" || fail "$name documents $fn, which the library does not export"
		done ;;
	esac
done

# Every page is installed (Makefile.am lists it for make install).
for page in "$man"/*.[1-8]; do
	rel=${page#"$top_srcdir/"}
	grep -q "[[:space:]]$rel\\( \\\\\\)\\{0,1\\}\$" "$top_srcdir/Makefile.am" ||
		fail "$rel is not listed in Makefile.am, so make install leaves it out"
done

# Each constant of our own that the header defines is explained somewhere.
# shellcheck disable=SC2013 # one macro name a word
for macro in $(sed -n 's/^#define \(LIBMEMFD_[A-Z0-9_]*\)[[:space:]].*/\1/p' \
		"$top_srcdir/include/libmemfd.h"); do
	grep -q "$macro" "$man"/*.3 "$man"/*.7 ||
		fail "include/libmemfd.h defines $macro, which no page explains"
done

# Each -EXXX that a unit of lib/ returns is named on a page of its functions.
for unit in "$top_srcdir"/lib/*.c; do
	fns=$(sed -n 's/^LIBMEMFD_EXPORT .*[ *]\(mfd_[a-z0-9_]*\)(.*/\1/p' "$unit")
	[ -n "$fns" ] || continue
	pages=$(for fn in $fns; do [ -f "$man/$fn.3" ] && real_page "$man/$fn.3"; done | sort -u)
	[ -n "$pages" ] || continue
	# shellcheck disable=SC2013 # one errno name a word
	for err in $(grep -o -- '-E[A-Z0-9]\{2,\}' "$unit" | sort -u | sed 's/^-//'); do
		# shellcheck disable=SC2086 # $pages is a list of files
		grep -q "\\\\-$err\\b" $pages ||
			fail "${unit#"$top_srcdir/"} returns -$err, which no page of its functions names"
	done
done

[ "$status" -ne 0 ] || echo "ok: $(wc -l <"$tmp/symbols") functions, each with a page"
exit "$status"
