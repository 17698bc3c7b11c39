//! Running out of file descriptors (issue 14, items 5 and 6), with the
//! open-file limit lowered inside this test process. The limit is
//! process-wide, so this binary's tests take turns (one lock) and each puts
//! the limit back when it is done.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests say what failed by panicking

// The lock only orders tests, each on its own runtime: holding it across
// their awaits is the point.
#![allow(clippy::await_holding_lock)]

mod support;

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use support::client::{build_query, decode, encode, read_framed, write_framed};
use support::*;

/// One test at a time: they all change the process's open-file limit.
fn turn() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every warning and error logged in this process, as text.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        buf
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Log lines so far that contain `needle`.
fn lines_with(needle: &str) -> usize {
    let logs = logs();
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    text.lines().filter(|l| l.contains(needle)).count()
}

/// Puts the soft open-file limit back when dropped.
struct Limit {
    soft: u64,
    hard: u64,
}

impl Limit {
    fn set_soft(soft: u64) -> Limit {
        let (old, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        setrlimit(Resource::RLIMIT_NOFILE, soft.min(hard), hard).unwrap();
        Limit { soft: old, hard }
    }
}

impl Drop for Limit {
    fn drop(&mut self) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, self.soft, self.hard);
    }
}

/// Takes every free descriptor under the current soft limit (copies of
/// /dev/null), so that the next socket, accept or open fails with EMFILE.
fn exhaust_descriptors() -> Vec<OwnedFd> {
    static NULL: OnceLock<std::fs::File> = OnceLock::new();
    let null = NULL.get_or_init(|| std::fs::File::open("/dev/null").unwrap());
    let mut held = Vec::new();
    for _ in 0..100_000 {
        match null.try_clone() {
            Ok(f) => held.push(OwnedFd::from(f)),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(24), "EMFILE, got {e}");
                break;
            }
        }
    }
    held
}

/// The highest descriptor open in this process, plus one.
fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

fn metric(text: &str, line_start: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no metric `{line_start}` in:\n{text}"))
}

/// An upstream that answers every question NXDOMAIN after `delay`, so that
/// many distinct misses are outstanding at once. One socket, whatever the load.
async fn slow_upstream(delay: Duration) -> SocketAddr {
    let sock = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let mut answer = buf[..n].to_vec();
            if answer.len() < 12 {
                continue;
            }
            answer[2] |= 0x80; // QR
            answer[3] = 0x80 | 3; // RA, NXDOMAIN
            let sock = sock.clone();
            tokio::spawn(async move {
                // A deliberate delay: this upstream is slow on purpose.
                tokio::time::sleep(delay).await;
                let _ = sock.send_to(&answer, peer).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_few_descriptors_max_inflight_is_sized_down_and_misses_are_not_servfailed() {
    const MISSES: usize = 600;
    let _turn = turn();
    logs();
    let upstream = slow_upstream(Duration::from_millis(300)).await;
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // A soft limit of 400, as if the service manager's default of 1,024
    // were partly used up: the default max_inflight of 4,096 cannot fit.
    let soft = open_descriptors().max(100) + 300;
    let _limit = Limit::set_soft(soft);
    let d = TestDaemon::start(&udp_upstream(upstream, "2s")).await;
    let sized = metric(&d.metrics(), "nestguard_max_inflight ");
    assert_eq!(
        sized as usize,
        nestguard::dns::fd_limit::fit(4096, 256, Some(soft)).max_inflight,
        "max_inflight sized to the open-file limit of {soft}"
    );
    assert!(sized + nestguard::dns::fd_limit::RESERVED < soft);
    assert!(
        lines_with("max_inflight") >= 1,
        "the sizing is logged:\n{}",
        String::from_utf8_lossy(&logs().lock().unwrap())
    );

    for i in 0..MISSES {
        let q = encode(&build_query(
            &format!("m{i}.example.net"),
            RecordType::A,
            &QueryOpts {
                id: i as u16,
                ..QueryOpts::default()
            },
        ));
        client.send_to(&q, d.addr).await.unwrap();
    }
    let mut rcodes = std::collections::HashMap::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(3);
    while let Ok(Ok((n, _))) =
        tokio::time::timeout_at(deadline.into(), client.recv_from(&mut buf)).await
    {
        *rcodes
            .entry(decode(&buf[..n]).metadata.response_code)
            .or_insert(0usize) += 1;
        if rcodes.values().sum::<usize>() == MISSES {
            break;
        }
    }
    assert_eq!(
        rcodes.get(&ResponseCode::ServFail),
        None,
        "no miss is SERVFAILed for want of a socket: {rcodes:?}"
    );
    let text = d.metrics();
    let answered = rcodes.get(&ResponseCode::NXDomain).copied().unwrap_or(0) as u64;
    let dropped = metric(&text, "nestguard_dropped_busy_total ");
    assert_eq!(
        answered + dropped,
        MISSES as u64,
        "every miss is answered or counted as dropped: {rcodes:?}\n{text}"
    );
    assert_eq!(
        metric(
            &text,
            "nestguard_descriptors_exhausted_total{at=\"upstream\"}"
        ),
        0
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_socket_that_cannot_be_opened_is_counted_and_logged() {
    let _turn = turn();
    logs();
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let before = lines_with("descriptor");
    let _limit = Limit::set_soft(open_descriptors() + 50);
    let mut held = Vec::new();
    for i in 0..5 {
        // Again each time: the daemon's background work closes files now and then.
        held.extend(exhaust_descriptors());
        let q = encode(&build_query(
            &format!("e{i}.nx.example.com"),
            RecordType::A,
            &QueryOpts::default(),
        ));
        client.send_to(&q, d.addr).await.unwrap();
        let mut buf = [0u8; 4096];
        let got = tokio::time::timeout(Duration::from_secs(3), client.recv_from(&mut buf)).await;
        assert!(got.is_ok(), "miss {i} is answered");
    }
    drop(held);
    let text = d.metrics();
    assert_eq!(
        metric(
            &text,
            "nestguard_descriptors_exhausted_total{at=\"upstream\"}"
        ),
        5,
        "{text}"
    );
    assert_eq!(
        lines_with("descriptor") - before,
        1,
        "logged once, not once per query"
    );
    // With descriptors back, the same names resolve.
    let m = query_udp(d.addr, "e0.nx.example.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_failures_for_want_of_descriptors_are_counted_and_logged_once_per_interval() {
    let _turn = turn();
    logs();
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    // Sockets made while there are descriptors; connected once there are none.
    let clients: Vec<socket2::Socket> = (0..4)
        .map(|_| socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap())
        .collect();
    let before = lines_with("accept");
    let limit = Limit::set_soft(open_descriptors() + 50);
    let held = exhaust_descriptors();
    for c in &clients {
        // The kernel completes the handshake; the daemon's accept fails.
        c.connect(&d.addr.into()).unwrap();
    }
    let failures = || {
        metric(
            &d.metrics(),
            "nestguard_descriptors_exhausted_total{at=\"accept\"}",
        )
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while failures() < 10 && Instant::now() < deadline {
        // A poll step: the counted failures end it.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(failures() >= 10, "accept failures are counted");
    assert_eq!(
        lines_with("accept") - before,
        1,
        "logged once per interval, not per failure:\n{}",
        String::from_utf8_lossy(&logs().lock().unwrap())
    );
    // Descriptors back: the waiting clients are served.
    drop(held);
    drop(limit);
    let first = clients.into_iter().next().unwrap();
    first.set_nonblocking(true).unwrap();
    let mut stream = tokio::net::TcpStream::from_std(first.into()).unwrap();
    stream.set_nodelay(true).unwrap();
    let q = encode(&build_query(
        "example.com",
        RecordType::A,
        &QueryOpts::default(),
    ));
    tokio::time::timeout(Duration::from_secs(3), async {
        write_framed(&mut stream, &q).await;
        let m = decode(&read_framed(&mut stream).await.unwrap());
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    })
    .await
    .expect("served once descriptors are back");
    d.stop().await;
}

#[test]
fn the_daemon_raises_its_soft_open_file_limit_to_the_hard_limit() {
    let _turn = turn();
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let _limit = Limit::set_soft(256.min(hard));
    let raised = nestguard::dns::fd_limit::raise_soft_limit();
    assert_eq!(getrlimit(Resource::RLIMIT_NOFILE).unwrap().0, hard);
    assert_eq!(raised, Some(hard));
    let _ = soft;
}
