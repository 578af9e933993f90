#!/bin/bash
# Failure matrix 8: an operator ends the session with `jvpn ctl terminate`.
# The server terminates it (operator_terminated), the client is told
# (peer_terminated). Also checks the other ctl commands on a live daemon,
# policy-reload included, audit log rotation on SIGHUP, and that the TUN
# devices are gone after the daemons stop.
. "$(dirname "$0")/lib.sh"
topology
write_configs
start_daemons
wait_attached
"$JVPN" ctl -s "$T/server.sock" status > "$T/status.txt" || fail "ctl status"
grep -q 'ATTACHED *1' "$T/status.txt" || fail "status: $(cat "$T/status.txt")"
"$JVPN" ctl -s "$T/client.sock" transports > "$T/tr.txt" || fail "ctl transports"
grep -q '^udp-a .*active' "$T/tr.txt" || fail "transports: $(cat "$T/tr.txt")"
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
