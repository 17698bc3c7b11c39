//! The child's words (`nestguard::words`, `locales/*/nestguard.ftl`): every
//! shipped category × band × block reason × language reads as a finished
//! sentence; every language has exactly the English message ids; and the
//! child's pages over real sockets come in the child's language, with no
//! "ask" for security lists and a category's words, not bedtime's, for a
//! site that is never open.

use std::net::{Ipv4Addr, SocketAddr};

use crate::support::http::{form_value, http};
use crate::support::*;
use nestguard::config::RulesConfig;
use nestguard::rules::catalog;
use nestguard::words::{Band, Lang, Reason, Words, block_words};

/// What a rendered sentence must not contain: a placeholder Fluent could
/// not fill, a dangling label, an empty quote, a space before a full stop.
const BROKEN: &[&str] = &[
    "{", "}", ":  ", " .", " ,", "  ", "“”", "„“", "«»", "« »", "''", "\"\"", "()", "::",
];

fn problems(lang: Lang, what: &str, s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let at = |p: &str| format!("{}: {what}: {p}: {s:?}", lang.code());
    if s.trim().is_empty() {
        out.push(at("empty"));
    }
    if s != s.trim() {
        out.push(at("leading or trailing space"));
    }
    for b in BROKEN {
        if s.contains(b) {
            out.push(at(&format!("contains {b:?}")));
        }
    }
    let words: Vec<String> = s
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        if pair[0] == pair[1] {
            out.push(at(&format!("doubled word {:?}", pair[0])));
        }
    }
    if s.ends_with([':', ';', ',', '“', '„', '«']) {
        out.push(at("dangling punctuation at the end"));
    }
    out
}

fn sentence_problems(lang: Lang, what: &str, s: &str) -> Vec<String> {
    let mut out = problems(lang, what, s);
    if !s.ends_with(['.', '!', '?']) {
        out.push(format!(
            "{}: {what}: not a finished sentence: {s:?}",
            lang.code()
        ));
    }
    out
}

fn shipped_categories() -> Vec<catalog::CategoryDef> {
    let dir = catalog::RulesDir::from_config(&RulesConfig::default());
    catalog::load_catalog(&dir).unwrap().categories
}

#[test]
fn every_category_band_reason_and_language_reads_as_finished_sentences() {
    let categories = shipped_categories();
    assert!(categories.len() >= 16, "the shipped categories");
    let mut reasons: Vec<(String, Reason<'_>)> = categories
        .iter()
        .map(|c| {
            let r = Reason::of_category(&c.id, &c.name, c.security);
            (format!("category {}", c.id), r)
        })
        .collect();
    reasons.extend([
        (
            "a parent's own category".into(),
            Reason::Category {
                id: "homework-distractions",
                name: "Homework distractions",
            },
        ),
        ("bedtime".into(), Reason::of_window("bedtime")),
        ("schedule".into(), Reason::of_window("homework")),
        ("schedule, no name".into(), Reason::Schedule { window: "" }),
        ("pause".into(), Reason::Paused),
        ("exam".into(), Reason::Exam),
        (
            "service blocked".into(),
            Reason::ServiceBlocked { service: "YouTube" },
        ),
        (
            "service hours".into(),
            Reason::ServiceHours { service: "Roblox" },
        ),
        (
            "budget used up".into(),
            Reason::BudgetUsedUp { service: "TikTok" },
        ),
        (
            "service, no name".into(),
            Reason::BudgetUsedUp { service: " " },
        ),
    ]);
    let mut bad = Vec::new();
    let mut rendered = 0;
    for (what, reason) in &reasons {
        for band in Band::ALL {
            for lang in Lang::ALL {
                let w = block_words(*reason, band, lang);
                let at = format!("{what} × {}", band.id());
                bad.extend(problems(lang, &format!("{at} title"), &w.title));
                bad.extend(sentence_problems(lang, &format!("{at} why"), &w.why));
                bad.extend(sentence_problems(lang, &format!("{at} can"), &w.can));
                if w.title.ends_with(['.', ':']) {
                    bad.push(format!(
                        "{}: {at}: a title ends in punctuation",
                        lang.code()
                    ));
                }
                let security = matches!(reason, Reason::Security { .. });
                assert_eq!(
                    w.ask, !security,
                    "{at}: ask only where a parent can lift it"
                );
                rendered += 1;
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(rendered >= 16 * 4 * 7, "{rendered}");
}

#[test]
fn a_young_child_gets_different_words_for_porn_scams_bypass_and_games() {
    let words = |id: &'static str, security: bool| -> Words {
        let r = if security {
            Reason::Security { id, name: id }
        } else {
            Reason::Category { id, name: id }
        };
        block_words(r, Band::YoungChild, Lang::En)
    };
    let all = [
        words("adult", false),
        words("scams-malware", true),
        words("bypass", false),
        words("gaming", false),
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a.why, b.why);
        }
    }
    // Porn is not something to look at with a grown-up "for school".
    assert!(!all[0].can.contains("school"), "{}", all[0].can);
    // Scams: nobody can unblock it, and no one is asked.
    assert!(all[1].can.contains("Nobody can unblock") && !all[1].ask);
}

#[test]
fn every_language_has_exactly_the_english_message_ids() {
    let english = nestguard::words::message_ids(Lang::En).unwrap();
    let mut seen = std::collections::HashSet::new();
    for id in &english {
        assert!(seen.insert(id), "en: {id} twice");
    }
    for lang in Lang::ALL {
        let ids = nestguard::words::message_ids(lang).unwrap();
        let missing: Vec<&String> = english.iter().filter(|i| !ids.contains(i)).collect();
        let extra: Vec<&String> = ids.iter().filter(|i| !english.contains(i)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: missing {missing:?}, not in English {extra:?}",
            lang.code()
        );
        assert_eq!(ids.len(), english.len(), "{}: an id twice", lang.code());
    }
}

#[test]
fn the_page_language_comes_from_the_browser_or_the_country() {
    assert_eq!(
        Lang::from_accept_language("de-DE,de;q=0.9,en;q=0.8"),
        Some(Lang::De)
    );
    assert_eq!(Lang::of_country("DE"), Some(Lang::De));
    assert_eq!(Lang::of_country("BE"), None, "Belgium: the browser decides");
}

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

/// The daemon with a dashboard, `adult.example` in the adult category,
/// `scam.example` in the security list, and `extra` appended to the config.
async fn start(extra: &str) -> (TestDaemon, SocketAddr, (TempDir, FakeUpstream)) {
    let up = FakeUpstream::start().await;
    for n in ["adult.example.", "scam.example.", "fine.example."] {
        up.set_a(n, OPEN, 1);
    }
    let dir = TempDir::new();
    std::fs::write(dir.join("adult.txt"), "adult.example\n").unwrap();
    std::fs::write(dir.join("scam.txt"), "scam.example\n").unwrap();
    let hash = nestguard::admin::auth::hash_password("correct horse battery").unwrap();
    let config = format!(
        "{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\n{extra}\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"scams-malware\"\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("adult.txt").display(),
        dir.join("scam.txt").display(),
    );
    let (d, _clock) = TestDaemon::start_manual(&config).await;
    let admin = d.daemon.admin_addr.expect("admin server started");
    (d, admin, (dir, up))
}

async fn page(admin: SocketAddr, path: &str, accept: &str) -> String {
    let headers: Vec<(&str, &str)> = if accept.is_empty() {
        vec![]
    } else {
        vec![("Accept-Language", accept)]
    };
    let r = http("127.0.0.1", admin, "GET", path, &headers, "").await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_child_page_follows_the_browser_then_the_config_then_the_childs_setting() {
    // No language set anywhere: the browser's.
    let (d, admin, _keep) = start("").await;
    let de = page(admin, "/blocked?name=adult.example", "de-DE,de;q=0.9").await;
    assert!(de.contains("<html lang=de>"), "{de}");
    assert!(de.contains("Warum wurde das gesperrt?"), "{de}");
    let en = page(admin, "/blocked?name=adult.example", "sv-SE").await;
    assert!(en.contains("<html lang=en>") && en.contains("Why was this blocked?"));
    d.stop().await;

    // The country's language beats the browser's.
    let (d, admin, _keep) = start("country = \"PL\"\n").await;
    let pl = page(admin, "/blocked?name=adult.example", "fr").await;
    assert!(pl.contains("<html lang=pl>"), "{pl}");
    d.stop().await;

    // The child's own setting beats both.
    let (d, admin, _keep) = start(
        "country = \"DE\"\nlanguage = \"de\"\n\n[[child]]\nname = \"Lea\"\nprofile = \"teen\"\naddresses = [\"127.0.0.1\"]\nlanguage = \"fr\"\n",
    )
    .await;
    let fr = page(admin, "/blocked?name=adult.example", "de").await;
    assert!(fr.contains("<html lang=fr>"), "{fr}");
    assert!(fr.contains("Pourquoi est-ce bloqué ?"), "{fr}");
    let me = page(admin, "/me", "de").await;
    assert!(me.contains("Le filtre est activé pour toi"), "{me}");
    assert!(me.contains("Bonjour, Lea !"), "{me}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_one_is_asked_to_unblock_a_security_list() {
    let (d, admin, _keep) = start("").await;
    let scam = page(admin, "/blocked?name=scam.example", "").await;
    assert!(scam.contains("Nobody can unblock it"), "{scam}");
    assert!(!scam.contains("action=/ask"), "no ask form: {scam}");
    // A hand-made ask, with a token from another page, is refused too.
    let adult = page(admin, "/blocked?name=adult.example", "").await;
    assert!(adult.contains("action=/ask"), "{adult}");
    let at = adult.find("name=token value=\"").unwrap() + "name=token value=\"".len();
    let token = adult[at..].split('"').next().unwrap();
    let r = http(
        "127.0.0.1",
        admin,
        "POST",
        "/ask",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={token}&name=scam.example&note={}", form_value("pls")),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("dangerous for everyone"), "{}", r.body);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_bedtime_a_site_that_is_never_open_is_told_by_its_category() {
    let (d, admin, _keep) = start(
        "\n[[child]]\nname = \"Max\"\nprofile = \"child\"\naddresses = [\"127.0.0.1\"]\n\
         [[schedule]]\nname = \"bedtime\"\nchildren = [\"Max\"]\nfrom = \"00:00\"\nto = \"00:00\"\nallow_only = true\n",
    )
    .await;
    let adult = page(admin, "/blocked?name=adult.example", "").await;
    assert!(adult.contains("only for grown-ups"), "{adult}");
    assert!(!adult.contains("bedtime"), "{adult}");
    let fine = page(admin, "/blocked?name=fine.example", "").await;
    assert!(fine.contains("It is bedtime"), "{fine}");
    let me = page(admin, "/me", "").await;
    assert!(me.contains("bedtime: 00:00 to 00:00"), "{me}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtering_is_on_shows_the_time_left_and_warns_near_the_end() {
    let (d, admin, _keep) = start(
        "\n[[child]]\nname = \"Lea\"\nprofile = \"teen\"\naddresses = [\"127.0.0.1\"]\n\
         services = { youtube = { budget = \"5m\" }, roblox = { budget = \"1h\" } }\n",
    )
    .await;
    d.daemon.refresh();
    let me = page(admin, "/me", "en").await;
    assert!(me.contains("Time left today"), "{me}");
    assert!(
        me.contains(
            "YouTube: 5 of 5 minutes left. Only a few minutes left: finish what you are doing."
        ),
        "{me}"
    );
    assert!(me.contains("Roblox: 60 of 60 minutes left</li>"), "{me}");
    let de = page(admin, "/me", "de").await;
    assert!(de.contains("Roblox: noch 60 von 60 Minuten"), "{de}");
    d.stop().await;
}
