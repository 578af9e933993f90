#!/bin/bash
# Builds the libFuzzer targets (clang, ASan + UBSan, coverage on the whole
# engine) in build/fuzz and runs each for SECONDS, one at a time, niced
# (docs/FUZZING.md). Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# New inputs go to build/fuzz/corpus/TARGET (fuzz/corpus/TARGET is read,
# never written); crashes to build/fuzz/artifacts/TARGET/. Ends with a
# table: target, executions, coverage, crashes (and a line per run in
# build/fuzz/runs.log). Exit 1 if any crashed.
set -u
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
dir=build/fuzz
opts=(-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
      -Dwerror=false --buildtype=debugoptimized
      "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all"
      "-Dc_link_args=-fno-sanitize-recover=all")
mkdir -p build
if [ -f $dir/build.ninja ]; then
	CC=clang meson setup --reconfigure $dir "${opts[@]}" >$dir.setup.log 2>&1
else
	CC=clang meson setup $dir "${opts[@]}" >$dir.setup.log 2>&1
fi || { tail -30 $dir.setup.log; exit 2; }
if [ $# -gt 0 ]; then
	targets=("$@")
else
	mapfile -t targets < <(cd fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi
nice -n 19 ninja -C $dir "${targets[@]/#/fuzz/fuzz_}" >$dir.build.log 2>&1 ||
	{ grep -A5 -E 'error|FAILED' $dir.build.log | head -40; exit 2; }

# The endpoint and ctl targets restore one world after each input instead
# of building it anew (fuzz/snapshot.c): over the committed corpus, the
# state each input leaves must be the same both ways, in the same order.
same_both_ways() {
	local t=$1 a b
	a=$(JV_FUZZ_DIGEST=1 $dir/fuzz/fuzz_$t fuzz/corpus/$t/* 2>/dev/null |
		grep '^fzdigest' | uniq)
	b=$(JV_FUZZ_SNAPSHOT=0 JV_FUZZ_DIGEST=1 $dir/fuzz/fuzz_$t \
		fuzz/corpus/$t/* 2>/dev/null | grep '^fzdigest' | uniq)
	[ -n "$a" ] && [ "$a" = "$b" ]
}

summary=$dir/summary.txt
: >"$summary"
bad=0
for t in "${targets[@]}"; do
	case $t in server_pre|server|client|ctl)
		same_both_ways "$t" || {
			echo "$t: a restored world differs from a new one" \
				"(fuzz/snapshot.c)"
			exit 2
		} ;;
	esac
	work=$dir/corpus/$t logs=$dir/logs/$t art=$dir/artifacts/$t
	mkdir -p "$work" "$logs" "$art"
	rm -f "$logs"/fuzz-*.log
	echo "== $t: ${secs}s"
	# -jobs=1: one job in a child process, its output in fuzz-0.log
	(cd "$logs" && nice -n 19 "$OLDPWD/$dir/fuzz/fuzz_$t" \
		-max_total_time="$secs" -jobs=1 -print_final_stats=1 \
		-artifact_prefix="$OLDPWD/$art/" -timeout=10 -rss_limit_mb=2048 \
		"$OLDPWD/$work" "$OLDPWD/fuzz/corpus/$t" >/dev/null 2>&1)
	log=$logs/fuzz-0.log
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
		grep -o '[0-9]*$' | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
	crashes=$(find "$art" -type f | wc -l)
	[ "$crashes" -gt 0 ] && bad=1
	printf '%-14s %12s execs  cov %6s  corpus %5s  crashes %s\n' "$t" \
		"${execs:-?}" "${cov:-?}" "$(ls "$work" | wc -l)" "$crashes" |
		tee -a "$summary"
	# every run, kept across runs: the campaign's record
	echo "$(date -u +%FT%TZ) ${secs}s $(tail -1 "$summary")" >>$dir/runs.log
done
echo "summary in $summary"
exit $bad
