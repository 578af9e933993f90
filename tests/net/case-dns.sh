#!/bin/bash
# DNS (issue #9 item 3, CONTRACT section 8): a client with `dns:` set to
# the gateway's tunnel address resolves names through the tunnel's
# resolver while it runs, and through the old one after it exits. The
# client namespace's resolv.conf is /etc/netns/$C/resolv.conf (`ip netns
# exec` bind-mounts it over /etc/resolv.conf), so the client takes the
# "file" method and must write it in place. Then the crash: kill -9 leaves
# the tunnel's file behind; the next start puts the old one back first,
# and its clean stop leaves the old file, byte for byte.
. "$(dirname "$0")/lib.sh"
need_root
command -v getent > /dev/null || skip "needs getent"

NAME=svc.jvpn.test
TUNNEL_IP=10.77.0.99     # what the tunnel's resolver answers
OLD_IP=10.201.1.99       # what the old resolver answers

NETNS_DIR=/etc/netns/$C
made_netns=""
[ -d /etc/netns ] || made_netns=1
host_sum=$(sha256sum /etc/resolv.conf 2>/dev/null || true)
dns_cleanup() {
	cleanup
	rm -f "$NETNS_DIR/resolv.conf"
	rmdir "$NETNS_DIR" 2>/dev/null
	[ -z "$made_netns" ] || rmdir /etc/netns 2>/dev/null
	true
}
trap dns_cleanup EXIT

topology
write_configs
printf 'dns: [10.77.0.1]\ndns_search: [jvpn.test]\n' >> "$T/client.yaml"
"$JVPN" config check "$T/client.yaml" > "$T/check.txt" || fail "config check"
grep -q '^dns: \["10.77.0.1"\]$' "$T/check.txt" || fail "config check: $(cat "$T/check.txt")"

# the namespace's own resolv.conf: the old resolver, on path A's server
# side (reachable outside the tunnel)
mkdir -p "$NETNS_DIR"
printf '# the client namespace before jvpn\nnameserver 10.201.1.2\noptions timeout:1 attempts:2\n' \
	> "$NETNS_DIR/resolv.conf"
cp "$NETNS_DIR/resolv.conf" "$T/resolv.orig"
inc cmp -s /etc/resolv.conf "$T/resolv.orig" ||
	skip "ip netns exec does not bind-mount /etc/netns/NS/resolv.conf"

ins python3 "$HERE/dnsd.py" 10.201.1.2 "$NAME" "$OLD_IP" "$T/dns-old.log" \
	> "$T/dnsd-old.log" 2>&1 &
PIDS="$PIDS $!"
ins python3 "$HERE/dnsd.py" 10.77.0.1 "$NAME" "$TUNNEL_IP" "$T/dns-tunnel.log" \
	> "$T/dnsd-tunnel.log" 2>&1 &
PIDS="$PIDS $!"

# resolve NAME: the first IPv4 address the client namespace gets
resolve() { inc getent ahostsv4 "$1" 2>/dev/null | awk 'NR == 1 { print $1 }'; }
wait_for 5 '[ "$(resolve $NAME)" = $OLD_IP ]' ||
	fail "the old resolver does not answer: $(resolve $NAME)"

attached() { python3 "$HERE/events.py" count "$T/client.jsonl" event_type=SessionStateChange new_state=ATTACHED 2>/dev/null || echo 0; }
start_client() {
	local before
	before=$(attached)
	( cd "$T" && exec ip netns exec "$C" "$JVPN" client -c "$T/client.yaml" ) \
		>> "$T/client.log" 2>&1 &
	PIDS="$PIDS $!"
	CLIENT_PID=$!
	wait_for 10 "[ \$(attached) -gt $before ]" || fail "the session did not come up"
}
stop_client() {
	local rc=0
	kill -TERM "$CLIENT_PID"
	wait "$CLIENT_PID" || rc=$?
	[ $rc = 0 ] || fail "the client exited with status $rc"
}
# the tunnel's resolver is in charge: the file, and who answers
tunnel_dns() {
	grep -qx 'nameserver 10.77.0.1' "$NETNS_DIR/resolv.conf" &&
		grep -qx 'search jvpn.test' "$NETNS_DIR/resolv.conf" &&
		grep -qx 'options timeout:1 attempts:2' "$NETNS_DIR/resolv.conf" ||
		fail "resolv.conf while up: $(cat "$NETNS_DIR/resolv.conf")"
	! grep -q 10.201.1.2 "$NETNS_DIR/resolv.conf" || fail "the old resolver is still listed"
	[ "$(resolve $NAME)" = $TUNNEL_IP ] || fail "while up, $NAME is $(resolve $NAME)"
	# the search domain: the short name too
	[ "$(resolve svc)" = $TUNNEL_IP ] || fail "while up, svc is $(resolve svc)"
	grep -qx "$NAME 1" "$T/dns-tunnel.log" || fail "the tunnel's resolver was not asked"
}
old_dns() {
	cmp -s "$NETNS_DIR/resolv.conf" "$T/resolv.orig" ||
		fail "resolv.conf not restored: $(cat "$NETNS_DIR/resolv.conf")"
	[ ! -e "$T/client.sock.dns" ] || fail "the state file is left: $(cat "$T/client.sock.dns")"
	[ "$(resolve $NAME)" = $OLD_IP ] || fail "after exit, $NAME is $(resolve $NAME)"
}

start_server
start_client
log "up: resolv.conf is the tunnel's"
tunnel_dns
grep -q '^jvpn: dns: 10.77.0.1 via file (/etc/resolv.conf)$' "$T/client.log" ||
	fail "the client did not say how it set DNS"
grep -q '^method file$' "$T/client.sock.dns" || fail "no state file"
stop_client
log "stopped: the old resolv.conf is back"
old_dns
grep -q '^jvpn: dns: /etc/resolv.conf restored$' "$T/client.log" || fail "no restore said"

log "crash: kill -9, start again, stop"
start_client
tunnel_dns
kill -KILL "$CLIENT_PID"
wait "$CLIENT_PID" 2> /dev/null || true
grep -qx 'nameserver 10.77.0.1' "$NETNS_DIR/resolv.conf" || fail "a killed client cannot restore"
grep -q '^method file$' "$T/client.sock.dns" || fail "no state file after kill -9"
start_client
grep -q '^jvpn: dns: left by a previous run (.*/client.sock.dns): /etc/resolv.conf restored$' \
	"$T/client.log" || fail "the restart did not restore first: $(grep dns: "$T/client.log")"
tunnel_dns
stop_client
old_dns

[ "$(sha256sum /etc/resolv.conf 2>/dev/null || true)" = "$host_sum" ] ||
	fail "the host's /etc/resolv.conf changed"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "the server exited with status $?"
if grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T"/*.log >&2; then
	fail "sanitizer report"
fi
verify_logs
log "PASS"
