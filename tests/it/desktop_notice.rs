//! Desktop notices end to end: a session D-Bus (`dbus-daemon`, started
//! here), a notification server on it (`org.freedesktop.Notifications`, a
//! few lines of zbus standing in for the desktop's), the daemon with
//! `[notify]` on, and the real `nestguard notify` agent. A burst of blocked
//! lookups made by this test's user gives exactly one notification; the
//! blocked lookups of another user give none (as root: from a process
//! running as `nobody`). Skips with a message where `dbus-daemon` is
//! missing (`.ci/run` installs `dbus`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;
use hickory_proto::rr::RecordType;
use std::net::Ipv4Addr;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
const PASSWORD: &str = "correct horse battery";
const BURST: usize = 40;

/// A child process, killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private session bus; its address.
fn session_bus() -> Option<(Killed, String)> {
    let mut child = match Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // It warns that it cannot raise its open-file limit: harmless here.
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "SKIPPED one_notice_for_a_burst_of_my_own_blocks: cannot run dbus-daemon ({e}); apt-get install dbus"
            );
            return None;
        }
    };
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    // dbus-daemon prints its address once it listens, or exits.
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let address = line.trim().to_string();
    assert!(
        !address.is_empty(),
        "dbus-daemon printed no address: {:?}",
        child.try_wait()
    );
    Some((Killed(child), address))
}

/// What the notification server was asked to show: (summary, body).
type Shown = Arc<Mutex<Vec<(String, String)>>>;

struct Notifications {
    shown: Shown,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Notifications {
    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        shown.push((summary, body));
        shown.len() as u32
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("test".into(), "nestguard".into(), "1".into(), "1.2".into())
    }
}

/// The real `nestguard notify` on the test bus, its log in `dir/agent.log`.
fn agent(socket: &std::path::Path, bus: &str, dir: &TempDir) -> Killed {
    let log = std::fs::File::create(dir.join("agent.log")).unwrap();
    Killed(
        Command::new(env!("CARGO_BIN_EXE_nestguard"))
            .args(["notify", "--socket"])
            .arg(socket)
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

fn shown_now(shown: &Shown) -> Vec<(String, String)> {
    shown.lock().unwrap().clone()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_notice_for_a_burst_of_my_own_blocks() {
    use std::os::unix::process::CommandExt as _;

    let Some((_bus, address)) = session_bus() else {
        return;
    };
    let shown: Shown = Arc::default();
    let _server = zbus::connection::Builder::address(address.as_str())
        .unwrap()
        .serve_at(
            "/org/freedesktop/Notifications",
            Notifications {
                shown: shown.clone(),
            },
        )
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .build()
        .await
        .expect("the notification server on the test bus");

    let me = nix::unistd::geteuid().as_raw();
    let my_name = nestguard::policy::users::name_of(me).expect("this user's name");
    let up = FakeUpstream::start().await;
    let dir = TempDir::new();
    let mut list = String::new();
    for i in 0..BURST {
        list.push_str(&format!("n{i}.blocked.example\n"));
        up.set_a(&format!("n{i}.blocked.example."), OPEN, 1);
    }
    list.push_str("theirs.blocked.example\n");
    std::fs::write(dir.join("gambling.txt"), list).unwrap();
    std::fs::write(dir.join("trackers.txt"), "pixel.tracker.example\n").unwrap();
    let socket = dir.join("notify.sock");
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    let config = format!(
        "{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\n\
         [notify]\nenabled = true\nsocket = \"{}\"\ngather = \"500ms\"\nevery = \"60s\"\n\
         [[client]]\nname = \"Me\"\nprofile = \"child\"\nusers = [\"{my_name}\"]\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"gambling\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"trackers\"\n",
        udp_upstream(up.addr(), "1s"),
        socket.display(),
        dir.join("gambling.txt").display(),
        dir.join("trackers.txt").display(),
    );
    let d = TestDaemon::start(&config).await;

    let _agent = agent(&socket, &address, &dir);
    let connected = bounded_wait(|| {
        d.metrics()
            .contains("nestguard_notice_agents 1")
            .then_some(())
    })
    .await;
    assert!(
        connected.is_some(),
        "the agent did not connect: {}",
        std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
    );

    // Another user's blocked lookups (only root can run a process as one).
    if is_root() {
        for _ in 0..3 {
            let exe = std::env::current_exe().unwrap();
            let spec = format!("{} theirs.blocked.example", d.addr);
            let out = tokio::task::spawn_blocking(move || {
                Command::new(exe)
                    .args([
                        "--exact",
                        "clients::query_helper_for_user_test",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("NESTGUARD_TEST_QUERY_AS_USER", spec)
                    .uid(65534)
                    .gid(65534)
                    .output()
            })
            .await
            .unwrap()
            .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.contains("ANSWER ") && stdout.contains("[]"),
                "blocked for nobody too: {stdout}"
            );
        }
    } else {
        eprintln!(
            "SKIPPED (in part) one_notice_for_a_burst_of_my_own_blocks: another user's lookups need root"
        );
    }
    // A tracker, silent by default.
    query_udp(d.addr, "pixel.tracker.example", RecordType::A).await;
    // My own burst: a page with forty blocked names.
    for i in 0..BURST {
        let m = query_udp(d.addr, &format!("n{i}.blocked.example"), RecordType::A).await;
        assert!(a_records(&m).is_empty(), "n{i} blocked");
    }

    // One notification comes (bounded wait) …
    let start = Instant::now();
    while shown_now(&shown).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no notification arrived; agent log: {}",
            std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
        );
        // A poll step: the agent delivering is what ends it.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // … and no second one for the same burst (watched for longer than the
    // gather time and several of the daemon's rounds).
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2000) {
        assert_eq!(shown_now(&shown).len(), 1, "{:?}", shown_now(&shown));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = shown_now(&shown);
    let (summary, body) = &all[0];
    assert_eq!(summary, "n0.blocked.example is blocked");
    assert!(body.contains("playing for money"), "{body}");
    assert!(
        body.contains(&format!("{} more sites were blocked too", BURST - 1)),
        "{body}"
    );
    assert!(body.contains("/blocked?name=n0.blocked.example"), "{body}");
    assert!(
        !body.contains("theirs") && !summary.contains("theirs"),
        "{body}"
    );
    assert!(!body.contains("tracker"), "{body}");
    let m = d.metrics();
    assert!(m.contains("nestguard_notices_sent_total 1"), "{m}");
    assert!(m.contains("nestguard_notices_silent_total 1"), "{m}");
    d.stop().await;
}

/// The agent keeps trying while the daemon is away and connects once it is
/// there (a restart): it needs no config and waits with a bounded backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_connects_when_the_daemon_comes_back() {
    let Some((_bus, address)) = session_bus() else {
        return;
    };
    let dir = TempDir::new();
    let socket = dir.join("notify.sock");
    // Started before any daemon: nothing to connect to yet.
    let _agent = agent(&socket, &address, &dir);
    let up = FakeUpstream::start().await;
    let config = format!(
        "{}[notify]\nenabled = true\nsocket = \"{}\"\n",
        udp_upstream(up.addr(), "1s"),
        socket.display(),
    );
    for round in 0..2 {
        let d = TestDaemon::start(&config).await;
        // Its first tries are 1, 2, 4 s apart: within 10 s it is there.
        let start = Instant::now();
        while !d.metrics().contains("nestguard_notice_agents 1") {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "round {round}: the agent did not connect: {}",
                std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        d.stop().await;
    }
}

/// A category `[notify] silent_categories` does not know is an error at its
/// line and column, not a notice that silently keeps coming.
#[test]
fn an_unknown_silent_category_is_an_error_at_its_place() {
    let err = nestguard::config::Config::parse(
        "[notify]\nenabled = true\nsilent_categories = [\"trackers\", \"trackerz\"]\n",
        "notify.toml",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with(
            "notify.toml:3:34: [notify] silent_categories: no category `trackerz`; categories:"
        ),
        "{err}"
    );
    assert!(
        nestguard::config::Config::parse(
            "[notify]\nenabled = true\nsilent_categories = [\"trackers\", \"gaming\"]\n",
            "notify.toml",
            None,
        )
        .is_ok()
    );
}

#[test]
fn a_notice_speaks_the_childs_language() {
    let state = TempDir::new();
    let text = "[[child]]\nname = \"Lea\"\nprofile = \"teen\"\naddresses = [\"127.0.0.9\"]\nlanguage = \"de\"\n\
                [[child]]\nname = \"Tom\"\nprofile = \"teen\"\naddresses = [\"127.0.0.8\"]\n";
    let config = test_config(text, &state);
    let engine = nestguard::engine::Engine::build(&config).unwrap();
    let wire = |n: &str| nestguard::rules::name::to_wire(n);
    let notice = |who: &str| {
        let profile = engine.profile_index(who).unwrap();
        let name = wire("pokerstars.com");
        let decision = engine.decide(
            &name,
            1,
            profile,
            "127.0.0.9".parse().unwrap(),
            &nestguard::policy::Live::default(),
        );
        let blocked = nestguard::notice::queue::Blocked::new(0, profile, decision, &name);
        nestguard::notice::server::words(&engine, &blocked, 0, None)
    };
    let lea = notice("lea");
    let tom = notice("tom");
    assert_ne!(lea.body, tom.body, "German for Lea, English for Tom");
    assert!(tom.body.contains("money"), "{}", tom.body);
    assert!(lea.body.contains("Geld"), "{}", lea.body);
}
