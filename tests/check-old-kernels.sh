#!/bin/sh
# The Check suites once more on a kernel made (by a seccomp filter) to
# answer like Linux before 6.3 and before 5.1: the library's fallbacks
# (chmod instead of MFD_NOEXEC_SEAL) run in every test, and the tests
# expect what such a kernel knows.
set -eu
: "${top_builddir:?}"
for kernel in pre-6.3 pre-5.1; do
	echo "LIBMEMFD_TEST_OLD_KERNEL=$kernel"
	LIBMEMFD_TEST_OLD_KERNEL=$kernel "$top_builddir/tests/test-libmemfd"
done
