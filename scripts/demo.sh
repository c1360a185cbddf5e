#!/usr/bin/env bash
# The foundation demo: create an identity, sign a record, verify it, and watch a
# tampered copy and a wrong-permission key file be refused. Loopback addresses only.
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

printf '\n%sDemo complete.%s Files are in %s/.\n' "$bold" "$plain" "$out"
