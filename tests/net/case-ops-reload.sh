#!/bin/bash
# Operations (issue #9 item 6): a running gateway re-reads its
# configuration. A second peer is added to the file and `jvpn ctl reload`
# lets it attach while the first session carries on (same session_id); a
# reload that changes what needs a restart is refused by name and changes
# nothing; then the first peer is removed and SIGHUP ends its session
# (operator_terminated; the client is told). The on_up and on_down hooks
# run with their environment.
. "$(dirname "$0")/lib.sh"
topology
write_configs
umask 077
"$JVPN" genkey > "$T/phone.key"
umask 022
phone_pub=$("$JVPN" pubkey < "$T/phone.key")
spub=$("$JVPN" pubkey < "$T/server.key")
for h in up down; do
	printf '#!/bin/sh\nenv | grep ^JVPN_ | sort > %s/hook-%s.txt\n' "$T" "$h" > "$T/$h.sh"
	chmod 755 "$T/$h.sh"
done
printf 'on_up: up.sh\non_down: down.sh\n' >> "$T/server.yaml"
cat > "$T/phone.yaml" <<CFG
role: client
node_id: phone
private_key_file: phone.key
server_public_key: "$spub"
transports:
  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }
tun: { name: jvc1, address: 10.77.0.3/24, mtu: 1400 }
audit: { path: phone.jsonl }
control_socket: $T/phone.sock
on_terminated: exit
policy_file: policy.yaml
CFG
"$JVPN" config check "$T/server.yaml" > "$T/check.txt" || fail "config check"
grep -q 'name: laptop, allowed_ips: \[10.77.0.2/32\]' "$T/check.txt" ||
	fail "config check: $(cat "$T/check.txt")"
start_daemons
wait_attached
grep -q '^JVPN_ROLE=server$' "$T/hook-up.txt" && grep -q '^JVPN_TUN=jvs0$' "$T/hook-up.txt" &&
	grep -q '^JVPN_NODE_ID=gw-1$' "$T/hook-up.txt" ||
	fail "on_up: $(cat "$T/hook-up.txt" 2>&1)"
"$JVPN" ctl -s "$T/server.sock" sessions --json > "$T/s1.json" || fail "ctl sessions"
sid() { python3 -c "import json,sys; print(' '.join(s['session_id'] for s in json.load(open(sys.argv[1]))['sessions'] if s['peer'] == sys.argv[2] and s['state'] != 'TERMINATED'))" "$1" "$2"; }
laptop=$(sid "$T/s1.json" laptop)
[ -n "$laptop" ] || fail "no laptop session: $(cat "$T/s1.json")"

# a change that needs a restart: refused, by name, nothing changed
cp "$T/server.yaml" "$T/server.yaml.orig"
sed -i 's/mtu: 1400 }/mtu: 1380 }/' "$T/server.yaml"
"$JVPN" ctl -s "$T/server.sock" reload 2> "$T/refused.txt" && fail "a tun change was reloaded"
grep -q 'tun: changed; a restart is needed' "$T/refused.txt" || fail "reload: $(cat "$T/refused.txt")"
cp "$T/server.yaml.orig" "$T/server.yaml"

# phone added
sed -i "/^  - { name: laptop/a\\  - { name: phone, public_key: \"$phone_pub\", allowed_ips: [10.77.0.3/32] }" "$T/server.yaml"
"$JVPN" ctl -s "$T/server.sock" reload > "$T/reload.txt" || fail "ctl reload"
grep -q '^2 peers (1 added, 0 changed, 0 removed)' "$T/reload.txt" || fail "reload: $(cat "$T/reload.txt")"
( cd "$T" && exec ip netns exec "$C" "$JVPN" client -c "$T/phone.yaml" ) > "$T/phone.log" 2>&1 &
PIDS="$PIDS $!"
PHONE_PID=$!
wait_for 10 "has phone event_type=SessionStateChange new_state=ATTACHED 2>/dev/null" ||
	fail "the added peer did not attach"
inc ping -c 3 -i 0.2 -W 2 -q -I jvc1 10.77.0.1 > /dev/null || fail "no traffic from the added peer"
ping_ok || fail "no traffic from the first peer after the reload"
"$JVPN" ctl -s "$T/server.sock" sessions --json > "$T/s2.json" || fail "ctl sessions"
[ "$(sid "$T/s2.json" laptop)" = "$laptop" ] || fail "the laptop's session changed: $(cat "$T/s2.json")"
[ -n "$(sid "$T/s2.json" phone)" ] || fail "no phone session: $(cat "$T/s2.json")"
expect_absent client event_type=SessionTerminated

# laptop removed, by SIGHUP
sed -i '/^  - { name: laptop/d' "$T/server.yaml"
kill -HUP $SERVER_PID
wait_for 5 "has client event_type=SessionTerminated reason_code=peer_terminated 2>/dev/null" ||
	fail "the removed peer was not told"
has server event_type=SessionTerminated reason_code=operator_terminated peer=laptop ||
	fail "server: no operator_terminated for laptop"
grep -q 'reloaded .*1 peers (0 added, 0 changed, 1 removed)' "$T/server.log" ||
	fail "server log: $(tail -3 "$T/server.log")"
wait_for 5 "! kill -0 $CLIENT_PID 2>/dev/null" || fail "the removed client did not exit"
inc ping -c 2 -i 0.2 -W 2 -q -I jvc1 10.77.0.1 > /dev/null || fail "the phone lost its tunnel"
expect_absent phone event_type=SessionTerminated

kill -TERM $SERVER_PID $PHONE_PID
wait_for 5 "! kill -0 $SERVER_PID 2>/dev/null && ! kill -0 $PHONE_PID 2>/dev/null" ||
	fail "daemons did not stop"
grep -q '^JVPN_ROLE=server$' "$T/hook-down.txt" || fail "on_down: $(cat "$T/hook-down.txt" 2>&1)"
verify_logs
"$JVPN" audit verify --policy "$T/policy.yaml" "$T/phone.jsonl" > /dev/null || fail "audit verify: phone log"
log "PASS"
