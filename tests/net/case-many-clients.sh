#!/bin/bash
# CONTRACT section 8, many clients and site to site: two clients on one
# gateway, each with its own tunnel address; client 1 (laptop) has a LAN
# behind it (10.88.0.0/24, a namespace of its own) listed in its peer's
# allowed_ips, and the gateway routes it to its TUN, so traffic between
# that LAN and the gateway flows both ways. Client 1 sending with client
# 2's inner source address is dropped at the gateway, counted
# (jvpn_inner_source_rejected_total) and reported
# (SecurityInnerSourceRejected, inner_source_not_allowed); client 2 is not
# disturbed. A reload adds and removes the routes of a peer's prefixes
# (IPv4 and IPv6).
. "$(dirname "$0")/lib.sh"

P=jvp$ID    # client 2 (phone), its own uplink to the gateway
L=jvl$ID    # the LAN behind client 1
inp() { ip netns exec "$P" "$@"; }
inl() { ip netns exec "$L" "$@"; }
cleanup_all() {
	ip netns del "$P" 2>/dev/null
	ip netns del "$L" 2>/dev/null
	cleanup
}
trap cleanup_all EXIT

topology
ip netns add "$P"
ip netns add "$L"
inp ip link set lo up
inl ip link set lo up
ip link add cp0 netns "$P" type veth peer name sp0 netns "$S"
inp ip addr add 10.202.1.1/24 dev cp0
ins ip addr add 10.202.1.2/24 dev sp0
inp ip link set cp0 up
ins ip link set sp0 up
ip link add cl0 netns "$C" type veth peer name ll0 netns "$L"
inc ip addr add 10.88.0.1/24 dev cl0
inl ip addr add 10.88.0.2/24 dev ll0
inc ip link set cl0 up
inl ip link set ll0 up
inl ip route add default via 10.88.0.1
inc sysctl -qw net.ipv4.ip_forward=1

write_configs
umask 077
"$JVPN" genkey > "$T/phone.key"
umask 022
phone_pub=$("$JVPN" pubkey < "$T/phone.key")
spub=$("$JVPN" pubkey < "$T/server.key")
sed -i "s|allowed_ips: \[10.77.0.2/32\] }|allowed_ips: [10.77.0.2/32, 10.88.0.0/24] }\n  - { name: phone, public_key: \"$phone_pub\", allowed_ips: [10.77.0.3/32] }|" "$T/server.yaml"
cat > "$T/phone.yaml" <<CFG
role: client
node_id: phone
private_key_file: phone.key
server_public_key: "$spub"
transports:
  - { id: udp-p, proto: udp, remote: "10.202.1.2:51820", bind_device: cp0 }
tun: { name: jvc1, address: 10.77.0.3/24, mtu: 1400 }
audit: { path: phone.jsonl }
control_socket: $T/phone.sock
on_terminated: exit
policy_file: policy.yaml
CFG
start_daemons
( cd "$T" && exec ip netns exec "$P" "$JVPN" client -c "$T/phone.yaml" ) > "$T/phone.log" 2>&1 &
PIDS="$PIDS $!"
PHONE_PID=$!
wait_attached
wait_for 10 "has phone event_type=SessionStateChange new_state=ATTACHED 2>/dev/null" ||
	fail "the phone did not attach"

# the gateway routes the LAN behind the laptop to its TUN; the peers'
# own tunnel addresses are inside the TUN's subnet already
ins ip route show 10.88.0.0/24 | grep -q 'dev jvs0' ||
	fail "no route for the laptop's LAN on the gateway: $(ins ip route)"
[ -z "$(ins ip route show 10.77.0.2/32)" ] || fail "a route inside the tunnel subnet"
ping_ok 3 || fail "laptop: no ping"
inp ping -c 3 -i 0.2 -W 2 -q 10.77.0.1 > /dev/null || fail "phone: no ping"
inl ping -c 3 -i 0.2 -W 2 -q 10.77.0.1 > /dev/null ||
	fail "no ping from the LAN behind the laptop to the gateway"
ins ping -c 3 -i 0.2 -W 2 -q 10.88.0.2 > /dev/null ||
	fail "no ping from the gateway to the LAN behind the laptop"
inp ping -c 3 -i 0.2 -W 2 -q 10.88.0.2 > /dev/null 2>&1 &&
	log "(the phone reaches the LAN too: the gateway forwards)"

# the laptop impersonates the phone
inc ip addr add 10.77.0.3/32 dev jvc0
inc ping -c 5 -i 0.2 -W 1 -q -I 10.77.0.3 10.77.0.1 > /dev/null 2>&1 &&
	fail "a packet with the phone's source from the laptop was answered"
inc ip addr del 10.77.0.3/32 dev jvc0
wait_for 5 "has server event_type=SecurityInnerSourceRejected reason_code=inner_source_not_allowed peer=laptop 2>/dev/null" ||
	fail "no SecurityInnerSourceRejected for the laptop"
"$JVPN" ctl -s "$T/server.sock" metrics > "$T/metrics.txt" || fail "ctl metrics"
n=$(awk '$1 ~ /^jvpn_inner_source_rejected_total({|$)/ { print $2 }' "$T/metrics.txt")
[ "${n:-0}" -ge 5 ] || fail "jvpn_inner_source_rejected_total is ${n:-missing}, not >= 5"
expect_absent server event_type=SecurityInnerSourceRejected peer=phone
inp ping -c 3 -i 0.2 -W 2 -q 10.77.0.1 > /dev/null || fail "phone: no ping after the attempt"
ping_ok 3 || fail "laptop: no ping after the attempt"

# a reload adds the routes of added prefixes, removes those of removed ones
sed -i 's|allowed_ips: \[10.77.0.3/32\] }|allowed_ips: [10.77.0.3/32, 10.99.0.0/24, "fd99::/64"] }|' "$T/server.yaml"
"$JVPN" ctl -s "$T/server.sock" reload > "$T/reload.txt" || fail "ctl reload: $(cat "$T/reload.txt")"
ins ip route show 10.99.0.0/24 | grep -q 'dev jvs0' || fail "reload: no route for 10.99.0.0/24"
ins ip -6 route show fd99::/64 | grep -q 'dev jvs0' || fail "reload: no route for fd99::/64"
ins ip route show 10.88.0.0/24 | grep -q 'dev jvs0' || fail "reload: the LAN's route went"
sed -i 's|allowed_ips: \[10.77.0.3/32, 10.99.0.0/24, "fd99::/64"\] }|allowed_ips: [10.77.0.3/32] }|' "$T/server.yaml"
kill -HUP "$SERVER_PID"
wait_for 5 "[ -z \"\$(ins ip route show 10.99.0.0/24)\" ] && [ -z \"\$(ins ip -6 route show fd99::/64)\" ]" ||
	fail "reload: the removed prefixes' routes stayed"
ins ip route show 10.88.0.0/24 | grep -q 'dev jvs0' || fail "reload: the LAN's route went"
ping_ok 3 || fail "laptop: no ping after the reloads"
# the reloads left both sessions alone
no_new_handshake
expect_absent client event_type=SessionTerminated
expect_absent phone event_type=SessionTerminated

kill -TERM "$PHONE_PID"
wait "$PHONE_PID" || fail "the phone exited with status $?"
stop_daemons
verify_logs
"$JVPN" audit verify --policy "$T/policy.yaml" "$T/phone.jsonl" > /dev/null ||
	fail "audit verify: phone log"
if grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T"/*.log >&2; then
	fail "sanitizer report"
fi
log "PASS"
