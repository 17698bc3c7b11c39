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
#   DURATION [15]   seconds per measurement       ROUNDS [3]    passes over all servers (interleaved)
#   CLIENTS  [8]    dnsperf -c                    OUTSTANDING [200]  dnsperf -q
#   NAMES  [1000]   names in the query file       SERVERS ["nestguard dnsmasq unbound"]
#   RESULTS_DIR [bench/results/<timestamp>]       SKIP_BUILD [0]  1 = use existing binary
#   SERVER_CPU [0]  DNSPERF_CPU [1]
set -euo pipefail

DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
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
        command -v "$t" >/dev/null 2>&1 || missing=1
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
DNSPERF_PID=""

cleanup() {
    local rc=$? name
    trap - EXIT INT TERM
    [[ -z $DNSPERF_PID ]] || kill "$DNSPERF_PID" 2>/dev/null || true
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
        ss -H -lntu 2>/dev/null | awk -v p="$p" '{ n = split($5, a, ":"); if (a[n] == p) f = 1 } END { exit !f }'
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

# Activity counting stays on (the default), so the figures include it.
[state]
dir = "$TMP/state"
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
    # unbound answers "test." itself by default (RFC 6761 local zone): forward it instead
    local-zone: "test." nodefault
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
    # in the background + wait, so that a signal reaches the trap at once
    local port=$1 out=$2 rc=0
    shift 2
    timeout $((DURATION + 60)) taskset -c "$DNSPERF_CPU" \
        dnsperf -s 127.0.0.1 -p "$port" -d "$TMP/queries.txt" -t 2 "$@" >"$out" 2>&1 &
    DNSPERF_PID=$!
    wait "$DNSPERF_PID" || rc=$?
    DNSPERF_PID=""
    [[ $rc -eq 0 ]] || { cat "$out" >&2; die "dnsperf failed with status $rc (see $out)"; }
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
    noerr=$(grep -o 'NOERROR [0-9]*' "$RESULTS_DIR/check-$s.txt" | awk '{print $2}' || true)
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
# CPU-seconds used by reaped children of this shell (bash `times`, 2nd line);
# bracketing one dnsperf run gives dnsperf's own CPU time.
# Must run in this shell, not in $(...): sets CHILD_CPU.
children_cpu() {
    times >"$TMP/times"
    CHILD_CPU=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } print t }' "$TMP/times")
}

TCK=$(getconf CLK_TCK)
LOAD_START=$(cat /proc/loadavg)
ROWS=()
declare -A SAMPLES=()
for r in $(seq 1 "$ROUNDS"); do
    for s in $SERVERS; do
        p=${PORT[$s]}
        out="$RESULTS_DIR/run$r-$s.txt"
        log "round $r/$ROUNDS: $s, ${DURATION}s, -c $CLIENTS -q $OUTSTANDING"
        sleep 1
        c0=$(cpu_ticks "${PID[$s]}")
        children_cpu
        k0=$CHILD_CPU
        w0=$(date +%s.%N)
        run_dnsperf "$p" "$out" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -T 1
        w1=$(date +%s.%N)
        children_cpu
        k1=$CHILD_CPU
        c1=$(cpu_ticks "${PID[$s]}")
        kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during the run (log: $RESULTS_DIR/$s.log)"

        qps=$(dp_field "$out" "Queries per second:" 4)
        completed=$(dp_field "$out" "Queries completed:" 3)
        lost="$(dp_field "$out" "Queries lost:" 3) $(dp_field "$out" "Queries lost:" 4)"
        lat=$(dp_field "$out" "Average Latency (s):" 4)
        runtime=$(dp_field "$out" "Run time (s):" 4)
        [[ -n $qps && -n $completed && -n $runtime ]] || die "cannot parse $out"
        mapfile -t res < <(awk -v s="$s" -v r="$r" -v qps="$qps" -v done="$completed" -v lost="$lost" \
            -v lat="$lat" -v rt="$runtime" -v c0="$c0" -v c1="$c1" -v tck="$TCK" \
            -v k0="$k0" -v k1="$k1" -v w0="$w0" -v w1="$w1" 'BEGIN {
                cpu = (c1 - c0) / tck
                per = cpu > 0 ? done / cpu : 0
                printf "| %s | %d | %.0f | %s | %.3f | %.2f | %.0f%% | %.0f%% | **%.0f** |\n",
                    s, r, qps, lost, lat * 1000, cpu, 100 * cpu / rt, 100 * (k1 - k0) / (w1 - w0), per
                printf "%.0f\n", per
            }')
        row=${res[0]}
        per=${res[1]}
        ROWS+=("$row")
        SAMPLES[$s]+="$per $qps"$'\n'
        log "$row"
    done
done

# ---------------------------------------------------------------- report
{
    echo "Cached A answers over UDP on 127.0.0.1; $NAMES names; server pinned to CPU $SERVER_CPU, dnsperf to CPU $DNSPERF_CPU;"
    echo "dnsperf -l $DURATION -c $CLIENTS -q $OUTSTANDING -T 1; server CPU from /proc/PID/stat utime+stime ($TCK ticks/s)."
    echo
    echo "| server | round | QPS | lost | avg latency (ms) | server CPU-s | server CPU share | dnsperf CPU share (of its wall time) | queries / server CPU-s |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    if [[ $ROUNDS -gt 1 ]]; then
        echo
        echo "| server | median QPS | median queries / server CPU-s | min – max queries / server CPU-s |"
        echo "|---|---:|---:|---:|"
        for s in $SERVERS; do
            printf '%s' "${SAMPLES[$s]}" | awk -v s="$s" '
                BEGIN { n = 0 }
                NF == 2 { per[n] = $1; q[n] = $2; n++ }
                function med(a, n,   i, j, t, b) {
                    for (i = 0; i < n; i++) b[i] = a[i]
                    for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }
                    return n % 2 ? b[(n - 1) / 2] : (b[n / 2 - 1] + b[n / 2]) / 2
                }
                END {
                    lo = hi = per[0]
                    for (i = 1; i < n; i++) { if (per[i] < lo) lo = per[i]; if (per[i] > hi) hi = per[i] }
                    printf "| %s | %.0f | **%.0f** | %.0f – %.0f |\n", s, med(q, n), med(per, n), lo, hi
                }'
        done
    fi
} | tee "$RESULTS_DIR/summary.md"

{
    echo "date: $(date -Is)"
    echo "host: nproc=$(nproc) cpu='$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)' kernel=$(uname -r)"
    echo "dnsperf: $(dnsperf -h 2>&1 | awk '/^Version/ {print $2; exit}')"
    echo "dnsmasq: $(dnsmasq --version | awk 'NR==1 {print $3}')"
    echo "unbound: $(unbound -V | awk 'NR==1 {print $2}')"
    echo "nestguard: $("$NESTGUARD" --version 2>/dev/null) commit=$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted) binary-sha256=$(sha256sum "$NESTGUARD" | cut -c1-16)"
    git_state=$(git status --porcelain -- src tests Cargo.toml Cargo.lock 2>/dev/null | wc -l)
    echo "nestguard tree: $git_state uncommitted path(s) under src/ tests/ Cargo.*"
    for s in $SERVERS; do
        echo "$s peak RSS: $(awk '/^VmHWM/ {print $2, $3}' "/proc/${PID[$s]}/status" 2>/dev/null || echo '?')"
    done
    echo "loadavg at start of measurements: $LOAD_START"
    echo "loadavg at end: $(cat /proc/loadavg)"
} | tee "$RESULTS_DIR/env.txt" >&2

echo
echo "raw dnsperf outputs: $RESULTS_DIR"
