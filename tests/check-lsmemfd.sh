#!/bin/sh
# lsmemfd against a process that holds and maps known memfds
# (tests/lsmemfd-holder.c): the table, raw output, columns, sorting, the
# summary, --pid, usage errors and exit statuses, memfds only mapped (in
# full as root, from maps alone as nobody), processes it may not inspect
# or that exit or map and unmap meanwhile, and the files it must neither
# list nor open. JSON: check-lsmemfd-json.sh.
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
grep -q '^ *RSS  ' "$tmp/out" || fail "--help does not list RSS"

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
[ -n "$map_hugemap" ] || echo "note: no huge page to map (fewer than four free)"
[ -n "$fd_fakememfd" ] ||
	echo "note: no tmpfs file that reads like a memfd (needs root or user namespaces)"
[ -n "$other_sysv" ] || echo "note: no SysV shared memory here"
exact=yes
exact_pages || {
	exact=no
	echo "note: shmem may use transparent huge pages here: ALLOC and RSS of mappings not compared"
}

# Whether we may open /proc/PID/map_files entries (CAP_SYS_ADMIN or
# CAP_CHECKPOINT_RESTORE): a memfd only mapped then shows in full.
may_open_map_files() {
	range=$(grep -aF '/memfd:mapped only (deleted)' "/proc/$1/maps" | cut -d' ' -f1)
	[ -n "$range" ] && (: <"/proc/$1/map_files/$range") 2>/dev/null
}
full=no
may_open_map_files "$holder" && full=yes
[ "$full" = yes ] || echo "note: map_files cannot be opened here: memfds only mapped are expected from maps alone"

# The table's NAME of each memfd only mapped (LC_ALL=C: \xNN encoded).
table_name() {
	case $1 in
	maponly) say "mapped only" ;;
	twice) say "mapped twice" ;;
	newline) say 'new\x0aline' ;;
	backslash) say 'back\slash' ;;
	escape) say 'lit\012eral' ;;
	notutf8) say 'bad\xfe\xff' ;;
	hugemap) say "huge mapped" ;;
	esac
}

# mapped_rows PID FULL [RSS]: the rows of the memfds only mapped, as
# "-o FD,NAME,SIZE,SEALS,EXEC,HUGETLB,MAPPED" shows them (FULL yes), or
# as they show without the privilege (FULL no), spaces squeezed; with
# RSS (its figure for the process, or "holder"), "-o
# FD,INODE,SIZE,ALLOC,MAPPED,RSS -b -r".
mapped_rows() {
	for key in maponly twice newline backslash escape notutf8 hugemap; do
		eval "inode=\$map_$key"
		[ -n "$inode" ] || continue
		# shellcheck disable=SC2046 # four numbers
		set -- "$1" "$2" "${3:-}" $(mapping_of "$key")
		seals= exec=0 huge=0
		[ "$key" != maponly ] || seals=" shrink,grow"
		[ "$key" != hugemap ] || exec=1 huge=1
		if [ -n "$3" ]; then
			rss=$7
			[ "$3" = holder ] || rss=$3
			if [ "$2" = yes ]; then
				say "mem $inode $4 $5 $6 $rss"
			else
				say "mem $inode   $6 $rss"
			fi
		elif [ "$2" = yes ]; then
			say "$1 lsmemfd-holder mem $(table_name "$key") $(human "$4")$seals $exec $huge $(human "$6")"
		else
			say "$1 lsmemfd-holder mem $(table_name "$key") $huge $(human "$6")"
		fi
	done
}

# compare WHAT [CUT]: $tmp/want against $tmp/got. Where shmem may use
# huge pages, CUT (an awk program) first takes out of both what depends
# on a page written being a page allocated and resident.
compare() {
	if [ "$exact" = no ] && [ -n "${2:-}" ]; then
		for f in want got; do
			awk "$2" "$tmp/$f" | sort >"$tmp/$f.cut"
			mv "$tmp/$f.cut" "$tmp/$f"
		done
	fi
	if diff -u "$tmp/want" "$tmp/got"; then
		echo "ok: $1"
	else
		fail "$1"
	fi
}

# table_rows FULL: the holder's rows in the default table, spaces squeezed.
table_rows() {
	row="$holder lsmemfd-holder"
	say "$row $fd_spaced lsmemfd test 1M seal,shrink,grow,write 0 0 0B"
	say "$row $fd_dup lsmemfd test 1M seal,shrink,grow,write 0 0 0B"
	say "$row $fd_odd odd\\xff\\x0abyte 1.5K grow 1 0 0B"
	say "$row $fd_utf8 caf\\xc3\\xa9\\x5cx41 2K 0 0 0B"
	say "$row $fd_plain plain 4K 0 0 0B"
	say "$row $fd_sparse sparse 1G 0 0 0B"
	[ -z "$fd_allseals" ] || say "$row $fd_allseals all-seals 0B seal,future_write,exec 0 0 0B"
	[ -z "$fd_huge" ] || say "$row $fd_huge huge 0B 1 1 0B"
	say "$row $fd_both both ways $(human $((8 * page))) 0 0 $(human $((4 * page)))"
	mapped_rows "$holder" "$1"
}

# The default table.
run -p "$holder"
expect "table: status and stderr" "$status $(cat "$tmp/err")" "0 "
cp "$tmp/out" "$tmp/first-table"
expect "table: header" "$(head -n 1 "$tmp/out" | tr -s ' ' | sed 's/^ //')" \
	"PID COMMAND FD NAME SIZE SEALS EXEC HUGETLB MAPPED"
expect "table: columns aligned" "$(awk '{ print length($0) }' "$tmp/out" | sort -u | wc -l)" 1
table_rows "$full" | sort >"$tmp/want"
tail -n +2 "$tmp/out" | tr -s ' ' | sed 's/^ //' | sort >"$tmp/got"
if diff -u "$tmp/want" "$tmp/got"; then
	echo "ok: table: a line per memfd descriptor, and per memfd only mapped (FD mem), names encoded, sizes in human units"
else
	fail "table rows"
fi
if [ "$full" = yes ]; then
	expect "table: the memfds only mapped follow the descriptors" \
		"$(tail -n +2 "$tmp/out" | awk '{ print $3 }' | uniq | tr '\n' ' ')" \
		"$(printf '%s\n' "$memfd_fds" | sed '/^$/d' | tr '\n' ' ')mem "
fi

# MAPPED and RSS in bytes, and SIZE and ALLOC of what is only mapped.
run -o FD,INODE,SIZE,ALLOC,MAPPED,RSS -b -n -r -p "$holder"
expect "mappings: status and stderr" "$status $(cat "$tmp/err")" "0 "
{
	for key in spaced dup odd utf8 plain sparse allseals huge; do
		eval "fd=\$fd_$key"
		[ -n "$fd" ] || continue
		say "$fd $(stat -L -c '%i %s' "/proc/$holder/fd/$fd") $(($(stat -L -c %b "/proc/$holder/fd/$fd") * 512)) 0 0"
	done
	say "$fd_both $(stat -L -c %i "/proc/$holder/fd/$fd_both") $((8 * page)) $((2 * page)) $((4 * page)) $((2 * page))"
	mapped_rows "$holder" "$full" holder
} | sort >"$tmp/want"
sort "$tmp/out" >"$tmp/got"
# FD, INODE, SIZE and MAPPED do not depend on the pages' size.
compare "MAPPED adds up every mapping (one mapped twice counts twice), RSS the pages each maps" \
	'{ print $1, $2, ($NF == $(NF - 1) ? "" : $3), $(NF - 1) }'

# Its child maps the same, and has faulted none of it in: RSS is per
# process. (Since Linux 5.x fork copies no page tables of a shared
# hugetlb mapping either; before, it did.)
run -o FD,INODE,MAPPED,RSS -b -n -r -p "$child"
child_huge_rss=0
if [ -n "$map_hugemap" ]; then
	child_huge_rss=$(awk -v i="$map_hugemap" '$2 == i { print $4 }' "$tmp/out")
	case $child_huge_rss in 0 | "$hugepage") ;; *) fail "the child's RSS of hugemap: $child_huge_rss" ;; esac
fi
mapped_rows "$child" "$full" 0 | awk '{ print $1, $2, $(NF - 1), $NF }' >"$tmp/want"
say "$fd_both $(stat -L -c %i "/proc/$holder/fd/$fd_both") $((4 * page)) 0" >>"$tmp/want"
awk -v h="$map_hugemap" -v r="$child_huge_rss" '
	$2 == h && h != "" { $4 = 0 }
	$1 == "mem" || $3 != 0 { print }' "$tmp/out" | sort >"$tmp/got"
sort -o "$tmp/want" "$tmp/want"
if diff -u "$tmp/want" "$tmp/got"; then
	echo "ok: the child maps the same, and keeps none of it resident"
else
	fail "the child's MAPPED and RSS"
fi

# Only memfds: not the /dev/shm file, the tmpfs file or the FIFO that
# read like memfds, the pipe, nor anything else the holder inherited;
# not the /dev/shm file, the shared anonymous memory, the SysV segment or
# the tmpfs file that read like a memfd that it maps.
run -o FD -n -r -p "$holder"
{
	printf '%s' "$memfd_fds"
	i=0
	while [ "$i" -lt "$n_mapped" ]; do
		echo mem
		i=$((i + 1))
	done
} | sort >"$tmp/want"
sort "$tmp/out" >"$tmp/got"
if diff -u "$tmp/want" "$tmp/got"; then
	echo "ok: no file that is not a memfd is listed"
else
	fail "the listed descriptors"
fi
if [ -n "$fd_fakememfd" ] && [ -n "$fd_fakefifo" ]; then
	expect "the fake memfds read like memfds" \
		"$(readlink "/proc/$holder/fd/$fd_fakememfd" "/proc/$holder/fd/$fd_fakefifo" | tr '\n' ' ')" \
		"/memfd:fake (deleted) /memfd:fifo (deleted) "
	expect "the fake memfd mapped reads like one in maps" \
		"$(grep -ac ' /memfd:fakemap (deleted)$' "/proc/$holder/maps")" 1
fi
for what in "/dev/zero (deleted)" "/SYSV00000000 (deleted)"; do
	[ "$what" != "/SYSV00000000 (deleted)" ] || [ -n "$other_sysv" ] || continue
	expect "the holder maps $what" "$(grep -acF " $what" "/proc/$holder/maps")" 1
done
untouched "the default table" run -p "$holder"
untouched "RSS (smaps)" run -o +RSS,INODE,ALLOC -p "$holder"
untouched "the summary" run -s -p "$holder,$child"

run -n -p "$holder"
expect "-n: no header" "$(wc -l <"$tmp/out")" "$((n_memfds + n_mapped))"

run -r -o FD,NAME -p "$holder"
expect "-r: header" "$(head -n 1 "$tmp/out")" "FD NAME"
expect "-r: a space in a name" "$(grep "^$fd_spaced " "$tmp/out")" "$fd_spaced lsmemfd\\x20test"
expect "-r: odd bytes in a name" "$(grep "^$fd_odd " "$tmp/out")" "$fd_odd odd\\xff\\x0abyte"
expect "-r: a memfd only mapped" "$(grep -c '^mem mapped\\x20only$' "$tmp/out")" 1

run -o fd,SIZE,Alloc -b -n -r -p "$holder"
plain_alloc=$(($(stat -L -c %b "/proc/$holder/fd/$fd_plain") * 512))
expect "-o, --bytes: a written memfd" "$(grep "^$fd_plain " "$tmp/out")" \
	"$fd_plain 4096 $plain_alloc"
expect "-o, --bytes: a sparse memfd" "$(grep "^$fd_sparse " "$tmp/out")" \
	"$fd_sparse 1073741823 0"
grep -v '^mem ' "$tmp/out" >"$tmp/sizes"

run -o +INODE,RSS -p "$holder"
expect "-o +INODE,RSS adds to the defaults" "$(head -n 1 "$tmp/out" | tr -s ' ' | sed 's/^ //')" \
	"PID COMMAND FD NAME SIZE SEALS EXEC HUGETLB MAPPED INODE RSS"
run -o FD,INODE -n -r -p "$holder"
inode=$(stat -L -c %i "/proc/$holder/fd/$fd_spaced")
expect "INODE: the same memfd twice" \
	"$(grep -E "^($fd_spaced|$fd_dup) " "$tmp/out" | cut -d' ' -f2 | sort -u)" "$inode"
expect "INODE: a memfd only mapped" "$(grep -c "^mem $map_maponly\$" "$tmp/out")" 1

# --sort by a column that is not shown: it is there, hidden.
run --sort SIZE -o FD -n -r -p "$holder"
if grep -qv '^\([0-9]*\|mem\)$' "$tmp/out"; then
	fail "--sort showed the hidden column"
fi
grep -v '^mem$' "$tmp/out" >"$tmp/sorted"
if awk 'NR == FNR { size[$1] = $2; next } { print size[$1] }' "$tmp/sizes" "$tmp/sorted" |
	sort -n -c; then
	echo "ok: --sort SIZE sorts by value"
else
	fail "--sort SIZE"
fi
run --sort FD -o FD -n -r -p "$holder"
expect "--sort FD: the memfds only mapped last" \
	"$(uniq "$tmp/out" | tr '\n' ' ')" "$(printf '%s' "$memfd_fds" | sort -n | tr '\n' ' ')mem "
run --sort MAPPED -o MAPPED -b -n -r -p "$holder"
if sort -n -c "$tmp/out"; then
	echo "ok: --sort MAPPED"
else
	fail "--sort MAPPED"
fi
run --sort name -o NAME -n -r -p "$holder"
for name in all-seals 'back\x5cslash' 'bad\xfe\xff' 'both\x20ways' 'caf\xc3\xa9\x5cx41' huge \
	'huge\x20mapped' 'lit\x5c012eral' 'lsmemfd\x20test' 'lsmemfd\x20test' 'mapped\x20only' \
	'mapped\x20twice' 'new\x0aline' 'odd\xff\x0abyte' plain sparse; do
	case $name in
	all-seals) [ -n "$fd_allseals" ] || continue ;;
	huge) [ -n "$fd_huge" ] || continue ;;
	'huge\x20mapped') [ -n "$map_hugemap" ] || continue ;;
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
expect "-p with a PID twice lists it once" "$(wc -l <"$tmp/out")" "$((n_memfds + n_mapped))"

# --summary: a memfd held twice, or by two processes, counts once; MAPPED
# and RSS add up the processes' (a page resident in both counts twice).
run -s -p "$holder,$child"
expect "-s: header" "$(head -n 1 "$tmp/out" | tr -s ' ' | sed 's/^ //')" \
	"PID COMMAND MEMFDS SIZE ALLOC MAPPED RSS"
run -s -b -n -r -p "$holder,$child"
if [ "$full" = yes ]; then
	printf '%s\n' "$holder lsmemfd-holder $distinct $size $alloc $mapped $rss" \
		"$child lsmemfd-holder $distinct $size $alloc $mapped $child_huge_rss" \
		" total $distinct $size $alloc $((2 * mapped)) $((rss + child_huge_rss))" >"$tmp/want"
else
	# What only the files tell is unknown for the memfds only mapped.
	printf '%s\n' "$holder lsmemfd-holder $distinct   $mapped $rss" \
		"$child lsmemfd-holder $distinct   $mapped $child_huge_rss" \
		" total $distinct   $((2 * mapped)) $((rss + child_huge_rss))" >"$tmp/want"
fi
cp "$tmp/out" "$tmp/got"
compare "--summary per process and in total" '{ $5 = ""; $7 = ""; print }'
run -s -o MEMFDS,pid -n -r -p "$holder"
expect "-s -o" "$(head -n 1 "$tmp/out")" "$distinct $holder"

# All processes: the holder and its child among them. Processes we may
# not inspect (here, as root, ones in other user namespaces) are one
# line; memfds only mapped that we may not open (as nobody), another.
check_stderr_of_full_scan() {
	if [ "$(wc -l <"$tmp/err")" -gt 2 ] ||
		grep -Ev '^lsmemfd: (could not inspect [0-9]+ process(es)? \(permission denied\)|[0-9]+ memfds? only mapped, (shown|counted) without .*: opening (it|them) through /proc/PID/map_files needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)$' "$tmp/err"; then
		fail "$1: stderr"
	fi
}
run -o PID,FD -n -r
expect "all processes: status" "$status" 0
check_stderr_of_full_scan "all processes"
expect "all processes: the holder and its child" \
	"$(grep -c -E "^($holder|$child) $fd_spaced$" "$tmp/out")" 2
expect "all processes: the holder's memfds only mapped" \
	"$(grep -c -E "^$holder mem$" "$tmp/out")" "$n_mapped"
untouched "a scan of all processes" run -n -o +RSS
run -s --sort MEMFDS -o PID,COMMAND,MEMFDS -n -r
expect "-s --sort: the total stays last" "$(tail -n 1 "$tmp/out" | cut -d' ' -f2)" total
if head -n -1 "$tmp/out" | awk '{ print $NF }' | sort -n -c; then
	echo "ok: -s --sort MEMFDS"
else
	fail "-s --sort MEMFDS"
fi

# scans ARGS...: 20 scans among processes that come and go, and map and
# unmap memfds meanwhile (or put something else where one was): each
# succeeds, and says nothing but what check_stderr_of_full_scan allows.
scans() {
	i=0
	while [ "$i" -lt 20 ]; do
		case $((i % 3)) in
		0) "$@" -n ;;
		1) "$@" -n -o +RSS,INODE ;;
		2) "$@" -J -s ;;
		esac
		[ "$status" -eq 0 ] || fail "a scan among exiting processes: status $status"
		check_stderr_of_full_scan "a scan among exiting processes"
		i=$((i + 1))
	done
}

# Output errors are errors.
status=0
lsmemfd -p "$holder" >/dev/full 2>"$tmp/err" || status=$?
expect "a write error" "$status $(grep -c 'write error' "$tmp/err")" "1 1"

# The README's example: memfd-demo runs lsmemfd on itself.
status=0
"$top_builddir/examples/memfd-demo" "$top_builddir/tools/lsmemfd" >"$tmp/out" 2>&1 || status=$?
expect "memfd-demo with lsmemfd: status, last line" "$status $(tail -n 1 "$tmp/out")" "0 ok"
if tr -s ' ' <"$tmp/out" | sed 's/^ //' |
	grep -Eq '^[0-9]+ memfd-demo [0-9]+ memfd-demo 1M seal,shrink,grow,write(,exec)? 0 0 0B$'; then
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

# Root without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE (in a container,
# say) may read maps but not open map_files entries: the memfds only
# mapped from maps alone, as for nobody below.
run_without_map_files -p "$holder"
if [ "$status" -eq 77 ]; then
	echo "note: lsmemfd without CAP_SYS_ADMIN not run: not root, or no setpriv"
else
	expect "without CAP_SYS_ADMIN: status and stderr" "$status $(cat "$tmp/err")" \
		"0 lsmemfd: $n_mapped memfds only mapped, shown without size, seals, exec and allocation: opening them through /proc/PID/map_files needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE"
	tail -n +2 "$tmp/out" | tr -s ' ' | sed 's/^ //' | sort >"$tmp/got"
	table_rows no | sort >"$tmp/want"
	compare "without CAP_SYS_ADMIN: the memfds only mapped from maps alone"
	run_without_map_files -o FD,INODE,SIZE,ALLOC,MAPPED,RSS -b -n -r -p "$holder"
	mapped_rows "$holder" no holder | sort >"$tmp/want"
	grep '^mem ' "$tmp/out" | sort >"$tmp/got"
	compare "without CAP_SYS_ADMIN: MAPPED and RSS of the memfds only mapped" \
		'{ $NF = ""; print }'
	run_without_map_files -s -b -n -r -p "$holder"
	say "$holder lsmemfd-holder $distinct   $mapped $rss" >"$tmp/want"
	head -n 1 "$tmp/out" >"$tmp/got"
	compare "without CAP_SYS_ADMIN: the summary" '{ $NF = ""; print }'
	# And where it may make no memfd either, nothing proves them memfds.
	status=0
	timeout 120 setpriv --bounding-set -sys_admin,-checkpoint_restore \
		"$top_builddir/tests/lsmemfd-sandbox" "$top_builddir/tools/lsmemfd" -o FD -n -r \
		-p "$holder" >"$tmp/out" 2>"$tmp/err" || status=$?
	if [ "$status" -ne 77 ]; then
		expect "without CAP_SYS_ADMIN nor memfd_create: no memfd only mapped listed" \
			"$status $(grep -c '^mem$' "$tmp/out") $(grep -c 'mappings that read like memfds not listed' "$tmp/err")" \
			"0 0 1"
	fi
fi

root_holder=$holder root_child=$child
start_holder "$top_builddir/tests/lsmemfd-holder" --churn
untouched "20 scans among processes that exit, map and unmap meanwhile" scans run
run_without_map_files -n
[ "$status" -eq 77 ] || untouched "20 such scans without CAP_SYS_ADMIN" scans run_without_map_files
kill "$holder_job"

# As nobody: processes it may not inspect are counted, one line on
# stderr; memfds only mapped of its own are shown from maps alone.
if ! unprivileged_setup; then
	echo "note: the checks as nobody were not run: $unprivileged_why"
	finish
fi
run_as_nobody -p "$root_holder,$root_child"
expect "as nobody, -p: a process not shown is a failure" \
	"$status $(cat "$tmp/err")" \
	"1 lsmemfd: could not inspect 2 processes (permission denied)"
expect "as nobody, -p: nothing listed" "$(wc -c <"$tmp/out")" 0
run_as_nobody -n
expect "as nobody, all processes: status" "$status" 0
check_stderr_of_full_scan "as nobody, all processes"
grep -q '^lsmemfd: could not inspect' "$tmp/err" || fail "as nobody, all processes: no process denied"

# A process of its own whose memfd it may not open: the others are
# listed, the process counted.
start_holder as_nobody "$pub/lsmemfd-holder" --unreadable
run_as_nobody -o NAME -n -r -p "$holder"
expect "as nobody, a memfd it may not open" "$status $(cat "$tmp/out") $(cat "$tmp/err")" \
	"1 readable lsmemfd: could not inspect 1 process (permission denied)"
run -o NAME -n -r -p "$holder"
expect "as root, the same memfds" "$status $(tr '\n' ' ' <"$tmp/out")" "0 readable unreadable "

# The holder as nobody, seen by nobody: without the privilege map_files
# wants, a memfd only mapped still has its row: name (exact, from
# readlink), inode, MAPPED and RSS; SIZE, SEALS, EXEC and ALLOC empty.
# One line on stderr says so; the status stays 0.
start_holder as_nobody "$pub/lsmemfd-holder"
expect_of_holder
[ -n "$fd_fakememfd" ] || echo "note: no user namespaces for nobody: no look-alikes of nobody's"
run_as_nobody -p "$holder"
n_note="$n_mapped memfds only mapped, shown without size, seals, exec and allocation: opening them through /proc/PID/map_files needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE"
expect "as nobody, memfds only mapped: status and stderr" "$status $(cat "$tmp/err")" \
	"0 lsmemfd: $n_note"
table_rows no | sort >"$tmp/want"
tail -n +2 "$tmp/out" | tr -s ' ' | sed 's/^ //' | sort >"$tmp/got"
if diff -u "$tmp/want" "$tmp/got"; then
	echo "ok: as nobody, its memfds only mapped from maps alone, the others in full"
else
	fail "as nobody, the table"
fi
run_as_nobody -o FD,INODE,SIZE,ALLOC,MAPPED,RSS -b -n -r -p "$holder"
mapped_rows "$holder" no holder | sort >"$tmp/want"
grep '^mem ' "$tmp/out" | sort >"$tmp/got"
compare "as nobody, MAPPED and RSS of the memfds only mapped; SIZE and ALLOC empty" \
	'{ $NF = ""; print }'
run -o FD,INODE,SIZE,ALLOC,MAPPED,RSS -b -n -r -p "$holder"
mapped_rows "$holder" yes holder | sort >"$tmp/want"
grep '^mem ' "$tmp/out" | sort >"$tmp/got"
if [ "$exact" = yes ] && diff -u "$tmp/want" "$tmp/got"; then
	echo "ok: as root, nobody's memfds only mapped in full"
elif [ "$exact" = yes ]; then
	fail "as root, nobody's memfds only mapped"
fi
run_as_nobody -s -b -n -r -p "$holder,$child"
printf '%s\n' "$holder lsmemfd-holder $distinct   $mapped $rss" >"$tmp/want"
head -n 1 "$tmp/out" >"$tmp/got"
if [ "$exact" = yes ] && diff -u "$tmp/want" "$tmp/got"; then
	echo "ok: as nobody, the summary leaves SIZE and ALLOC empty where they are unknown"
elif [ "$exact" = yes ]; then
	fail "as nobody, the summary"
fi
expect "as nobody, the summary: stderr" "$(cat "$tmp/err")" \
	"lsmemfd: $n_mapped memfds only mapped, counted without size and allocation: opening them through /proc/PID/map_files needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE"
untouched "as nobody, the table" run_as_nobody -o +RSS -p "$holder"
untouched "as nobody, the summary" run_as_nobody -s -p "$holder,$child"

# Where lsmemfd may make no memfd (a sandbox that denies memfd_create), it
# cannot tell a memfd only mapped from a look-alike by its mount: without
# the privilege to open it, it is left out, and one line says so. Root
# opens it, and libmemfd tells (a memfd with seals is one).
status=0
as_nobody timeout 120 "$pub/lsmemfd-sandbox" "$pub/lsmemfd" -o FD,NAME -n -r -p "$holder" \
	>"$tmp/out" 2>"$tmp/err" || status=$?
if [ "$status" -eq 77 ]; then
	echo "note: no seccomp sandbox for this architecture: not run"
else
	unproven=$n_mapped
	[ -z "$other_fakemap" ] || unproven=$((unproven + 1))
	expect "sandboxed, as nobody: no memfd only mapped listed, one line says why" \
		"$status $(grep -c '^mem ' "$tmp/out") $(cat "$tmp/err")" \
		"0 0 lsmemfd: $unproven mappings that read like memfds not listed: without memfd_create (Operation not permitted) they cannot be told from look-alikes"
	expect "sandboxed, as nobody: a sealed memfd held is still listed" \
		"$(grep -c "^$fd_spaced lsmemfd\\\\x20test\$" "$tmp/out")" 1
	status=0
	timeout 120 "$pub/lsmemfd-sandbox" "$top_builddir/tools/lsmemfd" -o FD,NAME,SEALS -n -r \
		-p "$holder" >"$tmp/out" 2>"$tmp/err" || status=$?
	expect "sandboxed, as root: a sealed memfd only mapped is opened and listed" \
		"$status $(grep -c '^mem mapped\\x20only shrink,grow$' "$tmp/out") $(cat "$tmp/err")" "0 1 "
	if grep -q 'fake' "$tmp/out"; then
		fail "sandboxed, as root: a look-alike listed"
	fi
fi

# A memfd that one process holds and another only maps: the summary of
# the second counts the size that the first one's descriptor shows.
start_holder as_nobody "$pub/lsmemfd-holder" --pair
run_as_nobody -s -b -n -r -p "$holder,$child"
printf '%s\n' "$holder lsmemfd-holder 1 $((4 * page)) $((3 * page)) $((4 * page)) $page" \
	"$child lsmemfd-holder 1 $((4 * page)) $((3 * page)) $((4 * page)) $((2 * page))" \
	" total 1 $((4 * page)) $((3 * page)) $((8 * page)) $((3 * page))" >"$tmp/want"
if [ "$exact" = no ]; then
	echo "note: the pair's summary not compared (shmem huge pages)"
elif diff -u "$tmp/want" "$tmp/out"; then
	echo "ok: as nobody, a memfd only mapped counts with the size another process's descriptor shows"
else
	fail "as nobody, the pair's summary"
fi
expect "as nobody, the pair's summary: stderr" "$status $(cat "$tmp/err")" "0 "
run_as_nobody -o FD,NAME,SIZE,MAPPED -b -n -r -p "$child"
expect "as nobody, the pair's child: its row from maps alone" "$(cat "$tmp/out")" \
	"mem pair  $((4 * page))"

# Processes of nobody's that map and unmap while nobody looks.
start_holder as_nobody "$pub/lsmemfd-holder" --churn
untouched "as nobody, 20 scans among processes that exit, map and unmap meanwhile" \
	scans run_as_nobody
finish
