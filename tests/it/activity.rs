//! Activity counters over real sockets and a real SQLite file: exact counts
//! under concurrent load, survival across restarts and `kill -9`, privacy
//! levels read back from the database, and `nestguard report` formats.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nestguard::activity::report::{self, ProfileReport};
use nestguard::activity::store::Store;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

async fn upstream() -> FakeUpstream {
    let up = FakeUpstream::start().await;
    for i in 0..10 {
        up.set_a(&format!("site{i}.example."), OPEN, 300);
    }
    up
}

/// blocked.example in `adult`; 127.0.0.3 is a teen, 127.0.0.4 a young child, the rest child.
fn config(up: &FakeUpstream, dir: &TempDir, flush: &str) -> String {
    std::fs::write(dir.join("adult.txt"), "blocked.example\nworse.example\n").unwrap();
    format!(
        "{}[activity]\nflush_interval = \"{flush}\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n\
         [[client]]\nprofile = \"teen\"\naddresses = [\"127.0.0.3\"]\n\
         [[client]]\nprofile = \"young-child\"\naddresses = [\"127.0.0.4\"]\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("adult.txt").display()
    )
}

fn since_a_day_ago() -> jiff::Timestamp {
    jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24))
        .unwrap()
}

fn profile<'a>(r: &'a report::Report, id: &str) -> &'a ProfileReport {
    r.profiles
        .iter()
        .find(|p| p.profile == id)
        .unwrap_or_else(|| panic!("no {id} in {r:?}"))
}

fn db(state: &Path) -> std::path::PathBuf {
    nestguard::state::layout::activity_db(state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_are_exact_under_concurrent_load_and_survive_a_restart() {
    let up = upstream().await;
    let dir = TempDir::new();
    let text = config(&up, &dir, "10s");
    let state = TempDir::new();
    let text = format!("{text}[state]\ndir = \"{}\"\n", state.path().display());

    for round in 1..=2u64 {
        let d = TestDaemon::start(&text).await;
        let mut tasks = Vec::new();
        // Four clients at once: 127.0.0.1 and .2 are children, .3 a teen, .4 a young child.
        for src in ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"] {
            let addr = d.addr;
            tasks.push(tokio::spawn(async move {
                for i in 0..100 {
                    // Four in five allowed, one in five blocked.
                    let name = if i % 5 == 4 {
                        "blocked.example".to_string()
                    } else {
                        format!("site{}.example", i % 10)
                    };
                    let m = query_from(src, addr, &name, RecordType::A).await;
                    assert_ne!(m.metadata.response_code, ResponseCode::ServFail);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Shutdown flushes.
        d.stop().await;
        let r = report::build(&db(state.path()), since_a_day_ago(), None).unwrap();
        let child = profile(&r, "child");
        assert_eq!(child.queries, 200 * round, "{child:?}");
        assert_eq!(child.blocked, 40 * round);
        assert_eq!(child.allowed, 160 * round);
        assert_eq!(
            child.blocked_by_category,
            vec![("adult".to_string(), 40 * round)]
        );
        assert_eq!(
            child.top_blocked,
            vec![("blocked.example".to_string(), 40 * round)]
        );
        let teen = profile(&r, "teen");
        assert_eq!((teen.queries, teen.blocked), (100 * round, 20 * round));
        assert!(child.active_minutes >= 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_levels_decide_which_names_reach_the_database() {
    let up = upstream().await;
    let dir = TempDir::new();
    let d = TestDaemon::start(&config(&up, &dir, "10s")).await;
    for src in ["127.0.0.1", "127.0.0.3", "127.0.0.4"] {
        for name in ["site1.example", "www.blocked.example"] {
            query_from(src, d.addr, name, RecordType::A).await;
        }
    }
    let state = d.state.path().to_path_buf();
    let keep = d.state;
    d.daemon.shutdown().await;
    let store = Store::open(&db(&state), 20, Duration::from_secs(90 * 86_400)).unwrap();
    let names = |p: &str| -> Vec<(String, String)> {
        let mut stmt = store
            .connection()
            .prepare("SELECT action, domain FROM domains WHERE profile = ?1 ORDER BY action")
            .unwrap();
        stmt.query_map([p], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let pair = |a: &str, d: &str| (a.to_string(), d.to_string());
    // aggregate (teen): no names at all.
    assert_eq!(names("teen"), vec![]);
    // blocked-domains (child): the blocked site, as its registrable domain.
    assert_eq!(names("child"), vec![pair("blocked", "blocked.example")]);
    // detailed (young child): visited sites too.
    assert_eq!(
        names("young-child"),
        vec![
            pair("allowed", "site1.example"),
            pair("blocked", "blocked.example")
        ]
    );
    drop(keep);
}

#[test]
fn kill_9_loses_at_most_one_flush_interval_and_never_corrupts() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(upstream());
    let dir = TempDir::new();
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n{}",
            dir.join("state").display(),
            config(&up, &dir, "200ms")
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(["run", "-c"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr: std::net::SocketAddr = lines
        .by_ref()
        .take(50)
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("addr=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .expect("listening address in the log");
    std::thread::spawn(move || lines.for_each(drop));

    // 300 queries, then wait (bounded) until a flush has put them on disk.
    for i in 0..300 {
        rt.block_on(query_udp(
            addr,
            &format!("site{}.example", i % 10),
            RecordType::A,
        ));
    }
    let flushed = Instant::now();
    loop {
        let n = report::build(&db(&dir.join("state")), since_a_day_ago(), Some("child"))
            .ok()
            .and_then(|r| r.profiles.into_iter().find(|p| p.profile == "child"))
            .map_or(0, |p| p.queries);
        if n == 300 {
            break;
        }
        assert!(
            flushed.elapsed() < Duration::from_secs(10),
            "{n} of 300 counts on disk"
        );
        // A poll step, not a wait for time to pass: the flush is what ends it.
        std::thread::sleep(Duration::from_millis(20));
    }
    // 200 more, and kill -9 straight after.
    let start = Instant::now();
    for i in 0..200 {
        rt.block_on(query_udp(
            addr,
            &format!("site{}.example", i % 10),
            RecordType::A,
        ));
    }
    let during = start.elapsed();
    std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();

    let state = dir.join("state");
    let store = Store::open(&db(&state), 20, Duration::from_secs(90 * 86_400)).unwrap();
    let ok: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let r = report::build(&db(&state), since_a_day_ago(), Some("child")).unwrap();
    let n = profile(&r, "child").queries;
    // Everything before the last flush is there; of the last burst, what was
    // flushed before the kill (a flush interval is 200 ms; the burst took `during`).
    assert!(
        (300..=500).contains(&n),
        "{n} queries recorded (burst took {during:?})"
    );
}

#[test]
fn retention_prunes_old_rows() {
    let dir = TempDir::new();
    let path = db(dir.path());
    let mut store = Store::open(&path, 20, Duration::from_secs(90 * 86_400)).unwrap();
    let now_hour = jiff::Timestamp::now().as_second() / 3600;
    let old = now_hour - 91 * 24;
    store
        .connection()
        .execute_batch(&format!(
            "INSERT INTO counts VALUES ({old}, 'child', 'adult', 'blocked', 5);
             INSERT INTO counts VALUES ({now_hour}, 'child', 'adult', 'blocked', 7);
             INSERT INTO domains VALUES ({}, 'child', 'blocked', 'old.example', 5);
             INSERT INTO minutes VALUES ({old}, 'child', 3);",
            old / 24
        ))
        .unwrap();
    store.prune(now_hour).unwrap();
    let count = |sql: &str| -> i64 { store.connection().query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM counts"), 1);
    assert_eq!(count("SELECT SUM(n) FROM counts"), 7);
    assert_eq!(count("SELECT COUNT(*) FROM domains"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM minutes"), 0);
}

/// A known database: child with 3 hours of activity, blocks in two
/// categories, a bedtime window and bypass attempts; a teen with a little.
fn fixture(state: &Path) {
    let store = Store::open(&db(state), 20, Duration::from_secs(90 * 86_400)).unwrap();
    let h = jiff::Timestamp::now().as_second() / 3600 - 2;
    let day = h / 24;
    store
        .connection()
        .execute_batch(&format!(
            "INSERT INTO counts VALUES ({h}, 'child', 'none', 'allowed', 90);
             INSERT INTO counts VALUES ({h}, 'child', 'adult', 'blocked', 6);
             INSERT INTO counts VALUES ({h}, 'child', 'gaming', 'blocked', 3);
             INSERT INTO counts VALUES ({h}, 'child', 'safe-search', 'rewritten', 1);
             INSERT INTO counts VALUES ({h}, 'teen', 'none', 'allowed', 10);
             INSERT INTO minutes VALUES ({h}, 'child', {});
             INSERT INTO minutes VALUES ({}, 'child', 1);
             INSERT INTO windows VALUES ({h}, 'child', 'bedtime', 4);
             INSERT INTO bypass VALUES ({h}, 'child', 2);
             INSERT INTO domains VALUES ({day}, 'child', 'blocked', 'games.example', 3);
             INSERT INTO domains VALUES ({day}, 'child', 'blocked', 'adult.example', 6);
             INSERT INTO gone VALUES ({}, 'child', '192.168.1.20');",
            (1i64 << 30) - 1,
            h + 1,
            h * 3600 + 60
        ))
        .unwrap();
}

fn report_cli(config: &Path, format: &str) -> String {
    crate::support::cli::stdout_of(
        &["report", "--since", "1day", "--format", format],
        config,
        &[("TZ", "UTC")],
    )
}

#[test]
fn report_formats_on_a_known_fixture() {
    let dir = TempDir::new();
    let state = dir.join("state");
    fixture(&state);
    let cfg = dir.join("nestguard.toml");
    std::fs::write(&cfg, format!("[state]\ndir = \"{}\"\n", state.display())).unwrap();
    let h = jiff::Timestamp::now().as_second() / 3600 - 2;
    let hh = |h: i64| format!("{:02}", h.rem_euclid(24));

    let text = report_cli(&cfg, "text");
    for line in [
        "child\n".to_string(),
        "  queries: 100 (allowed 90, blocked 9, rewritten 1)\n".into(),
        "  time online: 31 min (minutes with any query)\n".into(),
        "  bypass attempts: 3\n".into(),
        "  devices that stopped using the filter (a day without a query): 192.168.1.20\n".into(),
        "  during schedule \"bedtime\": 4 queries\n".into(),
        "    adult                      6\n".into(),
        "    gaming                     3\n".into(),
        "    adult.example                          6\n".into(),
        format!("    {}:00 {:<30} 30 min\n", hh(h), "#".repeat(30)),
        format!("    {}:00 {:<30} 1 min\n", hh(h + 1), "#"),
        "teen\n  queries: 10 (allowed 10, blocked 0, rewritten 0)\n".into(),
    ] {
        assert!(text.contains(&line), "missing {line:?} in\n{text}");
    }

    let json: serde_json::Value = serde_json::from_str(&report_cli(&cfg, "json")).unwrap();
    let child = &json["profiles"][0];
    assert_eq!(child["profile"], "child");
    assert_eq!(child["queries"], 100);
    assert_eq!(child["active_minutes"], 31);
    assert_eq!(
        child["blocked_by_category"][0],
        serde_json::json!(["adult", 6])
    );
    assert_eq!(
        child["top_blocked"][1],
        serde_json::json!(["games.example", 3])
    );
    assert_eq!(
        child["schedule_queries"][0],
        serde_json::json!(["bedtime", 4])
    );
    assert_eq!(json["profiles"][1]["profile"], "teen");

    let csv = report_cli(&cfg, "csv");
    let expected = format!(
        "profile,metric,key,value\n\
         child,queries,,100\nchild,allowed,,90\nchild,blocked,,9\nchild,rewritten,,1\n\
         child,active_minutes,,31\nchild,bypass_attempts,,3\nchild,device_gone,192.168.1.20,1\n\
         child,blocked_by_category,adult,6\nchild,blocked_by_category,gaming,3\n\
         child,schedule_queries,bedtime,4\n\
         child,top_blocked,adult.example,6\nchild,top_blocked,games.example,3\n\
         child,active_minutes_by_hour,{},30\nchild,active_minutes_by_hour,{},1\n\
         teen,queries,,10\nteen,allowed,,10\nteen,blocked,,0\nteen,rewritten,,0\n\
         teen,active_minutes,,0\nteen,bypass_attempts,,0\n",
        hh(h.min(h + 1)),
        hh(h + 1)
    );
    // The hour rows come in hour-of-day order, which wraps at midnight.
    let mut got: Vec<&str> = csv.lines().collect();
    let mut want: Vec<&str> = expected.lines().collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "\n{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_wait_for_a_database_that_could_not_be_opened_and_arrive_once_it_can() {
    let up = upstream().await;
    let dir = TempDir::new();
    let state = TempDir::new();
    // Something occupies the database's path: it cannot be opened.
    let blocker = db(state.path());
    std::fs::create_dir_all(blocker.join("in-the-way")).unwrap();
    let text = format!(
        "{}[state]\ndir = \"{}\"\n",
        config(&up, &dir, "100ms"),
        state.path().display()
    );
    let (d, clock) = TestDaemon::start_manual(&text).await;
    for i in 0..50 {
        let name = if i % 5 == 4 {
            "blocked.example".to_string()
        } else {
            format!("site{}.example", i % 10)
        };
        // DNS is not affected.
        let m = query_from("127.0.0.1", d.addr, &name, RecordType::A).await;
        assert_ne!(m.metadata.response_code, ResponseCode::ServFail);
    }
    // A flush interval passes (the daemon's clock moves on): the write fails.
    clock.advance(Duration::from_millis(100));
    let start = Instant::now();
    while d.daemon.activity_write_failures() == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "no write failed");
        // A poll step: the failed write is what ends it.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Fixed: the path is free again. The counts kept meanwhile arrive, while
    // the daemon runs (not only at shutdown), once the backoff has passed.
    std::fs::remove_dir_all(&blocker).unwrap();
    clock.advance(Duration::from_secs(1));
    let start = Instant::now();
    let child = loop {
        let r = report::build(&db(state.path()), since_a_day_ago(), None).ok();
        if let Some(p) = r.and_then(|r| r.profiles.into_iter().find(|p| p.profile == "child"))
            && p.queries == 50
        {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the counts did not arrive"
        );
        // A poll step: the write is what ends it.
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((child.blocked, child.allowed), (10, 40));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_are_kept_while_writes_fail_and_written_when_they_work_again() {
    let up = upstream().await;
    let dir = TempDir::new();
    let state = TempDir::new();
    let text = format!(
        "{}[state]\ndir = \"{}\"\n",
        config(&up, &dir, "100ms"),
        state.path().display()
    );
    let (d, clock) = TestDaemon::start_manual(&text).await;
    // Someone else holds the database's write lock (as a full disk would fail every write).
    let holder = rusqlite::Connection::open(db(state.path())).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let failures = || d.daemon.activity_write_failures();
    let before = failures();
    for i in 0..50 {
        let name = format!("site{}.example", i % 10);
        let m = query_from("127.0.0.1", d.addr, &name, RecordType::A).await;
        assert_ne!(m.metadata.response_code, ResponseCode::ServFail);
    }
    // A flush interval passes; wait until that write has failed with the counts in hand.
    clock.advance(Duration::from_millis(100));
    let start = Instant::now();
    while failures() < before + 1 {
        assert!(start.elapsed() < Duration::from_secs(10), "no write failed");
        // A poll step: the failed write is what ends it.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // DNS is answered while the writer waits on the lock.
    let m = query_from("127.0.0.1", d.addr, "site1.example", RecordType::A).await;
    assert_ne!(m.metadata.response_code, ResponseCode::ServFail);
    holder.execute_batch("COMMIT").unwrap();
    drop(holder);
    // The backoff passes; the next try writes what was kept.
    clock.advance(Duration::from_secs(1));
    let start = Instant::now();
    loop {
        let r = report::build(&db(state.path()), since_a_day_ago(), None).ok();
        let n = r
            .and_then(|r| r.profiles.into_iter().find(|p| p.profile == "child"))
            .map_or(0, |p| p.queries);
        if n == 51 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{n} of 51 counts arrived"
        );
        // A poll step: the write is what ends it.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    d.stop().await;
}

/// Counts in `table` by hour, from the database (none while it does not exist).
fn hours_in(state: &Path, table: &str) -> Vec<(i64, i64)> {
    let Ok(conn) = Store::open_read_only(&db(state)) else {
        return Vec::new();
    };
    let Ok(mut st) = conn.prepare(&format!(
        "SELECT hour, COUNT(*) FROM {table} GROUP BY hour ORDER BY hour"
    )) else {
        return Vec::new();
    };
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// Moves the daemon's clock on a minute at a time, letting its tasks (the
/// minute's flush) run after each.
async fn minutes_pass(clock: &std::sync::Arc<nestguard::clock::ManualClock>, n: u32) {
    for _ in 0..n {
        clock.advance(Duration::from_secs(60));
        // A poll step: the flush the minute woke runs meanwhile.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `write_interval` (the router's flash): counts wait in memory, each hour
/// filed as its own, and reach the database only every write interval and
/// at shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_are_held_in_memory_until_the_write_interval_and_filed_by_hour() {
    let up = upstream().await;
    let dir = TempDir::new();
    let state = TempDir::new();
    let text = format!(
        "{}[state]\ndir = \"{}\"\n",
        config(&up, &dir, "60s").replace(
            "flush_interval = \"60s\"\n",
            "flush_interval = \"60s\"\nwrite_interval = \"4h\"\n"
        ),
        state.path().display()
    );
    assert!(text.contains("write_interval"));
    let (d, clock) = TestDaemon::start_manual(&text).await;
    let ask = |n: usize| {
        let addr = d.addr;
        async move {
            for i in 0..n {
                query_from(
                    "127.0.0.1",
                    addr,
                    &format!("site{}.example", i % 10),
                    RecordType::A,
                )
                .await;
            }
        }
    };
    ask(10).await;
    minutes_pass(&clock, 130).await;
    ask(10).await;
    minutes_pass(&clock, 100).await;
    // 3 h 50 min: drained every minute, written never.
    assert_eq!(hours_in(state.path(), "counts"), []);
    minutes_pass(&clock, 15).await;
    let written = bounded_wait(|| {
        let r = report::build(&db(state.path()), since_a_day_ago(), None).ok()?;
        let child = r.profiles.into_iter().find(|p| p.profile == "child")?;
        (child.queries == 20).then_some(())
    })
    .await;
    assert!(written.is_some(), "the counts were not written at 4 h");
    // Two hours over two hours apart: filed as two, not as the hour of the write.
    assert_eq!(hours_in(state.path(), "counts").len(), 2);
    assert_eq!(hours_in(state.path(), "minutes").len(), 2);
    // At shutdown, what is held is written.
    ask(5).await;
    minutes_pass(&clock, 1).await;
    d.stop().await;
    let r = report::build(&db(state.path()), since_a_day_ago(), None).unwrap();
    assert_eq!(profile(&r, "child").queries, 25);
}
