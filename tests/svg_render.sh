#!/bin/sh
# Renders an SVG in a headless chromium, 1200 px wide, and checks the PNG:
# a PNG, 1200 px wide, and not blank (a white page of this size compresses
# to a few KB, a drawn timeline to tens). Exit 0 ok, 1 failed, 77 when no
# chromium is installed. Shared by tests/cli/timeline_svg.sh and the net
# case that draws a real run (case-full-tunnel).
# Usage: svg_render.sh FILE.svg WORKDIR
set -u
svg=$1 dir=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
chromium=
for c in chromium chromium-browser; do
	command -v "$c" > /dev/null && chromium=$c && break
done
if [ -z "$chromium" ]; then
	echo "SKIP: no chromium to render the SVG"
	exit 77
fi
height=$(sed -n 's/^<svg [^>]* height="\([0-9]*\)".*/\1/p' "$svg")
[ -n "$height" ] || fail "no height on <svg>"
png=$dir/render.png
# the profile and any crash reports stay in $dir
HOME=$dir timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
	--disable-background-networking --disable-component-update \
	--disable-sync --no-first-run --user-data-dir="$dir/profile" \
	--screenshot="$png" --window-size="1200,$height" \
	"file://$(realpath "$svg")" > "$dir/chromium.log" 2>&1 ||
	fail "chromium exited $?: $(tail -3 "$dir/chromium.log")"
[ -f "$png" ] || fail "chromium wrote no PNG: $(tail -3 "$dir/chromium.log")"
magic=$(od -An -tx1 -N8 "$png" | tr -d ' \n')
[ "$magic" = 89504e470d0a1a0a ] || fail "not a PNG ($magic)"
width=$(od -An -tu1 -j16 -N4 "$png" |
	awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
[ "$width" = 1200 ] || fail "PNG $width px wide, want 1200"
size=$(wc -c < "$png")
[ "$size" -gt 15000 ] || fail "PNG of $size bytes: blank?"
echo "ok: rendered 1200x$height, $size bytes"
