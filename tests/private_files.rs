//! What the daemon keeps about the family is private whatever the umask:
//! the state folder is 0700 and every file in it 0600 (the activity database
//! with its WAL and shared-memory files, the status, temporary allows,
//! downloaded lists). Its own test binary, because the umask is process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests say what failed by panicking

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use hickory_proto::rr::RecordType;
use support::*;

/// Every entry under `dir` (itself included) whose mode lets group or others in.
fn too_open(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode != want {
            out.push(format!("{} is {mode:o}, not {want:o}", p.display()));
        }
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                todo.push(e.unwrap().path());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_folder_is_0700_and_its_files_0600_under_umask_022() {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    let up = FakeUpstream::start().await;
    up.set_a("site.example.", std::net::Ipv4Addr::new(192, 0, 2, 1), 300);
    let dir = TempDir::new();
    std::fs::write(dir.join("feed.txt"), "fed.example\n").unwrap();
    for state in ["existing", "fresh/state"] {
        let state = dir.join(state);
        if !state.ends_with("fresh/state") {
            // Made by an earlier version (or by hand), under the usual umask.
            std::fs::create_dir_all(&state).unwrap();
            std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let text = format!(
            "{}[state]\ndir = \"{}\"\n[activity]\nflush_interval = \"100ms\"\n\
             [[update.list]]\nname = \"Feed\"\nurl = \"file://{}\"\ncategory = \"adult\"\n",
            udp_upstream(up.addr(), "1s"),
            state.display(),
            dir.join("feed.txt").display()
        );
        let config_path = dir.join("nestguard.toml");
        std::fs::write(
            &config_path,
            format!("[server]\nlisten = [\"127.0.0.1:0\"]\n{text}"),
        )
        .unwrap();
        let d = TestDaemon::start(&text).await;
        query_udp(d.addr, "site.example", RecordType::A).await;
        // A temporary allow and a download, by the commands a parent runs (same umask).
        support::cli::stdout_of(
            &["allow", "site.example", "--profile", "child", "--for", "1h"],
            &config_path,
            &[],
        );
        support::cli::stdout_of(&["update"], &config_path, &[]);
        // The activity database and its WAL exist once a flush has written
        // (asked for now, not waited for).
        d.daemon.flush_activity().await;
        let wal = state.join("activity.sqlite-wal");
        assert!(wal.exists(), "no WAL file after a flush");
        assert!(state.join("activity.sqlite-shm").exists());
        assert!(state.join("overrides.toml").exists());
        assert!(state.join("status.toml").exists());
        assert!(state.join("lists").exists());
        assert_eq!(too_open(&state), Vec::<String>::new(), "while running");
        d.stop().await;
        assert_eq!(too_open(&state), Vec::<String>::new(), "after a stop");
    }
}
