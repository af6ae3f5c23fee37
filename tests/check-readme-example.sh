#!/bin/sh
# The C example in the README compiles against the public header, so the
# README cannot drift from the API.
set -eu
: "${top_srcdir:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The indented block from "#include <string.h>" to the function's end.
awk '/^    #include <string.h>$/ { on = 1 }
     on { sub(/^    /, ""); print }
     on && /^}$/ { exit }' "$top_srcdir/README" >"$tmp/example.c"
if ! grep -q '^}$' "$tmp/example.c"; then
	echo "FAIL: no C example found in README"
	exit 1
fi
# shellcheck disable=SC2086 # CFLAGS is a list of flags
${CC:-cc} ${CFLAGS:-} -std=c99 -Wall -Wextra -Werror -I"$top_srcdir/include" \
	-c "$tmp/example.c" -o "$tmp/example.o"
echo "ok: the README's example compiles"
