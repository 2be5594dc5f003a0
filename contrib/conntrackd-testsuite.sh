#!/bin/sh
# conntrackd-testsuite.sh: run conntrack-tools' own conntrackd test suite
# (tests/conntrackd: tests.yaml, scenarios.yaml, conntrackd-tests.py) with
# ctq linked as conntrackd, or with another conntrackd binary.
#
#   contrib/conntrackd-testsuite.sh CHECKOUT [CONNTRACKD]
#
# CHECKOUT is a conntrack-tools source tree (a git checkout, or
# `git archive` of one, extracted). CONNTRACKD is the conntrackd binary
# to test (/usr/sbin/conntrackd to check the suite itself); without it
# ctq is built from this repository and linked as conntrackd.
#
# Local only, as root, with python3 and its yaml module, ip(8), nft(8),
# conntrack(8) and unshare(1). The suite runs daemons in the current
# network namespace, uses fixed namespace names (ns1, ns2, nsr1, nsr2) and
# addresses, and writes /var/lock, /var/run, /var/log and /tmp: so it runs
# here in a private network and mount namespace, with empty tmpfs over
# /run, /tmp and /var/log, and leaves the host's tables and files alone.
# The runner prints "--- passed test: NAME" or "--- failed test: NAME"
# per test, then a summary; this script exits with the runner's status.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 CHECKOUT [CONNTRACKD]" >&2
	exit 2
fi
suite=$1/tests/conntrackd
if [ ! -f "$suite/conntrackd-tests.py" ]; then
	echo "$0: $suite/conntrackd-tests.py not found: not a conntrack-tools checkout" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: the suite needs root" >&2
	exit 2
fi

# The work directory holds the suite and the binary: it must not be under
# /tmp or /run, which the private namespace covers.
work=$(mktemp -d -p /var/tmp ctq-conntrackd-suite.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -R "$suite" "$work/suite"

if [ $# -eq 2 ]; then
	bin=$(readlink -f "$2")
else
	repo=$(cd "$(dirname "$0")/.." && pwd)
	mkdir "$work/bin"
	(cd "$repo" && go build -o "$work/bin/ctq" ./cmd/ctq)
	ln -s ctq "$work/bin/conntrackd"
	bin=$work/bin/conntrackd
fi
conntrack=$(command -v conntrack)
echo "conntrackd under test: $bin"

unshare --mount --net --propagation private -- env \
	CONNTRACKD="$bin" CONNTRACK="$conntrack" SUITE="$work/suite" sh -eu -c '
	mount -t tmpfs tmpfs /run
	mkdir -p /run/lock
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /var/log
	ip link set lo up
	cd "$SUITE"
	exec python3 conntrackd-tests.py
'
