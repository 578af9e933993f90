#!/bin/sh
# Runs one simulator scenario, then checks its event stream with
# `jvpn audit verify`. Usage: run-scenario.sh JVPN SCENARIO.yaml
set -eu
jvpn=$1 scenario=$2
out=$(mktemp "${TMPDIR:-/tmp}/jvsim.XXXXXX.jsonl")
trap 'rm -f "$out"' EXIT
"$jvpn" sim --out "$out" "$scenario"
"$jvpn" audit verify "$out"
