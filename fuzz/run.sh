#!/usr/bin/env bash
# Fuzzes nestguard with cargo-fuzz (libFuzzer, nightly Rust).
#
#   fuzz/run.sh                  every target for 60 s
#   fuzz/run.sh 3600 packet      one target for an hour
#   JOBS=2 fuzz/run.sh 600       two workers per target
#   TIMEOUT=60 fuzz/run.sh ...   seconds one input may take (wall clock, so
#                                allow for a busy machine; default 60)
#
# The committed seeds in fuzz/corpus/<target> are read, never written; what a
# run learns goes to fuzz/work/<target> (git-ignored) and is reused next time.
# A crash stops the run and leaves its input in fuzz/artifacts/<target>/:
# replay it with `cargo +nightly fuzz run <target> <file>`, then turn it into
# a regression test under tests/ before fixing it.
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "work/$t"
    echo "== $t: ${secs}s"
    cargo +nightly fuzz run -O "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout="${TIMEOUT:-60}" \
        ${JOBS:+-jobs="$JOBS" -workers="$JOBS"} -print_final_stats=1 \
        2>&1 | tee "logs/$t.log" | grep -E '^(#[0-9]+.*(DONE|pulse)|stat::|==[0-9]+==|SUMMARY)' || true
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
        echo "== $t: FAILED, see fuzz/logs/$t.log and fuzz/artifacts/$t/" >&2
        exit 1
    fi
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "logs/$t.log" || true
    echo "== $t: no crash in ${secs}s"
done
