//! A fleet you can watch: drop-ins checked as drop-ins, `[update]` in
//! conf.d, and what `/metrics` tells a school's monitoring (the policy in
//! force, list ages, protection events, whether the machine uses nestguard).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nestguard::app::Daemon;
use nestguard::clock::ManualClock;
use nestguard::config::{Config, ConfigSource};

use crate::support::TempDir;
use crate::support::cli::run;
use crate::support::daemon::{manual_env, udp_upstream};
use crate::support::http::http;
use crate::support::upstream::FakeUpstream;

const TOKEN: &str = "fleet-monitoring-token";

/// A main config in `dir` (with an empty conf.d beside it); its path.
fn main_config(dir: &TempDir, extra: &str) -> PathBuf {
    let path = dir.join("nestguard.toml");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n{extra}",
            dir.join("state").display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn drop_in_check_refuses_what_every_machine_would_refuse_at_file_line_column() {
    let dir = TempDir::new();
    let main = main_config(
        &dir,
        "[[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"10.0.0.5\"]\n",
    );
    // Ansible's `validate` hands a temporary file, not named like the drop-in.
    let candidate = dir.join("tmp4fq9x");
    let broken = "# school policy\n[policy]\ndefault_profile = \"teen\"\n[server]\nlisten = [\"0.0.0.0:53\"]\n";
    std::fs::write(&candidate, broken).unwrap();
    let c = candidate.to_str().unwrap();
    let (code, _, err) = run(&["check", "--drop-in", c, "--as", "50-school.toml"], &main);
    assert_eq!(code, Some(2), "{err}");
    let at = format!("{c}:4:2: a conf.d file may hold");
    assert!(err.starts_with(&at), "expected {at}…, got: {err}");
    // Checked as a main config (what the role used to do), the same file passes.
    let (code, _, err) = run(&["check"], &candidate);
    assert_eq!(code, Some(0), "{err}");

    // A mistake only the whole config shows: a child the main file has already.
    std::fs::write(
        &candidate,
        "[policy]\nversion = \"2026-12\"\n\n[[child]]\nname = \"Leo\"\nprofile = \"teen\"\naddresses = [\"10.0.0.9\"]\n",
    )
    .unwrap();
    let (code, _, err) = run(&["check", "--drop-in", c], &main);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with(&format!("{c}:5:")), "{err}");
    assert!(err.contains("is already in"), "{err}");

    // The drop-in it replaces is left out: a new version of the same file passes.
    std::fs::write(
        dir.join("conf.d/50-school.toml"),
        "[[child]]\nname = \"Mia\"\nprofile = \"teen\"\naddresses = [\"10.0.0.8\"]\n",
    )
    .unwrap();
    std::fs::write(
        &candidate,
        "[policy]\nversion = \"2026-12\"\n[[child]]\nname = \"Mia\"\nprofile = \"child\"\naddresses = [\"10.0.0.8\"]\n",
    )
    .unwrap();
    let (code, out, err) = run(&["check", "--drop-in", c, "--as", "50-school.toml"], &main);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with(&format!("{c}: ok as a drop-in of ")),
        "{out}"
    );
    // Without --as it is read beside the old one, whose child it repeats.
    let (code, _, err) = run(&["check", "--drop-in", c], &main);
    assert_eq!(code, Some(2), "{err}");
    // A main config that is not there is an error, not a pass.
    let (code, _, err) = run(
        &["check", "--drop-in", c],
        Path::new("/nonexistent/nestguard.toml"),
    );
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn update_is_accepted_in_conf_d() {
    let dir = TempDir::new();
    let main = main_config(&dir, "[update]\ninterval = \"12h\"\n");
    std::fs::write(
        dir.join("conf.d/50-school.toml"),
        "[update]\nsubscriptions = [\"HaGeZi NSFW\"]\ninterval = \"0s\"\n\
         [[update.list]]\nname = \"school\"\nurl = \"https://lists.school.example/block.txt\"\ncategory = \"adult\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&["check"], &main);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ok"), "{out}");
    let config = Config::load(&ConfigSource::File(main.clone())).unwrap();
    assert_eq!(config.update.subscriptions, ["HaGeZi NSFW"]);
    assert_eq!(config.update.interval, Duration::ZERO);
    assert_eq!(config.update.lists.len(), 1);
    // A mistake in it is the drop-in's, at its line and column.
    let bad = dir.join("conf.d/60-typo.toml");
    std::fs::write(&bad, "[update]\nsubscriptions = [\"hagezi nsfw\"]\n").unwrap();
    let (code, _, err) = run(&["check"], &main);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with(&format!("{}:2:18: ", bad.display())),
        "{err}"
    );
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

/// The value of the one sample whose line starts with `series`.
fn value(body: &str, series: &str) -> f64 {
    let line = body
        .lines()
        .find(|l| l.starts_with(series))
        .unwrap_or_else(|| panic!("no {series} in:\n{body}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Sets `path`'s modification time to `secs` before the daemon's clock.
fn set_age(path: &Path, clock: &Arc<ManualClock>, secs: i64) {
    let now = nestguard::clock::Clock::manual(clock.clone()).timestamp();
    let at = now - jiff::SignedDuration::from_secs(secs);
    let f = std::fs::File::options().write(true).open(path).unwrap();
    let secs = u64::try_from(at.as_second()).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn fleet_config(dir: &TempDir, up: &FakeUpstream, policy: &str) -> String {
    format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\n{}[state]\ndir = \"{}\"\n\
         [admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\nmetrics_token_hash = \"{}\"\n\
         [policy]\n{policy}\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("state").display(),
        nestguard::admin::token_hash(TOKEN),
        dir.join("adult.txt").display(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_policy_list_ages_protection_events_and_the_system_resolver() {
    let up = FakeUpstream::start().await;
    let dir = TempDir::new();
    std::fs::write(dir.join("adult.txt"), "blocked.example\n").unwrap();
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc/systemd/resolved.conf.d")).unwrap();
    std::fs::write(root.join("etc/resolv.conf"), "nameserver 127.0.0.53\n").unwrap();
    let path = dir.join("nestguard.toml");
    std::fs::write(&path, fleet_config(&dir, &up, "version = \"2026-12-a\"")).unwrap();

    let (clock, mut env) = manual_env();
    env.system_root = root.clone();
    let config = Config::load(&ConfigSource::File(path.clone())).unwrap();
    let d = Daemon::start_in(&config, env).await.unwrap();
    // Only the monitoring token: /metrics is on without a dashboard password.
    let admin = d.admin_addr.expect("/metrics served with only the token");

    // The system resolver: resolved's stub, not yet pointed at nestguard.
    let m = scrape(admin).await;
    assert_eq!(value(&m, "nestguard_system_resolver_nestguard "), 0.0);
    std::fs::write(
        root.join("etc/systemd/resolved.conf.d/50-nestguard.conf"),
        format!("[Resolve]\nDNS={}\nDomains=~.\n", d.addrs[0]),
    )
    .unwrap();
    let m = scrape(admin).await;
    assert_eq!(value(&m, "nestguard_system_resolver_nestguard "), 1.0);

    // The policy in force.
    let info = m
        .lines()
        .find(|l| l.starts_with("nestguard_policy_info{"))
        .unwrap()
        .to_string();
    assert!(info.contains("version=\"2026-12-a\""), "{info}");
    assert!(info.contains("config_hash=\"sha256:"), "{info}");

    // List age moves with the clock and with the file.
    let list = format!(
        "nestguard_list_age_seconds{{list=\"{}\"}}",
        dir.join("adult.txt").display()
    );
    set_age(&dir.join("adult.txt"), &clock, 100);
    assert_eq!(value(&scrape(admin).await, &list), 100.0);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(value(&scrape(admin).await, &list), 3700.0);
    set_age(&dir.join("adult.txt"), &clock, 5);
    assert_eq!(value(&scrape(admin).await, &list), 5.0);

    // A reload with another config that loosens filtering: a protection
    // event, and another config hash and version.
    let kind = "nestguard_protection_events_total{kind=\"loosened\"}";
    let before = value(&m, kind);
    assert_eq!(
        value(&m, "nestguard_protection_events_total{kind=\"started\"}"),
        1.0
    );
    std::fs::write(
        &path,
        fleet_config(
            &dir,
            &up,
            "version = \"2026-12-b\"\ndefault_profile = \"unfiltered\"",
        ),
    )
    .unwrap();
    d.reload().await.unwrap();
    let m = scrape(admin).await;
    assert_eq!(value(&m, kind), before + 1.0, "{m}");
    let after = m
        .lines()
        .find(|l| l.starts_with("nestguard_policy_info{"))
        .unwrap();
    assert!(after.contains("version=\"2026-12-b\""), "{after}");
    let hash = |l: &str| {
        l.split("config_hash=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(hash(after), hash(&info));
    d.shutdown().await;
}
