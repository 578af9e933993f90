#!/bin/bash
# Failure matrix 1.1, cut by `ip link set down`: the client's rtnetlink
# monitor reports link_down at once, the session moves to path B with the
# same session_id and no new handshake; ping and an inner TCP stream keep
# working.
. "$(dirname "$0")/lib.sh"
bring_up
ping_ok 3 || fail "no ping through the tunnel"
stream_start 8
sleep 2
cut_path_a 5 down
ping_ok 3 || fail "no ping after the switch"
stream_check 40
expect_seq client \
	"event_type=TransportDead,transport_id=udp-a,reason_code=link_down" \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=VOLATILE,reason_code=link_down" \
	"event_type=SessionStateChange,previous_state=VOLATILE,new_state=RECOVERING" \
	"event_type=ReattachResult,status=SUCCESS,candidate_transport=udp-b" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=udp-b" \
	"event_type=SessionStateChange,previous_state=RECOVERING,new_state=ATTACHED"
expect_seq server \
	"event_type=ReattachResult,status=SUCCESS,candidate_transport=udp-b" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=udp-b"
no_new_handshake
same_session
stop_daemons
verify_logs
log "PASS"
