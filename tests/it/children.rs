//! Children as first-class things in the config: each child's own settings
//! over the wire and in `explain`, counted and reported apart from another
//! child in the same band, a birthday that waits for a parent, and a pause
//! that ends by itself.

use std::net::Ipv4Addr;

use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use nestguard::activity::report;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
const YT_STRICT: Ipv4Addr = Ipv4Addr::new(216, 239, 38, 120);
const YT_MODERATE: Ipv4Addr = Ipv4Addr::new(216, 239, 38, 119);

async fn upstream() -> FakeUpstream {
    let up = FakeUpstream::start().await;
    for name in [
        "game.example.",
        "homework.example.",
        "site.example.",
        "childline.org.uk.",
        "www.youtube.com.",
    ] {
        up.set_a(name, OPEN, 300);
    }
    up.set_a("restrict.youtube.com.", YT_STRICT, 300);
    up.set_a("restrictmoderate.youtube.com.", YT_MODERATE, 300);
    up
}

/// `game.example` and `homework.example` in `gaming`, `bad.example` in `adult`.
fn lists(dir: &TempDir) -> String {
    std::fs::write(dir.join("gaming.txt"), "game.example\nhomework.example\n").unwrap();
    std::fs::write(dir.join("adult.txt"), "bad.example\n").unwrap();
    format!(
        "[[rules.list]]\npath = \"{}\"\ncategory = \"gaming\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n",
        dir.join("gaming.txt").display(),
        dir.join("adult.txt").display()
    )
}

fn blocked(m: &hickory_proto::op::Message) -> bool {
    m.metadata.response_code == ResponseCode::NXDomain
}

/// Where a safe-search answer points: the CNAME target's address.
fn youtube(m: &hickory_proto::op::Message) -> Vec<Ipv4Addr> {
    assert!(
        matches!(m.answers.first().map(|r| &r.data), Some(RData::CNAME(_))),
        "{m:?}"
    );
    a_records(m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_childs_own_settings_hold_over_the_wire_and_in_explain() {
    let up = upstream().await;
    let dir = TempDir::new();
    // Leo and Mia are both 9–12 ("child"), Sam and Ada both teens.
    let config = format!(
        "{}{}\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"127.0.0.5\"]\n\
         allow_sites = [\"homework.example\"]\nyoutube = \"strict\"\n\
         [[child]]\nname = \"Mia\"\nprofile = \"child\"\naddresses = [\"127.0.0.6\"]\n\
         [[child]]\nname = \"Sam\"\nprofile = \"teen\"\naddresses = [\"127.0.0.7\"]\n\
         block_categories = [\"gaming\"]\nblock_sites = [\"site.example\"]\n\
         [[child]]\nname = \"Ada\"\nprofile = \"teen\"\naddresses = [\"127.0.0.8\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let d = TestDaemon::start(&config).await;
    let ask = |src: &'static str, name: &'static str| query_from(src, d.addr, name, RecordType::A);

    // The always-allowed site: Leo's, not Mia's, though both are 9–12.
    assert!(!blocked(&ask("127.0.0.5", "homework.example").await));
    assert!(blocked(&ask("127.0.0.6", "homework.example").await));
    assert!(
        blocked(&ask("127.0.0.5", "game.example").await),
        "only the one site"
    );
    // YouTube: strict for Leo, the band's moderate for Mia.
    assert_eq!(
        youtube(&ask("127.0.0.5", "www.youtube.com").await),
        vec![YT_STRICT]
    );
    assert_eq!(
        youtube(&ask("127.0.0.6", "www.youtube.com").await),
        vec![YT_MODERATE]
    );
    // An extra category and an always-blocked site: Sam's, not Ada's.
    assert!(blocked(&ask("127.0.0.7", "game.example").await));
    assert!(!blocked(&ask("127.0.0.8", "game.example").await));
    assert!(blocked(&ask("127.0.0.7", "www.site.example").await));
    assert!(!blocked(&ask("127.0.0.8", "site.example").await));
    // Help lines stay reachable for everyone.
    assert!(!blocked(&ask("127.0.0.7", "childline.org.uk").await));

    // `explain --client` says the same, and names the child.
    let cfg = test_config(&config, &d.state);
    let leo = nestguard::commands::explain_client(&cfg, "homework.example", 1, "127.0.0.5", None)
        .unwrap();
    assert!(
        leo.starts_with("child Leo ([[child]] by address): band child"),
        "{leo}"
    );
    assert!(leo.contains("not blocked"), "{leo}");
    let mia = nestguard::commands::explain_client(&cfg, "homework.example", 1, "127.0.0.6", None)
        .unwrap();
    assert!(mia.contains("BLOCKED: gaming"), "{mia}");
    let sam =
        nestguard::commands::explain_client(&cfg, "game.example", 1, "127.0.0.7", None).unwrap();
    assert!(
        sam.contains("child Sam") && sam.contains("BLOCKED: gaming"),
        "{sam}"
    );
    let sam_site =
        nestguard::commands::explain_client(&cfg, "site.example", 1, "127.0.0.7", None).unwrap();
    assert!(sam_site.contains("BLOCKED: parent-block:sam"), "{sam_site}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_children_in_one_band_are_counted_and_reported_apart() {
    let up = upstream().await;
    let dir = TempDir::new();
    let config = format!(
        "{}{}\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"127.0.0.5\"]\n\
         [[child]]\nname = \"Mia\"\nprofile = \"child\"\naddresses = [\"127.0.0.6\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let d = TestDaemon::start(&config).await;
    for _ in 0..3 {
        query_from("127.0.0.5", d.addr, "site.example", RecordType::A).await;
        query_from("127.0.0.5", d.addr, "game.example", RecordType::A).await;
    }
    query_from("127.0.0.6", d.addr, "bad.example", RecordType::A).await;
    d.daemon.flush_activity().await;
    let db = nestguard::state::layout::activity_db(d.state.path());
    let since = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(1))
        .unwrap();
    let r = report::build(&db, since, None).unwrap();
    let of = |id: &str| {
        r.profiles
            .iter()
            .find(|p| p.profile == id)
            .unwrap_or_else(|| panic!("no {id} in {r:?}"))
    };
    assert_eq!((of("leo").queries, of("leo").blocked), (6, 3));
    assert_eq!((of("mia").queries, of("mia").blocked), (1, 1));
    assert_eq!(
        of("leo").blocked_by_category,
        vec![("gaming".to_string(), 3)]
    );
    assert_eq!(
        of("mia").blocked_by_category,
        vec![("adult".to_string(), 1)]
    );
    // `report --child Mia` is Mia's alone.
    let only = report::build(&db, since, Some("mia")).unwrap();
    assert_eq!(only.profiles.len(), 1);
    let path = d.state.join("nestguard.toml");
    std::fs::write(&path, test_config_text(&config, &d.state)).unwrap();
    let text = stdout_of(&["report", "--child", "Mia", "--since", "1h"], &path, &[]);
    assert!(text.contains("mia") && !text.contains("leo"), "{text}");
    // Each child's privacy follows their band: at 9–12, blocked sites are
    // kept; the teen profile would keep none.
    assert_eq!(of("mia").top_blocked, vec![("bad.example".to_string(), 1)]);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_birthday_that_moves_a_child_up_waits_for_a_parent() {
    let up = upstream().await;
    let dir = TempDir::new();
    // Leo turns 13 on 2027-05-01: from "child" (gaming blocked) to "teen" (not).
    let config = format!(
        "{}{}[[child]]\nname = \"Leo\"\nborn = \"2014-05\"\naddresses = [\"127.0.0.5\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let (clock, env) = manual_env();
    clock.set_timestamp("2027-04-20T12:00:00Z".parse().unwrap());
    let d = TestDaemon::start_in(&config, env).await;
    let game = || query_from("127.0.0.5", d.addr, "game.example", RecordType::A);
    assert!(blocked(&game().await));
    let status = nestguard::status::read(d.state.path()).unwrap();
    let leo = &status.children[0];
    assert_eq!(
        (leo.name.as_str(), leo.band.as_str(), leo.age),
        ("Leo", "child", Some(12))
    );
    let notice = leo.notice.as_deref().unwrap_or_default();
    assert!(
        notice.contains("birthday on 2027-05-01") && notice.contains("`teen`"),
        "{notice}"
    );

    // The birthday passes: the daemon notices by itself, and Leo stays a
    // "child" until a parent confirms.
    clock.set_timestamp("2027-05-02T12:00:00Z".parse().unwrap());
    // The daemon's once-a-second tick notices the new day.
    clock.advance(std::time::Duration::from_secs(2));
    let waiting = bounded_wait(|| {
        let s = nestguard::status::read(d.state.path()).ok()?;
        let n = s.children.first()?.notice.clone()?;
        n.contains("until a parent confirms").then_some(s)
    })
    .await
    .expect("status says a move is waiting");
    assert_eq!(waiting.children[0].band, "child");
    assert_eq!(waiting.children[0].age, Some(13));
    assert!(blocked(&game().await), "no silent change");

    // A parent confirms: Leo is a teen from then on.
    let plans = d.daemon.resolver.engine().children().to_vec();
    let mut recorded = nestguard::policy::children::Recorded::load(d.state.path()).unwrap();
    assert_eq!(
        recorded.confirm(&plans[0], clock_today(&clock)).as_deref(),
        Some("teen")
    );
    recorded.save(d.state.path()).unwrap();
    d.daemon.reload().await.unwrap();
    assert!(!blocked(&game().await));
    assert_eq!(
        nestguard::status::read(d.state.path()).unwrap().children[0].band,
        "teen"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_blocks_everything_but_help_lines_and_ends_by_itself() {
    let up = upstream().await;
    let dir = TempDir::new();
    let config = format!(
        "{}{}\
         [[child]]\nname = \"Leo\"\nprofile = \"teen\"\naddresses = [\"127.0.0.5\"]\n\
         [[child]]\nname = \"Mia\"\nprofile = \"teen\"\naddresses = [\"127.0.0.6\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let (d, clock) = TestDaemon::start_manual(&config).await;
    let ask = |src: &'static str, name: &'static str| query_from(src, d.addr, name, RecordType::A);
    assert!(!blocked(&ask("127.0.0.5", "site.example").await));

    // `nestguard pause leo 30m`, from the command line.
    let path = d.state.join("nestguard.toml");
    std::fs::write(&path, test_config_text(&config, &d.state)).unwrap();
    // The command line runs on the real clock; the daemon's stands where the
    // test puts it, so it is set from the real one around each command (the
    // test holds at any hour, midnight included).
    let said = stdout_of(&["pause", "Leo", "30m"], &path, &[]);
    let paused_at = jiff::Timestamp::now();
    assert!(said.starts_with("paused leo until"), "{said}");
    d.daemon.refresh();
    let m = ask("127.0.0.5", "site.example").await;
    assert!(blocked(&m));
    assert_eq!(
        ede(m.edns.as_ref()),
        Some((17, "paused by a parent".to_string()))
    );
    assert!(
        !blocked(&ask("127.0.0.5", "childline.org.uk").await),
        "help lines stay reachable"
    );
    assert!(
        !blocked(&ask("127.0.0.6", "site.example").await),
        "Mia is not paused"
    );

    // Thirty minutes on, it has ended by itself.
    advance_past(&clock, paused_at, std::time::Duration::from_secs(31 * 60));
    d.daemon.refresh();
    assert!(!blocked(&ask("127.0.0.5", "site.example").await));

    // Paused again until a time of day (the next 23:59 by the real clock,
    // which the daemon is set back to), and resumed by hand.
    clock.set_timestamp(jiff::Timestamp::now());
    stdout_of(&["pause", "leo", "--until", "23:59"], &path, &[]);
    d.daemon.refresh();
    assert!(blocked(&ask("127.0.0.5", "site.example").await));
    let said = stdout_of(&["resume", "leo"], &path, &[]);
    assert!(said.starts_with("resumed leo"), "{said}");
    d.daemon.refresh();
    assert!(!blocked(&ask("127.0.0.5", "site.example").await));
    d.stop().await;
}

#[test]
fn child_mistakes_are_errors_at_their_line() {
    let err = |text: &str| {
        nestguard::config::Config::parse(text, "family.toml", None)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("[[child]]\nname = \"Leo\"\nborn = \"2018-13\"\n"),
        "family.toml:3:8: `2018-13` is not a birth month as YYYY-MM (for example 2018-05)"
    );
    assert!(
        err("[[child]]\nname = \"Leo\"\n").starts_with("family.toml:1:1: child `Leo` needs born")
    );
    assert!(
        err("[[child]]\nname = \"Leo\"\nprofile = \"kid\"\n")
            .starts_with("family.toml:3:11: no profile `kid`; profiles:")
    );
    assert!(
        err("[[child]]\nname = \"Leo\"\nprofile = \"child\"\nblock_categories = [\"gamez\"]\n")
            .starts_with("family.toml:4:21: no category `gamez`")
    );
    assert!(
        err("[[child]]\nname = \"Leo\"\nprofile = \"child\"\n[[child]]\nname = \"leo\"\nprofile = \"teen\"\n")
            .contains("two children are named `leo`")
    );
    assert!(
        err("[[child]]\nname = \"Leo\"\nprofile = \"child\"\nmacs = []\ncolour = \"red\"\n")
            .contains("unknown field `colour`")
    );
    let dir = TempDir::new();
    let schedule = test_config(
        "[[child]]\nname = \"Leo\"\nprofile = \"child\"\n\
         [[schedule]]\nchildren = [\"Zoe\"]\nname = \"bedtime\"\nfrom = \"20:00\"\nto = \"07:00\"\nallow_only = true\n",
        &dir,
    );
    let e = nestguard::engine::Engine::build(&schedule)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no [[child]] named `Zoe`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_has_a_card_per_child_pauses_one_and_gives_a_device_to_another() {
    use crate::support::http::{form_value, http, post_login};
    const PASSWORD: &str = "correct horse battery";
    let up = upstream().await;
    let dir = TempDir::new();
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    let config = format!(
        "{}{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\n\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\nmacs = [\"02:00:5e:10:00:05\"]\nallow_sites = [\"homework.example\"]\n\
         [[child]]\nname = \"Mia\"\nprofile = \"teen\"\naddresses = [\"127.0.0.6\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let (_clock, env) = manual_env_with_neighbours(&[
        ("127.0.0.5", "02:00:5e:10:00:05"),
        ("127.0.0.9", "02:00:5e:10:00:09"),
    ]);
    let d = TestDaemon::start_in(&config, env).await;
    let admin = d.daemon.admin_addr.expect("admin server started");
    let ask = |src: &'static str, name: &'static str| query_from(src, d.addr, name, RecordType::A);
    // The tablet is nobody's yet: the default profile ("child") blocks games.
    assert!(blocked(&ask("127.0.0.9", "game.example").await));

    let login = post_login("127.0.0.1", admin, PASSWORD).await;
    let cookie = login.session_cookie().expect("logged in");
    let get = || {
        let cookie = cookie.clone();
        async move {
            http(
                "127.0.0.1",
                admin,
                "GET",
                "/",
                &[("Cookie", cookie.as_str())],
                "",
            )
            .await
        }
    };
    let page = get().await;
    assert_eq!(page.status, 200);
    let at = page.body.find("name=csrf value=\"").unwrap() + "name=csrf value=\"".len();
    let csrf = page.body[at..].split('"').next().unwrap().to_string();
    // One card per child, in the config's order, each saying what the parent sees.
    let leo = page
        .body
        .find("data-profile=\"leo\"><h2>Leo</h2>")
        .expect("Leo's card");
    let mia = page
        .body
        .find("data-profile=\"mia\"><h2>Mia</h2>")
        .expect("Mia's card");
    assert!(leo < mia);
    assert!(
        page.body
            .contains("For Mia you see categories and times only, no sites"),
        "{}",
        page.body
    );
    let unassigned = &page.body[page.body.find("id=unassigned").expect("unassigned devices")..];
    assert!(
        unassigned.contains("02:00:5e:10:00:09"),
        "the tablet is listed as unassigned"
    );
    assert!(
        !unassigned.contains("02:00:5e:10:00:05"),
        "Leo's phone is his"
    );
    let post = |path: &'static str, body: String| {
        let cookie = cookie.clone();
        async move {
            http(
                "127.0.0.1",
                admin,
                "POST",
                path,
                &[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Cookie", cookie.as_str()),
                ],
                &body,
            )
            .await
        }
    };

    // Pause Leo for 30 minutes, then resume.
    let r = post(
        "/children/leo/pause",
        format!("csrf={}&length=30m", form_value(&csrf)),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    let m = ask("127.0.0.5", "site.example").await;
    assert!(blocked(&m));
    assert_eq!(
        ede(m.edns.as_ref()).map(|e| e.1),
        Some("paused by a parent".into())
    );
    assert!(
        !blocked(&ask("127.0.0.6", "site.example").await),
        "Mia is not paused"
    );
    assert!(get().await.body.contains("Internet paused until"));
    let r = post(
        "/children/leo/resume",
        format!("csrf={}", form_value(&csrf)),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(!blocked(&ask("127.0.0.5", "site.example").await));

    // "This is Mia's tablet": it gets Mia's band (a teen: games are fine).
    let r = post(
        "/devices",
        format!(
            "csrf={}&device={}&child=mia&name=tablet",
            form_value(&csrf),
            form_value("mac:02:00:5e:10:00:09")
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(!blocked(&ask("127.0.0.9", "game.example").await));
    let after = get().await;
    assert!(
        !after.body.contains("id=unassigned"),
        "no longer unassigned: {}",
        after.body
    );
    assert!(
        after.body.contains("is Mia&#39;s") || after.body.contains("is Mia's"),
        "audited"
    );
    let saved = std::fs::read_to_string(nestguard::state::layout::devices(d.state.path())).unwrap();
    assert!(
        saved.contains("child = \"mia\"") && saved.contains("02:00:5e:10:00:09"),
        "{saved}"
    );
    // A wrong form token changes nothing.
    let r = post("/children/leo/pause", "csrf=nope&length=1h".into()).await;
    assert_eq!(r.status, 403);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_target_children_by_name_or_by_their_band() {
    let up = upstream().await;
    let dir = TempDir::new();
    // Monday 12:00 on the test's clock: "homework" is open for Leo alone,
    // "teen evening" for every teen, Sam included.
    let config = format!(
        "{}{}\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"127.0.0.5\"]\n\
         [[child]]\nname = \"Mia\"\nprofile = \"child\"\naddresses = [\"127.0.0.6\"]\n\
         [[child]]\nname = \"Sam\"\nprofile = \"teen\"\naddresses = [\"127.0.0.7\"]\n\
         [[schedule]]\nchildren = [\"Leo\"]\nname = \"homework\"\nfrom = \"11:00\"\nto = \"13:00\"\nallow_only = true\n\
         [[schedule]]\nprofile = \"teen\"\nname = \"teen evening\"\nfrom = \"11:00\"\nto = \"13:00\"\nblock = [\"gaming\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let (d, _clock) = TestDaemon::start_manual(&config).await;
    let ask = |src: &'static str, name: &'static str| query_from(src, d.addr, name, RecordType::A);
    let m = ask("127.0.0.5", "site.example").await;
    assert!(blocked(&m));
    assert_eq!(
        ede(m.edns.as_ref()).map(|e| e.1),
        Some("schedule: homework".into())
    );
    assert!(!blocked(&ask("127.0.0.5", "childline.org.uk").await));
    assert!(
        !blocked(&ask("127.0.0.6", "site.example").await),
        "Mia has no homework window"
    );
    assert!(
        blocked(&ask("127.0.0.7", "game.example").await),
        "Sam is a teen"
    );
    d.stop().await;
}
