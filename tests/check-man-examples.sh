#!/bin/sh
# A manual page that shows a program of examples/ in full says so with a
# comment line ('.\" examples/NAME.c follows'); the .EX block after it must
# be that file, from its first #include to its end (tabs as 4 spaces), as
# groff prints it. make check builds and runs the programs, so the pages
# cannot show code that does not build.
set -eu
: "${top_srcdir:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
checked=0
for page in "$top_srcdir"/man/*.[1-8]; do
	for example in $(sed -n 's/^\.\\" \(examples\/[a-z0-9-]*\.c\) follows.*/\1/p' "$page"); do
		checked=$((checked + 1))
		awk -v marker="$example" '
			index($0, ".\\\" " marker " follows") == 1 { on = 1; next }
			on && /^\.EE$/ { exit }
			on && (/^\.in / || /^\.EX$/) { next }
			on { print }' "$page" |
			sed 's/^\\&//; s/\\-/-/g; s/\\e/\\/g' >"$tmp/page.c"
		sed -n '/^#include/,$p' "$top_srcdir/$example" | expand -t4 >"$tmp/file.c"
		if ! diff -u "$tmp/file.c" "$tmp/page.c"; then
			echo "FAIL: ${page#"$top_srcdir/"} does not show $example as it is"
			status=1
		fi
	done
done
[ "$checked" -gt 0 ] || { echo "FAIL: no page shows an example program"; status=1; }
[ "$status" -ne 0 ] || echo "ok: $checked example programs shown as they are"
exit "$status"
