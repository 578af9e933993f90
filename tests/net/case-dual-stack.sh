#!/bin/bash
# A dual-stack client (CONTRACT section 8): udp-a is IPv4, udp-b IPv6, both
# to the gateway's one listener on [::]:51820, which takes IPv4 clients
# too. udp-a writes to 10.250.0.1, an address on the gateway's lo that the
# kernel would not pick as a reply's source: the gateway must answer an
# IPv4-mapped peer from the address it wrote to. The session attaches over
# IPv4, the gateway names the client by its IPv4 address (not
# ::ffff:...), and when path A drops everything the session moves to IPv6
# with an inner stream surviving. The TCP listener on [::]:443 takes an
# IPv4 connection too.
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.250.0.1:51820", bind_device: ca0 }
  - { id: udp-b, proto: udp, remote: "[fd02::2]:51820", bind_device: cb0 }'
export TRANSPORTS
. "$(dirname "$0")/lib.sh"
topology
need_ipv6
inc ip addr add fd02::1/64 dev cb0 nodad
ins ip addr add fd02::2/64 dev sb0 nodad
ins ip addr add 10.250.0.1/32 dev lo
inc ip route add 10.250.0.1/32 via 10.201.1.2 dev ca0
write_configs
sed -i -e 's|address: "0.0.0.0:51820"|address: "[::]:51820"|' \
	-e 's|address: "0.0.0.0:443"|address: "[::]:443"|' "$T/server.yaml"
grep -q '0\.0\.0\.0' "$T/server.yaml" && fail "an IPv4 listener is left"
start_daemons
wait_attached 10
has client event_type=SessionStateChange new_state=ATTACHED transport_id=udp-a ||
	fail "the session did not attach over udp-a (IPv4 to [::])"
ping_ok 3 || fail "no ping over udp-a"
grep -q 'dropped' "$T/client.log" &&
	fail "the gateway answered from another address: $(grep dropped "$T/client.log")"
grep -qF '"remote":"10.201.1.1:' "$T/server.jsonl" ||
	fail "the gateway does not name the client by its IPv4 address"
grep -qF '::ffff:' "$T/server.jsonl" && fail "a mapped address in the gateway's events"
inc timeout 5 bash -c 'exec 3<>/dev/tcp/10.201.2.2/443' ||
	fail "the [::]:443 TCP listener refused an IPv4 connection"
stream_start 6
sleep 1
cut_path_a 6 drop
ping_ok 3 || fail "no ping over udp-b (IPv6)"
stream_check 40
grep -qF '"remote":"[fd02::1]:' "$T/server.jsonl" ||
	fail "the gateway never named the client's IPv6 address"
same_session
stop_daemons
verify_logs
log "PASS"
