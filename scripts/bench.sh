#!/bin/bash
# `make bench`: runs the micro-benchmarks of bench/ on an optimized build,
# pinned to one core. Figures are rates next to a baseline measured in the
# same run; docs/PERFORMANCE.md says how to read them.
set -eu
cd "$(dirname "$0")/.."
dir=build/release
[ -f $dir/build.ninja ] || meson setup $dir --buildtype=release >/dev/null
ninja -C $dir bench/jvbench >/dev/null
if command -v taskset >/dev/null; then
	exec taskset -c 0 $dir/bench/jvbench "$@"
fi
exec $dir/bench/jvbench "$@"
