#!/bin/bash
# Failure matrix 6 within the TTL: every path dark for 7 s (longer than
# the 4 s recovery window), then back. The session waits in DEGRADED and
# returns with the same session_id; the inner TCP stream rides it out.
. "$(dirname "$0")/lib.sh"
topology
write_configs
start_daemons
wait_attached
stream_start 14
sleep 2
log "blackout on every path for 7 s"
for dev in ca0 cb0; do
	inc nft add rule inet jvtest out oifname $dev drop
	inc nft add rule inet jvtest in iifname $dev drop
done
sleep 7
inc nft flush chain inet jvtest out
inc nft flush chain inet jvtest in
log "paths back"
stream_check 60
ping_ok 3 || fail "no ping after the blackout"
expect_seq client \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=VOLATILE" \
	"event_type=SessionStateChange,new_state=DEGRADED" \
	"event_type=SessionStateChange,previous_state=DEGRADED,new_state=RECOVERING" \
	"event_type=SessionStateChange,previous_state=RECOVERING,new_state=ATTACHED"
expect_absent client event_type=SessionTerminated
same_session
stop_daemons
verify_logs
log "PASS"
