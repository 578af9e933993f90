#!/bin/sh
# `make deb`: builds the Debian package of this tree (debian/) out of the
# source tree, in OUT/src, with dpkg-buildpackage -us -uc -b; the .deb
# (and .buildinfo, .changes) land in OUT. Usage: deb.sh OUT
set -eu
cd "$(dirname "$0")/.."
out=$(mkdir -p "$1" && cd "$1" && pwd)
src=$out/src/jvpn
rm -rf "$out/src" "$out"/jvpn_* "$out"/jvpn-dbgsym_*
mkdir -p "$src"
# the working tree as it is, without builds or git metadata
tar --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
(cd "$src" && nice dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log"
	echo "jvpn: make deb failed (log: $out/build.log)" >&2
	exit 1
}
mv "$out"/src/jvpn_* "$out"/src/jvpn-dbgsym_* "$out"/ 2>/dev/null || true
rm -rf "$out/src"
ls "$out"/jvpn_*.deb
