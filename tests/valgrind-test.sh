#!/bin/sh
# Run one test program under valgrind memcheck (make check-valgrind): any
# memory error, any definite or indirect leak in any of its processes, or
# a descriptor the test process opened and left open fails it.
set -u
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# Valgrind makes every test many times slower.
CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10}
# What valgrind cannot do for its guest (RLIMIT_NOFILE), tests skip, and say so.
LIBMEMFD_TEST_UNDER_VALGRIND=1
export CK_TIMEOUT_MULTIPLIER LIBMEMFD_TEST_UNDER_VALGRIND

# Guarded mappings return from a SIGBUS handler to the access that
# faulted: valgrind must keep every register exact at memory accesses, not
# only those it unwinds with, or the access resumes with stale ones.
# Valgrind runs one thread of a process at a time; without a fair lock a
# thread that spins (the ring tests' scribblers) starves the others for
# seconds on end, past a peer's patience.
# Not --quiet: only a full log ends with the ERROR SUMMARY looked for below.
${VALGRIND:-valgrind} --error-exitcode=1 --fair-sched=yes \
	--vex-iropt-register-updates=allregs-at-mem-access \
	--leak-check=full --errors-for-leak-kinds=definite,indirect \
	--track-fds=yes --log-file="$logs/%p" "$@" &
pid=$!
wait "$pid"
status=$?

# Only the logs that say something is wrong: every forked test child
# writes one, and printing them all buries the suite's own failure lines.
for log in "$logs"/*; do
	[ -f "$log" ] || continue
	if grep -q 'ERROR SUMMARY: [1-9]' "$log"; then
		cat "$log"
	fi
done

# Descriptors open at exit, but those inherited from make, in the test
# process itself (its forked children exit with the runner's open).
leaked=$(awk '/Open file descriptor/ { fd = $0; next }
	fd && /<inherited from parent>/ { fd = ""; next }
	fd && /^==[0-9]+==  +(at|by) / { print fd; fd = "" }' "$logs/$pid" 2>/dev/null)
if [ -n "$leaked" ]; then
	echo "FAIL: descriptors left open at exit:"
	echo "$leaked"
	grep -q 'ERROR SUMMARY: [1-9]' "$logs/$pid" || cat "$logs/$pid"
	[ "$status" -eq 0 ] && status=1
fi
if grep -q 'ERROR SUMMARY: [1-9]' "$logs"/* 2>/dev/null; then
	echo "FAIL: valgrind found errors in $(grep -l 'ERROR SUMMARY: [1-9]' "$logs"/* | wc -l) processes (above)"
	[ "$status" -eq 0 ] && status=1
fi
exit "$status"
