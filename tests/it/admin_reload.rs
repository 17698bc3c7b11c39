//! `[admin]` changes take effect on reload, over real sockets: a new password
//! signs everyone out and only it works; `nestguard passwd` turns on a
//! dashboard that was off for want of a password, within a second of the
//! file being written; turning the dashboard on, moving it and turning it
//! off in the config are each put in force by a reload.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::http::{http, post_login};
use crate::support::*;
use nestguard::app::Daemon;
use nestguard::config::{Config, ConfigSource};

const OLD_PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "staple tangerine lamp";

/// A loopback port free now: bound, then let go, so the config can name it
/// before the dashboard listens on it.
fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Writes the config file: a daemon on an ephemeral port, with `admin` as
/// its `[admin]` table.
fn write_config(dir: &TempDir, up: &FakeUpstream, admin: &str) -> PathBuf {
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n{}[admin]\n{admin}\n",
            dir.join("state").display(),
            udp_upstream(up.addr(), "1s")
        ),
    )
    .unwrap();
    path
}

async fn start(path: &Path) -> Daemon {
    let config = Config::load(&ConfigSource::File(path.to_path_buf())).unwrap();
    Daemon::start(&config).await.unwrap()
}

/// Logs in with `password`: the session cookie, or the status when refused.
async fn login(admin: SocketAddr, password: &str) -> Result<String, u16> {
    let r = post_login("127.0.0.1", admin, password).await;
    if r.status != 303 {
        return Err(r.status);
    }
    Ok(r.session_cookie().expect("a session cookie"))
}

/// The dashboard's status for `cookie`.
async fn dashboard(admin: SocketAddr, cookie: &str) -> u16 {
    http("127.0.0.1", admin, "GET", "/", &[("Cookie", cookie)], "")
        .await
        .status
}

/// Whether something accepts connections at `addr`.
async fn answers(addr: SocketAddr) -> bool {
    tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr))
        .await
        .is_ok_and(|c| c.is_ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_on_reload_ends_every_session_and_only_it_logs_in() {
    let up = FakeUpstream::start().await;
    let dir = TempDir::new();
    let old = nestguard::admin::auth::hash_password(OLD_PASSWORD).unwrap();
    let admin_table = |hash: &str| {
        format!("enabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\n")
    };
    let path = write_config(&dir, &up, &admin_table(&old));
    let d = start(&path).await;
    let admin = d.admin_addr.expect("the dashboard started");
    let session = login(admin, OLD_PASSWORD).await.expect("logged in");
    assert_eq!(dashboard(admin, &session).await, 200);

    // The parent changes the password (as `nestguard passwd` does) and the
    // daemon reloads: same listen address, so the same dashboard serves on.
    let new = nestguard::admin::auth::hash_password(NEW_PASSWORD).unwrap();
    write_config(&dir, &up, &admin_table(&new));
    d.reload().await.expect("the reload is accepted");

    assert_eq!(
        dashboard(admin, &session).await,
        401,
        "a session from before the change is over"
    );
    let fresh = login(admin, NEW_PASSWORD)
        .await
        .expect("the new password logs in");
    assert_eq!(dashboard(admin, &fresh).await, 200);
    // HTTP Basic (the API, Prometheus) follows the new password too.
    use base64::Engine as _;
    let basic = |p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("admin:{p}"))
        )
    };
    let r = http(
        "127.0.0.1",
        admin,
        "GET",
        "/api/status",
        &[("Authorization", &basic(NEW_PASSWORD))],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    // Checked last: a wrong guess slows the next one from the same user.
    assert_eq!(
        login(admin, OLD_PASSWORD).await,
        Err(401),
        "the old password no longer logs in"
    );

    // A reload that leaves the password as it is signs nobody out.
    d.reload().await.unwrap();
    assert_eq!(dashboard(admin, &fresh).await, 200);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nestguard_passwd_turns_on_a_dashboard_that_had_no_password_without_a_restart() {
    let up = FakeUpstream::start().await;
    let dir = TempDir::new();
    let admin = free_port();
    let path = write_config(
        &dir,
        &up,
        &format!("enabled = true\nlisten = \"{admin}\"\n"),
    );
    let d = start(&path).await;
    assert_eq!(d.admin_addr, None, "no password: the dashboard is off");
    assert!(!answers(admin).await);

    let mut child = Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(["passwd", "-c"])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{NEW_PASSWORD}\n").as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("within a second") && said.contains("signs this parent out"),
        "{said}"
    );

    // No SIGHUP: the daemon watches its config file and reloads by itself.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !answers(admin).await {
        assert!(
            Instant::now() < deadline,
            "the dashboard is not on 5 s after `nestguard passwd`"
        );
        // A poll step: the watcher's reload (real file events) is what ends it.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session = login(admin, NEW_PASSWORD)
        .await
        .expect("the password just set logs in");
    assert_eq!(dashboard(admin, &session).await, 200);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabling_moving_and_disabling_the_dashboard_take_effect_on_reload() {
    let up = FakeUpstream::start().await;
    let dir = TempDir::new();
    let hash = nestguard::admin::auth::hash_password(OLD_PASSWORD).unwrap();
    let first = free_port();
    let table = |enabled: bool, at: SocketAddr| {
        format!("enabled = {enabled}\nlisten = \"{at}\"\npassword_hash = \"{hash}\"\n")
    };
    let path = write_config(&dir, &up, &table(false, first));
    let d = start(&path).await;
    assert_eq!(d.admin_addr, None);
    assert!(!answers(first).await);

    // On.
    write_config(&dir, &up, &table(true, first));
    d.reload().await.unwrap();
    let session = login(first, OLD_PASSWORD)
        .await
        .expect("the dashboard is on and the password works");
    assert_eq!(dashboard(first, &session).await, 200);

    // Moved: it answers at the new address only.
    let second = free_port();
    write_config(&dir, &up, &table(true, second));
    d.reload().await.unwrap();
    assert!(login(second, OLD_PASSWORD).await.is_ok());
    assert!(!answers(first).await, "nothing left at the old address");
    assert_eq!(d.admin_addr_now(), Some(second));

    // Off.
    write_config(&dir, &up, &table(false, second));
    d.reload().await.unwrap();
    assert!(!answers(second).await, "the dashboard is off");
    assert_eq!(d.admin_addr_now(), None);
    d.shutdown().await;
}
