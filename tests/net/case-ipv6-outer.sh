#!/bin/bash
# Outer IPv6 only (CONTRACT section 8): the client's transports are a ULA
# over path A ([fd01::2]:51820, to the gateway's dual-stack [::] listener)
# and a link-local address with its scope over path B
# ([fe80::2%cb0]:51821, to a listener bound to [fe80::2%sb0]:51821). The
# session attaches over udp-a, carries ping and an inner stream, and
# moves to udp-b when path A drops everything; events name the scope.
# Reloading the unchanged files is not taken for a change of address.
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "[fd01::2]:51820", bind_device: ca0 }
  - { id: udp-b, proto: udp, remote: "[fe80::2%cb0]:51821", bind_device: cb0 }'
export TRANSPORTS
. "$(dirname "$0")/lib.sh"
topology
need_ipv6
inc ip addr add fd01::1/64 dev ca0 nodad
ins ip addr add fd01::2/64 dev sa0 nodad
inc ip addr add fe80::1/64 dev cb0 nodad
ins ip addr add fe80::2/64 dev sb0 nodad
# no IPv4 outer address is used: take them away
inc ip addr flush dev ca0 scope global to 10.0.0.0/8
inc ip addr flush dev cb0 scope global to 10.0.0.0/8
write_configs
sed -i 's|address: "0.0.0.0:51820" }|address: "[::]:51820" }\n  - { id: udp-ll, proto: udp, address: "[fe80::2%sb0]:51821" }|' "$T/server.yaml"
start_daemons
wait_attached 10
has client event_type=SessionStateChange new_state=ATTACHED transport_id=udp-a ||
	fail "the session did not attach over udp-a"
ping_ok 3 || fail "no ping over udp-a"
# the files read again name the same scopes: nothing changed
for n in client server; do
	"$JVPN" ctl -s "$T/$n.sock" reload > "$T/reload-$n.txt" 2>&1 ||
		fail "$n: reload of an unchanged file refused: $(cat "$T/reload-$n.txt")"
done
stream_start 6
sleep 1
cut_path_a 6 drop
ping_ok 3 || fail "no ping over udp-b"
stream_check 40
has client event_type=TransportSwitch new_transport=udp-b ||
	fail "no switch to udp-b"
grep -qF '"remote":"[fe80::2%cb0]:51821"' "$T/client.jsonl" ||
	fail "no client event names udp-b's remote [fe80::2%cb0]:51821"
grep -qF '"remote":"[fe80::1%' "$T/server.jsonl" ||
	fail "no gateway event names the client's link-local address"
same_session
stop_daemons
verify_logs
log "PASS"
