#!/bin/sh
# `make deb` builds a package that `dpkg -i` installs: the binary runs from
# /usr/bin, the man pages and the units are where Debian looks, the units
# are neither enabled nor started, and `dpkg --purge` removes it all again.
# Root only (skips otherwise), and skips when a jvpn package is already
# installed: this test does not replace or remove someone's install.
# Usage: deb.sh SOURCE_DIR
set -u
src=$1
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg -i)"; exit 77; }
if dpkg-query -W -f='${Status}' jvpn 2>/dev/null | grep -q installed; then
	echo "SKIP: a jvpn package is installed already; not touching it"
	exit 77
fi
command -v dpkg-buildpackage > /dev/null || {
	echo "SKIP: no dpkg-buildpackage (apt-get install debhelper dpkg-dev fakeroot)"
	exit 77
}
out=$(mktemp -d /tmp/jvpn-deb.XXXXXX)
trap 'dpkg --purge jvpn > /dev/null 2>&1; rm -rf "$out"' EXIT

sh "$src/scripts/deb.sh" "$out" > "$out/make-deb.log" 2>&1 ||
	{ tail -20 "$out/make-deb.log"; fail "make deb"; }
deb=$(ls "$out"/jvpn_*.deb) || fail "no .deb"
dpkg -i "$deb" > "$out/dpkg.log" 2>&1 || { cat "$out/dpkg.log"; fail "dpkg -i"; }

/usr/bin/jvpn --help > /dev/null || fail "/usr/bin/jvpn --help"
/usr/bin/jvpn genkey > /dev/null || fail "/usr/bin/jvpn genkey"
for f in /usr/bin/jvpn /lib/systemd/system/jvpn-server@.service \
	/lib/systemd/system/jvpn-client@.service /etc/logrotate.d/jvpn \
	/usr/share/man/man8/jvpn.8.gz /usr/share/man/man5/jvpn.yaml.5.gz \
	/usr/share/man/man5/jvpn-policy.5.gz; do
	dpkg -S "$f" > /dev/null 2>&1 || fail "$f is not in the package"
	[ -e "$f" ] || fail "$f not installed"
done
# templates: nothing enabled, nothing running
ls /etc/systemd/system/multi-user.target.wants/jvpn* > /dev/null 2>&1 &&
	fail "a unit was enabled"
dpkg --purge jvpn > "$out/purge.log" 2>&1 || { cat "$out/purge.log"; fail "dpkg --purge"; }
[ -e /usr/bin/jvpn ] && fail "/usr/bin/jvpn left after purge"
echo "ok: $(basename "$deb") installs, runs and purges"
