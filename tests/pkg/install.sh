#!/bin/sh
# `meson install --destdir` into a temporary directory installs exactly the
# files README.md lists under "Installed files" (with the build's prefix in
# place of /usr/local), the units start the installed binary, and
# `systemd-analyze verify` accepts both units (skipped without it).
# Usage: install.sh BUILD_DIR SOURCE_DIR man|noman
set -u
build=$1 src=$2 man=$3
tmp=$(mktemp -d /tmp/jvpn-install.XXXXXX)
# meson install rewrites the log `make uninstall` reads: keep the real one
log=$build/meson-logs/install-log.txt
[ -f "$log" ] && cp "$log" "$tmp/install-log.txt"
trap '[ -f "$tmp/install-log.txt" ] && cp "$tmp/install-log.txt" "$log"; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

prefix=$(python3 -c '
import json, sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == "prefix":
        print(o["value"])' "$build/meson-info/intro-buildoptions.json") ||
	fail "cannot read the build's prefix"
meson install -C "$build" --destdir "$tmp/root" --no-rebuild \
	>"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "meson install"; }

(cd "$tmp/root" && find . -type f -o -type l) | sed 's|^\.||' | sort >"$tmp/got"
# the first fenced block after the heading "### Installed files"
awk '/^### Installed files/ { h = 1; next }
     h && /^```/ { if (b) exit; b = 1; next }
     b { print }' "$src/README.md" |
	sed "s|^/usr/local/|$prefix/|" >"$tmp/want.all"
[ -s "$tmp/want.all" ] || fail "README.md has no \"Installed files\" list"
if [ "$man" = man ]; then
	sort "$tmp/want.all" >"$tmp/want"
else
	echo "note: no man pages in this build (scdoc missing at setup)"
	grep -v '/share/man/' "$tmp/want.all" | sort >"$tmp/want"
fi
if ! diff -u "$tmp/want" "$tmp/got"; then
	fail "installed files differ from README.md (- listed, + installed)"
fi
echo "ok: $(wc -l <"$tmp/got") files, as README.md lists them"

units=$(find "$tmp/root" -name 'jvpn-*@.service' | sort)
[ "$(echo "$units" | wc -l)" = 2 ] || fail "expected two units, got: $units"
for u in $units; do
	role=$(basename "$u" | sed 's/^jvpn-\(.*\)@.service$/\1/')
	grep -qx "ExecStart=$prefix/bin/jvpn $role -c /etc/jvpn/%i.yaml" "$u" ||
		fail "$(basename "$u"): ExecStart is not $prefix/bin/jvpn $role"
done

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not installed (the file list was checked)"
	exit 0
fi
# verify wants the ExecStart binary to exist: the copies start the one just
# installed under the destdir, and man: links resolve in its man pages
mkdir "$tmp/units"
for u in $units; do
	sed "s|^ExecStart=$prefix/|ExecStart=$tmp/root$prefix/|" "$u" \
		>"$tmp/units/$(basename "$u")"
done
if [ "$man" = man ]; then
	manopt="" && export MANPATH="$tmp/root$prefix/share/man"
else
	manopt=--man=no
fi
# shellcheck disable=SC2086
out=$(systemd-analyze verify $manopt "$tmp/units/jvpn-server@gw-1.service" \
	"$tmp/units/jvpn-client@laptop.service" 2>&1)
rc=$?
[ $rc = 0 ] && [ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify ($rc)"; }
echo "ok: systemd-analyze verify: both units"
