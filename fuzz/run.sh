#!/bin/sh
# make fuzz-run: run each libFuzzer target for FUZZ_SECONDS (60 unless
# set) over a copy of its seed corpus (fuzz/corpus/TARGET, which is never
# written), and fail on any crash, leak, sanitizer report or descriptor
# left behind (each target counts /proc/self/fd). The inputs it found are
# kept in a temporary directory named in the log.
#
#   srcdir=. builddir=. FUZZ_SECONDS=600 fuzz/run.sh TARGET...
set -eu
: "${srcdir:?}" "${builddir:?}"
seconds=${FUZZ_SECONDS:-60}
status=0
for target in "$@"; do
	work=$(mktemp -d "${TMPDIR:-/tmp}/libmemfd-$target.XXXXXX")
	cp "$srcdir/fuzz/corpus/${target#fuzz-}"/* "$work/" 2>/dev/null || true
	echo "== $target for $seconds s (corpus in $work)"
	if "$builddir/fuzz/$target" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 "$work" >"$work.log" 2>&1; then
		grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$work.log" || true
	else
		tail -n 60 "$work.log"
		echo "FAIL: $target (log: $work.log)"
		status=1
	fi
done
exit "$status"
