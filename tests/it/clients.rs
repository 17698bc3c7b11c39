//! Who is asking, over real sockets: clients known by their local OS user
//! (sock_diag), by MAC address (a test's neighbour table), and temporary
//! allows that end on time (a test's clock).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::support::client::{build_query, decode, encode};
use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nestguard::app::Environment;
use nestguard::clock::{Clock, LocalTime, ManualClock};
use nestguard::policy::neighbours::{KernelNeighbours, Mac, NeighbourSource};
use nestguard::policy::overrides;
use nestguard::policy::users::{OwnerSource, Proto};

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

async fn upstream() -> FakeUpstream {
    let up = FakeUpstream::start().await;
    for n in ["blocked.example.", "evil.example.", "games.example."] {
        up.set_a(n, OPEN, 300);
    }
    up
}

/// Our own lists: blocked.example (adult), games.example (gaming), evil.example (malware).
fn lists(dir: &TempDir) -> String {
    let mut text = String::new();
    for (file, name, category) in [
        ("adult.txt", "blocked.example", "adult"),
        ("gaming.txt", "games.example", "gaming"),
        ("malware.txt", "evil.example", "scams-malware"),
    ] {
        std::fs::write(dir.join(file), format!("{name}\n")).unwrap();
        text.push_str(&format!(
            "[[rules.list]]\npath = \"{}\"\ncategory = \"{category}\"\n",
            dir.join(file).display()
        ));
    }
    text
}

fn system_with(neighbours: Arc<dyn NeighbourSource>) -> Environment {
    Environment {
        neighbours,
        ..Environment::system()
    }
}

// ------------------------------------------------------------- by MAC address

/// A neighbour table the test writes.
struct Table(Mutex<Vec<(IpAddr, Mac)>>);

impl NeighbourSource for Table {
    fn read(&self) -> std::io::Result<Vec<(IpAddr, Mac)>> {
        Ok(self.0.lock().unwrap().clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_keeps_its_profile_by_mac_whatever_address_it_uses() {
    let up = upstream().await;
    let dir = TempDir::new();
    let tablet: Mac = "02:00:5e:10:00:01".parse().unwrap();
    // The tablet has two addresses (think IPv6 privacy addresses); 127.0.0.7 is another device.
    let table = Arc::new(Table(Mutex::new(vec![
        ("127.0.0.5".parse().unwrap(), tablet),
        ("127.0.0.6".parse().unwrap(), tablet),
        (
            "127.0.0.7".parse().unwrap(),
            "02:00:5e:10:00:02".parse().unwrap(),
        ),
    ])));
    // An address table comes first in the file, but a MAC match is the more
    // deliberate binding and wins.
    let config = format!(
        "{}{}[[client]]\nprofile = \"teen\"\naddresses = [\"127.0.0.5\"]\n\
         [[client]]\nname = \"Dad's tablet\"\nprofile = \"unfiltered\"\nmacs = [\"{tablet}\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let d = TestDaemon::start_in(&config, system_with(table)).await;
    for src in ["127.0.0.5", "127.0.0.6"] {
        let m = query_from(src, d.addr, "blocked.example", RecordType::A).await;
        assert_eq!(a_records(&m), vec![OPEN], "{src} is the tablet");
    }
    for src in ["127.0.0.7", "127.0.0.8"] {
        let m = query_from(src, d.addr, "blocked.example", RecordType::A).await;
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "{src}");
    }
    d.stop().await;
}

// ------------------------------------------------------------- by OS user, slow

/// The socket table as the test decides it: every loopback client belongs to
/// `nobody`, but the lookup for one client port waits until the test opens
/// the gate (at most 10 s, so a failing test cannot hang).
struct SlowForOne {
    slow_port: AtomicU16,
    open: Mutex<bool>,
    opened: Condvar,
}

impl SlowForOne {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl OwnerSource for SlowForOne {
    fn owner(&self, peer: SocketAddr, _local: SocketAddr, _proto: Proto) -> Option<u32> {
        if peer.port() == self.slow_port.load(Ordering::SeqCst) {
            let open = self.open.lock().unwrap();
            let _ = self
                .opened
                .wait_timeout_while(open, Duration::from_secs(10), |open| !*open)
                .unwrap();
        }
        nestguard::policy::users::uid_by_name("nobody")
    }
}

/// Opens the gate however the test ends, so no lookup waits out its 10 s.
struct OpenOnDrop(Arc<SlowForOne>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_owner_lookup_for_one_client_does_not_delay_other_clients_and_user_profiles_still_apply()
 {
    let up = upstream().await;
    let dir = TempDir::new();
    let owners = Arc::new(SlowForOne {
        slow_port: AtomicU16::new(0),
        open: Mutex::new(false),
        opened: Condvar::new(),
    });
    let _gate = OpenOnDrop(owners.clone());
    // `nobody` is unfiltered; everyone else gets the default profile (child),
    // which blocks blocked.example.
    let config = format!(
        "{}{}[[client]]\nname = \"Parent\"\nprofile = \"unfiltered\"\nusers = [\"nobody\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let env = Environment {
        owners: owners.clone(),
        ..Environment::system()
    };
    let d = TestDaemon::start_in(&config, env).await;
    let query = encode(&build_query(
        "blocked.example",
        RecordType::A,
        &QueryOpts::default(),
    ));
    let slow = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    owners
        .slow_port
        .store(slow.local_addr().unwrap().port(), Ordering::SeqCst);
    slow.send_to(&query, d.addr).await.unwrap();

    // Another client on the same listener is answered while that lookup
    // hangs, with its own user's profile (query_from allows 5 s).
    let m = query_from("127.0.0.1", d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN], "nobody's profile (unfiltered)");

    // The slow client itself is not kept waiting on the lookup either: it
    // gets the default profile (the strict answer), and that is counted.
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), slow.recv_from(&mut buf))
        .await
        .expect("the slow client answered while its lookup hangs")
        .unwrap();
    let m = decode(&buf[..n]);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    let text = d.metrics();
    assert!(
        text.contains("nestguard_owner_unknown_total{reason=\"timeout\"} 1"),
        "{text}"
    );

    // Once the lookup answers, the same client gets its user's profile.
    owners.open();
    slow.send_to(&query, d.addr).await.unwrap();
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), slow.recv_from(&mut buf))
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(a_records(&decode(&buf[..n])), vec![OPEN]);
    d.stop().await;
}

// --------------------------------------------------------------- temporary allows

/// A manual clock at Monday `hour`:00 local time and absolute time `t0`, and
/// an environment with it.
fn clock_at(hour: u16, t0: jiff::Timestamp) -> (Arc<ManualClock>, Environment) {
    let clock = Arc::new(ManualClock::new(LocalTime {
        weekday: 0,
        minute: hour * 60,
    }));
    clock.set_timestamp(t0);
    let env = Environment {
        clock: Clock::manual(clock.clone()),
        neighbours: Arc::new(KernelNeighbours),
        ..Environment::system()
    };
    (clock, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_allow_lifts_a_block_and_ends_on_time() {
    let up = upstream().await;
    let dir = TempDir::new();
    let t0: jiff::Timestamp = "2026-11-23T16:00:00Z".parse().unwrap();
    let (clock, env) = clock_at(16, t0);
    let config = format!("{}{}", udp_upstream(up.addr(), "1s"), lists(&dir));
    let d = TestDaemon::start_in(&config, env).await;
    let blocked =
        |m: &hickory_proto::op::Message| m.metadata.response_code == ResponseCode::NXDomain;

    let m = query_from("127.0.0.1", d.addr, "games.example", RecordType::A).await;
    assert!(blocked(&m), "child blocks gaming");

    // What `nestguard allow games.example --profile child --for 1h` writes.
    let file = nestguard::state::layout::temporary_allows(d.state.path());
    let hour = t0.checked_add(jiff::SignedDuration::from_hours(1)).unwrap();
    overrides::add(&file, "games.example", "child", hour, t0).unwrap();
    overrides::add(&file, "evil.example", "child", hour, t0).unwrap();
    overrides::add(&file, "blocked.example", "young-child", hour, t0).unwrap();
    d.daemon.refresh();

    let m = query_from("127.0.0.1", d.addr, "games.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN], "allowed for the hour");
    let m = query_from("127.0.0.1", d.addr, "games.example", RecordType::AAAA).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    // Only for the profile named: blocked.example was allowed for young-child.
    let m = query_from("127.0.0.1", d.addr, "blocked.example", RecordType::A).await;
    assert!(blocked(&m));
    // Security lists are not lifted by a parent's allow.
    let m = query_from("127.0.0.1", d.addr, "evil.example", RecordType::A).await;
    assert!(blocked(&m));
    assert_eq!(ede(m.edns.as_ref()).map(|e| e.0), Some(15));

    // 59 minutes later it still holds; at the hour it is over.
    clock.set_timestamp(t0.checked_add(jiff::SignedDuration::from_mins(59)).unwrap());
    d.daemon.refresh();
    let m = query_from("127.0.0.1", d.addr, "games.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);
    clock.set_timestamp(hour);
    d.daemon.refresh();
    let m = query_from("127.0.0.1", d.addr, "games.example", RecordType::A).await;
    assert!(blocked(&m), "the allow ended");
    let (code, text) = ede(m.edns.as_ref()).unwrap();
    assert_eq!(code, 17);
    assert_eq!(text, "gaming");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_allow_opens_a_name_at_bedtime_only_when_made_for_bedtime() {
    let up = upstream().await;
    let dir = TempDir::new();
    let t0: jiff::Timestamp = "2026-11-23T20:00:00Z".parse().unwrap();
    let (_clock, env) = clock_at(21, t0);
    let config = format!(
        "{}{}[[schedule]]\nprofile = \"child\"\nname = \"bedtime\"\nfrom = \"20:00\"\nto = \"07:00\"\nallow_only = true\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let d = TestDaemon::start_in(&config, env).await;
    up.set_a("homework.example.", OPEN, 300);
    let m = query_from("127.0.0.1", d.addr, "homework.example", RecordType::A).await;
    assert_eq!(
        ede(m.edns.as_ref()),
        Some((17, "schedule: bedtime".to_string()))
    );
    let until = t0.checked_add(jiff::SignedDuration::from_mins(30)).unwrap();
    // A plain allow lifts category blocks, not bedtime.
    overrides::add(
        &nestguard::state::layout::temporary_allows(d.state.path()),
        "homework.example",
        "child",
        until,
        t0,
    )
    .unwrap();
    d.daemon.refresh();
    let m = query_from("127.0.0.1", d.addr, "homework.example", RecordType::A).await;
    assert_eq!(
        ede(m.edns.as_ref()),
        Some((17, "schedule: bedtime".to_string()))
    );
    // Made "also during bedtime", it opens the name now.
    overrides::add_scoped(
        &nestguard::state::layout::temporary_allows(d.state.path()),
        "homework.example",
        "child",
        until,
        t0,
        overrides::Scope::AlsoBedtime,
        None,
    )
    .unwrap();
    d.daemon.refresh();
    let m = query_from("127.0.0.1", d.addr, "www.homework.example", RecordType::A).await;
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NXDomain,
        "upstream has only the apex"
    );
    assert!(
        m.edns.as_ref().and_then(|e| ede(Some(e))).is_none(),
        "not our block"
    );
    let m = query_from("127.0.0.1", d.addr, "homework.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);
    d.stop().await;
}

// ----------------------------------------------------------------- by OS user

/// Set in the child process this file's user test starts as another user.
const QUERY_ENV: &str = "NESTGUARD_TEST_QUERY_AS_USER";

/// Not a test of its own: the body a child process runs as the test user. It
/// sends one query from this process (so from a socket that user owns) and
/// prints the outcome. Does nothing in a normal test run.
#[test]
fn query_helper_for_user_test() {
    let Ok(spec) = std::env::var(QUERY_ENV) else {
        return;
    };
    let (server, name) = spec.split_once(' ').unwrap();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let q = crate::support::client::encode(&crate::support::client::build_query(
        name,
        RecordType::A,
        &QueryOpts::default(),
    ));
    sock.send_to(&q, server).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    let m = crate::support::client::decode(&buf[..n]);
    println!("ANSWER {} {:?}", m.metadata.response_code, a_records(&m));
}

/// A system user for the test, removed again when dropped.
struct TestUser {
    name: String,
    uid: u32,
}

impl TestUser {
    fn create() -> Result<TestUser, String> {
        let name = format!("ngtest{}", std::process::id() % 100_000);
        let out = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                &name,
            ])
            .output()
            .map_err(|e| format!("cannot run useradd: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "useradd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let out = std::process::Command::new("id")
            .args(["-u", &name])
            .output()
            .map_err(|e| e.to_string())?;
        let uid = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "no uid".to_string())?;
        Ok(TestUser { name, uid })
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = std::process::Command::new("userdel")
            .arg(&self.name)
            .output();
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_user_gets_their_profile() {
    use std::os::unix::process::CommandExt;

    if !is_root() {
        eprintln!("SKIPPED a_local_user_gets_their_profile: needs root to create a test user");
        return;
    }
    let user = match TestUser::create() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("SKIPPED a_local_user_gets_their_profile: {e}");
            return;
        }
    };
    let up = upstream().await;
    let dir = TempDir::new();
    let config = format!(
        "{}{}[[client]]\nname = \"Parent\"\nprofile = \"unfiltered\"\nusers = [\"{}\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir),
        user.name
    );
    let d = TestDaemon::start(&config).await;

    // Root (this process) has no [[client]]: the default profile, child.
    let m = query_from("127.0.0.1", d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);

    // The same query from a process of the configured user, from the same address.
    let exe = std::env::current_exe().unwrap();
    let spec = format!("{} blocked.example", d.addr);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args([
                "--exact",
                "clients::query_helper_for_user_test",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(QUERY_ENV, spec)
            .uid(user.uid)
            .gid(65534)
            .output()
            .map(|o| (o, user))
    })
    .await
    .unwrap();
    let (out, _user) = match out {
        Ok(x) => x,
        Err(e) => {
            eprintln!(
                "SKIPPED a_local_user_gets_their_profile: cannot run the test binary as the test user: {e}"
            );
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.find("ANSWER ").map(|at| &l[at..]))
        .unwrap_or_else(|| {
            panic!(
                "no answer from the child: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert_eq!(
        line,
        format!("ANSWER No Error [{OPEN}]"),
        "the user's profile (unfiltered) applied"
    );
    d.stop().await;
}
