#!/bin/bash
# case-multihomed over IPv6: the gateway listens on [::] and holds fd50::1
# on its lo; the client's udp-a talks to fd50::1 over path A, whose own
# address (fd01::2) the kernel would pick as the reply's source. The
# session attaches over UDP, carries ping and stays there.
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "[fd50::1]:51820", bind_device: ca0 }
  - { id: tcp-a, proto: tcp, remote: "10.201.2.2:443", bind_device: cb0 }'
export TRANSPORTS
. "$(dirname "$0")/lib.sh"
topology
need_ipv6
inc ip addr add fd01::1/64 dev ca0 nodad
ins ip addr add fd01::2/64 dev sa0 nodad
ins ip addr add fd50::1/128 dev lo
inc ip route add fd50::1/128 via fd01::2 dev ca0
src=$(ins ip -o route get fd01::1 | sed -n 's/.* src \([0-9a-f:]*\).*/\1/p')
[ "$src" = fd01::2 ] || fail "the gateway's reply source to fd01::1 is '$src'"
write_configs
sed -i 's/address: "0.0.0.0:51820"/address: "[::]:51820"/' "$T/server.yaml"
start_daemons
wait_attached 10
stay_on udp-a 4
grep -q 'dropped' "$T/client.log" && fail "the client dropped datagrams"
# the session's own socket (issue #10) sits on the address it came to
ins ss -Hun state established '( sport = :51820 )' | grep -q '\[fd50::1\]:51820 *\[fd01::1\]:' ||
	fail "no session socket on fd50::1: $(ins ss -Hun state established)"
stop_daemons
verify_logs
log "PASS"
