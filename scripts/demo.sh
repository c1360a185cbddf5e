#!/usr/bin/env bash
# The demo: create identities, sign and verify a record (and watch a tampered copy and
# a wrong-permission key file be refused), then run two peers that make an encrypted
# session and answer each other's echo requests. Loopback addresses only.
set -euo pipefail
out=${1:-demo-out}
bin=$(swift build --show-bin-path)/starling
rm -rf "$out"
mkdir -p "$out"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# Runs a command that must fail, and stops the demo if it does not.
refused() {
    printf '$ %s\n' "$*"
    if "$@"; then echo "UNEXPECTED: that should have been refused"; exit 1; fi
    echo "(refused, as it should be)"
}

# Starts `starling peer ARGS...` in the background with its output in LOG, waits until
# it listens, and sets $peer_pid and $address. Bounded: 200 polls of its log.
start_peer() {
    local log=$1
    shift
    timeout 60 "$bin" peer "$@" >"$log" 2>&1 &
    peer_pid=$!
    trap 'kill "$peer_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 1 200); do
        grep -q '^listening ' "$log" && break
        sleep 0.05
    done
    address=$(awk '/^listening / {print $2}' "$log")
    [ -n "$address" ] || { echo "the peer did not start:"; cat "$log"; exit 1; }
}
# Stops a peer started by start_peer with SIGTERM (it closes its sessions) and waits.
stop_peer() {
    kill -TERM "$1"
    wait "$1" || true
    trap - EXIT
}

step "Create an identity (Ed25519, key file mode 0600)"
run "$bin" identity new --out "$out/alice.key"
run "$bin" identity show "$out/alice.key"
ls -l "$out/alice.key"

step "Sign a peer record: where alice listens and what she offers"
run "$bin" record sign --key "$out/alice.key" \
    --address 127.0.0.1:4000 --address '[::1]:4000' --service echo --service chat \
    --ttl 600 --out "$out/alice.record"
printf 'record datagram (%s bytes): ' "$(stat -c %s "$out/alice.record")"
od -An -tx1 -N 16 "$out/alice.record" | tr -s ' '
echo "   ..."

step "Verify it, expecting alice's peer ID"
alice=$("$bin" identity show "$out/alice.key" | awk '/^peer id/ {print $3}')
run "$bin" record verify "$out/alice.record" --peer "$alice"

step "Flip one bit of the record (in its sequence number): verification must fail"
cp "$out/alice.record" "$out/tampered.record"
byte=$(od -An -tu1 -j40 -N1 "$out/tampered.record" | tr -d ' ')
# shellcheck disable=SC2059 # the format is the one octal-escaped byte to write
printf "\\$(printf '%03o' $((byte ^ 1)))" | dd of="$out/tampered.record" bs=1 seek=40 conv=notrunc status=none
refused "$bin" record verify "$out/tampered.record"

step "A record of alice's checked against bob's ID is refused"
run "$bin" identity new --out "$out/bob.key"
bob=$("$bin" identity show "$out/bob.key" | awk '/^peer id/ {print $3}')
refused "$bin" record verify "$out/alice.record" --peer "$bob"

step "A key file that others can read is refused"
run chmod 644 "$out/bob.key"
refused "$bin" identity show "$out/bob.key"

run chmod 600 "$out/bob.key"

step "Two peers on loopback: an encrypted session, then an echo request each way"
# alice listens (port picked by the system); bob connects expecting alice's ID (Noise IK).
start_peer "$out/alice.log" --key "$out/alice.key" --listen 127.0.0.1:0
alice_pid=$peer_pid
echo "alice listens on $address"
run timeout 60 "$bin" peer --key "$out/bob.key" --connect "$address" --expect "$alice" --once
stop_peer "$alice_pid"
echo "--- alice's log:"
cat "$out/alice.log"

step "A peer of another private swarm gets no session"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$out/swarm-a.secret"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$out/swarm-b.secret"
chmod 600 "$out"/swarm-*.secret
start_peer "$out/private.log" --secret-file "$out/swarm-a.secret"
refused timeout 60 "$bin" peer --secret-file "$out/swarm-b.secret" --connect "$address" --connect-timeout 2 --once
stop_peer "$peer_pid"

printf '\n%sDemo complete.%s Files are in %s/.\n' "$bold" "$plain" "$out"
