#!/bin/bash
# Failure matrix 1.1, cut silently: nftables drops everything on path A,
# the link stays up. The inner TCP stream is flowing, so the silence shows
# in the data (issue 11): the transport is declared dead with
# data_path_silent before the heartbeat timeout (1 s here), and the session
# moves to path B with the same session_id. What the client sent into path
# A from a round trip before it fell silent is sent again on path B right
# after the reattach (switching.resend_max_bytes): its ReattachResult says
# how many. The inner TCP sender's retransmission timeouts and retransmitted
# segments are logged: 0 and 0 in seven of eight runs of the plain build on
# 2026-11-30 (one had 1 and 1), against 1 and 8 with RESEND_MAX_BYTES=0. Not
# asserted: the switch comes about 200 ms after the cut, close to Linux's
# minimum RTO, so a loaded machine or an ASan build may see one RTO.
. "$(dirname "$0")/lib.sh"
bring_up
stream_start 10
sleep 2
inc nstat -n > /dev/null 2>&1 || true
cut_path_a 10 drop
ping_ok 3 || fail "no ping after the switch"
stream_check 40
log "inner TCP sender: $(inc nstat -az TcpExtTCPTimeouts TcpRetransSegs 2>/dev/null |
	awk '$1 ~ /^Tcp/ { printf "%s %s ", $1, $2 }')"
if [ "${RESEND_MAX_BYTES:-1}" != 0 ]; then
	grep '"event_type":"ReattachResult"' "$T/client.jsonl" |
		grep -q '"status":"SUCCESS".*"resent_packets":[1-9]' ||
		fail "the client re-sent nothing after the switch"
fi
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
