#!/usr/bin/env bash
# The LAN discovery demo: builds a small LAN of four hosts out of network namespaces
# (veth pairs into a bridge that lives in a namespace of its own), then runs
# `starling lan` on every host, three times: peers find each other by IPv4 multicast,
# then by directed broadcast, then by IPv6 link-local multicast, and join into an overlay.
#
# Needs root (ip netns). Everything it creates is named starling-demo-* and lives inside
# those namespaces: no interface is added to, and no datagram sent in, the machine's own
# network namespace. The namespaces are deleted on exit, also on Ctrl-C.
#
# Usage: sudo bash scripts/demo-lan.sh [path/to/starling]
#        (default: $STARLING_BIN, else $(swift build --show-bin-path)/starling)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "demo-lan: needs root to create network namespaces; run: sudo bash scripts/demo-lan.sh" >&2
    exit 1
fi
command -v ip >/dev/null || { echo "demo-lan: needs ip (iproute2)" >&2; exit 1; }

bin=${1:-${STARLING_BIN:-$(swift build --show-bin-path)/starling}}
[ -x "$bin" ] || { echo "demo-lan: no starling binary at $bin (run make build first)" >&2; exit 1; }

hosts=4
prefix="starling-demo-$$"
bridge_ns="$prefix-br"
host_ns() { echo "$prefix-h$1"; }
logs=$(mktemp -d /tmp/starling-demo-lan.XXXXXX)
pids=()

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for i in $(seq 0 $((hosts - 1))); do ip netns delete "$(host_ns "$i")" 2>/dev/null || true; done
    ip netns delete "$bridge_ns" 2>/dev/null || true
    rm -rf "$logs"
    echo "(namespaces $prefix-* removed)"
    exit "$status"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

step "Build the LAN: $hosts hosts (namespaces $prefix-h*) on one bridge ($bridge_ns)"
ip netns add "$bridge_ns"
ip -n "$bridge_ns" link set lo up
# Without multicast snooping the bridge floods group traffic to every port, as a plain
# switch does: no wait for it to learn the joins.
ip -n "$bridge_ns" link add br0 type bridge mcast_snooping 0
ip -n "$bridge_ns" link set br0 up
for i in $(seq 0 $((hosts - 1))); do
    ns=$(host_ns "$i")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Both veth ends are made inside the bridge's namespace; one end moves to the host.
    ip -n "$bridge_ns" link add "h$i" type veth peer name lan0 netns "$ns"
    ip -n "$bridge_ns" link set "h$i" master br0
    ip -n "$bridge_ns" link set "h$i" up
    ip -n "$ns" addr add "192.0.2.$((10 + i))/24" brd + dev lan0
    ip -n "$ns" link set lan0 addrgenmode none
    ip -n "$ns" addr add "fe80::$((10 + i))/64" dev lan0 nodad
    ip -n "$ns" link set lan0 up
    echo "host h$i: $ns, lan0 192.0.2.$((10 + i))/24 fe80::$((10 + i))"
done

failures=0
# Runs `starling lan --interface lan0 ARGS...` on every host at once and prints each
# host's output, prefixed with its name.
round() {
    local title=$1
    shift
    step "$title"
    printf '$ starling lan --interface lan0 %s   (on each host)\n' "$*"
    pids=()
    for i in $(seq 0 $((hosts - 1))); do
        timeout 60 ip netns exec "$(host_ns "$i")" "$bin" lan --interface lan0 "$@" \
            --expect $((hosts - 1)) --duration 20 >"$logs/h$i.log" 2>&1 &
        pids+=("$!")
    done
    local i=0
    for pid in "${pids[@]}"; do
        if wait "$pid"; then status=ok; else status="FAILED ($?)"; failures=$((failures + 1)); fi
        sed "s/^/[h$i] /" "$logs/h$i.log"
        echo "[h$i] exit: $status"
        i=$((i + 1))
    done
    pids=()
}

round "Discovery by IPv4 multicast (239.255.77.77)" --multicast
round "Discovery by directed broadcast (192.0.2.255)" --broadcast
round "Discovery by limited broadcast (255.255.255.255 on lan0 only)" --limited-broadcast
round "Discovery by IPv6 link-local multicast (ff02::7777)" --ipv6

if [ "$failures" -ne 0 ]; then
    step "$failures host runs failed"
    exit 1
fi
step "Every host discovered the other $((hosts - 1)) in every round"
