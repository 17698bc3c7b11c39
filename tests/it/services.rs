//! Services per child (`services = { tiktok = "block", … }`): blocked,
//! allowed whatever the categories say, open only in some hours, or on a
//! daily budget of active minutes — over the wire, on a clock the test
//! moves.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nestguard::clock::ManualClock;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

/// Names of several services, with long TTLs upstream.
const NAMES: &[&str] = &[
    "www.tiktok.com.",
    "www.instagram.com.",
    "www.roblox.com.",
    "www.youtube.com.",
    "i.ytimg.com.",
    "rr3---sn-4g5e6nzl.googlevideo.com.",
    "youtubei.googleapis.com.",
    "www.google.com.",
    "childline.org.uk.",
    "site.example.",
];

async fn upstream() -> FakeUpstream {
    let up = FakeUpstream::start().await;
    for name in NAMES {
        up.set_a(name, OPEN, 300);
    }
    up.set_a("restrictmoderate.youtube.com.", OPEN, 300);
    up.set_a("forcesafesearch.google.com.", OPEN, 300);
    up
}

fn blocked(m: &hickory_proto::op::Message) -> bool {
    m.metadata.response_code == ResponseCode::NXDomain
}

fn why(m: &hickory_proto::op::Message) -> String {
    ede(m.edns.as_ref()).map(|(_, t)| t).unwrap_or_default()
}

/// Monday 12:00, local and UTC alike (so the budget day and the date agree).
fn monday_noon(clock: &ManualClock) {
    clock.set_timestamp("2026-12-07T12:00:00Z".parse().unwrap());
    clock.set(nestguard::clock::LocalTime {
        weekday: 0,
        minute: 12 * 60,
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_are_blocked_allowed_and_opened_per_child() {
    let up = upstream().await;
    // Sam and Ada are teens (short videos and games are not a blocked
    // category for them), Leo and Mia are 9–12 (they are).
    let config = format!(
        "{}\
         [profile.teen]\nservices = {{ roblox = \"block\" }}\n\
         [[child]]\nname = \"Sam\"\nprofile = \"teen\"\naddresses = [\"127.0.0.7\"]\n\
         services = {{ tiktok = \"block\", youtube = \"block\", roblox = {{ from = \"16:00\", to = \"18:00\" }} }}\n\
         [[child]]\nname = \"Ada\"\nprofile = \"teen\"\naddresses = [\"127.0.0.8\"]\n\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"127.0.0.5\"]\n\
         services = {{ tiktok = \"allow\" }}\n\
         [[child]]\nname = \"Mia\"\nprofile = \"child\"\naddresses = [\"127.0.0.6\"]\n",
        udp_upstream(up.addr(), "1s"),
    );
    let (d, clock) = TestDaemon::start_manual(&config).await;
    monday_noon(&clock);
    d.daemon.refresh();
    let ask = |src: &'static str, name: &'static str| query_from(src, d.addr, name, RecordType::A);

    // Blocked for Sam by a parent, with the reason in the answer; every
    // host of the service, not just its apex.
    let m = ask("127.0.0.7", "www.tiktok.com").await;
    assert!(blocked(&m));
    assert_eq!(
        ede(m.edns.as_ref()),
        Some((17, "service: tiktok blocked by a parent".to_string()))
    );
    assert!(blocked(&ask("127.0.0.7", "i.ytimg.com").await));
    assert!(blocked(
        &ask("127.0.0.7", "rr3---sn-4g5e6nzl.googlevideo.com").await
    ));
    // Blocking YouTube leaves Google Search alone, and help lines open.
    assert!(!blocked(&ask("127.0.0.7", "www.google.com").await));
    assert!(!blocked(&ask("127.0.0.7", "childline.org.uk").await));
    // Ada, in the same band, has none of Sam's rules.
    assert!(!blocked(&ask("127.0.0.8", "www.tiktok.com").await));
    assert!(!blocked(&ask("127.0.0.8", "www.youtube.com").await));

    // Roblox: the band's rule blocks it for Ada; Sam's own hours replace it.
    let m = ask("127.0.0.8", "www.roblox.com").await;
    assert_eq!(why(&m), "service: roblox blocked by a parent");
    let m = ask("127.0.0.7", "www.roblox.com").await;
    assert!(blocked(&m));
    assert_eq!(why(&m), "schedule: roblox closed now");
    clock.set(nestguard::clock::LocalTime {
        weekday: 0,
        minute: 16 * 60 + 30,
    });
    d.daemon.refresh();
    assert!(!blocked(&ask("127.0.0.7", "www.roblox.com").await));
    clock.set(nestguard::clock::LocalTime {
        weekday: 0,
        minute: 18 * 60,
    });
    d.daemon.refresh();
    assert!(blocked(&ask("127.0.0.7", "www.roblox.com").await));

    // Leo's parents allow TikTok though short videos are blocked for
    // 9–12s; Mia's do not.
    assert!(!blocked(&ask("127.0.0.5", "www.tiktok.com").await));
    let m = ask("127.0.0.6", "www.tiktok.com").await;
    assert!(blocked(&m));
    assert!(why(&m) == "short-video", "{}", why(&m));
    // An allowed service opens only itself: social media stay blocked for Leo.
    assert!(blocked(&ask("127.0.0.5", "www.instagram.com").await));

    // `explain` says the same in words.
    let cfg = test_config(&config, &d.state);
    let sam =
        nestguard::commands::explain_client(&cfg, "www.tiktok.com", 1, "127.0.0.7", None).unwrap();
    assert!(
        sam.contains("BLOCKED: the service TikTok: a parent blocked it"),
        "{sam}"
    );
    d.stop().await;
}

/// A deterministic stream of gaps between lookups, 30–120 s.
struct Gaps(u64);

impl Gaps {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        30 + (self.0 >> 33) % 91
    }
}

/// Video hosts a player asks for, in turn.
const VIDEO: &[&str] = &[
    "www.youtube.com",
    "rr3---sn-4g5e6nzl.googlevideo.com",
    "i.ytimg.com",
    "youtubei.googleapis.com",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_budget_is_estimated_from_lookups_enforced_granted_and_reset_at_midnight() {
    let up = upstream().await;
    let config = format!(
        "{}\
         [[child]]\nname = \"Leo\"\nprofile = \"teen\"\naddresses = [\"127.0.0.5\"]\n\
         services = {{ youtube = {{ budget = \"60m\" }} }}\n\
         [[child]]\nname = \"Mia\"\nprofile = \"teen\"\naddresses = [\"127.0.0.6\"]\n",
        udp_upstream(up.addr(), "1s"),
    );
    let (d, clock) = TestDaemon::start_manual(&config).await;
    monday_noon(&clock);
    d.daemon.refresh();
    let used = || {
        let b = d.daemon.budgets_now();
        assert_eq!(b.len(), 1, "{b:?}");
        b[0].used
    };
    let mut gaps = Gaps(7);
    let mut host = 0usize;
    // Watches for `minutes`: a lookup every 30–120 s, on several hosts,
    // from the first second to the last. Returns the seconds watched
    // before the first blocked answer, if one came, and before the
    // estimate reached what is allowed.
    let mut watch = async |minutes: u64| -> (Option<u64>, Option<u64>) {
        let mut t = 0;
        let mut used_up = None;
        loop {
            let b = d.daemon.budgets_now();
            if used_up.is_none() && b[0].used >= b[0].allowed() {
                used_up = Some(t);
            }
            let m = query_from(
                "127.0.0.5",
                d.addr,
                VIDEO[host % VIDEO.len()],
                RecordType::A,
            )
            .await;
            host += 1;
            if blocked(&m) {
                assert_eq!(why(&m), "budget: youtube 60 min used");
                // The daemon also re-reckons the budgets every second on
                // its own: it may have closed this one since the look above.
                let b = d.daemon.budgets_now();
                if used_up.is_none() && b[0].used >= b[0].allowed() {
                    used_up = Some(t);
                }
                return (Some(t), used_up);
            }
            // Answers for a budgeted service live a minute at most, so the
            // device keeps asking while it watches (restricted mode's
            // aliases too).
            assert!(m.answers.iter().all(|r| r.ttl <= 60), "{m:?}");
            let gap = gaps.next();
            if t + gap > minutes * 60 {
                clock.advance(Duration::from_secs(minutes * 60 - t));
                d.daemon.refresh();
                return (None, used_up);
            }
            t += gap;
            clock.advance(Duration::from_secs(gap));
            d.daemon.refresh();
        }
    };
    let idle = |minutes: u64| {
        clock.advance(Duration::from_secs(minutes * 60));
        d.daemon.refresh();
    };

    // A 40-minute video session, in three parts with breaks between them.
    assert_eq!(watch(15).await, (None, None));
    idle(10);
    assert_eq!(watch(15).await, (None, None));
    idle(8);
    assert_eq!(watch(10).await, (None, None));
    idle(20);
    let estimate = used();
    assert!(
        (35..=45).contains(&estimate),
        "40 minutes watched, {estimate} estimated"
    );
    // Mia's lookups are not Leo's, and other names are not YouTube.
    query_from("127.0.0.6", d.addr, "www.youtube.com", RecordType::A).await;
    query_from("127.0.0.5", d.addr, "site.example", RecordType::A).await;
    clock.advance(Duration::from_secs(60));
    d.daemon.refresh();
    assert_eq!(used(), estimate);

    // Watching on: the budget runs out (as counted) and the block comes
    // within two minutes of that; against the 20 minutes really left, the
    // cut-off is off by no more than the estimate's error.
    let (cut, used_up) = watch(40).await;
    let (cut, used_up) = (cut.expect("blocked"), used_up.expect("used up"));
    assert!(
        cut >= used_up && cut <= used_up + 120,
        "used up after {used_up} s, blocked after {cut} s"
    );
    assert!(
        cut.abs_diff(20 * 60) <= 5 * 60,
        "20 minutes were left; blocked after {cut} s"
    );
    // Help lines stay reachable; other children are not touched.
    assert!(!blocked(
        &query_from("127.0.0.5", d.addr, "childline.org.uk", RecordType::A).await
    ));
    assert!(!blocked(
        &query_from("127.0.0.6", d.addr, "www.youtube.com", RecordType::A).await
    ));

    // A parent grants half an hour: open again, for about that long.
    let grant = nestguard::engine::grant_for(
        d.daemon.resolver.engine().budgets(),
        "leo",
        "youtube",
        30,
        (
            nestguard::clock::Clock::manual(clock.clone()).minute(),
            nestguard::clock::Clock::manual(clock.clone()).local(),
            clock_today(&clock),
        ),
        "parent mum",
    )
    .unwrap();
    nestguard::policy::budget::add_grant(&nestguard::state::layout::grants(d.state.path()), grant)
        .unwrap();
    d.daemon.refresh();
    assert_eq!(d.daemon.budgets_now()[0].granted, 30);
    let (cut, used_up) = watch(60).await;
    let (cut, used_up) = (cut.expect("blocked again"), used_up.expect("used up"));
    assert!(
        cut <= used_up + 120,
        "used up after {used_up} s, blocked after {cut} s"
    );
    assert!(
        cut.abs_diff(30 * 60) <= 5 * 60,
        "30 minutes granted; blocked after {cut} s"
    );

    // Local midnight: a new day, a new budget, and yesterday's grant gone.
    let now = nestguard::clock::Clock::manual(clock.clone()).local();
    idle(u64::from(24 * 60 - now.minute) + 1);
    assert!(used() <= 1, "{}", used());
    assert_eq!(d.daemon.budgets_now()[0].granted, 0);
    assert!(!blocked(
        &query_from("127.0.0.5", d.addr, "www.youtube.com", RecordType::A).await
    ));
    d.stop().await;
}

#[test]
fn service_mistakes_are_errors_at_their_line() {
    let err = |text: &str| {
        nestguard::config::Config::parse(text, "family.toml", None)
            .unwrap_err()
            .to_string()
    };
    let e =
        err("[[child]]\nname = \"Leo\"\nprofile = \"teen\"\nservices = { tiktokk = \"block\" }\n");
    assert!(
        e.starts_with("family.toml:4:")
            && e.contains("no service `tiktokk`")
            && e.contains("tiktok"),
        "{e}"
    );
    let e = err(
        "[[child]]\nname = \"Leo\"\nprofile = \"teen\"\nservices = { roblox = { from = \"16:00\" } }\n",
    );
    assert!(e.contains("give both from and to"), "{e}");
    let e = err(
        "[[child]]\nname = \"Leo\"\nprofile = \"teen\"\nservices = { roblox = { from = \"25:00\", to = \"18:00\" } }\n",
    );
    assert!(
        e.starts_with("family.toml:4:") && e.contains("HH:MM"),
        "{e}"
    );
}

#[test]
fn the_grant_command_writes_todays_extra_time_and_names_the_budgets() {
    let state = TempDir::new();
    let config = "[[child]]\nname = \"Leo\"\nprofile = \"teen\"\naddresses = [\"127.0.0.5\"]\n\
                  services = { youtube = { budget = \"60m\" } }\n";
    let path = state.join("nestguard.toml");
    std::fs::write(&path, test_config_text(config, &state)).unwrap();
    let said = stdout_of(&["grant", "Leo", "youtube", "30m"], &path, &[]);
    assert!(
        said.starts_with("leo has 30 more minutes of youtube today"),
        "{said}"
    );
    let grants =
        nestguard::policy::budget::load_grants(&nestguard::state::layout::grants(state.path()))
            .unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!((grants[0].who.as_str(), grants[0].minutes), ("leo", 30));
    let (code, _, out) = crate::support::cli::run(&["grant", "leo", "tiktok", "30m"], &path);
    assert_ne!(code, Some(0));
    assert!(
        out.contains("no daily budget for `tiktok`; budgets: youtube"),
        "{out}"
    );
}
