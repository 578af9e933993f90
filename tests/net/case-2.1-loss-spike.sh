#!/bin/bash
# Failure matrix 2.1: a loss spike on path A (nftables numgen random drops
# 40% each way) while path B is clean: ATTACHED -> VOLATILE, switch,
# RECOVERING -> ATTACHED, no renegotiation, the inner stream survives.
. "$(dirname "$0")/lib.sh"
topology
write_configs
start_daemons
wait_attached
stream_start 10
sleep 2
log "40% loss each way on path A"
inc nft add rule inet jvtest out oifname ca0 numgen random mod 100 '<' 40 drop
inc nft add rule inet jvtest in iifname ca0 numgen random mod 100 '<' 40 drop
wait_for 15 "has client event_type=TransportSwitch new_transport=udp-b" ||
	fail "no switch to udp-b"
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
[ "$(python3 "$HERE/events.py" count "$T/client.jsonl" event_type=SessionCreated)" = 1 ] ||
	fail "a new handshake happened"
same_session
stop_daemons
verify_logs
log "PASS"
