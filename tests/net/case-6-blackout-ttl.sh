#!/bin/bash
# Failure matrix 6 and 1.2: every path goes dark. The session goes
# ATTACHED -> VOLATILE -> DEGRADED, and after transport_lost_ttl_ms both
# ends terminate it explicitly (transport_ttl_exceeded); the client, with
# on_terminated: exit, exits.
TRANSPORT_LOST_TTL_MS=5000
export TRANSPORT_LOST_TTL_MS
. "$(dirname "$0")/lib.sh"
topology
write_configs
start_daemons
wait_attached
log "blackout on every path"
for dev in ca0 cb0; do
	inc nft add rule inet jvtest out oifname $dev drop
	inc nft add rule inet jvtest in iifname $dev drop
done
wait_for 15 "has client event_type=SessionTerminated reason_code=transport_ttl_exceeded" ||
	fail "the client did not terminate"
wait_for 15 "has server event_type=SessionTerminated reason_code=transport_ttl_exceeded" ||
	fail "the server did not terminate"
wait_for 5 "! kill -0 $CLIENT_PID 2>/dev/null" || fail "the client did not exit"
expect_seq client \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=VOLATILE" \
	"event_type=SessionStateChange,previous_state=VOLATILE,new_state=DEGRADED" \
	"event_type=SessionStateChange,previous_state=DEGRADED,new_state=TERMINATED,reason_code=transport_ttl_exceeded" \
	"event_type=SessionTerminated,reason_code=transport_ttl_exceeded"
expect_seq server \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=VOLATILE" \
	"event_type=SessionStateChange,new_state=TERMINATED,reason_code=transport_ttl_exceeded"
stop_daemons
verify_logs
log "PASS"
