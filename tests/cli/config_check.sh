#!/bin/sh
# jvpn config check FILE (CONTRACT sections 4 and 8): a daemon
# configuration validated without starting anything; the effective
# configuration printed, or `jvpn: FILE:LINE: ...` and exit 2.
# Usage: config_check.sh JVPN TESTS_DIR
set -u
jvpn=$1 tests=$(cd "$2" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/jvcfg.XXXXXX")
trap 'rm -rf "$dir"' EXIT
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }
expect() {
	want=$1; shift
	"$@" > "$dir/out" 2> "$dir/err"
	rc=$?
	[ "$rc" = "$want" ] || fail "$* exited $rc (want $want): $(head -3 "$dir/err")"
}
has() { grep -q -- "$2" "$dir/$1" || fail "$1 lacks '$2': $(head -5 "$dir/$1")"; }
lacks() { ! grep -q -- "$2" "$dir/$1" || fail "$1 has '$2'"; }

(umask 077; "$jvpn" genkey > "$dir/gw.key"; "$jvpn" genkey > "$dir/laptop.key")
laptop_pub=$("$jvpn" pubkey < "$dir/laptop.key")
phone_pub=$("$jvpn" genkey | "$jvpn" pubkey)
gw_pub=$("$jvpn" pubkey < "$dir/gw.key")
printf '#!/bin/sh\nexit 0\n' > "$dir/up.sh"
chmod 755 "$dir/up.sh"
cat > "$dir/server.yaml" <<EOT
role: server
node_id: gw-1
private_key_file: gw.key
listen:
  - { id: udp-51820, proto: udp, address: "0.0.0.0:51820" }
  - { id: tcp-443, proto: tcp, address: "[::]:443" }
tun: { name: jvpn0, address: 10.77.0.1/24 }
peers:
  - { name: laptop, public_key: "$laptop_pub", allowed_ips: [10.77.0.2/32, "fd77::2/128"] }
  - { name: phone, public_key: "$phone_pub", allowed_ips: [10.77.0.3/32] }
audit: { path: "-" }
control_socket: $dir/gw.sock
on_up: up.sh
policy_file: '$tests/data/policy/valid.yaml'
EOT
cat > "$dir/client.yaml" <<EOT
role: client
node_id: laptop
private_key_file: laptop.key
server_public_key: "$gw_pub"
transports:
  - { id: udp-a, proto: udp, remote: "192.0.2.1:51820", bind_device: wlan0 }
  - { id: tcp-a, proto: tcp, remote: "192.0.2.1:443" }
tun: { name: jvpn0, address: 10.77.0.2/24, mtu: 1400 }
audit: { path: "-" }
control_socket: $dir/laptop.sock
EOT

# valid: the summary, from any directory, options anywhere
expect 0 "$jvpn" config check "$dir/server.yaml"
has out '^role: server'
has out '^node_id: gw-1'
has out 'id: udp-51820, proto: udp, address: "0.0.0.0:51820"'
has out 'id: tcp-443, proto: tcp, address: "\[::\]:443"'
has out '^tun: { name: jvpn0, address: 10.77.0.1/24, mtu: 1420 }'
has out 'name: laptop, allowed_ips: \[10.77.0.2/32, fd77::2/128\]'
has out 'name: phone, allowed_ips: \[10.77.0.3/32\]'
has out "^on_up: \"$dir/up.sh\""
has out '^policy_version: "1.0"'
lacks out "$laptop_pub"
lacks out "$(cat "$dir/gw.key")"
[ -e "$dir/gw.sock" ] && fail "config check created the control socket"
expect 0 "$jvpn" config check -- "$dir/client.yaml"
has out '^role: client'
has out 'id: udp-a, proto: udp, remote: "192.0.2.1:51820", bind_device: wlan0'
has out '^on_terminated: '
has out '^policy_version: '
# dns and dns_search (client only): printed as they will be applied
{ cat "$dir/client.yaml"; printf 'dns: [10.77.0.1, "FD77:0::1"]\ndns_search: [corp.example.com, lab]\n'; } > "$dir/dns.yaml"
expect 0 "$jvpn" config check "$dir/dns.yaml"
has out '^dns: \["10.77.0.1", "fd77::1"\]$'
has out '^dns_search: \[corp.example.com, lab\]$'
{ cat "$dir/server.yaml"; printf 'dns: [10.77.0.1]\n'; } > "$dir/sdns.yaml"
expect 2 "$jvpn" config check "$dir/sdns.yaml"
has err "^jvpn: $dir/sdns.yaml:15: dns: only for role client"
# names and lists (CONTRACT section 8): printed as written, nothing
# looked up (.invalid never resolves, RFC 6761)
sed -e 's/remote: "192.0.2.1:443"/remote: "gw.jvpn.invalid:443"/' \
    -e 's|address: 10.77.0.2/24,|address: [10.77.0.2/24, "fd77::2/64"],|' \
    "$dir/client.yaml" > "$dir/names.yaml"
expect 0 "$jvpn" config check "$dir/names.yaml"
has out 'id: tcp-a, proto: tcp, remote: "gw.jvpn.invalid:443" }'
has out '^tun: { name: jvpn0, address: \[10.77.0.2/24, fd77::2/64\], mtu: 1400 }'
sed 's|address: 10.77.0.2/24,|address: [10.77.0.2/24, 10.77.0.2/16],|' \
    "$dir/client.yaml" > "$dir/twice.yaml"
expect 2 "$jvpn" config check "$dir/twice.yaml"
has err "^jvpn: $dir/twice.yaml:8: tun.address\[1\]: listed twice (also tun.address\[0\])"
expect 0 "$jvpn" config --help
has out '^usage: jvpn config check FILE'
expect 0 "$jvpn" config check "$dir/server.yaml" --help
has out '^usage: jvpn config check FILE'

# invalid: FILE:LINE: key, exit 2
sed 's/10.77.0.3\/32/10.77.0.2\/32/' "$dir/server.yaml" > "$dir/dup.yaml"
expect 2 "$jvpn" config check "$dir/dup.yaml"
has err "^jvpn: $dir/dup.yaml:10: peers\[1\].allowed_ips\[0\]: the same prefix is in peers\[0\] (laptop)"
sed 's/^node_id: gw-1/node_id: gw-1\nnode_idd: x/' "$dir/server.yaml" > "$dir/typo.yaml"
expect 2 "$jvpn" config check "$dir/typo.yaml"
has err "^jvpn: $dir/typo.yaml:3: "
chmod 644 "$dir/up.sh"
expect 2 "$jvpn" config check "$dir/server.yaml"
has err "^jvpn: $dir/server.yaml:13: on_up: .* is not an executable file"
chmod 755 "$dir/up.sh"
sed 's/^on_up: up.sh/on_down: missing.sh/' "$dir/server.yaml" > "$dir/nohook.yaml"
expect 2 "$jvpn" config check "$dir/nohook.yaml"
has err "^jvpn: $dir/nohook.yaml:13: on_down: .*missing.sh: No such file"
chmod 644 "$dir/gw.key"
expect 2 "$jvpn" config check "$dir/server.yaml"
has err "^jvpn: $dir/server.yaml:3: private_key_file: .* chmod 600"
chmod 600 "$dir/gw.key"
expect 2 "$jvpn" config check "$dir/missing.yaml"
has err "^jvpn: $dir/missing.yaml: cannot open"
expect 2 "$jvpn" config check
has err '^jvpn config: '
expect 2 "$jvpn" config verify "$dir/server.yaml"
has err "^jvpn config: unknown config command 'verify'"
exit $failed
