#!/bin/sh
# `make deb` builds a package that `dpkg -i` installs and that starts: the
# binary runs from /usr/bin, the man pages and the units are where Debian
# looks, the units are neither enabled nor started, the installed binary
# runs a gateway, and `dpkg --purge` removes it all again.
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

# it starts cleanly: the installed binary as the unit runs it (ExecStart),
# a gateway in a namespace of this test's own, answers on its control
# socket, and stops with status 0 on SIGTERM
ns=jvdeb$$
ip netns add "$ns" || fail "ip netns add"
trap 'ip netns del "$ns" 2> /dev/null; dpkg --purge jvpn > /dev/null 2>&1; rm -rf "$out"' EXIT
ip -n "$ns" link set lo up
(umask 077 && /usr/bin/jvpn genkey > "$out/gw.key") || fail "genkey"
cat > "$out/gw.yaml" <<CFG
role: server
node_id: gw-deb
private_key_file: gw.key
listen:
  - { id: udp-51820, proto: udp, address: "127.0.0.1:51820" }
tun: { name: jvdeb0, address: 10.77.0.1/24 }
peers:
  - { name: laptop, public_key: "$(/usr/bin/jvpn genkey | /usr/bin/jvpn pubkey)", allowed_ips: [10.77.0.2/32] }
audit: { path: gw.jsonl }
control_socket: $out/gw.sock
CFG
ip netns exec "$ns" /usr/bin/jvpn server -c "$out/gw.yaml" > "$out/gw.log" 2>&1 &
pid=$!
i=0
until /usr/bin/jvpn ctl -s "$out/gw.sock" status > "$out/status" 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] && kill -0 $pid 2> /dev/null ||
		fail "the installed gateway did not start: $(cat "$out/gw.log")"
	sleep 0.1
done
kill -TERM $pid
wait $pid || fail "the installed gateway exited $? on SIGTERM: $(cat "$out/gw.log")"
grep -q '^node_id  *gw-deb' "$out/status" || fail "ctl status: $(cat "$out/status")"
ip netns del "$ns"

dpkg --purge jvpn > "$out/purge.log" 2>&1 || { cat "$out/purge.log"; fail "dpkg --purge"; }
[ -e /usr/bin/jvpn ] && fail "/usr/bin/jvpn left after purge"
echo "ok: $(basename "$deb") installs, starts a gateway, stops it and purges"
