//! Signed policy bundles (`[fleet]`): `nestguard fleet keygen` and `fleet
//! sign` make them, `nestguard update` fetches one from a loopback HTTPS
//! server with a throwaway CA, checks its signature and version, and puts
//! it in force whole; the daemon's watcher reloads with it. Refused bundles
//! (bad signature, replayed, cut short, a drop-in that would not load)
//! leave the one in force as it was.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nestguard::app::Daemon;
use nestguard::config::{Config, ConfigSource};

use crate::support::cli::run;
use crate::support::daemon::{manual_env, udp_upstream};
use crate::support::http::{ListServer, http};
use crate::support::upstream::FakeUpstream;
use crate::support::{TempDir, TestCa, query_udp};

const TOKEN: &str = "fleet-bundle-monitoring-token";

/// A school's signing key, made by `nestguard fleet keygen`: (public key line, secret key file).
fn keygen(dir: &TempDir, name: &str) -> (String, PathBuf) {
    let (public, secret) = (
        dir.join(format!("{name}.pub")),
        dir.join(format!("{name}.key")),
    );
    let (code, out, err) = run(
        &[
            "fleet",
            "keygen",
            "--public",
            public.to_str().unwrap(),
            "--secret",
            secret.to_str().unwrap(),
        ],
        &dir.join("unused.toml"),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let line = std::fs::read_to_string(&public)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    assert!(out.contains(&format!("public_key = \"{line}\"")), "{out}");
    (line, secret)
}

/// `nestguard fleet sign` over a folder holding `files` (path, text): the
/// bundle and its signature.
fn sign(dir: &TempDir, key: &Path, version: u64, files: &[(&str, &str)]) -> (Vec<u8>, Vec<u8>) {
    let src = dir.join(format!("src-{version}-{}", files.len()));
    for (path, text) in files {
        let p = src.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out_path = dir.join(format!("school-{version}.bundle"));
    let (code, out, err) = run(
        &[
            "fleet",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--version",
            &version.to_string(),
            src.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ],
        &dir.join("unused.toml"),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let sig = PathBuf::from(format!("{}.minisig", out_path.display()));
    (
        std::fs::read(&out_path).unwrap(),
        std::fs::read(sig).unwrap(),
    )
}

/// A bundle that blocks `name` (a list of the adult category, which the default profile blocks).
fn blocking(name: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "conf.d/50-school.toml",
            "[policy]\nversion = \"school\"\n[[rules.list]]\npath = \"lists/school.txt\"\ncategory = \"adult\"\n"
                .to_string(),
        ),
        ("lists/school.txt", format!("{name}\n")),
    ]
}

fn files<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(p, t)| (*p, t.as_str())).collect()
}

/// The main config: the fleet's URL and key, the test CA, `extra` besides.
fn main_config(dir: &TempDir, url: &str, ca: &Path, key: &str, extra: &str) -> PathBuf {
    let path = dir.join("nestguard.toml");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(
        &path,
        format!(
            "{extra}[state]\ndir = \"{}\"\n[update]\nca_file = \"{}\"\n[fleet]\nurl = \"{url}\"\npublic_key = \"{key}\"\n",
            dir.join("state").display(),
            ca.display()
        ),
    )
    .unwrap();
    path
}

/// A fleet's server with one school's key, and a machine's config pointing at it.
struct Setup {
    _rt: tokio::runtime::Runtime,
    server: ListServer,
    dir: TempDir,
    key: PathBuf,
    config: PathBuf,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ca = TestCa::new();
    let server = rt.block_on(ListServer::start(&ca));
    let dir = TempDir::new();
    let ca_file = ca.write_ca_file(dir.path());
    let (public, key) = keygen(&dir, "school");
    let config = main_config(&dir, &server.url("/school.bundle"), &ca_file, &public, "");
    Setup {
        _rt: rt,
        server,
        dir,
        key,
        config,
    }
}

impl Setup {
    fn serve(&self, (bundle, sig): (Vec<u8>, Vec<u8>)) {
        self.server.set_path("/school.bundle", bundle);
        self.server.set_path("/school.bundle.minisig", sig);
    }

    fn update(&self) -> (Option<i32>, String) {
        let (code, out, err) = run(&["update"], &self.config);
        (code, format!("{out}{err}"))
    }

    fn in_force(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join("state/fleet/current/version")).ok()
    }

    fn explain(&self, name: &str) -> String {
        let (code, out, err) = run(&["explain", name, "--profile", "child"], &self.config);
        assert_eq!(code, Some(0), "{err}");
        out
    }
}

#[test]
fn what_fleet_sign_writes_verifies_with_the_public_key_from_fleet_keygen() {
    let dir = TempDir::new();
    let (public, key) = keygen(&dir, "school");
    let (bundle, sig) = sign(&dir, &key, 7, &files(&blocking("game.example")));
    // Checked here with the minisign crate directly, not nestguard's own path.
    let pk = minisign_verify::PublicKey::from_base64(&public).unwrap();
    let sig = minisign_verify::Signature::decode(std::str::from_utf8(&sig).unwrap()).unwrap();
    pk.verify(&bundle, &sig, false).unwrap();
    assert!(
        sig.trusted_comment().contains("version 7"),
        "{}",
        sig.trusted_comment()
    );
    let text = String::from_utf8(bundle.clone()).unwrap();
    assert!(text.contains("version = 7"), "{text}");
    assert!(text.contains("path = \"lists/school.txt\""), "{text}");
    // Another key's signature does not verify.
    let (other, _) = keygen(&dir, "other");
    let other = minisign_verify::PublicKey::from_base64(&other).unwrap();
    assert!(other.verify(&bundle, &sig, false).is_err());
    // The secret key is the signer's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
}

#[test]
fn a_replayed_older_bundle_is_refused_and_the_same_version_is_nothing_to_do() {
    let s = setup();
    s.serve(sign(&s.dir, &s.key, 2, &files(&blocking("two.example"))));
    let (code, out) = s.update();
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("fleet bundle: applied version 2 (2 files)"),
        "{out}"
    );
    assert_eq!(s.in_force().as_deref(), Some("2\n"));
    assert!(s.explain("two.example").contains("BLOCKED"));

    let (code, out) = s.update();
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("fleet bundle: version 2 already in force"),
        "{out}"
    );

    // Version 1, properly signed, served again (an attacker replaying it).
    s.serve(sign(&s.dir, &s.key, 1, &files(&blocking("one.example"))));
    let (code, out) = s.update();
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("REFUSED (replay), the bundle in force stays")
            && out.contains("version 1 is older than version 2 in force"),
        "{out}"
    );
    assert_eq!(s.in_force().as_deref(), Some("2\n"));
    assert!(s.explain("two.example").contains("BLOCKED"));
    assert!(!s.explain("one.example").contains("BLOCKED"));
    let record = std::fs::read_to_string(s.dir.join("state/fleet/record.toml")).unwrap();
    assert!(record.contains("replay = 1"), "{record}");
}

#[test]
fn a_bundle_cut_short_is_refused_and_the_previous_one_stays() {
    let s = setup();
    s.serve(sign(&s.dir, &s.key, 1, &files(&blocking("one.example"))));
    assert_eq!(s.update().0, Some(0));

    let (bundle, sig) = sign(&s.dir, &s.key, 2, &files(&blocking("two.example")));
    let half = bundle[..bundle.len() / 2].to_vec();
    // Cut short, with a Content-Length that says so: the signature fails.
    s.server.set_path("/school.bundle", half.clone());
    s.server.set_path("/school.bundle.minisig", sig.clone());
    let (code, out) = s.update();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("REFUSED (signature)"), "{out}");
    assert_eq!(s.in_force().as_deref(), Some("1\n"));
    // Cut short by the connection closing early: the download fails.
    s.server.set_path_cut("/school.bundle", half, bundle.len());
    let (code, out) = s.update();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("REFUSED (download)"), "{out}");
    assert_eq!(s.in_force().as_deref(), Some("1\n"));
    assert!(s.explain("one.example").contains("BLOCKED"));
    assert!(!s.explain("two.example").contains("BLOCKED"));
    // No half-unpacked bundle is left behind (the install lock's file stays).
    let left: Vec<_> = std::fs::read_dir(s.dir.join("state/fleet"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| (n.starts_with('.') && n != ".lock") || n == "v2")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_signed_bundle_whose_drop_in_would_not_load_is_not_applied() {
    let s = setup();
    s.serve(sign(&s.dir, &s.key, 1, &files(&blocking("one.example"))));
    assert_eq!(s.update().0, Some(0));
    // Signed by the school, but a drop-in may not hold [server]: every
    // machine would refuse it.
    s.serve(sign(
        &s.dir,
        &s.key,
        2,
        &[
            ("conf.d/50-school.toml", "[policy]\nversion = \"v2\"\n"),
            (
                "conf.d/60-oops.toml",
                "[server]\nlisten = [\"0.0.0.0:53\"]\n",
            ),
        ],
    ));
    let (code, out) = s.update();
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("REFUSED (drop_in)")
            && out.contains("60-oops.toml:1:2: a conf.d file may hold"),
        "{out}"
    );
    assert_eq!(s.in_force().as_deref(), Some("1\n"));
    // A list of the bundle that does not parse as TOML in a drop-in.
    s.serve(sign(
        &s.dir,
        &s.key,
        3,
        &[("conf.d/50-school.toml", "[policy\nversion = \"v3\"\n")],
    ));
    let (code, out) = s.update();
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("REFUSED (drop_in)") && out.contains("50-school.toml:1:"),
        "{out}"
    );
    assert_eq!(s.in_force().as_deref(), Some("1\n"));
    assert!(s.explain("one.example").contains("BLOCKED"));
}

/// `/metrics` over real HTTP with the monitoring token.
async fn scrape(admin: std::net::SocketAddr) -> String {
    let bearer = format!("Bearer {TOKEN}");
    let r = http(
        "127.0.0.1",
        admin,
        "GET",
        "/metrics",
        &[("Authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

fn value(body: &str, series: &str) -> f64 {
    let line = body
        .lines()
        .find(|l| l.starts_with(series))
        .unwrap_or_else(|| panic!("no {series} in:\n{body}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Polls the daemon with a real query until `name` gets `code` (at most 10 s of real time).
async fn answered(addr: std::net::SocketAddr, name: &str, code: ResponseCode) -> bool {
    for _ in 0..200 {
        if query_udp(addr, name, RecordType::A)
            .await
            .metadata
            .response_code
            == code
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_bundle_changes_what_the_daemon_blocks_and_a_bad_signature_changes_nothing() {
    let up = FakeUpstream::start().await;
    for name in ["game.example", "other.example"] {
        up.set_a(name, std::net::Ipv4Addr::new(192, 0, 2, 7), 300);
    }
    let ca = TestCa::new();
    let server = ListServer::start(&ca).await;
    let dir = TempDir::new();
    let ca_file = ca.write_ca_file(dir.path());
    let (public, key) = keygen(&dir, "school");
    let extra = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\n{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\nmetrics_token_hash = \"{}\"\n",
        udp_upstream(up.addr(), "1s"),
        nestguard::admin::token_hash(TOKEN),
    );
    let path = main_config(
        &dir,
        &server.url("/school.bundle"),
        &ca_file,
        &public,
        &extra,
    );
    let config = Config::load(&ConfigSource::File(path.clone())).unwrap();
    let (_clock, env) = manual_env();
    let d = Daemon::start_in(&config, env).await.unwrap();
    let (addr, admin) = (d.addrs[0], d.admin_addr.unwrap());
    assert_eq!(
        query_udp(addr, "game.example", RecordType::A)
            .await
            .metadata
            .response_code,
        ResponseCode::NoError
    );
    let m = scrape(admin).await;
    assert_eq!(value(&m, "nestguard_fleet_bundle_version "), 0.0);

    // The school publishes version 1; the machine's update takes it, and
    // the daemon's watcher reloads with it.
    let (bundle, sig) = sign(&dir, &key, 1, &files(&blocking("game.example")));
    server.set_path("/school.bundle", bundle);
    server.set_path("/school.bundle.minisig", sig);
    let p = path.clone();
    let (code, out, err) = tokio::task::spawn_blocking(move || run(&["update"], &p))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(answered(addr, "game.example", ResponseCode::NXDomain).await);
    let m = scrape(admin).await;
    assert_eq!(value(&m, "nestguard_fleet_bundle_version "), 1.0);

    // Version 2 signed with another key (a forged bundle): refused, counted,
    // and version 1 stays in force.
    let (_, forger) = keygen(&dir, "forger");
    let (bundle, sig) = sign(&dir, &forger, 2, &files(&blocking("other.example")));
    server.set_path("/school.bundle", bundle);
    server.set_path("/school.bundle.minisig", sig);
    let p = path.clone();
    let (code, out, _) = tokio::task::spawn_blocking(move || run(&["update"], &p))
        .await
        .unwrap();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("REFUSED (signature)"), "{out}");
    let m = scrape(admin).await;
    assert_eq!(value(&m, "nestguard_fleet_bundle_version "), 1.0);
    assert_eq!(
        value(
            &m,
            "nestguard_fleet_bundle_failures_total{reason=\"signature\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "nestguard_fleet_bundle_failures_total{reason=\"replay\"}"
        ),
        0.0
    );
    assert_eq!(
        query_udp(addr, "game.example", RecordType::A)
            .await
            .metadata
            .response_code,
        ResponseCode::NXDomain
    );
    assert_eq!(
        query_udp(addr, "other.example", RecordType::A)
            .await
            .metadata
            .response_code,
        ResponseCode::NoError
    );
    // `nestguard status` says which bundle is in force and what was refused.
    let p = path.clone();
    let (_, out, err) = tokio::task::spawn_blocking(move || run(&["status"], &p))
        .await
        .unwrap();
    assert!(
        out.contains("fleet bundle: version 1 in force")
            && out.contains("1 refused so far")
            && out.contains("signature:"),
        "{out}{err}"
    );
    d.shutdown().await;
}

#[test]
fn a_key_that_is_not_one_or_a_fleet_table_in_a_drop_in_is_refused_at_its_line() {
    let dir = TempDir::new();
    let (public, _) = keygen(&dir, "school");
    let ca = dir.join("none.pem");
    let path = main_config(&dir, "https://127.0.0.1:9/b", &ca, "RWQnot-a-key", "");
    let (code, _, err) = run(&["check"], &path);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "{}:7:14: fleet.public_key is not a minisign public key",
            path.display()
        )),
        "{err}"
    );
    // A URL without a key.
    std::fs::write(&path, "[fleet]\nurl = \"https://127.0.0.1:9/b\"\n").unwrap();
    let (code, _, err) = run(&["check"], &path);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(":2:7: fleet.url needs fleet.public_key"),
        "{err}"
    );
    // The key pinned in a drop-in: refused, so a bundle cannot bring its own key.
    std::fs::write(&path, "").unwrap();
    let drop_in = dir.join("conf.d/50-school.toml");
    std::fs::write(&drop_in, format!("[fleet]\npublic_key = \"{public}\"\n")).unwrap();
    let (code, _, err) = run(&["check"], &path);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "{}:1:2: a conf.d file may hold",
            drop_in.display()
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_fetches_the_bundle_by_itself_every_update_interval() {
    let up = FakeUpstream::start().await;
    up.set_a("game.example", std::net::Ipv4Addr::new(192, 0, 2, 7), 300);
    let ca = TestCa::new();
    let server = ListServer::start(&ca).await;
    let dir = TempDir::new();
    let ca_file = ca.write_ca_file(dir.path());
    let (public, key) = keygen(&dir, "school");
    let (bundle, sig) = sign(&dir, &key, 1, &files(&blocking("game.example")));
    server.set_path("/school.bundle", bundle);
    server.set_path("/school.bundle.minisig", sig);
    let extra = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\n{}",
        udp_upstream(up.addr(), "1s")
    );
    let path = main_config(
        &dir,
        &server.url("/school.bundle"),
        &ca_file,
        &public,
        &extra,
    );
    std::fs::write(
        dir.join("conf.d/10-update.toml"),
        "[update]\ninterval = \"6h\"\njitter = \"0s\"\n",
    )
    .unwrap();
    let config = Config::load(&ConfigSource::File(path)).unwrap();
    let (clock, env) = manual_env();
    let d = Daemon::start_in(&config, env).await.unwrap();
    // Nothing fetched yet: the first update is an interval after the start.
    assert!(answered(d.addrs[0], "game.example", ResponseCode::NoError).await);
    assert!(!dir.join("state/fleet/current").exists());
    // Six hours on the daemon's clock (not on the test's): the update runs.
    clock.advance(Duration::from_secs(6 * 3600));
    assert!(answered(d.addrs[0], "game.example", ResponseCode::NXDomain).await);
    assert_eq!(
        std::fs::read_to_string(dir.join("state/fleet/current/version")).unwrap(),
        "1\n"
    );
    d.shutdown().await;
}

/// A `nestguard update` and the daemon's own update at the same moment: the
/// one that fetched the older bundle waits for the other's install and then
/// refuses, rather than swapping the older bundle in last.
#[test]
fn an_update_waits_for_another_install_and_never_puts_an_older_bundle_over_a_newer_one() {
    let s = setup();
    s.serve(sign(&s.dir, &s.key, 1, &files(&blocking("one.example"))));
    assert_eq!(s.update().0, Some(0));
    let fleet = s.dir.join("state/fleet");
    // The other installer holds the install lock.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(fleet.join(".lock"))
        .unwrap();
    let held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).unwrap();

    let asked = s.server.request_count();
    s.serve(sign(&s.dir, &s.key, 3, &files(&blocking("three.example"))));
    let config = s.config.clone();
    let update = std::thread::spawn(move || run(&["update"], &config));
    // Version 3 fetched (bundle and signature): the update goes on to install it.
    let mut fetched = false;
    for _ in 0..600 {
        if s.server.request_count() >= asked + 2 {
            fetched = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(fetched, "the update fetched nothing");
    // Meanwhile the other installer puts version 5 in force, as `swap` does.
    std::fs::create_dir_all(fleet.join("v5/conf.d")).unwrap();
    std::fs::create_dir_all(fleet.join("v5/lists")).unwrap();
    std::fs::write(fleet.join("v5/version"), "5\n").unwrap();
    std::os::unix::fs::symlink("v5", fleet.join(".current.test")).unwrap();
    std::fs::rename(fleet.join(".current.test"), fleet.join("current")).unwrap();
    drop(held);

    let (code, out, err) = update.join().unwrap();
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        format!("{out}{err}").contains("version 3 is older than version 5 in force"),
        "{out}{err}"
    );
    assert_eq!(s.in_force().as_deref(), Some("5\n"));
}
