#!/bin/sh
# The man pages render with no warning (mandoc -T lint -W warning: errors
# and warnings; the style notes are left out). Usage: mandoc-lint.sh PAGE...
# Skips (77) without mandoc or without pages (scdoc missing at setup).
set -u
command -v mandoc >/dev/null 2>&1 || { echo "SKIP: mandoc not installed"; exit 77; }
[ $# -gt 0 ] || { echo "SKIP: no man pages built (scdoc missing)"; exit 77; }
bad=0
for page in "$@"; do
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "$out"
		bad=1
	else
		echo "ok: $(basename "$page")"
	fi
done
exit $bad
