#!/bin/bash
# Host names (CONTRACT section 8), looked up at start and again before
# each reconnect. `ip netns exec NS` puts the files of /etc/netns/NS over
# /etc, so each namespace gets its own hosts file (and nsswitch.conf,
# resolv.conf) for the test:
#  1. a remote name that does not exist: the client refuses to start,
#     naming FILE:LINE: transports[0].remote and the name (exit 2);
#  2. a lookup that fails for now (the only DNS server unreachable): the
#     client runs, the transport down; once the hosts file has the name
#     the transport comes up within the retry and the session attaches;
#     the gateway's TCP listener is given by name too;
#  3. the name moved (hosts file changed, the old address dropped): the
#     session ends, the name is looked up again before the reconnect and
#     the new session runs to the new address.
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "gw.jvpn.test:51820" }'
export TRANSPORTS
export ON_TERMINATED=reconnect TRANSPORT_LOST_TTL_MS=3000
. "$(dirname "$0")/lib.sh"
had_netns=0
[ -d /etc/netns ] && had_netns=1
trap 'rm -rf "/etc/netns/$C" "/etc/netns/$S"
      [ $had_netns = 1 ] || rmdir --ignore-fail-on-non-empty /etc/netns 2>/dev/null
      cleanup' EXIT
topology
mkdir -p "/etc/netns/$C" "/etc/netns/$S"
# written in place from here on (cat >): the bind mount holds the inode
printf '127.0.0.1 localhost\n' > "/etc/netns/$C/hosts"
printf 'hosts: files\n' > "/etc/netns/$C/nsswitch.conf"
printf '127.0.0.1 localhost\n10.201.1.2 gw-tcp.jvpn.test\n' > "/etc/netns/$S/hosts"
printf 'hosts: files\n' > "/etc/netns/$S/nsswitch.conf"
write_configs
sed -i 's|address: "0.0.0.0:443"|address: "gw-tcp.jvpn.test:443"|' "$T/server.yaml"
line=$(grep -n 'remote: "gw.jvpn.test:51820"' "$T/client.yaml" | cut -d: -f1)

log "1. a name that does not exist"
rc=0
( cd "$T" && inc "$JVPN" client -c "$T/client.yaml" ) > "$T/noname.log" 2>&1 || rc=$?
[ $rc = 2 ] || fail "exit $rc for a name that does not exist: $(cat "$T/noname.log")"
grep -qF "$T/client.yaml:$line: transports[0].remote: cannot resolve \"gw.jvpn.test\"" "$T/noname.log" ||
	fail "the error does not name FILE:LINE, the key and the name: $(cat "$T/noname.log")"

log "2. a lookup that fails for now, then works"
printf 'hosts: files dns\n' > "/etc/netns/$C/nsswitch.conf"
printf 'nameserver 10.201.9.9\noptions timeout:1 attempts:1\n' > "/etc/netns/$C/resolv.conf"
start_daemons
ins ss -ltnH | grep -qF '10.201.1.2:443' ||
	fail "the gateway does not listen on gw-tcp.jvpn.test:443: $(ins ss -ltnH)"
wait_for 8 "grep -q 'transports\[0\].remote: cannot resolve' '$T/client.log'" ||
	fail "no warning about the failed lookup: $(cat "$T/client.log")"
grep -q 'udp-a is down until it resolves' "$T/client.log" ||
	fail "the warning does not say the transport waits: $(cat "$T/client.log")"
kill -0 "$CLIENT_PID" || fail "the client exited over a temporary failure"
has client event_type=SessionStateChange new_state=ATTACHED 2>/dev/null &&
	fail "attached with no address"
printf '127.0.0.1 localhost\n10.201.1.2 gw.jvpn.test\n' > "/etc/netns/$C/hosts"
wait_attached 15
grep -q 'udp-a: gw.jvpn.test is 10.201.1.2:51820' "$T/client.log" ||
	fail "the lookup was not retried: $(cat "$T/client.log")"
ping_ok 3 || fail "no ping"
grep -qF '"remote":"10.201.1.2:51820"' "$T/client.jsonl" ||
	fail "the client's events do not name the resolved address"

log "3. the name moves to path B; the old address goes dark"
printf '127.0.0.1 localhost\n10.201.2.2 gw.jvpn.test\n' > "/etc/netns/$C/hosts"
inc nft add rule inet jvtest out ip daddr 10.201.1.2 drop
wait_for 20 "grep -q 'udp-a: gw.jvpn.test is 10.201.2.2:51820' '$T/client.log'" ||
	fail "the name was not looked up again before the reconnect"
wait_for 15 "[ \$(python3 '$HERE/events.py' count '$T/client.jsonl' event_type=SessionStateChange new_state=ATTACHED) -ge 2 ]" ||
	fail "no new session after the move"
expect_seq client "event_type=SessionTerminated" \
	"event_type=SessionStateChange,new_state=ATTACHED"
grep -qF '"remote":"10.201.2.2:51820"' "$T/client.jsonl" ||
	fail "the new session does not name the new address"
ping_ok 3 || fail "no ping after the move"
stop_daemons
verify_logs
log "PASS"
