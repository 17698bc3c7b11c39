//! The file watcher as a user runs it: `--config` spelt relative to the
//! working directory still reloads, and at trace level with the log file in
//! the config folder the daemon does not feed on its own log writes.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

/// A config in `dir` blocking the names in `dir/mine.txt`, forwarding to `up`.
fn write_config(dir: &Path, up: &FakeUpstream, level: &str) {
    std::fs::write(dir.join("mine.txt"), "first.example\n").unwrap();
    std::fs::write(
        dir.join("nestguard.toml"),
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n{}\
             [log]\nlevel = \"{level}\"\n\
             [[rules.list]]\npath = \"mine.txt\"\ncategory = \"adult\"\n\
             [state]\ndir = \"state\"\n",
            udp_upstream(up.addr(), "1s")
        ),
    )
    .unwrap();
}

/// Starts `nestguard run -c CONFIG` in `dir`, its standard error to `log`.
fn start(dir: &Path, config: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .current_dir(dir)
        .args(["run", "-c"])
        .arg(config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Waits (at most 20 s) for a log line with `what`; the line.
fn wait_for_line(log: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(f) = std::fs::File::open(log)
            && let Some(line) = BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                .find(|l| l.contains(what))
        {
            return line;
        }
        // A poll step: the (separate) daemon's log line ends it.
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "no `{what}` in the log within 20 s:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn listening(log: &Path) -> SocketAddr {
    wait_for_line(log, "listening")
        .split("addr=")
        .nth(1)
        .and_then(|a| a.split_whitespace().next()?.parse().ok())
        .expect("the listening address")
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        // A poll step: the process exiting ends it.
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_relative_config_path_still_reloads_on_change() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    up.set_a("second.example.", std::net::Ipv4Addr::new(192, 0, 2, 7), 1);
    let dir = TempDir::new();
    write_config(dir.path(), &up, "info");
    let log = dir.join("daemon.log");
    let child = start(dir.path(), Path::new("nestguard.toml"), &log);
    let addr = listening(&log);
    let blocked = |name: &str| {
        rt.block_on(query_udp(addr, name, RecordType::A))
            .metadata
            .response_code
            == ResponseCode::NXDomain
    };
    assert!(blocked("first.example"));
    assert!(!blocked("second.example"));
    std::fs::write(dir.join("mine.txt"), "first.example\nsecond.example\n").unwrap();
    wait_for_line(&log, "reloaded");
    assert!(blocked("second.example"), "the edit is in force");
    stop(child);
}

#[test]
fn trace_logging_into_the_config_folder_does_not_feed_the_watcher() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    let dir = TempDir::new();
    write_config(dir.path(), &up, "trace");
    let log = dir.join("daemon.log");
    let child = start(dir.path(), &dir.join("nestguard.toml"), &log);
    let addr = listening(&log);
    // Some ordinary work, each query writing trace lines into the folder.
    for _ in 0..20 {
        let m = rt.block_on(query_udp(addr, "first.example", RecordType::A));
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    }
    stop(child);
    let text = std::fs::read_to_string(&log).unwrap();
    let events = text.lines().filter(|l| l.contains("inotify event")).count();
    assert!(
        events < 50,
        "{events} watcher event lines: the daemon is watching its own log"
    );
    let reloads = text.lines().filter(|l| l.contains("reloaded")).count();
    assert_eq!(reloads, 0, "nothing the rules come from changed");
}
