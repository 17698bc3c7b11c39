//! The OpenWrt package: `nestguard openwrt-config` (UCI → TOML), the init
//! script, and the daemon started from what they make.

use std::path::{Path, PathBuf};
use std::process::Command;

use hickory_proto::rr::RecordType;
use nestguard::config::{Config, ConfigSource};
use nestguard::openwrt::Generated;

use crate::support::*;

fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/openwrt/nestguard")
}

/// The shipped preset and the test's UCI text, in `dir`.
fn sources(dir: &TempDir, uci: &str) -> Generated {
    std::fs::write(dir.join("nestguard.uci"), uci).unwrap();
    Generated {
        uci: dir.join("nestguard.uci"),
        preset: package().join("files/router.toml"),
        admin: dir.join("admin.toml"),
    }
}

/// The config the daemon would read from what `sources` makes.
fn generated(g: &Generated) -> Config {
    let text = g.generate().unwrap_or_else(|e| panic!("{e}"));
    Config::parse(&text, "generated", None).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn nestguard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nestguard"));
    cmd.env_remove("NESTGUARD_CONFIG").env_remove("RUST_LOG");
    cmd
}

#[test]
fn openwrt_values_with_quotes_and_backslashes_are_escaped() {
    let dir = TempDir::new();
    // As `uci set` and `uci export` write them: single quotes keep a
    // backslash; a quote is '\''; double quotes take \" and \\.
    let g = sources(
        &dir,
        concat!(
            "config nestguard 'main'\n",
            "\tlist listen '127.0.0.1:5353'\n",
            "config client\n",
            "\toption name 'Leo \"the\" tablet \\ it'\\''s'\n",
            "\tlist mac '02:1a:2b:3c:4d:5e'\n",
            "config client 'sam'\n",
            "\toption name \"Sam \\\"phone\\\" \\\\ x\"\n",
            "\toption profile 'teen'\n",
            "\tlist mac '02:1a:2b:3c:4d:5f'\n",
        ),
    );
    let config = generated(&g);
    let names: Vec<_> = config
        .clients
        .iter()
        .map(|c| c.get_ref().name.clone())
        .collect();
    assert_eq!(
        names,
        [
            Some(r#"Leo "the" tablet \ it's"#.to_string()),
            Some(r#"Sam "phone" \ x"#.to_string())
        ]
    );
    assert_eq!(config.clients[1].get_ref().profile.get_ref(), "teen");
}

#[test]
fn openwrt_client_without_a_device_is_refused_with_its_line() {
    let dir = TempDir::new();
    let g = sources(
        &dir,
        "config nestguard 'main'\n\tlist listen '127.0.0.1:5353'\n\n#config client\nconfig client\n\toption name 'Leo tablet'\n\toption profile 'young-child'\n",
    );
    let e = g.generate().unwrap_err();
    let want = format!(
        "{}:5:1: client 'Leo tablet' has nothing to match its device by",
        g.uci.display()
    );
    assert!(e.starts_with(&want), "{e}");

    // The command says the same and writes nothing over the last good config.
    let out_file = dir.join("nestguard.toml");
    std::fs::write(&out_file, "# the last good one\n").unwrap();
    let out = nestguard()
        .arg("openwrt-config")
        .arg(&g.uci)
        .arg("--preset")
        .arg(&g.preset)
        .arg("--admin")
        .arg(&g.admin)
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&want));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "# the last good one\n"
    );
}

#[test]
fn openwrt_mistakes_are_named_with_file_line_and_column() {
    let dir = TempDir::new();
    for (uci, want) in [
        (
            "config nestguard 'main'\n\toption cache_entries 'many'\n",
            ":2:23: option cache_entries: `many` is not a whole number",
        ),
        (
            "config nestguard 'main'\n\toption lisen '127.0.0.1:53'\n",
            ":2:1: `config nestguard` has no option `lisen`",
        ),
        (
            "config nestguard 'main'\n\toption default_profile 'child\n",
            ":2:25: unterminated ' quote",
        ),
        (
            "config nestguard 'main'\nconfig dashboard\n",
            ":2:1: unknown section `config dashboard`",
        ),
        (
            "config nestguard 'main'\n\tlist upstream 'tls'\n",
            ":2:16: list upstream: `tls` is not `PROTOCOL ADDRESS [TLS_NAME]`",
        ),
    ] {
        let e = sources(&dir, uci).generate().unwrap_err();
        assert!(e.contains(want), "{uci}: {e}");
    }
    // What only the config's own checks know (not an address) is refused too.
    let e = sources(
        &dir,
        "config nestguard 'main'\n\tlist listen 'router.lan'\n",
    )
    .generate()
    .unwrap_err();
    assert!(e.starts_with("the generated config is refused"), "{e}");
}

#[test]
fn openwrt_dashboard_options_come_from_uci_and_the_admin_file_wins() {
    let dir = TempDir::new();
    let g = sources(
        &dir,
        concat!(
            "config nestguard 'main'\n",
            "config admin 'dashboard'\n",
            "\toption enabled '1'\n",
            "\toption listen '127.0.0.1:8053'\n",
            "\toption country 'GB'\n",
            "\toption password_hash 'from-uci'\n",
            "\toption metrics_token_hash 'sha256:0000000000000000000000000000000000000000000000000000000000000000'\n",
        ),
    );
    let config = generated(&g);
    assert!(config.admin.enabled);
    assert_eq!(config.admin.listen, "127.0.0.1:8053".parse().unwrap());
    assert_eq!(config.admin.password_hash.as_deref(), Some("from-uci"));
    assert!(config.admin.metrics_token_hash.is_some());

    std::fs::write(&g.admin, "[admin]\npassword_hash = \"from-passwd\"\n").unwrap();
    let config = generated(&g);
    assert_eq!(config.admin.password_hash.as_deref(), Some("from-passwd"));
    assert_eq!(config.admin.listen, "127.0.0.1:8053".parse().unwrap());
}

/// `nestguard passwd` on the router's generated config writes the persistent
/// [admin] file and makes the config again: the password survives the next
/// start, which makes the config afresh.
#[test]
fn openwrt_passwd_survives_the_init_script_making_the_config_again() {
    let dir = TempDir::new();
    let g = sources(
        &dir,
        "config nestguard 'main'\n\tlist listen '127.0.0.1:5353'\nconfig admin 'dashboard'\n\toption enabled '1'\n",
    );
    let conf = dir.join("var/etc/nestguard.toml");
    nestguard::openwrt::command(&g, Some(&conf)).unwrap();
    // As the init script links it, for commands that look in /etc/nestguard.
    let link = dir.join("etc/nestguard/nestguard.toml");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&conf, &link).unwrap();
    let (code, _, err) =
        crate::support::cli::run_with_input(&["passwd"], &link, "a long passphrase\n");
    assert_eq!(code, Some(0), "{err}");
    let hash_in = |p: &Path| {
        Config::load(&ConfigSource::File(p.to_path_buf()))
            .unwrap()
            .admin
            .password_hash
    };
    let hash = hash_in(&conf).expect("the running config has the password");
    assert!(nestguard::admin::auth::verify_password(
        &hash,
        "a long passphrase"
    ));
    assert!(std::fs::read_to_string(&g.admin).unwrap().contains(&hash));
    assert!(link.is_symlink(), "the link was replaced by a copy");
    // The next start (or reboot: /var is RAM) makes the config again.
    std::fs::remove_file(&conf).unwrap();
    nestguard::openwrt::command(&g, Some(&conf)).unwrap();
    assert_eq!(hash_in(&conf).as_deref(), Some(hash.as_str()));
}

#[test]
fn openwrt_init_script_is_posix_sh_and_runs_the_generator() {
    let script = package().join("files/nestguard.init");
    let out = Command::new("sh").arg("-n").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("openwrt-config /etc/config/nestguard"));
    // No TOML is written by hand in shell any more.
    assert!(!text.contains("echo \"["), "{text}");
}

/// The shipped UCI file and preset make a config the daemon starts from;
/// here on loopback, with the listen address and upstream set for the test
/// as a user would, with `uci set`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openwrt_daemon_runs_from_the_generated_config() {
    let upstream = FakeUpstream::start().await;
    upstream.set_a("example.com", "93.184.216.34".parse().unwrap(), 300);
    let dir = TempDir::new();
    let shipped = std::fs::read_to_string(package().join("files/nestguard.config")).unwrap();
    // The shipped file alone passes `nestguard check` (rules and profiles
    // too; its listen address is not taken here).
    let shipped_conf = dir.join("shipped.toml");
    nestguard::openwrt::command(&sources(&dir, &shipped), Some(&shipped_conf)).unwrap();
    let out = nestguard()
        .arg("check")
        .arg("-c")
        .arg(&shipped_conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let uci = shipped
        .replace("'127.0.0.1:5353'", "'127.0.0.1:0'")
        .replace(
            "\tlist upstream 'tls 9.9.9.9:853 dns.quad9.net'\n\tlist upstream 'tls 149.112.112.112:853 dns.quad9.net'\n",
            &format!(
                "\tlist upstream 'udp {}'\n\toption state_dir '{}'\n",
                upstream.addr(),
                dir.join("state").display()
            ),
        );
    assert_ne!(uci, shipped);
    let g = sources(&dir, &uci);
    let conf = dir.join("nestguard.toml");
    nestguard::openwrt::command(&g, Some(&conf)).unwrap();
    let config = Config::load(&ConfigSource::File(conf)).unwrap();
    assert_eq!(
        config.state.dir.as_deref(),
        Some(dir.join("state").as_path())
    );
    let daemon = nestguard::app::Daemon::start_in(&config, nestguard::app::Environment::system())
        .await
        .unwrap();
    let answer = query_udp(daemon.addrs[0], "example.com", RecordType::A).await;
    assert_eq!(
        a_records(&answer),
        ["93.184.216.34".parse::<std::net::Ipv4Addr>().unwrap()]
    );
    daemon.shutdown().await;
}

/// The heartbeat, read from the state folder's database.
fn alive_at(state: &Path) -> Option<i64> {
    let conn = nestguard::activity::store::Store::open_read_only(
        &nestguard::state::layout::activity_db(state),
    )
    .ok()?;
    conn.query_row("SELECT value FROM meta WHERE key = 'alive_at'", [], |r| {
        r.get::<_, String>(0)
    })
    .ok()?
    .parse()
    .ok()
}

/// `[state] save_interval` (the router's flash): the heartbeat is written
/// that often, not every 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openwrt_heartbeat_is_written_every_save_interval() {
    let dir = TempDir::new();
    let state = dir.path().to_path_buf();
    let (d, clock) = TestDaemon::start_manual(&format!(
        "[state]\ndir = \"{}\"\nsave_interval = \"4h\"\n",
        state.display()
    ))
    .await;
    let started = bounded_wait(|| alive_at(&state)).await;
    let first = started.expect("the start wrote a heartbeat");
    for _ in 0..(3 * 60 + 50) {
        clock.advance(std::time::Duration::from_secs(60));
        // A poll step: a beat the minute woke would be written meanwhile.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(alive_at(&state), Some(first), "written before 4 h");
    clock.advance(std::time::Duration::from_secs(15 * 60));
    let beat = bounded_wait(|| alive_at(&state).filter(|&t| t > first)).await;
    assert!(beat.is_some(), "no heartbeat at 4 h");
    d.stop().await;
}

/// The package builds what BENCHMARKS.md measures and `.ci/cross` runs:
/// the `router` profile without the desktop feature, with the SQLite build
/// options of `.cargo/config.toml` (which `cargo install` does not read), and
/// rust-package.mk from where a third-party feed finds it.
#[test]
fn openwrt_makefile_builds_the_measured_router_binary() {
    let makefile = std::fs::read_to_string(package().join("Makefile")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    let value = |text: &str, prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(|v| v.trim().trim_matches('"').to_string())
    };
    let flags =
        value(&config, "LIBSQLITE3_FLAGS = ").expect("LIBSQLITE3_FLAGS in .cargo/config.toml");
    assert!(flags.contains("-USQLITE_ENABLE_FTS5"), "{flags}");
    assert_eq!(
        value(&makefile, "CARGO_PKG_VARS+= LIBSQLITE3_FLAGS=").as_deref(),
        Some(flags.as_str()),
        "the Makefile's SQLite options differ from .cargo/config.toml's"
    );
    assert_eq!(
        value(&makefile, "CARGO_PKG_PROFILE:=").as_deref(),
        Some("$(if $(CONFIG_DEBUG),dev,router)")
    );
    assert!(makefile.contains("$(call Build/Compile/Cargo,,--no-default-features)"));
    assert!(makefile.contains("include $(TOPDIR)/feeds/packages/lang/rust/rust-package.mk"));
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let router = cargo.split("[profile.router]").nth(1).unwrap();
    for line in ["opt-level = \"z\"", "panic = \"abort\"", "strip = true"] {
        assert!(router.contains(line), "[profile.router] lacks {line}");
    }
}
