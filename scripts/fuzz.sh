#!/usr/bin/env bash
# Runs every libFuzzer target (or those named) for a bounded time each, then prints one
# line per target: executions, speed, corpus growth, and the result.
#
#   scripts/fuzz.sh <starling-fuzz binary> <seconds per target> [target...]
#
# The binary is the libFuzzer build of `make fuzz-build`. Each target starts from the
# seeds in Fuzz/Corpus/<target> (read only) and a working corpus in
# .build/fuzz-corpus/<target> that grows across runs; crashes land in
# .build/fuzz-artifacts/. Exit status 1 when any target found a crash, leak or timeout.
set -uo pipefail
cd "$(dirname "$0")/.."
binary=$1
seconds=$2
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    # The libFuzzer build has no `list` command: the debug build's list is the same.
    mapfile -t targets < <(ls Fuzz/Corpus)
fi
work=.build/fuzz-corpus
artifacts=.build/fuzz-artifacts
logs=.build/fuzz-logs
mkdir -p "$work" "$artifacts" "$logs"
summary=$logs/summary.txt
: >"$summary"
failed=0
printf '%-16s %8s %12s %10s %8s %8s  %s\n' target seconds executions exec/s corpus rss_mb result | tee -a "$summary"
for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    log=$logs/$target.log
    # -rss_limit_mb bounds memory per run; -timeout flags any single input over 10 s.
    STARLING_FUZZ_TARGET=$target nice "$binary" \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
        "$work/$target" "Fuzz/Corpus/$target" >"$log" 2>&1
    status=$?
    stat() { grep -m1 "^stat::$1:" "$log" | awk '{print $2}'; }
    runs=$(stat number_of_executed_units)
    speed=$(stat average_exec_per_sec)
    rss=$(stat peak_rss_mb)
    corpus=$(find "$work/$target" -type f | wc -l)
    result=ok
    if [ $status -ne 0 ]; then
        result="FAILED (exit $status): $(grep -m1 -E 'ERROR: |==ERROR|Fatal error|deadly signal' "$log" | cut -c1-100); see $log"
        failed=1
    fi
    printf '%-16s %8s %12s %10s %8s %8s  %s\n' "$target" "$seconds" "${runs:-?}" "${speed:-?}" "$corpus" "${rss:-?}" \
        "$result" | tee -a "$summary"
done
exit $failed
