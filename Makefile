# The two README commands: `make demo` and `make test`. Both install what they
# need from Debian's archive first (idempotent), so a fresh Debian 12 works.
DEBS := gcc libc6-dev make meson ninja-build pkg-config python3 \
        libsodium-dev libyaml-dev libcmocka-dev libjansson-dev libmnl-dev \
        iproute2 nftables iputils-ping tcpdump procps \
        scdoc mandoc
# `make fuzz` only: clang and its libFuzzer/sanitizer runtime. `make test`
# replays the fuzz corpora with gcc and does not need them.
FUZZ_DEBS := clang libclang-rt-14-dev
FUZZ_S ?= 60
# `make soak`: the chaos soak's length in seconds (tests/soak/soak.sh);
# SOAK_SEED=N replays a run's schedule.
SOAK_S ?= 300
BUILD := build/plain
# `make install`: meson install of build/plain with this prefix, under
# DESTDIR when it is set (README "Installed files").
PREFIX ?= /usr/local
DESTDIR ?=
# `make deb` only: the Debian packaging tools.
DEB_DEBS := debhelper dpkg-dev fakeroot

.PHONY: all deps fuzz-deps build test demo bench flood tunnel-bench fuzz \
	fuzz-seeds install uninstall deb clean soak

all: build

deps:
	@scripts/deps.sh $(DEBS)

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) >/dev/null
	@ninja -C $(BUILD)

# The prefix is a meson option of build/plain: set it, then build and
# install (the units name PREFIX/bin/jvpn).
install: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) >/dev/null
	@meson configure $(BUILD) -Dprefix=$(PREFIX)
	@ninja -C $(BUILD)
	@meson install -C $(BUILD) --no-rebuild --destdir "$(DESTDIR)"

uninstall:
	@ninja -C $(BUILD) uninstall

# A Debian package of this tree (debian/), built out of tree under
# build/deb; the .deb lands in build/deb/.
deb: deps
	@scripts/deps.sh $(DEB_DEBS)
	@scripts/deb.sh build/deb

fuzz-deps: deps
	@scripts/deps.sh $(FUZZ_DEBS)

test: deps
	@scripts/test-tools.sh
	@scripts/test.sh

demo: build
	@scripts/demo.sh $(BUILD)/jvpn

bench: build
	@scripts/bench.sh

# The handshake flood benchmark (root; docs/PERFORMANCE.md "Handshake
# flood"): a release build, iperf3, FLOOD_S seconds a phase.
FLOOD_S ?= 10
flood: deps
	@scripts/deps.sh iperf3 bc
	@[ -f build/release/build.ninja ] || meson setup build/release --buildtype=release >/dev/null
	@ninja -C build/release jvpn bench/hsflood >/dev/null
	@JVPN=build/release/jvpn HSFLOOD=build/release/bench/hsflood bench/flood.sh $(FLOOD_S)

# The tunnel benchmark (root; docs/PERFORMANCE.md "Tunnel"): jvpn,
# wireguard-go and no tunnel in the same namespaces, throughput and
# failover; a release build. TUNNEL_OUT: where the report and the plot go;
# QUICK=1: a short run.
TUNNEL_OUT ?= $(CURDIR)/build/tunnel
tunnel-bench: deps
	@scripts/deps.sh iperf3 wireguard-go wireguard-tools gnuplot-nox
	@[ -f build/release/build.ninja ] || meson setup build/release --buildtype=release >/dev/null
	@ninja -C build/release jvpn >/dev/null
	@JVPN=build/release/jvpn TUNNEL_OUT=$(TUNNEL_OUT) bench/tunnel.sh

# The chaos soak (needs root and network namespaces): real daemons under a
# seeded random fault schedule for SOAK_S seconds; one summary line, the
# report in build/soak/report.txt, the logs in build/soak/report.d/. Its
# temp dir is under build/soak/tmp, not /tmp, which others may clean.
soak: build
	@mkdir -p build/soak/tmp
	@TMPDIR=$(CURDIR)/build/soak/tmp JVPN=$(CURDIR)/$(BUILD)/jvpn SOAK_S=$(SOAK_S) \
		SOAK_REPORT=$(CURDIR)/build/soak/report.txt bash tests/soak/soak.sh

# Runs every fuzz target for FUZZ_S seconds, one after another
# (docs/FUZZING.md); FUZZ_TARGETS="server client" runs only those.
fuzz: fuzz-deps
	@scripts/fuzz.sh $(FUZZ_S) $(FUZZ_TARGETS)

# Rewrites the generated seeds in fuzz/corpus from the current engine.
fuzz-seeds: build
	@$(BUILD)/fuzz/fuzz_seeds fuzz/corpus

clean:
	rm -rf build
