#!/bin/bash
# `make demo`. Until the daemons exist (issue #3) the demo runs every
# failure-matrix scenario in the simulator: a real client and server engine
# over simulated paths, and prints each one's timeline and verdict.
set -u
jvpn=${1:-build/plain/jvpn}
cd "$(dirname "$0")/.."
rc=0
for f in tests/sim/*.yaml; do
	echo "=== $(basename "$f" .yaml)"
	"$jvpn" sim --timeline "$f" || rc=1
	echo
done
exit $rc
