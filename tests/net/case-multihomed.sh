#!/bin/bash
# Issue #7 finding 6: a gateway with several addresses, listening on
# 0.0.0.0. The client's UDP transports talk to addresses the gateway holds
# on its lo (10.250.0.1 over path A, 10.250.0.2 over path B), not to the
# addresses the kernel prefers as the source of a reply (10.201.x.2). The
# gateway must answer from the address each request came to: the session
# attaches over UDP (no fallback to TCP), carries ping and stays on UDP
# with no TransportDead. A datagram from any other source is dropped by
# the client, and said so on stderr. Cutting path A moves the session to
# udp-b, the gateway's second address.
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.250.0.1:51820", bind_device: ca0 }
  - { id: udp-b, proto: udp, remote: "10.250.0.2:51820", bind_device: cb0 }
  - { id: tcp-a, proto: tcp, remote: "10.201.1.2:443", bind_device: ca0 }'
export TRANSPORTS
. "$(dirname "$0")/lib.sh"
topology
ins ip addr add 10.250.0.1/32 dev lo
ins ip addr add 10.250.0.2/32 dev lo
inc ip route add 10.250.0.1/32 via 10.201.1.2 dev ca0
inc ip route add 10.250.0.2/32 via 10.201.2.2 dev cb0
# the premise: left to itself, the gateway answers from 10.201.x.2
for n in 1 2; do
	src=$(ins ip -o route get "10.201.$n.1" | sed -n 's/.* src \([0-9.]*\).*/\1/p')
	[ "$src" = "10.201.$n.2" ] || fail "the gateway's reply source to 10.201.$n.1 is '$src'"
done
write_configs
start_daemons
wait_attached 10
stay_on udp-a 6
expect_absent server event_type=TransportSwitch
"$JVPN" ctl -s "$T/client.sock" transports --json > "$T/transports.json"
python3 - "$T/transports.json" <<'PY' || fail "transports: $(cat "$T/transports.json")"
import json, sys
ts = {t["id"]: t for t in json.load(open(sys.argv[1]))["transports"]}
assert ts["udp-a"]["state"] == "active", ts["udp-a"]
for t in ("udp-a", "udp-b"):
    assert ts[t]["loss_ratio"] < 0.2, ts[t]
PY
grep -q 'dropped' "$T/client.log" && fail "the client dropped datagrams"
# the session's own socket (issue #10) sits on the address it came to
ins ss -Hun state established '( sport = :51820 )' | grep -q '10\.250\.0\.1:51820 *10\.201\.1\.1:' ||
	fail "no session socket on 10.250.0.1: $(ins ss -Hun state established)"

log "a stray datagram from 10.201.1.2:51821 to udp-a's socket"
port=$(inc ss -uanH | sed -n 's/.*%ca0:\([0-9]*\) .*/\1/p' | head -n 1)
[ -n "$port" ] || fail "no socket of udp-a: $(inc ss -uanH)"
ins python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.201.1.2", 51821))
for _ in range(3):
    s.sendto(b"x" * 40, ("10.201.1.1", int(sys.argv[1])))
' "$port"
wait_for 3 "grep -q 'jvpn: udp-a: dropped 1 datagram from 10.201.1.2:51821 (expected 10.250.0.1:51820)' '$T/client.log'" ||
	fail "the client did not log the stray datagram"
[ "$(grep -c dropped "$T/client.log")" = 1 ] ||
	fail "the drop log is not rate-limited"

cut_path_a 5 down
ping_ok 3 || fail "no ping over udp-b"
wait_for 5 "ins ss -Hun state established '( sport = :51820 )' | grep -q '10\.250\.0\.2:51820 *10\.201\.2\.1:'" ||
	fail "no session socket on 10.250.0.2: $(ins ss -Hun state established)"
expect_seq server \
	"event_type=ReattachResult,status=SUCCESS,candidate_transport=udp-b" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=udp-b"
expect_absent client event_type=TransportDead transport_id=udp-b
same_session
stop_daemons
verify_logs
log "PASS"
