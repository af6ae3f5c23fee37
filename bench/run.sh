#!/bin/sh
# Run memfd-bench at full size and keep what bench/README.md shows: the
# tables (on stdout), the CSV, and the chart gnuplot makes from it. Run it
# from the top of a configured build tree; options go to memfd-bench.
#   sh bench/run.sh            (or: BENCH_OUT=/tmp sh bench/run.sh --rounds=21)
set -eu
srcdir=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT:-$srcdir}

make bench >/dev/null
./bench/memfd-bench --csv="$out/results.csv" "$@"
for section in lifecycle handoff stream fill ring ring-pingpong; do
	if ! grep -q "^$section," "$out/results.csv"; then
		echo "wrote $out/results.csv; the chart needs every section: none drawn" >&2
		exit 0
	fi
done
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "csv='$out/results.csv'; png='$out/chart.png'" "$srcdir/chart.gp"
	echo "wrote $out/results.csv and $out/chart.png"
else
	echo "wrote $out/results.csv; gnuplot is not installed: no chart" >&2
fi
