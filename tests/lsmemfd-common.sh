# lsmemfd's tests share this (sourced, not run): a temporary directory,
# lsmemfd under a time limit, checks that count failures, the holder
# process (tests/lsmemfd-holder.c) with its PIDs, descriptors, mappings
# and the events it saw, and runs as nobody from a copy nobody can reach.
: "${top_srcdir:?}" "${top_builddir:?}"
# Table cells are encoded by locale: make the expected text fixed.
LC_ALL=C
export LC_ALL
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lsmemfd-test.XXXXXX")
jobs_to_kill=
pub=
cleanup() {
	# shellcheck disable=SC2086 # a list of PIDs
	[ -z "$jobs_to_kill" ] || kill $jobs_to_kill 2>/dev/null || true
	rm -rf "$tmp"
	[ -z "$pub" ] || rm -rf "$pub"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

failures=0
# echo, without the backslash escapes some shells' echo interprets.
say() {
	printf '%s\n' "$*"
}
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
# expect WHAT GOT WANT
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok: $1"
	else
		fail "$1"
		printf '  got:  %s\n  want: %s\n' "$2" "$3"
	fi
}
finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed"
		exit 1
	fi
	exit 0
}

# A hang is a failure, not a stuck test suite.
lsmemfd() {
	timeout 120 "$top_builddir/tools/lsmemfd" "$@"
}

# Run lsmemfd; its stdout, stderr and status in $tmp/out, $tmp/err, $status.
run() {
	status=0
	lsmemfd "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}

# start_holder [COMMAND...]: start the holder (or COMMAND, which runs it)
# and read what it holds: $holder and $child (PIDs), $fd_KEY for each
# descriptor, $map_KEY (the inode) for each memfd only mapped, $other_KEY
# for each mapping of something else, $hugepage if it mapped one. Exits
# 77 (SKIP) as the holder does. Descriptor 3 then reads the holder's
# output, for holder_events.
holders=0
start_holder() {
	[ "$#" -gt 0 ] || set -- "$top_builddir/tests/lsmemfd-holder"
	holders=$((holders + 1))
	mkfifo "$tmp/holder$holders"
	"$@" >"$tmp/holder$holders" &
	holder_job=$!
	jobs_to_kill="$jobs_to_kill $holder_job"
	exec 3<"$tmp/holder$holders"
	holder= child= ready= hugepage=
	fd_spaced= fd_dup= fd_odd= fd_utf8= fd_plain= fd_sparse= fd_allseals= fd_huge=
	fd_both= fd_shm= fd_fakememfd= fd_fakefifo= fd_pipe= fd_readable= fd_unreadable=
	map_maponly= map_twice= map_newline= map_backslash= map_escape= map_notutf8=
	map_hugemap= other_shmmap= other_anon= other_sysv= other_fakemap=
	while read -r key a b <&3; do
		case $key in
		pid) holder=$a ;;
		child) child=$a ;;
		fd) eval "fd_$a=\$b" ;;
		map) eval "map_$a=\$b" ;;
		other) eval "other_$a=yes" ;;
		hugepage) hugepage=$a ;;
		ready) ready=yes; break ;;
		esac
	done
	if [ -z "$ready" ]; then
		holder_status=0
		wait "$holder_job" || holder_status=$?
		[ "$holder_status" -eq 77 ] && exit 77
		echo "FAIL: the holder did not start (status $holder_status)"
		exit 1
	fi
	echo "holder $holder, its child $child"
}

page=$(getconf PAGESIZE)

# What lsmemfd should find in the holder: $memfd_fds (its memfd
# descriptors, one a line) and $n_memfds; $n_mapped memfds only mapped;
# $distinct memfds (dup is spaced again) of $size bytes in all, $alloc of
# them allocated (for descriptors as stat sees them, for mappings as the
# holder made them), and the holder's $mapped and $rss of them.
expect_of_holder() {
	memfd_fds= n_memfds=0 distinct=0 size=0 alloc=0
	for key in spaced dup odd utf8 plain sparse allseals huge both; do
		eval "fd=\$fd_$key"
		[ -n "$fd" ] || continue
		memfd_fds="$memfd_fds$fd
"
		n_memfds=$((n_memfds + 1))
		[ "$key" != dup ] || continue
		distinct=$((distinct + 1))
		size=$((size + $(stat -L -c %s "/proc/$holder/fd/$fd")))
		alloc=$((alloc + $(stat -L -c %b "/proc/$holder/fd/$fd") * 512))
	done
	# both: pages 2 to 5 mapped, two written.
	mapped=$((4 * page)) rss=$((2 * page)) n_mapped=0
	for key in maponly twice newline backslash escape notutf8 hugemap; do
		eval "inode=\$map_$key"
		[ -n "$inode" ] || continue
		n_mapped=$((n_mapped + 1))
		distinct=$((distinct + 1))
		set -- $(mapping_of "$key")
		size=$((size + $1)) alloc=$((alloc + $2)) mapped=$((mapped + $3)) rss=$((rss + $4))
	done
}

# mapping_of KEY: the SIZE, ALLOC, MAPPED and RSS in bytes of the memfd
# the holder only maps as KEY (tests/lsmemfd-holder.c).
mapping_of() {
	case $1 in
	maponly) echo $((16 * page)) $((3 * page)) $((16 * page)) $((3 * page)) ;;
	twice) echo $((8 * page)) $((3 * page)) $((12 * page)) $((3 * page)) ;;
	hugemap) echo "$hugepage $hugepage $hugepage $hugepage" ;;
	*) echo "$page $page $page $page" ;;
	esac
}

# Whether a page written is a page allocated and resident, no more: not
# where shmem may use (multi-size) transparent huge pages.
exact_pages() {
	thp=/sys/kernel/mm/transparent_hugepage
	top=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$thp/shmem_enabled" 2>/dev/null)
	case ${top:-never} in never | deny | advise) ;; *) return 1 ;; esac
	for f in "$thp"/hugepages-*/shmem_enabled; do
		[ -f "$f" ] || continue
		case $(sed -n 's/.*\[\(.*\)\].*/\1/p' "$f") in
		never | advise | inherit) ;;
		*) return 1 ;;
		esac
	done
	return 0
}

# human BYTES: as lsmemfd shows a size without --bytes (lsblk's units).
human() {
	awk -v n="$1" 'BEGIN {
		split("B K M G T P E", unit, " ")
		e = 1; whole = n
		while (e < 7 && whole >= 1024) { whole = int(whole / 1024); e++ }
		if (e == 1) { printf "%dB\n", n; exit }
		scale = 1024 ^ (e - 1)
		tenths = int(((n % scale) * 10 + scale / 2) / scale)
		if (tenths == 10) { tenths = 0; whole++ }
		if (tenths) printf "%d.%d%s\n", whole, tenths, unit[e]
		else printf "%d%s\n", whole, unit[e]
	}'
}

# holder_events: what the holder saw since it was last asked: $events
# (how many inotify events) and $event_lines (which).
holder_events() {
	kill -USR1 "$holder"
	events= event_lines=
	while read -r key a b <&3; do
		case $key in
		event) event_lines="$event_lines $a:$b" ;;
		events) events=$a; break ;;
		esac
	done
	[ -n "$events" ] || { fail "the holder did not report its events"; events=0; }
}

# untouched WHAT COMMAND...: COMMAND (say run -p "$holder") neither opens a
# file of the holder's that is no memfd nor reads, writes or changes any.
# Another lsmemfd on this machine (an older one opened the look-alikes)
# can cause events too: only events on each of three tries fail.
untouched() {
	what=$1
	shift
	for try in 1 2 3; do
		holder_events
		"$@"
		holder_events
		if [ "$events" -eq 0 ]; then
			echo "ok: $what: nothing but memfds opened, nothing read or changed"
			return
		fi
		echo "note: events during $what (try $try):$event_lines"
	done
	fail "$what: the holder's files were opened, read or changed:$event_lines"
}

# run_without_map_files ARGS: run lsmemfd as root without the capabilities
# that opening /proc/PID/map_files entries needs (as in a container); 77
# where that cannot be had (not root, no setpriv).
run_without_map_files() {
	status=0
	if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
		! setpriv --bounding-set -sys_admin,-checkpoint_restore true 2>/dev/null; then
		status=77
		return
	fi
	timeout 120 setpriv --bounding-set -sys_admin,-checkpoint_restore \
		"$top_builddir/tools/lsmemfd" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}

# A copy of lsmemfd, libmemfd and the holder that nobody can run, in a
# directory of its own under /tmp: the build tree may be anywhere (a
# mktemp -d, /root) where nobody cannot enter. unprivileged_setup: 0 if
# set up ($pub), else 1 and the reason in $unprivileged_why.
unprivileged_setup() {
	unprivileged_why=
	if [ "$(id -u)" -ne 0 ]; then
		unprivileged_why="not root, so cannot become nobody"
		return 1
	fi
	if ! command -v setpriv >/dev/null; then
		unprivileged_why="no setpriv (util-linux)"
		return 1
	fi
	pub=$(mktemp -d /tmp/lsmemfd-nobody.XXXXXX)
	chmod 755 "$pub"
	mkdir "$pub/gcov"
	chown 65534:65534 "$pub/gcov"
	# libtool's wrapper scripts run the programs in .libs with the
	# uninstalled library; a static build has none.
	for program in tools/lsmemfd tests/lsmemfd-holder tests/lsmemfd-sandbox; do
		if [ -x "$top_builddir/${program%/*}/.libs/${program##*/}" ]; then
			cp "$top_builddir/${program%/*}/.libs/${program##*/}" "$pub/"
		else
			cp "$top_builddir/$program" "$pub/"
		fi
	done
	for lib in "$top_builddir"/lib/.libs/libmemfd.so*; do
		[ ! -e "$lib" ] || cp -P "$lib" "$pub/"
	done
	chmod -R a+rX "$pub"
	if ! as_nobody "$pub/lsmemfd" --version >"$tmp/out" 2>"$tmp/err" || [ -s "$tmp/err" ]; then
		unprivileged_why="nobody cannot run a copy of lsmemfd in $pub: $(cat "$tmp/err")"
		return 1
	fi
	return 0
}

# as_nobody COMMAND...: run it as nobody, with the copied library; a
# coverage build's data goes to a directory nobody may write, so that
# gcov has nothing to say on stderr.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env LD_LIBRARY_PATH="$pub${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		GCOV_PREFIX="$pub/gcov" "$@"
}

# run_as_nobody ARGS: run as lsmemfd does, as nobody.
run_as_nobody() {
	status=0
	as_nobody timeout 120 "$pub/lsmemfd" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}
