#!/bin/bash
# CONTRACT section 8, full tunnel as wg-quick does it: the client's
# `routes: [0.0.0.0/0, ::/0]` sends everything into the tunnel; a third
# namespace plays the internet behind the gateway. The outer sockets are
# marked (udp-a bound to ca0, udp-b and tcp-b unbound) and keep their own
# uplinks, so failover works: path A cut silently, and later by link
# down, the session moves to B and a TCP stream to the internet host
# continues. On exit the client's rules and routes are exactly as before
# it started; after kill -9 the next start removes the leftovers and
# nothing is there twice.
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }
  - { id: udp-b, proto: udp, remote: "10.201.2.2:51820" }
  - { id: tcp-b, proto: tcp, remote: "10.201.2.2:443" }'
export TRANSPORTS
# both on path B: which one takes the session is the RTTs' call
CUT_TO="udp-b tcp-b"
. "$(dirname "$0")/lib.sh"

I=jvi$ID
NET=203.0.113.2
ini() { ip netns exec "$I" "$@"; }
cleanup_all() {
	ip netns del "$I" 2>/dev/null
	cleanup
}
trap cleanup_all EXIT

topology
# the internet: 203.0.113.0/24 behind the gateway, which forwards; the
# host there routes back through it
ip netns add "$I"
ini ip link set lo up
ip link add si0 netns "$S" type veth peer name ii0 netns "$I"
ins ip addr add 203.0.113.1/24 dev si0
ini ip addr add "$NET/24" dev ii0
ins ip link set si0 up
ini ip link set ii0 up
ini ip route add default via 203.0.113.1
ins sysctl -qw net.ipv4.ip_forward=1
write_configs
echo 'routes: [0.0.0.0/0, "::/0"]' >> "$T/client.yaml"
"$JVPN" config check "$T/client.yaml" | grep -qx 'routes: \[0.0.0.0/0, ::/0\]' ||
	fail "config check does not show the routes"

# what `ip` shows in the client's namespace, sorted where the kernel may
# list the same entries in another order after a link went down and up
state() {
	{
		inc ip rule
		echo ---
		inc ip -6 rule
		echo ---
		inc ip route show table all
		echo ---
		inc ip -6 route show table all
	} 2>&1
}
# the IPv6 link-local addresses settle after DAD
settled() {
	[ -z "$(inc ip -6 addr show tentative)" ] &&
		[ "$(state)" = "$(sleep 0.5; state)" ]
}
wait_for 10 settled || fail "client namespace never settled"
state > "$T/before.txt"
before_sorted=$(sort "$T/before.txt")

start_client() {
	( cd "$T" && exec ip netns exec "$C" "$JVPN" client -c "$T/client.yaml" ) \
		>> "$T/client.log" 2>&1 &
	CLIENT_PID=$!
	PIDS="$PIDS $!"
}
# the audit log of a run that ended moves aside, so that `has client`
# speaks of the current one
stop_client() { # SIGNAL
	local rc=0
	kill -"$1" "$CLIENT_PID"
	wait "$CLIENT_PID" || rc=$?
	if [ "$1" = TERM ] && [ $rc != 0 ]; then
		fail "the client exited with status $rc"
	fi
	RUN=$((RUN + 1))
	mv "$T/client.jsonl" "$T/client-$RUN.jsonl"
}
RUN=0

ping_net() {
	inc ping -c "${1:-3}" -i 0.2 -W 2 -q "$NET" > /dev/null
}
stream_net_start() {
	rm -f "$T/stream.result"
	ini python3 "$HERE/stream.py" serve "$NET" 5001 "$T/stream.result" \
		> "$T/stream-server.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 5 "ini ss -ltn 2>/dev/null | grep -q $NET:5001" ||
		fail "stream server did not start"
	inc python3 "$HERE/stream.py" send "$NET" 5001 "$1" \
		> "$T/stream-client.log" 2>&1 &
	STREAM_PID=$!
	PIDS="$PIDS $!"
}

# nothing of jvpn's twice: one rule of each kind per family, no line twice
once_each() {
	local twice
	for v in "" -6; do
		for what in rule "route show table all"; do
			twice=$(inc ip $v $what | sort | uniq -d)
			[ -z "$twice" ] || fail "ip $v $what: listed twice: $twice"
		done
		[ "$(inc ip $v rule | grep -c 'not from all fwmark 0xca6d lookup 51821')" = 1 ] ||
			fail "ip $v rule: the fwmark rule is not there once"
		[ "$(inc ip $v rule | grep -c 'lookup main suppress_prefixlength 0')" = 1 ] ||
			fail "ip $v rule: the suppress rule is not there once"
		[ "$(inc ip $v route show table 51821 | grep -c '^default dev jvc0')" = 1 ] ||
			fail "ip $v route: the default route is not in table 51821 once"
	done
}

same_as_before() {
	state > "$T/after.txt"
	if [ "${1:-}" = sorted ]; then
		wait_for 5 "[ \"\$(state | sort)\" = \"\$before_sorted\" ]" || {
			diff "$T/before.txt" "$T/after.txt" >&2
			fail "rules or routes differ from before the start"
		}
	else
		diff "$T/before.txt" "$T/after.txt" >&2 ||
			fail "rules or routes differ from before the start"
	fi
}

log "run 1: full tunnel, path A cut silently"
start_server
start_client
wait_attached
once_each
inc ip route get "$NET" | grep -q 'dev jvc0 table 51821' ||
	fail "the default route does not go through the tunnel: $(inc ip route get $NET)"
inc ip route get 10.201.2.2 mark 51821 | grep -q 'dev cb0' ||
	fail "marked packets do not take the uplink"
# every outer socket carries the mark; the TCP transport got through
wait_for 5 "inc ss -tnH state established dst 10.201.2.2:443 | grep -q ." ||
	fail "tcp-b did not connect: its SYN went into the tunnel?"
[ -z "$(inc ss -uantpeH | grep '"jvpn"' | grep -v 'fwmark:0xca6d')" ] ||
	fail "an outer socket without the mark: $(inc ss -uantpeH | grep jvpn)"
ping_net 3 || fail "no ping to the internet host"
stream_net_start 10
sleep 2
cut_path_a 5 drop
ping_net 3 || fail "no ping to the internet host after the switch"
stream_check 40
stop_client TERM
grep -q 'removed .* a previous run left' "$T/client.log" &&
	fail "run 1 found leftovers"
same_as_before

log "run 2: path A down, then kill -9"
inc nft flush chain inet jvtest out
inc nft flush chain inet jvtest in
start_client
wait_for 10 "has client event_type=SessionStateChange new_state=ATTACHED transport_id=udp-a 2>/dev/null" ||
	fail "run 2 did not attach over udp-a"
once_each
ping_net 3 || fail "run 2: no ping to the internet host"
stream_net_start 10
sleep 2
cut_path_a 5 down
ping_net 3 || fail "run 2: no ping after the switch"
stream_check 40
stop_client KILL
[ "$(inc ip rule | grep -c 0xca6d)" = 2 ] || fail "kill -9 left no rule to clean"
inc ip link set ca0 up
wait_for 10 settled || fail "client namespace never settled"

log "run 3: a new start after kill -9"
start_client
wait_for 10 "has client event_type=SessionStateChange new_state=ATTACHED 2>/dev/null" ||
	fail "run 3 did not attach"
grep -q 'removed 4 rules and routes a previous run left (fwmark 51821)' "$T/client.log" ||
	fail "run 3 did not say what it removed"
once_each
ping_net 3 || fail "run 3: no ping to the internet host"
stop_client TERM
same_as_before sorted

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "the server exited with status $?"
if grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T"/*.log >&2; then
	fail "sanitizer report"
fi
for f in "$T"/client-*.jsonl; do
	cp "$f" "$T/client.jsonl"
	verify_logs
done

# The picture an operator would paste into an incident report, of run 1:
# both nodes, the cut (udp-a declared dead) and the switch to path B, drawn
# by a headless browser.
"$JVPN" audit timeline --svg "$T/client-1.jsonl" "$T/server.jsonl" \
	> "$T/run1.svg" || fail "audit timeline --svg exited $?"
for want in 'gw-1' 'laptop' 'udp-a → (udp-b|tcp-b) \(' 'TransportDead'; do
	grep -qE "$want" "$T/run1.svg" || fail "the SVG does not show '$want'"
done
mkdir -p "$T/svg"
sh "$(dirname "$0")/../svg_render.sh" "$T/run1.svg" "$T/svg" >&2
case $? in
0) ;;
77) log "no chromium: the SVG was checked but not rendered" ;;
*) fail "the SVG does not render" ;;
esac
log "PASS"
