#!/bin/bash
# Issue #7, findings 3 and 4: TCP connections that never handshake must not
# take away the TCP transport or the control socket, and one connection
# streaming junk frames must not starve the loop.
#   0. idle connections that never handshake are closed by the gateway
#      (pre-handshake idle limit), also while no session keeps timers busy.
#   1. 200 idle connections from 20 source addresses, kept at 200 (each one
#      the gateway closes is reopened): `ctl status` answers, and the client,
#      with UDP blocked, attaches over its TCP transport all the same.
#   2. one connection streams junk frames shaped like handshake
#      initiations as fast as it can: each
#      `ctl status` answers within 1 s, the tunnel still carries pings.
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }
  - { id: tcp-b, proto: tcp, remote: "10.201.2.2:443", bind_device: cb0 }'
export TRANSPORTS
. "$(dirname "$0")/lib.sh"
topology
# the attacker's addresses, next to the client's on path B (secondary: the
# client's own connections keep 10.201.2.1)
SRCS=""
for i in $(seq 10 29); do
	inc ip addr add "10.201.2.$i/24" dev cb0
	SRCS="$SRCS 10.201.2.$i"
done
inc nft add rule inet jvtest out meta l4proto udp drop
inc nft add rule inet jvtest in meta l4proto udp drop
write_configs

status_ok() {   # status_ok SECONDS: the server's control socket answers
	timeout "$1" "$JVPN" ctl -s "$T/server.sock" status > "$T/status.out" 2>&1
}

( cd "$T" && exec ip netns exec "$S" "$JVPN" server -c "$T/server.yaml" ) \
	> "$T/server.log" 2>&1 &
PIDS="$PIDS $!"
SERVER_PID=$!
wait_for 5 "[ -S '$T/server.sock' ]" || fail "server did not start"

# 8: within the per-source bound, so only the idle limit closes them
log "phase 0: idle connections are closed without a handshake, no session yet"
inc python3 "$HERE/tcpflood.py" idle 10.201.2.2 443 8 10 > "$T/idle.log" 2>&1 ||
	fail "idle connections: $(cat "$T/idle.log")"
grep -qx "closed 8 of 8" "$T/idle.log" ||
	fail "idle connections not closed by the gateway: $(cat "$T/idle.log")"

log "phase 1: 200 idle TCP connections, kept open"
# shellcheck disable=SC2086
inc python3 "$HERE/tcpflood.py" hold 10.201.2.2 443 200 20 $SRCS \
	> "$T/flood.log" 2>&1 &
FLOOD_PID=$!
PIDS="$PIDS $!"
wait_for 15 "grep -q ready '$T/flood.log'" || fail "the flood did not start: $(cat "$T/flood.log")"
sleep 1
status_ok 3 || fail "ctl status did not answer under 200 idle connections: $(cat "$T/status.out")"
log "ctl status answers"

( cd "$T" && exec ip netns exec "$C" "$JVPN" client -c "$T/client.yaml" ) \
	> "$T/client.log" 2>&1 &
PIDS="$PIDS $!"
CLIENT_PID=$!
wait_attached 15
has client event_type=SessionStateChange new_state=ATTACHED transport_id=tcp-b ||
	has client event_type=TransportSwitch new_transport=tcp-b ||
	fail "the session is not on tcp-b"
ping_ok 3 || fail "no ping over TCP under the flood"
status_ok 3 || fail "ctl status did not answer after the client attached"
# the session outlives the pre-handshake idle limit (5 s): it is established
sleep 6
ping_ok 3 || fail "no ping over TCP 6 s later under the flood"
wait "$FLOOD_PID" || true
log "flood: $(tail -n 1 "$T/flood.log")"

log "phase 2: one connection streaming junk frames"
inc python3 "$HERE/tcpflood.py" junk 10.201.2.2 443 6 > "$T/junk.log" 2>&1 &
JUNK_PID=$!
PIDS="$PIDS $!"
sleep 1
for i in 1 2 3 4 5 6 7 8; do
	start=$(date +%s%N)
	status_ok 1 || fail "ctl status $i did not answer within 1 s under junk: $(cat "$T/status.out")"
	log "ctl status $i: $(( ($(date +%s%N) - start) / 1000000 )) ms"
	sleep 0.3
done
wait "$JUNK_PID" || true
log "junk: $(cat "$T/junk.log")"
ping_ok 3 || fail "no ping after the junk stream"

ping_ok 3 || fail "no ping at the end"
status_ok 3 || fail "ctl status at the end"
same_session
stop_daemons
verify_logs
log "PASS"
