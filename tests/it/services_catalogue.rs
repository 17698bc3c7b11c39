//! The services catalogue as shipped (`rules/services.toml`, built into the
//! binary), read through the loader and index the engine uses: it loads,
//! names every service the issue asks for, and blocking one service never
//! takes down another service's hosts or the hosts everyone needs (Search,
//! sign-in, app stores, shared CDNs, help lines). A bad catalogue is an
//! error at its file:line:column.

use std::path::PathBuf;

use nestguard::rules::catalog::{RulesDir, load_helplines};
use nestguard::rules::name::Candidate;
use nestguard::rules::services::{MAX_MIN_AGE, ServiceIndex, ServiceMask, load_services};

fn shipped() -> ServiceIndex {
    let defs = load_services(&RulesDir::Embedded).expect("the shipped catalogue loads");
    ServiceIndex::new(defs)
}

fn of(index: &ServiceIndex, host: &str) -> ServiceMask {
    let c = Candidate::from_text(host).unwrap_or_else(|| panic!("bad test name {host}"));
    index.services_of(&c)
}

/// The ids of the services a host belongs to, for messages.
fn ids(index: &ServiceIndex, mask: ServiceMask) -> Vec<String> {
    mask.iter()
        .filter_map(|s| index.get(s).map(|d| d.id.clone()))
        .collect()
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/services")
        .join(rel)
}

/// The list, by catalogue id.
const REQUIRED: &[&str] = &[
    "tiktok",
    "youtube",
    "instagram",
    "snapchat",
    "whatsapp",
    "telegram",
    "discord",
    "facebook",
    "messenger",
    "twitter",
    "reddit",
    "pinterest",
    "twitch",
    "kick",
    "bereal",
    "roblox",
    "fortnite",
    "minecraft",
    "steam",
    "playstation-network",
    "xboxlive",
    "nintendo",
    "netflix",
    "disneyplus",
    "spotify",
    "chatgpt",
    "claude",
    "gemini",
    "copilot",
    "character-ai",
    "tinder",
    // the big gambling brands
    "bet365",
    "william-hill",
    "paddy-power",
    "betfair",
    "pokerstars",
    "unibet",
    "888",
    "bwin",
    "betway",
    "draftkings",
    "fanduel",
    // the helper brief's further list
    "threads",
    "tumblr",
    "vk",
    "random-video-chat",
    "bumble",
    "hinge",
    "grindr",
    "amazon",
    "ebay",
    "aliexpress",
    "temu",
    "shein",
    "primevideo",
    "hulu",
    "hbomax",
    "apple-tv",
    "deezer",
    "soundcloud",
    "perplexity",
    "poe",
    "mistral",
    "deepseek",
    "meta-ai",
    "brawl-stars",
    "clash-of-clans",
    "clash-royale",
    "genshin-impact",
    "valorant",
    "leagueoflegends",
    "blizzard",
    "ea",
    "ubisoft",
    "among-us",
    "free-fire",
    "pubg",
    "call-of-duty",
    "9gag",
    "imgur",
    "quora",
    "likee",
    "kwai",
    "triller",
    "dailymotion",
    "vimeo",
    "signal",
    "skype",
    "zoom",
    "viber",
    "line",
    "wechat",
    "kik",
    "yubo",
    "wattpad",
];

#[test]
fn the_shipped_catalogue_loads_and_names_every_service_asked_for() {
    let index = shipped();
    assert!(index.len() >= 80, "{} services", index.len());
    let missing: Vec<&&str> = REQUIRED
        .iter()
        .filter(|id| index.id_of(id).is_none())
        .collect();
    assert!(missing.is_empty(), "missing services: {missing:?}");
    // Every domain parsed (the loader normalises and validates each) and
    // finds its own service again through the index.
    for def in index.defs() {
        let me = index.id_of(&def.id).unwrap();
        for d in &def.domains {
            assert!(
                of(&index, d.get_ref()).contains(me),
                "{}: {} does not lead back to it",
                def.id,
                d.get_ref()
            );
        }
    }
}

#[test]
fn every_service_has_a_source_an_age_and_a_group() {
    let index = shipped();
    for def in index.defs() {
        assert!(!def.name.trim().is_empty(), "{}: no name", def.id);
        assert!(
            def.sources.iter().any(|s| !s.trim().is_empty()),
            "{}: no source",
            def.id
        );
        assert!(
            def.min_age <= MAX_MIN_AGE,
            "{}: min_age {}",
            def.id,
            def.min_age
        );
        assert!(!def.group.id().is_empty(), "{}: no group", def.id);
        assert!(!def.domains.is_empty(), "{}: no domains", def.id);
    }
    // Adult-only groups say so.
    for def in index.defs() {
        if matches!(def.group.id(), "gambling" | "dating") {
            assert!(def.min_age >= 18, "{}: min_age {}", def.id, def.min_age);
        }
    }
}

#[test]
fn blocking_a_service_never_blocks_another_services_own_hosts() {
    let index = shipped();
    for def in index.defs() {
        for d in &def.domains {
            let d = d.get_ref();
            for host in [d.clone(), format!("www.{d}"), format!("a1.cdn.{d}")] {
                let mask = of(&index, &host);
                let found = ids(&index, mask);
                if def.shared.contains(d) {
                    // A shared host is every claimer's, and each says so.
                    for s in mask.iter() {
                        let other = index.get(s).unwrap();
                        assert!(
                            other.shared.contains(d),
                            "{host}: {} claims it unshared",
                            other.id
                        );
                    }
                    assert!(found.len() >= 2, "{host}: shared but only {found:?}");
                } else {
                    // An unshared host is this service's alone, unless a more
                    // specific domain of another service covers it.
                    let theirs = index.defs().iter().filter(|o| o.id != def.id).any(|o| {
                        o.domains.iter().any(|x| {
                            let x = x.get_ref();
                            x.len() > d.len() && (host == *x || host.ends_with(&format!(".{x}")))
                        })
                    });
                    if !theirs {
                        assert_eq!(found, vec![def.id.clone()], "{host}");
                    }
                }
            }
        }
    }
}

/// The names of a one-host-a-line file (`#` starts a comment).
fn hosts_in(path: PathBuf) -> Vec<String> {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The hosts some service matches, with the services.
fn claimed(index: &ServiceIndex, hosts: &[String]) -> Vec<(String, Vec<String>)> {
    hosts
        .iter()
        .map(|h| (h.clone(), ids(index, of(index, h))))
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

#[test]
fn no_service_matches_search_sign_in_stores_or_shared_cdns() {
    let index = shipped();
    let hosts = hosts_in(fixture("essential-hosts.txt"));
    assert!(hosts.len() > 50, "the list was read");
    let hit = claimed(&index, &hosts);
    assert!(hit.is_empty(), "services take essential hosts: {hit:#?}");
}

#[test]
fn no_service_matches_a_help_line_or_a_whole_portal() {
    let index = shipped();
    let help = load_helplines(&RulesDir::Embedded).unwrap();
    let urls = help
        .country
        .iter()
        .flat_map(|c| [c.helpline_url.clone(), c.hotline_url.clone()])
        .chain([
            help.international.url.clone(),
            help.international.help_url.clone(),
        ]);
    let mut hosts: Vec<String> = urls
        .filter_map(|u| {
            let rest = u.split_once("://").map_or(u.as_str(), |(_, r)| r);
            rest.split(['/', '?', '#', ':']).next().map(str::to_string)
        })
        .filter(|h| !h.is_empty())
        .collect();
    assert!(hosts.len() > 10, "help lines were read");
    // A portal (rules/guard/portals.txt) is someone else's site under a
    // shared name: no service may take the portal, or a site on it.
    let portals =
        hosts_in(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules/guard/portals.txt"));
    for p in portals {
        hosts.push(format!("someones-site.{p}"));
        hosts.push(p);
    }
    let hit = claimed(&index, &hosts);
    assert!(hit.is_empty(), "{hit:#?}");
}

/// Every one of `hosts` is (one of) service `id`'s.
fn assert_service_of(index: &ServiceIndex, id: &str, hosts: &[&str]) {
    let s = index.id_of(id).unwrap_or_else(|| panic!("no service {id}"));
    for h in hosts {
        assert!(of(index, h).contains(s), "{h} is not {id}'s");
    }
}

/// None of `hosts` is any service's.
fn assert_nobodys(index: &ServiceIndex, hosts: &[&str]) {
    let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    let hit = claimed(index, &hosts);
    assert!(hit.is_empty(), "{hit:#?}");
}

#[test]
fn youtube_gemini_and_copilot_take_their_own_hosts_not_search() {
    let index = shipped();
    #[rustfmt::skip]
    assert_service_of(&index, "youtube", &[
        "www.youtube.com", "m.youtube.com", "i.ytimg.com", "rr3---sn-4g5e6nsz.googlevideo.com",
        "youtubei.googleapis.com", "yt3.ggpht.com", "youtu.be",
    ]);
    #[rustfmt::skip]
    assert_nobodys(&index, &[
        "www.google.com", "google.com", "www.google.co.uk", "accounts.google.com",
        "www.googleapis.com", "fonts.gstatic.com", "lh3.ggpht.com", "lh3.googleusercontent.com",
        "www.bing.com", "www.microsoft.com", "login.live.com",
    ]);
    assert_service_of(&index, "gemini", &["gemini.google.com"]);
    assert_service_of(&index, "copilot", &["copilot.microsoft.com"]);
    #[rustfmt::skip]
    assert_service_of(&index, "chatgpt", &[
        "chatgpt.com", "cdn.oaistatic.com", "files.oaiusercontent.com", "chat.openai.com",
    ]);
    #[rustfmt::skip]
    assert_service_of(&index, "fortnite", &[
        "fortnite.com", "account-public-service-prod.ol.epicgames.com", "api.epicgames.dev",
    ]);
}

#[test]
fn the_seed_lists_known_errors_are_fixed() {
    let index = shipped();
    let all: Vec<&str> = index
        .defs()
        .iter()
        .flat_map(|d| d.domains.iter().map(|x| x.get_ref().as_str()))
        .collect();
    assert!(!all.contains(&"xboxlive.xom"));
    assert!(
        all.iter().all(|d| d.contains('.')),
        "no single-label domain"
    );
    assert!(all.iter().all(|d| !d.ends_with(".local")), "no mDNS name");
    let xbox = index.id_of("xboxlive").unwrap();
    assert!(of(&index, "xboxlive.com").contains(xbox));
    let facebook = index.id_of("facebook").unwrap();
    assert!(of(&index, "facebook.com").contains(facebook));
    assert!(of(&index, "www.facebook.com").contains(facebook));
    // Messenger's chat host under facebook.com stays Messenger's.
    let messenger = index.id_of("messenger").unwrap();
    let chat = of(&index, "edge-chat.facebook.com");
    assert!(chat.contains(messenger) && !chat.contains(facebook));
    // Thin seed entries were filled in.
    for (id, min) in [("fortnite", 4), ("chatgpt", 5), ("hulu", 2), ("tumblr", 2)] {
        let n = index.defs()[usize::from(index.id_of(id).unwrap().0)]
            .domains
            .len();
        assert!(n >= min, "{id}: {n} domains");
    }
}

/// The error of a bad fixture catalogue.
fn load_error(dir: &str) -> String {
    match load_services(&RulesDir::Path(fixture(dir))) {
        Ok(defs) => panic!("{dir}: loaded {} services", defs.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_domain_two_services_claim_unshared_is_an_error_at_its_line_and_column() {
    let e = load_error("double-claim");
    assert!(e.contains("double-claim/services.toml:17:29: "), "{e}");
    assert!(
        e.contains("`fbcdn.net` is claimed by `facebook` too"),
        "{e}"
    );
}

#[test]
fn other_catalogue_mistakes_are_errors_with_their_place() {
    for (dir, at, says) in [
        (
            "shared-not-listed",
            "services.toml:1:1: ",
            "shared `fbcdn.net` is not one of its domains",
        ),
        ("single-label", "services.toml:7:3: ", "at least two labels"),
        ("mdns-name", "services.toml:6:27: ", "special-use name"),
        ("bad-age", "services.toml:1:1: ", "min_age 30 is above 21"),
        ("no-sources", "services.toml:1:1: ", "has no sources"),
    ] {
        let e = load_error(dir);
        assert!(e.contains(&format!("{dir}/{at}")), "{dir}: {e}");
        assert!(e.contains(says), "{dir}: {e}");
    }
}
