#!/bin/bash
# Tunnel benchmark (issue #11 item 6): a benchmark, not a test; nothing
# here asserts. `make tunnel-bench`, or as root:
#
#   JVPN=build/release/jvpn bench/tunnel.sh        (QUICK=1: a short run)
#
# In one run, in the same two namespaces (tests/net/lib.sh: client and
# server joined by path A, 10.201.1.0/24, and path B, 10.201.2.0/24), three
# ways from the client to the server: no tunnel (path A's addresses), jvpn
# (udp-a over A, udp-b over B; policy heartbeat 100 ms, volatile 300 ms,
# failback after 1 s) and wireguard-go (Debian's package, its default MTU
# 1420; the server's address 10.203.0.1 routed over A at metric 10 and
# over B at metric 20, as a user with two uplinks would set it up).
#
# Throughput, each tunnel in turn, DUR seconds a phase (10): iperf3 TCP
# one stream (with ping through the tunnel every 100 ms: ping under load;
# and the daemons' CPU time from /proc/PID/stat, both ends, per Gbit
# delivered), TCP four streams, UDP 64-byte datagrams as fast as one
# iperf3 sends (received datagrams a second).
#
# Failover: an inner TCP stream (1000 bytes every 5 ms, tests/net/stream.py)
# runs from the client to the server's tunnel address while path A is cut,
# alternately silently (nftables drops everything on it, the link stays
# up) and by link down; each cut is held until the stream has resumed (or
# CAP seconds), plus 0.5 s, then restored; the next waits until the
# session is back on path A (jvpn: its failback; wireguard-go: 2 s after
# the route over A is back) and 1 s more. jvpn: CUTS silent cuts and CUTS
# link-down cuts (20 and 20), DOWN2S of the link-down ones (5) 2 s after
# the client daemon started (restarted for each, a new stream each).
# wireguard-go: WG_CUTS of each (5): nothing tells it of a silent cut, so
# those are held CAP (15) seconds. Stall, resets and bytes lost:
# bench/tunnel.py (its definition of a stall) and docs/PERFORMANCE.md
# ("Tunnel"), which reads the results.
#
# Out: the table on stdout and in OUT/report.txt (OUT: TUNNEL_OUT, default
# build/tunnel), the plot OUT/tunnel-silent-cut.png (gnuplot) of the
# stream's bytes around the first silent cut, jvpn beside wireguard-go,
# and the raw data in OUT/data. Every loop is bounded in count and time;
# traffic only goes to addresses inside the namespaces made here, deleted
# on exit (error and Ctrl-C included), with the daemons.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JVPN=$(realpath "${JVPN:-$ROOT/build/release/jvpn}")
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	DUR=${DUR:-3} CUTS=${CUTS:-3} DOWN2S=${DOWN2S:-1} WG_CUTS=${WG_CUTS:-1} CAP=${CAP:-8}
fi
DUR=${DUR:-10} CUTS=${CUTS:-20} DOWN2S=${DOWN2S:-5} WG_CUTS=${WG_CUTS:-5} CAP=${CAP:-15}
[ "$DUR" -ge 2 ] && [ "$DUR" -le 60 ] || { echo "DUR: 2..60" >&2; exit 2; }
[ "$CUTS" -ge 1 ] && [ "$CUTS" -le 100 ] && [ "$DOWN2S" -le "$CUTS" ] &&
	[ "$WG_CUTS" -le 100 ] && [ "$CAP" -ge 2 ] && [ "$CAP" -le 60 ] ||
	{ echo "CUTS 1..100, DOWN2S <= CUTS, WG_CUTS <= 100, CAP 2..60" >&2; exit 2; }
OUT=${TUNNEL_OUT:-$ROOT/build/tunnel}
export JVPN
NPATHS=2
HEARTBEAT_MS=100 VOLATILE_MS=300 FAILBACK_MS=1000
# a failback is a switch too: two a cut, more than the default 8 a minute
MAX_SWITCHES=64
# shellcheck source=../tests/net/lib.sh
. "$ROOT/tests/net/lib.sh"
PY="python3 $ROOT/bench/tunnel.py"
STREAM="$ROOT/tests/net/stream.py"
for tool in iperf3 wireguard-go wg gnuplot; do
	command -v $tool > /dev/null || skip "needs $tool (make tunnel-bench installs it)"
done
WGC=wgc$ID
WGS=wgs$ID
RESUME=20000      # bytes past the cut: the stream flows again (100 ms of it)
INTERVAL_MS=5     # the failover stream: 1000 bytes every 5 ms

tb_cleanup() {
	set +e
	cleanup
	rm -f "/var/run/wireguard/$WGC.sock" "/var/run/wireguard/$WGS.sock"
}
trap tb_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

us() { echo "${EPOCHREALTIME/./}"; }
sec() { echo "${1:0:-6}.${1: -6}"; }   # microseconds to seconds
rec() { echo "$1=$2" >> "$T/results"; }
# the CPU time (clock ticks, user + system) of these processes
ticks() {
	local p s=0
	for p in "$@"; do
		s=$((s + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo $s
}
TICK=$(getconf CLK_TCK)

# ---- wireguard-go, in the same namespaces
wg_up() {
	local cpub spub
	umask 077
	wg genkey > "$T/wgc.key"
	wg genkey > "$T/wgs.key"
	umask 022
	cpub=$(wg pubkey < "$T/wgc.key")
	spub=$(wg pubkey < "$T/wgs.key")
	( exec ip netns exec "$S" env WG_PROCESS_FOREGROUND=1 wireguard-go "$WGS" ) \
		> "$T/wg-server.log" 2>&1 &
	WGS_PID=$!
	PIDS="$PIDS $WGS_PID"
	( exec ip netns exec "$C" env WG_PROCESS_FOREGROUND=1 wireguard-go "$WGC" ) \
		> "$T/wg-client.log" 2>&1 &
	WGC_PID=$!
	PIDS="$PIDS $WGC_PID"
	wait_for 5 "[ -S /var/run/wireguard/$WGS.sock ] && [ -S /var/run/wireguard/$WGC.sock ]" ||
		fail "wireguard-go did not start"
	ins ip addr add 10.203.0.1/32 dev lo
	ins wg set "$WGS" listen-port 51821 private-key "$T/wgs.key" \
		peer "$cpub" allowed-ips 10.78.0.2/32
	ins ip addr add 10.78.0.1/24 dev "$WGS"
	ins ip link set "$WGS" up
	wg_routes
	inc wg set "$WGC" private-key "$T/wgc.key" \
		peer "$spub" endpoint 10.203.0.1:51821 allowed-ips 10.78.0.0/24
	inc ip addr add 10.78.0.2/24 dev "$WGC"
	inc ip link set "$WGC" up
	wait_for 10 "inc ping -c 1 -W 1 10.78.0.1 > /dev/null" || fail "no ping through wireguard-go"
}
# the server's address over A, and over B when A's route is gone
wg_routes() {
	inc ip route replace 10.203.0.1/32 via 10.201.1.2 dev ca0 metric 10
	inc ip route replace 10.203.0.1/32 via 10.201.2.2 dev cb0 metric 20
}

# ---- throughput
# cpu_per_gbit TICKS0 TICKS1 BYTES: the daemons' CPU seconds per Gbit
cpu_per_gbit() {
	echo "$1 $2 $3" | awk -v t="$TICK" '{ print ($2 - $1) / t / ($3 * 8 / 1e9) }'
}
# phases NAME ADDR PID...: the three iperf3 phases through one way; PIDs:
# the daemons whose CPU time is counted
phases() {
	local n=$1 a=$2 c0 c1 pp bps retr bytes med p95 loss pps offered
	shift 2
	log "$n: TCP one stream, $DUR s, ping under it"
	c0=$(ticks "$@")
	( sleep 1; exec ip netns exec "$C" ping -i 0.1 -c $((DUR * 10 - 15)) -W 1 "$a" ) \
		> "$T/$n-ping.txt" 2>&1 &
	pp=$!
	PIDS="$PIDS $pp"
	timeout -k 2 $((DUR + 15)) ip netns exec "$C" iperf3 -c "$a" -p 5201 -t "$DUR" -J \
		> "$T/$n-tcp1.json" 2>&1 || log "iperf3 failed: $(tail -3 "$T/$n-tcp1.json")"
	c1=$(ticks "$@")
	wait "$pp" || true
	if read -r bps retr bytes <<< "$($PY iperf "$T/$n-tcp1.json")" && [ -n "$bytes" ]; then
		rec "$n.tcp1.bps" "$bps"
		rec "$n.tcp1.retr" "$retr"
		[ $# = 0 ] || rec "$n.tcp1.cpu_per_gbit" "$(cpu_per_gbit "$c0" "$c1" "$bytes")"
	fi
	if read -r med p95 loss <<< "$($PY ping "$T/$n-ping.txt")" && [ -n "$loss" ]; then
		rec "$n.ping.med" "$med"
		rec "$n.ping.p95" "$p95"
		rec "$n.ping.loss" "$loss"
	fi
	sleep 1
	log "$n: TCP four streams"
	c0=$(ticks "$@")
	timeout -k 2 $((DUR + 15)) ip netns exec "$C" iperf3 -c "$a" -p 5201 -t "$DUR" -P 4 -J \
		> "$T/$n-tcp4.json" 2>&1 || log "iperf3 failed: $(tail -3 "$T/$n-tcp4.json")"
	c1=$(ticks "$@")
	if read -r bps retr bytes <<< "$($PY iperf "$T/$n-tcp4.json")" && [ -n "$bytes" ]; then
		rec "$n.tcp4.bps" "$bps"
		rec "$n.tcp4.retr" "$retr"
		[ $# = 0 ] || rec "$n.tcp4.cpu_per_gbit" "$(cpu_per_gbit "$c0" "$c1" "$bytes")"
	fi
	sleep 1
	log "$n: UDP 64-byte datagrams"
	timeout -k 2 $((DUR + 15)) ip netns exec "$C" iperf3 -c "$a" -p 5201 -t "$DUR" -u -l 64 -b 0 -J \
		> "$T/$n-udp.json" 2>&1 || log "iperf3 failed: $(tail -3 "$T/$n-udp.json")"
	if read -r pps offered <<< "$($PY iperf "$T/$n-udp.json")" && [ -n "$offered" ]; then
		rec "$n.udp.pps" "$pps"
		rec "$n.udp.offered" "$offered"
	fi
	sleep 1
}

# ---- failover
NSTREAM=0
# stream_begin TUNNEL ADDR: an inner TCP stream until stream_end; sets
# SLOG (the receiver's log)
stream_begin() {
	NSTREAM=$((NSTREAM + 1))
	local port=$((5100 + NSTREAM)) i=$NSTREAM
	SLOG="$T/stream$i.log"
	SSENT="$T/stream$i.sent"
	SSTOP="$T/stream$i.stop"
	SRES="$T/stream$i.result"
	ins python3 "$STREAM" serve "$2" "$port" "$SRES" "$SLOG" \
		> "$T/stream$i-server.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 5 "ins ss -ltn 2>/dev/null | grep -qF '$2:$port'" ||
		fail "stream server did not start"
	# bounded: 1200 s at most, if nothing stops it
	inc python3 "$STREAM" send "$2" "$port" 1200 "$INTERVAL_MS" "$SSTOP" "$T/stream$i.sent" \
		> "$T/stream$i.sender" 2>&1 &
	SPID=$!
	PIDS="$PIDS $SPID"
	echo "$1 $i $SRES $T/stream$i.sender" >> "$T/streams"
	wait_for 5 "[ \$(progress) -gt $RESUME ]" || log "the stream does not flow: $(cat "$T/stream$i.sender")"
}
stream_end() {
	touch "$SSTOP"
	wait_for 60 "! kill -0 $SPID 2>/dev/null" || kill -TERM "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	wait_for 70 "[ -s '$SRES' ]" || log "no stream result"
	log "stream: $(cat "$SRES" 2>/dev/null) / $(cat "$T/stream$NSTREAM.sender")"
}
progress() {
	local l
	l=$(tail -n 1 "$SLOG" 2>/dev/null) || l=
	echo "${l#* }" | grep -x '[0-9][0-9]*' || echo 0
}

# The cut: fast, for its time is part of the stall (nsenter and ip -n
# enter the namespace without ip netns exec's remount of /sys).
do_cut() {
	case $1 in
	silent) nsenter --net="/run/netns/$C" nft -f - <<NFT ;;
add rule inet jvtest out oifname "ca0" drop
add rule inet jvtest in iifname "ca0" drop
NFT
	down*) ip -n "$C" link set ca0 down ;;
	esac
}
undo_cut() {
	case $1 in
	silent)
		inc nft flush chain inet jvtest out
		inc nft flush chain inet jvtest in ;;
	down*)
		inc ip link set ca0 up
		wg_routes ;;   # link down took the route away
	esac
}
on_a() {
	"$JVPN" ctl -s "$T/client.sock" sessions --json 2>/dev/null |
		python3 -c 'import json, sys
s = json.load(sys.stdin)["sessions"]
sys.exit(0 if s and s[0]["transport"] == "udp-a" and s[0]["state"] == "ATTACHED" else 1)'
}
# back_on_a TUNNEL: waits (bounded) until the session is on path A again
back_on_a() {
	if [ "$1" = jvpn ]; then
		wait_for 15 on_a || log "jvpn: not back on udp-a after 15 s"
	else
		sleep 2
	fi
	# the stream flows again (wireguard-go after a silent cut: TCP's
	# backed-off retransmission timer)
	local b
	b=$(progress)
	wait_for 40 "[ \$(progress) -gt $((b + RESUME)) ]" || log "$1: the stream is stuck"
	sleep 1
}

# cut_a TUNNEL KIND: one cut of path A, timed
cut_a() {
	local b0 t0 tc tr now end=0 resumed=0
	b0=$(progress)
	t0=$(us)
	do_cut "$2"
	tc=$(us)
	end=$((t0 + CAP * 1000000))
	while now=$(us); [ "$now" -lt $end ]; do
		if [ "$(progress)" -ge $((b0 + RESUME)) ]; then
			resumed=1
			break
		fi
		sleep 0.02
	done
	[ $resumed = 1 ] && sleep 0.5
	tr=$(us)
	undo_cut "$2"
	echo "$1 $2 $SLOG $SSENT $(sec "$t0") $(sec "$tc") $(sec "$tr") $CAP" >> "$T/cuts"
	log "$1: $2 cut, $([ $resumed = 1 ] && echo "resumed after $(((now - t0) / 1000)) ms (polled)" || echo "no recovery in $CAP s")"
	[ "$2" = down2s ] || back_on_a "$1"
}

# ---- the run
mkdir -p "$OUT"
topology
write_configs
start_daemons
wait_attached 10
wg_up
( exec ip netns exec "$S" iperf3 -s -p 5201 ) > "$T/iperf3-server.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 5 "ins ss -ltn 2>/dev/null | grep -q ':5201 '" || fail "iperf3 server did not start"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u +%FT%TZ)
log "all up; throughput phases of $DUR s"

phases none 10.201.1.2
phases jvpn 10.77.0.1 "$SERVER_PID" "$CLIENT_PID"
phases wg 10.78.0.1 "$WGS_PID" "$WGC_PID"

log "jvpn: $CUTS silent and $((CUTS - DOWN2S)) link-down cuts, alternately"
wait_for 15 on_a || fail "jvpn is not on udp-a"
stream_begin jvpn 10.77.0.1
for i in $(seq 1 "$CUTS"); do
	cut_a jvpn silent
	if [ "$i" -le $((CUTS - DOWN2S)) ]; then
		cut_a jvpn down
	fi
done
stream_end

log "jvpn: $DOWN2S link-down cuts 2 s after the client started"
for i in $(seq 1 "$DOWN2S"); do
	kill -TERM "$CLIENT_PID"
	wait_for 5 "! kill -0 $CLIENT_PID 2>/dev/null" || fail "the client did not stop"
	wait "$CLIENT_PID" 2>/dev/null || true
	mv "$T/client.jsonl" "$T/client-run$i.jsonl"
	t=$(us)
	start_client
	wait_attached 5
	stream_begin jvpn 10.77.0.1
	now=$(us)
	[ "$now" -lt $((t + 2000000)) ] || log "the stream flowed only $(((now - t) / 1000)) ms after the start"
	sleep "$(echo "$t $now" | awk '{ d = ($1 + 2000000 - $2) / 1e6; printf "%.3f\n", (d > 0 ? d : 0) }')"
	cut_a jvpn down2s
	stream_end
done

log "wireguard-go: $WG_CUTS silent and $WG_CUTS link-down cuts"
stream_begin wg 10.78.0.1
for i in $(seq 1 "$WG_CUTS"); do
	cut_a wg silent
	cut_a wg down
done
stream_end
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the report
{
	echo "== tunnel benchmark, $START, jvpn $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')"
	echo "   $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r)"
	echo "   $(wireguard-go --version 2>&1 | head -1), $(iperf3 --version | head -1 | cut -d' ' -f1-2)"
	echo "   load average before $LOAD0, after $LOAD1"
	echo "   $DUR s a throughput phase; jvpn $CUTS silent + $((CUTS - DOWN2S)) link-down + $DOWN2S link-down 2 s after start;"
	echo "   wireguard-go $WG_CUTS + $WG_CUTS (fewer: a silent cut costs it $CAP s); cap $CAP s"
	echo
	$PY report "$T"
} | tee "$OUT/report.txt"
WG_BACK=$(awk '$1 == "wg" { print $2 }' "$T/plot-restore.txt" 2>/dev/null) || WG_BACK=
JV_BACK=$(awk '$1 == "jvpn" { print $2 }' "$T/plot-restore.txt" 2>/dev/null) || JV_BACK=
gnuplot <<GP || log "gnuplot failed"
set terminal pngcairo size 1200,480 font "sans,11"
set output "$OUT/tunnel-silent-cut.png"
set multiplot layout 1,2 title "An inner TCP stream (1000 B every 5 ms) around a silent cut of path A at t = 0; each line ends at its stream's next cut"
set xlabel "seconds from the cut"
set ylabel "kB delivered since the cut"
set key top left
set grid
set xrange [-0.5:2]
plot "$T/plot-jvpn.dat" using 1:2 with steps lw 2 title "jvpn", \\
     "$T/plot-wg.dat" using 1:2 with steps lw 2 title "wireguard-go"
set xrange [-1:30]
set arrow 1 from ${WG_BACK:--1}, graph 0 to ${WG_BACK:--1}, graph 1 nohead dt 2
set label 1 "path A restored for wireguard-go " at ${WG_BACK:--1}, graph 0.35 right
set arrow 2 from ${JV_BACK:--1}, graph 0 to ${JV_BACK:--1}, graph 1 nohead dt 3
set label 2 " path A restored for jvpn" at ${JV_BACK:--1}, graph 0.75 left
plot "$T/plot-jvpn.dat" using 1:2 with steps lw 2 title "jvpn", \\
     "$T/plot-wg.dat" using 1:2 with steps lw 2 title "wireguard-go"
unset multiplot
GP
rm -rf "$OUT/data"
mkdir -p "$OUT/data"
cp "$T"/results "$T"/cuts "$T"/streams "$T"/*.json "$T"/*-ping.txt "$T"/stream* \
	"$T"/*.jsonl "$T"/*.log "$T"/plot-* "$OUT/data/" 2>/dev/null || true
log "report in $OUT/report.txt, plot $OUT/tunnel-silent-cut.png"
