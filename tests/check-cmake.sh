#!/bin/sh
# A CMake project that takes libmemfd with pkg_check_modules(...
# IMPORTED_TARGET libmemfd) (tests/consumer/CMakeLists.txt), built against
# a staged install with warnings as errors, and run.
set -eu
if [ -z "${CMAKE:-}" ]; then
	echo "SKIP: cmake was not found by configure (Debian: apt-get install cmake)"
	exit 77
fi
# shellcheck source=tests/staged-install.sh
. "${top_srcdir:?}/tests/staged-install.sh"
: "${PACKAGE_VERSION:?}"

# Ninja where there is one, as the daemons that use CMake mostly build;
# make otherwise, a make of its own.
if [ -n "${NINJA:-}" ]; then
	set -- -G Ninja -DCMAKE_MAKE_PROGRAM="$NINJA"
else
	set -- -G "Unix Makefiles"
fi
"$CMAKE" --version | head -n 1
consumer_source "$top_srcdir/tests/consumer/CMakeLists.txt"
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL CFLAGS="${CFLAGS:-} -Wall -Wextra -pedantic -Werror" \
	"$CMAKE" -S "$tmp/src" -B "$tmp/build" "$@" >"$tmp/setup.log" 2>&1; then
	cat "$tmp/setup.log"
	echo "FAIL: cmake"
	exit 1
fi
grep 'libmemfd' "$tmp/setup.log"
if ! grep -q "Found libmemfd, version $PACKAGE_VERSION\$" "$tmp/setup.log"; then
	echo "FAIL: cmake did not find libmemfd $PACKAGE_VERSION"
	exit 1
fi
# The imported target is the staged library, not some other libmemfd.
if ! grep -q "^pkgcfg_lib_LIBMEMFD_memfd:FILEPATH=$stage/" "$tmp/build/CMakeCache.txt"; then
	grep '^pkgcfg_lib_' "$tmp/build/CMakeCache.txt" || true
	echo "FAIL: PkgConfig::LIBMEMFD is not the staged library"
	exit 1
fi
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$CMAKE" --build "$tmp/build" \
	>"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	echo "FAIL: cmake --build"
	exit 1
fi
check_consumer "$tmp/build/memfd-demo"
echo "ok: CMake built and ran a consumer against the staged install"
