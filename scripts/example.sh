#!/usr/bin/env bash
# make example: PEERS copies of the neighbours app (Demos/Neighbours) on 127.0.0.1. The
# first starts a swarm with its HTTP server on HTTP_PORT; each other one joins through it
# (--seed) with its HTTP server on the next port. Runs until Ctrl-C (or SIGTERM), which
# stops every copy gracefully: its HTTP server, then its peer, which leaves the overlay.
#
#   scripts/example.sh BIN PEERS HTTP_PORT [OPTIONS...]   (OPTIONS go to every copy)
set -euo pipefail
bin=$1 peers=$2 http_port=$3
shift 3
[ "$peers" -ge 1 ] || { echo "example: PEERS must be at least 1" >&2; exit 2; }

dir=$(mktemp -d)
pids=()
stop() {
    trap - INT TERM EXIT
    [ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
    wait || true
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 0' INT TERM

# Starts copy $1 with the remaining options, its output on the terminal and in $dir/$1.out,
# and waits (at most 30 s) until it prints its HTTP URL.
start() {
    local index=$1
    shift
    "$bin" "$@" > >(tee "$dir/$index.out") &
    pids+=($!)
    for _ in $(seq 1 300); do
        grep -q '^http ' "$dir/$index.out" 2>/dev/null && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || { echo "example: copy $index exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "example: copy $index printed no HTTP URL in 30 s" >&2
    exit 1
}

start 0 --http-port "$http_port" "$@"
seed=$(awk '/^peer /{ print $3; exit }' "$dir/0.out")
for ((i = 1; i < peers; i++)); do
    start "$i" --http-port $((http_port + i)) --seed "$seed" "$@"
done
echo
echo "$peers peer(s) on 127.0.0.1. Open http://127.0.0.1:$http_port/ (also /neighbours, /health, /metrics)."
echo "Ctrl-C stops them."
wait
