#!/bin/sh
# The fault fuzzer (docs/simulator.md) under `meson test --suite sim`.
# Usage: fuzz.sh JVPN seeds FROM N   - N seeds must keep every invariant
#        fuzz.sh JVPN plant          - a planted limiter bug must be found
#                                      and shrunk to a small scenario
set -eu
jvpn=$1 mode=$2
case $mode in
seeds)
	exec "$jvpn" sim --fuzz "$4" --from "$3"
	;;
plant)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/jvfuzz.XXXXXX")
	trap 'rm -rf "$dir"' EXIT
	# with the plant the endpoints allow one switch a minute more than
	# the policy the checker holds: some seed must break switch_rate
	if "$jvpn" sim --fuzz 200 --plant limiter --max-failures 1 \
		--shrink-to "$dir" >"$dir/out"; then
		cat "$dir/out"
		echo "FAIL: the planted limiter bug went unnoticed" >&2
		exit 1
	fi
	cat "$dir/out"
	grep -q '^FAIL seed [0-9]*: switch_rate' "$dir/out" || {
		echo "FAIL: the plant was found as another rule" >&2; exit 1; }
	set -- "$dir"/fuzz-*.yaml
	[ -f "$1" ] || { echo "FAIL: no shrunk scenario written" >&2; exit 1; }
	cat "$1"
	# small: a few faults over at most three paths
	nf=$(grep -c '^  - { at_ms:' "$1" || true)
	np=$(grep -c '^  - { id:' "$1")
	[ "$nf" -le 4 ] && [ "$np" -le 3 ] || {
		echo "FAIL: shrunk only to $nf faults over $np paths" >&2; exit 1; }
	# the scenario fails with the plant and passes without it: it found
	# the planted bug, not another
	if "$jvpn" sim --invariants --plant limiter "$1"; then
		echo "FAIL: the shrunk scenario passes with the plant" >&2
		exit 1
	fi
	"$jvpn" sim --invariants "$1"
	;;
*)
	echo "usage: fuzz.sh JVPN seeds FROM N | plant" >&2
	exit 2
	;;
esac
