#!/bin/bash
# The chaos soak (issue #10, item 4): real daemons in network namespaces
# (tests/net/lib.sh, three paths: udp-a, udp-b and the TCP fallback tcp-c)
# under a random but seeded schedule of faults, while one inner TCP
# connection carries a checked byte pattern both ways for the whole run.
#
#   JVPN=build/plain/jvpn SOAK_S=300 [SOAK_SEED=N] [SOAK_REPORT=FILE] soak.sh
#
# Faults (one at a time, a quiet gap after each): silent cut of one path
# (nftables drop), link down, random loss, flapping, blackout of every path
# shorter than the TTL, UDP blocked (the session goes to TCP), policy
# reload over the control socket, audit log rotation (mv, SIGHUP).
# Passes with: 0 inner TCP resets, 0 corrupted bytes, `jvpn audit verify`
# clean on both logs (rotated files and the current one, in order), and the
# daemons' VmRSS and descriptors flat between the sample after warm-up and
# the last one (growth under 1 MiB, 0 descriptors), both taken in the same
# quiet state (faults cleared, the tunnel carrying ping). The seed is
# printed first; SOAK_SEED=N replays the same schedule. Ends with one
# summary line; the report (and the logs, in REPORT.d/) go to SOAK_REPORT.
# Skips (77) without root or namespaces, like the net cases.
SOAK_S=${SOAK_S:-300}
SEED=${SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
NPATHS=3
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }
  - { id: udp-b, proto: udp, remote: "10.201.2.2:51820", bind_device: cb0 }
  - { id: tcp-c, proto: tcp, remote: "10.201.3.2:443", bind_device: cc0 }'
# Room for the schedule: a blackout is at most 10 s, well under the TTL;
# the switch limiter is not what this run is about (case-3 tests it), so
# flapping does not leave the session transportless past the TTL.
TRANSPORT_LOST_TTL_MS=${TRANSPORT_LOST_TTL_MS:-30000}
MAX_SWITCHES=${MAX_SWITCHES:-30}
export NPATHS TRANSPORTS TRANSPORT_LOST_TTL_MS MAX_SWITCHES
SOAK=$(cd "$(dirname "$0")" && pwd)
. "$SOAK/../net/lib.sh"
[ "$SOAK_S" -ge 30 ] || { echo "SOAK_S must be at least 30" >&2; exit 2; }
need_root
REPORT=${SOAK_REPORT:-$T/report.txt}
log "soak: seed $SEED, $SOAK_S s (replay: SOAK_SEED=$SEED SOAK_S=$SOAK_S)"

# warm-up: the first sample counted is taken after this many seconds of
# schedule (a fifth of the run, at least 15 s) and once every kind of
# event has run
WARM=$(( SOAK_S / 5 > 15 ? SOAK_S / 5 : 15 ))
SETTLE=4   # quiet seconds before a counted sample

# The schedule, from the seed alone: "KIND ARGS..." lines whose durations
# and gaps add up to the budget.
python3 - "$SEED" $((SOAK_S - 2 * SETTLE - 6)) > "$T/schedule" <<'PY'
import random, sys
rnd = random.Random(int(sys.argv[1]))
budget = float(sys.argv[2])
paths = "abc"
kinds = ["cut", "down", "loss", "flap", "blackout", "udpblock", "reload",
         "hup"]
weights = [3, 2, 2, 1, 1, 2, 2, 2]
first = kinds[:]
rnd.shuffle(first)          # every kind once early, then at random
t = 0.0
# A short run (make test's 60 s) takes its first pass, one of each kind, at
# the low end of every range so that all eight fit; a long run's schedule
# does not depend on this.
short = budget < 200
while True:
    lowpass = short and bool(first)
    k = first.pop(0) if first else rnd.choices(kinds, weights)[0]
    if lowpass:
        r = lambda a, b: round(rnd.uniform(a, a + min(1.0, (b - a) / 4)), 1)
    else:
        r = lambda a, b: round(rnd.uniform(a, b), 1)
    if k == "cut":
        ev, d = "cut %s %s" % (rnd.choice(paths), r(2, 8)), None
    elif k == "down":
        ev, d = "down %s %s" % (rnd.choice(paths), r(2, 8)), None
    elif k == "loss":
        ev, d = "loss %s %d %s" % (rnd.choice(paths), rnd.randint(10, 50),
                                   r(3, 10)), None
    elif k == "flap":
        n, p = rnd.randint(2, 2 if lowpass else 4), r(0.5, 1.5)
        ev, d = "flap %s %d %s" % (rnd.choice(paths), n, p), 2 * n * p
    elif k == "blackout":
        ev, d = "blackout %s" % r(2, 10), None
    elif k == "udpblock":
        ev, d = "udpblock %s" % r(5, 15), None
    elif k == "reload":
        ev, d = "reload %s" % rnd.choice(["server", "client", "both"]), 0.5
    else:
        ev, d = "hup %s" % rnd.choice(["server", "client", "both"]), 0.5
    if d is None:
        d = float(ev.split()[-1])
    gap = r(2, 6)
    if t + d + gap > budget:
        break
    t += d + gap
    print(ev, gap)
PY

# --- the probes: RSS (kB) and descriptors of both daemons ------------------
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
nfd() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
sample() { # LABEL: one line "t label srss sfd crss cfd"
	echo "$(( $(date +%s) - START )) $1 $(rss $SERVER_PID) $(nfd $SERVER_PID) $(rss $CLIENT_PID) $(nfd $CLIENT_PID)" >> "$T/samples"
}
alive() {
	[ -d "$T" ] || { log "FAIL: $T was removed by something else"; exit 1; }
	kill -0 $SERVER_PID 2>/dev/null || fail "the server died"
	kill -0 $CLIENT_PID 2>/dev/null || fail "the client died"
}
clear_faults() {
	inc nft flush chain inet jvtest out
	inc nft flush chain inet jvtest in
	for d in ca0 cb0 cc0; do inc ip link set $d up; done
}
# all faults cleared, the tunnel carries ping, then SETTLE quiet seconds
quiet() {
	clear_faults
	wait_for 40 "ping_ok 1 2>/dev/null" || fail "no ping through the tunnel after the faults were cleared"
	sleep $SETTLE
	alive
}
progress() { # bytes the server has received so far
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["received"])' \
		"$T/stream.server.progress" 2>/dev/null || echo 0
}
ROT_server=0 ROT_client=0
rotate() { # server|client: mv the audit log aside, SIGHUP reopens it
	local who=$1 pid n
	[ "$who" = server ] && pid=$SERVER_PID || pid=$CLIENT_PID
	eval "n=\$((ROT_$who + 1)); ROT_$who=\$n"
	[ -f "$T/$who.jsonl" ] || fail "no $who audit log to rotate"
	mv "$T/$who.jsonl" "$T/$who.jsonl.r$n"
	echo "$who.jsonl.r$n" >> "$T/rotated.$who"
	kill -HUP "$pid"
	wait_for 5 "[ -f '$T/$who.jsonl' ]" || fail "SIGHUP did not reopen the $who audit log"
}
reload() { # server|client
	"$JVPN" ctl -s "$T/$1.sock" policy-reload "$T/policy.yaml" > /dev/null ||
		fail "policy-reload on the $1"
}
dev() { echo "c${1}0"; }

# --- up ----------------------------------------------------------------
topology
write_configs
start_daemons
wait_attached 15
ping_ok 3 || fail "no ping through the tunnel"
[ "$(cat /proc/$SERVER_PID/comm)" = jvpn ] && [ "$(cat /proc/$CLIENT_PID/comm)" = jvpn ] ||
	fail "the pids are not the daemons"
ins python3 "$SOAK/soakstream.py" serve 10.77.0.1 5002 "$T/stream.server" \
	> "$T/stream-server.log" 2>&1 &
SSTREAM=$!; PIDS="$PIDS $!"
wait_for 5 "ins ss -ltn 2>/dev/null | grep -q 10.77.0.1:5002" ||
	fail "stream server did not start"
inc python3 "$SOAK/soakstream.py" send 10.77.0.1 5002 "$T/stream.stop" \
	$((SOAK_S + 300)) "$T/stream.client" > "$T/stream-client.log" 2>&1 &
CSTREAM=$!; PIDS="$PIDS $!"
START=$(date +%s)
# background samples every 5 s, bounded by count
( for _ in $(seq $(( (SOAK_S + 600) / 5 ))); do
	[ -e "$T/stream.stop" ] && break
	sample bg; sleep 5
  done ) &
SAMPLER=$!; PIDS="$PIDS $!"

# --- the schedule ------------------------------------------------------
declare -A COUNT=()
# Warm-up ends only once every kind of event has run: the first of each
# (the first reload parses the configuration again, say) sets a
# high-water mark of memory that is not growth.
all_kinds_seen() {
	local k
	for k in cut down loss flap blackout udpblock reload hup; do
		[ "${COUNT[$k]:-0}" -gt 0 ] || return 1
	done
}
warm_done=0
nev=$(wc -l < "$T/schedule")
i=0
while read -r kind a b c d; do
	i=$((i + 1))
	COUNT[$kind]=$(( ${COUNT[$kind]:-0} + 1 ))
	el=$(( $(date +%s) - START ))
	case $kind in
	cut)
		log "[$el s $i/$nev] cut path $a (nft drop) for $b s"
		drop_on "$(dev "$a")"; sleep "$b"; gap=$c ;;
	down)
		log "[$el s $i/$nev] link $a down for $b s"
		inc ip link set "$(dev "$a")" down; sleep "$b"; gap=$c ;;
	loss)
		log "[$el s $i/$nev] $b% loss each way on path $a for $c s"
		drop_on "$(dev "$a")" numgen random mod 100 '<' "$b"
		sleep "$c"; gap=$d ;;
	flap)
		log "[$el s $i/$nev] path $a flaps $b times, $c s down, $c s up"
		for _ in $(seq "$b"); do
			inc ip link set "$(dev "$a")" down; sleep "$c"
			inc ip link set "$(dev "$a")" up; sleep "$c"
		done
		gap=$d ;;
	blackout)
		log "[$el s $i/$nev] blackout: every path dropped for $a s"
		for d in ca0 cb0 cc0; do drop_on $d; done
		sleep "$a"; gap=$b ;;
	udpblock)
		log "[$el s $i/$nev] UDP blocked for $a s (TCP fallback)"
		inc nft add rule inet jvtest out meta l4proto udp drop
		inc nft add rule inet jvtest in meta l4proto udp drop
		sleep "$a"; gap=$b ;;
	reload)
		log "[$el s $i/$nev] policy-reload ($a)"
		case $a in both) reload server; reload client ;; *) reload "$a" ;; esac
		gap=$b ;;
	hup)
		log "[$el s $i/$nev] audit log rotation, SIGHUP ($a)"
		case $a in both) rotate server; rotate client ;; *) rotate "$a" ;; esac
		gap=$b ;;
	*)
		fail "schedule: unknown event $kind" ;;
	esac
	clear_faults
	alive
	sleep "$gap"
	if [ $warm_done = 0 ] && [ $(( $(date +%s) - START )) -ge $WARM ] &&
	   all_kinds_seen; then
		quiet
		sample warm
		log "warm-up sample: $(tail -n 1 "$T/samples")"
		warm_done=1
	fi
done < "$T/schedule"
[ $warm_done = 1 ] || { quiet; sample warm; }

# --- the end -----------------------------------------------------------
quiet
p0=$(progress); sleep 3; p1=$(progress)
[ "$p1" -gt "$p0" ] || fail "the inner stream is stalled at $p1 bytes"
sample end
log "end sample: $(tail -n 1 "$T/samples")"
touch "$T/stream.stop"
wait_for 200 "[ -s '$T/stream.client' ] && [ -s '$T/stream.server' ]" ||
	fail "the inner stream did not finish"
wait $CSTREAM 2>/dev/null || true
wait $SSTREAM 2>/dev/null || true
wait $SAMPLER 2>/dev/null || true
ELAPSED=$(( $(date +%s) - START ))
stop_daemons

files() { # the rotated files in order, then the current one
	local who=$1
	[ -f "$T/rotated.$who" ] && sed "s|^|$T/|" "$T/rotated.$who"
	echo "$T/$who.jsonl"
}
vs=ok vc=ok
# shellcheck disable=SC2046
"$JVPN" audit verify --policy "$T/policy.yaml" $(files server) > "$T/verify.server" 2>&1 || vs=FAIL
# shellcheck disable=SC2046
"$JVPN" audit verify --policy "$T/policy.yaml" $(files client) > "$T/verify.client" 2>&1 || vc=FAIL

# everything the verdict needs, from the files
read -r up down corrupt resets sessions terms switches < <(python3 - "$T" <<'PY'
import glob, json, os, sys
t = sys.argv[1]
c = json.load(open(os.path.join(t, "stream.client")))
s = json.load(open(os.path.join(t, "stream.server")))
ev = []
for f in sorted(glob.glob(os.path.join(t, "client.jsonl*"))):
    ev += [json.loads(l) for l in open(f) if l.strip()]
n = lambda k: sum(1 for e in ev if e.get("event_type") == k)
lost = (c["sent"] - s["received"]) + (s["sent"] - c["received"])
print(s["received"], c["received"], c["corrupted"] + s["corrupted"],
      c["resets"] + s["resets"] + (1 if lost else 0) +
      (0 if c["eof"] and s["eof"] else 1),
      n("SessionCreated"), n("SessionTerminated"), n("TransportSwitch"))
PY
)
read -r wsr wsf wcr wcf < <(awk '$2 == "warm" { print $3, $4, $5, $6 }' "$T/samples")
read -r esr esf ecr ecf < <(awk '$2 == "end" { print $3, $4, $5, $6 }' "$T/samples")
maxs=$(awk '{ if ($3 > m) m = $3 } END { print m }' "$T/samples")
maxc=$(awk '{ if ($5 > m) m = $5 } END { print m }' "$T/samples")
sched=$(for k in cut down loss flap blackout udpblock reload hup; do printf '%s=%s ' $k "${COUNT[$k]:-0}"; done); sched=${sched% }

verdict=PASS why=""
bad() { verdict=FAIL; why="$why; $*"; }
[ "$resets" = 0 ] || bad "$resets inner TCP resets"
[ "$corrupt" = 0 ] || bad "$corrupt corrupted bytes"
[ $vs = ok ] || bad "audit verify (server): $(tail -n 3 "$T/verify.server")"
[ $vc = ok ] || bad "audit verify (client): $(tail -n 3 "$T/verify.client")"
# RSS: AddressSanitizer's quarantine and shadow memory grow by design; under
# ASan the RSS is reported, not judged (descriptors still are)
asan=0
ldd "$JVPN" 2>/dev/null | grep -q libasan && asan=1
for x in "server $wsr $esr" "client $wcr $ecr"; do
	set -- $x
	if [ $(( $3 - $2 )) -ge 1024 ]; then
		[ $asan = 1 ] && log "$1 RSS grew $(( $3 - $2 )) kB (ASan build: not judged)" ||
			bad "$1 RSS grew $(( $3 - $2 )) kB after warm-up"
	fi
done
[ "$esf" -le "$wsf" ] || bad "server descriptors $wsf -> $esf"
[ "$ecf" -le "$wcf" ] || bad "client descriptors $wcf -> $ecf"

summary="soak $verdict: seed $SEED, ${ELAPSED} s, $nev events ($sched), inner TCP ${up} B up ${down} B down, $resets resets, $corrupt corrupted, verify server $vs client $vc, sessions $sessions, switches $switches, RSS kB server $wsr->$esr client $wcr->$ecr, fds server $wsf->$esf client $wcf->$ecf"
mkdir -p "$(dirname "$REPORT")"
{
	echo "$summary"
	echo
	echo "seed $SEED  SOAK_S $SOAK_S  elapsed $ELAPSED s  warm-up $WARM s  binary $JVPN$([ $asan = 1 ] && echo ' (ASan)')"
	echo "schedule: $nev events: $sched"
	echo "inner TCP: client->server $up bytes, server->client $down bytes, $corrupt corrupted, $resets resets"
	echo "client: $sessions SessionCreated, $terms SessionTerminated, $switches TransportSwitch; rotations: server $ROT_server, client $ROT_client"
	echo "audit verify server ($vs): $(tail -n 1 "$T/verify.server")"
	echo "audit verify client ($vc): $(tail -n 1 "$T/verify.client")"
	echo "RSS kB: server warm $wsr end $esr max $maxs; client warm $wcr end $ecr max $maxc"
	echo "fds: server warm $wsf end $esf; client warm $wcf end $ecf"
	[ -z "$why" ] || echo "failed:${why#;}"
	echo
	echo "samples (t label server_rss_kB server_fds client_rss_kB client_fds):"
	cat "$T/samples"
	echo
	echo "schedule (KIND ARGS... GAP):"
	cat "$T/schedule"
	echo
	echo "stream client: $(cat "$T/stream.client")"
	echo "stream server: $(cat "$T/stream.server")"
} > "$REPORT"
# the logs next to the report
rm -rf "${REPORT%.*}.d"; mkdir -p "${REPORT%.*}.d"
cp "$T"/*.jsonl* "$T"/*.log "$T"/policy.yaml "$T"/schedule "$T"/samples "${REPORT%.*}.d/" 2>/dev/null || true
echo "$summary"
log "report: $REPORT"
if [ $verdict = FAIL ]; then
	fail "${why#; }"
fi
log "PASS"
