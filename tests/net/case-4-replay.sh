#!/bin/bash
# Failure matrix 4, replay: a reattach request is captured on the wire
# (tcpdump on the gateway's path B) and sent again from the client's
# namespace, as an attacker on the path would. The gateway refuses it
# (SecurityReplayDetected), the binding does not move, no state changes,
# and the tunnel keeps working.
. "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || skip "needs tcpdump"
topology
write_configs
start_daemons
wait_attached
stream_start 10
ip netns exec "$S" tcpdump -i sb0 -U -w "$T/b.pcap" udp port 51820 \
	> "$T/tcpdump.log" 2>&1 &
DUMP=$!
PIDS="$PIDS $DUMP"
sleep 1
log "cutting path A: the client reattaches on B"
inc ip link set ca0 down
wait_for 5 "has server event_type=TransportSwitch new_transport=udp-b" ||
	fail "no switch to udp-b"
sleep 1
kill -TERM $DUMP
wait_for 5 "! kill -0 $DUMP 2>/dev/null" || fail "tcpdump did not stop"
python3 "$HERE/events.py" reattach "$T/b.pcap" "$T/req.bin" ||
	fail "no reattach request captured"
before=$(wc -l < "$T/server.jsonl")
switches=$(python3 "$HERE/events.py" count "$T/server.jsonl" event_type=TransportSwitch)
log "replaying the captured reattach request from another port"
inc python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.201.2.1", 40000))
data = open(sys.argv[1], "rb").read()
for _ in range(3):
    s.sendto(data, ("10.201.2.2", 51820))
' "$T/req.bin"
wait_for 5 "has server event_type=SecurityReplayDetected reason_code=replay_detected" ||
	fail "the replay was not detected"
sleep 1
ping_ok 3 || fail "no ping after the replay"
stream_check 40
[ "$(python3 "$HERE/events.py" count "$T/server.jsonl" event_type=TransportSwitch)" = "$switches" ] ||
	fail "the replay moved the binding"
tail -n +"$((before + 1))" "$T/server.jsonl" > "$T/after.jsonl"
if python3 "$HERE/events.py" has "$T/after.jsonl" event_type=SessionStateChange; then
	fail "the replay changed the session's state"
fi
"$JVPN" ctl -s "$T/server.sock" sessions --json | grep -q '"transport":"udp-b"' ||
	fail "the binding is no longer udp-b"
same_session
stop_daemons
verify_logs
log "PASS"
