#!/bin/sh
# How long a full lsmemfd scan takes with N processes (200 unless
# LSMEMFD_BENCH_PROCESSES says) that each hold and map one memfd and map
# another whose descriptor they closed: an older lsmemfd (built in
# OLD_BUILD_DIR, say from the commit before mapped memfds were listed)
# against this one, which reads /proc/PID/maps of every process, and
# /proc/PID/smaps of those that map memfds when RSS is shown. The variants
# take turns within each round, each round starting one later; each
# figure is the median of the rounds, and the ratios compare them.
# Run it as root from the top of a configured build tree (bench/README.md):
#   sh bench/lsmemfd-scan.sh OLD_BUILD_DIR [ROUNDS]
set -eu
old_dir=${1:?usage: $0 OLD_BUILD_DIR [ROUNDS]}
rounds=${2:-31}
processes=${LSMEMFD_BENCH_PROCESSES:-200}

# The program itself, not libtool's wrapper script, whose start-up (a
# shell) would cost more than some scans.
binary() {
	if [ -x "$1/tools/.libs/lsmemfd" ]; then
		echo "$1/tools/.libs/lsmemfd"
	else
		echo "$1/tools/lsmemfd"
	fi
}
old=$(binary "$old_dir")
new=$(binary .)
old_lib=$(cd "$old_dir/lib/.libs" 2>/dev/null && pwd || echo "$old_dir/lib")
new_lib=$(cd lib/.libs 2>/dev/null && pwd || echo "$PWD/lib")

make tests/lsmemfd-holder tools/lsmemfd >/dev/null
tmp=$(mktemp -d)
holder=
cleanup() {
	[ -z "$holder" ] || kill "$holder" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
mkfifo "$tmp/ready"
./tests/lsmemfd-holder --many "$processes" >"$tmp/ready" &
holder=$!
read -r ready <"$tmp/ready"
[ "$ready" = ready ] || { echo "the holder did not start" >&2; exit 1; }

columns=PID,COMMAND,FD,NAME,SIZE,SEALS,EXEC,HUGETLB
# name|library dir|program|options
variants="old: descriptors only|$old_lib|$old|-o $columns
new: + maps, MAPPED|$new_lib|$new|-o $columns,MAPPED
new: + smaps, MAPPED and RSS|$new_lib|$new|-o $columns,MAPPED,RSS"
nvariants=$(printf '%s\n' "$variants" | wc -l)

run_variant() {
	line=$(printf '%s\n' "$variants" | sed -n "${1}p")
	lib=$(echo "$line" | cut -d'|' -f2)
	program=$(echo "$line" | cut -d'|' -f3)
	options=$(echo "$line" | cut -d'|' -f4)
	start=$(date +%s%N)
	# shellcheck disable=SC2086 # options split on purpose
	LD_LIBRARY_PATH=$lib "$program" -n -r $options >"$tmp/out" 2>"$tmp/err"
	end=$(date +%s%N)
	echo $(((end - start) / 1000)) >>"$tmp/times$1"
	wc -l <"$tmp/out" >"$tmp/rows$1"
}

# One warm-up of each, then the rounds.
i=1
while [ "$i" -le "$nvariants" ]; do
	run_variant "$i"
	: >"$tmp/times$i"
	i=$((i + 1))
done
round=0
while [ "$round" -lt "$rounds" ]; do
	k=0
	while [ "$k" -lt "$nvariants" ]; do
		run_variant $(((round + k) % nvariants + 1))
		k=$((k + 1))
	done
	round=$((round + 1))
done

median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
printf 'lsmemfd: a full scan, %s processes holding and mapping memfds, %s in all (%s rounds)\n' \
	"$processes" "$(ls /proc | grep -c '^[0-9]')" "$rounds"
printf '  %-32s %10s %8s %6s\n' "" "us/scan" "vs old" "rows"
base=$(median "$tmp/times1")
i=1
while [ "$i" -le "$nvariants" ]; do
	m=$(median "$tmp/times$i")
	name=$(printf '%s\n' "$variants" | sed -n "${i}p" | cut -d'|' -f1)
	printf '  %-32s %10s %8s %6s\n' "$name" "$m" \
		"$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f", a / b }')" "$(cat "$tmp/rows$i")"
	i=$((i + 1))
done
