#!/bin/sh
# make fuzz: build each libFuzzer target of fuzz/ with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer, linked with the library's sources (and,
# for lsmemfd's, the tool's) compiled into it, so that coverage guides the
# fuzzer through them too. Never installed; not part of make check.
#
#   CLANG=clang srcdir=. builddir=. fuzz/build.sh TARGET...
set -eu
: "${CLANG:?}" "${srcdir:?}" "${builddir:?}"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
flags="$flags -fno-omit-frame-pointer -DHAVE_CONFIG_H -D_GNU_SOURCE"
flags="$flags -I$srcdir/include -I$srcdir/lib -I$srcdir/tools -I$builddir"
lib=
for unit in "$srcdir"/lib/*.c; do
	lib="$lib $unit"
done
mkdir -p "$builddir/fuzz"
for target in "$@"; do
	# What a target needs besides the library: a line "fuzz-needs: FILES"
	# in its source, paths relative to the source tree.
	needs=$(sed -n 's/^ \* fuzz-needs: //p' "$srcdir/fuzz/$target.c")
	extra=
	for file in $needs; do
		extra="$extra $srcdir/$file"
	done
	# And the pkg-config packages those need: "fuzz-packages: NAMES".
	packages=$(sed -n 's/^ \* fuzz-packages: //p' "$srcdir/fuzz/$target.c")
	libs=
	if [ -n "$packages" ]; then
		# shellcheck disable=SC2086 # a list of packages
		libs=$("${PKG_CONFIG:-pkg-config}" --cflags --libs $packages)
	fi
	echo "  CLANG    fuzz/$target"
	# shellcheck disable=SC2086 # lists of flags and files
	"$CLANG" $flags ${FUZZ_EXTRA_CFLAGS:-} -o "$builddir/fuzz/$target" \
		"$srcdir/fuzz/$target.c" $lib $extra $libs ${FUZZ_EXTRA_LIBS:-}
done
