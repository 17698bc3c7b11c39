//! Devices behind a forwarder (a router's dnsmasq): the device's MAC and
//! address from the EDNS options the forwarder adds (`add-mac`,
//! `add-subnet`), believed only from `[server] trusted_forwarders`, and never
//! passed to the upstreams. With a real dnsmasq when it is installed, and with
//! hand-built packets over real sockets (dnsmasq adds a MAC only for a
//! requestor in the neighbour table, and loopback has none).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::client::{QueryOpts, build_query, encode, exchange_from, query_with_options};
use crate::support::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
/// Where the forwarder sends its queries from: the one trusted address.
const FORWARDER: &str = "127.0.0.62";
/// Where dnsmasq listens.
const DNSMASQ: &str = "127.0.0.61";
/// The EDNS options that name a device: client subnet, MAC, device id.
const DEVICE_OPTIONS: [u16; 3] = [8, 65001, 65073];
const MIA_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x06];

async fn upstream() -> FakeUpstream {
    let up = FakeUpstream::start().await;
    up.set_a("bad.example.", OPEN, 300);
    up
}

/// Leo by address, Mia by MAC, both `child` (which blocks `adult`); everyone
/// else `unfiltered`.
async fn daemon(up: &FakeUpstream, dir: &TempDir) -> TestDaemon {
    std::fs::write(dir.join("adult.txt"), "bad.example\n").unwrap();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\ntrusted_forwarders = [\"{FORWARDER}/32\"]\n\
         {}[[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n\
         [policy]\ndefault_profile = \"unfiltered\"\n\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"127.0.0.5\"]\n\
         [[child]]\nname = \"Mia\"\nprofile = \"child\"\nmacs = [\"02:00:5e:10:00:06\"]\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("adult.txt").display()
    );
    TestDaemon::start(&config).await
}

fn blocked(m: &Message) -> bool {
    m.metadata.response_code == ResponseCode::NXDomain
}

/// A query for `name` carrying `options`, sent from `src` to `server`.
async fn ask_with(
    src: &str,
    server: SocketAddr,
    name: &str,
    options: &[(u16, Vec<u8>)],
) -> Message {
    let options: Vec<(u16, &[u8])> = options.iter().map(|(c, d)| (*c, &d[..])).collect();
    exchange_from(src, server, &query_with_options(name, &options)).await
}

fn subnet_of(ip: Ipv4Addr) -> (u16, Vec<u8>) {
    let mut data = vec![0, 1, 32, 0];
    data.extend_from_slice(&ip.octets());
    (8, data)
}

fn metric(d: &TestDaemon, outcome: &str) -> String {
    let text = d.metrics();
    let prefix = format!("nestguard_forwarded_identities_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .to_string()
}

fn assert_no_device_options_upstream(up: &FakeUpstream) {
    let seen = up.edns_options_seen();
    assert!(
        !seen.iter().any(|c| DEVICE_OPTIONS.contains(c)),
        "device options reached the upstream: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_forwarder_names_the_device_by_address_and_by_mac() {
    let up = upstream().await;
    let dir = TempDir::new();
    let d = daemon(&up, &dir).await;
    // The forwarder itself gets the default profile.
    assert!(!blocked(
        &ask_with(FORWARDER, d.addr, "bad.example", &[]).await
    ));
    // Leo's address in a client-subnet option.
    let leo = [subnet_of(Ipv4Addr::new(127, 0, 0, 5))];
    assert!(blocked(
        &ask_with(FORWARDER, d.addr, "bad.example", &leo).await
    ));
    // Someone else's address: the default profile, and a real upstream answer.
    let other = [subnet_of(Ipv4Addr::new(127, 0, 0, 9))];
    let m = ask_with(FORWARDER, d.addr, "bad.example", &other).await;
    assert_eq!(a_records(&m), vec![OPEN], "{m:?}");
    // Mia's MAC, raw (dnsmasq --add-mac) and as text (--add-mac=text), with
    // the address of a device no table names.
    let raw = [(65001, MIA_MAC.to_vec()), other[0].clone()];
    assert!(blocked(
        &ask_with(FORWARDER, d.addr, "bad.example", &raw).await
    ));
    let text = [(65073, b"02:00:5e:10:00:06".to_vec())];
    assert!(blocked(
        &ask_with(FORWARDER, d.addr, "bad.example", &text).await
    ));
    assert_eq!(metric(&d, "used"), "4");
    assert_eq!(metric(&d, "ignored"), "0");
    assert_no_device_options_upstream(&up);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_options_from_anyone_else_are_ignored_and_counted() {
    let up = upstream().await;
    let dir = TempDir::new();
    let d = daemon(&up, &dir).await;
    // 127.0.0.9 claims to speak for Leo, then for Mia: it is judged as itself.
    let leo = [subnet_of(Ipv4Addr::new(127, 0, 0, 5))];
    let m = ask_with("127.0.0.9", d.addr, "bad.example", &leo).await;
    assert_eq!(a_records(&m), vec![OPEN], "{m:?}");
    let mia = [(65001, MIA_MAC.to_vec())];
    let m = ask_with("127.0.0.9", d.addr, "bad.example", &mia).await;
    assert_eq!(a_records(&m), vec![OPEN], "{m:?}");
    // Leo himself, claiming to be someone unfiltered, is still Leo.
    let other = [subnet_of(Ipv4Addr::new(127, 0, 0, 9))];
    assert!(blocked(
        &ask_with("127.0.0.5", d.addr, "bad.example", &other).await
    ));
    assert_eq!(metric(&d, "ignored"), "3");
    assert_eq!(metric(&d, "used"), "0");
    assert_no_device_options_upstream(&up);
    d.stop().await;
}

// ------------------------------------------------------------ a real dnsmasq

/// dnsmasq forwarding to `server` from [`FORWARDER`], adding the requestor's
/// MAC and whole address; killed when dropped.
struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dnsmasq_binary() -> Option<&'static str> {
    ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

/// Starts dnsmasq on a free port of [`DNSMASQ`]; `None` (with a message)
/// when it is not installed.
async fn start_dnsmasq(server: SocketAddr) -> Option<Dnsmasq> {
    let Some(bin) = dnsmasq_binary() else {
        eprintln!("skipped: dnsmasq is not installed (apt-get install dnsmasq)");
        return None;
    };
    for _ in 0..10 {
        let port = std::net::UdpSocket::bind((DNSMASQ, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--no-poll",
                "--pid-file=",
                "--user=root",
                "--cache-size=0",
                "--bind-interfaces",
                // What a device sent of its own is dropped first: without
                // these dnsmasq passes a device's claim to be another on.
                "--strip-mac",
                "--strip-subnet",
                "--add-mac",
                "--add-subnet=32,128",
                "--log-facility=-",
            ])
            .arg(format!("--listen-address={DNSMASQ}"))
            .arg(format!("--port={port}"))
            .arg(format!(
                "--server={}#{}@{FORWARDER}",
                server.ip(),
                server.port()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dnsmasq");
        let addr = SocketAddr::new(DNSMASQ.parse().unwrap(), port);
        let child = std::cell::RefCell::new(child);
        // Up when it answers; a lost race for the port ends the process.
        let up = bounded_wait(|| {
            if matches!(child.borrow_mut().try_wait(), Ok(Some(_))) {
                return Some(false);
            }
            let probe = std::net::UdpSocket::bind((DNSMASQ, 0)).ok()?;
            probe
                .set_read_timeout(Some(Duration::from_millis(100)))
                .ok()?;
            let q = encode(&build_query(
                "probe.invalid",
                RecordType::A,
                &QueryOpts::default(),
            ));
            probe.send_to(&q, addr).ok()?;
            let mut buf = [0u8; 512];
            probe.recv(&mut buf).ok().map(|_| true)
        })
        .await;
        let mut child = child.into_inner();
        match up {
            Some(true) => return Some(Dnsmasq { child, addr }),
            _ => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                eprintln!(
                    "dnsmasq did not start on {addr}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    panic!("dnsmasq did not start in 10 attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_behind_dnsmasq_gets_their_profile() {
    let up = upstream().await;
    let dir = TempDir::new();
    let d = daemon(&up, &dir).await;
    let Some(dnsmasq) = start_dnsmasq(d.addr).await else {
        return;
    };
    let via = dnsmasq.addr;
    // Leo, by the address dnsmasq adds; then a device no table names.
    let leo = query_from("127.0.0.5", via, "bad.example", RecordType::A).await;
    assert!(blocked(&leo), "{leo:?}");
    let other = query_from("127.0.0.9", via, "bad.example", RecordType::A).await;
    assert_eq!(a_records(&other), vec![OPEN], "{other:?}");
    // Leo claims, in options of his own, to be that other device: dnsmasq
    // must not pass his claim on (`--strip-mac`, `--strip-subnet`).
    let claim = [
        (65001, vec![2, 0, 0x5e, 0, 0, 9]),
        subnet_of(Ipv4Addr::new(127, 0, 0, 9)),
    ];
    let spoofed = ask_with("127.0.0.5", via, "bad.example", &claim).await;
    assert!(blocked(&spoofed), "{spoofed:?}");
    assert!(metric(&d, "used").parse::<u64>().unwrap() >= 3);
    assert_eq!(metric(&d, "ignored"), "0");
    assert_no_device_options_upstream(&up);
    drop(dnsmasq);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dnsmasq_is_not_believed_unless_trusted() {
    let up = upstream().await;
    let dir = TempDir::new();
    std::fs::write(dir.join("adult.txt"), "bad.example\n").unwrap();
    // The same household, with no trusted forwarder.
    let config = format!(
        "{}[[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n\
         [policy]\ndefault_profile = \"unfiltered\"\n\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"127.0.0.5\"]\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("adult.txt").display()
    );
    let d = TestDaemon::start(&config).await;
    let Some(dnsmasq) = start_dnsmasq(d.addr).await else {
        return;
    };
    let leo = query_from("127.0.0.5", dnsmasq.addr, "bad.example", RecordType::A).await;
    assert_eq!(a_records(&leo), vec![OPEN], "{leo:?}");
    assert!(metric(&d, "ignored").parse::<u64>().unwrap() >= 1);
    drop(dnsmasq);
    d.stop().await;
}
