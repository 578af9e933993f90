#!/bin/bash
# Issue #9 item 5, interfaces come and go. The client starts with udp-b
# pinned to cb0 before cb0 exists: it warns (naming the key, FILE:LINE),
# runs, and udp-b is link_down until cb0 appears; then udp-b takes the
# session when path A is cut. Later cb0, the active path's interface, is
# deleted (a USB modem unplugged): the session moves to udp-a
# (link_down); cb0 is re-created with a new ifindex (plugged back) and
# udp-b, on a new socket, takes the session again when path A is cut.
# One session throughout, no daemon restart, the audit logs verify.
# B_PROTO=tcp: the same with tcp-b (its connection is made again).
B_PROTO=${B_PROTO:-udp}
B=$B_PROTO-b
B_PORT=51820
[ "$B_PROTO" = tcp ] && B_PORT=443
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }
  - { id: '$B', proto: '$B_PROTO', remote: "10.201.2.2:'$B_PORT'", bind_device: cb0 }'
export TRANSPORTS
. "$(dirname "$0")/lib.sh"

# make_path LETTER N: the veth pair cLETTER0/sLETTER0, as topology makes it
make_path() {
	ip link add "c${1}0" netns "$C" type veth peer name "s${1}0" netns "$S"
	inc ip addr add "10.201.$2.1/24" dev "c${1}0"
	ins ip addr add "10.201.$2.2/24" dev "s${1}0"
	inc ip link set "c${1}0" up
	ins ip link set "s${1}0" up
}

# tstate ID: the client's view of a transport (active, standby, dead)
tstate() {
	"$JVPN" ctl -s "$T/client.sock" transports --json 2>/dev/null |
		python3 -c 'import json, sys
for t in json.load(sys.stdin)["transports"]:
    if t["id"] == sys.argv[1]:
        print(t["state"])' "$1"
}

# wait_state SECONDS ID STATE
wait_state() {
	wait_for "$1" "[ \"\$(tstate $2)\" = $3 ]" ||
		fail "$2 is '$(tstate "$2")', not $3, after $1 s"
}

# switches TO: how many times the client switched to TO
switches() {
	python3 "$HERE/events.py" count "$T/client.jsonl" \
		event_type=TransportSwitch new_transport="$1"
}

topology
inc ip link del cb0             # the veth pair goes: sb0 with it
write_configs
start_daemons
wait_attached
has client event_type=SessionStateChange new_state=ATTACHED transport_id=udp-a ||
	fail "the session did not attach over udp-a"
key=$(grep -n -m1 'bind_device: cb0' "$T/client.yaml" | cut -d: -f1)
grep -qF "jvpn: warning: $T/client.yaml:$key: transports[1].bind_device: no such device \"cb0\"" \
	"$T/client.log" || fail "no warning naming transports[1].bind_device"
kill -0 "$CLIENT_PID" || fail "the client did not keep running"
wait_state 5 $B dead
ping_ok 3 || fail "no ping through the tunnel"

log "cb0 appears"
sleep 2
make_path b 2
wait_state 5 $B standby
grep -q "$B: cb0 is up: new socket" "$T/client.log" ||
	fail "$B did not say it has a socket"
log "cutting path A (link down)"
inc ip link set ca0 down
wait_for 5 "has client event_type=TransportSwitch new_transport=$B" ||
	fail "no switch to $B"
ping_ok 3 || fail "no ping over $B"
wait_state 3 $B active

log "path A back; cb0, the active path's interface, is deleted"
inc ip link set ca0 up
wait_state 5 udp-a standby
inc ip link del cb0
wait_for 5 "has client event_type=TransportSwitch previous_transport=$B new_transport=udp-a" ||
	fail "no switch away from $B"
ping_ok 3 || fail "no ping over udp-a"
wait_state 3 $B dead
grep -q "$B: cb0 is gone: socket closed" "$T/client.log" ||
	fail "$B did not close its socket"

log "cb0 re-created"
sleep 1
make_path b 2
wait_state 5 $B standby
[ "$(grep -c "$B: cb0 is up: new socket" "$T/client.log")" = 2 ] ||
	fail "$B did not open a second socket"
log "cutting path A again"
inc ip link set ca0 down
wait_for 5 "[ \$(switches $B) = 2 ]" || fail "no switch back to $B"
ping_ok 3 || fail "no ping over the re-created cb0"
wait_state 3 $B active
kill -0 "$CLIENT_PID" || fail "the client stopped"

expect_seq client \
	"event_type=SessionStateChange,new_state=ATTACHED,transport_id=udp-a" \
	"event_type=TransportDead,transport_id=udp-a,reason_code=link_down" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=$B" \
	"event_type=TransportDead,transport_id=$B,reason_code=link_down" \
	"event_type=TransportSwitch,previous_transport=$B,new_transport=udp-a" \
	"event_type=TransportDead,transport_id=udp-a,reason_code=link_down" \
	"event_type=TransportSwitch,previous_transport=udp-a,new_transport=$B"
expect_absent client event_type=SessionTerminated
no_new_handshake
same_session
stop_daemons
verify_logs
log "PASS"
