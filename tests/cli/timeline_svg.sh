#!/bin/sh
# jvpn audit timeline --svg: the picture of two daemons' logs is the same on
# stdout and with --out, options anywhere; xmllint (if installed) finds it
# well-formed; a headless chromium renders it to a PNG that is not blank.
# Skips (77) without chromium, after the checks that need none.
# Usage: timeline_svg.sh JVPN TESTS_DIR
set -u
jvpn=$1 tests=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/jvsvg.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

logs="$tests/data/audit/split-client.jsonl $tests/data/audit/split-server.jsonl"
# shellcheck disable=SC2086
"$jvpn" audit timeline --svg $logs > "$dir/a.svg" || fail "--svg exited $?"
# shellcheck disable=SC2086
"$jvpn" audit timeline $logs --out "$dir/b.svg" --svg || fail "--out exited $?"
cmp -s "$dir/a.svg" "$dir/b.svg" || fail "--out differs from stdout"
grep -q '^<svg xmlns="http://www.w3.org/2000/svg"' "$dir/a.svg" ||
	fail "no <svg> element"
grep -q 'udp-a → udp-b (consecutive_drop_exceeded)' "$dir/a.svg" ||
	fail "the switch and its cause are missing"
"$jvpn" audit verify --svg "$tests/data/audit/split-client.jsonl" \
	2> "$dir/err" && fail "audit verify --svg accepted"
grep -q 'verify takes no --svg' "$dir/err" || fail "$(cat "$dir/err")"

if command -v xmllint > /dev/null; then
	xmllint --noout "$dir/a.svg" || fail "xmllint: not well-formed"
else
	echo "no xmllint: well-formedness left to test_timeline_svg"
fi

sh "$(dirname "$0")/../svg_render.sh" "$dir/a.svg" "$dir"
