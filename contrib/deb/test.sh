#!/usr/bin/env bash
# Builds the Debian package, installs it, checks what it installed (ctq -V,
# the man page, a live count, the systemd unit, the completions) and
# removes it again, on success or failure. Runs as root on Debian (CI runs
# it after the Go tests); refuses to run when a ctq package is installed
# already, so that it never removes one it did not install.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin

version=0.0.0~citest
if dpkg-query -W -f '${Status}' ctq 2>/dev/null | grep -q 'installed'; then
	echo "contrib/deb/test.sh: a ctq package is installed already; remove it first" >&2
	exit 1
fi

# dpkg waits for no one: retry while another dpkg or apt holds its lock.
dpkg_locked() {
	local out
	for _ in $(seq 60); do
		if out=$(dpkg "$@" 2>&1); then
			return 0
		fi
		case $out in
		*lock*) sleep 2 ;;
		*)
			echo "$out" >&2
			return 1
			;;
		esac
	done
	echo "$out" >&2
	return 1
}

out=$(mktemp -d)
installed=
cleanup() {
	if [ -n "$installed" ]; then
		/usr/sbin/ctq-dropin disable >/dev/null 2>&1 || true
		dpkg_locked --purge ctq >/dev/null
	fi
	rm -rf "$out"
}
trap cleanup EXIT

fail() {
	echo "contrib/deb/test.sh: $*" >&2
	exit 1
}

deb=$(contrib/deb/build.sh "$version" "$out")
installed=1
dpkg_locked --install "$deb" >/dev/null

got=$(/usr/sbin/ctq -V)
[ "$got" = "ctq $version" ] || fail "ctq -V printed '$got', want 'ctq $version'"

page=$(man -w ctq) || fail "man -w ctq found no page"
[ "$page" = /usr/share/man/man8/ctq.8.gz ] || fail "man -w ctq: $page"
warnings=$(MANWIDTH=80 man --warnings -P cat ctq 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "man --warnings ctq: $warnings"
MANWIDTH=80 man -P cat ctq 2>/dev/null | grep -q "ctq $version" || fail "the man page does not name version $version"

n=$(/usr/sbin/ctq -e 'count') || fail "ctq -e count failed"
[[ $n =~ ^[0-9]+$ ]] || fail "ctq -e count printed '$n'"

unit=/lib/systemd/system/ctq-sync.service
grep -q '^ExecStart=/usr/sbin/ctq ' "$unit" || fail "$unit does not run /usr/sbin/ctq"
verify=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify $unit: $verify"
# Lines about other units (keepalived.service, absent here) are not ours.
if grep -v -e 'keepalived\.service' <<<"$verify" | grep -q .; then
	fail "systemd-analyze verify $unit: $verify"
fi
systemd-analyze security --offline=true "$unit" >/dev/null || fail "systemd-analyze security --offline=true $unit"

for f in /usr/share/doc/ctq/README.md /usr/share/doc/ctq/SECURITY.md /usr/share/doc/ctq/CHANGELOG.md \
	/usr/share/doc/ctq/copyright /usr/share/doc/ctq/examples/keepalived-notify.sh; do
	[ -s "$f" ] || fail "$f is missing"
done

bash -c 'source /usr/share/bash-completion/completions/ctq && complete -p ctq' >/dev/null ||
	fail "the bash completion defines no completion for ctq"
if command -v zsh >/dev/null; then
	zsh -n /usr/share/zsh/vendor-completions/_ctq || fail "zsh -n _ctq"
fi
if command -v fish >/dev/null; then
	fish -c 'complete -C "ctq -o js"' | grep -q '^json' || fail "fish does not complete ctq -o js"
fi

# ctq-dropin puts ctq in the place of conntrack and conntrackd and gives
# them back; so does removing the package.
is_ctq() { [ -L "/usr/sbin/$1" ] && [ "$(readlink "/usr/sbin/$1")" = ctq ]; }
for name in conntrack conntrackd; do
	[ -e "/usr/sbin/$name" ] || fail "/usr/sbin/$name is missing: install conntrack and conntrackd first"
	! is_ctq "$name" || fail "/usr/sbin/$name is ctq before ctq-dropin enable"
done
/usr/sbin/ctq-dropin enable >/dev/null
for name in conntrack conntrackd; do
	is_ctq "$name" || fail "ctq-dropin enable: /usr/sbin/$name is not ctq"
	[ -x "/usr/sbin/$name.conntrack-tools" ] || fail "ctq-dropin enable: /usr/sbin/$name.conntrack-tools is missing"
done
conntrack -h | grep -q "Where ctq differs from conntrack 1.4.7 on purpose" || fail "conntrack -h is not ctq's after ctq-dropin enable"
conntrackd -h | grep -q "ctq's conntrackd front end" || fail "conntrackd -h is not ctq's after ctq-dropin enable"
[ "$(conntrack -V)" = "$(/usr/sbin/conntrack.conntrack-tools -V)" ] || fail "conntrack -V differs between ctq and conntrack-tools"
/usr/sbin/ctq-dropin disable >/dev/null
for name in conntrack conntrackd; do
	if is_ctq "$name" || [ ! -x "/usr/sbin/$name" ]; then
		fail "ctq-dropin disable: /usr/sbin/$name is not conntrack-tools' again"
	fi
	[ ! -e "/usr/sbin/$name.conntrack-tools" ] || fail "ctq-dropin disable left /usr/sbin/$name.conntrack-tools"
done
! conntrack -h | grep -q "Where ctq differs" || fail "conntrack -h is still ctq's after ctq-dropin disable"
/usr/sbin/ctq-dropin enable conntrack >/dev/null

dpkg_locked --remove ctq >/dev/null
[ ! -e /usr/sbin/ctq ] || fail "dpkg -r left /usr/sbin/ctq"
if is_ctq conntrack || [ ! -x /usr/sbin/conntrack ]; then
	fail "dpkg -r left conntrack diverted to ctq"
fi
[ -z "$(dpkg-divert --list /usr/sbin/conntrack)" ] || fail "dpkg -r left the diversion of conntrack"
dpkg_locked --purge ctq >/dev/null
installed=
echo "contrib/deb/test.sh: ctq_${version}_amd64.deb builds, installs, works and removes cleanly"
