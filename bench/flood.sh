#!/bin/bash
# Handshake flood benchmark (issue #10 item 5): a benchmark, not a test;
# nothing here asserts. `make flood`, or as root:
#
#   JVPN=build/h/jvpn HSFLOOD=build/h/bench/hsflood bench/flood.sh [SECONDS]
#
# An established session carries iperf3 while forged HS_INITs arrive from
# 254 source addresses at the highest rate one sending thread reaches.
# Phases, SECONDS each (default 10), all in one run on the same machine:
#   base0..6 iperf3 alone, before and after every flood phase
#   dropped  the flood (bad mac1) dropped by nftables before the server's
#            socket: what sending it costs the machine, not the server
#   bad      the flood, random content: mac1 fails, dropped after one hash
#   mac1     the flood with a valid mac1 and no mac2: load mode, a
#            COOKIE_REPLY each
#   cookie   the flood answers its cookies: a valid mac2 per source, so the
#            per-source token bucket and the DH are what stands in the way
#   bad-50k, mac1-50k  as bad and mac1, paced to 50,000 HS_INITs a second
# In every flood phase a second client (another peer, from the attacker's
# side) starts 2 s in and handshakes; its time to ATTACHED is printed.
# CPUs: on a machine of 2 or more, the tunnel (both daemons and both
# iperf3 ends) runs on CPU TUNNEL_CPU (0) and the flooder on FLOOD_CPU
# (1), in every phase, the baseline too: the flood's sender then cannot
# take the tunnel's CPU, only what the server spends on the flood can
# (PIN=0: no pinning). The second client is not pinned.
# Printed: throughput and its ratio to the baseline (the mean of the base
# phases just before and after),
# the flood's send rate and the replies it got, the server's CPU, the
# kernel's UDP drops, jvpn_handshake_total{result} per phase, the
# HandshakeLoad events, the new client's time to ATTACHED, the server's
# VmRSS before and after. docs/PERFORMANCE.md ("Handshake flood") reads them.
#
# Network: three namespaces made here and deleted on exit (client, server,
# the "internet" side with the attacker and the second client); traffic
# goes only to addresses inside them. The flood is bounded in time (phase
# length + 2 s) and count (hsflood's MAX_PACKETS, 30,000,000 a phase).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JVPN=${JVPN:-$ROOT/build/h/jvpn}
HSFLOOD=${HSFLOOD:-$ROOT/build/h/bench/hsflood}
# absolute: the daemons start from their temp directory (tests/net/lib.sh)
JVPN=$(realpath "$JVPN")
HSFLOOD=$(realpath "$HSFLOOD")
DUR=${1:-10}
[ "$DUR" -ge 3 ] && [ "$DUR" -le 60 ] || { echo "SECONDS: 3..60" >&2; exit 2; }
MAXP=30000000
NSRC=254
PIN=${PIN:-1}
TUNNEL_CPU=${TUNNEL_CPU:-0}
FLOOD_CPU=${FLOOD_CPU:-1}
[ "$(nproc)" -ge 2 ] || PIN=0
TSET_T="" TSET_F=""
if [ "$PIN" = 1 ]; then
	TSET_T="taskset -c $TUNNEL_CPU"
	TSET_F="taskset -c $FLOOD_CPU"
fi
export JVPN
NPATHS=1
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }'
# shellcheck source=../tests/net/lib.sh
. "$ROOT/tests/net/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3 (apt-get install iperf3)"
[ -x "$HSFLOOD" ] || skip "no $HSFLOOD (ninja -C build/h bench/hsflood)"
F=jvf$ID

flood_cleanup() {
	set +e
	cleanup
	ip netns del "$F" 2>/dev/null
}
trap flood_cleanup EXIT
inf() { ip netns exec "$F" "$@"; }

topology
# the internet side: sf0 10.202.0.1/16 on the server, fa0 in F with the
# second client's 10.202.0.2 (primary) and the attacker's 10.202.1.1-254
ip netns add "$F"
inf ip link set lo up
ip link add fa0 netns "$F" type veth peer name sf0 netns "$S"
ins ip addr add 10.202.0.1/16 dev sf0
inf ip addr add 10.202.0.2/16 dev fa0
for i in $(seq 1 $NSRC); do echo "addr add 10.202.1.$i/16 dev fa0"; done |
	inf ip -batch -
ins ip link set sf0 up
inf ip link set fa0 up

write_configs
( umask 077; "$JVPN" genkey > "$T/client2.key" )
SPUB=$("$JVPN" pubkey < "$T/server.key")
C2PUB=$("$JVPN" pubkey < "$T/client2.key")
sed -i "/^peers:/a\\  - { name: newcomer, public_key: \"$C2PUB\", allowed_ips: [10.77.0.3/32] }" \
	"$T/server.yaml"
cat > "$T/client2.yaml" <<CFG
role: client
node_id: newcomer
private_key_file: client2.key
server_public_key: "$SPUB"
transports:
  - { id: udp-f, proto: udp, remote: "10.202.0.1:51820", bind_device: fa0 }
tun: { name: jvn0, address: 10.77.0.3/24, mtu: 1400 }
audit: { path: client2.jsonl }
control_socket: $T/client2.sock
on_terminated: exit
policy_file: policy.yaml
CFG
start_daemons
wait_attached 10
if [ "$PIN" = 1 ]; then
	taskset -a -p -c "$TUNNEL_CPU" "$SERVER_PID" > /dev/null
	taskset -a -p -c "$TUNNEL_CPU" "$CLIENT_PID" > /dev/null
fi

( exec $TSET_T ip netns exec "$S" iperf3 -s -B 10.77.0.1 -p 5201 ) > "$T/iperf3-server.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 5 "ins ss -ltn 2>/dev/null | grep -q 10.77.0.1:5201" ||
	fail "iperf3 server did not start"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"; }
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status"; }
# the server's CPU time in clock ticks (user + system)
cpu() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
# the machine's busy and total ticks, all CPUs
machine() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8; exit }' /proc/stat; }
# the server namespace's UDP receive-buffer drops
udp_drops() {
	ins awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp
}
# the kernel's drops at the server's port 51820 as "LISTENER SESSION": the
# listener's and the session socket's (connected to the client's path A,
# issue #10), from the d counters of ss's skmem
sock_drops() {
	ins ss -Huamn '( sport = :51820 )' | awk '
		/^UNCONN/ { w = "l" }
		/^ESTAB/ { w = ($NF ~ /^10\.201\.1\.1:/) ? "s" : "" }
		/skmem/ && match($0, /,d[0-9]+\)/) {
			v = substr($0, RSTART + 2, RLENGTH - 3)
			if (w == "l") l += v; else if (w == "s") s += v
		}
		END { print l + 0, s + 0 }'
}
# jvpn_handshake_total as "ok=N bad_mac=N ..."
hs_metrics() {
	"$JVPN" ctl -s "$T/server.sock" metrics |
		sed -n 's/^jvpn_handshake_total{.*result="\([a-z_]*\)"} \([0-9]*\)$/\1=\2/p' |
		sort | tr '\n' ' '
}
# metric SOCK NAME: the sum of a metric's samples
metric() {
	"$JVPN" ctl -s "$1" metrics | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { print s + 0 }'
}
hs_delta() {   # hs_delta "BEFORE" "AFTER"
	python3 - "$1" "$2" <<'PY'
import sys
b = dict(kv.split("=") for kv in sys.argv[1].split())
a = dict(kv.split("=") for kv in sys.argv[2].split())
print(" ".join("%s=%d" % (k, int(a[k]) - int(b.get(k, 0)))
               for k in ("ok", "bad_mac", "cookie_sent", "rate_limited",
                         "failed") if k in a))
PY
}
TICK=$(getconf CLK_TCK)
RSS0=$(rss)
log "session up; server VmRSS ${RSS0} kB; phases of $DUR s"

# newcomer PHASE: the second client's time to ATTACHED in that phase
newcomer() {
	python3 - "$T/client2-$1.start" "$T/client2-$1.jsonl" <<'PY'
import json, sys
try:
    start = int(open(sys.argv[1]).read())
    lines = open(sys.argv[2]).read().splitlines()
except OSError:
    print("         new client: did not start"); sys.exit()
att = first = None
for line in lines:
    e = json.loads(line)
    if first is None:
        first = e.get("ts_ms")
    if e.get("event_type") == "SessionStateChange" and e.get("new_state") == "ATTACHED":
        att = e.get("ts_ms")
        break
if att is None:
    print("         new client: never ATTACHED")
else:
    print("         new client: ATTACHED %d ms after its start (%d ms after its first event)"
          % (att - start, att - first))
PY
}

# phase NAME [FLOOD_MODE [drop|PPS]]: iperf3 for DUR s, with the flood if
# asked (dropped by nftables before the server's socket, or paced to PPS)
phase() {
	local name=$1 mode=${2:-} fpid="" pps m0 m1 c0 c1 d0 d1 bps k0 k1 t0 t1 r0 r1 q0 q1 c2pid
	m0=$(hs_metrics); c0=$(cpu); d0=$(udp_drops); k0=$(machine); q0=$(sock_drops)
	case ${3:-} in [0-9]*) pps=$3 ;; *) pps=0 ;; esac
	t0=$(metric "$T/client.sock" jvpn_tx_packets_total)
	r0=$(metric "$T/server.sock" jvpn_inner_delivered_total)
	if [ "${3:-}" = drop ]; then
		ins nft add table inet jvflood
		ins nft add chain inet jvflood in '{ type filter hook input priority -10; }'
		ins nft add rule inet jvflood in ip saddr 10.202.1.0/24 udp dport 51820 drop
	fi
	if [ -n "$mode" ]; then
		( exec $TSET_F ip netns exec "$F" "$HSFLOOD" 10.202.0.1 51820 "$mode" "$SPUB" \
			10.202.1.1 $NSRC $((DUR + 2)) $MAXP "$pps" ) > "$T/flood-$name.out" 2>&1 &
		fpid=$!
		PIDS="$PIDS $fpid"
		sleep 1
	fi
	c2pid=""
	if [ -n "$mode" ]; then
		# the newcomer: its own audit log per phase
		sed "s/client2.jsonl/client2-$name.jsonl/" "$T/client2.yaml" \
			> "$T/client2-$name.yaml"
		( sleep 2
		  date +%s%3N > "$T/client2-$name.start"
		  cd "$T" && exec ip netns exec "$F" "$JVPN" client -c "$T/client2-$name.yaml" \
			> "$T/client2-$name.log" 2>&1 ) &
		c2pid=$!
		PIDS="$PIDS $c2pid"
	fi
	timeout -k 2 $((DUR + 10)) $TSET_T ip netns exec "$C" \
		iperf3 -c 10.77.0.1 -p 5201 -t "$DUR" -O 1 -J > "$T/iperf-$name.json" 2>&1 ||
		log "iperf3 failed in phase $name: $(tail -3 "$T/iperf-$name.json")"
	if [ -n "$fpid" ]; then
		wait "$fpid" || true
	fi
	if [ -n "$c2pid" ]; then
		# the subshell is ip netns exec's jvpn by now (exec)
		kill -TERM "$c2pid" 2>/dev/null || true
		wait "$c2pid" 2>/dev/null || true
	fi
	[ "${3:-}" = drop ] && ins nft delete table inet jvflood
	m1=$(hs_metrics); c1=$(cpu); d1=$(udp_drops); k1=$(machine); q1=$(sock_drops)
	t1=$(metric "$T/client.sock" jvpn_tx_packets_total)
	r1=$(metric "$T/server.sock" jvpn_inner_delivered_total)
	bps=$(python3 -c 'import json,sys
try: print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))
except Exception: print(0)' "$T/iperf-$name.json")
	echo "$name $bps" >> "$T/tput"
	printf '%-8s %7.1f Mbit/s  machine busy %3.0f %%  server CPU %3.0f %%  UDP rcvbuf drops %8d  handshakes: %s\n' \
		"$name" "$(echo "$bps / 1000000" | bc -l)" \
		"$(echo "$k0 $k1" | awk '{ print ($3 - $1) * 100 / ($4 - $2) }')" \
		"$(echo "($c1 - $c0) * 100 / $TICK / ($DUR + 1)" | bc -l)" \
		$((d1 - d0)) "$(hs_delta "$m0" "$m1")" >> "$T/report"
	kill -0 "$CLIENT_PID" 2>/dev/null ||
		echo "         the session's client has exited (session over): $(tail -1 "$T/client.log")" >> "$T/report"
	echo "$q0 $q1" | awk '{ printf "         kernel drops at port 51820: listener %d, the session socket %d\n", $3 - $1, $4 - $2 }' >> "$T/report"
	echo "$t0 $t1 $r0 $r1" | awk '{ printf "         tunnel: client sent %d datagrams, server delivered %d inner packets (%.1f %% lost on the way)\n", $2 - $1, $4 - $3, ($2 - $1) ? 100 * (1 - ($4 - $3) / ($2 - $1)) : 0 }' >> "$T/report"
	[ -n "$mode" ] && sed 's/^/         flood: /' "$T/flood-$name.out" >> "$T/report"
	[ -n "$mode" ] && newcomer "$name" >> "$T/report"
	log "phase $name done"
	sleep 2    # the load mode ends, queues drain
}

# a baseline before and after every flood phase: on a shared machine the
# throughput drifts over minutes; the cookie-answering flood last (it may
# end the session)
phase base0
# after the warm-up: what the tunnel's own traffic takes once (the server's
# re-send store fills to its bound, the receive pool) is not the flood's
RSS0W=$(rss)
phase dropped bad drop
phase base1
phase bad-50k bad 50000
phase base2
phase mac1-50k mac1 50000
phase base3
phase bad bad
phase base4
phase mac1 mac1
phase base5
phase cookie cookie
phase base6
RSS1=$(rss)
HWM=$(hwm)

echo
if [ "$PIN" = 1 ]; then
	pin="tunnel on CPU $TUNNEL_CPU, flooder on CPU $FLOOD_CPU"
else
	pin="not pinned"
fi
echo "== handshake flood: $(nproc) CPUs ($pin), $(uname -r), ${DUR} s a phase, $NSRC sources"
cat "$T/report"
python3 - "$T/tput" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
names = [r[0] for r in rows]
t = {r[0]: int(r[1]) for r in rows}
bases = [t[n] for n in names if n.startswith("base")]
print("baselines (Mbit/s, in order): " +
      " ".join("%.1f" % (b / 1e6) for b in bases))
print("throughput with the flood / without (the mean of the baselines just "
      "before and after it; after it only if the session still carried "
      "traffic):")
for i, n in enumerate(names):
    if n.startswith("base"):
        continue
    around = [t[names[j]] for j in (i - 1, i + 1)
              if 0 <= j < len(names) and names[j].startswith("base") and t[names[j]]]
    base = sum(around) / len(around) if around else 0
    print("  %-8s %.3f  (%.1f / %.1f Mbit/s)" %
          (n, t[n] / base if base else 0, t[n] / 1e6, base / 1e6))
PY
echo "HandshakeLoad events (server):"
python3 - "$T/server.jsonl" <<'PY'
import json, sys
t0 = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    t0 = t0 or e.get("ts_ms")
    if e.get("event_type") == "HandshakeLoad":
        print("  +%6.1f s under_load=%s" % ((e["ts_ms"] - t0) / 1000,
                                           str(e.get("under_load")).lower()))
PY
echo "server VmRSS: ${RSS0} kB at the start, ${RSS0W} kB after base0 (the warm-up), ${RSS1} kB after the last phase (VmHWM ${HWM} kB)"
