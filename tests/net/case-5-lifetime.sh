#!/bin/bash
# Failure matrix 5: session_age_ms passes max_lifetime_ms (8 s here). The
# end that reaches the boundary first terminates with
# session_lifetime_exceeded and tells the other; the client, with
# on_terminated: reconnect, starts an explicitly new session that names the
# old one, and traffic flows again.
MAX_LIFETIME_MS=8000 TRANSPORT_LOST_TTL_MS=5000 ON_TERMINATED=reconnect
export MAX_LIFETIME_MS TRANSPORT_LOST_TTL_MS ON_TERMINATED
. "$(dirname "$0")/lib.sh"
topology
write_configs
start_daemons
wait_attached
first=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['session_id'])" "$T/client.jsonl")
wait_for 15 "has client event_type=SessionTerminated reason_code=session_lifetime_exceeded" ||
	fail "no lifetime termination"
wait_for 10 "has client event_type=SessionCreated previous_session_id=$first" ||
	fail "no new session naming the old one"
wait_for 10 "[ \$(python3 '$HERE/events.py' count '$T/server.jsonl' event_type=SessionStateChange new_state=ATTACHED) -ge 2 ]" ||
	fail "the new session did not attach"
ping_ok 3 || fail "no ping in the new session"
expect_seq client \
	"event_type=SessionStateChange,previous_state=ATTACHED,new_state=TERMINATED,reason_code=session_lifetime_exceeded" \
	"event_type=SessionTerminated,reason_code=session_lifetime_exceeded" \
	"event_type=SessionCreated,previous_session_id=$first" \
	"event_type=SessionStateChange,previous_state=BIRTH,new_state=ATTACHED"
# whichever end reaches the boundary first tells the other
has server event_type=SessionTerminated reason_code=session_lifetime_exceeded session_id=$first ||
	has server event_type=SessionTerminated reason_code=peer_terminated session_id=$first ||
	fail "the server did not end the old session"
stop_daemons
verify_logs
log "PASS"
