#!/bin/bash
# Not a test (not in meson): the reproduction of the soak's finding in
# docs/SOAK.md. Data frames the gateway queued on the TCP transport during
# a blackout that spans a rekey arrive, once the path is back, after the
# client has moved to UDP; the client reports each as
# SecurityValidationFailed bad_data_key. About 40 s, root.
#   JVPN=build/plain/jvpn bash tests/soak/repro-stale-tcp-frames.sh
TRANSPORTS='  - { id: udp-a, proto: udp, remote: "10.201.1.2:51820", bind_device: ca0 }
  - { id: tcp-b, proto: tcp, remote: "10.201.2.2:443", bind_device: cb0 }'
REKEY_AFTER_MS=10000 TRANSPORT_LOST_TTL_MS=30000
export TRANSPORTS REKEY_AFTER_MS TRANSPORT_LOST_TTL_MS
SOAK=$(cd "$(dirname "$0")" && pwd)
. "$SOAK/../net/lib.sh"
topology
inc nft add rule inet jvtest out meta l4proto udp drop
inc nft add rule inet jvtest in meta l4proto udp drop
write_configs
start_daemons
wait_attached 15
ins python3 $SOAK/soakstream.py serve 10.77.0.1 5002 $T/ss > /dev/null 2>&1 & PIDS="$PIDS $!"
sleep 1
inc python3 $SOAK/soakstream.py send 10.77.0.1 5002 $T/stop 60 $T/sc > /dev/null 2>&1 & PIDS="$PIDS $!"
# first rekey at 10 s of the session: go dark on tcp-b at ~7 s
sleep 5
log "blackout of path b (tcp-b), UDP still blocked"
inc nft add rule inet jvtest out oifname cb0 drop
inc nft add rule inet jvtest in iifname cb0 drop
sleep 6
log "UDP on path a back (the rekey has happened meanwhile)"
inc nft flush chain inet jvtest out; inc nft flush chain inet jvtest in
inc nft add rule inet jvtest out oifname cb0 drop
inc nft add rule inet jvtest in iifname cb0 drop
sleep 4
log "path b back: the TCP backlog drains"
inc nft flush chain inet jvtest out; inc nft flush chain inet jvtest in
sleep 12
touch $T/stop; sleep 3
python3 $HERE/events.py timeline $T/client.jsonl | sed -n '1,60p'
echo "bad_data_key on client: $(python3 $HERE/events.py count $T/client.jsonl event_type=SecurityValidationFailed reason_code=bad_data_key)"
cat $T/sc $T/ss 2>/dev/null
