#!/bin/bash
# Issue #7 finding 1: keys rotate every rekey_after_ms whether or not data
# flows. With a rotation every second, an idle tunnel (heartbeats only) must
# still carry traffic both ways after several rotations, with no rejected
# packets and no new handshake.
REKEY_AFTER_MS=1000
. "$(dirname "$0")/lib.sh"
bring_up
ping_ok 2 || fail "no ping through the tunnel"
log "idle for 5 s (about five rotations each way)"
sleep 5
ping_ok 5 || fail "client -> server: no ping after an idle period"
ins ping -c 5 -i 0.2 -W 2 -q 10.77.0.2 > /dev/null ||
	fail "server -> client: no ping after an idle period"
log "idle for 4 s more"
sleep 4
ins ping -c 5 -i 0.2 -W 2 -q 10.77.0.2 > /dev/null ||
	fail "server -> client: no ping after a second idle period"
ping_ok 5 || fail "client -> server: no ping after a second idle period"
[ "$(python3 "$HERE/events.py" count "$T/client.jsonl" event_type=KeyRotated)" -ge 5 ] ||
	fail "the client's keys did not rotate"
[ "$(python3 "$HERE/events.py" count "$T/server.jsonl" event_type=KeyRotated)" -ge 5 ] ||
	fail "the server's keys did not rotate"
for side in client server; do
	"$JVPN" ctl -s "$T/$side.sock" metrics > "$T/$side.metrics"
	grep -q '^jvpn_rx_auth_failed_total{node="[^"]*"} 0$' "$T/$side.metrics" ||
		fail "$side: packets failed to open: $(grep rx_auth_failed "$T/$side.metrics")"
done
expect_absent client event_type=SecurityValidationFailed
expect_absent server event_type=SecurityValidationFailed
no_new_handshake
same_session
stop_daemons
verify_logs
log "PASS"
