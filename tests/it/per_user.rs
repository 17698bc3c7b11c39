//! Per-user profiles on an ordinary desktop: `users` in a `[[client]]` only
//! works when programs ask nestguard directly, not through systemd-resolved
//! or another local forwarder. `system-resolver enable` sets that up (and
//! `disable` undoes it byte for byte), `check` and `status` say when the
//! machine is not set up so, and the daemon says when queries arrive from a
//! forwarder's account.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use hickory_proto::rr::RecordType;

fn nestguard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nestguard"));
    cmd.env_remove("NESTGUARD_CONFIG").env_remove("RUST_LOG");
    cmd
}

/// `nestguard ARGS --root ROOT -c CONFIG`: exit code, stdout, stderr.
fn run_at(args: &[&str], root: &Path, config: &Path) -> (Option<i32>, String, String) {
    let out = nestguard()
        .args(args)
        .arg("--root")
        .arg(root)
        .arg("-c")
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const STUB: &str = "../run/systemd/resolve/stub-resolv.conf";
const NSSWITCH: &str = "# /etc/nsswitch.conf\n\npasswd:         files systemd\nhosts:          mymachines resolve [!UNAVAIL=return] files myhostname dns\nnetworks:       files\n";
const RESOLVED_CONF: &str = "[Resolve]\n#DNS=\n#DNSStubListener=yes\n";

/// A desktop as Ubuntu or Fedora ship it: systemd-resolved running, resolv.conf
/// a symlink to its stub file, `resolve` on nsswitch's hosts line.
fn desktop(dir: &TempDir) -> PathBuf {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc/systemd")).unwrap();
    std::fs::create_dir_all(root.join("run/systemd/resolve")).unwrap();
    std::fs::write(
        root.join("run/systemd/resolve/stub-resolv.conf"),
        "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(STUB, root.join("etc/resolv.conf")).unwrap();
    std::fs::write(root.join("etc/nsswitch.conf"), NSSWITCH).unwrap();
    std::fs::write(root.join("etc/systemd/resolved.conf"), RESOLVED_CONF).unwrap();
    root
}

/// Every file under `root` (not the nestguard record) with its bytes or symlink target.
fn snapshot(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if meta.file_type().is_symlink() {
                out.push((
                    rel,
                    format!("-> {}", std::fs::read_link(&p).unwrap().display()),
                ));
            } else if meta.is_dir() {
                dirs.push(p);
            } else {
                out.push((
                    rel,
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn per_user_config(dir: &TempDir, listen: &str) -> PathBuf {
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"{listen}\"]\n[state]\ndir = \"{}\"\n\
             [[client]]\nname = \"Mia\"\nprofile = \"young-child\"\nusers = [\"nobody\"]\n",
            dir.join("state").display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn with_per_user_clients_enable_makes_programs_ask_nestguard_directly_and_disable_restores_every_byte()
 {
    let dir = TempDir::new();
    let root = desktop(&dir);
    let config = per_user_config(&dir, "127.0.0.1:53");
    let before = snapshot(&root);

    // As shipped, `check` says why per-user profiles would not work.
    let (code, _, err) = run_at(&["check"], &root, &config);
    assert_eq!(code, Some(0), "a warning, not an error: {err}");
    assert!(
        err.contains("/etc/resolv.conf names 127.0.0.53, systemd-resolved's stub"),
        "{err}"
    );
    assert!(err.contains("/etc/nsswitch.conf has `resolve`"), "{err}");

    let (code, out, err) = run_at(&["system-resolver", "enable"], &root, &config);
    assert_eq!(code, Some(0), "{err}");
    // resolv.conf is a file naming nestguard, not resolved's stub.
    let resolv = root.join("etc/resolv.conf");
    assert!(
        !std::fs::symlink_metadata(&resolv)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let text = std::fs::read_to_string(&resolv).unwrap();
    assert!(text.contains("\nnameserver 127.0.0.1\n"), "{text}");
    assert!(!text.contains("127.0.0.53"), "{text}");
    // resolved's stub listener is off.
    let drop_in =
        std::fs::read_to_string(root.join("etc/systemd/resolved.conf.d/50-nestguard.conf"))
            .unwrap();
    assert!(drop_in.contains("\nDNSStubListener=no\n"), "{drop_in}");
    // Nothing in nsswitch goes to resolved around nestguard; the rest is as it was.
    let ns = std::fs::read_to_string(root.join("etc/nsswitch.conf")).unwrap();
    assert_eq!(
        ns,
        NSSWITCH.replace(
            "mymachines resolve [!UNAVAIL=return] files myhostname dns",
            "mymachines files myhostname dns"
        )
    );
    assert!(out.contains("nsswitch.conf"), "{out}");
    let (_, status, _) = run_at(&["system-resolver", "status"], &root, &config);
    assert!(
        status.contains("programs ask nestguard directly"),
        "{status}"
    );
    // And `check` is content now.
    let (code, _, err) = run_at(&["check"], &root, &config);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("per-user profiles"), "{err}");

    let (code, _, err) = run_at(&["system-resolver", "disable"], &root, &config);
    assert_eq!(code, Some(0), "{err}");
    let mut after = snapshot(&root);
    after.retain(|(p, _)| !p.starts_with("var/lib/nestguard"));
    assert_eq!(after, before, "every file back byte for byte");
    assert_eq!(
        std::fs::read_link(root.join("etc/resolv.conf")).unwrap(),
        PathBuf::from(STUB)
    );
}

#[test]
fn without_resolved_a_plain_resolv_conf_and_nsswitch_come_back_byte_for_byte() {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let resolv = b"# Generated by NetworkManager\nsearch lan\nnameserver 127.0.1.1\n";
    std::fs::write(root.join("etc/resolv.conf"), resolv).unwrap();
    let ns = "hosts: files resolve\n";
    std::fs::write(root.join("etc/nsswitch.conf"), ns).unwrap();
    let config = per_user_config(&dir, "127.0.0.1:53");

    // A local forwarder (dnsmasq at 127.0.1.1, as on older Ubuntu) is named too.
    let (_, _, err) = run_at(&["check"], &root, &config);
    assert!(
        err.contains("names 127.0.1.1, a local forwarder that is not nestguard"),
        "{err}"
    );

    let before = snapshot(&root);
    let (code, _, err) = run_at(&["system-resolver", "enable"], &root, &config);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        std::fs::read_to_string(root.join("etc/nsswitch.conf")).unwrap(),
        "hosts: files dns\n",
        "`resolve` replaced by `dns`, which asks nestguard"
    );
    assert!(!root.join("etc/systemd/resolved.conf.d").exists());
    let (code, _, err) = run_at(&["system-resolver", "disable"], &root, &config);
    assert_eq!(code, Some(0), "{err}");
    let mut after = snapshot(&root);
    after.retain(|(p, _)| !p.starts_with("var/lib/nestguard"));
    assert_eq!(after, before);
}

#[test]
fn per_user_clients_need_nestguard_on_port_53_and_nothing_changes_otherwise() {
    let dir = TempDir::new();
    let root = desktop(&dir);
    let config = per_user_config(&dir, "127.0.0.1:5353");
    let before = snapshot(&root);
    let (code, _, err) = run_at(&["system-resolver", "enable"], &root, &config);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "per-user profiles ([[client]] users) need programs to ask nestguard directly"
        ) && err.contains("port 53"),
        "{err}"
    );
    assert_eq!(snapshot(&root), before);
}

/// The daemon, run as a user would, with a per-user client: a query from a
/// system account no `[[client]]` names (this test runs as root, as a
/// forwarder running as root would) is logged and shown by `status`.
#[cfg(target_os = "linux")]
#[test]
fn queries_from_a_forwarders_account_are_warned_about_and_shown_by_status() {
    if !is_root() {
        eprintln!("SKIPPED: the test's own account must be a system account (root)");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    let dir = TempDir::new();
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n{}\
             [[client]]\nname = \"Mia\"\nprofile = \"young-child\"\nusers = [\"nobody\"]\n",
            dir.join("state").display(),
            udp_upstream(up.addr(), "1s")
        ),
    )
    .unwrap();
    let mut child = nestguard()
        .args(["run", "-c"])
        .arg(&path)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |what: &dyn Fn(&str) -> bool| -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(l) if what(&l) => return l,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no such log line");
    };
    let line = wait_for(&|l| l.contains("listening") && l.contains("addr="));
    let addr: SocketAddr = line
        .split("addr=")
        .nth(1)
        .and_then(|a| a.split_whitespace().next()?.parse().ok())
        .unwrap();
    rt.block_on(query_udp(addr, "example.com", RecordType::A));
    let warning = wait_for(&|l| l.contains("per-user profiles"));
    assert!(
        warning.contains("WARN") && warning.contains("system account uid 0"),
        "{warning}"
    );
    // The status shows it as a protection event (written within a second, off the query path).
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        let out = nestguard()
            .args(["status", "-c"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("per-user profiles do not apply") || Instant::now() > deadline {
            break text;
        }
        // A poll step: the (separate) daemon writing the event ends it.
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        status.contains("resolver ")
            && status.contains("per-user profiles do not apply: lookups arrive from the system account root (uid 0)"),
        "{status}"
    );
}
