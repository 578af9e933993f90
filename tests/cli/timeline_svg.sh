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

chromium=
for c in chromium chromium-browser; do
	command -v "$c" > /dev/null && chromium=$c && break
done
if [ -z "$chromium" ]; then
	echo "SKIP: no chromium to render the SVG"
	exit 77
fi
height=$(sed -n 's/^<svg [^>]* height="\([0-9]*\)".*/\1/p' "$dir/a.svg")
[ -n "$height" ] || fail "no height on <svg>"
# the profile and any crash reports stay in $dir
HOME=$dir timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
	--disable-background-networking --disable-component-update \
	--disable-sync --no-first-run --user-data-dir="$dir/profile" \
	--screenshot="$dir/a.png" --window-size="1200,$height" \
	"file://$dir/a.svg" > "$dir/chromium.log" 2>&1 ||
	fail "chromium exited $?: $(tail -3 "$dir/chromium.log")"
[ -f "$dir/a.png" ] || fail "chromium wrote no PNG: $(tail -3 "$dir/chromium.log")"
# a PNG, 1200 px wide (IHDR), and not blank: a white page of this size
# compresses to a few KB, the drawn timeline to tens
magic=$(od -An -tx1 -N8 "$dir/a.png" | tr -d ' \n')
[ "$magic" = 89504e470d0a1a0a ] || fail "not a PNG ($magic)"
width=$(od -An -tu1 -j16 -N4 "$dir/a.png" |
	awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
[ "$width" = 1200 ] || fail "PNG $width px wide, want 1200"
size=$(wc -c < "$dir/a.png")
[ "$size" -gt 15000 ] || fail "PNG of $size bytes: blank?"
echo "ok: rendered 1200x$height, $size bytes"
