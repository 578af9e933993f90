#!/bin/sh
# Options anywhere (CONTRACT section 11): every subcommand takes its
# options before, between or after its operands, as GNU getopt_long does,
# "--" ends the options, and --help works on every command.
# Usage: options.sh JVPN TESTS_DIR
set -u
jvpn=$1 tests=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/jvopts.XXXXXX")
trap 'rm -rf "$dir"' EXIT
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

# expect RC CMD...: runs CMD, stdout to $dir/out, stderr to $dir/err
expect() {
	want=$1; shift
	"$@" > "$dir/out" 2> "$dir/err"
	rc=$?
	[ "$rc" = "$want" ] || fail "$* exited $rc (want $want): $(head -3 "$dir/err")"
}
has() { grep -q -- "$2" "$dir/$1" || fail "$1 lacks '$2': $(head -3 "$dir/$1")"; }

scenario=$tests/sim/1.1-link-down.yaml
policy=$tests/data/policy/valid.yaml

# --help on every command, before or after operands: usage on stdout, 0
for cmd in genkey pubkey server client ctl config policy sim audit version; do
	expect 0 "$jvpn" "$cmd" --help
	has out "^usage: jvpn $cmd"
	expect 0 "$jvpn" "$cmd" -h
	has out "^usage: jvpn $cmd"
	# and a wrong option is bad usage, said on stderr
	expect 2 "$jvpn" "$cmd" --no-such-option
	has err "^jvpn $cmd: unknown option '--no-such-option'"
done
expect 0 "$jvpn" sim "$scenario" --help
has out '^usage: jvpn sim'
expect 0 "$jvpn" audit verify x.jsonl --help
has out '^usage: jvpn audit verify'
expect 0 "$jvpn" ctl -s x.sock status --help
has out '^  terminate SESSION_ID'

# sim: --out before and after the scenario write the same events
expect 0 "$jvpn" sim --out "$dir/a.jsonl" "$scenario"
has out '^PASS '
expect 0 "$jvpn" sim "$scenario" --out "$dir/b.jsonl"
cmp -s "$dir/a.jsonl" "$dir/b.jsonl" || fail "sim --out F S and sim S --out F differ"
expect 0 "$jvpn" sim "$scenario" --timeline
has out ' created on '
POSIXLY_CORRECT=1 expect 0 "$jvpn" sim "$scenario" --out "$dir/c.jsonl"
cmp -s "$dir/a.jsonl" "$dir/c.jsonl" || fail "POSIXLY_CORRECT stopped options after operands"
expect 2 "$jvpn" sim "$scenario" --out
has err '^jvpn sim: --out needs a value'
expect 2 "$jvpn" sim "$scenario" "$scenario" --out "$dir/d.jsonl"
# "--" ends the options: what follows is a file name
expect 2 "$jvpn" sim -- --timeline
has err '^jvpn: --timeline: cannot open'

# audit verify: the limit before, between or after the files
cp "$dir/a.jsonl" "$dir/a2.jsonl"
expect 0 "$jvpn" audit verify --policy "$policy" "$dir/a.jsonl"
cp "$dir/out" "$dir/v1"
expect 0 "$jvpn" audit verify "$dir/a.jsonl" --policy "$policy"
cmp -s "$dir/v1" "$dir/out" || fail "audit verify: --policy after the file differs"
expect 0 "$jvpn" audit verify "$dir/a.jsonl" --max-switches-per-min 8
has out '^ok: '
expect 0 "$jvpn" audit --max-switches-per-min=8 verify "$dir/a.jsonl"
expect 2 "$jvpn" audit verify "$dir/a.jsonl" --max-switches-per-min 0
has err 'out of range'
expect 0 "$jvpn" audit timeline "$dir/a.jsonl" "$dir/a2.jsonl"
expect 2 "$jvpn" audit timeline "$dir/a.jsonl" --max-switches-per-min 8
has err 'timeline takes no --max-switches-per-min or --policy'

# policy check FILE
expect 0 "$jvpn" policy check "$policy"
has out '^version: '
expect 2 "$jvpn" policy check

# ctl: -s and --json anywhere (no daemon here: the socket's name in the
# error shows which was taken)
expect 2 "$jvpn" ctl status -s "$dir/no.sock"
has err "^jvpn: $dir/no.sock: "
expect 2 "$jvpn" ctl terminate --json 0123ABCD --socket "$dir/no.sock"
has err "^jvpn: $dir/no.sock: "
expect 2 "$jvpn" ctl status
has err '^jvpn ctl: -s SOCKET is needed'
expect 2 "$jvpn" ctl -s "$dir/no.sock" terminate
has err '^jvpn ctl: terminate: takes SESSION_ID'
expect 2 "$jvpn" ctl -s "$dir/no.sock" terminate 0123abc
has err 'not a session id'
expect 2 "$jvpn" ctl -s "$dir/no.sock" bogus
has err "^jvpn ctl: unknown command 'bogus'"

# the daemons: -c anywhere, nothing else
expect 2 "$jvpn" server --config "$dir/none.yaml"
has err "^jvpn: $dir/none.yaml: cannot open"
expect 2 "$jvpn" client -c "$dir/none.yaml"
has err "^jvpn: $dir/none.yaml: cannot open"
expect 2 "$jvpn" client
has err '^jvpn client: -c FILE is needed'
expect 2 "$jvpn" server extra -c "$dir/none.yaml"
has err "^jvpn server: unexpected argument 'extra'"

# no operands for these
expect 0 "$jvpn" version
has out '^jvpn '
expect 2 "$jvpn" version extra
expect 2 "$jvpn" genkey extra
"$jvpn" genkey > "$dir/key" || fail "genkey"
expect 0 sh -c '"$1" pubkey < "$2"' sh "$jvpn" "$dir/key"

exit $failed
