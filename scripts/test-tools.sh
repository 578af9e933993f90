#!/bin/sh
# The tools some tests need beyond the build: chromium (renders the
# timeline SVG headless), xmllint, systemd-analyze (the units), the
# Debian packaging tools (tests/pkg/deb.sh: make deb, dpkg -i) and
# promtool (the metrics). Without them those tests skip, and a fresh CI
# machine would then prove less than a developer's. Idempotent.
#
# promtool comes out of Debian's prometheus package unpacked under
# build/tools (dpkg-deb -x), not installed: installing the package would
# start a Prometheus server on the machine. scripts/test.sh puts
# build/tools/usr/bin on PATH.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh chromium libxml2-utils systemd debhelper dpkg-dev fakeroot
command -v promtool > /dev/null && exit 0
[ -x build/tools/usr/bin/promtool ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "jvpn: promtool missing (apt-get install prometheus, or run as root)" >&2
	exit 0
fi
mkdir -p build/tools/deb
(cd build/tools/deb &&
	{ apt-get download -q prometheus > /dev/null 2>&1 ||
	  { apt-get update -q > /dev/null && apt-get download -q prometheus > /dev/null; }; })
dpkg-deb -x build/tools/deb/prometheus_*.deb build/tools
rm -f build/tools/usr/bin/prometheus   # the server: not needed
rm -rf build/tools/deb
build/tools/usr/bin/promtool --version > /dev/null
