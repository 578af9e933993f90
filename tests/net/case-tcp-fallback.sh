#!/bin/bash
# UDP blocked entirely (nftables drops every UDP datagram on both paths
# from the start): the handshake and the whole session go over the TCP
# fallback transport; ping and an inner TCP stream work through it.
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
same_session
stop_daemons
verify_logs
log "PASS"
