#!/bin/sh
# The layering of DESIGN.md, checked on the includes: core below proto below
# engine, none of them including a driver (io/, sim/) or the CLI, and the
# engine library (libjv) free of jansson. Usage: layering.sh SOURCE_ROOT
set -u
cd "$1" || exit 1
bad=0
check() { # DIR... -- PATTERN WHY
	dirs=""
	while [ "$1" != "--" ]; do dirs="$dirs $1"; shift; done
	shift
	if out=$(grep -nE "$1" $(for d in $dirs; do ls "$d"/*.[ch]; done)); then
		echo "FAIL: $2:" >&2
		echo "$out" >&2
		bad=1
	fi
}
check core -- '#include "(proto|engine|io|sim|cli)/' \
	"core includes a layer above it"
check proto -- '#include "(engine|io|sim|cli)/' \
	"proto includes a layer above it"
check engine -- '#include "(io|sim|cli)/' "engine includes a driver or the CLI"
check core proto engine -- '#include <jansson\.h>' \
	"the engine library must not need jansson"
exit $bad
