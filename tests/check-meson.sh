#!/bin/sh
# A meson project that takes libmemfd with dependency('libmemfd')
# (tests/consumer/meson.build), built by meson and ninja against a staged
# install with meson's strictest warnings as errors, and run.
set -eu
if [ -z "${MESON:-}" ]; then
	echo "SKIP: meson was not found by configure (Debian: apt-get install meson)"
	exit 77
fi
if [ -z "${NINJA:-}" ]; then
	echo "SKIP: ninja was not found by configure (Debian: apt-get install ninja-build)"
	exit 77
fi
# shellcheck source=tests/staged-install.sh
. "${top_srcdir:?}/tests/staged-install.sh"
: "${PACKAGE_VERSION:?}"
export NINJA
echo "meson $("$MESON" --version), ninja $("$NINJA" --version)"

consumer_source "$top_srcdir/tests/consumer/meson.build"
if ! "$MESON" setup --wrap-mode=nodownload -Dwarning_level=3 -Dwerror=true \
	"$tmp/build" "$tmp/src" >"$tmp/setup.log" 2>&1; then
	cat "$tmp/setup.log"
	echo "FAIL: meson setup"
	exit 1
fi
grep 'dependency libmemfd' "$tmp/setup.log"
if ! grep -q "dependency libmemfd found: YES $PACKAGE_VERSION\$" "$tmp/setup.log"; then
	echo "FAIL: meson did not find libmemfd $PACKAGE_VERSION"
	exit 1
fi
if ! "$MESON" compile -C "$tmp/build" >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	echo "FAIL: meson compile"
	exit 1
fi
# The flags came from the staged .pc file, not from some other libmemfd.
if ! grep -q -- "-I$stage/" "$tmp/build/compile_commands.json"; then
	cat "$tmp/build/compile_commands.json"
	echo "FAIL: the consumer was not compiled against the staged header"
	exit 1
fi
check_consumer "$tmp/build/memfd-demo"
echo "ok: meson built and ran a consumer against the staged install"
