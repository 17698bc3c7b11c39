#!/usr/bin/env bash
# bench/load.sh — how long nestguard takes from exec to the first answer
# with a million-domain block list, and its memory then (RSS) and at peak
# (VmHWM), over several runs.
#
#   bash bench/load.sh                   # from the repo root
#
# The list is bench/data/blocklist.txt from `cargo run --release --example
# bench_data` (deterministic; generated if absent). The daemon runs pinned
# to CPU 0 with the shipped rules plus the list in one category; "first
# answer" is the first NXDOMAIN for a listed name, asked with dig every 5 ms.
#
# Environment: RUNS [5], SERVER_CPU [0], PORT [5421], SKIP_BUILD [0].
set -euo pipefail

RUNS=${RUNS:-5}
SERVER_CPU=${SERVER_CPU:-0}
PORT=${PORT:-5421}
SKIP_BUILD=${SKIP_BUILD:-0}

log() { printf '[load] %s\n' "$*" >&2; }
die() { printf '[load] ERROR: %s\n' "$*" >&2; exit 1; }
[[ -f Cargo.toml && -d src ]] || die "run from the repo root: bash bench/load.sh"
command -v dig >/dev/null || die "needs dig (apt-get install bind9-dnsutils)"
REPO=$(pwd)

if [[ $SKIP_BUILD != 1 ]]; then
    timeout 1800 cargo build --release --bin nestguard --example bench_data >&2
fi
DATA=$REPO/bench/data
[[ -f $DATA/blocklist.txt ]] || "$REPO/target/release/examples/bench_data" "$DATA"
NAME=$(sed -n '500000p' "$DATA/blocklist.txt")

TMP=$(mktemp -d /tmp/nestguard-load.XXXXXX)
PID=""
cleanup() {
    [[ -z $PID ]] || kill "$PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
cat >"$TMP/nestguard.toml" <<EOF
[server]
listen = ["127.0.0.1:$PORT"]
[[upstream]]
protocol = "udp"
address = "127.0.0.1:9"
[log]
level = "warn"
[state]
dir = "$TMP/state"
[[rules.list]]
path = "$DATA/blocklist.txt"
category = "adult"
EOF
# Read once so every run starts with the list in the page cache.
cat "$DATA/blocklist.txt" >/dev/null

echo "| run | first answer (ms) | RSS then (MiB) | peak RSS (MiB) |"
echo "|---:|---:|---:|---:|"
for r in $(seq 1 "$RUNS"); do
    t0=$(date +%s%N)
    taskset -c "$SERVER_CPU" "$REPO/target/release/nestguard" run -c "$TMP/nestguard.toml" \
        >"$TMP/daemon.log" 2>&1 &
    PID=$!
    ok=0
    for _ in $(seq 1 2000); do
        if timeout 2 dig +tries=1 +time=1 @127.0.0.1 -p "$PORT" "$NAME" A 2>/dev/null |
            grep -q 'status: NXDOMAIN'; then
            ok=1
            break
        fi
        sleep 0.005
    done
    t1=$(date +%s%N)
    [[ $ok == 1 ]] || { cat "$TMP/daemon.log" >&2; die "no blocked answer for $NAME"; }
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
    awk -v r="$r" -v ms=$(((t1 - t0) / 1000000)) -v rss="$rss" -v hwm="$hwm" \
        'BEGIN { printf "| %d | %d | %.1f | %.1f |\n", r, ms, rss / 1024, hwm / 1024 }'
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
done
