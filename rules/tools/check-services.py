#!/usr/bin/env python3
"""Checks rules/services.toml against the lists in shared/data and prints a
Markdown summary (kept in rules/README.md, "Services"). Python 3.11+, stdlib
only; not read by nestguard.

Usage: check-services.py [DATA_DIR] [REPO_DIR]
  DATA_DIR  the shared fixture data (default: ../shared/data next to the repo)
  REPO_DIR  the repository (default: this file's ../..)

For every domain of every service it reports which lists carry it (the
domain, a parent of it, or a name under it), and its Tranco rank. It fails
(exit 1) on what would be collateral damage or a seed error:
  - a domain that is, or is a parent of, an essential host
    (tests/fixtures/services/essential-hosts.txt), a whole portal
    (rules/guard/portals.txt) or a help line (rules/helplines.toml);
  - a domain claimed by two services without `shared` in both;
  - a single-label or special-use name (.local and friends);
  - a CNAME target (names under edgesuite.net, akadns.net, edgekey.net,
    *.map.fastly.net, cdn.cloudflare.net): devices never ask for those.
It also lists the NextDNS seed entries the catalogue does not cover, so a
dropped entry is a decision, not an accident.
"""
import os
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = sys.argv[2] if len(sys.argv) > 2 else os.path.normpath(os.path.join(HERE, "..", ".."))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(REPO, "..", "shared", "data"))

SPECIAL = {"local", "localhost", "test", "invalid", "example", "onion", "arpa", "internal"}
CNAME_ZONES = ("edgesuite.net", "akadns.net", "edgekey.net", "cdn.cloudflare.net",
               "map.fastly.net", "map.fastlylb.net", "ttdns2.com", "ttdns3.com",
               "footprint.net", "l.google.com")

# CDN zones the seed's CNAME targets sit in (for classifying dropped seed
# entries only; a catalogue domain under them is not an error by itself).
OTHER_CDN_ZONES = ("s-msedge.net", "mncdn.com", "myqcloud.com")
# Seed domains the catalogue claims only parts of, and why.
NOT_WHOLE = {
    "amazon.com": "Alexa, Kindle and Prime Video use hosts under it (www. and m. are the shop)",
    "skype.com": "Microsoft Teams uses hosts under it (Skype's own hosts are listed)",
}

# (label, path under DATA, format)
LISTS = [
    ("nextdns", "nextdns-services", "dir"),
    ("sb-social", "stevenblack/social-only.domains.txt", "plain"),
    ("sb-gambling", "stevenblack/gambling-only.domains.txt", "plain"),
    ("sin-social", "sinfonietta/social-hosts", "hosts"),
    ("sin-gambling", "sinfonietta/gambling-hosts", "hosts"),
    ("blp-facebook", "blocklistproject/facebook-nl.txt", "plain"),
    ("blp-twitter", "blocklistproject/twitter-nl.txt", "plain"),
    ("blp-tiktok", "blocklistproject/tiktok-nl.txt", "plain"),
    ("blp-whatsapp", "blocklistproject/whatsapp-nl.txt", "plain"),
    ("blp-youtube", "blocklistproject/youtube-nl.txt", "plain"),
    ("blp-fortnite", "blocklistproject/fortnite-nl.txt", "plain"),
    ("blp-gambling", "blocklistproject/gambling-nl.txt", "plain"),
    ("hagezi-social", "hagezi/wildcard_social-onlydomains.txt", "plain"),
    ("hagezi-gambling", "hagezi/wildcard_gambling.txt", "plain"),
    ("ut1-dating", "ut1-dating/domains", "plain"),
]


def names_of(text, fmt):
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("!") or line.startswith("["):
            continue
        name = line.split()[-1] if fmt == "hosts" else line.split()[0]
        name = name.lower().rstrip(".")
        if name.startswith("*."):
            name = name[2:]
        if name.startswith("||"):
            name = name[2:].split("^")[0]
        yield name


def load_list(path, fmt):
    """The names of one list (a file, or every file of a directory)."""
    full = os.path.join(DATA, path)
    out = set()
    if fmt == "dir":
        for f in sorted(os.listdir(full)):
            if f != "LICENSE":
                with open(os.path.join(full, f), encoding="utf-8") as fh:
                    out.update(names_of(fh.read(), "plain"))
        return out
    with open(full, encoding="utf-8", errors="replace") as fh:
        out.update(names_of(fh.read(), fmt))
    return out


def parents(name):
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def covers(d, host):
    return host == d or host.endswith("." + d)


def read_lines(path):
    with open(path, encoding="utf-8") as fh:
        return [l.split("#", 1)[0].strip() for l in fh if l.split("#", 1)[0].strip()]


def main():
    with open(os.path.join(REPO, "rules", "services.toml"), "rb") as fh:
        services = tomllib.load(fh)["service"]
    essential = read_lines(os.path.join(REPO, "tests", "fixtures", "services", "essential-hosts.txt"))
    portals = read_lines(os.path.join(REPO, "rules", "guard", "portals.txt"))
    with open(os.path.join(REPO, "rules", "helplines.toml"), "rb") as fh:
        help_ = tomllib.load(fh)
    urls = [help_["international"]["url"], help_["international"]["help_url"]]
    for c in help_.get("country", []):
        urls += [c["helpline_url"], c["hotline_url"]]
    helplines = [u.split("://", 1)[-1].split("/")[0].split(":")[0].lower() for u in urls]
    protected = [(h, "essential") for h in essential] + [(p, "portal") for p in portals] + \
        [(h, "help line") for h in helplines]

    have_data = os.path.isdir(DATA)
    lists = {}
    if have_data:
        for label, path, fmt in LISTS:
            if os.path.exists(os.path.join(DATA, path)):
                lists[label] = load_list(path, fmt)
    tranco = {}
    tpath = os.path.join(DATA, "popular", "tranco-top-100k.txt")
    if os.path.exists(tpath):
        with open(tpath, encoding="utf-8") as fh:
            tranco = {l.strip(): i + 1 for i, l in enumerate(fh) if l.strip()}
    # Names under a listed domain, to tell "the list blocks a host of it".
    suffix_index = {}
    for label, names in lists.items():
        for n in names:
            for p in parents(n)[1:]:
                suffix_index.setdefault(p, set()).add(label)

    errors, claims = [], {}
    rows, tot = [], {"domains": 0, "listed": 0, "ranked": 0, "only": 0}
    for s in services:
        sid = s["id"]
        shared = set(s.get("shared", []))
        n_listed = n_ranked = 0
        unlisted = []
        for d in s["domains"]:
            d = d.lower()
            tot["domains"] += 1
            if "." not in d:
                errors.append(f"{sid}: `{d}` is a single label")
            if d.rsplit(".", 1)[-1] in SPECIAL:
                errors.append(f"{sid}: `{d}` is a special-use name")
            if any(covers(z, d) for z in CNAME_ZONES):
                errors.append(f"{sid}: `{d}` is a CNAME target, never asked for")
            for host, why in protected:
                if covers(d, host):
                    errors.append(f"{sid}: `{d}` covers the {why} `{host}`")
            if d in claims:
                other, other_shared = claims[d]
                if not (d in shared and other_shared):
                    errors.append(f"{sid}: `{d}` is claimed by `{other}` too, not shared in both")
            else:
                claims[d] = (sid, d in shared)
            carried = set()
            for p in parents(d):
                for label, names in lists.items():
                    if p in names:
                        carried.add(label)
            carried |= suffix_index.get(d, set())
            rank = next((tranco[p] for p in parents(d) if p in tranco), None)
            if carried:
                n_listed += 1
            if rank:
                n_ranked += 1
            if not carried and not rank:
                unlisted.append(d)
        tot["listed"] += n_listed
        tot["ranked"] += n_ranked
        tot["only"] += len(unlisted)
        rows.append((s["group"], sid, len(s["domains"]), n_listed, n_ranked, unlisted))

    # The NextDNS seed: every entry covered, or dropped for a reason.
    dropped = []
    if "nextdns" in lists:
        all_domains = [d for s in services for d in s["domains"]]
        mpath = os.path.join(DATA, "nextdns-services", "mastodon")
        nextdns_mastodon = set(load_list("nextdns-services/mastodon", "plain")) \
            if os.path.exists(mpath) else set()
        for n in sorted(lists["nextdns"]):
            if any(covers(d, n) for d in all_domains):
                continue
            if "." not in n:
                why = "single label"
            elif n.rsplit(".", 1)[-1] in SPECIAL:
                why = "mDNS name"
            elif any(covers(z, n) for z in CNAME_ZONES + OTHER_CDN_ZONES) or \
                    any(n.startswith(d + ".") for d in all_domains):
                why = "CNAME target (a CDN's name for a service host)"
            elif n == "xboxlive.xom":
                why = "typo (xboxlive.com is listed)"
            elif n in NOT_WHOLE:
                why = "not claimed whole: " + NOT_WHOLE[n]
            elif n in nextdns_mastodon:
                why = "smaller Mastodon servers (the catalogue keeps the big ones)"
            else:
                why = "left out (see the service's comment)"
            dropped.append((n, why))

    print("## check-services.py summary\n")
    if not have_data:
        print(f"(no data at {DATA}: list and rank columns are empty)\n")
    print(f"{len(services)} services, {tot['domains']} domains: "
          f"{tot['listed']} carried by at least one list in shared/data (the domain, a parent or a "
          f"name under it), {tot['ranked']} in the Tranco top 100k, "
          f"{tot['only']} in neither (hand-written, listed below).\n")
    print("| group | service | domains | in a list | in Tranco | in neither |")
    print("|---|---|---:|---:|---:|---|")
    for group, sid, n, listed, ranked, unlisted in sorted(rows):
        print(f"| {group} | {sid} | {n} | {listed} | {ranked} | {' '.join(unlisted)} |")
    print(f"\nNextDNS seed entries not covered: {len(dropped)}")
    by_why = {}
    for n, why in dropped:
        by_why.setdefault(why, []).append(n)
    for why, ns in sorted(by_why.items()):
        print(f"- {why} ({len(ns)}): {' '.join(ns)}")
    print(f"\nCollateral and format errors: {len(errors)}")
    for e in errors:
        print(f"- {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
