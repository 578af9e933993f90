#!/bin/bash
# A flood at the gateway's UDP listener does not cost an established
# session its datagrams (issue #10, bench/flood.sh's first finding): the
# session's bound path has a connected socket of its own, so its
# datagrams queue apart from the listener's. Shown without any timing:
# the server is stopped (SIGSTOP), 30,000 junk datagrams (bounded) fill the
# listener's receive queue (the kernel's default size, LISTEN_RCVBUF) past its limit (the kernel counts the
# overflow, and so does jvpn_dropped_total{where="udp_rx_queue"}),
# then 10 pings cross the tunnel; when the server runs again all 10 are
# answered. Before, they queued behind the junk and the kernel dropped
# them. The socket follows the session to path B when A is cut, and is
# gone when the session ends.
. "$(dirname "$0")/lib.sh"
bring_up

# the server's connected UDP sockets on port 51820, as "local peer" lines
session_sockets() {
	ins ss -Hun state established '( sport = :51820 )' |
		awk '{ print $(NF - 1), $NF }'
}
rcvbuf_errors() {
	ins awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp
}

wait_for 5 '[ "$(session_sockets | grep -c "^10.201.1.2:51820 10.201.1.1:")" = 1 ]' ||
	fail "no connected socket for the session's path A: $(session_sockets)"
ping_ok 3 || fail "no ping through the tunnel"

drops0=$(rcvbuf_errors)
log "server stopped; 30,000 junk datagrams at the listener, then 10 pings"
kill -STOP "$SERVER_PID"
inc python3 -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.201.1.1", 40001))
junk = b"\x01" + os.urandom(209)     # an HS_INIT with a wrong mac1
for _ in range(30000):
    s.sendto(junk, ("10.201.1.2", 51820))
'
inc ping -c 10 -i 0.01 -W 4 -q 10.77.0.1 > "$T/ping.out" 2>&1 &
PING=$!
sleep 0.3
kill -CONT "$SERVER_PID"
wait "$PING" || true
drops1=$(rcvbuf_errors)
log "listener overflow: $((drops1 - drops0)) datagrams dropped by the kernel; $(grep -o '[0-9]* received' "$T/ping.out")"
[ $((drops1 - drops0)) -gt 0 ] || fail "the junk did not fill the listener's queue"
# the daemon's count of it: the kernel says it with the next datagram
# queued (SO_RXQ_OVFL), so one more junk datagram once the queue has room
inc python3 -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.201.1.1", 40001))
s.sendto(b"\x01" + os.urandom(209), ("10.201.1.2", 51820))
'
sleep 0.2
n=$("$JVPN" ctl -s "$T/server.sock" metrics |
	awk 'index($1, "jvpn_dropped_total{") == 1 && index($1, "where=\"udp_rx_queue\"") { print $2 }')
log "jvpn_dropped_total{where=udp_rx_queue}: $n"
[ "${n:-0}" -gt 0 ] || fail "the daemon did not count the overflow: ${n:-missing}"
grep -q ' 10 received' "$T/ping.out" ||
	fail "the session lost datagrams to the flood: $(cat "$T/ping.out")"

cut_path_a 10 drop
wait_for 5 '[ "$(session_sockets | grep -c "^10.201.2.2:51820 10.201.2.1:")" = 1 ] && [ "$(session_sockets | wc -l)" = 1 ]' ||
	fail "the connected socket did not follow the session to path B: $(session_sockets)"
ping_ok 3 || fail "no ping after the switch"
same_session

id=$("$JVPN" ctl -s "$T/server.sock" sessions --json |
	python3 -c "import json,sys; print(json.load(sys.stdin)['sessions'][0]['session_id'])")
"$JVPN" ctl -s "$T/server.sock" terminate "$id" > /dev/null || fail "ctl terminate"
wait_for 5 '[ -z "$(session_sockets)" ]' ||
	fail "the session ended, its socket stayed: $(session_sockets)"
stop_daemons
verify_logs
log "PASS"
