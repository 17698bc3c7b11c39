//! Exam mode over the wire: `nestguard exam start` makes the filter
//! allowlist-only (the exam's sites and the profile's help lines), blocks AI
//! chatbots and filter bypass whatever the exam's list says, takes a
//! teacher's overrides that expire, and ends by itself; an `[[exam]]` window
//! in a `conf.d/` drop-in holds inside its window only. Time moves on a
//! manual clock.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::support::cli::run;
use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nestguard::app::Daemon;
use nestguard::config::{Config, ConfigSource};

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

async fn upstream() -> FakeUpstream {
    let up = FakeUpstream::start().await;
    for name in [
        "site.example.",
        "wiki.example.",
        "www.wiki.example.",
        "dictionary.example.",
        "childline.org.uk.",
        "chatgpt.com.",
        "airvpn.org.",
    ] {
        up.set_a(name, OPEN, 300);
    }
    up
}

fn blocked(m: &hickory_proto::op::Message) -> bool {
    m.metadata.response_code == ResponseCode::NXDomain
}

const CHILDREN: &str = "[[child]]\nname = \"Leo\"\nprofile = \"teen\"\naddresses = [\"127.0.0.5\"]\n\
     [[child]]\nname = \"Mia\"\nprofile = \"child\"\naddresses = [\"127.0.0.6\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exam_is_allowlist_only_takes_overrides_and_ends_by_itself() {
    let up = upstream().await;
    let config = format!("{}{CHILDREN}", udp_upstream(up.addr(), "1s"));
    let (d, clock) = TestDaemon::start_manual(&config).await;
    let ask = |src: &'static str, name: &'static str| query_from(src, d.addr, name, RecordType::A);
    assert!(!blocked(&ask("127.0.0.5", "site.example").await));
    assert!(!blocked(&ask("127.0.0.5", "chatgpt.com").await));

    // The teacher starts a 90-minute exam with an allow file that also
    // (wrongly) names a chatbot and a VPN.
    let path = d.state.join("nestguard.toml");
    std::fs::write(&path, test_config_text(&config, &d.state)).unwrap();
    let allow = d.state.join("exam-sites.txt");
    std::fs::write(
        &allow,
        "# sites for the history exam\nwiki.example\nchatgpt.com\nairvpn.org\n",
    )
    .unwrap();
    let said = stdout_of(
        &[
            "exam",
            "start",
            "--for",
            "90m",
            "--allow",
            allow.to_str().unwrap(),
        ],
        &path,
        &[],
    );
    assert!(said.starts_with("exam for all until"), "{said}");
    d.daemon.refresh();

    // The manual clock shows 12:00 local time: the exam ends at 13:30.
    let m = ask("127.0.0.5", "site.example").await;
    assert!(blocked(&m), "a normal site is blocked");
    assert_eq!(
        ede(m.edns.as_ref()),
        Some((17, "exam: until 13:30".to_string()))
    );
    assert!(
        !blocked(&ask("127.0.0.5", "wiki.example").await),
        "exam site"
    );
    assert!(
        !blocked(&ask("127.0.0.5", "www.wiki.example").await),
        "and its subdomains"
    );
    for child in ["127.0.0.5", "127.0.0.6"] {
        assert!(
            !blocked(&ask(child, "childline.org.uk").await),
            "help lines stay reachable"
        );
    }
    let m = ask("127.0.0.5", "chatgpt.com").await;
    assert!(blocked(&m), "a chatbot named in the allow file");
    assert_eq!(
        ede(m.edns.as_ref()),
        Some((17, "exam: until 13:30".to_string()))
    );
    let m = ask("127.0.0.5", "airvpn.org").await;
    assert!(blocked(&m), "a bypass name named in the allow file");
    assert!(
        ede(m.edns.as_ref()).unwrap().1 == "bypass",
        "{:?}",
        ede(m.edns.as_ref())
    );
    let metrics = d.metrics();
    assert!(
        metrics.contains("nestguard_exam_blocked_total 2"),
        "{metrics}"
    );
    let status = nestguard::status::read(d.state.path()).unwrap();
    let exam = status.exam.expect("status.toml says an exam is on");
    assert_eq!(exam.until, "13:30");
    assert_eq!(exam.profiles.len(), 7, "{:?}", exam.profiles);
    let said = stdout_of(&["exam", "status"], &path, &[]);
    assert!(said.starts_with("exam for all until"), "{said}");
    let said = stdout_of(
        &["explain", "site.example", "--client", "127.0.0.5"],
        &path,
        &[],
    );
    assert!(said.contains("BLOCKED by the exam until"), "{said}");

    // The teacher opens a dictionary for 15 minutes, and lifts the exam for
    // Mia for 10.
    let said = stdout_of(
        &["exam", "allow", "dictionary.example", "--for", "15m"],
        &path,
        &[],
    );
    assert!(
        said.starts_with("dictionary.example is open during the exam until"),
        "{said}"
    );
    stdout_of(&["exam", "lift", "Mia", "--for", "10m"], &path, &[]);
    let lifted_at = jiff::Timestamp::now();
    d.daemon.refresh();
    assert!(!blocked(&ask("127.0.0.5", "dictionary.example").await));
    assert!(
        !blocked(&ask("127.0.0.6", "site.example").await),
        "lifted for Mia"
    );
    assert!(
        blocked(&ask("127.0.0.5", "site.example").await),
        "not for Leo"
    );
    // Both end by themselves (16 minutes on by the daemon's clock, and
    // past what the command line's real clock made).
    advance_past(&clock, lifted_at, Duration::from_secs(16 * 60));
    d.daemon.refresh();
    assert!(blocked(&ask("127.0.0.5", "dictionary.example").await));
    assert!(blocked(&ask("127.0.0.6", "site.example").await));

    // At 13:30 the exam is over and normal filtering is back.
    clock.advance(Duration::from_secs(75 * 60));
    d.daemon.refresh();
    assert!(!blocked(&ask("127.0.0.5", "site.example").await));
    assert!(!blocked(&ask("127.0.0.5", "chatgpt.com").await));
    assert!(
        blocked(&ask("127.0.0.5", "airvpn.org").await),
        "bypass is blocked for teens anyway"
    );
    assert!(
        nestguard::status::read(d.state.path())
            .unwrap()
            .exam
            .is_none()
    );

    // Started again for Leo only (the command reads the real clock, which
    // the daemon's is 91 minutes ahead of), and stopped early.
    stdout_of(
        &["exam", "start", "--for", "3h", "--who", "leo"],
        &path,
        &[],
    );
    d.daemon.refresh();
    assert!(blocked(&ask("127.0.0.5", "site.example").await));
    assert!(
        !blocked(&ask("127.0.0.6", "site.example").await),
        "Mia is not in it"
    );
    let said = stdout_of(&["exam", "stop"], &path, &[]);
    assert!(said.starts_with("exam ended"), "{said}");
    d.daemon.refresh();
    assert!(!blocked(&ask("127.0.0.5", "site.example").await));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exam_drop_in_holds_inside_its_window_only() {
    let up = upstream().await;
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(dir.join("sites.txt"), "dictionary.example\n").unwrap();
    // Pushed by the school's fleet tool: Mondays 12:30–13:30 for everyone.
    std::fs::write(
        dir.join("conf.d/50-exam.toml"),
        "[[exam]]\nname = \"maths\"\nwho = [\"all\"]\ndays = [\"mon\"]\n\
         from = \"12:30\"\nto = \"13:30\"\nallow = [\"wiki.example\"]\n\
         allow_file = \"../sites.txt\"\n",
    )
    .unwrap();
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        test_config_text(
            &format!("{}{CHILDREN}", udp_upstream(up.addr(), "1s")),
            &dir,
        ),
    )
    .unwrap();
    let config = Config::load(&ConfigSource::File(path.clone())).unwrap();
    let (clock, env) = manual_env();
    let d = Daemon::start_in(&config, env).await.unwrap();
    let addr = d.addrs[0];
    let ask = |name: &'static str| query_from("127.0.0.5", addr, name, RecordType::A);

    // Monday 12:00: not yet.
    assert!(!blocked(&ask("site.example").await));
    clock.advance(Duration::from_secs(30 * 60));
    d.refresh();
    let m = ask("site.example").await;
    assert!(blocked(&m), "inside the window");
    assert_eq!(
        ede(m.edns.as_ref()),
        Some((17, "exam: until 13:30".to_string()))
    );
    assert!(!blocked(&ask("wiki.example").await), "allow");
    assert!(!blocked(&ask("dictionary.example").await), "allow_file");
    assert!(!blocked(&ask("childline.org.uk").await), "help line");
    assert!(blocked(&ask("chatgpt.com").await), "chatbot");
    let said = stdout_of(&["exam", "status"], &path, &[]);
    assert!(
        said.contains("[[exam]] \"maths\" 12:30–13:30 on mon"),
        "{said}"
    );
    // 13:30: over.
    clock.advance(Duration::from_secs(60 * 60));
    d.refresh();
    assert!(!blocked(&ask("site.example").await));
    assert!(!blocked(&ask("chatgpt.com").await));
    d.shutdown().await;
}

#[test]
fn exam_mistakes_are_errors_at_their_line() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    let path = dir.join("nestguard.toml");
    std::fs::write(&path, test_config_text(CHILDREN, &dir)).unwrap();
    let exam = dir.join("conf.d/50-exam.toml");
    let check = |text: &str| {
        std::fs::write(&exam, text).unwrap();
        let (code, _, err) = run(&["check"], &path);
        assert_eq!(code, Some(2), "{err}");
        err
    };
    let err = check("[[exam]]\nname = \"x\"\nwho = [\"Zoe\"]\nfrom = \"09:00\"\nto = \"10:00\"\n");
    assert!(
        err.contains("50-exam.toml:3:8: no child, profile or [[client]] named `Zoe`"),
        "{err}"
    );
    let err = check("[[exam]]\nname = \"x\"\nwho = [\"all\"]\nfrom = \"9am\"\nto = \"10:00\"\n");
    assert!(
        err.contains("50-exam.toml:4:8: `9am` is not a time of day"),
        "{err}"
    );
    let err = check(
        "[[exam]]\nname = \"x\"\nwho = [\"all\"]\nfrom = \"09:00\"\nto = \"10:00\"\nallow = [\"ok.example\", \"bad..example\"]\n",
    );
    assert!(err.contains("50-exam.toml:6:24: `bad..example`"), "{err}");
    std::fs::write(dir.join("sites.txt"), "ok.example\n  not a name\n").unwrap();
    let err = check(
        "[[exam]]\nname = \"x\"\nwho = [\"all\"]\nfrom = \"09:00\"\nto = \"10:00\"\nallow_file = \"../sites.txt\"\n",
    );
    assert!(err.contains("sites.txt:2:3: `not a name`"), "{err}");

    // The command line checks the allow file before it starts anything.
    std::fs::remove_file(&exam).unwrap();
    let (code, _, err) = run(
        &[
            "exam",
            "start",
            "--for",
            "1h",
            "--allow",
            dir.join("sites.txt").to_str().unwrap(),
        ],
        &path,
    );
    assert_ne!(code, Some(0));
    assert!(err.contains("sites.txt:2:3: `not a name`"), "{err}");
    assert!(!dir.join("exam.toml").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lines_are_reachable_in_every_mode() {
    let up = upstream().await;
    // Leo (teen), Mia (child), an unfiltered machine and a young child's tablet;
    // bedtime 13:00–14:00 for teens and Mia.
    let config = format!(
        "{}{CHILDREN}\
         [[client]]\nname = \"staff\"\nprofile = \"unfiltered\"\naddresses = [\"127.0.0.7\"]\n\
         [[client]]\nname = \"tablet\"\nprofile = \"young-child\"\naddresses = [\"127.0.0.8\"]\n\
         [[schedule]]\nprofile = \"teen\"\nchildren = [\"Mia\"]\nname = \"bedtime\"\n\
         from = \"13:00\"\nto = \"14:00\"\nallow_only = true\n",
        udp_upstream(up.addr(), "1s")
    );
    let (d, clock) = TestDaemon::start_manual(&config).await;
    let path = d.state.join("nestguard.toml");
    std::fs::write(&path, test_config_text(&config, &d.state)).unwrap();
    let reachable = |mode: &'static str| {
        let addr = d.addr;
        async move {
            for client in ["127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8"] {
                let m = query_from(client, addr, "childline.org.uk", RecordType::A).await;
                assert!(!blocked(&m), "{mode}: help line blocked for {client}");
            }
        }
    };
    reachable("normal").await;
    stdout_of(&["pause", "Leo", "30m"], &path, &[]);
    stdout_of(&["pause", "Mia", "30m"], &path, &[]);
    d.daemon.refresh();
    assert!(blocked(
        &query_from("127.0.0.5", d.addr, "site.example", RecordType::A).await
    ));
    reachable("paused").await;
    stdout_of(&["exam", "start", "--for", "3h"], &path, &[]);
    d.daemon.refresh();
    assert!(blocked(
        &query_from("127.0.0.7", d.addr, "site.example", RecordType::A).await
    ));
    reachable("paused and in an exam").await;
    stdout_of(&["resume", "Leo"], &path, &[]);
    stdout_of(&["resume", "Mia"], &path, &[]);
    d.daemon.refresh();
    reachable("in an exam").await;
    clock.advance(Duration::from_secs(61 * 60));
    d.daemon.refresh();
    reachable("in an exam at bedtime").await;
    stdout_of(&["exam", "stop"], &path, &[]);
    d.daemon.refresh();
    assert!(blocked(
        &query_from("127.0.0.5", d.addr, "site.example", RecordType::A).await
    ));
    reachable("bedtime").await;
    d.stop().await;
}
