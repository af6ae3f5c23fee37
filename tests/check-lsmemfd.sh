#!/bin/sh
# lsmemfd against a process that holds known memfds (tests/lsmemfd-holder.c):
# the table, raw output, columns, sorting, the summary, --pid, usage errors
# and exit statuses, processes it may not inspect or that exit meanwhile,
# and the files it must not list. JSON: check-lsmemfd-json.sh.
set -eu
# shellcheck source=tests/lsmemfd-common.sh
. "${top_srcdir:?}/tests/lsmemfd-common.sh"

# --help, --version and usage errors, before any process is needed.
version=$(sed -n 's/^AC_INIT(\[libmemfd\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
run --version
expect "--version" "$status $(cat "$tmp/out")" "0 lsmemfd from libmemfd $version"
run --help
expect "--help exits 0" "$status" 0
grep -q '^Usage:' "$tmp/out" || fail "--help has no Usage:"
grep -q '^ *MEMFDS  ' "$tmp/out" || fail "--help does not list the columns"

for bad in --bogus "-o BOGUS" "-o PID,,FD" "-s -o FD" "-o MEMFDS" "--sort BOGUS" \
	"-s --sort NAME" "-J -r" "-p abc" "-p 0" "-p -5" "-p 1x" "-p ," "extra"; do
	# shellcheck disable=SC2086 # split into options on purpose
	run $bad
	expect "$bad is a usage error" "$status $(grep -c -- "--help" "$tmp/err")" "1 1"
	[ ! -s "$tmp/out" ] || fail "$bad printed to stdout"
done

# PIDs run from 1 to pid_max - 1.
missing=$(cat /proc/sys/kernel/pid_max)
run -p "$missing"
expect "-p of a missing process" "$status $(cat "$tmp/err")" \
	"1 lsmemfd: $missing: no such process"
run -p "$$,$missing"
expect "-p with a missing process among others fails before any output" \
	"$status $(wc -c <"$tmp/out")" "1 0"

start_holder
expect_of_holder
[ -n "$fd_allseals" ] || echo "note: no future_write and exec seals before Linux 6.3"
[ -n "$fd_huge" ] || echo "note: no MFD_HUGETLB memfd on this system"
[ -n "$fd_fakememfd" ] || echo "note: no tmpfs file that reads like a memfd (needs root)"

# The default table.
run -p "$holder"
expect "table: status and stderr" "$status $(cat "$tmp/err")" "0 "
cp "$tmp/out" "$tmp/first-table"
expect "table: header" "$(head -n 1 "$tmp/out" | tr -s ' ' | sed 's/^ //')" \
	"PID COMMAND FD NAME SIZE SEALS EXEC HUGETLB"
expect "table: columns aligned" "$(awk '{ print length($0) }' "$tmp/out" | sort -u | wc -l)" 1
{
	row="$holder lsmemfd-holder"
	say "$row $fd_spaced lsmemfd test 1M seal,shrink,grow,write 0 0"
	say "$row $fd_dup lsmemfd test 1M seal,shrink,grow,write 0 0"
	say "$row $fd_odd odd\\xff\\x0abyte 1.5K grow 1 0"
	say "$row $fd_utf8 caf\\xc3\\xa9\\x5cx41 2K 0 0"
	say "$row $fd_plain plain 4K 0 0"
	say "$row $fd_sparse sparse 1G 0 0"
	[ -z "$fd_allseals" ] || say "$row $fd_allseals all-seals 0B seal,future_write,exec 0 0"
	[ -z "$fd_huge" ] || say "$row $fd_huge huge 0B 1 1"
} | sort >"$tmp/want"
tail -n +2 "$tmp/out" | tr -s ' ' | sed 's/^ //' | sort >"$tmp/got"
if diff -u "$tmp/want" "$tmp/got"; then
	echo "ok: table: one line per memfd descriptor, names encoded, sizes in human units"
else
	fail "table rows"
fi

# Only memfds: not the /dev/shm file, the tmpfs file or the FIFO that
# read like memfds, the pipe, nor anything else the holder inherited.
run -o FD -n -r -p "$holder"
printf '%s' "$memfd_fds" | sort -n >"$tmp/want"
sort -n "$tmp/out" >"$tmp/got"
if diff -u "$tmp/want" "$tmp/got"; then
	echo "ok: no file that is not a memfd is listed"
else
	fail "the listed descriptors"
fi
if [ -n "$fd_fakememfd" ] && [ -n "$fd_fakefifo" ]; then
	expect "the fake memfds read like memfds" \
		"$(readlink "/proc/$holder/fd/$fd_fakememfd" "/proc/$holder/fd/$fd_fakefifo" | tr '\n' ' ')" \
		"/memfd:fake (deleted) /memfd:fifo (deleted) "
fi

run -n -p "$holder"
expect "-n: no header" "$(wc -l <"$tmp/out")" "$n_memfds"

run -r -o FD,NAME -p "$holder"
expect "-r: header" "$(head -n 1 "$tmp/out")" "FD NAME"
expect "-r: a space in a name" "$(grep "^$fd_spaced " "$tmp/out")" "$fd_spaced lsmemfd\\x20test"
expect "-r: odd bytes in a name" "$(grep "^$fd_odd " "$tmp/out")" "$fd_odd odd\\xff\\x0abyte"

run -o fd,SIZE,Alloc -b -n -r -p "$holder"
plain_alloc=$(($(stat -L -c %b "/proc/$holder/fd/$fd_plain") * 512))
expect "-o, --bytes: a written memfd" "$(grep "^$fd_plain " "$tmp/out")" \
	"$fd_plain 4096 $plain_alloc"
expect "-o, --bytes: a sparse memfd" "$(grep "^$fd_sparse " "$tmp/out")" \
	"$fd_sparse 1073741823 0"
cp "$tmp/out" "$tmp/sizes"

run -o +INODE -p "$holder"
expect "-o +INODE adds to the defaults" "$(head -n 1 "$tmp/out" | tr -s ' ' | sed 's/^ //')" \
	"PID COMMAND FD NAME SIZE SEALS EXEC HUGETLB INODE"
run -o FD,INODE -n -r -p "$holder"
inode=$(stat -L -c %i "/proc/$holder/fd/$fd_spaced")
expect "INODE: the same memfd twice" \
	"$(grep -E "^($fd_spaced|$fd_dup) " "$tmp/out" | cut -d' ' -f2 | sort -u)" "$inode"

# --sort by a column that is not shown: it is there, hidden.
run --sort SIZE -o FD -n -r -p "$holder"
if grep -qv '^[0-9]*$' "$tmp/out"; then
	fail "--sort showed the hidden column"
fi
if awk 'NR == FNR { size[$1] = $2; next } { print size[$1] }' "$tmp/sizes" "$tmp/out" |
	sort -n -c; then
	echo "ok: --sort SIZE sorts by value"
else
	fail "--sort SIZE"
fi
run --sort name -o NAME -n -r -p "$holder"
for name in all-seals 'caf\xc3\xa9\x5cx41' huge 'lsmemfd\x20test' 'lsmemfd\x20test' 'odd\xff\x0abyte' plain sparse; do
	case $name in
	all-seals) [ -n "$fd_allseals" ] || continue ;;
	huge) [ -n "$fd_huge" ] || continue ;;
	esac
	say "$name"
done >"$tmp/want"
if diff -u "$tmp/want" "$tmp/out"; then
	echo "ok: --sort NAME"
else
	fail "--sort NAME"
fi

# --pid: repeatable, comma-separated, duplicates once.
run -o PID -n -r -p "$holder,$child"
expect "-p a,b" "$(sort -u "$tmp/out" | tr '\n' ' ')" "$(printf '%s\n' "$holder" "$child" | sort | tr '\n' ' ')"
run -o PID -n -r -p "$child" -p "$holder"
expect "-p a -p b" "$(sort -u "$tmp/out" | tr '\n' ' ')" "$(printf '%s\n' "$holder" "$child" | sort | tr '\n' ' ')"
run -n -p "$holder,$holder" -p "$holder"
expect "-p with a PID twice lists it once" "$(wc -l <"$tmp/out")" "$n_memfds"

# --summary: a memfd held twice, or by two processes, counts once.
run -s -p "$holder,$child"
expect "-s: header" "$(head -n 1 "$tmp/out" | tr -s ' ' | sed 's/^ //')" "PID COMMAND MEMFDS SIZE ALLOC"
run -s -b -n -r -p "$holder,$child"
printf '%s\n' "$holder lsmemfd-holder $distinct $size $alloc" \
	"$child lsmemfd-holder $distinct $size $alloc" " total $distinct $size $alloc" >"$tmp/want"
if diff -u "$tmp/want" "$tmp/out"; then
	echo "ok: --summary per process and in total"
else
	fail "--summary"
fi
run -s -o MEMFDS,pid -n -r -p "$holder"
expect "-s -o" "$(head -n 1 "$tmp/out")" "$distinct $holder"

# All processes: the holder and its child among them. Processes we may
# not inspect (here, as root, ones in other user namespaces) are one line.
check_stderr_of_full_scan() {
	if [ "$(wc -l <"$tmp/err")" -gt 1 ] ||
		grep -Ev '^lsmemfd: could not inspect [0-9]+ process(es)? \(permission denied\)$' "$tmp/err"; then
		fail "$1: stderr"
	fi
}
run -o PID,FD -n -r
expect "all processes: status" "$status" 0
check_stderr_of_full_scan "all processes"
expect "all processes: the holder and its child" \
	"$(grep -c -E "^($holder|$child) $fd_spaced$" "$tmp/out")" 2
run -s --sort MEMFDS -o PID,COMMAND,MEMFDS -n -r
expect "-s --sort: the total stays last" "$(tail -n 1 "$tmp/out" | cut -d' ' -f2)" total
if head -n -1 "$tmp/out" | awk '{ print $NF }' | sort -n -c; then
	echo "ok: -s --sort MEMFDS"
else
	fail "-s --sort MEMFDS"
fi

# Processes that exit while lsmemfd looks are skipped without a word.
"$top_builddir/tests/lsmemfd-holder" --churn &
churn_job=$!
jobs_to_kill="$jobs_to_kill $churn_job"
i=0
while [ "$i" -lt 20 ]; do
	run -n
	[ "$status" -eq 0 ] || fail "a scan among exiting processes: status $status"
	check_stderr_of_full_scan "a scan among exiting processes"
	i=$((i + 1))
done
kill "$churn_job"
echo "ok: 20 scans among processes that exit meanwhile"

# Output errors are errors.
status=0
lsmemfd -p "$holder" >/dev/full 2>"$tmp/err" || status=$?
expect "a write error" "$status $(grep -c 'write error' "$tmp/err")" "1 1"

# The README's example: memfd-demo runs lsmemfd on itself.
status=0
"$top_builddir/examples/memfd-demo" "$top_builddir/tools/lsmemfd" >"$tmp/out" 2>&1 || status=$?
expect "memfd-demo with lsmemfd: status, last line" "$status $(tail -n 1 "$tmp/out")" "0 ok"
if tr -s ' ' <"$tmp/out" | sed 's/^ //' |
	grep -Eq '^[0-9]+ memfd-demo [0-9]+ memfd-demo 1M seal,shrink,grow,write(,exec)? 0 0$'; then
	echo "ok: memfd-demo's memfd as lsmemfd shows it"
else
	cat "$tmp/out"
	fail "memfd-demo with lsmemfd"
fi

# Looking changed nothing.
run -p "$holder"
if diff -u "$tmp/first-table" "$tmp/out"; then
	echo "ok: the holder's memfds are as they were"
else
	fail "the holder's memfds changed"
fi

# Processes it may not inspect: counted, one line on stderr.
if unprivileged_setup; then
	run_as_nobody -p "$holder,$child"
	expect "as nobody, -p: a process not shown is a failure" \
		"$status $(cat "$tmp/err")" \
		"1 lsmemfd: could not inspect 2 processes (permission denied)"
	expect "as nobody, -p: nothing listed" "$(wc -c <"$tmp/out")" 0
	run_as_nobody -n
	expect "as nobody, all processes: status" "$status" 0
	expect "as nobody, all processes: one line on stderr" "$(wc -l <"$tmp/err")" 1
	check_stderr_of_full_scan "as nobody, all processes"

	# A process of its own whose memfd it may not open: the others are
	# listed, the process counted.
	start_holder as_nobody "$pub/lsmemfd-holder" --unreadable
	run_as_nobody -o NAME -n -r -p "$holder"
	expect "as nobody, a memfd it may not open" "$status $(cat "$tmp/out") $(cat "$tmp/err")" \
		"1 readable lsmemfd: could not inspect 1 process (permission denied)"
	run -o NAME -n -r -p "$holder"
	expect "as root, the same memfds" "$status $(tr '\n' ' ' <"$tmp/out")" "0 readable unreadable "
else
	echo "note: the permission checks were not run: $unprivileged_why"
fi
finish
