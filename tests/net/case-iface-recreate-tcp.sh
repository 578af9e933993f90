#!/bin/bash
# case-iface-recreate.sh with tcp-b on cb0: its connection is made when
# cb0 appears, and made again on the re-created cb0.
B_PROTO=tcp
export B_PROTO
exec bash "$(dirname "$0")/case-iface-recreate.sh"
