#!/usr/bin/env bash
# The fleet monitoring files, checked: the Prometheus alert rules with
# `promtool check rules`, the Grafana dashboard's JSON and the series it and
# the rules use, and a live daemon's /metrics (read with the monitoring
# token, as Prometheus would) with `promtool check metrics`.
# Run from anywhere; .ci/run calls it. NESTGUARD_BIN picks the binary
# (default target/debug/nestguard, built when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v promtool >/dev/null 2>&1; then
    echo "promtool not installed (Debian package prometheus): fleet alert rules and /metrics check SKIPPED"
    exit 0
fi
rules=packaging/fleet/prometheus/nestguard-alerts.yml
dashboard=packaging/fleet/grafana/nestguard-fleet.json
promtool check rules "$rules"

bin=${NESTGUARD_BIN:-target/debug/nestguard}
[ -x "$bin" ] || cargo build --quiet --bin nestguard
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
mkdir -m 0700 "$tmp/state"
printf 'blocked.example\n' > "$tmp/adult.txt"
cat > "$tmp/nestguard.toml" <<EOF
[server]
listen = ["127.0.0.1:0"]
[[upstream]]
protocol = "udp"
address = "127.0.0.1:9"
[state]
dir = "$tmp/state"
[admin]
enabled = true
listen = "127.0.0.1:$port"
metrics_token_hash = "sha256:$hash"
[policy]
version = "ci"
[[rules.list]]
path = "$tmp/adult.txt"
category = "adult"
EOF
"$bin" check -c "$tmp/nestguard.toml" >/dev/null

# The Ansible role's drop-in, rendered from its defaults, passes the check
# its `validate` runs (Jinja2 and PyYAML are what Ansible renders with).
role=packaging/fleet/ansible/roles/nestguard
if python3 -c 'import jinja2, yaml' 2>/dev/null; then
    python3 - "$role" "$tmp/rendered-school.toml" <<'EOF'
import json, sys, jinja2, yaml
role, out = sys.argv[1], sys.argv[2]
env = jinja2.Environment(loader=jinja2.FileSystemLoader(f"{role}/templates"), undefined=jinja2.StrictUndefined)
env.filters["to_json"] = json.dumps
defaults = yaml.safe_load(open(f"{role}/defaults/main.yml"))
open(out, "w").write(env.get_template("school.toml.j2").render(**defaults))
EOF
    echo "== the role's drop-in: nestguard check --drop-in (as its validate runs it)"
    "$bin" check -c "$tmp/nestguard.toml" --drop-in "$tmp/rendered-school.toml" --as 50-school.toml >"$tmp/check.out"
    head -n 1 "$tmp/check.out"
else
    echo "python3 jinja2/yaml not installed: the Ansible role's rendered drop-in check SKIPPED"
fi
"$bin" run -c "$tmp/nestguard.toml" >"$tmp/daemon.log" 2>&1 &
pid=$!
python3 - "$port" "$token" "$tmp/metrics" <<'EOF'
import sys, time, urllib.request
port, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                             headers={"Authorization": f"Bearer {token}"})
for _ in range(100):  # at most about 20 s
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            open(out, "wb").write(r.read())
            sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit("the daemon's /metrics did not answer")
EOF
echo "== promtool check metrics (a live daemon's /metrics)"
promtool check metrics < "$tmp/metrics"

# Every series the rules and the dashboard use is one the daemon exports.
python3 - "$tmp/metrics" "$rules" "$dashboard" <<'EOF'
import json, re, sys
metrics = open(sys.argv[1]).read()
# Sample lines, and families declared with no sample yet (no decisions made).
exported = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", metrics, re.M))
for name, kind in re.findall(r"^# TYPE (\S+) (\S+)", metrics, re.M):
    exported.add(name + "_total" if kind == "counter" and not name.endswith("_total") else name)
exprs = re.findall(r"expr: (.*)", open(sys.argv[2]).read())
exprs += [t["expr"] for p in json.load(open(sys.argv[3]))["panels"] for t in p["targets"]]
missing = set()
for e in exprs:
    for name in re.findall(r"\bnestguard_[a-z_]+", e):
        if name not in exported:
            missing.add(name)
if missing:
    sys.exit(f"used by the alert rules or the dashboard but not in /metrics: {sorted(missing)}")
print(f"dashboard and alert rules: {len(exprs)} expressions, every nestguard series exported")
EOF
