#!/bin/sh
# conntrack-testsuite.sh - run conntrack-tools' own CLI test suite
# (tests/conntrack/testsuite, driven by tests/conntrack/test-conntrack.c)
# against ctq's conntrack front end, or against any conntrack binary.
#
# Local use only (needs root, gcc and ip(8)); nothing of conntrack-tools is
# kept in this repository: the script reads a conntrack-tools source tree
# you give it, builds the upstream runner in a temporary directory and
# runs it inside a private network namespace, which it removes at the end
# (also on failure or ^C). The initial namespace's conntrack table and
# sysctls are never touched.
#
# Usage:
#   contrib/conntrack-testsuite.sh [--ctq BIN | --conntrack BIN] [-v] SRCDIR
#
#   SRCDIR         a conntrack-tools checkout or extracted archive holding
#                  tests/conntrack/test-conntrack.c and tests/conntrack/testsuite/.
#                  For example, from a git mirror:
#                    mkdir /tmp/ct && git --git-dir=PATH/conntrack-tools.git \
#                      archive conntrack-tools-1.4.7 tests/conntrack | tar -x -C /tmp/ct
#                  then SRCDIR is /tmp/ct.
#   --ctq BIN      the ctq binary to test (default: build ./cmd/ctq of the
#                  repository this script is in). It is run through a
#                  symlink named conntrack (argv[0] dispatch).
#   --conntrack BIN  test that program instead (e.g. /usr/sbin/conntrack,
#                  to check the script and see the reference result).
#   -v             show the runner's full output, not only the failures.
#
# The runner executes "../../src/conntrack ARGS" for each case and counts
# a case as passed when the exit status is the expected one (OK: 0, BAD:
# non-zero); it does not look at the output. Cases run in file order in
# one namespace, as upstream does; the script runs the runner once per
# test file (in that same namespace, same order) to tell which file each
# failure is in. Exit status: 0 if every case passed, 1 if some failed,
# 2 on a usage or setup error.

set -eu
# Globs sort as the runner's scandir(alphasort) does.
export LC_ALL=C

usage() {
	sed -n '/^# Usage:/,/^# The runner/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

prog=""
mode=ctq
verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--ctq) [ $# -ge 2 ] || usage; prog=$2; mode=ctq; shift 2 ;;
	--conntrack) [ $# -ge 2 ] || usage; prog=$2; mode=conntrack; shift 2 ;;
	-v) verbose=1; shift ;;
	-h|--help) usage ;;
	-*) echo "unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
src=$(cd "$1" && pwd)
suite=$src/tests/conntrack
if [ ! -f "$suite/test-conntrack.c" ] || [ ! -d "$suite/testsuite" ]; then
	echo "$1: no tests/conntrack/test-conntrack.c and tests/conntrack/testsuite/ (a conntrack-tools source tree?)" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "needs root (a network namespace and its conntrack table)" >&2
	exit 2
fi
for tool in gcc ip; do
	command -v $tool >/dev/null 2>&1 || { echo "needs $tool" >&2; exit 2; }
done

work=$(mktemp -d /tmp/ctq-cttest.XXXXXX)
ns=ctq-cttest-$$
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$prog" ]; then
	repo=$(cd "$(dirname "$0")/.." && pwd)
	command -v go >/dev/null 2>&1 || { echo "needs go to build ctq (or give --ctq BIN)" >&2; exit 2; }
	echo "building ctq from $repo"
	(cd "$repo" && go build -o "$work/ctq" ./cmd/ctq)
	prog=$work/ctq
fi
case $prog in
/*) ;;
*) prog=$(command -v "$prog" || echo "$PWD/$prog") ;;
esac
[ -x "$prog" ] || { echo "$prog: not an executable" >&2; exit 2; }

# The runner runs ../../src/conntrack from tests/conntrack/.
mkdir -p "$work/src" "$work/tests/conntrack"
ln -s "$prog" "$work/src/conntrack"
gcc -O2 -o "$work/tests/conntrack/test" "$suite/test-conntrack.c"

ip netns add "$ns"
ip -n "$ns" link set lo up

echo "testing $mode ($prog as conntrack) with $suite/testsuite in namespace $ns"
ok=0
bad=0
failures=$work/failures
: >"$failures"
for path in "$suite"/testsuite/*; do
	file=${path##*/}
	rm -rf "$work/tests/conntrack/testsuite"
	mkdir "$work/tests/conntrack/testsuite"
	cp "$suite/testsuite/$file" "$work/tests/conntrack/testsuite/"
	out=$(cd "$work/tests/conntrack" && ip netns exec "$ns" ./test 2>&1) || true
	[ $verbose -eq 1 ] && printf '%s\n' "$out"
	summary=$(printf '%s\n' "$out" | grep '^OK: [0-9]* BAD: [0-9]*$' | tail -n 1)
	if [ -z "$summary" ]; then
		echo "$file: the runner printed no summary:" >&2
		printf '%s\n' "$out" | tail -n 5 >&2
		exit 1
	fi
	fok=$(echo "$summary" | sed 's/^OK: \([0-9]*\) BAD: \([0-9]*\)$/\1/')
	fbad=$(echo "$summary" | sed 's/^OK: \([0-9]*\) BAD: \([0-9]*\)$/\2/')
	ok=$((ok + fok))
	bad=$((bad + fbad))
	printf '%-10s OK %3d  BAD %3d\n' "$file" "$fok" "$fbad"
	# "(LINE) Executing: CMD" ... "^----- BAD": remember the command.
	printf '%s\n' "$out" | awk -v f="$file" '
		/^\([0-9]+\) Executing: / { last = $0; next }
		/^\^----- BAD$/ { sub(/^\(/, f ":", last); sub(/\) Executing: /, "  ", last); print "  " last }
	' | sed "s|\.\./\.\./src/conntrack|conntrack|g" >>"$failures"
done
total=$((ok + bad))
echo "total: $total cases, OK $ok, BAD $bad"
if [ "$bad" -gt 0 ]; then
	echo "failed cases (file:line  command):"
	cat "$failures"
	exit 1
fi
