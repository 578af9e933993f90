#!/bin/bash
# UDP blocked entirely (nftables drops every UDP datagram on both paths
# from the start): the handshake and the whole session go over the TCP
# fallback transport; ping and an inner TCP stream work through it. Then
# the TCP connection is reset: the client reconnects and reattaches the
# same session over the new connection.
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }
  - { id: tcp-a, proto: tcp, remote: "10.201.2.2:443", bind_device: cb0 }'
export TRANSPORTS
. "$(dirname "$0")/lib.sh"
topology
inc nft add rule inet jvtest out meta l4proto udp drop
inc nft add rule inet jvtest in meta l4proto udp drop
write_configs
start_daemons
wait_attached 15
has client event_type=SessionStateChange new_state=ATTACHED transport_id=tcp-a ||
	has client event_type=TransportSwitch new_transport=tcp-a ||
	fail "the session is not on tcp-a"
ping_ok 3 || fail "no ping over TCP"
has server event_type=SessionCreated transport_id=tcp-a ||
	has server event_type=TransportSwitch new_transport=tcp-a ||
	fail "the gateway did not bind the session to tcp-a"
stream_start 6
stream_check 40
"$JVPN" ctl -s "$T/server.sock" sessions --json | grep -q '"transport":"tcp-a"' ||
	fail "the server's binding is not tcp-a"
log "resetting the TCP connection (the gateway answers with RST for 1 s)"
ins nft add rule inet jvtest out tcp sport 443 reject with tcp reset
ins nft add rule inet jvtest in tcp dport 443 reject with tcp reset
sleep 1
ins nft flush chain inet jvtest out
ins nft flush chain inet jvtest in
wait_for 20 "[ \$(python3 '$HERE/events.py' count '$T/client.jsonl' event_type=SessionStateChange new_state=ATTACHED) -ge 2 ]" ||
	fail "the client did not reattach over a new TCP connection"
ping_ok 3 || fail "no ping after the TCP reconnect"
# whichever end notices first (a reset, or heartbeats going unanswered),
# the client comes back on tcp-a over a new connection, same session
expect_seq client \
	"event_type=TransportDead,transport_id=tcp-a" \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=VOLATILE" \
	"event_type=ReattachResult,status=SUCCESS,candidate_transport=tcp-a" \
	"event_type=SessionStateChange,previous_state=RECOVERING,new_state=ATTACHED"
expect_seq server \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=VOLATILE" \
	"event_type=ReattachResult,status=SUCCESS,candidate_transport=tcp-a" \
	"event_type=SessionStateChange,previous_state=RECOVERING,new_state=ATTACHED"
same_session
stop_daemons
verify_logs
log "PASS"
