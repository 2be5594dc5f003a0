#!/usr/bin/env bash
# Builds the Debian package of ctq with dpkg-deb, without network (the Go
# modules come from the module cache: run `go mod download` once):
#
#	contrib/deb/build.sh VERSION [OUTDIR]
#
# writes OUTDIR/ctq_VERSION_ARCH.deb (OUTDIR defaults to the current
# directory; ARCH is amd64, or arm64 with DEB_ARCH=arm64). It holds
# /usr/sbin/ctq (static, CGO_ENABLED=0, `ctq -V` prints VERSION), ctq-dropin, the man
# page, the bash, zsh and fish completions (docs/man and contrib/completion,
# which cmd/ctqdoc generates), the ctq-sync.service unit (installed, not
# enabled) and /usr/share/doc/ctq. DEB_MAINTAINER sets the Maintainer field.
set -euo pipefail

version=${1:-}
out=${2:-.}
if [[ ! $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
	echo "usage: $0 VERSION [OUTDIR]   (VERSION as Debian spells it: 1.2.3, 1.2.3~rc1)" >&2
	exit 2
fi
arch=${DEB_ARCH:-amd64}
case $arch in
amd64 | arm64) goarch=$arch ;;
*)
	echo "$0: DEB_ARCH $arch: amd64 or arm64" >&2
	exit 2
	;;
esac
maintainer=${DEB_MAINTAINER:-The ctq authors <ctq@invalid>}
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
export PATH=$PATH:/usr/local/go/bin

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
umask 022
pkg=$stage/ctq
doc=$pkg/usr/share/doc/ctq
install -d "$pkg/DEBIAN" "$pkg/usr/sbin" "$pkg/usr/share/man/man8" \
	"$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
	"$pkg/usr/share/fish/vendor_completions.d" "$pkg/lib/systemd/system" "$doc/examples" \
	"$pkg/usr/share/lintian/overrides"

cd "$src"
CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOFLAGS=-mod=readonly GOPROXY=off \
	go build -trimpath -buildvcs=false -ldflags "-s -w -X main.stampedVersion=$version" \
	-o "$pkg/usr/sbin/ctq" ./cmd/ctq

# The man page as committed, with the version in its footer and the date of
# its last change.
date=$(sed -n 's/^\.TH CTQ 8 "\([^"]*\)".*/\1/p' docs/man/ctq.8)
GOPROXY=off go run ./cmd/ctqdoc -man "$stage/man" -version "$version" -date "$date"
gzip -9n <"$stage/man/ctq.8" >"$pkg/usr/share/man/man8/ctq.8.gz"

install -m 0755 contrib/deb/ctq-dropin "$pkg/usr/sbin/ctq-dropin"
install -m 0644 contrib/completion/ctq.bash "$pkg/usr/share/bash-completion/completions/ctq"
install -m 0644 contrib/completion/_ctq "$pkg/usr/share/zsh/vendor-completions/_ctq"
install -m 0644 contrib/completion/ctq.fish "$pkg/usr/share/fish/vendor_completions.d/ctq.fish"

sed 's|^ExecStart=/usr/local/bin/ctq |ExecStart=/usr/sbin/ctq |' examples/ctq-sync.service >"$pkg/lib/systemd/system/ctq-sync.service"
chmod 0644 "$pkg/lib/systemd/system/ctq-sync.service"
if ! grep -q '^ExecStart=/usr/sbin/ctq ' "$pkg/lib/systemd/system/ctq-sync.service"; then
	echo "$0: examples/ctq-sync.service: no ExecStart=/usr/local/bin/ctq to point at /usr/sbin/ctq" >&2
	exit 1
fi

install -m 0644 README.md SECURITY.md CHANGELOG.md "$doc/"
# The package's own changelog (a native package's changelog.gz), which
# points at CHANGELOG.md.
printf 'ctq (%s) unstable; urgency=medium\n\n  * Built from ctq'"'"'s source tree; what changed is in CHANGELOG.md.\n\n -- %s  %s\n' \
	"$version" "$maintainer" "$(LC_ALL=C date -u -R -d "$date")" | gzip -9n >"$doc/changelog.gz"
# Every file under examples/, subdirectories too (prometheus/, grafana/),
# executable or not as in the tree.
(cd examples && find . -type f) | sort | while read -r f; do
	mode=0644
	[ -x "examples/$f" ] && mode=0755
	install -D -m "$mode" "examples/$f" "$doc/examples/$f"
done
{
	echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
	echo "Upstream-Name: ctq"
	echo
	echo "Files: *"
	echo "Copyright: $(sed -n 's/^Copyright (c) //p' LICENSE | head -1)"
	echo "License: MIT"
	sed -e 's/^$/./' -e 's/^/ /' LICENSE
} >"$doc/copyright"
chmod 0644 "$doc/copyright"

# A Go binary built with CGO_ENABLED=0 is static on purpose: no libc to depend on.
echo "ctq: statically-linked-binary [usr/sbin/ctq]" >"$pkg/usr/share/lintian/overrides/ctq"
chmod 0644 "$pkg/usr/share/lintian/overrides/ctq"

# Reload systemd's units after install and removal (the unit is not enabled).
for script in postinst postrm; do
	cat >"$pkg/DEBIAN/$script" <<'SH'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
SH
	chmod 0755 "$pkg/DEBIAN/$script"
done

# Removing ctq gives conntrack and conntrackd back to conntrack-tools
# (ctq-dropin enable may have put ctq in their place).
cat >"$pkg/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = deconfigure ]; then
	/usr/sbin/ctq-dropin disable >/dev/null || true
fi
SH
chmod 0755 "$pkg/DEBIAN/prerm"

(cd "$pkg" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat >"$pkg/DEBIAN/control" <<EOT
Package: ctq
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Recommends: conntrack
Suggests: keepalived
Section: net
Priority: optional
Description: scriptable query shell for the Linux connection tracking tables
 ctq is one tool for what conntrack and conntrackd do, with a query
 language: list, count, get, delete, update, insert, flush and load the
 kernel's connection tracking tables with real boolean conditions, watch
 their events without silent loss, query saved tables without root, run
 a conntrackd-compatible state synchronisation node (FTFW, NOTRACK,
 ALARM) from an unchanged conntrackd.conf, account flows and serve
 Prometheus metrics.
EOT

deb=$out/ctq_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
