#!/bin/bash
# Single-stream throughput through the tunnel (issue #11 item 5): a
# benchmark, not a test; nothing here asserts. As root:
#
#   JVPN=build/plain/jvpn bench/tput.sh [SECONDS] [RUNS]
#
# Two namespaces (tests/net/lib.sh, one UDP path), iperf3 from the client
# to the server through the tunnel (up) and back (-R, down), RUNS times
# each, back to back. Printed per run: Gbit/s, TCP retransmissions, each
# daemon's CPU time (user + system) per GB carried (steadier than the rate
# on a shared machine), and
# the drops counted on the way: jvpn_dropped_total{where} of both daemons
# and the kernel's UDP receive-buffer errors in each namespace.
# PIN=1 pins both daemons and both iperf3 ends to CPU 0.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JVPN=$(realpath "${JVPN:-$ROOT/build/plain/jvpn}")
DUR=${1:-8}
RUNS=${2:-3}
PIN=${PIN:-0}
export JVPN
NPATHS=1
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }'
# shellcheck source=../tests/net/lib.sh
. "$ROOT/tests/net/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
TSET=""
[ "$PIN" = 1 ] && TSET="taskset -c 0"
bring_up 10
if [ "$PIN" = 1 ]; then
	taskset -a -p -c 0 "$SERVER_PID" > /dev/null
	taskset -a -p -c 0 "$CLIENT_PID" > /dev/null
fi
( exec $TSET ip netns exec "$S" iperf3 -s -B 10.77.0.1 -p 5201 ) > "$T/iperf3-server.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 5 "ins ss -ltn 2>/dev/null | grep -q 10.77.0.1:5201" || fail "iperf3 server did not start"
udp_err() { ip netns exec "$1" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp; }
# tundrops NS DEV: "tx_dropped/rx_dropped" of the TUN (its queue full)
tundrops() {
	ip netns exec "$1" ip -s -j link show "$2" | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print("%d/%d" % (s["tx"]["dropped"], s["rx"]["dropped"]))'
}
backlog() {  # the namespaces share the host's softnet backlog drops
	python3 -c "print(sum(int(l.split()[1], 16) for l in open('/proc/net/softnet_stat')))"
}
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # clock ticks
TICK=$(getconf CLK_TCK)
drops() {  # drops SOCK: "where=N ..." of jvpn_dropped_total
	"$JVPN" ctl -s "$1" metrics | sed -n 's/^jvpn_dropped_total{.*where="\([a-z_]*\)"} \([0-9]*\)$/\1=\2/p' | tr '\n' ' '
}
for dir in up down; do
	for r in $(seq 1 "$RUNS"); do
		ec=$(udp_err "$C") es=$(udp_err "$S") bl=$(backlog)
		cc=$(cpu "$CLIENT_PID") cs=$(cpu "$SERVER_PID")
		flag=""; [ $dir = down ] && flag=-R
		$TSET ip netns exec "$C" iperf3 -c 10.77.0.1 -p 5201 -t "$DUR" $flag -J > "$T/ip.json" 2>&1 || true
		python3 - "$T/ip.json" "$dir" "$r" $(( $(cpu "$CLIENT_PID") - cc )) $(( $(cpu "$SERVER_PID") - cs )) "$TICK" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1])); e = j["end"]
    gb = e["sum_received"]["bytes"] / 1e9
    tick = int(sys.argv[6])
    print("%-4s run %s: %6.3f Gbit/s  retr %d  CPU s per GB: client %.2f server %.2f" % (sys.argv[2], sys.argv[3],
          e["sum_received"]["bits_per_second"] / 1e9, e["sum_sent"].get("retransmits", 0),
          int(sys.argv[4]) / tick / gb, int(sys.argv[5]) / tick / gb))
except Exception as x:
    print("%s run %s: iperf3 failed (%s)" % (sys.argv[2], sys.argv[3], x))
PY
		echo "          udp rcvbuf errors: client $(( $(udp_err "$C") - ec )) server $(( $(udp_err "$S") - es ))"
		echo "          tun tx/rx dropped (cumulative): client $(tundrops "$C" jvc0) server $(tundrops "$S" jvs0); softnet backlog drops $(( $(backlog) - bl ))"
		echo "          client drops: $(drops "$T/client.sock")"
		echo "          server drops: $(drops "$T/server.sock")"
		echo "          gso: client $("$JVPN" ctl -s "$T/client.sock" metrics | grep -E "^jvpn_tun_(gso|offload)" | tr "\n" " ")"
	done
done
verify_logs
