//! Promises a parent relies on: bedtime means bedtime (safe-search hosts and
//! YouTube included, and `explain` says what the wire does), an allow says
//! what it lifts, `allow` refuses what it cannot lift, only real loosening is
//! an event, and bypass attempts are counted whatever else blocks the name.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

use crate::support::http::{HttpResponse, form_value, http, post_login};
use crate::support::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use nestguard::app::Environment;
use nestguard::clock::{Clock, LocalTime, ManualClock};
use nestguard::engine::Engine;
use nestguard::explain::{ClientArg, explain_client};
use nestguard::policy::neighbours::KernelNeighbours;
use nestguard::policy::overrides::{self, Scope};
use nestguard::schedule::parse_hhmm;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 90);

fn at(weekday: usize, hhmm: &str) -> LocalTime {
    LocalTime {
        weekday,
        minute: parse_hhmm(hhmm).unwrap(),
    }
}

/// Every host name `rules/safesearch.toml` rewrites, and every target.
fn safe_search_names() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/safesearch.toml"),
    )
    .unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let strings = |v: &toml::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let mut hosts = Vec::new();
    let mut targets = Vec::new();
    for s in doc["search"].as_array().unwrap() {
        hosts.extend(strings(&s["hosts"]));
        targets.push(s["target"].as_str().unwrap().to_string());
    }
    let yt = &doc["youtube"];
    hosts.extend(strings(&yt["hosts"]));
    targets.push(yt["moderate"].as_str().unwrap().to_string());
    targets.push(yt["strict"].as_str().unwrap().to_string());
    (hosts, targets)
}

/// A young child at 127.0.0.1 with a bedtime window from 20:30 to 07:00.
fn bedtime_config(up: &FakeUpstream) -> String {
    format!(
        "{}[policy]\ndefault_profile = \"young-child\"\n\
         [[schedule]]\nprofile = \"young-child\"\nname = \"bedtime\"\nfrom = \"20:30\"\nto = \"07:00\"\nallow_only = true\n",
        udp_upstream(up.addr(), "1s")
    )
}

/// What `explain --client 127.0.0.1 --at T` says of `name`: the decision line.
fn explained(engine: &Engine, name: &str, t: LocalTime, allows: &[overrides::TempAllow]) -> String {
    explain_client(
        engine,
        name,
        1,
        &ClientArg::Ip("127.0.0.1".parse().unwrap()),
        (t, jiff::Timestamp::now(), "then".into()),
        &nestguard::explain::Held {
            allows: allows.to_vec(),
            ..Default::default()
        },
    )
    .unwrap()
}

fn has_cname(m: &Message) -> bool {
    m.answers.iter().any(|r| matches!(r.data, RData::CNAME(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedtime_blocks_every_safe_search_host_and_explain_agrees_with_the_wire() {
    let up = FakeUpstream::start().await;
    let (hosts, targets) = safe_search_names();
    assert!(hosts.len() > 100, "{}", hosts.len());
    for t in &targets {
        up.set_a(&format!("{t}."), OPEN, 300);
    }
    let text = bedtime_config(&up);
    let clock = Arc::new(ManualClock::new(at(0, "12:00")));
    let env = Environment {
        clock: Clock::manual(clock.clone()),
        neighbours: Arc::new(KernelNeighbours),
        ..Environment::system()
    };
    let td = TestDaemon::start_in(&text, env).await;
    let engine = Engine::build(&test_config(&text, &TempDir::new())).unwrap();

    for (time, bedtime) in [(at(0, "12:00"), false), (at(0, "21:30"), true)] {
        clock.set(time);
        td.daemon.refresh();
        for host in &hosts {
            let m = query_udp(td.addr, host, RecordType::A).await;
            let says = explained(&engine, host, time, &[]);
            if bedtime {
                assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "{host}");
                assert_eq!(
                    ede(m.edns.as_ref()),
                    Some((17, "schedule: bedtime".to_string())),
                    "{host}"
                );
                assert!(
                    says.contains("BLOCKED by schedule \"bedtime\""),
                    "{host}: explain says\n{says}"
                );
                assert!(!says.contains("SAFE SEARCH"), "{says}");
            } else {
                assert!(has_cname(&m), "{host}: {m:?}");
                assert!(
                    says.contains("SAFE SEARCH: answered with an alias to"),
                    "{host}: explain says\n{says}"
                );
            }
        }
    }
    td.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_lifts_category_blocks_and_bedtime_only_when_asked() {
    let up = FakeUpstream::start().await;
    for n in [
        "tiktok.com.",
        "roblox.com.",
        "fortnite.com.",
        "minecraft.net.",
    ] {
        up.set_a(n, OPEN, 1);
    }
    let text = bedtime_config(&up);
    let clock = Arc::new(ManualClock::new(at(0, "12:00")));
    let env = Environment {
        clock: Clock::manual(clock.clone()),
        neighbours: Arc::new(KernelNeighbours),
        ..Environment::system()
    };
    let td = TestDaemon::start_in(&text, env).await;
    let state = td.state.path().to_path_buf();
    // The dashboard's "always" allows: one for daytime, one also at bedtime.
    let allow_dir = state.join("allow");
    std::fs::create_dir_all(&allow_dir).unwrap();
    std::fs::write(allow_dir.join("young-child.txt"), "roblox.com\n").unwrap();
    std::fs::write(allow_dir.join("young-child.bedtime.txt"), "minecraft.net\n").unwrap();
    td.daemon.reload().await.unwrap();
    // Temporary allows: one for daytime, one also at bedtime.
    let now = jiff::Timestamp::now();
    let hour = now + jiff::SignedDuration::from_hours(1);
    let file = nestguard::state::layout::temporary_allows(&state);
    overrides::add(&file, "tiktok.com", "young-child", hour, now).unwrap();
    overrides::add_scoped(
        &file,
        "fortnite.com",
        "young-child",
        hour,
        now,
        Scope::AlsoBedtime,
        None,
    )
    .unwrap();
    td.daemon.refresh();
    let allows = overrides::load(&file).unwrap();
    let engine = Engine::build(&test_config(&text, &td.state)).unwrap();

    let reachable = |m: &Message| a_records(m) == vec![OPEN];
    // Noon: every allow lifts the young child's category blocks.
    for n in ["tiktok.com", "roblox.com", "fortnite.com", "minecraft.net"] {
        let m = query_udp(td.addr, n, RecordType::A).await;
        assert!(reachable(&m), "{n} at noon: {m:?}");
    }
    // Bedtime: only the allows made "also during bedtime".
    clock.set(at(0, "22:00"));
    td.daemon.refresh();
    for (n, open) in [
        ("tiktok.com", false),
        ("roblox.com", false),
        ("fortnite.com", true),
        ("minecraft.net", true),
    ] {
        let m = query_udp(td.addr, n, RecordType::A).await;
        assert_eq!(reachable(&m), open, "{n} at bedtime: {m:?}");
        let says = explained(&engine, n, at(0, "22:00"), &allows);
        assert_eq!(says.contains("BLOCKED by schedule"), !open, "{n}: {says}");
    }
    // `explain` says what each temporary allow lifts.
    let says = explained(&engine, "tiktok.com", at(0, "12:00"), &allows);
    assert!(
        says.contains("category blocks lifted; bedtime and other allow-only windows still apply"),
        "{says}"
    );
    let says = explained(&engine, "fortnite.com", at(0, "22:00"), &allows);
    assert!(
        says.contains("also during bedtime and other allow-only windows"),
        "{says}"
    );
    td.stop().await;
}

/// A daemon with the dashboard on and the young child's bedtime.
async fn dashboard(
    up: &FakeUpstream,
    clock: Arc<ManualClock>,
) -> (TestDaemon, std::net::SocketAddr) {
    let hash = nestguard::admin::auth::hash_password("pw").unwrap();
    let text = format!(
        "{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\n",
        bedtime_config(up)
    );
    let env = Environment {
        clock: Clock::manual(clock),
        neighbours: Arc::new(KernelNeighbours),
        ..Environment::system()
    };
    let td = TestDaemon::start_in(&text, env).await;
    let admin = td.daemon.admin_addr.expect("admin server");
    (td, admin)
}

async fn post(admin: std::net::SocketAddr, path: &str, cookie: &str, body: &str) -> HttpResponse {
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Cookie", cookie),
    ];
    http("127.0.0.1", admin, "POST", path, &headers, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_says_what_an_allow_lifts_and_honours_also_during_bedtime() {
    let up = FakeUpstream::start().await;
    for n in ["roblox.com.", "minecraft.net."] {
        up.set_a(n, OPEN, 1);
    }
    let clock = Arc::new(ManualClock::new(at(0, "22:00")));
    let (td, admin) = dashboard(&up, clock).await;
    let r = post_login("127.0.0.1", admin, "pw").await;
    assert_eq!(r.status, 303, "{r:?}");
    let cookie = r.session_cookie().unwrap();
    let page = http("127.0.0.1", admin, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert!(page.body.contains("also during bedtime"), "{}", page.body);
    let csrf = page.body.split("name=csrf value=\"").nth(1).unwrap();
    let csrf = csrf.split('"').next().unwrap().to_string();

    for (name, extra) in [("roblox.com", ""), ("minecraft.net", "&bedtime=1")] {
        let body = format!(
            "csrf={}&name={name}&profile=young-child&duration=permanent{extra}",
            form_value(&csrf)
        );
        let r = post(admin, "/allow", &cookie, &body).await;
        assert_eq!(r.status, 303, "{r:?}");
    }
    // The allow files hot-reload; wait (bounded) for the bedtime one to apply.
    let mut open = false;
    for _ in 0..50 {
        open = a_records(&query_udp(td.addr, "minecraft.net", RecordType::A).await) == vec![OPEN];
        if open {
            break;
        }
        // A poll step: the watcher's reload (real file events) ends it.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        open,
        "an allow made also during bedtime is reachable at bedtime"
    );
    let m = query_udp(td.addr, "roblox.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "{m:?}");
    assert_eq!(ede(m.edns.as_ref()), Some((17, "schedule: bedtime".into())));

    // A security-listed name is refused with a sentence why.
    let body = format!(
        "csrf={}&name=0-google.com&profile=young-child&duration=1h",
        form_value(&csrf)
    );
    let r = post(admin, "/allow", &cookie, &body).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("security list"), "{}", r.body);
    td.stop().await;
}

#[test]
fn allow_refuses_a_security_listed_name_and_says_what_it_lifts() {
    let dir = TempDir::new();
    let state = TempDir::new();
    let config = dir.join("nestguard.toml");
    std::fs::write(
        &config,
        format!("[state]\ndir = \"{}\"\n", state.path().display()),
    )
    .unwrap();
    // 0-google.com is on the shipped scams-malware list (a security list).
    let (code, out, err) = crate::support::cli::run(
        &["allow", "0-google.com", "--profile", "child", "--for", "1h"],
        &config,
    );
    assert_ne!(code, Some(0), "{out}{err}");
    assert!(
        err.contains("security list") && err.contains("cannot lift"),
        "{err}"
    );
    assert!(out.is_empty(), "nothing claimed: {out}");
    assert!(
        !nestguard::state::layout::temporary_allows(state.path()).exists(),
        "nothing was written"
    );

    let out = crate::support::cli::stdout_of(
        &[
            "allow",
            "games.example",
            "--profile",
            "child",
            "--for",
            "1h",
        ],
        &config,
        &[],
    );
    assert!(
        out.contains("category blocks lifted; bedtime and other allow-only windows still apply"),
        "{out}"
    );
    let out = crate::support::cli::stdout_of(
        &["allow", "games.example", "--profile", "child", "--bedtime"],
        &config,
        &[],
    );
    assert!(out.contains("also during bedtime"), "{out}");
    let out = crate::support::cli::stdout_of(&["allow", "--list"], &config, &[]);
    assert!(out.contains("also during bedtime"), "{out}");
}

fn config_moving(sam: &str, state: &Path) -> String {
    format!(
        "[[upstream]]\nprotocol = \"udp\"\naddress = \"127.0.0.1:9\"\n\
         [[client]]\nname = \"sam\"\nprofile = \"{sam}\"\naddresses = [\"192.168.1.20\"]\n\
         [state]\ndir = \"{}\"\n",
        state.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_child_to_a_stricter_profile_is_not_a_loosening() {
    use nestguard::app::Daemon;
    use nestguard::config::{Config, ConfigSource};
    let dir = TempDir::new();
    let state = TempDir::new();
    let path = dir.join("nestguard.toml");
    std::fs::write(&path, config_moving("unfiltered", state.path())).unwrap();
    let load = || Config::load(&ConfigSource::File(path.clone())).unwrap();
    let d = Daemon::start(&load()).await.unwrap();
    // Tighten: unfiltered → young-child.
    std::fs::write(&path, config_moving("young-child", state.path())).unwrap();
    d.reload().await.unwrap();
    let db = nestguard::state::layout::activity_db(state.path());
    let loosened = || {
        nestguard::activity::events::recent(&db, 0)
            .into_iter()
            .filter(|e| e.kind == "loosened")
            .map(|e| e.detail)
            .collect::<Vec<_>>()
    };
    assert!(loosened().is_empty(), "{:?}", loosened());
    // Loosen: young-child → teen. That one is named, with what it opens.
    std::fs::write(&path, config_moving("teen", state.path())).unwrap();
    d.reload().await.unwrap();
    let events = loosened();
    assert_eq!(
        events.len(),
        1,
        "{events:?} {:?}",
        nestguard::activity::events::recent(&db, 0)
            .iter()
            .map(|e| (&e.kind, &e.detail))
            .collect::<Vec<_>>()
    );
    assert!(
        events[0].starts_with("client sam: profile young-child → teen (no longer blocked: ")
            && events[0].contains("social-media"),
        "{events:?}"
    );
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bypass_attempts_at_bedtime_are_counted_as_bypass_attempts() {
    let up = FakeUpstream::start().await;
    let state = TempDir::new();
    let text = format!(
        "{}[activity]\nflush_interval = \"10s\"\n[state]\ndir = \"{}\"\n",
        bedtime_config(&up),
        state.path().display()
    );
    let clock = Arc::new(ManualClock::new(at(0, "23:00")));
    // Activity is counted by the hour of this clock's absolute time.
    clock.set_timestamp(jiff::Timestamp::now());
    let env = Environment {
        clock: Clock::manual(clock),
        neighbours: Arc::new(KernelNeighbours),
        ..Environment::system()
    };
    let td = TestDaemon::start_in(&text, env).await;
    // A VPN and a public DoH name during bedtime, and one ordinary name.
    for n in ["nordvpn.com", "dns.google", "example.com"] {
        let m = query_udp(td.addr, n, RecordType::A).await;
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "{n}");
    }
    td.stop().await;
    let since = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
    let r = nestguard::activity::report::build(
        &nestguard::state::layout::activity_db(state.path()),
        since,
        None,
    )
    .unwrap();
    let p = r
        .profiles
        .iter()
        .find(|p| p.profile == "young-child")
        .unwrap_or_else(|| panic!("no young-child activity: {r:?}"));
    assert_eq!(p.bypass_attempts, 2, "{p:?}");
}

/// A config listening on `port` with its state in `state`.
fn config_on(port: u16, state: &Path) -> String {
    format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\n\
         [[upstream]]\nprotocol = \"udp\"\naddress = \"127.0.0.1:9\"\n\
         [state]\ndir = \"{}\"\n",
        state.display()
    )
}

fn event_kinds(state: &Path) -> Vec<(String, String)> {
    nestguard::activity::events::recent(&nestguard::state::layout::activity_db(state), 0)
        .into_iter()
        .map(|e| (e.kind, e.detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_fails_is_recorded_as_a_failed_start_not_a_crash() {
    use nestguard::app::Daemon;
    use nestguard::config::Config;
    let dir = TempDir::new();
    let state = dir.join("state");
    // The port is taken (by another program).
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let path = dir.join("nestguard.toml");
    std::fs::write(&path, config_on(port, &state)).unwrap();
    let config = Config::parse(&config_on(port, &state), "t.toml", None).unwrap();
    let err = Daemon::start(&config)
        .await
        .err()
        .expect("the port is in use");
    assert!(format!("{err:#}").contains("cannot listen on"), "{err:#}");
    let events = event_kinds(&state);
    assert!(
        events.iter().any(|(k, d)| k == "failed"
            && d.starts_with("filtering did not start: cannot listen on 127.0.0.1:")),
        "{events:?}"
    );
    assert!(!events.iter().any(|(k, _)| k == "started"), "{events:?}");
    let (code, out, _) = crate::support::cli::run(&["status"], &path);
    assert_eq!(code, Some(3), "filtering is off: {out}");
    assert!(out.contains("FAILED TO START at"), "{out}");
    assert!(out.contains("cannot listen on 127.0.0.1:"), "{out}");

    // The next start that works is a start, and no crash is invented.
    drop(taken);
    let d = Daemon::start(&config).await.unwrap();
    d.shutdown().await;
    let events = event_kinds(&state);
    assert!(
        !events.iter().any(|(_, d)| d.contains("unexpectedly")),
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|(k, _)| k == "started").count(),
        1,
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_that_cannot_bind_leaves_the_running_ones_status_alone() {
    use nestguard::app::Daemon;
    use nestguard::config::Config;
    let dir = TempDir::new();
    let state = dir.join("state");
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let text = config_on(port, &state);
    let path = dir.join("nestguard.toml");
    std::fs::write(&path, &text).unwrap();
    let running = Daemon::start(&Config::parse(&text, "t.toml", None).unwrap())
        .await
        .unwrap();
    // `nestguard run` again, on the same port: it fails.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(["run", "-c"])
        .arg(&path)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let (code, status, _) = crate::support::cli::run(&["status"], &path);
    assert_eq!(code, Some(0), "{status}");
    assert!(status.contains(": running"), "{status}");
    let events = event_kinds(&state);
    assert!(
        events.iter().any(|(k, _)| k == "failed"),
        "the failed attempt is recorded: {events:?}"
    );
    running.shutdown().await;
}
