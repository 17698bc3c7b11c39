#!/usr/bin/env python3
"""Load time and memory with the defaults plus every list in ../shared/data (issue 20).

    python3 bench/load_memory.py [--binary target/release/nestguard] [--data ../shared/data] [--rounds 3]

Starts `nestguard run` on loopback with the shipped defaults and every block
list of ../shared/data as `[[rules.list]]` files (about a million lines, 850,000
distinct names), and measures, per round:

- load: from exec to the first blocked answer for a listed name (s);
- steady RSS (VmRSS, MiB) once it answers, after a second's settling;
- hot reload: VmHWM is reset (/proc/PID/clear_refs, 5) and a SIGHUP makes
  the daemon compile everything again while the old rules serve; the peak
  during the reload (VmHWM) against the steady RSS.

Targets (issue 20): load < 1 s, RSS <= 40 MiB, reload peak <= 1.5x steady.
Run it on a quiet host with a release build; it prints a Markdown table
for BENCHMARKS.md. Linux only (reads /proc). Sends nothing off 127.0.0.1.
"""

import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PORT = 25353

# Every block list of ../shared/data, by category. The wildcard_* files of
# HaGeZi repeat the adblock_* ones, and the IP lists are not names: left out.
LISTS = [
    ("hagezi/adblock_nsfw.txt", "adult"),
    ("hagezi/adblock_gambling.txt", "gambling"),
    ("hagezi/adblock_doh-vpn-proxy-bypass.txt", "bypass"),
    ("hagezi/domains_doh.txt", "bypass"),
    ("hagezi/adblock_social.txt", "social-media"),
    ("hagezi/adblock_nosafesearch.txt", "unsafe-search"),
    ("hagezi/adblock_pro.txt", "trackers"),
    ("hagezi/domains_light.txt", "trackers"),
    ("stevenblack/unified-base.domains.txt", "scams-malware"),
    ("stevenblack/porn-only.domains.txt", "adult"),
    ("stevenblack/gambling-only.domains.txt", "gambling"),
    ("stevenblack/social-only.domains.txt", "social-media"),
    ("stevenblack/fakenews-only.domains.txt", "fake-news"),
    ("sinfonietta/pornography-hosts", "adult"),
    ("sinfonietta/gambling-hosts", "gambling"),
    ("sinfonietta/social-hosts", "social-media"),
    ("sinfonietta/snuff-hosts", "violence"),
    ("ut1-dating/domains", "dating"),
    ("dibdot-doh/doh-domains.txt", "bypass"),
    ("dibdot-doh/doh-domains_abandoned.txt", "bypass"),
]
BLP = {
    "phishing": "scams-malware", "scam": "scams-malware", "ransomware": "scams-malware",
    "drugs": "drugs", "vaping": "drugs", "piracy": "piracy", "torrent": "piracy",
    "gambling": "gambling", "tiktok": "short-video", "facebook": "social-media",
    "twitter": "social-media", "whatsapp": "social-media", "youtube": "social-media",
    "fortnite": "gaming", "smart-tv": "trackers", "crypto": "scams-malware",
}


def lists(data):
    out = [(data / p, c) for p, c in LISTS if (data / p).exists()]
    for f in sorted((data / "blocklistproject").glob("*-nl.txt")):
        cat = BLP.get(f.name[: -len("-nl.txt")])
        if cat:
            out.append((f, cat))
    for d in ("nextdns-bypass",):
        for f in sorted((data / d).iterdir()):
            if f.name != "LICENSE":
                out.append((f, "bypass"))
    return out


def query(qid, name):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return q + struct.pack(">HH", 1, 1)


def blocked(reply):
    # NXDOMAIN (the default block mode) or NOERROR with 0.0.0.0.
    return len(reply) >= 12 and (reply[3] & 0x0F == 3 or b"\x00\x00\x00\x00" in reply[-4:])


def memory(pid):
    got = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            got[key] = int(value.split()[0]) / 1024
    return got["VmRSS"], got["VmHWM"]


def first_block(proc, started, name, limit=120.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.005)
        qid = 0
        while time.monotonic() - started < limit:
            if proc.poll() is not None:
                sys.exit(f"nestguard exited during start-up (see {proc.args})")
            qid = (qid + 1) & 0xFFFF
            try:
                s.sendto(query(qid, name), ("127.0.0.1", PORT))
                reply, _ = s.recvfrom(4096)
                if reply[:2] == struct.pack(">H", qid) and blocked(reply):
                    return time.monotonic() - started
            except OSError:
                pass
    sys.exit(f"no blocked answer for {name} within {limit} s")


def reloads_ok(state):
    try:
        text = (state / "status.toml").read_text()
    except OSError:
        return -1
    section = text.split("[reloads]", 1)[-1]
    for line in section.splitlines():
        if line.startswith("ok"):
            return int(line.split("=")[1])
    return 0


def one_round(binary, config, state, probe):
    started = time.monotonic()
    proc = subprocess.Popen([str(binary), "run", "-c", str(config)],
                            stdout=subprocess.DEVNULL, stderr=open(state / "log.txt", "a"))
    try:
        load = first_block(proc, started, probe)
        time.sleep(1.0)
        rss, start_peak = memory(proc.pid)
        before = reloads_ok(state)
        with open(f"/proc/{proc.pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        t0 = time.monotonic()
        proc.send_signal(signal.SIGHUP)
        while reloads_ok(state) <= before:
            if time.monotonic() - t0 > 120:
                sys.exit("the reload did not finish within 120 s")
            time.sleep(0.05)
        reload_s = time.monotonic() - t0
        time.sleep(1.0)
        after, reload_peak = memory(proc.pid)
        return dict(load=load, rss=rss, start_peak=start_peak, reload_peak=reload_peak,
                    reload_s=reload_s, rss_after=after)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=str(REPO / "target" / "release" / "nestguard"))
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    data, binary = Path(args.data), Path(args.binary)
    if not data.is_dir():
        sys.exit(f"no shared data at {data}")
    if not binary.exists():
        sys.exit(f"no binary at {binary}: cargo build --release first")
    found = lists(data)
    lines = sum(1 for p, _ in found for _ in open(p, errors="replace"))
    with tempfile.TemporaryDirectory(prefix="nestguard-load-") as tmp:
        tmp = Path(tmp)
        state = tmp / "state"
        state.mkdir()
        # A silent upstream on loopback: blocked answers never need one.
        cfg = [f'[server]\nlisten = ["127.0.0.1:{PORT}"]\n',
               '[[upstream]]\nprotocol = "udp"\naddress = "127.0.0.1:9"\n',
               '[log]\nlevel = "warn"\n', f'[state]\ndir = "{state}"\n',
               '[rules]\nmemory_budget_mib = 4096\n']
        for path, cat in found:
            cfg.append(f'[[rules.list]]\npath = "{path}"\ncategory = "{cat}"\n')
        config = tmp / "nestguard.toml"
        config.write_text("".join(cfg))
        # A name from the largest adult list, to wait for.
        probe = "pornhub.com"
        rows = [one_round(binary, config, state, probe) for _ in range(args.rounds)]
    rows.sort(key=lambda r: r["load"])
    med = rows[len(rows) // 2]
    print(f"{len(found)} lists, {lines:,} lines, binary {binary}, {args.rounds} rounds (median by load)")
    print("| load to first block (s) | steady RSS (MiB) | start-up peak (MiB) | reload peak (MiB) | reload peak / steady | reload (s) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['load']:.2f} | {r['rss']:.1f} | {r['start_peak']:.1f} | {r['reload_peak']:.1f} | "
              f"{r['reload_peak'] / r['rss']:.2f}x | {r['reload_s']:.2f} |")
    ok = med["load"] < 1.0 and med["rss"] <= 40 and med["reload_peak"] <= 1.5 * med["rss"]
    print(f"targets (load < 1 s, RSS <= 40 MiB, reload peak <= 1.5x steady): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
