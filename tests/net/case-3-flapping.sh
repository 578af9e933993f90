#!/bin/bash
# Failure matrix 3: both paths flap, alternately, faster than the policy
# lets the session follow (max_switches_per_min: 3). The fourth switch in
# a minute is denied (switch_rate_limited), the session waits in DEGRADED,
# and once the minute has passed it attaches again, same session_id; an
# inner TCP stream started before the flapping completes without a reset.
MAX_SWITCHES=3 TRANSPORT_LOST_TTL_MS=120000 COOLDOWN_MS=200
export MAX_SWITCHES TRANSPORT_LOST_TTL_MS COOLDOWN_MS
. "$(dirname "$0")/lib.sh"
topology
write_configs
start_daemons
wait_attached
stream_start 30
sleep 1
log "flapping A and B alternately, 2 s each, for 16 s"
for i in 1 2 3 4; do
	inc ip link set ca0 down; sleep 2; inc ip link set ca0 up
	inc ip link set cb0 down; sleep 2; inc ip link set cb0 up
done
wait_for 5 "has client event_type=TransportSwitchDenied reason_code=switch_rate_limited" ||
	fail "no switch was denied"
n=$(python3 "$HERE/events.py" count "$T/client.jsonl" event_type=TransportSwitch)
[ "$n" -le 3 ] || fail "$n switches within the first minute"
log "waiting for the limiter's minute to pass"
wait_for 70 "python3 '$HERE/events.py' seq '$T/client.jsonl' event_type=TransportSwitchDenied 'event_type=SessionStateChange,new_state=ATTACHED'" ||
	fail "the session did not attach again"
ping_ok 3 || fail "no ping after the flapping"
stream_check 120
expect_seq client \
	"event_type=TransportSwitch" \
	"event_type=TransportSwitchDenied,reason_code=switch_rate_limited" \
	"event_type=SessionStateChange,new_state=ATTACHED"
has client event_type=SessionStateChange new_state=DEGRADED ||
	fail "the session never went DEGRADED"
expect_absent client event_type=SessionTerminated
expect_absent server event_type=SessionTerminated
# the gateway followed every switch the client made, and no other
[ "$(python3 "$HERE/events.py" count "$T/server.jsonl" event_type=TransportSwitch)" = \
  "$(python3 "$HERE/events.py" count "$T/client.jsonl" event_type=TransportSwitch)" ] ||
	fail "the two ends disagree on the switches"
same_session
stop_daemons
verify_logs
log "PASS"
