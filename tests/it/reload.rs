//! Hot reload under load, over real sockets: the rules change ten times, saved
//! in each way editors and tools save, while a stream of queries runs; none
//! fails, blocked names never slip through, and each change is in force
//! within a second. Broken edits are refused and the last good rules serve on.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::client::{build_query, decode, encode, read_framed, write_framed};
use crate::support::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use nestguard::app::Daemon;
use nestguard::config::{Config, ConfigSource};

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
/// Names the stream asks for; all resolvable and never blocked.
const STREAM_NAMES: usize = 20;

/// A small rules directory (so a reload compiles in milliseconds even in a
/// debug build): `adult` with one fixed name, `scams-malware`, and the child
/// and unfiltered profiles.
fn tiny_rules(dir: &Path) {
    std::fs::create_dir_all(dir.join("profiles")).unwrap();
    std::fs::create_dir_all(dir.join("lists")).unwrap();
    std::fs::write(
        dir.join("categories.toml"),
        "[[category]]\nid = \"adult\"\nname = \"Adult\"\ndescription = \"x\"\nrisks = [\"sexual-content\"]\nlists = [\"lists/adult.txt\"]\n\
         [[category]]\nid = \"scams-malware\"\nname = \"Scams\"\ndescription = \"x\"\nrisks = [\"scams-malware\"]\nlists = []\nsecurity = true\n",
    )
    .unwrap();
    std::fs::write(dir.join("lists/adult.txt"), "always-blocked.example\n").unwrap();
    std::fs::write(
        dir.join("profiles/child.toml"),
        "id = \"child\"\nname = \"Child\"\ndescription = \"x\"\nages = \"9-12\"\nblock = [\"adult\", \"scams-malware\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("profiles/unfiltered.toml"),
        "id = \"unfiltered\"\nname = \"Unfiltered\"\ndescription = \"x\"\nages = \"adults\"\nblock = []\n",
    )
    .unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/rules/safesearch.toml"),
        dir.join("safesearch.toml"),
    )
    .unwrap();
}

/// The config file: the tiny rules, plus `edits.txt` (the file the test
/// edits) as an admin list in `adult`.
fn write_config(dir: &TempDir, up: &FakeUpstream) -> PathBuf {
    tiny_rules(&dir.join("rules"));
    std::fs::write(dir.join("edits.txt"), "# none yet\n").unwrap();
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n{}\
             [rules]\ndir = \"rules\"\n[[rules.list]]\npath = \"edits.txt\"\ncategory = \"adult\"\n",
            dir.join("state").display(),
            udp_upstream(up.addr(), "2s")
        ),
    )
    .unwrap();
    path
}

/// [`start`] with a clock the test moves by hand (for the hold).
async fn start_with_clock(path: &Path) -> (Daemon, SocketAddr, Arc<nestguard::clock::ManualClock>) {
    use nestguard::app::Environment;
    use nestguard::clock::{Clock, LocalTime, ManualClock};
    let clock = Arc::new(ManualClock::new(LocalTime {
        weekday: 0,
        minute: 600,
    }));
    let env = Environment {
        clock: Clock::manual(clock.clone()),
        neighbours: Arc::new(nestguard::policy::neighbours::KernelNeighbours),
        ..Environment::system()
    };
    let config = Config::load(&ConfigSource::File(path.to_path_buf())).unwrap();
    let d = Daemon::start_in(&config, env).await.unwrap();
    let addr = d.addrs[0];
    (d, addr, clock)
}

async fn start(path: &Path) -> (Daemon, SocketAddr) {
    let config = Config::load(&ConfigSource::File(path.to_path_buf())).unwrap();
    let d = Daemon::start(&config).await.unwrap();
    let addr = d.addrs[0];
    (d, addr)
}

/// The ways editors and tools save a file.
#[derive(Clone, Copy, Debug)]
enum SaveStyle {
    /// Open the existing file and overwrite it (then cut it to length).
    InPlace,
    /// Write a temp file beside it, rename it over (most tools).
    Rename,
    /// O_TRUNC, then write.
    TruncateAndWrite,
    /// O_TRUNC, a pause (a program computing what to write), then write.
    TruncatePauseWrite,
    /// O_TRUNC, then the text in pieces cut at line ends, with pauses.
    SlowWriter,
    /// Delete the file, a pause, then create it again.
    DeleteAndRecreate,
    /// vim with `backupcopy=no`: test file 4913, the original renamed to
    /// `edits.txt~`, a new file written, the backup deleted.
    VimBackupSwap,
    /// `sed -i`: a `sedXXXXXX` temp file in the same folder renamed over.
    SedInPlace,
    /// `cp other edits.txt`: O_TRUNC, then the copy in buffer-sized pieces.
    CopyOver,
    /// An editor's hidden temp file (`.edits.txt.XXXX`) renamed over.
    EditorTempRename,
}

const STYLES: [SaveStyle; 10] = [
    SaveStyle::InPlace,
    SaveStyle::Rename,
    SaveStyle::TruncateAndWrite,
    SaveStyle::TruncatePauseWrite,
    SaveStyle::SlowWriter,
    SaveStyle::DeleteAndRecreate,
    SaveStyle::VimBackupSwap,
    SaveStyle::SedInPlace,
    SaveStyle::CopyOver,
    SaveStyle::EditorTempRename,
];

/// Writes `text` in pieces cut at line ends, `gap` apart (a slow program, a
/// copy in buffer-sized pieces).
fn write_in_pieces(f: &mut std::fs::File, text: &str, pieces: usize, gap: Duration) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let per = lines.len().div_ceil(pieces).max(1);
    for (i, chunk) in lines.chunks(per).enumerate() {
        if i > 0 {
            // A deliberate delay: a slow program writing the file.
            std::thread::sleep(gap);
        }
        f.write_all(chunk.concat().as_bytes()).unwrap();
        f.flush().unwrap();
    }
}

/// Saves `text` into `path` the way `style` does (blocking: run it off the runtime).
fn save(path: &Path, text: &str, style: SaveStyle) {
    let beside = |name: &str| path.with_file_name(name);
    match style {
        SaveStyle::InPlace => {
            let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            f.write_all(text.as_bytes()).unwrap();
            f.set_len(text.len() as u64).unwrap();
        }
        SaveStyle::Rename => {
            let tmp = beside("edits.txt.new");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
        SaveStyle::TruncateAndWrite => {
            let mut f = std::fs::File::create(path).unwrap();
            f.write_all(text.as_bytes()).unwrap();
        }
        SaveStyle::TruncatePauseWrite => {
            let mut f = std::fs::File::create(path).unwrap();
            // A deliberate delay: an editor pausing between truncate and write.
            std::thread::sleep(Duration::from_millis(300));
            f.write_all(text.as_bytes()).unwrap();
        }
        SaveStyle::SlowWriter => {
            let mut f = std::fs::File::create(path).unwrap();
            write_in_pieces(&mut f, text, 5, Duration::from_millis(150));
        }
        SaveStyle::DeleteAndRecreate => {
            std::fs::remove_file(path).unwrap();
            // A deliberate delay: the file is missing for a while.
            std::thread::sleep(Duration::from_millis(200));
            std::fs::write(path, text).unwrap();
        }
        SaveStyle::VimBackupSwap => {
            let probe = beside("4913");
            std::fs::write(&probe, "").unwrap();
            std::fs::remove_file(&probe).unwrap();
            let backup = beside("edits.txt~");
            std::fs::rename(path, &backup).unwrap();
            let mut f = std::fs::File::create(path).unwrap();
            write_in_pieces(&mut f, text, 2, Duration::from_millis(120));
            f.sync_all().unwrap();
            std::fs::remove_file(&backup).unwrap();
        }
        SaveStyle::SedInPlace => {
            let tmp = beside("sedK2pQ7x");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
        SaveStyle::CopyOver => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .unwrap();
            write_in_pieces(&mut f, text, 3, Duration::from_millis(120));
        }
        SaveStyle::EditorTempRename => {
            let tmp = beside(".edits.txt.8XQ2T1");
            let mut f = std::fs::File::create(&tmp).unwrap();
            f.write_all(text.as_bytes()).unwrap();
            f.sync_all().unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
    }
}

/// Names every version of `edits.txt` lists: the query stream asks for them.
const LISTED: usize = 150;

fn listed(i: usize) -> String {
    format!("listed{}.example", i % LISTED)
}

/// Version `n` of the edited list: the listed names, then `change{n}`.
fn version(n: usize) -> String {
    let mut text = format!("# version {n}\n");
    for i in 0..LISTED {
        text.push_str(&listed(i));
        text.push('\n');
    }
    text.push_str(&format!("change{n}.example\n"));
    text
}

/// What the query stream saw.
#[derive(Default)]
struct Tally {
    sent: AtomicUsize,
    failed: AtomicUsize,
    leaked: AtomicUsize,
}

impl Tally {
    /// Counts one answer: any failure (timeout, SERVFAIL, wrong answer) or a
    /// blocked name that was answered.
    fn record(&self, name: &str, answer: Option<Message>) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let Some(m) = answer else {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if name.starts_with("always-blocked") || name.starts_with("listed") {
            if m.metadata.response_code != ResponseCode::NXDomain {
                self.leaked.fetch_add(1, Ordering::Relaxed);
            }
        } else if a_records(&m) != vec![OPEN] {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn stream_name(i: usize) -> String {
    // One query in ten asks for the shipped blocked name, two for names of the edited list.
    match i % 10 {
        9 => "always-blocked.example".into(),
        3 | 6 => listed(i * 7),
        _ => format!("stream{}.example", i % STREAM_NAMES),
    }
}

/// At least `min` queries over UDP, at about a thousand a second, until `done`
/// (bounded at ten times `min`).
async fn udp_stream(server: SocketAddr, min: usize, done: Arc<AtomicBool>, tally: Arc<Tally>) {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let mut buf = vec![0u8; 4096];
    for i in 0..min * 10 {
        if i >= min && done.load(Ordering::Relaxed) {
            break;
        }
        tick.tick().await;
        let name = stream_name(i);
        let q = encode(&build_query(&name, RecordType::A, &QueryOpts::default()));
        sock.send_to(&q, server).await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(2), sock.recv_from(&mut buf))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|(n, _)| decode(&buf[..n]));
        tally.record(&name, answer);
    }
}

/// The same over one TCP connection.
async fn tcp_stream(server: SocketAddr, min: usize, done: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut conn = tokio::net::TcpStream::connect(server).await.unwrap();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for i in 0..min * 10 {
        if i >= min && done.load(Ordering::Relaxed) {
            break;
        }
        tick.tick().await;
        let name = stream_name(i);
        let q = encode(&build_query(&name, RecordType::A, &QueryOpts::default()));
        write_framed(&mut conn, &q).await;
        let answer = tokio::time::timeout(Duration::from_secs(2), read_framed(&mut conn))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|b| decode(&b));
        tally.record(&name, answer);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_save_styles_under_load_never_answer_a_listed_name() {
    let up = FakeUpstream::start().await;
    for i in 0..STREAM_NAMES {
        up.set_a(&format!("stream{i}.example."), OPEN, 300);
    }
    for i in 0..LISTED {
        up.set_a(&format!("{}.", listed(i)), OPEN, 300);
    }
    for n in 0..=STYLES.len() {
        up.set_a(&format!("change{n}.example."), OPEN, 1);
    }
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    let edits = dir.join("edits.txt");
    std::fs::write(&edits, version(0)).unwrap();
    let (d, addr) = start(&path).await;

    let done = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(tokio::spawn(udp_stream(
            addr,
            5000,
            done.clone(),
            tally.clone(),
        )));
    }
    streams.push(tokio::spawn(tcp_stream(
        addr,
        5000,
        done.clone(),
        tally.clone(),
    )));

    let mut took = Vec::new();
    for (i, style) in STYLES.into_iter().enumerate() {
        let n = i + 1;
        // Each version blocks change{n} only: change{n-1} is unblocked again.
        let (file, text) = (edits.clone(), version(n));
        tokio::task::spawn_blocking(move || save(&file, &text, style))
            .await
            .unwrap();
        let blocked = time_until(
            addr,
            &format!("change{n}.example"),
            true,
            Duration::from_secs(1),
        )
        .await;
        let t = blocked.unwrap_or_else(|| panic!("change {n} ({style:?}) not in force within 1 s"));
        let freed = query_udp(addr, &format!("change{}.example", n - 1), RecordType::A).await;
        assert_eq!(
            a_records(&freed),
            vec![OPEN],
            "change {n} ({style:?}) also lifted the old block"
        );
        took.push((style, t));
    }
    done.store(true, Ordering::Relaxed);
    for s in streams {
        s.await.unwrap();
    }
    let (sent, failed, leaked) = (
        tally.sent.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
        tally.leaked.load(Ordering::Relaxed),
    );
    eprintln!(
        "reload latencies: {took:?}; stream: {sent} queries, {failed} failed, {leaked} blocked names answered"
    );
    assert!(sent >= 20_000, "{sent}");
    assert_eq!(failed, 0, "queries failed or timed out during reloads");
    assert_eq!(leaked, 0, "a listed name was answered during a save");
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_disappears_fails_the_reload_and_its_rules_serve_on() {
    let up = FakeUpstream::start().await;
    up.set_a("gone.example.", OPEN, 1);
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    let edits = dir.join("edits.txt");
    std::fs::write(&edits, "gone.example\n").unwrap();
    let (d, addr) = start(&path).await;
    let m = query_udp(addr, "gone.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    std::fs::remove_file(&edits).unwrap();
    let refused = d
        .reload()
        .await
        .expect_err("a missing file fails the reload");
    assert!(refused.contains("edits.txt"), "{refused}");
    let m = query_udp(addr, "gone.example", RecordType::A).await;
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NXDomain,
        "still blocked while the file is missing"
    );
    // Back, but emptied: it would lose its rule, so it is held back (a save
    // may still be in progress) and the name stays blocked...
    std::fs::write(&edits, "# emptied\n").unwrap();
    wait_for_status(&dir.join("state"), |s| s.held.is_some()).await;
    let m = query_udp(addr, "gone.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    // ...until a parent confirms.
    d.reload().await.unwrap();
    let m = query_udp(addr, "gone.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);
    d.shutdown().await;
}

/// Waits (up to 5 s) until the daemon's status.toml satisfies `f`.
async fn wait_for_status(state: &Path, f: impl Fn(&nestguard::status::Status) -> bool) {
    let start = Instant::now();
    loop {
        if nestguard::status::read(state).is_ok_and(|s| f(&s)) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "status never got there: {:?}",
            nestguard::status::read(state)
        );
        // A poll step: status.toml changing ends it.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_lost_rules_is_held_until_unchanged_for_the_hold_then_put_in_force() {
    let up = FakeUpstream::start().await;
    up.set_a("dropped.example.", OPEN, 1);
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    let edits = dir.join("edits.txt");
    std::fs::write(&edits, "kept.example\ndropped.example\n").unwrap();
    let (d, addr, clock) = start_with_clock(&path).await;
    // The parent really removes a name (saved in one go).
    let tmp = dir.join("edits.txt.new");
    std::fs::write(&tmp, "kept.example\n").unwrap();
    std::fs::rename(&tmp, &edits).unwrap();
    let state = dir.join("state");
    wait_for_status(&state, |s| s.held.is_some()).await;
    let status = crate::support::cli::stdout_of(&["status"], &path, &[]);
    assert!(
        status.contains("held back since")
            && status.contains(&format!("{}: 2 → 1 rules", edits.display()))
            && status.contains("unchanged for 3s"),
        "{status}"
    );
    let m = query_udp(addr, "dropped.example", RecordType::A).await;
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NXDomain,
        "held back"
    );
    // Unchanged for the hold (on the daemon's clock): in force, and said so.
    clock.advance(Duration::from_secs(4));
    assert!(
        time_until(addr, "dropped.example", false, Duration::from_secs(2))
            .await
            .is_some(),
        "not put in force after the hold"
    );
    wait_for_status(&state, |s| {
        s.held.is_none()
            && s.last_reload
                .as_ref()
                .is_some_and(|r| r.ok && r.trigger.contains("held until unchanged for 3s"))
    })
    .await;
    d.shutdown().await;
}

#[test]
fn nestguard_reload_puts_a_held_change_in_force_at_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    up.set_a("dropped.example.", OPEN, 1);
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    let mut text = std::fs::read_to_string(&path).unwrap();
    // Long enough that only the command can be what puts it in force.
    text = text.replace("[rules]\n", "[rules]\nshrink_hold = \"1h\"\n");
    std::fs::write(&path, text).unwrap();
    let edits = dir.join("edits.txt");
    std::fs::write(&edits, "kept.example\ndropped.example\n").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(["run", "-c"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .env("RUNTIME_DIRECTORY", dir.join("run"))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = Log::of(&mut child);
    let line = log.wait_for(|l| l.contains("listening"));
    let addr: SocketAddr = line
        .split("addr=")
        .nth(1)
        .and_then(|a| a.split_whitespace().next()?.parse().ok())
        .unwrap();
    std::fs::write(&edits, "kept.example\n").unwrap();
    log.wait_for(|l| l.contains("lose rules"));
    let m = rt.block_on(query_udp(addr, "dropped.example", RecordType::A));
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NXDomain,
        "held back"
    );
    let said = crate::support::cli::stdout_of(
        &["reload"],
        &path,
        &[("RUNTIME_DIRECTORY", dir.join("run").to_str().unwrap())],
    );
    assert!(said.contains(&format!("pid {}", child.id())), "{said}");
    log.wait_for(|l| l.contains("reloaded") && l.contains("SIGHUP"));
    let m = rt.block_on(query_udp(addr, "dropped.example", RecordType::A));
    assert_eq!(a_records(&m), vec![OPEN]);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conf_d_drop_ins_are_picked_up_and_a_loosening_one_waits_to_be_confirmed() {
    let up = FakeUpstream::start().await;
    up.set_a("always-blocked.example.", OPEN, 1);
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    let (d, addr) = start(&path).await;
    let m = query_from("127.0.0.9", addr, "always-blocked.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    // A fleet tool drops a file into conf.d (the directory did not exist yet).
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(
        dir.join("conf.d/50-staff.toml"),
        "[[client]]\nprofile = \"unfiltered\"\naddresses = [\"127.0.0.9\"]\n",
    )
    .unwrap();
    // It is picked up, and since it opens filtering for a machine it is held
    // (as a save caught half way would be) until unchanged for the hold or
    // confirmed, as `nestguard reload` does.
    wait_for_status(&dir.join("state"), |s| s.held.is_some()).await;
    let m = query_from("127.0.0.9", addr, "always-blocked.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "held");
    d.reload().await.unwrap();
    let start = Instant::now();
    loop {
        let m = query_from("127.0.0.9", addr, "always-blocked.example", RecordType::A).await;
        if a_records(&m) == vec![OPEN] {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "drop-in not applied"
        );
        // A poll step: the reload ends it.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    d.shutdown().await;
}

/// Lines of the daemon's log, read on a thread.
struct Log(std::sync::mpsc::Receiver<String>);

impl Log {
    fn of(child: &mut std::process::Child) -> Log {
        use std::io::BufRead;
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Log(rx)
    }

    /// The first line (within 5 s) for which `f` holds.
    fn wait_for(&self, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.0.recv_timeout(left) {
                Ok(line) if f(&line) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no such log line within 5 s");
    }
}

/// `nestguard status` for the config at `path`.
fn status_of(path: &Path) -> String {
    crate::support::cli::stdout_of(&["status"], path, &[])
}

#[test]
fn broken_edits_are_refused_with_file_and_line_and_the_old_rules_serve_on() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    for n in ["kept.example.", "new.example."] {
        up.set_a(n, OPEN, 1);
    }
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    let edits = dir.join("edits.txt");
    std::fs::write(&edits, "kept.example\n").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(["run", "-c"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = Log::of(&mut child);
    let line = log.wait_for(|l| l.contains("listening"));
    let addr: SocketAddr = line
        .split("addr=")
        .nth(1)
        .and_then(|a| a.split_whitespace().next()?.parse().ok())
        .unwrap();
    let blocked = |name: &str| {
        let m = rt.block_on(query_udp(addr, name, RecordType::A));
        m.metadata.response_code == ResponseCode::NXDomain
    };
    assert!(blocked("kept.example"));

    // A broken rule file: a regex that does not compile, next to a new name.
    std::fs::write(&edits, "kept.example\nnew.example\n/[unclosed/\n").unwrap();
    let where_ = format!("{}:3: ", edits.display());
    log.wait_for(|l| l.contains("reload refused") && l.contains(&where_));
    let status = status_of(&path);
    assert!(status.contains("reload: FAILED"), "{status}");
    assert!(status.contains(&where_), "{status}");
    assert!(blocked("kept.example"), "the last good rules still block");
    assert!(
        !blocked("new.example"),
        "nothing of the broken edit applies"
    );

    // Fixed: in force.
    std::fs::write(&edits, "kept.example\nnew.example\n").unwrap();
    log.wait_for(|l| l.contains("reloaded"));
    assert!(blocked("new.example"));
    assert!(status_of(&path).contains("reload: ok"));

    // A broken config file: named with line and column, the rules serve on.
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{good}[policy]\nblock_mode = \"purple\"\n")).unwrap();
    let lines = good.lines().count();
    let where_ = format!("{}:{}:14: ", path.display(), lines + 2);
    log.wait_for(|l| l.contains("reload refused") && l.contains(&where_));
    let status = status_of(&path);
    assert!(
        status.contains("reload: FAILED") && status.contains(&where_),
        "{status}"
    );
    assert!(blocked("kept.example") && blocked("new.example"));

    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downloaded_list_is_put_in_force_by_the_watcher() {
    let up = FakeUpstream::start().await;
    up.set_a("fresh.example.", OPEN, 1);
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    std::fs::write(dir.join("feed.txt"), "fresh.example\n").unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "[[update.list]]\nname = \"Feed\"\nurl = \"file://{}\"\ncategory = \"adult\"\n",
        dir.join("feed.txt").display()
    ));
    std::fs::write(&path, text).unwrap();
    let (d, addr) = start(&path).await;
    let m = query_udp(addr, "fresh.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN], "not downloaded yet");
    // What `nestguard update` (or the daemon's own timer) does.
    let config = Config::load(&ConfigSource::File(path.clone())).unwrap();
    let results = tokio::task::spawn_blocking(move || {
        nestguard::update::update_all(&config, &nestguard::update::Quiet, |_, _| {})
    })
    .await
    .unwrap()
    .unwrap();
    assert!(matches!(
        results[0].1,
        nestguard::update::Outcome::Updated { entries: 1, .. }
    ));
    assert!(
        time_until(addr, "fresh.example", true, Duration::from_secs(2))
            .await
            .is_some()
    );
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_config_that_loosens_filtering_is_held_like_a_list_that_lost_rules() {
    let up = FakeUpstream::start().await;
    up.set_a("always-blocked.example.", OPEN, 1);
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    let (d, addr, clock) = start_with_clock(&path).await;
    // Someone (or a save caught half way) moves this machine to `unfiltered`.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("{text}[[client]]\nprofile = \"unfiltered\"\naddresses = [\"127.0.0.1\"]\n"),
    )
    .unwrap();
    let state = dir.join("state");
    wait_for_status(&state, |s| s.held.is_some()).await;
    let status = crate::support::cli::stdout_of(&["status"], &path, &[]);
    assert!(
        status.contains("loosens filtering: client #1: added with profile unfiltered"),
        "{status}"
    );
    let m = query_udp(addr, "always-blocked.example", RecordType::A).await;
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NXDomain,
        "held back"
    );
    // Unchanged for the hold: in force.
    clock.advance(Duration::from_secs(4));
    assert!(
        time_until(
            addr,
            "always-blocked.example",
            false,
            Duration::from_secs(2)
        )
        .await
        .is_some(),
        "not put in force after the hold"
    );
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_that_spans_a_reload_is_judged_by_one_snapshot() {
    let up = FakeUpstream::start().await;
    // CNAME cloaking: an innocent name aliasing one the child profile blocks.
    up.set_cname("cloaked.example.", "always-blocked.example.", 60);
    up.set_a("always-blocked.example.", OPEN, 60);
    up.set_delay("cloaked.example.", Duration::from_millis(1500));
    let dir = TempDir::new();
    let path = write_config(&dir, &up);
    let (d, addr) = start(&path).await;
    let asked =
        tokio::spawn(async move { query_udp(addr, "cloaked.example", RecordType::A).await });
    let deadline = Instant::now() + Duration::from_secs(2);
    while up.queries() == 0 && Instant::now() < deadline {
        // A poll step: the upstream being asked ends it.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // While the upstream is slow, a profile that sorts first is added: every
    // profile's number moves up by one in the new rules.
    std::fs::write(
        dir.join("rules/profiles/aaa-open.toml"),
        "id = \"aaa-open\"\nname = \"Open\"\ndescription = \"x\"\nages = \"adults\"\nblock = []\n",
    )
    .unwrap();
    d.reload().await.unwrap();
    let m = asked.await.unwrap();
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NXDomain,
        "the child's lookup is judged as the child's, cloaking caught: {m:?}"
    );
    d.shutdown().await;
}
