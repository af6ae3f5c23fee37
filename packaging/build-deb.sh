#!/bin/sh
# Build the Debian packages from a release tarball the way a distribution
# does: the tarball becomes the orig tarball, packaging/debian is added to
# its unpacked tree, dpkg-buildpackage builds source and binary packages
# (running the test suite), and lintian must find no error and no warning.
#
#   packaging/build-deb.sh libmemfd-VERSION.tar.xz
#
# The packages go to $DEB_OUTPUT_DIR, or to a new directory under $TMPDIR.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 libmemfd-VERSION.tar.xz" >&2; exit 2; }
tarball=$(realpath "$1")
debian=$(realpath "$(dirname "$0")/debian")
out=$(realpath "${DEB_OUTPUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/libmemfd-deb.XXXXXX")}")
mkdir -p "$out"

version=$(basename "$tarball" | sed -n 's/^libmemfd-\(.*\)\.tar\.xz$/\1/p')
[ -n "$version" ] || { echo "$tarball is not a libmemfd-VERSION.tar.xz" >&2; exit 2; }
packaged=$(dpkg-parsechangelog -l "$debian/changelog" -S Version | sed 's/-[^-]*$//')
if [ "$packaged" != "$version" ]; then
	echo "packaging/debian/changelog is for $packaged, the tarball is $version:" >&2
	echo "add a changelog entry (dch -v $version-1) and check libmemfd0.symbols" >&2
	exit 1
fi

# Each symbol needs at least the release its version node is named after
# (more where a later release gave it something new to accept, as 1.1's
# LIBMEMFD_MAP_POPULATE for mfd_map).
if ! awk '/^ / { split($1, s, "@"); node = s[2]; sub(/^LIBMEMFD_/, "", node)
		 split(node, n, "."); split($2, v, ".")
		 if (v[1] * 1000 + v[2] < n[1] * 1000 + n[2]) {
			 print "libmemfd0.symbols: " $1 " is from " node ", not " $2; bad = 1 } }
	  END { exit bad }' "$debian/libmemfd0.symbols"; then
	exit 1
fi

cp "$tarball" "$out/libmemfd_$version.orig.tar.xz"
rm -rf "$out/libmemfd-$version"
tar -C "$out" -xf "$tarball"
cp -R "$debian" "$out/libmemfd-$version/debian"
(cd "$out/libmemfd-$version" && dpkg-buildpackage -us -uc)

changes=$(ls "$out"/libmemfd_"$version"-*_"$(dpkg-architecture -qDEB_HOST_ARCH)".changes)
echo "lintian $changes:"
status=0
lintian --fail-on error,warning --display-info "$changes" || status=$?
if [ "$status" -ne 0 ]; then
	echo "lintian found errors or warnings (exit status $status)"
	exit "$status"
fi
echo "lintian: no error and no warning"
ls "$out"/*.deb
