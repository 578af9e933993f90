#!/bin/bash
# Startup failures name the config key (FILE:LINE) that asked for what
# failed: a busy TUN name, a port in use, a missing audit directory, a
# control socket a live daemon answers on. A missing bind_device is not a
# failure: the client warns, naming the key, and runs with that transport
# link_down until the interface appears (case-iface-recreate.sh). A second
# daemon on the same control_socket is refused and the first still
# answers. `ctl terminate` refuses a malformed id as bad input (exit 2) and
# takes the 8-hex short id that timeline and metrics print.
. "$(dirname "$0")/lib.sh"
topology
write_configs
start_daemons
wait_attached

# line FILE REGEX: the line number of the first match
line() { grep -n -m1 -E "$2" "$1" | cut -d: -f1; }

# start_fails NETNS ROLE CONFIG TEXT: the daemon exits 1 at once and says
# "jvpn: CONFIG:TEXT"
start_fails() {
	local rc=0
	( cd "$T" && exec ip netns exec "$1" timeout 10 "$JVPN" "$2" -c "$3" ) \
		> "$T/fail.out" 2>&1 || rc=$?
	[ $rc = 1 ] || fail "$3: exit $rc (want 1): $(cat "$T/fail.out")"
	grep -qF "jvpn: $3:$4" "$T/fail.out" ||
		fail "$3: got \"$(cat "$T/fail.out")\", want \"jvpn: $3:$4\""
	log "refused as expected: $(head -1 "$T/fail.out")"
}

# the same server config in the client's namespace: its TUN name and ports
# are free there, but the control socket is the running server's
start_fails "$C" server "$T/server.yaml" \
	"$(line "$T/server.yaml" '^control_socket:'): control_socket: $T/server.sock: another daemon answers"
[ -S "$T/server.sock" ] || fail "the refused daemon removed the live socket"
"$JVPN" ctl -s "$T/server.sock" status > /dev/null ||
	fail "the first server no longer answers"

# next to the running server: its TUN name is busy
start_fails "$S" server "$T/server.yaml" \
	"$(line "$T/server.yaml" '^tun:'): tun.name: "
# another TUN name and socket: the UDP port is in use
sed -e 's/name: jvs0/name: jvs9/' -e "s|$T/server.sock|$T/s2.sock|" \
	"$T/server.yaml" > "$T/s2.yaml"
start_fails "$S" server "$T/s2.yaml" \
	"$(line "$T/s2.yaml" '0\.0\.0\.0:51820'): listen[0].address: "

# a client whose transports name interfaces that do not exist (yet): it
# warns, naming each key, and runs with both link_down (so it makes no
# handshake: the running client's session stays the only one)
sed -e 's/name: jvc0/name: jvc9/' -e "s|$T/client.sock|$T/c2.sock|" \
	-e 's|path: client.jsonl|path: c2.jsonl|' \
	-e 's/bind_device: ca0/bind_device: wlan8/' \
	-e 's/bind_device: cb0/bind_device: wlan9/' "$T/client.yaml" > "$T/c2.yaml"
( cd "$T" && exec ip netns exec "$C" "$JVPN" client -c "$T/c2.yaml" ) \
	> "$T/c2.log" 2>&1 &
c2=$!
PIDS="$PIDS $c2"
wait_for 5 "[ -S '$T/c2.sock' ]" ||
	fail "a client with missing interfaces did not start: $(cat "$T/c2.log")"
for w in "$(line "$T/c2.yaml" 'wlan8'): transports[0].bind_device: no such device \"wlan8\"" \
	"$(line "$T/c2.yaml" 'wlan9'): transports[1].bind_device: no such device \"wlan9\""; do
	grep -qF "jvpn: warning: $T/c2.yaml:$w" "$T/c2.log" ||
		fail "no warning \"$w\": $(cat "$T/c2.log")"
done
"$JVPN" ctl -s "$T/c2.sock" transports --json > "$T/c2-transports.json" ||
	fail "the client with missing interfaces does not answer"
python3 - "$T/c2-transports.json" <<'PY' || fail "transports: $(cat "$T/c2-transports.json")"
import json, sys
ts = json.load(open(sys.argv[1]))["transports"]
assert [t["state"] for t in ts] == ["dead", "dead"], ts
PY
kill -0 "$c2" || fail "the client with missing interfaces stopped"
log "runs as expected: $(head -1 "$T/c2.log")"
kill -TERM "$c2"
wait_for 5 "! kill -0 $c2 2>/dev/null" || fail "the client with missing interfaces did not stop"
rc=0
wait "$c2" || rc=$?
[ $rc = 0 ] || fail "the client with missing interfaces exited $rc"
# and one whose audit log would go to a directory that does not exist
sed -e 's/name: jvc0/name: jvc9/' -e "s|$T/client.sock|$T/c3.sock|" \
	-e 's|path: client.jsonl|path: nodir/client.jsonl|' "$T/client.yaml" > "$T/c3.yaml"
start_fails "$C" client "$T/c3.yaml" \
	"$(line "$T/c3.yaml" '^audit:'): audit.path: $T/nodir/client.jsonl: "

# ctl terminate: malformed ids are bad input, short ids work
"$JVPN" ctl -s "$T/server.sock" sessions --json > "$T/sessions.json" || fail "ctl sessions"
id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['sessions'][0]['session_id'])" "$T/sessions.json")
for bad in xyz 0123abc 0123abcg "${id}0"; do
	rc=0
	"$JVPN" ctl -s "$T/server.sock" terminate "$bad" 2> "$T/bad.txt" || rc=$?
	[ $rc = 2 ] || fail "terminate $bad: exit $rc (want 2): $(cat "$T/bad.txt")"
done
other=$(printf '%x' $(( (0x${id:0:1} + 1) % 16 )))${id:1:7}
rc=0
"$JVPN" ctl -s "$T/server.sock" terminate "$other" 2> "$T/none.txt" || rc=$?
[ $rc = 1 ] || fail "terminate $other (no such session): exit $rc (want 1)"
grep -q "no live session $other" "$T/none.txt" || fail "terminate $other: $(cat "$T/none.txt")"
log "terminating ${id:0:8} (of $id)"
"$JVPN" ctl -s "$T/server.sock" terminate "${id:0:8}" || fail "ctl terminate by short id"
wait_for 5 "has client event_type=SessionTerminated reason_code=peer_terminated" ||
	fail "the client was not told"
has server event_type=SessionTerminated reason_code=operator_terminated session_id="$id" ||
	fail "the server did not terminate $id"
wait_for 5 "! kill -0 $CLIENT_PID 2>/dev/null" || fail "the client did not exit"
stop_daemons
[ -e "$T/server.sock" ] && fail "the server left its control socket"
verify_logs
log "PASS"
