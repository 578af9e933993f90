# The two README commands: `make demo` and `make test`. Both install what they
# need from Debian's archive first (idempotent), so a fresh Debian 12 works.
DEBS := gcc libc6-dev make meson ninja-build pkg-config python3 \
        libsodium-dev libyaml-dev libcmocka-dev libjansson-dev libmnl-dev \
        iproute2 nftables iputils-ping tcpdump procps
BUILD := build/plain

.PHONY: all deps build test demo bench clean

all: build

deps:
	@scripts/deps.sh $(DEBS)

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) >/dev/null
	@ninja -C $(BUILD)

test: deps
	@scripts/test.sh

demo: build
	@scripts/demo.sh $(BUILD)/jvpn

bench: build
	@scripts/bench.sh

clean:
	rm -rf build
