#!/bin/sh
# lsmemfd --json, parsed with jq: the keys and their JSON types, the
# values for memfds of known names, sizes and seals (tests/lsmemfd-holder.c),
# held or only mapped (in full as root, from maps alone as nobody), names
# that are not valid UTF-8, --bytes, --output, --sort and --summary.
set -eu
# shellcheck source=tests/lsmemfd-common.sh
. "${top_srcdir:?}/tests/lsmemfd-common.sh"

if [ -z "${JQ:-}" ]; then
	echo "SKIP: jq was not found by configure (Debian: apt-get install jq)"
	exit 77
fi

# query WHAT JQ-ARGS...: jq -e over $tmp/out; its output must be "true".
query() {
	what=$1
	shift
	if got=$("$JQ" -e "$@" "$tmp/out" 2>&1) && [ "$got" = true ]; then
		echo "ok: $what"
	else
		fail "$what"
		printf '  jq %s\n  said: %s\n' "$*" "$got"
	fi
}

start_holder
expect_of_holder
exact=yes
exact_pages || exact=no
full=no
range=$(grep -aF '/memfd:mapped only (deleted)' "/proc/$holder/maps" | cut -d' ' -f1)
(: <"/proc/$holder/map_files/$range") 2>/dev/null && full=yes

run -J -p "$holder"
expect "-J: status and stderr" "$status $(cat "$tmp/err")" "0 "
query "-J: an object with a memfds array, a row per memfd descriptor or only mapped" \
	--argjson n "$((n_memfds + n_mapped))" '(keys == ["memfds"]) and (.memfds | length == $n)'
query "-J: the keys of every row" \
	'all(.memfds[]; keys == ["command", "exec", "fd", "hugetlb", "mapped", "name", "pid", "seals",
				 "size"])'
query "-J: the JSON types" \
	'all(.memfds[]; (.pid | type) == "number" and (.hugetlb | type) == "boolean" and
	     (.mapped | type) == "string" and
	     if .fd == null then true
	     else (.fd | type) == "number" and (.size | type) == "string" and
		  (.exec | type) == "boolean" end)'

# row WHAT FD JSON: the row for descriptor FD of the holder is JSON.
row() {
	query "-J: $1" --argjson pid "$holder" --argjson fd "$2" \
		"[.memfds[] | select(.fd == \$fd)] ==
		 [{pid: \$pid, command: \"lsmemfd-holder\", fd: \$fd} + $3]"
}
row "a name with a space" "$fd_spaced" \
	'{name: "lsmemfd test", size: "1M", seals: "seal,shrink,grow,write", exec: false, hugetlb: false,
	  mapped: "0B"}'
row "the same memfd on a second descriptor" "$fd_dup" \
	'{name: "lsmemfd test", size: "1M", seals: "seal,shrink,grow,write", exec: false, hugetlb: false,
	  mapped: "0B"}'
row "a name that is not UTF-8, with a newline" "$fd_odd" \
	'{name: "odd\\xff\nbyte", size: "1.5K", seals: "grow", exec: true, hugetlb: false, mapped: "0B"}'
row "a UTF-8 name, with a backslash before an x" "$fd_utf8" \
	'{name: "café\\x5cx41", size: "2K", seals: null, exec: false, hugetlb: false, mapped: "0B"}'
row "no seals: null" "$fd_plain" \
	'{name: "plain", size: "4K", seals: null, exec: false, hugetlb: false, mapped: "0B"}'
row "a size rounded up to the next unit" "$fd_sparse" \
	'{name: "sparse", size: "1G", seals: null, exec: false, hugetlb: false, mapped: "0B"}'
[ -z "$fd_allseals" ] || row "future_write and exec seals" "$fd_allseals" \
	'{name: "all-seals", size: "0B", seals: "seal,future_write,exec", exec: false, hugetlb: false,
	  mapped: "0B"}'
[ -z "$fd_huge" ] || row "a hugetlb memfd" "$fd_huge" \
	'{name: "huge", size: "0B", seals: null, exec: true, hugetlb: true, mapped: "0B"}'
row "held and mapped" "$fd_both" \
	"{name: \"both ways\", size: \"$(human $((8 * page)))\", seals: null, exec: false,
	  hugetlb: false, mapped: \"$(human $((4 * page)))\"}"

# json_mapped_rows FULL: the rows of the memfds only mapped, in full or
# (FULL no) from maps alone: SIZE, SEALS and EXEC null.
json_name() {
	case $1 in
	maponly) say "mapped only" ;;
	twice) say "mapped twice" ;;
	newline) printf 'new\nline\n' ;;
	backslash) say 'back\slash' ;;
	escape) say 'lit\012eral' ;;
	notutf8) say 'bad\xfe\xff' ;;
	hugemap) say "huge mapped" ;;
	esac
}
json_mapped_rows() {
	for key in maponly twice newline backslash escape notutf8 hugemap; do
		eval "inode=\$map_$key"
		[ -n "$inode" ] || continue
		# shellcheck disable=SC2046 # four numbers
		set -- "$1" $(mapping_of "$key")
		seals=null exec=false huge=false
		[ "$key" != maponly ] || seals='"shrink,grow"'
		[ "$key" != hugemap ] || exec=true huge=true
		if [ "$1" = yes ]; then
			want="{size: \"$(human "$2")\", seals: $seals, exec: $exec"
		else
			want="{size: null, seals: null, exec: null"
		fi
		want="$want, hugetlb: $huge, mapped: \"$(human "$4")\"}"
		query "-J: $key, only mapped" --argjson pid "$holder" --arg name "$(json_name "$key")" \
			"[.memfds[] | select(.name == \$name)] ==
			 [{pid: \$pid, command: \"lsmemfd-holder\", fd: null, name: \$name} + $want]"
	done
}
json_mapped_rows "$full"

query "-J: no file that is not a memfd" \
	--argjson others "[${fd_shm:-0}, ${fd_fakememfd:-0}, ${fd_fakefifo:-0}, ${fd_pipe:-0}]" \
	'all(.memfds[]; .fd as $fd | $others | index($fd) == null)'

run -J -b -p "$holder"
query "-J --bytes: sizes are numbers" \
	--argjson spaced "$fd_spaced" --argjson sparse "$fd_sparse" \
	'(.memfds[] | select(.fd == $spaced) | .size) == 1048576 and
	 (.memfds[] | select(.fd == $sparse) | .size) == 1073741823'

# json_bytes FULL RUN: -J -b with ALLOC, MAPPED and RSS, of what is only
# mapped, as RUN (run, or run_as_nobody) runs lsmemfd.
json_bytes() {
	"$2" -J -b -o FD,INODE,SIZE,ALLOC,MAPPED,RSS -p "$holder"
	query "-J -b: MAPPED and RSS are numbers" \
		'all(.memfds[]; (.mapped | type) == "number" and (.rss | type) == "number")'
	for key in maponly twice newline backslash escape notutf8 hugemap; do
		eval "inode=\$map_$key"
		[ -n "$inode" ] || continue
		# shellcheck disable=SC2046 # four numbers
		set -- "$1" $(mapping_of "$key")
		if [ "$1" = yes ]; then
			want="{size: $2, alloc: $3"
		else
			want="{size: null, alloc: null"
		fi
		want="$want, mapped: $4, rss: $5}"
		# Huge pages of shmem would make ALLOC and RSS larger.
		drop=.
		[ "$exact" = yes ] || drop='del(.alloc, .rss)'
		query "-J -b: $key: sizes in bytes" --argjson inode "$inode" \
			"[.memfds[] | select(.inode == \$inode) | del(.fd, .inode) | $drop] ==
			 [$want | $drop]"
	done
}
json_bytes "$full" run

run -J -o name,INODE,ALLOC -p "$holder"
query "-J -o: only those keys" 'all(.memfds[]; keys == ["alloc", "inode", "name"])'
query "-J -o: INODE is a number, ALLOC a string without --bytes" \
	'all(.memfds[]; (.inode | type) == "number" and (.alloc | type) == "string")'
query "-J -o INODE: the same memfd twice" \
	'[.memfds[] | select(.name == "lsmemfd test") | .inode] | length == 2 and .[0] == .[1]'

run -J -b --sort SIZE -o FD -p "$holder"
query "-J --sort with a hidden column: not in the JSON" 'all(.memfds[]; keys == ["fd"])'
cp "$tmp/out" "$tmp/sorted"
run -J -b -o FD,SIZE -p "$holder"
query "-J --sort SIZE: ascending" --slurpfile sorted "$tmp/sorted" \
	'(.memfds | map(select(.fd != null) | {key: (.fd | tostring), value: .size}) | from_entries)
	 as $size | [$sorted[0].memfds[] | select(.fd != null) | $size[.fd | tostring]] | . == sort'

run -J -s -b -p "$holder,$child"
[ "$full" = yes ] || size=null alloc=null
if [ "$exact" = yes ]; then
	query "-J -s: per process, then the total, each memfd counted once" \
		--argjson holder "$holder" --argjson child "$child" --argjson memfds "$distinct" \
		--argjson size "$size" --argjson alloc "$alloc" --argjson mapped "$mapped" \
		--argjson rss "$rss" \
		--argjson huge "${hugepage:-0}" \
		'{memfds: $memfds, size: $size, alloc: $alloc} as $sum |
		 # The child has faulted in nothing (but, before Linux 5.x, a
		 # huge page fork copied).
		 .processes[1].rss as $c | ($c == 0 or $c == $huge) and
		 . == {processes: [{pid: $holder, command: "lsmemfd-holder"} + $sum + {mapped: $mapped, rss: $rss},
				   {pid: $child, command: "lsmemfd-holder"} + $sum + {mapped: $mapped, rss: $c},
				   {pid: null, command: "total"} + $sum +
				   {mapped: (2 * $mapped), rss: ($rss + $c)}]}'
fi
run -J -s -p "$holder"
query "-J -s: sizes are strings without --bytes" \
	--arg full "$full" \
	'all(.processes[]; (.mapped | type) == "string" and (.rss | type) == "string" and
	     ($full == "no" or (.size | type) == "string" and (.alloc | type) == "string"))'

# This shell holds no memfd.
run -J -p "$$"
query "-J: no memfds is an empty array" '. == {memfds: []}'

run -J
expect "-J, all processes: status" "$status" 0
query "-J, all processes: the holder's and its child's rows" \
	--argjson holder "$holder" --argjson child "$child" --argjson n "$((n_memfds + n_mapped))" \
	'([.memfds[] | select(.pid == $holder)] | length) == $n and
	 ([.memfds[] | select(.pid == $child)] | length) == $n and
	 all(.memfds[]; (.pid | type) == "number")'

# Root without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE: the memfds only
# mapped from maps alone, what only the files tell null.
run_without_map_files -J -p "$holder"
if [ "$status" -eq 77 ]; then
	echo "note: lsmemfd without CAP_SYS_ADMIN not run: not root, or no setpriv"
else
	expect "-J without CAP_SYS_ADMIN: status" "$status" 0
	json_mapped_rows no
	json_bytes no run_without_map_files
fi

# The holder as nobody, seen by nobody: its memfds only mapped from maps
# alone, what only the files tell null.
if ! unprivileged_setup; then
	echo "note: the checks as nobody were not run: $unprivileged_why"
	finish
fi
start_holder as_nobody "$pub/lsmemfd-holder"
expect_of_holder
run_as_nobody -J -p "$holder"
expect "-J as nobody: status" "$status" 0
json_mapped_rows no
json_bytes no run_as_nobody
run_as_nobody -J -s -b -p "$holder"
query "-J -s as nobody: SIZE and ALLOC null where a memfd only mapped is not known" \
	--argjson memfds "$distinct" --argjson mapped "$mapped" \
	'.processes[1] == {pid: null, command: "total", memfds: $memfds, size: null, alloc: null,
			   mapped: $mapped, rss: .processes[1].rss}'
finish
