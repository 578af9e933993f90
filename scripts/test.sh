#!/bin/bash
# Builds jvpn twice (plain, and with AddressSanitizer + UBSan), runs every
# test in both, and ends with one line: "N passed, N failed, N skipped".
# It also compiles the release build `make bench` uses (gcc warns about more
# at -O3, and warnings are errors) without running the tests there; a build
# that fails counts as one failure.
set -u
cd "$(dirname "$0")/.."
# promtool unpacked by scripts/test-tools.sh
export PATH="$PWD/build/tools/usr/bin:$PATH"
pass=0 fail=0 skip=0

setup() { # dir, extra meson options...
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
	else
		mkdir -p "$(dirname "$dir")"
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
	fi
}

for cfg in plain asan release; do
	dir=build/$cfg
	opts=()
	[ $cfg = asan ] && opts=(-Db_sanitize=address,undefined -Db_lundef=false)
	[ $cfg = release ] && opts=(--buildtype=release)
	echo "== $cfg build"
	if ! setup "$dir" "${opts[@]}" || ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		cat "$dir.setup.log" "$dir.build.log" 2>/dev/null | tail -40
		echo "$cfg: build failed"
		fail=$((fail + 1))
		continue
	fi
	if [ $cfg = release ]; then
		echo "release: built (compile only)"
		continue
	fi
	rm -f "$dir/meson-logs/testlog.json"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 \
		meson test -C "$dir" --no-rebuild --print-errorlogs \
		--num-processes 2 >"$dir.test.log" 2>&1
	grep -E '^ *[0-9]+/[0-9]+ ' "$dir.test.log" | sed "s/^/[$cfg] /"
	grep -q -E 'FAIL|ERROR|TIMEOUT' "$dir.test.log" &&
		sed -n '/^--- command ---/,/^------/p' "$dir.test.log" | tail -60
	read -r p f s < <(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
except FileNotFoundError:
    f += 1
print(p, f, s)
PY
)
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
