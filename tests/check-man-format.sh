#!/bin/sh
# The manual pages format without a warning, as groff and man(1) see them
# (man's check is the one lintian makes), and each SYNOPSIS shows the
# prototypes of include/libmemfd.h. Needs groff (Debian: groff-base).
set -eu
: "${top_srcdir:?}"
man="$top_srcdir/man"
if ! command -v groff >/dev/null 2>&1; then
	echo "SKIP: groff is not installed"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }
squeeze() { tr '\n\t' '  ' | tr -s ' ' | sed 's/( /(/g; s/ )/)/g; s/ ;/;/g; s/^ //; s/ $//'; }

# The header's prototypes, one a line.
awk '/^[a-z].*[ *]mfd_[a-z0-9_]*\(/ { on = 1; s = "" }
     on { s = s " " $0 }
     on && /;/ { print s; on = 0 }' "$top_srcdir/include/libmemfd.h" |
	while IFS= read -r line; do printf '%s\n' "$line" | squeeze; echo; done >"$tmp/prototypes"
[ -s "$tmp/prototypes" ] || fail "no prototypes found in include/libmemfd.h"

checked=0
for page in "$man"/*.[1-8]; do
	grep -q '^\.so ' "$page" && continue
	name=${page#"$top_srcdir/"}
	checked=$((checked + 1))
	groff -t -man -ww -z -Tutf8 "$page" >"$tmp/groff" 2>&1 || true
	if [ -s "$tmp/groff" ]; then
		fail "groff -man -ww on $name:"
		cat "$tmp/groff"
	fi
	if command -v man >/dev/null 2>&1; then
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" \
			>/dev/null 2>"$tmp/man" || true
		if [ -s "$tmp/man" ]; then
			fail "man --warnings on $name:"
			cat "$tmp/man"
		fi
	fi

	case $page in *.3) ;; *) continue ;; esac
	# The SYNOPSIS as a reader sees it, then each function's prototype.
	groff -t -man -Tascii -P-c -P-b -P-u -rLL=200n "$page" 2>/dev/null |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | squeeze >"$tmp/synopsis"
	for fn in $(sed -n '/^\.SH NAME/,/^\.SH/{/^\.SH/d;p}' "$page" | tr '\n' ' ' |
		    sed 's/ \\-.*//' | tr ',' ' '); do
		proto=$(grep "[ *]$fn(" "$tmp/prototypes" || true)
		if [ -z "$proto" ]; then
			fail "$name documents $fn, which include/libmemfd.h does not declare"
		elif ! grep -qF -- "$proto" "$tmp/synopsis"; then
			fail "$name: the SYNOPSIS does not show the header's $proto"
		fi
	done
done
[ "$checked" -gt 0 ] || fail "no manual pages found in man/"
[ "$status" -ne 0 ] || echo "ok: $checked pages format cleanly; synopses match the header"
exit "$status"
