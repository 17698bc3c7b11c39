#!/usr/bin/env bash
# bench/dnsperf.sh — cached-answer UDP throughput of nestguard beside dnsmasq
# and unbound, on loopback, in one run.
#
#   bash bench/dnsperf.sh                 # from the repo root
#
# Layout (everything on 127.0.0.1, nothing leaves the host):
#   5399  backend: dnsmasq answering A for NAMES generated names (TTL 86400)
#   5401  nestguard  caching forwarder -> 5399
#   5402  dnsmasq    caching forwarder -> 5399
#   5403  unbound    caching forwarder -> 5399
# Every front-end runs pinned to CPU 0 (started under `taskset -c 0`, so all of
# its threads are pinned and tokio sizes its pool to one worker); dnsperf runs
# pinned to CPU 1. Each cache is warmed over the whole query file and checked
# before it is measured, so the measured traffic is 100% cache hits.
#
# Per server and round it reports dnsperf's QPS, lost %, average latency, the
# server's CPU-seconds (utime+stime from /proc/PID/stat, all threads) and
# queries completed per server CPU-second.
#
# Environment knobs (defaults in brackets):
#   DURATION [15]   seconds per measurement       ROUNDS [1]    passes over all servers
#   CLIENTS  [8]    dnsperf -c                    OUTSTANDING [200]  dnsperf -q
#   NAMES  [1000]   names in the query file       SERVERS ["nestguard dnsmasq unbound"]
#   RESULTS_DIR [bench/results/<timestamp>]       SKIP_BUILD [0]  1 = use existing binary
#   SERVER_CPU [0]  DNSPERF_CPU [1]
set -euo pipefail

DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-1}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-200}
NAMES=${NAMES:-1000}
SERVERS=${SERVERS:-"nestguard dnsmasq unbound"}
SKIP_BUILD=${SKIP_BUILD:-0}
SERVER_CPU=${SERVER_CPU:-0}
DNSPERF_CPU=${DNSPERF_CPU:-1}

BACKEND_PORT=5399
declare -A PORT=([nestguard]=5401 [dnsmasq]=5402 [unbound]=5403)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -f Cargo.toml && -d src ]] || die "run from the repo root: bash bench/dnsperf.sh"
REPO=$(pwd)
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 && $DURATION -le 3600 ]] || die "DURATION must be 1..3600"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 20 ]] || die "ROUNDS must be 1..20"
[[ $NAMES =~ ^[0-9]+$ && $NAMES -ge 1 && $NAMES -le 9999 ]] || die "NAMES must be 1..9999"
for s in $SERVERS; do [[ -n ${PORT[$s]:-} ]] || die "unknown server '$s'"; done

# ---------------------------------------------------------------- tools
need_tools() {
    local missing=0 t
    for t in dnsperf dnsmasq unbound unbound-checkconf dig taskset getconf awk; do
        command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null 2>&1 || missing=1
    done
    return $missing
}
export PATH=$PATH:/usr/sbin:/sbin
if ! need_tools; then
    log "installing dnsperf dnsmasq unbound bind9-dnsutils"
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    pkgs=(dnsperf dnsmasq unbound bind9-dnsutils)
    export DEBIAN_FRONTEND=noninteractive
    # apt-get update only when the package lists are absent or the install fails.
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        timeout 300 $SUDO apt-get update
    fi
    if ! timeout 600 $SUDO apt-get install -y "${pkgs[@]}"; then
        timeout 300 $SUDO apt-get update
        timeout 600 $SUDO apt-get install -y "${pkgs[@]}"
    fi
    need_tools || die "tools still missing after apt-get install"
fi
[[ $(nproc) -ge 2 ]] || die "needs at least 2 CPUs (server on CPU $SERVER_CPU, dnsperf on CPU $DNSPERF_CPU)"

# ---------------------------------------------------------------- build
if [[ $SKIP_BUILD != 1 ]]; then
    log "cargo build --release"
    timeout 1800 cargo build --release >&2
fi
NESTGUARD=$REPO/target/release/nestguard
[[ -x $NESTGUARD ]] || die "$NESTGUARD not found"

# ---------------------------------------------------------------- temp dir, cleanup
TMP=$(mktemp -d /tmp/nestguard-bench.XXXXXX)
chmod 755 "$TMP"   # dnsmasq drops to 'nobody' and must still read its hosts file
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS_DIR"
RESULTS_DIR=$(cd "$RESULTS_DIR" && pwd)
declare -A PID=()

cleanup() {
    local rc=$? name
    trap - EXIT INT TERM
    for name in "${!PID[@]}"; do
        kill "${PID[$name]}" 2>/dev/null || true
    done
    for name in "${!PID[@]}"; do
        for _ in $(seq 1 30); do kill -0 "${PID[$name]}" 2>/dev/null || break; sleep 0.1; done
        kill -9 "${PID[$name]}" 2>/dev/null || true
        wait "${PID[$name]}" 2>/dev/null || true
    done
    # keep the server logs with the results, then drop the temp dir
    cp "$TMP"/*.log "$RESULTS_DIR"/ 2>/dev/null || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- ports free?
port_busy() { # UDP or TCP listener on 127.0.0.1:$1 / 0.0.0.0:$1 / *:$1
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        ss -H -lntu 2>/dev/null | awk '{print $5}' | grep -Eq "(^|[:\]])$p\$"
    else
        grep -qi ":$(printf '%04X' "$p") " /proc/net/udp /proc/net/tcp 2>/dev/null
    fi
}
for p in $BACKEND_PORT "${PORT[@]}"; do
    port_busy "$p" && die "port $p already in use on this host"
done

# ---------------------------------------------------------------- data
# h0001.bench.test -> 10.0.0.1, h0300.bench.test -> 10.0.1.44, ...
ip_of() { printf '10.%d.%d.%d' $(($1 / 65536)) $(($1 / 256 % 256)) $(($1 % 256)); }
: >"$TMP/hosts"
: >"$TMP/queries.txt"
for i in $(seq 1 "$NAMES"); do
    name=$(printf 'h%04d.bench.test' "$i")
    printf '%s %s\n' "$(ip_of "$i")" "$name" >>"$TMP/hosts"
    printf '%s A\n' "$name" >>"$TMP/queries.txt"
done
chmod 644 "$TMP/hosts" "$TMP/queries.txt"

# ---------------------------------------------------------------- helpers
# dig with hard bounds; prints "+noall +answer" output.
qdig() { # port name
    timeout 5 dig +tries=1 +time=1 +noall +answer @127.0.0.1 -p "$1" "$2" A 2>/dev/null || true
}

wait_ready() { # name port
    local i
    for i in $(seq 1 100); do
        kill -0 "${PID[$1]}" 2>/dev/null || { cat "$TMP/$1.log" >&2 || true; die "$1 exited during start-up"; }
        # any reply at all (even REFUSED/SERVFAIL) means it listens
        if timeout 2 dig +tries=1 +time=1 @127.0.0.1 -p "$2" readiness.probe.invalid A >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    die "$1 did not answer on port $2 within ~10 s"
}

# utime+stime of a process (all its threads), in clock ticks.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat") || die "process $1 is gone"
    stat=${stat##*) }            # drop "pid (comm) ": the rest starts at field 3
    awk '{print $12 + $13}' <<<"$stat"
}

# busy, total and steal jiffies of one CPU from /proc/stat
# (busy = user+nice+system+irq+softirq; total = those + idle+iowait+steal).
cpu_jiffies() {
    awk -v c="cpu$1" '$1 == c { print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9, $9 }' /proc/stat
}

# field from dnsperf output
dp_field() { # file "label" awk-field
    awk -v lbl="$2" -v f="$3" 'index($0, lbl) { print $f; exit }' "$1"
}

# ---------------------------------------------------------------- backend
log "starting backend dnsmasq on 127.0.0.1:$BACKEND_PORT ($NAMES names)"
dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --keep-in-foreground \
    --port=$BACKEND_PORT --listen-address=127.0.0.1 --bind-interfaces \
    --addn-hosts="$TMP/hosts" --local-ttl=86400 --auth-ttl=86400 \
    --pid-file= --log-facility=- --cache-size=0 \
    >"$TMP/backend.log" 2>&1 &
PID[backend]=$!
wait_ready backend $BACKEND_PORT
ans=$(qdig $BACKEND_PORT h0001.bench.test)
read -r _ ttl _ _ ip <<<"$ans" || true
[[ ${ip:-} == "$(ip_of 1)" ]] || die "backend answer wrong: '$ans'"
[[ ${ttl:-} == 86400 ]] || die "backend TTL is '${ttl:-}', want 86400: '$ans'"
log "backend ok: $ans"

# ---------------------------------------------------------------- front-ends
cat >"$TMP/nestguard.toml" <<EOF
[server]
listen = ["127.0.0.1:${PORT[nestguard]}"]

[[upstream]]
protocol = "udp"
address = "127.0.0.1:$BACKEND_PORT"

[cache]
max_entries = 100000
max_ttl = "1day"

[log]
level = "warn"
EOF

cat >"$TMP/unbound.conf" <<EOF
server:
    interface: 127.0.0.1@${PORT[unbound]}
    port: ${PORT[unbound]}
    do-ip6: no
    do-daemonize: no
    num-threads: 1
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    msg-cache-size: 64m
    rrset-cache-size: 128m
    key-cache-size: 1m
    neg-cache-size: 1m
    cache-max-ttl: 86400
    prefetch: no
    username: ""
    chroot: ""
    directory: "$TMP"
    pidfile: ""
    logfile: ""
    use-syslog: no
    verbosity: 0
    statistics-interval: 0
    trust-anchor-signaling: no
    root-key-sentinel: no
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$BACKEND_PORT
EOF

timeout 30 "$NESTGUARD" check --config "$TMP/nestguard.toml" >&2 || die "nestguard check failed"
timeout 30 unbound-checkconf "$TMP/unbound.conf" >&2 || die "unbound-checkconf failed"

start_server() { # name
    case $1 in
    nestguard)
        taskset -c "$SERVER_CPU" "$NESTGUARD" run --config "$TMP/nestguard.toml" \
            >"$TMP/nestguard.log" 2>&1 &
        ;;
    dnsmasq)
        taskset -c "$SERVER_CPU" dnsmasq --conf-file=/dev/null --no-resolv --no-hosts \
            --keep-in-foreground --port="${PORT[dnsmasq]}" --listen-address=127.0.0.1 \
            --bind-interfaces --server=127.0.0.1#$BACKEND_PORT --cache-size=10000 \
            --pid-file= --log-facility=- >"$TMP/dnsmasq.log" 2>&1 &
        ;;
    unbound)
        taskset -c "$SERVER_CPU" unbound -d -c "$TMP/unbound.conf" >"$TMP/unbound.log" 2>&1 &
        ;;
    esac
    PID[$1]=$!
    wait_ready "$1" "${PORT[$1]}"
}

run_dnsperf() { # port outfile [extra args...]  — bounded by -l/-n and timeout
    local port=$1 out=$2
    shift 2
    timeout $((DURATION + 60)) taskset -c "$DNSPERF_CPU" \
        dnsperf -s 127.0.0.1 -p "$port" -d "$TMP/queries.txt" -t 2 "$@" >"$out" 2>&1 ||
        { cat "$out" >&2; die "dnsperf failed (see $out)"; }
}

for s in $SERVERS; do
    log "starting $s on 127.0.0.1:${PORT[$s]} (CPU $SERVER_CPU)"
    start_server "$s"
done

# ---------------------------------------------------------------- warm + check
for s in $SERVERS; do
    p=${PORT[$s]}
    log "warming $s"
    # gentle first pass: every name is a miss that goes to the backend
    run_dnsperf "$p" "$RESULTS_DIR/warm-$s.txt" -n 1 -c 1 -q 10 -T 1
    # second pass must be all answered, all NOERROR (now from the cache)
    run_dnsperf "$p" "$RESULTS_DIR/check-$s.txt" -n 1 -c 1 -q 10 -T 1
    done_n=$(dp_field "$RESULTS_DIR/check-$s.txt" "Queries completed:" 3)
    noerr=$(grep -o 'NOERROR [0-9]*' "$RESULTS_DIR/check-$s.txt" | awk '{print $2}')
    [[ $done_n == "$NAMES" && ${noerr:-0} == "$NAMES" ]] ||
        die "$s: check pass answered ${done_n:-?}/$NAMES, NOERROR ${noerr:-0} (see $RESULTS_DIR/check-$s.txt)"
    k=$(((NAMES + 1) / 2))
    ans=$(qdig "$p" "$(printf 'h%04d.bench.test' "$k")")
    read -r _ ttl _ _ ip <<<"$ans" || true
    [[ ${ip:-} == "$(ip_of "$k")" ]] || die "$s: wrong sample answer: '$ans'"
    [[ ${ttl:-0} -gt 3600 ]] || die "$s: sample TTL too low ('$ans'); cache would expire"
    log "$s warm: $NAMES/$NAMES NOERROR; sample: $ans"
done

# ---------------------------------------------------------------- measure
TCK=$(getconf CLK_TCK)
ROWS=()
for r in $(seq 1 "$ROUNDS"); do
    for s in $SERVERS; do
        p=${PORT[$s]}
        out="$RESULTS_DIR/run$r-$s.txt"
        log "round $r/$ROUNDS: $s, ${DURATION}s, -c $CLIENTS -q $OUTSTANDING"
        sleep 1
        read -r b0 t0 s0 < <(cpu_jiffies "$SERVER_CPU")
        read -r d0 dt0 _ < <(cpu_jiffies "$DNSPERF_CPU")
        c0=$(cpu_ticks "${PID[$s]}")
        run_dnsperf "$p" "$out" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -T 1
        c1=$(cpu_ticks "${PID[$s]}")
        read -r b1 t1 s1 < <(cpu_jiffies "$SERVER_CPU")
        read -r d1 dt1 _ < <(cpu_jiffies "$DNSPERF_CPU")
        kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during the run (log: $TMP/$s.log)"

        qps=$(dp_field "$out" "Queries per second:" 4)
        completed=$(dp_field "$out" "Queries completed:" 3)
        lost=$(dp_field "$out" "Queries lost:" 4 | tr -d '()')
        lat=$(dp_field "$out" "Average Latency (s):" 4)
        runtime=$(dp_field "$out" "Run time (s):" 4)
        [[ -n $qps && -n $completed && -n $runtime ]] || die "cannot parse $out"
        row=$(awk -v s="$s" -v r="$r" -v qps="$qps" -v done="$completed" -v lost="$lost" \
            -v lat="$lat" -v rt="$runtime" -v c0="$c0" -v c1="$c1" -v tck="$TCK" \
            -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" \
            -v d0="$d0" -v d1="$d1" -v dt0="$dt0" -v dt1="$dt1" 'BEGIN {
                cpu = (c1 - c0) / tck
                per = cpu > 0 ? done / cpu : 0
                busy0 = (t1 > t0) ? 100 * (b1 - b0) / (t1 - t0) : 0
                steal0 = (t1 > t0) ? 100 * (s1 - s0) / (t1 - t0) : 0
                busy1 = (dt1 > dt0) ? 100 * (d1 - d0) / (dt1 - dt0) : 0
                printf "| %s | %d | %.0f | %d | %s | %.3f | %.2f | %.0f%% | %.0f | %.0f%% / %.0f%% / %.0f%% |",
                    s, r, qps, done, lost, lat * 1000, cpu, 100 * cpu / rt, per, busy0, steal0, busy1
            }')
        ROWS+=("$row")
        log "$row"
    done
done

# ---------------------------------------------------------------- report
{
    echo "Cached A answers over UDP on 127.0.0.1; $NAMES names; server on CPU $SERVER_CPU, dnsperf on CPU $DNSPERF_CPU;"
    echo "dnsperf -l $DURATION -c $CLIENTS -q $OUTSTANDING -T 1; clock ticks/s: $TCK."
    echo
    echo "| server | round | QPS | queries completed | lost | avg latency (ms) | server CPU-s | server CPU share | queries / server CPU-s | CPU$SERVER_CPU busy / steal / CPU$DNSPERF_CPU busy |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
} | tee "$RESULTS_DIR/summary.md"

{
    echo "date: $(date -Is)"
    echo "host: nproc=$(nproc) cpu='$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)' kernel=$(uname -r)"
    echo "dnsperf: $(dnsperf -h 2>&1 | awk '/^Version/ {print $2; exit}')"
    echo "dnsmasq: $(dnsmasq --version | awk 'NR==1 {print $3}')"
    echo "unbound: $(unbound -V | awk 'NR==1 {print $2}')"
    echo "nestguard: $("$NESTGUARD" --version 2>/dev/null) commit=$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted) binary-sha256=$(sha256sum "$NESTGUARD" | cut -c1-16)"
    echo "loadavg at end: $(cat /proc/loadavg)"
} | tee "$RESULTS_DIR/env.txt" >&2

echo
echo "raw dnsperf outputs: $RESULTS_DIR"
