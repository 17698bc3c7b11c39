#!/usr/bin/env python3
"""Regenerates the third-party starter lists under rules/lists/ from the
pinned fixture copies in shared/data (see rules/README.md, Attribution).

Usage: build-lists.py DATA_DIR RULES_DIR

Hand-curated files (bypass, dating, anonymous-chat, self-harm, trackers,
keywords, allow) are not touched.
"""
import gzip
import ipaddress
import os
import sys

DATA, RULES = sys.argv[1], sys.argv[2]
PSL_PATH = "/usr/share/publicsuffix/public_suffix_list.dat"

SB_COMMIT = "979c68495a2f2efc0e65fc7d450e140ac1e6cf37"
BLP_COMMIT = "ee3bdbaddf49c756cf3340bb2e6a9dee5282d1c6"
BLP_GAMBLING_COMMIT = "f37f4dbfebb4ced6373b0a9e8d7e10622993713c"
SIN_COMMIT = "62631ce2ee373595bbc187623aa5bb7f7a1ad534"

def load_psl():
    rules, exc, wild = set(), set(), set()
    if not os.path.exists(PSL_PATH):
        return None
    with open(PSL_PATH, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            line = line.split()[0]
            try:
                line = line.encode("idna").decode("ascii") if not line.isascii() else line
            except Exception:
                continue
            if line.startswith("!"):
                exc.add(line[1:])
            elif line.startswith("*."):
                wild.add(line[2:])
            else:
                rules.add(line)
    return rules, exc, wild

PSL = load_psl()

def is_public_suffix(name):
    if "." not in name:
        return True
    if PSL is None:
        return False
    rules, exc, wild = PSL
    if name in exc:
        return False
    if name in rules:
        return True
    parent = name.split(".", 1)[1]
    return parent in wild

def valid(name):
    if not name or len(name) > 253:
        return False
    for label in name.split("."):
        if not label or len(label) > 63:
            return False
        if any(not (c.islower() and c.isascii() or c.isdigit() or c in "-_") for c in label):
            return False
    try:
        ipaddress.ip_address(name)
        return False
    except ValueError:
        pass
    return True

SKIP = {"localhost", "localhost.localdomain", "local", "broadcasthost",
        "ip6-localhost", "ip6-loopback", "0.0.0.0"}

def read(path, stats):
    """Returns the set of names in a plain-domain or hosts file."""
    out = set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line or line.startswith("!"):
                continue
            parts = line.split()
            if len(parts) >= 2:
                try:
                    ipaddress.ip_address(parts[0])
                    parts = parts[1:]
                except ValueError:
                    pass
            for tok in parts:
                name = tok.strip().rstrip(".").lower()
                if name in SKIP:
                    continue
                if not name.isascii():
                    try:
                        name = name.encode("idna").decode("ascii")
                    except Exception:
                        stats["invalid"].append(tok)
                        continue
                if not valid(name):
                    stats["invalid"].append(tok)
                    continue
                if is_public_suffix(name):
                    stats["suffix"].append(name)
                    continue
                out.add(name)
    return out

def read_sections(path, wanted, stats):
    """Names under the given "# Section" headings of a grouped hosts file
    (StevenBlack/Sinfonietta social list). A section runs to the next heading."""
    out, keep = set(), False
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("#"):
                head = line.lstrip("#").strip()
                if head and not head.startswith(("from ", "Title:", "Direct URL:", "Updated:")) \
                        and ":" not in head and len(head) < 40:
                    keep = head in wanted
                continue
            if keep and line:
                name = line.split()[-1].lower().rstrip(".")
                if valid(name) and not is_public_suffix(name):
                    out.add(name)
                else:
                    stats["invalid"].append(line)
    return out

def covered(name, names):
    """True if a proper parent of name is in names."""
    labels = name.split(".")
    for i in range(1, len(labels) - 1 + 1):
        if ".".join(labels[i:]) in names:
            return True
    return False

def minimise(names):
    return {n for n in names if not covered(n, names)}

def minus(names, other):
    """Drops names that other blocks (same name or a parent)."""
    return {n for n in names if n not in other and not covered(n, other)}

# Upstream entries left out of a category on purpose, with the reason (each
# reason is also written into that list's header).
EXCLUDE = {
    "short-video": {
        "app-measurement.com": "Google Analytics for Firebase, used by most mobile apps; a tracker, not TikTok",
        "alog.umeng.com": "Umeng analytics SDK, used by many apps; a tracker, not TikTok",
    },
}

def exclude(cat, names):
    drop = EXCLUDE.get(cat, {})
    return {n for n in names if n not in drop}, [
        "Left out on purpose: %s, %s." % (n, why) for n, why in sorted(drop.items())]

# The guards of rules/guard/ (the engine applies the same rules to subscribed
# lists; the shipped lists are built without such lines, so `nestguard check`
# is quiet on the defaults). See rules/guard/*.txt for the rules.
def guard_data():
    import tomllib
    def lines(rel):
        path = os.path.join(RULES, rel)
        if not os.path.exists(path):
            return []
        out = []
        for l in open(path, encoding="utf-8"):
            l = l.split("#")[0].strip()
            if l:
                out.append(l)
        return out
    with open(os.path.join(RULES, "categories.toml"), "rb") as f:
        cats = tomllib.load(f)["category"]
    opinion = {c["id"] for c in cats if c.get("opinion")}
    security = {c["id"] for c in cats if c.get("security")}
    inst = lines("guard/institutions.txt")
    suffixes = [l for l in inst if not l.endswith(".*")]
    seconds = {l[:-2] for l in inst if l.endswith(".*")}
    hosts = set()
    with open(os.path.join(RULES, "helplines.toml"), "rb") as f:
        h = tomllib.load(f)
    urls = [h["international"]["url"], h["international"]["help_url"]]
    for c in h.get("country", []):
        urls += [c["helpline_url"], c["hotline_url"]]
    for u in urls:
        host = u.split("://", 1)[-1].split("/")[0].split("?")[0].split("#")[0].split(":")[0].lower()
        hosts.add(host[4:] if host.startswith("www.") else host)
    pdir = os.path.join(RULES, "profiles")
    for fn in sorted(os.listdir(pdir)):
        with open(os.path.join(pdir, fn), "rb") as f:
            for a in tomllib.load(f).get("allow", []):
                a = a.lower()
                hosts.add(a[4:] if a.startswith("www.") else a)
    return opinion, security, suffixes, seconds, hosts, lines("guard/portals.txt")

GUARD = None

def under(name, suffix):
    return name == suffix or name.endswith("." + suffix)

def guard(cat, names):
    global GUARD
    if GUARD is None:
        GUARD = guard_data()
    opinion, security, suffixes, seconds, hosts, portals = GUARD
    inst, whole = [], []
    for n in names:
        labels = n.split(".")
        if cat in opinion and ("." not in n
                or any(under(n, s) for s in suffixes)
                or any(under(n, h) for h in hosts)
                or (len(labels) >= 2 and len(labels[-1]) == 2 and labels[-1].isalpha()
                    and labels[-2] in seconds)):
            inst.append(n)
        elif cat not in security and any(under(p, n) for p in portals):
            whole.append(n)
    drop = set(inst) | set(whole)
    note = []
    if inst:
        note.append("Left out by the public-institution guard (rules/guard/institutions.txt,")
        note.append("  help lines): %d names, e.g. %s." % (len(inst), ", ".join(sorted(inst)[:3])))
    if whole:
        note.append("Left out by the whole-portal guard (rules/guard/portals.txt): %s." % ", ".join(sorted(whole)))
    return {n for n in names if n not in drop}, note

def rev_key(n):
    return n  # plain lexical sort, as the brief asks

def write(rel, header, names, gz=False):
    path = os.path.join(RULES, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    body = "".join("# " + h + "\n" if h else "#\n" for h in header)
    body += "# Entries: %d\n\n" % len(names)
    body += "".join(n + "\n" for n in sorted(names, key=rev_key))
    data = body.encode("ascii")
    if gz:
        with open(path, "wb") as f:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as g:
                g.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
    print("%-45s %7d names %9d bytes" % (rel, len(names), os.path.getsize(path)))

PROCESSING = [
    "Processing: hosts addresses and comments removed, lowercased, names that are",
    "not valid DNS names or are public suffixes dropped, names already covered by",
    "a listed parent removed (a plain domain blocks the name and all its",
    "subdomains), sorted, deduplicated. Regenerate with rules/tools/build-lists.py.",
]

def main():
    d = lambda *p: os.path.join(DATA, *p)
    report = {}

    def src(path):
        st = {"invalid": [], "suffix": []}
        names = read(path, st)
        report[path] = st
        return names

    sb = lambda f: d("stevenblack", f)
    blp = lambda f: d("blocklistproject", f)

    # violence first: it is subtracted from adult
    violence, violence_g = guard("violence", src(d("sinfonietta", "snuff-hosts")))
    violence = minimise(violence)
    dating_hand = set()
    p = os.path.join(RULES, "lists/dating/domains.txt")
    if os.path.exists(p):
        dating_hand = read(p, {"invalid": [], "suffix": []})
    st = {"invalid": [], "suffix": []}
    tiktok_sb = read_sections(sb("social-only.domains.txt"), {"TikTok", "TikTok clone"}, st)
    report["social-only TikTok sections"] = st
    short_video, short_video_g = guard("short-video", src(blp("tiktok-nl.txt")) | tiktok_sb)
    short_video, sv_note = exclude("short-video", minimise(short_video))

    # Each list is guarded before it is minimised, so that the names under a
    # guarded parent (video.fc2.com under fc2.com) are kept.
    adult, adult_g = guard("adult", src(sb("porn-only.domains.txt")))
    adult = minus(minimise(adult), violence)
    gambling, gambling_g = guard("gambling", src(sb("gambling-only.domains.txt")) | src(blp("gambling-nl.txt")))
    gambling = minimise(gambling)
    drugs, drugs_g = guard("drugs", src(blp("drugs-nl.txt")) | src(blp("vaping-nl.txt")))
    drugs = minimise(drugs)
    social, social_g = guard("social-media", src(sb("social-only.domains.txt")))
    social = minus(minimise(social), short_video | dating_hand)
    gaming, gaming_g = guard("gaming", src(blp("fortnite-nl.txt")))
    gaming = minimise(gaming)
    scams, scams_g = guard("scams-malware", src(blp("scam-nl.txt")) | src(blp("ransomware-nl.txt")))
    scams = minimise(scams)
    piracy, piracy_g = guard("piracy", src(blp("piracy-nl.txt")) | src(blp("torrent-nl.txt")))
    piracy = minimise(piracy)
    fakenews, fakenews_g = guard("fake-news", src(sb("fakenews-only.domains.txt")))
    fakenews = minimise(fakenews)

    SB = ("StevenBlack/hosts (MIT, Copyright (c) Steven Black), built 26 June 2026,",
          "via cyb3rko/stevenblack-hosts-trimmed (MIT) commit " + SB_COMMIT + ",")
    BLP = "The Block List Project, blocklistproject/Lists (Unlicense; file headers say MIT)"

    write("lists/adult/domains.txt.gz", [
        "nestguard category list: adult (Sexual content)",
        "Source: " + SB[0], "  " + SB[1],
        "  alternates/porn-only/hosts. StevenBlack merges these upstream lists, which",
        "  keep their own licences: hostsVN adult (BigDargon, MIT), Clefspeare13",
        "  pornhosts (MIT), Sinfonietta pornography-hosts and snuff-hosts (MIT),",
        "  tiuxo porn (CC BY 4.0), brijrajparmar27 Porn (CC BY 4.0).",
        "Names also in lists/violence/domains.txt (Sinfonietta snuff-hosts) were",
        "removed here so that they are reported as violence, not sexual content.",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + adult_g + PROCESSING, adult, gz=True)

    write("lists/gambling/domains.txt", [
        "nestguard category list: gambling",
        "Sources (union):",
        "  " + SB[0], "    " + SB[1],
        "    alternates/gambling-only/hosts (merges hostsVN gambling, BigDargon, MIT,",
        "    and Sinfonietta gambling-hosts, MIT);",
        "  " + BLP + ",",
        "    alt-version/gambling-nl.txt at commit " + BLP_GAMBLING_COMMIT + ".",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + gambling_g + PROCESSING, gambling)

    drugs_gz = False
    write("lists/drugs/domains.txt.gz" if drugs_gz else "lists/drugs/domains.txt", [
        "nestguard category list: drugs (incl. alcohol, tobacco, vaping)",
        "Sources (union): " + BLP + ",",
        "  commit " + BLP_COMMIT + ":",
        "  alt-version/drugs-nl.txt and alt-version/vaping-nl.txt.",
        "Known false positives (drug education, harm reduction) are exempted in",
        "lists/drugs/allow.txt.",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + drugs_g + PROCESSING, drugs, gz=drugs_gz)

    write("lists/violence/domains.txt", [
        "nestguard category list: violence (gore, shock and snuff sites)",
        "Source: Sinfonietta/hostfiles snuff-hosts (MIT, Copyright (c) 2016 Sinfonietta),",
        "  commit " + SIN_COMMIT + ".",
        "Converted from hosts syntax (127.0.0.1 name) to plain domains.",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + violence_g + PROCESSING, violence)

    write("lists/social-media/domains.txt", [
        "nestguard category list: social-media",
        "Source: " + SB[0], "  " + SB[1],
        "  alternates/social-only/hosts (= Sinfonietta social-hosts, MIT, grouped",
        "  upstream by service: Facebook, Instagram, WhatsApp, Threads, Twitter/X,",
        "  LinkedIn, MySpace, Pinterest, Tumblr, Reddit, Snapchat, Twitch, Bluesky ...).",
        "Names also in lists/short-video (TikTok) or lists/dating were removed here",
        "so that they are reported under those categories.",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + social_g + PROCESSING, social)

    write("lists/short-video/domains.txt", [
        "nestguard category list: short-video (TikTok and clones)",
        "Sources (union):",
        "  " + BLP + ",",
        "    commit " + BLP_COMMIT + ": alt-version/tiktok-nl.txt;",
        "  the \"TikTok\" and \"TikTok clone\" (likee.video) sections of",
        "    " + SB[0], "    " + SB[1],
        "    alternates/social-only/hosts (= Sinfonietta social-hosts, MIT).",
    ] + sv_note + [
        "Licences and notices: rules/README.md, section Attribution.",
    ] + short_video_g + PROCESSING, short_video)

    write("lists/gaming/domains.txt", [
        "nestguard category list: gaming (Fortnite matchmaking and telemetry only)",
        "Source: " + BLP + ",",
        "  commit " + BLP_COMMIT + ": alt-version/fortnite-nl.txt.",
        "This is a tiny list: it stops Fortnite matchmaking and Epic telemetry. Two",
        "entries are Epic Online Services gateways and one is an Epic account",
        "service, which other games that use Epic accounts may also need. No broader",
        "licence-compatible games list exists in the fixture set.",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + gaming_g + PROCESSING, gaming)

    write("lists/scams-malware/domains.txt", [
        "nestguard category list: scams-malware",
        "Sources (union): " + BLP + ",",
        "  commit " + BLP_COMMIT + ":",
        "  alt-version/scam-nl.txt and alt-version/ransomware-nl.txt.",
        "Not included: phishing-nl.txt (190,215 names, 4.2 MB; see subscriptions.toml)",
        "and crypto-nl.txt (it lists cryptocurrency sites in general, e.g. bitcoin.org,",
        "ethereum.org, coinbase.com, not only scams; see subscriptions.toml).",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + scams_g + PROCESSING, scams)

    write("lists/piracy/domains.txt", [
        "nestguard category list: piracy (copyright-infringing streaming, downloads, torrents)",
        "Sources (union): " + BLP + ",",
        "  commit " + BLP_COMMIT + ":",
        "  alt-version/piracy-nl.txt and alt-version/torrent-nl.txt.",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + piracy_g + PROCESSING, piracy)

    write("lists/fake-news/domains.txt", [
        "nestguard category list: fake-news (disinformation outlets)",
        "Source: " + SB[0], "  " + SB[1],
        "  alternates/fakenews-only/hosts (= marktron/fakenews, MIT,",
        "  Copyright (c) 2016 marktron).",
        "Licences and notices: rules/README.md, section Attribution.",
    ] + fakenews_g + PROCESSING, fakenews)

    for path, st in report.items():
        if st["invalid"] or st["suffix"]:
            print("  %s: %d invalid dropped %s; %d public suffixes dropped %s" % (
                path, len(st["invalid"]), st["invalid"][:8],
                len(st["suffix"]), st["suffix"][:8]), file=sys.stderr)

main()
