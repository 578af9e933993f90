# Shared harness for the namespace tests: two hosts (network namespaces)
# joined by independent veth paths, real jvpn daemons, real traffic.
# Everything the test creates lives in its own namespaces and temp dir and
# is removed on exit. Traffic only goes to addresses inside them.
#
# Paths:  A  client ca0 10.201.1.1/24  <->  server sa0 10.201.1.2/24
#         B  client cb0 10.201.2.1/24  <->  server sb0 10.201.2.2/24
#         C  client cc0 10.201.3.1/24  <->  server sc0 10.201.3.2/24 (NPATHS=3)
# Tunnel: client 10.77.0.2  server 10.77.0.1

set -eu
JVPN=${JVPN:?JVPN must name the jvpn binary}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ID=$$
C=jvc$ID
S=jvs$ID
T=$(mktemp -d "${TMPDIR:-/tmp}/jvnet.XXXXXX")
NPATHS=${NPATHS:-2}
PIDS=""

log() { printf '%s %s\n' "$(date +%T.%3N)" "$*" >&2; }
fail() {
	log "FAIL: $*"
	dump
	exit 1
}
skip() { log "SKIP: $*"; exit 77; }

dump() {
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $(basename "$f") (last 25 lines)" >&2
		tail -n 25 "$f" >&2
	done
	for f in "$T"/*.jsonl; do
		[ -f "$f" ] || continue
		echo "--- $(basename "$f") timeline" >&2
		python3 "$HERE/events.py" timeline "$f" >&2 || true
	done
}

cleanup() {
	set +e
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$p" 2>/dev/null
	done
	ip netns del "$C" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v ip >/dev/null || skip "needs iproute2"
	command -v nft >/dev/null || skip "needs nftables"
	[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
	ip netns add "jvprobe$ID" 2>/dev/null || skip "cannot create network namespaces"
	ip netns del "jvprobe$ID"
}

# IPv6 on in both namespaces (after topology), or skip the case.
need_ipv6() {
	local ns
	for ns in "$C" "$S"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
			2>/dev/null || skip "needs IPv6"
	done
}

inc() { ip netns exec "$C" "$@"; }
ins() { ip netns exec "$S" "$@"; }

# Builds the two hosts and the paths.
topology() {
	need_root
	ip netns add "$C"
	ip netns add "$S"
	inc ip link set lo up
	ins ip link set lo up
	local n=1
	for p in a b c; do
		[ $n -le "$NPATHS" ] || break
		ip link add "c${p}0" netns "$C" type veth peer name "s${p}0" netns "$S"
		inc ip addr add "10.201.$n.1/24" dev "c${p}0"
		ins ip addr add "10.201.$n.2/24" dev "s${p}0"
		inc ip link set "c${p}0" up
		ins ip link set "s${p}0" up
		n=$((n + 1))
	done
	# an empty table per host for the faults
	inc nft add table inet jvtest
	inc nft add chain inet jvtest out '{ type filter hook output priority 0; }'
	inc nft add chain inet jvtest in '{ type filter hook input priority 0; }'
	ins nft add table inet jvtest
	ins nft add chain inet jvtest out '{ type filter hook output priority 0; }'
	ins nft add chain inet jvtest in '{ type filter hook input priority 0; }'
}

# policy FILE [KEY=VALUE overrides as YAML lines appended by section]
write_policy() {
	cat > "$T/policy.yaml" <<POL
version: "1.0"
session:
  max_lifetime_ms: ${MAX_LIFETIME_MS:-3600000}
  transport_lost_ttl_ms: ${TRANSPORT_LOST_TTL_MS:-20000}
volatility:
  heartbeat_interval_ms: ${HEARTBEAT_MS:-200}
  heartbeat_volatile_ms: ${VOLATILE_MS:-1000}
  loss_window_ms: 2000
  loss_volatile_threshold: 0.20
  max_consecutive_drops: 3
  volatile_to_degraded_ms: 2000
switching:
  max_switches_per_min: ${MAX_SWITCHES:-8}
  switch_cooldown_ms: ${COOLDOWN_MS:-500}
  recovery_window_ms: 4000
  resend_max_bytes: ${RESEND_MAX_BYTES:-262144}
  failback_after_ms: ${FAILBACK_MS:-0}
transport:
  probe_interval_ms: 300
security:
  reattach_proof_max_age_ms: 5000
  rekey_after_ms: ${REKEY_AFTER_MS:-120000}
POL
}

# Writes keys and both configs. TRANSPORTS: client transport lines.
write_configs() {
	umask 077
	"$JVPN" genkey > "$T/server.key"
	"$JVPN" genkey > "$T/client.key"
	umask 022
	local spub cpub
	spub=$("$JVPN" pubkey < "$T/server.key")
	cpub=$("$JVPN" pubkey < "$T/client.key")
	write_policy
	if [ -z "${TRANSPORTS:-}" ]; then
		TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }
  - { id: udp-b, proto: udp, remote: "10.201.2.2:51820", bind_device: cb0 }'
	fi
	cat > "$T/server.yaml" <<CFG
role: server
node_id: gw-1
private_key_file: server.key
listen:
  - { id: udp-51820, proto: udp, address: "0.0.0.0:51820" }
  - { id: tcp-443, proto: tcp, address: "0.0.0.0:443" }
tun: { name: jvs0, address: 10.77.0.1/24, mtu: 1400 }
peers:
  - { name: laptop, public_key: "$cpub", allowed_ips: [10.77.0.2/32] }
audit: { path: server.jsonl }
control_socket: $T/server.sock
policy_file: policy.yaml
CFG
	cat > "$T/client.yaml" <<CFG
role: client
node_id: laptop
private_key_file: client.key
server_public_key: "$spub"
transports:
$TRANSPORTS
tun: { name: jvc0, address: 10.77.0.2/24, mtu: 1400 }
audit: { path: client.jsonl }
control_socket: $T/client.sock
on_terminated: ${ON_TERMINATED:-exit}
policy_file: policy.yaml
CFG
}

# Starts (or, after it stopped, restarts) the server daemon; its audit
# log and its stderr are appended to.
start_server() {
	rm -f "$T/server.sock"
	# relative audit paths are relative to the config file's directory
	( cd "$T" && exec ip netns exec "$S" "$JVPN" server -c "$T/server.yaml" ) \
		>> "$T/server.log" 2>&1 &
	PIDS="$PIDS $!"
	SERVER_PID=$!
	wait_for 5 "[ -S '$T/server.sock' ]" || fail "server did not start"
}

# Starts (or restarts) the client daemon; its stderr is appended to.
start_client() {
	( cd "$T" && exec ip netns exec "$C" "$JVPN" client -c "$T/client.yaml" ) \
		>> "$T/client.log" 2>&1 &
	PIDS="$PIDS $!"
	CLIENT_PID=$!
}

start_daemons() {
	start_server
	start_client
}

# wait_for SECONDS 'shell condition'
wait_for() {
	local end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -le $end ]; do
		eval "$2" && return 0
		sleep 0.2
	done
	return 1
}

# has ROLE_FILE KEY=VALUE...: an event with all these fields exists
has() {
	python3 "$HERE/events.py" has "$T/$1.jsonl" "${@:2}"
}

# expect_seq FILE MATCHER...: events in this order (matchers are
# "k=v,k=v" groups)
expect_seq() {
	python3 "$HERE/events.py" seq "$T/$1.jsonl" "${@:2}" ||
		fail "$1: expected sequence not found"
}

expect_absent() {
	if python3 "$HERE/events.py" has "$T/$1.jsonl" "${@:2}"; then
		fail "$1: unexpected event ${*:2}"
	fi
}

wait_attached() {
	wait_for "${1:-10}" "has client event_type=SessionStateChange new_state=ATTACHED 2>/dev/null && has server event_type=SessionStateChange new_state=ATTACHED 2>/dev/null" ||
		fail "the session did not come up"
}

# Both hosts, the configs and the daemons, and a session attached within
# SECONDS (10).
bring_up() {
	topology
	write_configs
	start_daemons
	wait_attached "${1:-10}"
}

ping_ok() {
	inc ping -c "${1:-3}" -i 0.2 -W 2 -q 10.77.0.1 > /dev/null
}

# drop_on DEV [NFT MATCH...]: the client drops what goes out and comes in
# on DEV (everything, or what the match selects).
drop_on() {
	inc nft add rule inet jvtest out oifname "$1" "${@:2}" drop
	inc nft add rule inet jvtest in iifname "$1" "${@:2}" drop
}

# cut_path_a SECONDS HOW [PERCENT]: cuts path A and expects the client to
# switch to udp-b within SECONDS (CUT_TO="udp-b tcp-b": to any of them,
# for a case with several transports on path B whose RTTs decide). HOW: down (ip link set down), drop
# (nftables drops everything, the link stays up) or loss PERCENT (random
# drops, each way).
cut_path_a() {
	case $2 in
	down)
		log "cutting path A (link down)"
		inc ip link set ca0 down ;;
	drop)
		log "dropping everything on path A (nftables)"
		drop_on ca0 ;;
	loss)
		log "$3% loss each way on path A"
		drop_on ca0 numgen random mod 100 '<' "$3" ;;
	*)
		fail "cut_path_a: no way to cut '$2'" ;;
	esac
	local to cond=
	for to in ${CUT_TO:-udp-b}; do
		cond="${cond:+$cond || }has client event_type=TransportSwitch new_transport=$to"
	done
	wait_for "$1" "$cond" || fail "no switch to ${CUT_TO:-udp-b}"
}

# stay_on TRANSPORT SECONDS: the session attached over TRANSPORT, carries
# ping, and stays there for SECONDS with no transport dead and no switch.
stay_on() {
	has client event_type=SessionStateChange new_state=ATTACHED transport_id="$1" ||
		fail "the session did not attach over $1"
	ping_ok 3 || fail "no ping through the tunnel"
	log "staying on $1 for $2 s"
	sleep "$2"
	ping_ok 3 || fail "no ping after $2 s"
	expect_absent client event_type=TransportDead
	expect_absent client event_type=TransportSwitch
}

# An inner TCP stream through the tunnel for SECONDS to the server's
# ADDR (10.77.0.1, or an IPv6 one); its result is checked by stream_check.
stream_start() {
	local addr=${2:-10.77.0.1} shown
	shown=$addr
	case $addr in *:*) shown="[$addr]" ;; esac
	ins python3 "$HERE/stream.py" serve "$addr" 5001 "$T/stream.result" \
		> "$T/stream-server.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 5 "ins ss -ltn 2>/dev/null | grep -qF '$shown:5001'" ||
		fail "stream server did not start"
	inc python3 "$HERE/stream.py" send "$addr" 5001 "$1" \
		> "$T/stream-client.log" 2>&1 &
	STREAM_PID=$!
	PIDS="$PIDS $!"
}

stream_check() {
	wait_for "${1:-60}" "[ -s '$T/stream.result' ]" || fail "stream did not finish"
	wait "$STREAM_PID" || fail "inner TCP stream failed: $(cat "$T/stream-client.log")"
	grep -q '^OK' "$T/stream.result" ||
		fail "inner TCP stream: $(cat "$T/stream.result")"
	log "inner TCP stream: $(cat "$T/stream.result")"
}

verify_logs() {
	"$JVPN" audit verify --policy "$T/policy.yaml" "$T/client.jsonl" > /dev/null ||
		fail "audit verify: client log"
	"$JVPN" audit verify --policy "$T/policy.yaml" "$T/server.jsonl" > /dev/null ||
		fail "audit verify: server log"
}

# Stops both daemons with SIGTERM; each must exit 0 and no sanitizer may
# have complained.
stop_daemons() {
	local rc
	kill -TERM $SERVER_PID $CLIENT_PID 2>/dev/null || true
	wait_for 5 "! kill -0 $SERVER_PID 2>/dev/null && ! kill -0 $CLIENT_PID 2>/dev/null" ||
		fail "daemons did not stop"
	for p in $SERVER_PID $CLIENT_PID; do
		rc=0
		wait "$p" || rc=$?
		[ $rc = 0 ] || fail "a daemon exited with status $rc"
	done
	if grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T"/*.log >&2; then
		fail "sanitizer report"
	fi
}

# The client made one handshake only: a switch is not a new session.
no_new_handshake() {
	[ "$(python3 "$HERE/events.py" count "$T/client.jsonl" event_type=SessionCreated)" = 1 ] ||
		fail "a new handshake happened"
}

# Same session id from start to end on both nodes.
same_session() {
	python3 "$HERE/events.py" sessions "$T/client.jsonl" "$T/server.jsonl" |
		grep -qx 1 || fail "the session id changed"
}
