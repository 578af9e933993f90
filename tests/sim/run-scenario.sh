#!/bin/sh
# Runs one simulator scenario twice: the two event streams must be
# byte-identical (same file, same seed), and `jvpn audit verify` must accept
# them. Usage: run-scenario.sh JVPN SCENARIO.yaml
set -eu
jvpn=$1 scenario=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/jvsim.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$jvpn" sim --out "$dir/1.jsonl" "$scenario"
"$jvpn" sim --out "$dir/2.jsonl" "$scenario" >/dev/null
if ! cmp -s "$dir/1.jsonl" "$dir/2.jsonl"; then
	echo "FAIL: two runs of $scenario differ" >&2
	diff "$dir/1.jsonl" "$dir/2.jsonl" | head -5 >&2
	exit 1
fi
[ -s "$dir/1.jsonl" ] || { echo "FAIL: no events" >&2; exit 1; }
"$jvpn" audit verify "$dir/1.jsonl"
