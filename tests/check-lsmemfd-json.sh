#!/bin/sh
# lsmemfd --json, parsed with jq: the keys and their JSON types, the
# values for memfds of known names, sizes and seals (tests/lsmemfd-holder.c),
# names that are not valid UTF-8, --bytes, --output, --sort and --summary.
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

run -J -p "$holder"
expect "-J: status and stderr" "$status $(cat "$tmp/err")" "0 "
query "-J: an object with a memfds array, a row per memfd descriptor" \
	--argjson n "$n_memfds" '(keys == ["memfds"]) and (.memfds | length == $n)'
query "-J: the keys of every row" \
	'all(.memfds[]; keys == ["command", "exec", "fd", "hugetlb", "name", "pid", "seals", "size"])'
query "-J: the JSON types" \
	'all(.memfds[]; (.pid | type) == "number" and (.fd | type) == "number" and
	     (.size | type) == "string" and (.exec | type) == "boolean" and
	     (.hugetlb | type) == "boolean")'

# row WHAT FD JSON: the row for descriptor FD of the holder is JSON.
row() {
	query "-J: $1" --argjson pid "$holder" --argjson fd "$2" \
		"[.memfds[] | select(.fd == \$fd)] ==
		 [{pid: \$pid, command: \"lsmemfd-holder\", fd: \$fd} + $3]"
}
row "a name with a space" "$fd_spaced" \
	'{name: "lsmemfd test", size: "1M", seals: "seal,shrink,grow,write", exec: false, hugetlb: false}'
row "the same memfd on a second descriptor" "$fd_dup" \
	'{name: "lsmemfd test", size: "1M", seals: "seal,shrink,grow,write", exec: false, hugetlb: false}'
row "a name that is not UTF-8, with a newline" "$fd_odd" \
	'{name: "odd\\xff\nbyte", size: "1.5K", seals: "grow", exec: true, hugetlb: false}'
row "a UTF-8 name, with a backslash before an x" "$fd_utf8" \
	'{name: "café\\x5cx41", size: "2K", seals: null, exec: false, hugetlb: false}'
row "no seals: null" "$fd_plain" \
	'{name: "plain", size: "4K", seals: null, exec: false, hugetlb: false}'
row "a size rounded up to the next unit" "$fd_sparse" \
	'{name: "sparse", size: "1G", seals: null, exec: false, hugetlb: false}'
[ -z "$fd_allseals" ] || row "future_write and exec seals" "$fd_allseals" \
	'{name: "all-seals", size: "0B", seals: "seal,future_write,exec", exec: false, hugetlb: false}'
[ -z "$fd_huge" ] || row "a hugetlb memfd" "$fd_huge" \
	'{name: "huge", size: "0B", seals: null, exec: true, hugetlb: true}'
query "-J: no file that is not a memfd" \
	--argjson others "[${fd_shm:-0}, ${fd_fakememfd:-0}, ${fd_fakefifo:-0}, ${fd_pipe:-0}]" \
	'all(.memfds[]; .fd as $fd | $others | index($fd) == null)'

run -J -b -p "$holder"
query "-J --bytes: sizes are numbers" \
	--argjson spaced "$fd_spaced" --argjson sparse "$fd_sparse" \
	'(.memfds[] | select(.fd == $spaced) | .size) == 1048576 and
	 (.memfds[] | select(.fd == $sparse) | .size) == 1073741823'

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
	'(.memfds | map({key: (.fd | tostring), value: .size}) | from_entries) as $size |
	 [$sorted[0].memfds[] | $size[.fd | tostring]] | . == sort'

run -J -s -b -p "$holder,$child"
query "-J -s: per process, then the total, each memfd counted once" \
	--argjson holder "$holder" --argjson child "$child" --argjson memfds "$distinct" \
	--argjson size "$size" --argjson alloc "$alloc" \
	'{memfds: $memfds, size: $size, alloc: $alloc} as $sum |
	 . == {processes: [{pid: $holder, command: "lsmemfd-holder"} + $sum,
			   {pid: $child, command: "lsmemfd-holder"} + $sum,
			   {pid: null, command: "total"} + $sum]}'
run -J -s -p "$holder"
query "-J -s: sizes are strings without --bytes" \
	'all(.processes[]; (.size | type) == "string" and (.alloc | type) == "string")'

# This shell holds no memfd.
run -J -p "$$"
query "-J: no memfds is an empty array" '. == {memfds: []}'

run -J
expect "-J, all processes: status" "$status" 0
query "-J, all processes: the holder's and its child's rows" \
	--argjson holder "$holder" --argjson child "$child" --argjson n "$n_memfds" \
	'([.memfds[] | select(.pid == $holder)] | length) == $n and
	 ([.memfds[] | select(.pid == $child)] | length) == $n and
	 all(.memfds[]; (.pid | type) == "number")'
finish
