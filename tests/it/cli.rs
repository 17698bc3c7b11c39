//! The `nestguard` binary as a user runs it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use hickory_proto::rr::RecordType;

/// Runs the binary with `args` followed by `path` (a config file, usually after `-c`).
fn run_with(args: &[&str], path: &std::path::Path) -> std::process::Output {
    nestguard().args(args).arg(path).output().unwrap()
}

fn nestguard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nestguard"));
    cmd.env_remove("NESTGUARD_CONFIG").env_remove("RUST_LOG");
    cmd
}

#[test]
fn check_reports_file_line_and_column() {
    let dir = TempDir::new();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = [\"127.0.0.1:5353\"]\nlisten_prot = 53\n",
    )
    .unwrap();
    let out = run_with(&["check", "--config"], &path);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let expected = format!("{}:3:1: unknown field `listen_prot`", path.display());
    assert!(err.starts_with(&expected), "stderr was: {err}");

    // A value of the wrong kind points at the value.
    std::fs::write(&path, "[cache]\nmax_entries = \"many\"\n").unwrap();
    let out = run_with(&["check", "-c"], &path);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("{}:2:15: ", path.display())),
        "stderr was: {err}"
    );

    // `run` refuses a broken config the same way, before binding anything.
    let out = run_with(&["run", "-c"], &path);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_accepts_a_good_file_and_the_embedded_default() {
    let dir = TempDir::new();
    let path = dir.join("good.toml");
    std::fs::write(
        &path,
        "[[upstream]]\nprotocol = \"udp\"\naddress = \"127.0.0.1:53\"\n",
    )
    .unwrap();
    let out = run_with(&["check", "--config"], &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (2 listen addresses, 1 upstream)"));

    // Through the environment variable too.
    let out = nestguard()
        .arg("check")
        .env("NESTGUARD_CONFIG", &path)
        .output()
        .unwrap();
    assert!(out.status.success());

    if std::path::Path::new("/etc/nestguard/nestguard.toml").exists() {
        eprintln!("skipping the embedded-default check: /etc/nestguard/nestguard.toml exists here");
        return;
    }
    let out = nestguard()
        .arg("check")
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("<embedded default>: ok (2 listen addresses, 2 upstreams)")
    );
}

#[test]
fn version_is_printed() {
    let out = nestguard().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("nestguard {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn status_and_sigterm_of_a_running_daemon() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    let dir = TempDir::new();
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n{}",
            dir.join("state").display(),
            udp_upstream(up.addr(), "1s")
        ),
    )
    .unwrap();
    let daemon_status = || {
        let out = run_with(&["status", "-c"], &path);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut child = nestguard()
        .args(["run", "--config"])
        .arg(&path)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The log names the address it bound; read until it does (bounded by lines).
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr: SocketAddr = lines
        .by_ref()
        .take(50)
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("addr=")
                .nth(1)
                .and_then(|a| a.split_whitespace().next()?.parse().ok())
        })
        .expect("daemon logs its listening address");
    let answer = rt.block_on(query_udp(addr, "example.com", RecordType::A));
    assert_eq!(a_records(&answer).len(), 1);
    let text = daemon_status();
    assert!(text.contains(": running, pid "), "{text}");
    assert!(text.contains("reload: none since start"), "{text}");
    assert!(
        text.contains(&format!("config: {}", path.display())),
        "{text}"
    );
    // Per category and per profile: the child preset blocks adult content.
    let count = |section: &str, key: &str| -> usize {
        let body = &text[text.find(section).unwrap()..];
        let line = body
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap();
        line.split_whitespace().last().unwrap().parse().unwrap()
    };
    assert!(count("per category:", "adult ") > 1000, "{text}");
    assert!(
        count("per profile:", "child ") >= count("per category:", "adult "),
        "{text}"
    );
    assert_eq!(count("per profile:", "unfiltered "), 0, "{text}");
    // The per-category counts add up to the total of distinct names.
    let section = &text[text.find("per category:").unwrap()..text.find("per profile:").unwrap()];
    let sum: usize = section
        .lines()
        .skip(1)
        .filter(|l| !l.contains("total"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<usize>().ok())
        .sum();
    assert_eq!(
        sum,
        count("per category:", "total (distinct names)"),
        "{text}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let asked = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "still running 2 s after SIGTERM"
        );
        // A poll step: the process exiting is what ends it.
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
    // Drain the log so the child is not blocked on a full pipe (it has exited anyway).
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("shutting down")),
        "log: {rest:?}"
    );
    // Filtering is off now: `status` says so, with exit status 3, and names the event.
    let out = run_with(&["status", "-c"], &path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("STOPPED at"), "{text}");
    assert!(
        text.contains("filtering stopped (the service was stopped)"),
        "{text}"
    );
}

/// A config adding the admin's own block list and exception list to the `adult` category.
fn explain_fixture(dir: &TempDir) -> std::path::PathBuf {
    std::fs::write(
        dir.join("blocks.txt"),
        "# school blocks\n||blocked.example^\n",
    )
    .unwrap();
    std::fs::write(dir.join("allow.txt"), "@@||ok.blocked.example^\n").unwrap();
    let config = dir.join("nestguard.toml");
    std::fs::write(
        &config,
        "[[rules.list]]\npath = \"blocks.txt\"\ncategory = \"adult\"\n\n[[rules.list]]\npath = \"allow.txt\"\ncategory = \"adult\"\nallow = true\n",
    )
    .unwrap();
    config
}

#[test]
fn explain_names_the_blocking_rule_with_file_and_line() {
    let dir = TempDir::new();
    let config = explain_fixture(&dir);
    let out = run_with(
        &["explain", "www.blocked.example", "--profile", "child", "-c"],
        &config,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("BLOCKED: adult"), "{text}");
    let rule = format!("{}:2: ||blocked.example^", dir.join("blocks.txt").display());
    assert!(text.contains(&rule), "{text}");
}

#[test]
fn explain_names_the_exception_that_wins() {
    let dir = TempDir::new();
    let config = explain_fixture(&dir);
    let out = run_with(&["explain", "a.ok.blocked.example", "-c"], &config);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exception = format!(
        "ALLOWED by exception {}:1: @@||ok.blocked.example^",
        dir.join("allow.txt").display()
    );
    assert!(text.contains(&exception), "{text}");
    let overridden = format!(
        "which wins over {}:2: ||blocked.example^",
        dir.join("blocks.txt").display()
    );
    assert!(text.contains(&overridden), "{text}");

    // Unknown profiles are named, with the ones that exist.
    let out = run_with(
        &["explain", "x.example", "--profile", "toddler", "-c"],
        &config,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no profile `toddler`"));
}

#[test]
fn lists_over_the_memory_budget_are_refused_before_loading() {
    let dir = TempDir::new();
    let big: String = (0..40_000)
        .map(|i| format!("generated-name-{i}.example\n"))
        .collect();
    std::fs::write(dir.join("huge.txt"), big).unwrap();
    let config = dir.join("nestguard.toml");
    std::fs::write(&config, "[rules]\nmemory_budget_mib = 1\n\n[[rules.list]]\npath = \"huge.txt\"\ncategory = \"gaming\"\n").unwrap();
    let out = run_with(&["check", "-c"], &config);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("more than the memory budget of 1 MiB"),
        "{err}"
    );
    assert!(
        err.contains(&dir.join("huge.txt").display().to_string()),
        "the message names the list: {err}"
    );
}

#[test]
fn allow_adds_lists_and_ends_temporary_allows() {
    let dir = TempDir::new();
    let config = dir.join("nestguard.toml");
    std::fs::write(
        &config,
        format!("[state]\ndir = \"{}\"\n", dir.join("state").display()),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = nestguard()
            .args(args)
            .arg("-c")
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&[
        "allow",
        "Games.Example",
        "--profile",
        "child",
        "--for",
        "90m",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("allowed games.example for profile child until "),
        "{out}"
    );
    let file = std::fs::read_to_string(dir.join("state/overrides.toml")).unwrap();
    assert!(file.contains("name = \"games.example\""), "{file}");

    let (_, out, _) = run(&["allow", "--list"]);
    assert!(out.starts_with("games.example for child until "), "{out}");
    assert!(out.contains(", by cli (user "), "who made it: {out}");

    // Mistakes are named: an unknown profile, a duration past 30 days.
    let (code, _, err) = run(&["allow", "x.example", "--profile", "toddler"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no profile `toddler`"), "{err}");
    let (code, _, err) = run(&["allow", "x.example", "-p", "child", "--for", "40days"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("30 days"), "{err}");

    // explain --client sees the allow.
    let (code, out, err) = run(&["explain", "www.games.example", "--client", "192.168.1.9"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("profile child (no [[client]] matches"),
        "{out}"
    );
    assert!(out.contains("a temporary allow"), "{out}");

    let (code, out, _) = run(&["allow", "--end", "games.example"]);
    assert_eq!(code, Some(0));
    assert_eq!(out, "ended 1 temporary allow of games.example\n");
    let (_, out, _) = run(&["allow", "--list"]);
    assert_eq!(out, "no temporary allows\n");
}

#[test]
fn explain_for_a_client_at_a_time_shows_profile_and_schedule() {
    let dir = TempDir::new();
    let config = dir.join("nestguard.toml");
    std::fs::write(
        &config,
        format!(
            "[state]\ndir = \"{}\"\n\
             [[client]]\nname = \"Leo\"\nprofile = \"young-child\"\nmacs = [\"02:00:5e:00:00:01\"]\n\
             [[schedule]]\nprofile = \"young-child\"\nname = \"bedtime\"\ndays = [\"sun\"]\nfrom = \"19:30\"\nto = \"07:00\"\nallow_only = true\n",
            dir.join("state").display()
        ),
    )
    .unwrap();
    let explain = |at: &str| {
        let out = nestguard()
            .args([
                "explain",
                "wikipedia.org",
                "--client",
                "02:00:5E:00:00:01",
                "--at",
                at,
                "-c",
            ])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // 2026-11-22 is a Sunday.
    let night = explain("2026-11-22T21:30");
    assert!(
        night.contains("profile young-child ([[client]] \"Leo\" by MAC address 02:00:5e:00:00:01)"),
        "{night}"
    );
    assert!(night.contains("schedule \"bedtime\" is open"), "{night}");
    assert!(night.contains("BLOCKED by schedule \"bedtime\""), "{night}");
    let day = explain("2026-11-22 12:00");
    assert!(day.contains("no schedule window open"), "{day}");
    assert!(day.contains("not blocked"), "{day}");
}

#[test]
fn the_readme_family_example_passes_check() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```toml\n# A family of three children")
        .expect("the family example is in the README");
    let body = &readme[start + "```toml\n".len()..];
    let example = &body[..body.find("```").unwrap()];
    let dir = TempDir::new();
    let path = dir.join("family.toml");
    std::fs::write(&path, example).unwrap();
    let out = run_with(&["check", "-c"], &path);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // This machine has no such accounts: named, not fatal.
    assert!(
        err.contains("no user `leo` on this system; ignored"),
        "{err}"
    );
}

#[test]
fn passwd_writes_an_argon2_hash_and_keeps_the_file() {
    let dir = TempDir::new();
    let config = dir.join("nestguard.toml");
    std::fs::write(
        &config,
        "# my settings\n[policy]\ndefault_profile = \"teen\"\n",
    )
    .unwrap();
    let (code, _, err) =
        crate::support::cli::run_with_input(&["passwd"], &config, "a long passphrase\n");
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with("# my settings\n[policy]\ndefault_profile = \"teen\"\n"),
        "{text}"
    );
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("password_hash = \""))
        .and_then(|h| h.strip_suffix('"'))
        .expect("a password_hash line");
    assert!(nestguard::admin::auth::verify_password(
        hash,
        "a long passphrase"
    ));
    assert!(!nestguard::admin::auth::verify_password(
        hash,
        "a long passphrasf"
    ));
    // The file still checks.
    let out = run_with(&["check", "-c"], &config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Too short: refused, nothing written.
    let (code, _, _) = crate::support::cli::run_with_input(&["passwd"], &config, "short\n");
    assert_eq!(code, Some(2));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
}

#[test]
fn system_resolver_enable_then_disable_restores_resolv_conf_exactly() {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let original = b"# Generated by NetworkManager\nsearch lan\nnameserver 192.168.1.1\n";
    std::fs::write(root.join("etc/resolv.conf"), original).unwrap();
    let config = dir.join("nestguard.toml");
    std::fs::write(
        &config,
        "[server]\nlisten = [\"127.0.0.1:53\", \"[::1]:53\"]\n",
    )
    .unwrap();
    let run = |action: &str| {
        let out = nestguard()
            .args(["system-resolver", action, "--root"])
            .arg(&root)
            .arg("-c")
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run("status").starts_with("disabled"));
    run("enable");
    assert!(
        std::fs::read_to_string(root.join("etc/resolv.conf"))
            .unwrap()
            .contains("nameserver 127.0.0.1")
    );
    assert!(run("status").starts_with("enabled: /etc/resolv.conf replaced"));
    run("disable");
    assert_eq!(
        std::fs::read(root.join("etc/resolv.conf")).unwrap(),
        original
    );
    assert!(run("status").starts_with("disabled"));
}

#[test]
fn the_router_preset_passes_check() {
    // The preset alone, under a [server] table (`openwrt::` checks what
    // `nestguard openwrt-config` makes of it with the shipped UCI file).
    let preset = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/openwrt/nestguard/files/router.toml"
    ))
    .unwrap();
    let dir = TempDir::new();
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!("[server]\nlisten = [\"127.0.0.1:5353\"]\n{preset}"),
    )
    .unwrap();
    let out = run_with(&["check", "-c"], &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn as_root_a_config_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    if !is_root() {
        eprintln!("SKIPPED as_root_a_config_others_can_write_is_refused: not running as root");
        return;
    }
    let dir = TempDir::new();
    let path = dir.join("nestguard.toml");
    std::fs::write(&path, "[server]\nlisten = [\"127.0.0.1:0\"]\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = run_with(&["run", "-c"], &path);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "refusing to run as root: {} can be changed by users other than root",
            path.display()
        )),
        "{err}"
    );
    // The same for a world-writable config directory.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = run_with(&["run", "-c"], &path);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to run as root"));
}

/// Starts `nestguard run -c path` with `env`; the child and the address it listens on.
fn spawn_daemon(
    path: &std::path::Path,
    env: &[(&str, &std::path::Path)],
) -> (std::process::Child, SocketAddr) {
    let mut cmd = nestguard();
    cmd.args(["run", "-c"])
        .arg(path)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let addr = line
                .split("addr=")
                .nth(1)
                .and_then(|a| a.split_whitespace().next()?.parse::<SocketAddr>().ok());
            if let Some(a) = addr {
                let _ = tx.send(a);
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("daemon logs its listening address");
    (child, addr)
}

#[test]
fn status_with_a_broken_config_finds_the_running_daemon_and_never_another_ones_state() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    let dir = TempDir::new();
    // Another instance's state, where `status` used to fall back to: it stopped.
    let other = dir.join("other-state");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("status.toml"),
        "pid = 4194304\nversion = \"0.0.1\"\nstarted = \"2026-01-01T00:00:00Z\"\n\
         stopped = \"2026-01-01T01:00:00Z\"\nconfig = [\"/elsewhere/nestguard.toml\"]\n\
         [rules]\ndomain_rules = 0\nkeywords = 0\nregexes = 0\n[rules.categories]\n[rules.profiles]\n",
    )
    .unwrap();
    let runtime = dir.join("run");
    let path = dir.join("nestguard.toml");
    let good = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n{}",
        dir.join("state").display(),
        udp_upstream(up.addr(), "1s")
    );
    std::fs::write(&path, &good).unwrap();
    let env: [(&str, &std::path::Path); 2] =
        [("STATE_DIRECTORY", &other), ("RUNTIME_DIRECTORY", &runtime)];
    let (mut child, _) = spawn_daemon(&path, &env);
    let status = |config: &std::path::Path| {
        let out = nestguard()
            .args(["status", "-c"])
            .arg(config)
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // A TOML syntax error after the [state] table.
    std::fs::write(&path, format!("{good}\nthis is not toml\n")).unwrap();
    let (code, out, err) = status(&path);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(&format!(": running, pid {}", child.id())),
        "{out}{err}"
    );
    assert!(!out.contains("STOPPED"), "{out}");

    // Broken so that nothing in it names a state folder, and no daemon ever
    // ran with it: `status` says it cannot tell, rather than showing another's.
    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "[server]\nlisten = [\n").unwrap();
    let (code, out, err) = status(&broken);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(!out.contains("STOPPED") && out.is_empty(), "{out}");
    assert!(err.contains("cannot tell which state folder"), "{err}");

    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn allow_writes_where_the_running_daemon_reads_and_says_when_none_runs() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(FakeUpstream::start());
    let dir = TempDir::new();
    // As under systemd: the daemon's state folder comes from STATE_DIRECTORY,
    // which a parent's shell does not have.
    let daemon_state = dir.join("var-lib-nestguard");
    let runtime = dir.join("run");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n{}",
            udp_upstream(up.addr(), "1s")
        ),
    )
    .unwrap();
    let allow = || {
        let out = nestguard()
            .args(["allow", "games.example", "--profile", "child", "-c"])
            .arg(&path)
            .env_remove("STATE_DIRECTORY")
            .env("RUNTIME_DIRECTORY", &runtime)
            .env("HOME", &home)
            .env("XDG_STATE_HOME", home.join("state"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let env: [(&str, &std::path::Path); 2] = [
        ("STATE_DIRECTORY", &daemon_state),
        ("RUNTIME_DIRECTORY", &runtime),
    ];
    let (mut child, _) = spawn_daemon(&path, &env);
    let out = allow();
    assert!(
        out.contains(&format!(
            "the running daemon (pid {}) applies it",
            child.id()
        )),
        "{out}"
    );
    assert!(
        daemon_state.join("overrides.toml").is_file(),
        "written where the daemon reads: {out}"
    );
    let _ = child.kill();
    let _ = child.wait();

    // No daemon: it says so rather than promising.
    let out = allow();
    assert!(
        out.contains("no running nestguard daemon was found"),
        "{out}"
    );
    assert!(!out.contains("applies it within a second"), "{out}");
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    // `nestguard check 2>&1 | head -1`: the reader is gone before the
    // command writes. It must end as it would have, not panic on the pipe.
    let dir = TempDir::new();
    let path = dir.join("good.toml");
    std::fs::write(
        &path,
        "[[upstream]]\nprotocol = \"udp\"\naddress = \"127.0.0.1:53\"\n",
    )
    .unwrap();
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    // Standard output closed, standard error read.
    let out = nestguard()
        .args(["check", "--config"])
        .arg(&path)
        .stdout(closed())
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
    // Both closed (`2>&1 | head`).
    let status = nestguard()
        .args(["check", "--config"])
        .arg(&path)
        .stdout(closed())
        .stderr(closed())
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
}
