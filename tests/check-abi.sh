#!/bin/sh
# make check-abi: the library just built keeps the ABI of the committed
# baseline (abi/libmemfd.abi). With the argument "update" (make update-abi),
# write the baseline from the library instead. abidiff's exit
# status is a bit mask: 1 error, 2 usage, 4 ABI change, 8 incompatible
# change. Added functions are filtered out (--no-added-syms), so any bit
# fails: a changed type or parameter (4) as much as a removed symbol, a
# symbol moved to another version node or a new soname (8). A new function
# must also go into a new version node: one that the baseline knows is a
# released (or at least recorded) one.
set -eu
: "${baseline:?}" "${headers:?}" "${lib:?}"
if [ -z "${ABIDIFF:-}" ] || [ -z "${ABIDW:-}" ]; then
	echo "FAIL: abidw or abidiff not found: apt-get install abigail-tools, then configure again"
	exit 1
fi
# Without DWARF, libabigail sees only symbol names, and says nothing of a
# changed type.
if ! ${OBJDUMP:-objdump} -h "$lib" | grep -q ' \.debug_info '; then
	echo "FAIL: $lib has no debug information: build it with -g (as the default CFLAGS do)"
	exit 1
fi
if [ "${1:-}" = update ]; then
	# shellcheck disable=SC2086 # a list of options
	"$ABIDW" $ABIDW_FLAGS --out-file "$baseline" "$lib"
	echo "wrote $baseline: review it with git diff and commit it"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

set +e
"$ABIDIFF" --no-added-syms --drop-private-types \
	--headers-dir2 "$headers" "$baseline" "$lib" >"$tmp/diff" 2>&1
result=$?
set -e
cat "$tmp/diff"
if [ "$result" -ne 0 ]; then
	[ $((result & 8)) -ne 0 ] && echo "FAIL: incompatible ABI change (a symbol removed or moved, or the soname changed)"
	[ $((result & 4)) -ne 0 ] && [ $((result & 8)) -eq 0 ] && echo "FAIL: ABI change (a type or a function's signature changed)"
	[ $((result & 3)) -ne 0 ] && echo "FAIL: abidiff could not compare (exit status $result)"
	status=1
fi

# Symbols the baseline does not have, by version node.
sed -n "s/.*<elf-symbol name='\\([^']*\\)' version='\\([^']*\\)'.*/\\1@@\\2/p" "$baseline" |
	sort >"$tmp/old"
${NM:-nm} -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort >"$tmp/new"
sed 's/.*@@//' "$tmp/old" | sort -u >"$tmp/old-nodes"
comm -13 "$tmp/old" "$tmp/new" | while IFS= read -r sym; do
	if grep -qx "${sym#*@@}" "$tmp/old-nodes"; then
		echo "FAIL: $sym was added to a node the baseline already has: a new function"
		echo "      goes into a new LIBMEMFD_x.y node (or, if ${sym#*@@} is still"
		echo "      unreleased, run make update-abi and commit abi/libmemfd.abi)"
		echo fail >>"$tmp/added-to-old-node"
	else
		echo "added: $sym (compatible; make update-abi records it)"
	fi
done
[ ! -f "$tmp/added-to-old-node" ] || status=1

[ "$status" -ne 0 ] || echo "ok: the ABI of $(basename "$lib") keeps the baseline's"
exit "$status"
