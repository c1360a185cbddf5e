#!/usr/bin/env bash
# The foundation demo: create an identity, sign a record, verify it, and watch a
# tampered copy and a wrong-permission key file be refused. Loopback addresses only.
set -euo pipefail
out=${1:-demo-out}
bin=$(swift build --show-bin-path)/starling
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

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

step "Flip one bit of the record: verification must fail"
cp "$out/alice.record" "$out/tampered.record"
printf '\x07' | dd of="$out/tampered.record" bs=1 seek=40 conv=notrunc status=none
if "$bin" record verify "$out/tampered.record"; then echo "UNEXPECTED: tampered record verified"; exit 1; fi

step "A record of alice's checked against bob's ID is refused"
run "$bin" identity new --out "$out/bob.key"
bob=$("$bin" identity show "$out/bob.key" | awk '/^peer id/ {print $3}')
if "$bin" record verify "$out/alice.record" --peer "$bob"; then echo "UNEXPECTED: wrong signer accepted"; exit 1; fi

step "A key file that others can read is refused"
chmod 644 "$out/bob.key"
if "$bin" identity show "$out/bob.key"; then echo "UNEXPECTED: world-readable key accepted"; exit 1; fi

printf '\n\033[1mDemo complete.\033[0m Files are in %s/.\n' "$out"
