#!/bin/bash
# Failure matrix 1.1, cut silently: nftables drops everything on path A,
# the link stays up. The inner TCP stream is flowing, so the silence shows
# in the data (issue 11): the transport is declared dead with
# data_path_silent before the heartbeat timeout (1 s here), and the session
# moves to path B with the same session_id.
. "$(dirname "$0")/lib.sh"
bring_up
stream_start 10
sleep 2
cut_path_a 10 drop
ping_ok 3 || fail "no ping after the switch"
stream_check 40
expect_seq client \
	"event_type=TransportDead,transport_id=udp-a,reason_code=data_path_silent" \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=VOLATILE" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=udp-b" \
	"event_type=SessionStateChange,previous_state=RECOVERING,new_state=ATTACHED"
expect_absent client event_type=TransportDead reason_code=link_down
expect_seq server \
	"event_type=ReattachResult,status=SUCCESS,candidate_transport=udp-b" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=udp-b"
same_session
stop_daemons
verify_logs
log "PASS"
