#!/bin/sh
# lsmemfd(1) formats without a warning, and documents every option and
# column that --help lists.
set -eu
: "${top_builddir:?}"
page="$top_builddir/man/lsmemfd.1"
if [ -z "${GROFF:-}" ]; then
	echo "SKIP: groff was not found by configure (Debian: apt-get install groff-base)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

"$GROFF" -man -ww -z "$page" 2>"$tmp/warnings" || status=1
if [ -s "$tmp/warnings" ]; then
	cat "$tmp/warnings"
	status=1
fi
[ "$status" -ne 0 ] || echo "ok: groff -man -ww formats $page without a warning"

"$top_builddir/tools/lsmemfd" --help >"$tmp/help"
# Long options ("--json"), and the column names after "Available output columns:".
sed -n 's/^ *\(-., \)\{0,1\}\(--[a-z]*\).*/\2/p' "$tmp/help" >"$tmp/options"
sed -n '/^Available output columns:/,/^$/s/^ *\([A-Z]\{1,\}\)  .*/\1/p' "$tmp/help" >"$tmp/columns"
[ -s "$tmp/options" ] && [ -s "$tmp/columns" ] || { echo "FAIL: cannot read --help"; exit 1; }
while read -r option; do
	# In the page, "-" is written "\-".
	grep -q -- "^\.B[IR]* .*\\\\-\\\\-${option#--}\\b" "$page" ||
		{ echo "FAIL: the man page does not document $option"; status=1; }
done <"$tmp/options"
while read -r column; do
	grep -qx "\.B $column" "$page" ||
		{ echo "FAIL: the man page does not describe the column $column"; status=1; }
done <"$tmp/columns"
[ "$status" -ne 0 ] || echo "ok: the man page documents $(wc -l <"$tmp/options") options and $(wc -l <"$tmp/columns") columns"
exit "$status"
