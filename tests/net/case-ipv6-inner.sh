#!/bin/bash
# IPv6 inside the tunnel (CONTRACT section 8): both ends hold
# [10.77.0.x/24, fd77::x/64] on their TUN, the gateway's peer holds both
# families in allowed_ips. New devices start with IPv6 switched off here
# (net.ipv6.conf.default.disable_ipv6=1): the daemons must switch it on
# for their TUN. ping -6 and an inner TCP stream over IPv6 go through,
# IPv4 still does, and no inner packet is refused on either end.
. "$(dirname "$0")/lib.sh"
topology
for ns in "$C" "$S"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 2>/dev/null ||
		skip "needs IPv6"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
write_configs
sed -i 's|address: 10.77.0.1/24,|address: [10.77.0.1/24, "fd77::1/64"],|' "$T/server.yaml"
sed -i 's|allowed_ips: \[10.77.0.2/32\]|allowed_ips: [10.77.0.2/32, "fd77::2/128"]|' "$T/server.yaml"
sed -i 's|address: 10.77.0.2/24,|address: [10.77.0.2/24, "fd77::2/64"],|' "$T/client.yaml"
"$JVPN" config check "$T/client.yaml" | grep -qF 'address: [10.77.0.2/24, fd77::2/64]' ||
	fail "config check does not show both addresses"
start_daemons
wait_attached 10
for ns in "$C" "$S"; do
	dev=$([ "$ns" = "$C" ] && echo jvc0 || echo jvs0)
	[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv6/conf/$dev/disable_ipv6)" = 0 ] ||
		fail "IPv6 is off on $dev"
	ip netns exec "$ns" ip -6 addr show dev "$dev" | grep -q 'fd77::.*/64' ||
		fail "$dev lacks its IPv6 address: $(ip netns exec "$ns" ip -6 addr show dev "$dev")"
	ip netns exec "$ns" ip -6 addr show dev "$dev" | grep -q tentative &&
		fail "$dev: the address is still tentative (DAD)"
done
ping_ok 3 || fail "no IPv4 ping through the tunnel"
inc ping -6 -c 5 -i 0.2 -W 2 -q fd77::1 > /dev/null || fail "no ping -6 client -> gateway"
ins ping -6 -c 5 -i 0.2 -W 2 -q fd77::2 > /dev/null || fail "no ping -6 gateway -> client"
stream_start 4 fd77::1
stream_check 30
expect_absent server event_type=SecurityInnerSourceRejected
expect_absent client event_type=SecurityInnerSourceRejected
same_session
stop_daemons
verify_logs
log "PASS"
