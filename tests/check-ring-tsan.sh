#!/bin/sh
# tests/ring-tsan.c with ThreadSanitizer: lib/ built into the program with
# -fsanitize=thread, both ends of each ring in two threads of one process
# sharing one mapping; any race TSan reports fails the test. Reports SKIP
# where the compiler cannot build a TSan program (such as for 32-bit x86)
# or TSan cannot run here.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}
flags="-fsanitize=thread -g -O1 -pthread"

cat >"$tmp/probe.c" <<'PROBE'
#include <pthread.h>
static int shared;
static void *run(void *arg) { __atomic_store_n(&shared, 1, __ATOMIC_RELEASE); return arg; }
int main(void)
{
	pthread_t t;

	if (pthread_create(&t, 0, run, 0) || pthread_join(t, 0))
		return 1;
	return __atomic_load_n(&shared, __ATOMIC_ACQUIRE) == 1 ? 0 : 1;
}
PROBE
# shellcheck disable=SC2086 # a list of flags
if ! $cc $flags "$tmp/probe.c" -o "$tmp/probe" >"$tmp/log" 2>&1; then
	echo "SKIP: $cc cannot build with -fsanitize=thread:"
	cat "$tmp/log"
	exit 77
fi
# Some kernels give a program more address-space randomness than TSan's
# fixed layout allows; without randomization it runs.
run=
if ! "$tmp/probe" >"$tmp/log" 2>&1; then
	if command -v setarch >/dev/null 2>&1 && setarch "$(uname -m)" -R "$tmp/probe" >/dev/null 2>&1; then
		run="setarch $(uname -m) -R"
	else
		echo "SKIP: ThreadSanitizer programs do not run here:"
		cat "$tmp/log"
		exit 77
	fi
fi

# shellcheck disable=SC2086 # lists of flags and files
$cc $flags -DLIBMEMFD_RING_TEST_HOOKS -I"$top_builddir" -I"$top_srcdir/include" -I"$top_srcdir/lib" \
	"$top_srcdir"/lib/*.c "$top_srcdir/tests/ring-tsan.c" -o "$tmp/ring-tsan"
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" $run "$tmp/ring-tsan"
