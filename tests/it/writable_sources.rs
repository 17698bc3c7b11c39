//! Run as root, the daemon refuses files and folders other users can change
//! whenever they decide what is filtered: the config, `conf.d/`, the rules
//! directory, each list and its folder, and the state folder with its
//! downloaded lists, allow files and temporary allows. At start it does not
//! run; at a reload the last good rules keep serving and a protection event
//! is recorded. Real daemon processes, real files and real ownership, so
//! these tests run only as root (they say so and pass otherwise).

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
/// The `nobody` user: someone who is not root.
const NOBODY: u32 = 65534;

fn skipped(test: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!("SKIPPED {test}: needs root (the check applies only to a daemon run as root)");
    true
}

/// Everything a config can read policy from, under one temp dir:
/// `etc/nestguard.toml`, `etc/conf.d/10-site.toml`, `etc/rules/` (a tiny rules
/// directory), `etc/lists/edits.txt` (an admin list), and the state folder
/// `state/` with a downloaded list, a profile allow file and temporary allows.
struct Layout {
    dir: TempDir,
    config: PathBuf,
}

impl Layout {
    fn new(up: SocketAddr) -> Layout {
        let dir = TempDir::new();
        let etc = dir.join("etc");
        let rules = etc.join("rules");
        std::fs::create_dir_all(rules.join("profiles")).unwrap();
        std::fs::create_dir_all(rules.join("lists")).unwrap();
        std::fs::write(
            rules.join("categories.toml"),
            "[[category]]\nid = \"adult\"\nname = \"Adult\"\ndescription = \"x\"\nrisks = [\"sexual-content\"]\nlists = [\"lists/adult.txt\"]\n",
        )
        .unwrap();
        std::fs::write(rules.join("lists/adult.txt"), "always-blocked.example\n").unwrap();
        std::fs::write(
            rules.join("profiles/child.toml"),
            "id = \"child\"\nname = \"Child\"\ndescription = \"x\"\nages = \"9-12\"\nblock = [\"adult\"]\n",
        )
        .unwrap();
        std::fs::write(
            rules.join("profiles/unfiltered.toml"),
            "id = \"unfiltered\"\nname = \"Unfiltered\"\ndescription = \"x\"\nages = \"adults\"\nblock = []\n",
        )
        .unwrap();
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/rules/safesearch.toml"),
            rules.join("safesearch.toml"),
        )
        .unwrap();
        std::fs::create_dir_all(etc.join("lists")).unwrap();
        std::fs::write(etc.join("lists/edits.txt"), "edited.example\n").unwrap();
        std::fs::create_dir_all(etc.join("conf.d")).unwrap();
        std::fs::write(
            etc.join("conf.d/10-site.toml"),
            "[[client]]\nprofile = \"child\"\naddresses = [\"127.0.0.5\"]\n",
        )
        .unwrap();
        let state = dir.join("state");
        std::fs::create_dir_all(state.join("lists")).unwrap();
        std::fs::create_dir_all(state.join("allow")).unwrap();
        std::fs::write(state.join("lists/feed.txt"), "fed.example\n").unwrap();
        std::fs::write(state.join("allow/child.txt"), "homework.example\n").unwrap();
        std::fs::write(
            state.join("overrides.toml"),
            "[[allow]]\nname = \"later.example\"\nprofile = \"child\"\nuntil = \"2000-01-01T00:00:00Z\"\n",
        )
        .unwrap();
        let config = etc.join("nestguard.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n\
                 [[upstream]]\nprotocol = \"udp\"\naddress = \"{up}\"\ntimeout = \"1s\"\n\
                 [rules]\ndir = \"rules\"\n[[rules.list]]\npath = \"lists/edits.txt\"\ncategory = \"adult\"\n\
                 [[update.list]]\nname = \"Feed\"\nurl = \"file:///nonexistent/feed.txt\"\ncategory = \"adult\"\n\
                 [update]\ninterval = \"0s\"\n",
                state.display()
            ),
        )
        .unwrap();
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        // Whatever the test process's umask: the good layout is 0755/0644 root.
        for d in [
            dir.path().to_path_buf(),
            etc.clone(),
            rules.clone(),
            rules.join("profiles"),
            rules.join("lists"),
            etc.join("lists"),
            etc.join("conf.d"),
            state.clone(),
            state.join("lists"),
            state.join("allow"),
        ] {
            mode(&d, 0o755);
        }
        Layout { dir, config }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

/// The daemon's standard error, line by line, read on a thread; what was read is kept.
struct Log(
    std::sync::mpsc::Receiver<String>,
    std::cell::RefCell<Vec<String>>,
);

impl Log {
    fn of(child: &mut Child) -> Log {
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Log(rx, Default::default())
    }

    /// The first line (within 10 s) for which `f` holds; `None` when the log ended first.
    fn wait_for(&self, f: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.0.recv_timeout(left) {
                Ok(line) => {
                    self.1.borrow_mut().push(line.clone());
                    if f(&line) {
                        return Some(line);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
            }
        }
        panic!("no such log line within 10 s");
    }

    /// Everything read so far.
    fn seen(&self) -> Vec<String> {
        self.1.borrow().clone()
    }
}

fn spawn(config: &Path) -> (Child, Log) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(["run", "-c"])
        .arg(config)
        .env("RUST_LOG", "info")
        .env_remove("NESTGUARD_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Log::of(&mut child);
    (child, log)
}

/// Runs the daemon: `Err(log)` when it refuses to start, `Ok` (after
/// stopping it) when it started listening.
fn start_outcome(config: &Path) -> Result<(), String> {
    let (mut child, log) = spawn(config);
    let listening = log.wait_for(|l| l.contains("listening"));
    let rest = log.seen().join("\n");
    let _ = child.kill();
    let _ = child.wait();
    match listening {
        Some(_) => Ok(()),
        None => Err(rest),
    }
}

fn set_mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn chown(p: &Path, uid: u32) {
    std::os::unix::fs::chown(p, Some(uid), Some(uid)).unwrap();
}

#[test]
fn as_root_every_file_and_folder_policy_is_read_from_must_be_roots_alone() {
    if skipped("as_root_every_file_and_folder_policy_is_read_from_must_be_roots_alone") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    let layout = Layout::new(up.addr());
    // The good layout starts (its temp dir sits in /tmp: world-writable, but
    // sticky and owned by root, which is accepted for an ancestor).
    start_outcome(&layout.config).expect("the good layout starts");

    // (path, how it is spoiled: a mode, or an owner that is not root)
    #[derive(Clone, Copy, Debug)]
    enum Spoil {
        Mode(u32),
        Owner,
    }
    let cases: &[(&str, Spoil)] = &[
        ("etc/conf.d", Spoil::Mode(0o777)),
        ("etc/conf.d/10-site.toml", Spoil::Owner),
        ("etc/conf.d/10-site.toml", Spoil::Mode(0o646)),
        ("etc/lists/edits.txt", Spoil::Mode(0o666)),
        ("etc/lists", Spoil::Mode(0o777)),
        ("etc/lists", Spoil::Owner),
        ("etc/rules/profiles", Spoil::Mode(0o777)),
        ("etc/rules/lists/adult.txt", Spoil::Owner),
        ("state", Spoil::Mode(0o777)),
        ("state", Spoil::Owner),
        ("state/lists/feed.txt", Spoil::Mode(0o666)),
        ("state/allow", Spoil::Mode(0o777)),
        ("state/allow/child.txt", Spoil::Owner),
        ("state/overrides.toml", Spoil::Mode(0o666)),
        // A non-sticky world-writable ancestor: `etc/` could be renamed away and replaced.
        ("", Spoil::Mode(0o777)),
    ];
    for &(rel, spoil) in cases {
        let p = if rel.is_empty() {
            layout.dir.path().to_path_buf()
        } else {
            layout.path(rel)
        };
        let meta = std::fs::metadata(&p).unwrap();
        match spoil {
            Spoil::Mode(m) => set_mode(&p, m),
            Spoil::Owner => chown(&p, NOBODY),
        }
        let outcome = start_outcome(&layout.config);
        // Undo before asserting, so the next case starts from the good layout.
        set_mode(&p, meta.permissions().mode() & 0o7777);
        chown(&p, 0);
        let log = outcome.expect_err(&format!("started with {rel:?} spoiled: {spoil:?}"));
        assert!(
            log.contains("refusing to run as root")
                && log.contains(&format!("{} can be changed by", p.display())),
            "{rel:?} {spoil:?}: {log}"
        );
    }
    // A sticky ancestor owned by root (like /tmp) is fine.
    set_mode(layout.dir.path(), 0o1777);
    start_outcome(&layout.config).expect("a sticky root-owned ancestor is accepted");
}

#[test]
fn as_root_a_drop_in_from_a_folder_others_can_write_is_refused_at_reload() {
    if skipped("as_root_a_drop_in_from_a_folder_others_can_write_is_refused_at_reload") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    up.set_a("always-blocked.example.", OPEN, 1);
    let layout = Layout::new(up.addr());
    let (mut child, log) = spawn(&layout.config);
    let line = log
        .wait_for(|l| l.contains("listening"))
        .expect("the daemon starts");
    let addr: SocketAddr = line
        .split("addr=")
        .nth(1)
        .and_then(|a| a.split_whitespace().next()?.parse().ok())
        .unwrap();
    let blocked = || {
        let m = rt.block_on(query_udp(addr, "always-blocked.example", RecordType::A));
        m.metadata.response_code == ResponseCode::NXDomain
    };
    assert!(blocked());

    // Someone made conf.d world-writable, and `nobody` drops a file in.
    let conf_d = layout.path("etc/conf.d");
    set_mode(&conf_d, 0o777);
    let zz = conf_d.join("zz.toml");
    std::fs::write(&zz, "[policy]\ndefault_profile = \"unfiltered\"\n").unwrap();
    chown(&zz, NOBODY);
    let refused = log
        .wait_for(|l| l.contains("reload"))
        .expect("the daemon reacts to the change");
    assert!(
        refused.contains("reload refused") && refused.contains("can be changed by"),
        "{refused}"
    );
    assert!(blocked(), "filtering stays on");

    let out = Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(["status", "-c"])
        .arg(&layout.config)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(
        status.contains("reload: FAILED") && status.contains(&conf_d.display().to_string()),
        "{status}"
    );
    // A protection event the parent sees: someone tried to change the filter through a file.
    let events = &status[status.find("protection events").unwrap()..];
    assert!(
        events.contains("refused") && events.contains(&conf_d.display().to_string()),
        "{status}"
    );

    // Fixed: the folder is root's again; the stray file is gone. The rules reload.
    std::fs::remove_file(&zz).unwrap();
    set_mode(&conf_d, 0o755);
    log.wait_for(|l| l.contains("reloaded"))
        .expect("a good reload after the fix");
    assert!(blocked());
    let _ = child.kill();
    let _ = child.wait();
}
