#!/bin/bash
# The server's audit log across two restarts and a rotation (issue #7,
# finding 7). The server is killed (its sessions just stop: no event), then
# started again appending to the same file; the log is rotated (mv, SIGHUP)
# while the second run goes on; the server is stopped cleanly and started a
# third time. Traffic flows before and after each step. `jvpn audit verify`
# must accept the rotated file and the current one, together and each
# alone (the current file begins in the middle of a run), and must still
# find a gap: one line deleted from the middle of a run.
. "$(dirname "$0")/lib.sh"
ON_TERMINATED=reconnect
TRANSPORT_LOST_TTL_MS=4000
topology
write_configs
start_daemons

# server events matching k=v... in the rotated and the current file
count() {
	cat "$T"/server.jsonl.1 "$T/server.jsonl" 2>/dev/null |
		python3 "$HERE/events.py" count /dev/stdin "$@"
}

runs() {
	cat "$T"/server.jsonl.1 "$T/server.jsonl" 2>/dev/null |
		python3 -c 'import json,sys; print(len({json.loads(l).get("run_id") for l in sys.stdin if l.strip()}))'
}

# waits until the server has seen N sessions come up, then pings
attached_n() {
	wait_for 40 "[ \$(count event_type=SessionStateChange new_state=ATTACHED) -ge $1 ]" ||
		fail "session $1 did not come up on the server"
	wait_for 10 "ping_ok 1" || fail "no traffic after session $1 came up"
	ping_ok 3 || fail "ping after session $1 came up"
}

restart_server() {
	kill "-$1" $SERVER_PID
	wait_for 5 "! kill -0 $SERVER_PID 2>/dev/null" || fail "server did not stop"
	wait $SERVER_PID 2>/dev/null || true
	start_server
}

wait_attached
ping_ok 3 || fail "ping before the first restart"

# 1: a crash. The old run's session stops without a SessionTerminated; the
# client's reattach is refused and it makes a new session.
log "restart 1 (SIGKILL)"
restart_server KILL
attached_n 2

# events of the second run (PolicyLoaded) on both sides of the rotation
reload() {
	"$JVPN" ctl -s "$T/server.sock" policy-reload "$T/policy.yaml" > /dev/null ||
		fail "policy-reload"
}
reload
reload
reload

# rotation in the middle of the second run; an event after it opens the
# new file mid-run
log "rotation"
mv "$T/server.jsonl" "$T/server.jsonl.1"
kill -HUP $SERVER_PID
wait_for 5 "[ -f '$T/server.jsonl' ]" || fail "SIGHUP did not reopen the audit log"
reload
wait_for 5 "[ -s '$T/server.jsonl' ]" || fail "no event in the new file"
ping_ok 3 || fail "ping after the rotation"

# 2: a clean stop (the session is terminated, the client told), appending
# to the new file
log "restart 2 (SIGTERM)"
restart_server TERM
attached_n 3
stop_daemons

[ "$(python3 "$HERE/events.py" count "$T/server.jsonl.1" seq=1)" -ge 2 ] ||
	fail "the rotated file should hold the first run and the second's start"
head -n 1 "$T/server.jsonl" | grep -q '"seq":1,' &&
	fail "the current file should begin in the middle of the second run"

v() { "$JVPN" audit verify --policy "$T/policy.yaml" "$@"; }
v "$T/server.jsonl.1" "$T/server.jsonl" > "$T/verify.out" 2>&1 ||
	fail "audit verify, rotated + current: $(cat "$T/verify.out")"
log "verify: $(cat "$T/verify.out")"
grep -q ', 3 runs$' "$T/verify.out" || fail "verify did not see 3 runs"
[ "$(runs)" = 3 ] || fail "expected 3 runs in the server's log, got $(runs)"
v "$T/server.jsonl.1" > "$T/verify.out" 2>&1 ||
	fail "audit verify, rotated file alone: $(cat "$T/verify.out")"
v "$T/server.jsonl" > "$T/verify.out" 2>&1 ||
	fail "audit verify, current file alone: $(cat "$T/verify.out")"
v "$T/client.jsonl" > "$T/verify.out" 2>&1 ||
	fail "audit verify, client: $(cat "$T/verify.out")"

# a real gap: a line from the middle of a run of the rotated file goes
# (one whose run goes on after it, in this file)
gap=$(python3 - "$T/server.jsonl.1" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ok = [i for i in range(1, len(ev) - 1)
      if ev[i - 1]["run_id"] == ev[i]["run_id"] == ev[i + 1]["run_id"]]
i = ok[len(ok) // 2]
print(i + 1, ev[i]["seq"], ev[i + 1]["seq"])
PY
)
set -- $gap
log "deleting line $1 (seq $2) of the rotated file"
sed "${1}d" "$T/server.jsonl.1" > "$T/gap.jsonl.1"
rc=0
v "$T/gap.jsonl.1" "$T/server.jsonl" > "$T/verify.out" 2>&1 || rc=$?
[ $rc = 1 ] || fail "verify with a gap: exit $rc, not 1: $(cat "$T/verify.out")"
grep -q "gap.jsonl.1:$1: .*seq $3, expected $2" "$T/verify.out" ||
	fail "verify did not name the gap: $(cat "$T/verify.out")"
log "gap found: $(cat "$T/verify.out")"
log "PASS"
