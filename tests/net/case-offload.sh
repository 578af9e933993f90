#!/bin/bash
# TUN offloads (issue 11 item 5): the daemons open their TUN with
# IFF_VNET_HDR, TSO and USO, so the kernel hands them super packets of up
# to 64 KiB that they split into MTU-sized packets themselves. Large TCP
# writes (TSO) and UDP sends with UDP_SEGMENT (USO) go through the tunnel
# both ways, over inner IPv4 and IPv6; what arrives must equal what was
# sent (the TCP byte stream's sha256, each UDP datagram on its own), the
# receiving kernels must see no bad checksum and no bad header, the
# daemons must have split super packets (jvpn_tun_gso_packets_total),
# sent the tunnel's datagrams in runs (UDP_SEGMENT) and read them joined
# (UDP GRO) (jvpn_udp_offload_total), and dropped nothing as invalid.
NPATHS=1
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }'
. "$(dirname "$0")/lib.sh"
topology
need_ipv6
write_configs
sed -i 's|address: 10.77.0.1/24,|address: [10.77.0.1/24, "fd77::1/64"],|' "$T/server.yaml"
sed -i 's|allowed_ips: \[10.77.0.2/32\]|allowed_ips: [10.77.0.2/32, "fd77::2/128"]|' "$T/server.yaml"
sed -i 's|address: 10.77.0.2/24,|address: [10.77.0.2/24, "fd77::2/64"],|' "$T/client.yaml"
start_daemons
wait_attached 10

# metric SOCK NAME [LABEL]: the sample's value (the sum when several)
metric() {
	"$JVPN" ctl -s "$1" metrics |
		awk -v n="$2" -v l="${3:-}" 'index($1, n "{") == 1 && index($1, l) { s += $2 } END { print s + 0 }'
}
for r in client server; do
	[ "$(metric "$T/$r.sock" jvpn_tun_offload 'kind="tso"')" = 1 ] ||
		skip "$r: the kernel gives no TSO on a TUN"
done
USO=1
[ "$(metric "$T/client.sock" jvpn_tun_offload 'kind="uso"')" = 1 ] || USO=0
log "offloads on: tso, uso=$USO"

# the kernel's checksum and header errors in namespace $1 (IPv4 and IPv6)
errors() {
	ip netns exec "$1" cat /proc/net/snmp /proc/net/snmp6 | python3 -c '
import sys
lines = sys.stdin.read().splitlines()
v = {}
for a, b in zip(lines, lines[1:]):
    ka, kb = a.split(), b.split()
    if ka and kb and ka[0] == kb[0] and ka[0].endswith(":") and not kb[1].isalpha():
        for k, x in zip(ka[1:], kb[1:]):
            v[ka[0] + k] = int(x)
for l in lines:
    p = l.split()
    if len(p) == 2 and not p[0].endswith(":"):
        v[p[0]] = int(p[1])
print(sum(v.get(k, 0) for k in ("Tcp:InCsumErrors", "Udp:InCsumErrors",
    "Ip:InHdrErrors", "Udp6InCsumErrors", "Ip6InHdrErrors")))'
}
E0c=$(errors "$C") E0s=$(errors "$S")

# tcp FROM_NS TO_NS ADDR PORT: 24 MB in 256 KiB writes, compared
tcp() {
	local from=$1 to=$2 addr=$3 port=$4 shown=$3 sent
	case $addr in *:*) shown="[$addr]" ;; esac
	rm -f "$T/tcp.result"
	ip netns exec "$to" python3 "$HERE/bulk.py" tcp-serve "$addr" "$port" "$T/tcp.result" \
		> "$T/bulk-serve.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 5 "ip netns exec $to ss -ltn 2>/dev/null | grep -qF '$shown:$port'" ||
		fail "tcp server did not start"
	sent=$(timeout 60 ip netns exec "$from" python3 "$HERE/bulk.py" tcp-send "$addr" "$port" 24000000 "$port") ||
		fail "tcp to $addr: the sender failed"
	wait_for 10 "[ -s '$T/tcp.result' ]" || fail "tcp to $addr: no result"
	[ "$(cat "$T/tcp.result")" = "$sent" ] ||
		fail "tcp to $addr: sent $sent, arrived $(cat "$T/tcp.result")"
	log "tcp to $addr from $from: $sent"
}

# udp FROM_NS TO_NS ADDR PORT SIZE: 4000 datagrams, 40 to a send
udp() {
	local from=$1 to=$2 addr=$3 port=$4 size=$5 sent good bad dups
	rm -f "$T/udp.result"
	ip netns exec "$to" python3 "$HERE/bulk.py" udp-serve "$addr" "$port" "$T/udp.result" \
		> "$T/bulk-userve.log" 2>&1 &
	PIDS="$PIDS $!"
	sleep 0.5
	sent=$(timeout 60 ip netns exec "$from" python3 "$HERE/bulk.py" udp-send "$addr" "$port" 4000 "$size") ||
		fail "udp to $addr: the sender failed"
	wait_for 10 "[ -s '$T/udp.result' ]" || fail "udp to $addr: no result"
	read -r good bad dups < "$T/udp.result"
	log "udp to $addr from $from: sent $sent; arrived intact $good, corrupt $bad, duplicated $dups"
	[ "$bad" = 0 ] && [ "$dups" = 0 ] || fail "udp to $addr: corrupt or duplicated datagrams"
	# no loss on a quiet veth is expected, some is tolerated (UDP)
	[ "$good" -ge 3800 ] || fail "udp to $addr: only $good of 4000 arrived"
}

G0c=$(metric "$T/client.sock" jvpn_tun_gso_packets_total)
G0s=$(metric "$T/server.sock" jvpn_tun_gso_packets_total)
tcp "$C" "$S" 10.77.0.1 5301
tcp "$S" "$C" 10.77.0.2 5302
tcp "$C" "$S" fd77::1 5303
tcp "$S" "$C" fd77::2 5304
G1c=$(metric "$T/client.sock" jvpn_tun_gso_packets_total)
G1s=$(metric "$T/server.sock" jvpn_tun_gso_packets_total)
log "super packets split: client $((G1c - G0c)), server $((G1s - G0s)) (TCP)"
[ $((G1c - G0c)) -gt 100 ] && [ $((G1s - G0s)) -gt 100 ] ||
	fail "TSO was not used: client $((G1c - G0c)), server $((G1s - G0s)) super packets"
udp "$C" "$S" 10.77.0.1 5311 1300
udp "$S" "$C" 10.77.0.2 5312 1300
udp "$C" "$S" fd77::1 5313 1200
udp "$S" "$C" fd77::2 5314 1200
G2c=$(metric "$T/client.sock" jvpn_tun_gso_packets_total)
G2s=$(metric "$T/server.sock" jvpn_tun_gso_packets_total)
log "super packets split: client $((G2c - G1c)), server $((G2s - G1s)) (UDP)"
if [ "$USO" = 1 ]; then
	[ $((G2c - G1c)) -ge 100 ] && [ $((G2s - G1s)) -ge 100 ] ||
		fail "USO was not used: client $((G2c - G1c)), server $((G2s - G1s)) super packets"
fi
# the tunnel's own datagrams: runs sent with UDP_SEGMENT, read with GRO
for r in client server; do
	gs=$(metric "$T/$r.sock" jvpn_udp_offload_total 'kind="gso_send"')
	gr=$(metric "$T/$r.sock" jvpn_udp_offload_total 'kind="gro_read"')
	log "$r: UDP sends of several datagrams $gs, GRO reads $gr"
	[ "$gs" -gt 100 ] || fail "$r: UDP GSO was not used ($gs sends)"
	[ "$gr" -gt 100 ] || fail "$r: UDP GRO was not used ($gr reads)"
done
E1c=$(errors "$C") E1s=$(errors "$S")
[ "$E1c" = "$E0c" ] && [ "$E1s" = "$E0s" ] ||
	fail "checksum or header errors: client $((E1c - E0c)), server $((E1s - E0s))"
for r in client server; do
	n=$(metric "$T/$r.sock" jvpn_dropped_total 'where="tun_invalid"')
	[ "$n" = 0 ] || fail "$r: $n packets read from the TUN dropped as invalid"
done
same_session
stop_daemons
verify_logs
log "PASS"
