#!/bin/bash
# Failure matrix 8: an operator ends the session with `jvpn ctl terminate`.
# The server terminates it (operator_terminated), the client is told
# (peer_terminated). Also checks the other ctl commands on a live daemon,
# policy-reload included, audit log rotation on SIGHUP, and that the TUN
# devices are gone after the daemons stop.
. "$(dirname "$0")/lib.sh"
topology
write_configs
# GET /metrics over HTTP on both ends (each host has its own loopback)
echo 'metrics_listen: "127.0.0.1:9101"' >> "$T/server.yaml"
echo 'metrics_listen: "127.0.0.1:9101"' >> "$T/client.yaml"
start_daemons
wait_attached
# events name the peer and its outer address on both ends
has server event_type=SessionCreated peer=laptop || fail "server: no peer in SessionCreated"
has client event_type=SessionCreated peer=laptop remote=10.201.1.2:51820 ||
	fail "client: no peer or remote in SessionCreated"
grep -q '"peer":"laptop","remote":"10.201.1.1:[0-9]*"' "$T/server.jsonl" ||
	fail "server events: no remote: $(head -2 "$T/server.jsonl")"
grep -q '"peer":"laptop","remote":"10.201.1.2:51820"' "$T/client.jsonl" ||
	fail "client events: no remote: $(head -2 "$T/client.jsonl")"
for h in ins inc; do
	$h python3 - <<'PY' > "$T/http-$h.txt" || fail "$h: GET /metrics: $(cat "$T/http-$h.txt")"
import urllib.request, urllib.error
r = urllib.request.urlopen("http://127.0.0.1:9101/metrics", timeout=5)
assert r.status == 200, r.status
assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
print(r.read().decode(), end="")
try:
    urllib.request.urlopen("http://127.0.0.1:9101/", timeout=5)
    raise SystemExit("/ answered 200")
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
PY
	grep -q '^jvpn_up{node="' "$T/http-$h.txt" || fail "$h: metrics: $(head -5 "$T/http-$h.txt")"
	if command -v promtool > /dev/null; then
		promtool check metrics < "$T/http-$h.txt" > "$T/promtool-$h.txt" 2>&1 ||
			fail "$h: promtool: $(cat "$T/promtool-$h.txt")"
	fi
done
grep -q '^jvpn_peer_attached{node="gw-1",peer="laptop"} 1$' "$T/http-ins.txt" ||
	fail "server metrics: $(grep peer "$T/http-ins.txt")"
"$JVPN" ctl -s "$T/server.sock" status > "$T/status.txt" || fail "ctl status"
grep -q 'ATTACHED *1' "$T/status.txt" || fail "status: $(cat "$T/status.txt")"
"$JVPN" ctl -s "$T/client.sock" transports > "$T/tr.txt" || fail "ctl transports"
grep -q '^udp-a .*active.* laptop  *10.201.1.2:51820' "$T/tr.txt" || fail "transports: $(cat "$T/tr.txt")"
"$JVPN" ctl -s "$T/server.sock" transports > "$T/str.txt" || fail "ctl transports (server)"
grep -q '^udp-a .*active.* laptop  *10.201.1.1:[0-9]' "$T/str.txt" || fail "server transports: $(cat "$T/str.txt")"
"$JVPN" ctl -s "$T/server.sock" metrics > "$T/metrics.txt" || fail "ctl metrics"
grep -q '^jvpn_sessions{node="gw-1",state="ATTACHED"} 1$' "$T/metrics.txt" ||
	fail "metrics: $(head -20 "$T/metrics.txt")"
"$JVPN" ctl -s "$T/server.sock" sessions --json > "$T/sessions.json" || fail "ctl sessions"
# log rotation: the file is moved away, SIGHUP, new events go to a new file
mv "$T/server.jsonl" "$T/server.jsonl.1"
kill -HUP $SERVER_PID
wait_for 5 "[ -f '$T/server.jsonl' ]" || fail "SIGHUP did not reopen the audit log"
# policy-reload: a valid policy is applied, a bad one refused, both logged
sed 's/max_switches_per_min: [0-9]*/max_switches_per_min: 5/' "$T/policy.yaml" > "$T/new.yaml"
sed 's/max_switches_per_min: [0-9]*/max_switches_per_min: 0/' "$T/policy.yaml" > "$T/bad.yaml"
"$JVPN" ctl -s "$T/server.sock" policy-reload "$T/new.yaml" || fail "policy-reload"
"$JVPN" ctl -s "$T/server.sock" policy-reload "$T/bad.yaml" 2> "$T/bad.txt" &&
	fail "a bad policy was accepted"
grep -q 'max_switches_per_min: value 0 out of range' "$T/bad.txt" ||
	fail "policy-reload: $(cat "$T/bad.txt")"
has server event_type=PolicyLoaded || fail "no PolicyLoaded"
has server event_type=PolicyRejected || fail "no PolicyRejected"
id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['sessions'][0]['session_id'])" "$T/sessions.json")
"$JVPN" ctl -s "$T/server.sock" terminate 00000000000000000000000000000000 &&
	fail "terminating an unknown session succeeded"
log "terminating $id"
"$JVPN" ctl -s "$T/server.sock" terminate "$id" || fail "ctl terminate"
wait_for 5 "has client event_type=SessionTerminated reason_code=peer_terminated" ||
	fail "the client was not told"
expect_seq server \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=TERMINATED,reason_code=operator_terminated" \
	"event_type=SessionTerminated,reason_code=operator_terminated"
expect_seq client \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=TERMINATED,reason_code=peer_terminated"
wait_for 5 "! kill -0 $CLIENT_PID 2>/dev/null" || fail "the client did not exit"
inc ip link show jvc0 > /dev/null 2>&1 && fail "the client's TUN device is still there"
stop_daemons
ins ip link show jvs0 > /dev/null 2>&1 && fail "the server's TUN device is still there"
# the rotated log and the new one are one stream: seq goes on
cat "$T/server.jsonl.1" "$T/server.jsonl" > "$T/all.jsonl"
mv "$T/all.jsonl" "$T/server.jsonl"
verify_logs
log "PASS"
