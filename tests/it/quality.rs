//! Filtering quality (issue 20), over real sockets: the reason a block is
//! reported under does not depend on list order or rule specificity, and
//! public institutions stay reachable when an opinion list names them.

use std::net::Ipv4Addr;

use crate::support::cli::run;
use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

/// `[[rules.list]]` tables for `(file, category, text)`, written into `dir`, in this order.
fn lists(dir: &TempDir, lists: &[(&str, &str, &str)]) -> String {
    let mut out = String::new();
    for (file, category, text) in lists {
        std::fs::write(dir.join(file), text).unwrap();
        out.push_str(&format!(
            "[[rules.list]]\npath = \"{}\"\ncategory = \"{category}\"\n",
            dir.join(file).display()
        ));
    }
    out
}

/// The category a blocked answer reports (from its EDE text), or None when not blocked.
async fn reason(d: &TestDaemon, name: &str) -> Option<String> {
    let answer = query_udp(d.addr, name, RecordType::A).await;
    if answer.metadata.response_code != ResponseCode::NXDomain {
        return None;
    }
    let (_, text) = ede(answer.edns.as_ref())?;
    Some(text.split(':').next()?.to_string())
}

async fn upstream(names: &[&str]) -> FakeUpstream {
    let up = FakeUpstream::start().await;
    for n in names {
        up.set_a(&format!("{n}."), Ipv4Addr::new(192, 0, 2, 80), 300);
    }
    up
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reported_category_follows_precedence_whatever_the_list_order() {
    let names = ["www.clip.example", "gamble-porn.example", "both.example"];
    let up = upstream(&names).await;
    let files = [
        // The more specific rule is social media's; short video comes first in precedence.
        (
            "social.txt",
            "social-media",
            "www.clip.example\nboth.example\n",
        ),
        ("video.txt", "short-video", "clip.example\n"),
        // A gambling list names it; the adult keyword `porn` matches it too.
        ("gambling.txt", "gambling", "gamble-porn.example\n"),
        // Security first, whatever else lists it.
        ("malware.txt", "scams-malware", "both.example\n"),
        ("bypass.txt", "bypass", "both.example\n"),
    ];
    let mut seen = Vec::new();
    for reversed in [false, true] {
        let dir = TempDir::new();
        let mut order = files.to_vec();
        if reversed {
            order.reverse();
        }
        let d = TestDaemon::with_upstream(&up, &lists(&dir, &order)).await;
        let mut got = Vec::new();
        for n in names {
            got.push(reason(&d, n).await);
        }
        d.stop().await;
        seen.push(got);
    }
    let want = vec![
        Some("short-video".to_string()),
        Some("adult".to_string()),
        Some("scams-malware".to_string()),
    ];
    assert_eq!(seen[0], want, "lists in one order");
    assert_eq!(seen[1], want, "lists in the other order");
}

/// Config text with `state` as the state folder, `feeds` as subscribed lists
/// (`(name, category, text)`, fetched from `file://` URLs by `nestguard
/// update`, so they are a third party's lists) and `own` as the parent's lists.
fn with_feeds(
    dir: &TempDir,
    up: &FakeUpstream,
    feeds: &[(&str, &str, &str)],
    own: &[(&str, &str, &str)],
) -> String {
    let mut text = format!(
        "{}[state]\ndir = \"{}\"\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("state").display()
    );
    for (name, category, body) in feeds {
        let file = dir.join(format!("{name}.src"));
        std::fs::write(&file, body).unwrap();
        text.push_str(&format!(
            "[[update.list]]\nname = \"{name}\"\nurl = \"file://{}\"\ncategory = \"{category}\"\n",
            file.display()
        ));
    }
    text.push_str(&lists(dir, own));
    let cfg = dir.join("nestguard.toml");
    std::fs::write(&cfg, &text).unwrap();
    let (code, out, err) = run(&["update"], &cfg);
    assert_eq!(code, Some(0), "{out}{err}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_institutions_in_an_opinion_list_stay_reachable_but_not_in_a_security_list() {
    let institutions = [
        "agency.example.gov",
        "lectures.example.edu",
        "media.example.ac.uk",
    ];
    let mut all = institutions.to_vec();
    all.extend(["pirate.example", "nasa.gov", "own.example.gov"]);
    let up = upstream(&all).await;
    let piracy = "agency.example.gov\nlectures.example.edu\nexample.ac.uk\npirate.example\n";

    // A subscribed piracy list: the institutions stay reachable, the rest is blocked.
    let dir = TempDir::new();
    let config = with_feeds(
        &dir,
        &up,
        &[("Piracy Feed", "piracy", piracy)],
        // The parent's own piracy list still blocks a .gov name.
        &[("own.txt", "piracy", "own.example.gov\n")],
    );
    let d = TestDaemon::start(&config).await;
    for n in institutions {
        assert_eq!(reason(&d, n).await, None, "{n} in a piracy list");
    }
    // The Block List Project's piracy list names nasa.gov; the shipped copy leaves it out.
    assert_eq!(reason(&d, "nasa.gov").await, None);
    assert_eq!(
        reason(&d, "pirate.example").await.as_deref(),
        Some("piracy")
    );
    assert_eq!(
        reason(&d, "own.example.gov").await.as_deref(),
        Some("piracy")
    );
    d.stop().await;

    // `check` names each line the guard overrides, as FILE:LINE.
    let (code, out, err) = run(&["check"], &dir.join("nestguard.toml"));
    assert_eq!(code, Some(0), "{out}{err}");
    let feed = dir.join("state/lists/piracy-feed.txt");
    for (line, name) in [
        (1, "agency.example.gov"),
        (2, "lectures.example.edu"),
        (3, "example.ac.uk"),
    ] {
        let want = format!(
            "{}:{line}: {name}: kept reachable, public institution",
            feed.display()
        );
        assert!(err.contains(&want), "{want}\n{err}");
    }
    assert!(
        !err.contains("own.example.gov"),
        "the parent's own rule is not overridden: {err}"
    );

    // The same names in a security list are blocked.
    let dir = TempDir::new();
    let security = institutions.join("\n");
    let config = with_feeds(
        &dir,
        &up,
        &[
            ("Piracy Feed", "piracy", piracy),
            ("Malware Feed", "scams-malware", &security),
        ],
        &[],
    );
    let d = TestDaemon::start(&config).await;
    for n in institutions {
        assert_eq!(reason(&d, n).await.as_deref(), Some("scams-malware"), "{n}");
    }
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribed_line_that_blocks_a_whole_portal_is_kept_out_and_reported() {
    let names = ["teacher.narod.ru", "narod.ru", "bad.narod.ru", "mail.ru"];
    let up = upstream(&names).await;
    let dir = TempDir::new();
    let config = with_feeds(
        &dir,
        &up,
        &[("Adult Feed", "adult", "narod.ru\nbad.narod.ru\n")],
        // The parent's own list may block a portal whole; check still says so.
        &[("own.txt", "social-media", "mail.ru\n")],
    );
    let d = TestDaemon::start(&config).await;
    assert_eq!(reason(&d, "teacher.narod.ru").await, None);
    assert_eq!(reason(&d, "narod.ru").await, None);
    assert_eq!(reason(&d, "bad.narod.ru").await.as_deref(), Some("adult"));
    assert_eq!(reason(&d, "mail.ru").await.as_deref(), Some("social-media"));
    d.stop().await;
    let (code, out, err) = run(&["check"], &dir.join("nestguard.toml"));
    assert_eq!(code, Some(0), "{out}{err}");
    let feed = dir.join("state/lists/adult-feed.txt");
    let want = format!(
        "{}:1: narod.ru: kept out, the whole portal narod.ru",
        feed.display()
    );
    assert!(err.contains(&want), "{want}\n{err}");
    let want = format!(
        "{}:1: mail.ru: blocks, the whole portal mail.ru",
        dir.join("own.txt").display()
    );
    assert!(err.contains(&want), "{want}\n{err}");
}
