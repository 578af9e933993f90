#!/bin/bash
# `make demo`: the real thing. Two hosts in network namespaces joined by two
# independent paths, a jvpn server and client with a TUN device each,
# traffic through the tunnel (ping and a long inner TCP stream), path A cut,
# the session moving to path B with the same session_id, the stream
# uninterrupted, and the merged timeline of both nodes. Then cleanup.
set -eu
JVPN=$(cd "$(dirname "${1:-build/plain/jvpn}")" && pwd)/$(basename "${1:-build/plain/jvpn}")
export JVPN
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "make demo: run it as root (it creates network namespaces)" >&2; exit 2; }
. tests/net/lib.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "two hosts (namespaces $C and $S), path A 10.201.1.0/24, path B 10.201.2.0/24"
topology
write_configs
start_daemons
wait_attached
"$JVPN" ctl -s "$T/client.sock" transports
say "ping through the tunnel, client 10.77.0.2 -> gateway 10.77.0.1"
inc ping -c 3 -i 0.2 10.77.0.1 | sed -n '1,4p'
say "an inner TCP stream through the tunnel for 12 s"
stream_start 12
sleep 3
say "cutting path A: ip link set ca0 down"
inc ip link set ca0 down
wait_for 5 "has client event_type=TransportSwitch new_transport=udp-b" ||
	fail "no switch"
"$JVPN" ctl -s "$T/client.sock" transports
"$JVPN" ctl -s "$T/server.sock" sessions
stream_check 60
inc ping -c 3 -i 0.2 10.77.0.1 | tail -2
same_session
stop_daemons
verify_logs
say "merged timeline (jvpn audit timeline client.jsonl server.jsonl)"
"$JVPN" audit timeline "$T/client.jsonl" "$T/server.jsonl"
say "one session from start to end: $(python3 tests/net/events.py sessions "$T/client.jsonl" "$T/server.jsonl") session id, no new handshake, inner TCP stream intact"
