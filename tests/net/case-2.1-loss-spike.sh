#!/bin/bash
# Failure matrix 2.1: a loss spike on path A (nftables numgen random drops
# 40% each way) while path B is clean: ATTACHED -> VOLATILE, switch,
# RECOVERING -> ATTACHED, no renegotiation, the inner stream survives.
. "$(dirname "$0")/lib.sh"
bring_up
stream_start 10
sleep 2
cut_path_a 15 loss 40
stream_check 40
expect_seq client \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=VOLATILE" \
	"event_type=SessionStateChange,previous_state=VOLATILE,new_state=RECOVERING" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=udp-b" \
	"event_type=SessionStateChange,previous_state=RECOVERING,new_state=ATTACHED"
expect_seq server \
	"event_type=ReattachResult,status=SUCCESS,candidate_transport=udp-b" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=udp-b" \
	"event_type=SessionStateChange,previous_state=RECOVERING,new_state=ATTACHED"
no_new_handshake
same_session
stop_daemons
verify_logs
log "PASS"
