#!/bin/sh
# The C examples in the README compile against the public header, so the
# README cannot drift from the API: the first is compiled here, the
# sharing example must be examples/memfd-share.c word for word, and the
# guarded receiver the compositor() of examples/memfd-guard.c (make check
# builds and runs both).
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

# The indented block from the sharing example's first #include to the end
# of its main(), against the file without its license line.
awk '/^    #include <errno.h>$/ { on = 1 }
     on { sub(/^    /, ""); print }
     on && /^}$/ && main { exit }
     on && /^int main/ { main = 1 }' "$top_srcdir/README" >"$tmp/share.c"
sed -n '/^#include <errno.h>$/,$p' "$top_srcdir/examples/memfd-share.c" | expand -t8 >"$tmp/share-file.c"
if ! diff -u "$tmp/share-file.c" "$tmp/share.c"; then
	echo "FAIL: the README's sharing example differs from examples/memfd-share.c"
	exit 1
fi
echo "ok: the README's sharing example is examples/memfd-share.c"

# The indented compositor() of the guard example, against the file's.
awk '/^    static int compositor\(int sock\)$/ { on = 1 }
     on { sub(/^    /, ""); print }
     on && /^}$/ { exit }' "$top_srcdir/README" >"$tmp/guard.c"
sed -n '/^static int compositor(int sock)$/,/^}$/p' "$top_srcdir/examples/memfd-guard.c" |
	expand -t8 >"$tmp/guard-file.c"
if [ ! -s "$tmp/guard-file.c" ] || ! diff -u "$tmp/guard-file.c" "$tmp/guard.c"; then
	echo "FAIL: the README's guarded receiver differs from compositor() in examples/memfd-guard.c"
	exit 1
fi
echo "ok: the README's guarded receiver is examples/memfd-guard.c's"
