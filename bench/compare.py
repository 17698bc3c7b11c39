#!/usr/bin/env python3
"""bench/compare.py: nestguard beside dnsmasq, unbound, hickory-dns and a
do-nothing responder, with the same million-domain list, the same queries and
the same CPU pinning, in one run. BENCHMARKS.md explains every figure.

    python3 bench/compare.py              # from the repo root; about 8 minutes

It installs what it needs (dnsperf, dnsmasq, unbound and dig from Debian's
packages, hickory-dns 0.26 from crates.io into bench/.tools), builds nestguard,
generates the data with `examples/bench_data.rs` (deterministic), starts a
loopback upstream and then, for ROUNDS rounds, starts each server in turn and
measures it:

  load      exec to the first blocked answer for a listed name (polled every
            5 ms), RSS then (VmRSS, 0.5 s later) and peak (VmHWM)
  latency   dnsperf -Q 5000 on the mix: p50 / p99 from dnsperf -v, lost queries
  mix       dnsperf flat out on the blocked + cached mix: QPS and queries per
            server CPU-second (utime + stime of the server from /proc/PID/stat)
  forward   dnsperf flat out on the forwarding-heavy mix (70% never-seen names)

Everything listens on 127.0.0.1. Servers run pinned to SERVER_CPU, dnsperf
and the upstream to CLIENT_CPU. Results (tables, raw dnsperf output, server
logs, JSON) go to bench/results/<timestamp>/; the summary is printed too.

Environment: ROUNDS [3], DURATION [10] seconds per flat-out run,
LATENCY_SECONDS [10], SERVERS [nestguard dnsmasq unbound hickory echo; also
nestguard-services: nestguard with services and budgets configured],
SERVER_CPU [0], CLIENT_CPU [1], CLIENTS [8], OUTSTANDING [200],
SKIP_BUILD [0], SKIP_INSTALL [0], NESTGUARD_BIN [target/release/nestguard].

Encrypted forwarding (MODE=encrypted, or --encrypted): every query a name
never asked before, forwarded over DNS-over-TLS (and, for nestguard, over
DNS-over-HTTPS) to one loopback upstream for everyone: unbound with
tls-service-key/-pem and https-port (a throwaway CA made with the openssl
CLI), in front of the loopback dnsmasq answering the synthetic zone
*.fresh.bench.test. Each server and round gets names of its own, so neither
the server's cache nor the upstream's ever answers. Servers (SERVERS
[nestguard-dot nestguard-doh unbound-dot]): nestguard with a `tls` and with
an `https` upstream, unbound with `forward-tls-upstream: yes`. For each:

  miss      dnsperf flat out: QPS, server CPU per query (microseconds), TLS
            handshakes per 10,000 misses (connections the upstream accepted,
            from the kernel's TCP PassiveOpens counter, which counts every
            server alike; for nestguard also its /metrics: full and resumed
            handshakes, reconnects)
  latency   dnsperf -Q FIXED_QPS [2000] for LATENCY_SECONDS: p50 / p99, lost

    MODE=encrypted python3 bench/compare.py      # about 4 minutes
"""

import json
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "data"
TOOLS = REPO / "bench" / ".tools"
HICKORY_VERSION = "0.26.3"

ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = int(os.environ.get("DURATION", "10"))
LATENCY_SECONDS = int(os.environ.get("LATENCY_SECONDS", "10"))
SERVERS = os.environ.get("SERVERS", "nestguard dnsmasq unbound hickory echo").split()
SERVER_CPU = os.environ.get("SERVER_CPU", "0")
CLIENT_CPU = os.environ.get("CLIENT_CPU", "1")
CLIENTS = os.environ.get("CLIENTS", "8")
OUTSTANDING = os.environ.get("OUTSTANDING", "200")
SKIP_BUILD = os.environ.get("SKIP_BUILD") == "1"
SKIP_INSTALL = os.environ.get("SKIP_INSTALL") == "1"
MODE = "encrypted" if "--encrypted" in sys.argv[1:] else os.environ.get("MODE", "filter")
NESTGUARD = Path(os.environ.get("NESTGUARD_BIN", REPO / "target/release/nestguard"))
if MODE == "encrypted" and "SERVERS" not in os.environ:
    SERVERS = ["nestguard-dot", "nestguard-doh", "unbound-dot"]
FIXED_QPS = int(os.environ.get("FIXED_QPS", "2000"))

UPSTREAM_PORT = 5399
PORT = {"nestguard": 5401, "nestguard-services": 5406, "dnsmasq": 5402, "unbound": 5403, "hickory": 5404, "echo": 5405,
        "nestguard-dot": 5411, "nestguard-doh": 5412, "unbound-dot": 5413}
# The encrypted mode's shared upstream: DoT, DoH, and its unbound-control.
TLS_PORT, HTTPS_PORT, CONTROL_PORT = 5398, 5397, 5396
ADMIN_PORT = 5419
ADMIN_PASSWORD = "bench-only-password"
# The echo responder has no list and no upstream: it measures the kernel's
# share of a UDP DNS server, so it runs only the throughput and latency parts.
NO_LIST = {"echo"}

NXDOMAIN = 3
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(f"ERROR: {msg}")
    sys.exit(1)


def run(cmd, timeout, **kw):
    return subprocess.run(cmd, timeout=timeout, check=True, **kw)


# ------------------------------------------------------------------ tools


def install():
    os.environ["PATH"] += ":/usr/sbin:/sbin"
    need = ["dnsperf", "dnsmasq", "unbound", "unbound-checkconf", "dig", "taskset"]
    if any(shutil.which(t) is None for t in need):
        if SKIP_INSTALL:
            die(f"missing tools ({', '.join(need)}) and SKIP_INSTALL=1")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        log("apt-get install dnsperf dnsmasq unbound bind9-dnsutils")
        run(sudo + ["apt-get", "update", "-qq"], 600, env=env)
        run(sudo + ["apt-get", "install", "-y", "-qq", "dnsperf", "dnsmasq", "unbound",
                    "bind9-dnsutils", "util-linux"], 1200, env=env)
    hickory = TOOLS / "bin" / "hickory-dns"
    if "hickory" in SERVERS and not hickory.exists():
        if SKIP_INSTALL:
            die(f"{hickory} missing and SKIP_INSTALL=1")
        log(f"cargo install hickory-dns {HICKORY_VERSION} --features blocklist,resolver "
            "(about 10 minutes on 2 cores)")
        run(["cargo", "install", "hickory-dns", "--version", f"={HICKORY_VERSION}",
             "--features", "blocklist,resolver", "--locked", "--root", str(TOOLS)], 3600)
    if os.cpu_count() < 2:
        die("needs two CPUs: one for the servers, one for dnsperf and the upstream")


def build():
    if not SKIP_BUILD:
        log("cargo build --release (nestguard, echo_responder, bench_data)")
        run(["cargo", "build", "--release", "--bin", "nestguard", "--example", "echo_responder",
             "--example", "bench_data"], 3600, cwd=REPO)
    wanted = ["blocklist.txt", "hosts", "queries-mix.txt", "queries-forward.txt"]
    if not all((DATA / f).exists() for f in wanted):
        log("generating bench/data (deterministic)")
        run([str(REPO / "target/release/examples/bench_data"), str(DATA)], 600)


# ------------------------------------------------------------------ DNS bits


def query_packet(qid, name, qtype=1):
    q = b"".join(bytes([len(label)]) + label.encode() for label in name.split("."))
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + b"\0" + struct.pack(">HH", qtype, 1)


def blocked_answer(reply):
    """NXDOMAIN, or an answer of 0.0.0.0 (hickory-dns's sinkhole)."""
    if len(reply) < 12:
        return False
    rcode = reply[3] & 0x0F
    ancount = struct.unpack(">H", reply[6:8])[0]
    return rcode == NXDOMAIN or (rcode == 0 and ancount > 0 and reply.endswith(b"\0\0\0\0"))


def ask(port, name, qtype=1, timeout=1.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        qid = random.randrange(65536)
        s.sendto(query_packet(qid, name, qtype), ("127.0.0.1", port))
        try:
            while True:
                reply, _ = s.recvfrom(4096)
                if reply[:2] == struct.pack(">H", qid):
                    return reply
        except OSError:
            return None


# ------------------------------------------------------------------ processes


class Proc:
    def __init__(self, name, cmd, logfile, cpu, env=None):
        self.name = name
        self.log = open(logfile, "ab")
        self.p = subprocess.Popen(["taskset", "-c", cpu] + cmd, stdout=self.log,
                                  stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.started = time.monotonic()

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def memory_kib(self):
        got = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    got[key] = int(value.split()[0])
        return got["VmRSS"], got["VmHWM"]

    def stop(self):
        if self.alive():
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(10)
        self.log.close()


def wait_first_answer(proc, port, name, limit=60.0):
    """Seconds from exec to the first blocked answer for `name`."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.005)
        qid = 0
        while time.monotonic() - proc.started < limit:
            if not proc.alive():
                die(f"{proc.name} exited during start-up (see its log)")
            qid = (qid + 1) & 0xFFFF
            try:
                s.sendto(query_packet(qid, name), ("127.0.0.1", port))
                deadline = time.monotonic() + 0.005
                while time.monotonic() < deadline:
                    reply, _ = s.recvfrom(4096)
                    if reply[:2] == struct.pack(">H", qid) and blocked_answer(reply):
                        return time.monotonic() - proc.started
            except OSError:
                pass  # timeout, or ICMP port unreachable before it binds
    die(f"{proc.name} gave no blocked answer for {name} within {limit} s")


def wait_listening(proc, port, limit=30.0):
    while time.monotonic() - proc.started < limit:
        if not proc.alive():
            die(f"{proc.name} exited during start-up")
        if ask(port, "readiness.probe.test", timeout=0.05) is not None:
            return
    die(f"{proc.name} does not answer on {port}")


def dnsperf(port, queries, out, *extra, limit=None):
    cmd = ["taskset", "-c", CLIENT_CPU, "dnsperf", "-s", "127.0.0.1", "-p", str(port),
           "-d", str(queries), "-t", "2", *extra]
    with open(out, "wb") as f:
        run(cmd, (limit or DURATION) + 120, stdout=f, stderr=subprocess.STDOUT)
    text = Path(out).read_text(errors="replace")

    def field(label, index):
        for line in text.splitlines():
            if label in line:
                return line.split()[index]
        die(f"no '{label}' in {out}")

    rcodes = {}
    for line in text.splitlines():
        if line.startswith("  Response codes:"):
            for part in line.split(":", 1)[1].split(","):
                code, count = part.split()[:2]
                rcodes[code] = int(count)
    return {
        "sent": int(field("Queries sent:", 2)),
        "completed": int(field("Queries completed:", 2)),
        "lost": int(field("Queries lost:", 2)),
        "qps": float(field("Queries per second:", 3)),
        "runtime": float(field("Run time (s):", 3)),
        "rcodes": rcodes,
        "text": text,
    }


def latencies(text):
    """Per-query latencies (seconds) from dnsperf -v lines: '> NOERROR name A 0.000041'."""
    out = []
    for line in text.splitlines():
        if line.startswith("> "):
            try:
                out.append(float(line.rsplit(None, 1)[1]))
            except ValueError:
                pass
    return out


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


# ------------------------------------------------------------------ configs


# The settings every unbound here shares (`{tmp}`: the run's folder).
UNBOUND_COMMON = """\
    do-ip6: no
    do-daemonize: no
    num-threads: 1
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    prefetch: no
    username: ""
    chroot: ""
    directory: "{tmp}"
    pidfile: ""
    logfile: ""
    use-syslog: no
    verbosity: 0
    # unbound answers "test." itself (RFC 6761 local zone): forward it instead
    local-zone: "test." nodefault
"""


def write_configs(tmp):
    names = (DATA / "blocklist.txt").read_text().split()
    with open(tmp / "dnsmasq-block.conf", "w") as f:
        f.writelines(f"address=/{n}/\n" for n in names)
    with open(tmp / "unbound-block.conf", "w") as f:
        f.writelines(f'local-zone: "{n}." always_nxdomain\n' for n in names)
    # Warm-up queries: every allowed name, A and AAAA.
    allowed = sorted({line.split()[1] for line in (DATA / "hosts").read_text().splitlines()})
    with open(tmp / "queries-allowed.txt", "w") as f:
        f.writelines(f"{n} {t}\n" for n in allowed for t in ("A", "AAAA"))
    (tmp / "nestguard.toml").write_text(f"""\
[server]
listen = ["127.0.0.1:{PORT['nestguard']}"]
[[upstream]]
protocol = "udp"
address = "127.0.0.1:{UPSTREAM_PORT}"
[log]
level = "warn"
# Activity counting stays on (the default): the figures include it.
[state]
dir = "{tmp}/nestguard-state"
[[rules.list]]
path = "{DATA}/blocklist.txt"
category = "adult"
""")
    (tmp / "unbound.conf").write_text(f"""\
server:
    interface: 127.0.0.1@{PORT['unbound']}
    port: {PORT['unbound']}
{UNBOUND_COMMON.format(tmp=tmp)}    include: "{tmp}/unbound-block.conf"
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{UPSTREAM_PORT}
""")
    (tmp / "hickory.toml").write_text(f"""\
listen_addrs_ipv4 = ["127.0.0.1"]
listen_port = {PORT['hickory']}
directory = "{DATA}"
user = "nobody"
group = "nogroup"

[[zones]]
zone = "."
zone_type = "External"

[[zones.stores]]
type = "blocklist"
lists = ["blocklist.txt"]
wildcard_match = false
min_wildcard_depth = 2
ttl = 300
consult_action = "Disabled"
log_clients = false

[[zones.stores]]
type = "forward"
name_servers = [{{ ip = "127.0.0.1", trust_negative_responses = true, connections = [{{ protocol = {{ type = "udp" }}, port = {UPSTREAM_PORT} }}] }}]
""")
    # The same, with services and daily budgets for the clients' profile:
    # every query then also asks the services catalogue (issue 18's hot
    # path). The mix has no service names, so this measures the check that
    # every lookup pays, not the metering of a budgeted service's names.
    base = (tmp / "nestguard.toml").read_text()
    (tmp / "nestguard-services.toml").write_text(
        base.replace(f"127.0.0.1:{PORT['nestguard']}", f"127.0.0.1:{PORT['nestguard-services']}")
        .replace(f"{tmp}/nestguard-state", f"{tmp}/nestguard-services-state")
        + """
[profile.child]
services = { youtube = { budget = "60m" }, tiktok = "block", discord = "allow",
             roblox = { days = ["mon", "tue", "wed", "thu", "fri"], from = "16:00", to = "18:00" },
             minecraft = { days = ["sat", "sun"], budget = "2h" } }
""")
    run(["unbound-checkconf", str(tmp / "unbound.conf")], 120, stdout=subprocess.DEVNULL)
    for conf in ("nestguard.toml", "nestguard-services.toml"):
        run([str(NESTGUARD), "check", "--config", str(tmp / conf)],
            120, stdout=subprocess.DEVNULL)


def start(name, tmp):
    cmd = {
        "nestguard": [str(NESTGUARD), "run", "--config",
                      str(tmp / "nestguard.toml")],
        "nestguard-services": [str(NESTGUARD), "run", "--config",
                               str(tmp / "nestguard-services.toml")],
        "dnsmasq": ["dnsmasq", f"--conf-file={tmp}/dnsmasq-block.conf",
                    "--no-resolv", "--no-hosts", "--keep-in-foreground", f"--port={PORT['dnsmasq']}",
                    "--listen-address=127.0.0.1", "--bind-interfaces",
                    f"--server=127.0.0.1#{UPSTREAM_PORT}", "--cache-size=10000", "--pid-file=",
                    "--log-facility=-", "--dns-forward-max=1000"],
        "unbound": ["unbound", "-d", "-c", str(tmp / "unbound.conf")],
        "hickory": [str(TOOLS / "bin" / "hickory-dns"), "--config", str(tmp / "hickory.toml"),
                    "--port", str(PORT["hickory"]), "--quiet", "--workers", "1"],
        "echo": [str(REPO / "target/release/examples/echo_responder"),
                 f"127.0.0.1:{PORT['echo']}"],
    }[name]
    return Proc(name, cmd, tmp / f"{name}.log", SERVER_CPU)


def start_upstream(tmp):
    up = Proc("upstream", [
        "dnsmasq", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--keep-in-foreground",
        f"--port={UPSTREAM_PORT}", "--listen-address=127.0.0.1", "--bind-interfaces",
        f"--addn-hosts={DATA}/hosts", "--address=/fresh.bench.test/198.51.100.7",
        "--address=/fresh.bench.test/2001:db8::7", "--local-ttl=86400", "--cache-size=0",
        "--pid-file=", "--log-facility=-", "--dns-forward-max=10000"],
        tmp / "upstream.log", CLIENT_CPU)
    wait_listening(up, UPSTREAM_PORT)
    reply = ask(UPSTREAM_PORT, "a0001.bench.test")
    if reply is None or reply[3] & 0x0F != 0 or struct.unpack(">H", reply[6:8])[0] != 1:
        die("the upstream does not answer a0001.bench.test")
    return up


# ------------------------------------------------------------------ one server, one round


def measure(name, tmp, out, probe_name):
    port = PORT[name]
    row = {"server": name}
    proc = start(name, tmp)
    try:
        if name in NO_LIST:
            wait_listening(proc, port)
        else:
            row["load_s"] = wait_first_answer(proc, port, probe_name)
            time.sleep(0.5)
            rss, hwm = proc.memory_kib()
            row["rss_mib"], row["peak_mib"] = rss / 1024, hwm / 1024
            # Warm the cache with every allowed name, then check it answers them.
            dnsperf(port, tmp / "queries-allowed.txt", out / f"{name}-warm.txt",
                    "-n", "1", "-c", "1", "-q", "20")
            check = dnsperf(port, tmp / "queries-allowed.txt", out / f"{name}-check.txt",
                            "-n", "1", "-c", "1", "-q", "20")
            if check["completed"] != check["sent"] or check["rcodes"].get("NOERROR") != check["sent"]:
                die(f"{name}: the allowed names are not all answered NOERROR "
                    f"(see {out / f'{name}-check.txt'})")
        lat = dnsperf(port, DATA / "queries-mix.txt", out / f"{name}-latency.txt",
                      "-l", str(LATENCY_SECONDS), "-Q", "5000", "-c", "1", "-q", "100", "-v",
                      limit=LATENCY_SECONDS)
        samples = latencies(lat.pop("text"))
        row["lat_p50_ms"] = percentile(samples, 50) * 1000
        row["lat_p99_ms"] = percentile(samples, 99) * 1000
        row["lat_lost"] = lat["lost"]
        row["lat_sent"] = lat["sent"]
        time.sleep(0.5)
        c0 = proc.cpu_seconds()
        mix = dnsperf(port, DATA / "queries-mix.txt", out / f"{name}-mix.txt",
                      "-l", str(DURATION), "-c", CLIENTS, "-q", OUTSTANDING)
        cpu = proc.cpu_seconds() - c0
        row["mix_qps"] = mix["qps"]
        row["mix_cpu_share"] = cpu / mix["runtime"]
        row["mix_per_cpu_s"] = mix["completed"] / cpu if cpu > 0 else 0.0
        row["mix_lost"] = mix["lost"]
        if name not in NO_LIST:
            expect_blocked = mix["rcodes"].get("NXDOMAIN", 0) + mix["rcodes"].get("NOERROR", 0)
            if expect_blocked < 0.99 * mix["completed"]:
                die(f"{name}: unexpected answers in the mix: {mix['rcodes']}")
            c0 = proc.cpu_seconds()
            fwd = dnsperf(port, DATA / "queries-forward.txt", out / f"{name}-forward.txt",
                          "-l", str(DURATION), "-c", CLIENTS, "-q", OUTSTANDING)
            row["fwd_qps"] = fwd["qps"]
            row["fwd_cpu_share"] = (proc.cpu_seconds() - c0) / fwd["runtime"]
            row["fwd_lost"] = fwd["lost"]
        if not proc.alive():
            die(f"{name} died during the run")
    finally:
        proc.stop()
    return row


# ------------------------------------------------------------------ report


def median(rows, key):
    values = [r[key] for r in rows if key in r]
    return statistics.median(values) if values else None


def f(v, fmt):
    return "—" if v is None else format(v, fmt)


def beside(a, b, inverse=False):
    """a / b (b / a when less is better) as "1.23×", or "—" without both."""
    if not a or not b:
        return "—"
    return f"{(b / a if inverse else a / b):.2f}×"


def ratio_rows(w, med, base, cols, base_is_ours):
    """A row per server but `base`: each (key, less_is_better) of `cols` as a
    ratio of medians, `base` over the row when `base_is_ours`, else the row
    over `base`."""
    b = med[base]
    for s, m in med.items():
        if s != base:
            pairs = [((b.get(k), m.get(k)) if base_is_ours else (m.get(k), b.get(k)), less)
                     for k, less in cols]
            w(f"| {s} | " + " | ".join(beside(x, y, less) for (x, y), less in pairs) + " |")


def save_report(lines, rows, out):
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    (out / "rows.json").write_text(json.dumps(rows, indent=1))
    print(text)


def report(rows, out):
    by = {s: [r for r in rows if r["server"] == s] for s in SERVERS}
    med = {s: {k: median(by[s], k) for k in by[s][0] if k != "server"} for s in SERVERS if by[s]}
    lines = []
    w = lines.append
    w(f"One run of `python3 bench/compare.py`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
      f"median of {ROUNDS} rounds per figure (rounds interleave the servers).")
    w(f"Host: {os.cpu_count()} CPUs, {cpu_model()}, kernel {os.uname().release}; "
      f"servers on CPU {SERVER_CPU}, dnsperf and the upstream on CPU {CLIENT_CPU}.")
    w(f"Flat-out runs: dnsperf -l {DURATION} -c {CLIENTS} -q {OUTSTANDING}; "
      f"latency: dnsperf -Q 5000 -l {LATENCY_SECONDS} -c 1 -q 100.")
    w("")
    w("| server | queries / server CPU-s (mix) | mix QPS | server CPU share | forward QPS "
      "| p50 / p99 at 5k QPS (ms) | lost at 5k | load to first answer (s) | RSS / peak (MiB) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")

    for s, m in med.items():
        w(f"| {s} | **{f(m.get('mix_per_cpu_s'), ',.0f')}** | {f(m.get('mix_qps'), ',.0f')} "
          f"| {f(m.get('mix_cpu_share'), '.0%')} | {f(m.get('fwd_qps'), ',.0f')} "
          f"| {f(m.get('lat_p50_ms'), '.3f')} / {f(m.get('lat_p99_ms'), '.3f')} "
          f"| {f(m.get('lat_lost'), '.0f')} of {f(m.get('lat_sent'), ',.0f')} "
          f"| {f(m.get('load_s'), '.2f')} | {f(m.get('rss_mib'), '.1f')} / {f(m.get('peak_mib'), '.1f')} |")
    if "nestguard" in med:
        w("")
        w("nestguard beside each (ratio of medians; above 1 is better for nestguard):")
        w("")
        w("| against | queries / CPU-s | forward QPS | load time | RSS | peak |")
        w("|---|---:|---:|---:|---:|---:|")
        ratio_rows(w, med, "nestguard", [("mix_per_cpu_s", False), ("fwd_qps", False),
                                          ("load_s", True), ("rss_mib", True),
                                          ("peak_mib", True)], base_is_ours=True)
    w("")
    w("Every round:")
    w("")
    w("| round | server | queries / CPU-s | mix QPS | forward QPS | p50 / p99 (ms) | lost at 5k | load (s) | RSS / peak (MiB) |")
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        w(f"| {r['round']} | {r['server']} | {f(r.get('mix_per_cpu_s'), ',.0f')} "
          f"| {f(r.get('mix_qps'), ',.0f')} | {f(r.get('fwd_qps'), ',.0f')} "
          f"| {f(r.get('lat_p50_ms'), '.3f')} / {f(r.get('lat_p99_ms'), '.3f')} "
          f"| {f(r.get('lat_lost'), '.0f')} | {f(r.get('load_s'), '.2f')} "
          f"| {f(r.get('rss_mib'), '.1f')} / {f(r.get('peak_mib'), '.1f')} |")
    save_report(lines, rows, out)


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def versions():
    def version(cmd, starts=""):
        """The first line of the command's output that starts with `starts`."""
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        lines = (r.stdout + r.stderr).strip().splitlines()
        return next((l for l in lines if l.startswith(starts)), "?")

    return {
        "nestguard": version([str(NESTGUARD), "--version"]),
        "dnsmasq": version(["dnsmasq", "--version"]),
        "unbound": version(["unbound", "-V"]),
        "hickory-dns": HICKORY_VERSION,
        "dnsperf": version(["dnsperf", "-h"], "Version"),
    }


# ------------------------------------------------------------------ encrypted forwarding


def make_ca(tmp):
    """A throwaway CA and a certificate for upstream.bench.test and 127.0.0.1."""
    ossl = lambda *a: run(["openssl", *a], 120, cwd=tmp, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ossl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=nestguard bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=upstream.bench.test")
    (tmp / "server.ext").write_text(
        "subjectAltName=DNS:upstream.bench.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")


def write_encrypted_configs(tmp):
    common = UNBOUND_COMMON.format(tmp=tmp)
    # The shared upstream: DoT and DoH in front of dnsmasq. Its cache never
    # answers (every name is new); it keeps idle connections 30 s.
    (tmp / "tls-upstream.conf").write_text(f"""\
server:
    interface: 127.0.0.1@{TLS_PORT}
    interface: 127.0.0.1@{HTTPS_PORT}
    port: {TLS_PORT}
    tls-port: {TLS_PORT}
    https-port: {HTTPS_PORT}
    tls-service-key: "{tmp}/server.key"
    tls-service-pem: "{tmp}/server.pem"
    http-endpoint: "/dns-query"
    incoming-num-tcp: 1000
    tcp-idle-timeout: 30000
    extended-statistics: yes
{common}remote-control:
    control-enable: yes
    control-interface: 127.0.0.1
    control-port: {CONTROL_PORT}
    control-use-cert: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{UPSTREAM_PORT}
""")
    (tmp / "unbound-dot.conf").write_text(f"""\
server:
    interface: 127.0.0.1@{PORT['unbound-dot']}
    port: {PORT['unbound-dot']}
    tls-cert-bundle: "{tmp}/ca.pem"
{common}remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-tls-upstream: yes
    forward-addr: 127.0.0.1@{TLS_PORT}#upstream.bench.test
""")
    for name, protocol, port in (("nestguard-dot", "tls", TLS_PORT),
                                 ("nestguard-doh", "https", HTTPS_PORT)):
        path = tmp / f"{name}.toml"
        path.write_text(f"""\
[server]
listen = ["127.0.0.1:{PORT[name]}"]
[[upstream]]
protocol = "{protocol}"
address = "127.0.0.1:{port}"
tls_name = "upstream.bench.test"
ca_file = "{tmp}/ca.pem"
[log]
level = "warn"
[state]
dir = "{tmp}/{name}-state"
[admin]
enabled = true
listen = "127.0.0.1:{ADMIN_PORT}"
""")
        # /metrics wants the admin password: a throwaway one, hashed by nestguard.
        run([str(NESTGUARD), "passwd", "--config", str(path)], 120,
            input=f"{ADMIN_PASSWORD}\n".encode(), stdout=subprocess.DEVNULL)
        run([str(NESTGUARD), "check", "--config", str(path)], 120, stdout=subprocess.DEVNULL)
    for conf in ("tls-upstream.conf", "unbound-dot.conf"):
        run(["unbound-checkconf", str(tmp / conf)], 120, stdout=subprocess.DEVNULL)


def start_encrypted(name, tmp):
    cmd = {
        "nestguard-dot": [str(NESTGUARD), "run", "--config", str(tmp / "nestguard-dot.toml")],
        "nestguard-doh": [str(NESTGUARD), "run", "--config", str(tmp / "nestguard-doh.toml")],
        "unbound-dot": ["unbound", "-d", "-c", str(tmp / "unbound-dot.conf")],
    }[name]
    return Proc(name, cmd, tmp / f"{name}.log", SERVER_CPU)


def start_tls_upstream(tmp):
    up = Proc("tls-upstream", ["unbound", "-d", "-c", str(tmp / "tls-upstream.conf")],
              tmp / "tls-upstream.log", CLIENT_CPU)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not up.alive():
            die("the TLS upstream (unbound) exited during start-up (see tls-upstream.log)")
        try:
            socket.create_connection(("127.0.0.1", TLS_PORT), 0.2).close()
            return up
        except OSError:
            time.sleep(0.05)
    die("the TLS upstream does not listen")


def passive_opens():
    """TCP connections this host has accepted (Tcp: PassiveOpens)."""
    lines = [l.split() for l in Path("/proc/net/snmp").read_text().splitlines() if l.startswith("Tcp:")]
    return int(lines[1][lines[0].index("PassiveOpens")])


def nestguard_metrics():
    """Sample name -> value from nestguard's /metrics (HTTP Basic, the throwaway password)."""
    import base64
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{ADMIN_PORT}/metrics")
    token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            sample, _, value = line.rpartition(" ")
            out[sample] = float(value)
    return out


def upstream_stats(tmp):
    r = subprocess.run(["unbound-control", "-c", str(tmp / "tls-upstream.conf"), "stats_noreset"],
                       capture_output=True, text=True, timeout=30)
    return {k: float(v) for k, _, v in (l.partition("=") for l in r.stdout.splitlines()) if v}


def fresh_names(path, tag, count):
    """`count` names never asked before: <i>.<tag>.fresh.bench.test, A."""
    with open(path, "w") as f:
        f.writelines(f"n{i}.{tag}.fresh.bench.test A\n" for i in range(count))


def cpu_busy_seconds(cpu):
    """Seconds CPU `cpu` has spent busy (everything but idle and iowait, /proc/stat)."""
    for line in Path("/proc/stat").read_text().splitlines():
        f = line.split()
        if f[0] == f"cpu{cpu}":
            ticks = [int(x) for x in f[1:]]
            return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


# The shared TLS upstream (unbound), for its CPU per query in each run.
TLS_UPSTREAM = None


def measure_encrypted(name, tmp, out, rnd):
    port = PORT[name]
    row = {"server": name}
    flat = tmp / "names-flat.txt"
    # More names than the fastest server asks in DURATION seconds.
    fresh_names(flat, f"r{rnd}-{name}", DURATION * 60_000)
    slow = tmp / "names-fixed.txt"
    fresh_names(slow, f"r{rnd}-{name}-fixed", LATENCY_SECONDS * FIXED_QPS * 2)
    # Connections opened at start (the readiness probe's miss) count too.
    opens0 = passive_opens()
    proc = start_encrypted(name, tmp)
    try:
        wait_listening(proc, port)
        c0 = proc.cpu_seconds()
        u0 = TLS_UPSTREAM.cpu_seconds() if TLS_UPSTREAM else 0.0
        b0, t0 = cpu_busy_seconds(CLIENT_CPU), time.monotonic()
        miss = dnsperf(port, flat, out / f"{name}-r{rnd}-miss.txt",
                       "-l", str(DURATION), "-c", CLIENTS, "-q", OUTSTANDING)
        cpu = proc.cpu_seconds() - c0
        wall = time.monotonic() - t0
        # Which side was the limit: the server's core, or the core that runs
        # dnsperf and the upstreams (both near 100% busy means neither).
        row["server_core_busy"] = cpu / wall if wall else None
        row["client_core_busy"] = (cpu_busy_seconds(CLIENT_CPU) - b0) / wall if wall else None
        if TLS_UPSTREAM and miss["completed"]:
            row["upstream_cpu_us_per_query"] = (
                (TLS_UPSTREAM.cpu_seconds() - u0) / miss["completed"] * 1e6)
        opens = passive_opens() - opens0
        miss.pop("text")
        row["miss_qps"] = miss["qps"]
        row["miss_lost"] = miss["lost"]
        row["miss_servfail"] = miss["rcodes"].get("SERVFAIL", 0)
        row["cpu_us_per_query"] = cpu / miss["completed"] * 1e6 if miss["completed"] else None
        row["conns_per_10k"] = opens / miss["completed"] * 10_000 if miss["completed"] else None
        if name.startswith("nestguard"):
            m = nestguard_metrics()
            full = m.get('nestguard_upstream_tls_handshakes_total{kind="full"}', 0)
            resumed = m.get('nestguard_upstream_tls_handshakes_total{kind="resumed"}', 0)
            row["handshakes_full"], row["handshakes_resumed"] = full, resumed
            row["reconnects"] = m.get("nestguard_upstream_reconnects_total", 0)
            if miss["completed"]:
                row["handshakes_per_10k"] = (full + resumed) / miss["completed"] * 10_000
        time.sleep(0.5)
        lat = dnsperf(port, slow, out / f"{name}-r{rnd}-fixed.txt",
                      "-l", str(LATENCY_SECONDS), "-Q", str(FIXED_QPS), "-c", "1", "-q", "500",
                      "-v", limit=LATENCY_SECONDS)
        samples = latencies(lat.pop("text"))
        row["lat_p50_ms"] = percentile(samples, 50) * 1000 if samples else None
        row["lat_p99_ms"] = percentile(samples, 99) * 1000 if samples else None
        row["lat_lost"], row["lat_sent"] = lat["lost"], lat["sent"]
        if not proc.alive():
            die(f"{name} died during the run")
    finally:
        proc.stop()
    return row


def pct(x):
    return None if x is None else x * 100


def report_encrypted(rows, out, stats):
    by = {s: [r for r in rows if r["server"] == s] for s in SERVERS}
    med = {s: {k: median(by[s], k) for k in by[s][0] if k != "server"} for s in SERVERS if by[s]}
    lines = []
    w = lines.append

    w(f"One run of `MODE=encrypted python3 bench/compare.py`, "
      f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: median of {ROUNDS} rounds.")
    w(f"Host: {os.cpu_count()} CPUs, {cpu_model()}, kernel {os.uname().release}; servers on CPU "
      f"{SERVER_CPU}, dnsperf and the upstreams (unbound DoT/DoH, dnsmasq) on CPU {CLIENT_CPU}.")
    w(f"Every query a new name. Flat out: dnsperf -l {DURATION} -c {CLIENTS} -q {OUTSTANDING}; "
      f"fixed rate: dnsperf -Q {FIXED_QPS} -l {LATENCY_SECONDS}.")
    w("")
    w(f"| server | miss QPS | server CPU per query (µs) | p50 / p99 at {FIXED_QPS} QPS (ms) "
      f"| lost at {FIXED_QPS} | connections per 10k misses | nestguard handshakes per 10k "
      f"(full + resumed) | reconnects | SERVFAIL flat out |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s, m in med.items():
        hs = (f"{f(m.get('handshakes_per_10k'), '.2f')} ({f(m.get('handshakes_full'), '.0f')} + "
              f"{f(m.get('handshakes_resumed'), '.0f')})" if "handshakes_full" in m else "—")
        w(f"| {s} | **{f(m.get('miss_qps'), ',.0f')}** | {f(m.get('cpu_us_per_query'), '.1f')} "
          f"| {f(m.get('lat_p50_ms'), '.3f')} / {f(m.get('lat_p99_ms'), '.3f')} "
          f"| {f(m.get('lat_lost'), '.0f')} of {f(m.get('lat_sent'), ',.0f')} "
          f"| {f(m.get('conns_per_10k'), '.2f')} | {hs} | {f(m.get('reconnects'), '.0f')} "
          f"| {f(m.get('miss_servfail'), '.0f')} |")
    if "unbound-dot" in med:
        w("")
        w("Beside unbound-dot (ratio of medians; above 1 is better for the row):")
        w("")
        w("| server | miss QPS | CPU per query | p50 at fixed rate |")
        w("|---|---:|---:|---:|")
        ratio_rows(w, med, "unbound-dot", [("miss_qps", False), ("cpu_us_per_query", True),
                                            ("lat_p50_ms", True)], base_is_ours=False)
    w("")
    w("The shared upstream's own counts over the whole run (unbound-control): "
      + ", ".join(f"{k} {v:.0f}" for k, v in stats.items()
                  if k in ("total.num.queries", "num.query.tls", "num.query.tls.resume",
                           "num.query.https")))
    w("")
    w("Where the flat-out runs were limited (medians): how busy the server's core "
      f"(CPU {SERVER_CPU}) and the core of dnsperf and the upstreams (CPU {CLIENT_CPU}) were, "
      "and the shared TLS upstream's CPU per query:")
    w("")
    w("| server | server core busy | client core busy | upstream CPU per query (µs) |")
    w("|---|---:|---:|---:|")
    for s, m in med.items():
        w(f"| {s} | {f(pct(m.get('server_core_busy')), '.0f')}% "
          f"| {f(pct(m.get('client_core_busy')), '.0f')}% "
          f"| {f(m.get('upstream_cpu_us_per_query'), '.1f')} |")
    w("")
    w("Every round:")
    w("")
    w("| round | server | miss QPS | CPU µs/query | p50 / p99 (ms) | connections per 10k "
      "| server / client core busy | upstream µs/query |")
    w("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        w(f"| {r['round']} | {r['server']} | {f(r.get('miss_qps'), ',.0f')} "
          f"| {f(r.get('cpu_us_per_query'), '.1f')} "
          f"| {f(r.get('lat_p50_ms'), '.3f')} / {f(r.get('lat_p99_ms'), '.3f')} "
          f"| {f(r.get('conns_per_10k'), '.2f')} "
          f"| {f(pct(r.get('server_core_busy')), '.0f')}% / {f(pct(r.get('client_core_busy')), '.0f')}% "
          f"| {f(r.get('upstream_cpu_us_per_query'), '.1f')} |")
    save_report(lines, rows, out)


def main_encrypted():
    install()
    if shutil.which("openssl") is None or shutil.which("unbound-control") is None:
        die("the encrypted mode needs openssl and unbound-control")
    if not SKIP_BUILD:
        log("cargo build --release --bin nestguard")
        run(["cargo", "build", "--release", "--bin", "nestguard"], 3600, cwd=REPO)
    out = REPO / "bench" / "results" / (time.strftime("%Y%m%d-%H%M%S") + "-encrypted")
    out.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="nestguard-compare."))
    os.chmod(tmp, 0o755)
    procs = []
    rows = []
    stats = {}
    try:
        make_ca(tmp)
        write_encrypted_configs(tmp)
        for p in tmp.iterdir():
            p.chmod(0o644) if p.is_file() else None
        # The names' zone: dnsmasq answers every *.fresh.bench.test, uncached.
        procs.append(Proc("upstream", [
            "dnsmasq", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--keep-in-foreground", f"--port={UPSTREAM_PORT}", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--address=/fresh.bench.test/198.51.100.7", "--local-ttl=300",
            "--cache-size=0", "--pid-file=", "--log-facility=-", "--dns-forward-max=10000"],
            tmp / "upstream.log", CLIENT_CPU))
        wait_listening(procs[0], UPSTREAM_PORT)
        procs.append(start_tls_upstream(tmp))
        global TLS_UPSTREAM
        TLS_UPSTREAM = procs[-1]
        for r in range(1, ROUNDS + 1):
            for s in SERVERS:
                log(f"round {r}/{ROUNDS}: {s}")
                row = measure_encrypted(s, tmp, out, r)
                row["round"] = r
                rows.append(row)
                log(json.dumps(row))
        stats = upstream_stats(tmp)
        (out / "versions.json").write_text(json.dumps(versions(), indent=1))
        report_encrypted(rows, out, stats)
    finally:
        for p in procs:
            p.stop()
        for p in tmp.glob("*.log"):
            shutil.copy(p, out)
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"results in {out}")


def main():
    if not (REPO / "Cargo.toml").exists():
        die("run from a nestguard checkout")
    unknown = [s for s in SERVERS if s not in PORT]
    if unknown:
        die(f"unknown servers: {unknown}")
    if MODE == "encrypted":
        return main_encrypted()
    install()
    build()
    out = REPO / "bench" / "results" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="nestguard-compare."))
    os.chmod(tmp, 0o755)  # dnsmasq drops to 'nobody' and must still read its files
    probe_name = (DATA / "blocklist.txt").read_text().split("\n", 500_000)[499_999]
    upstream = None
    rows = []
    try:
        log("writing the list in each server's format")
        write_configs(tmp)
        for p in tmp.iterdir():
            p.chmod(0o644) if p.is_file() else None
        # Every list is read once so that every server finds it in the page cache.
        for p in (DATA / "blocklist.txt", tmp / "dnsmasq-block.conf", tmp / "unbound-block.conf"):
            p.read_bytes()
        upstream = start_upstream(tmp)
        for r in range(1, ROUNDS + 1):
            for s in SERVERS:
                log(f"round {r}/{ROUNDS}: {s}")
                row = measure(s, tmp, out, probe_name)
                row["round"] = r
                rows.append(row)
                log(json.dumps(row))
        (out / "versions.json").write_text(json.dumps(versions(), indent=1))
        report(rows, out)
    finally:
        if upstream:
            upstream.stop()
        for p in tmp.glob("*.log"):
            shutil.copy(p, out)
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"results in {out}")


if __name__ == "__main__":
    main()
