//! What `nestguard check` promises: it refuses what the daemon or `update`
//! would later refuse or silently ignore, at the line that says it; and the
//! other commands' output a parent relies on (`report`, the start of `run`).

use std::path::Path;
use std::process::Command;

use crate::support::TempDir;
use crate::support::cli::run;

/// Writes `text` as `nestguard.toml` in `dir`; its path.
fn config(dir: &TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!("[server]\nlisten = [\"127.0.0.1:0\"]\n{text}"),
    )
    .unwrap();
    path
}

/// `check` exits 2 with stderr starting `PATH:LINE:COLUMN: `, and `run`
/// refuses the same config the same way before binding anything.
fn refused_at(path: &Path, line: usize, column: usize) -> String {
    let (code, _, err) = run(&["check"], path);
    assert_eq!(code, Some(2), "check must refuse it: {err}");
    let at = format!("{}:{line}:{column}: ", path.display());
    assert!(err.starts_with(&at), "expected {at}…, got: {err}");
    let (code, _, run_err) = run(&["run"], path);
    assert_eq!(code, Some(2), "the daemon must refuse it too: {run_err}");
    assert!(run_err.starts_with(&at), "{run_err}");
    err
}

#[test]
fn check_refuses_unknown_subscription_names_where_they_are_written() {
    let dir = TempDir::new();
    let path = config(
        &dir,
        "[update]\nsubscriptions = [\"HaGeZi NSFW\", \"hagezi gambling\"]\n",
    );
    let err = refused_at(&path, 4, 33);
    assert!(
        err.contains("no subscription named `hagezi gambling`"),
        "{err}"
    );
    assert!(err.contains("did you mean \"HaGeZi Gambling\"?"), "{err}");
    // `all` and the real names pass.
    let path = config(
        &dir,
        "[update]\nsubscriptions = [\"HaGeZi NSFW\", \"all\"]\ninterval = \"0s\"\n",
    );
    let (code, _, err) = run(&["check"], &path);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn check_refuses_http_list_urls_that_update_would_refuse() {
    let dir = TempDir::new();
    let path = config(
        &dir,
        "[[update.list]]\nname = \"school\"\nurl = \"http://lists.example/school.txt\"\ncategory = \"adult\"\n",
    );
    let err = refused_at(&path, 5, 7);
    assert!(
        err.contains("only https:// and file:// URLs are accepted"),
        "{err}"
    );
    let path = config(
        &dir,
        "[[update.list]]\nname = \"school\"\nurl = \"https://lists.example/school.txt\"\ncategory = \"adult\"\n[update]\ninterval = \"0s\"\n",
    );
    let (code, _, err) = run(&["check"], &path);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn check_refuses_country_codes_without_help_lines_and_suggests_gb_for_uk() {
    let dir = TempDir::new();
    let path = config(&dir, "[admin]\ncountry = \"UK\"\n");
    let err = refused_at(&path, 4, 11);
    assert!(
        err.contains("`UK` is not an ISO 3166-1 alpha-2 code: use `GB`"),
        "{err}"
    );
    // A real code the help-line file does not know would show no help line:
    // refused, with the list of the ones it has.
    let path = config(&dir, "[admin]\ncountry = \"US\"\n");
    let err = refused_at(&path, 4, 11);
    assert!(err.contains("has no help lines for it"), "{err}");
    for code in ["AT", "CH", "DE", "GB", "IS", "LI", "NO", "PL", "SE"] {
        assert!(
            err.contains(code),
            "the known codes are listed ({code}): {err}"
        );
    }
    for good in ["GB", "gb", "PL", "ch", ""] {
        let path = config(&dir, &format!("[admin]\ncountry = \"{good}\"\n"));
        let (code, _, err) = run(&["check"], &path);
        assert_eq!(code, Some(0), "{good}: {err}");
    }
}

#[test]
fn check_refuses_a_client_with_nothing_to_match_it_by() {
    let dir = TempDir::new();
    let path = config(
        &dir,
        "[[client]]\nname = \"Mia\"\nprofile = \"young-child\"\n",
    );
    let err = refused_at(&path, 3, 1);
    assert!(
        err.contains(
            "(\"Mia\") has nothing to match it by: give it addresses, macs, users or listeners"
        ),
        "{err}"
    );
}

#[test]
fn a_missing_list_file_is_named_once_at_the_config_line_that_refers_to_it() {
    let dir = TempDir::new();
    let path = config(
        &dir,
        "\n[[rules.list]]\npath = \"school-blocks.txt\"\ncategory = \"adult\"\n",
    );
    let err = refused_at(&path, 5, 8);
    let expected = format!(
        "{}:5:8: [[rules.list]] path \"school-blocks.txt\": cannot read {}: No such file or directory\n",
        path.display(),
        dir.join("school-blocks.txt").display()
    );
    assert_eq!(err, expected);

    // An unknown category is named at the same line, once.
    std::fs::write(dir.join("school-blocks.txt"), "games.example\n").unwrap();
    let path = config(
        &dir,
        "\n[[rules.list]]\npath = \"school-blocks.txt\"\ncategory = \"games\"\n",
    );
    let (code, _, err) = run(&["check"], &path);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with(&format!(
            "{}:5:8: [[rules.list]] path \"school-blocks.txt\": no category `games`",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "said once: {err}");
}

#[test]
fn report_for_a_profile_that_does_not_exist_is_an_error() {
    let dir = TempDir::new();
    let state = dir.join("state");
    nestguard::activity::events::note(&state, "resolver", "a test event");
    let path = config(&dir, &format!("[state]\ndir = \"{}\"\n", state.display()));
    let (code, out, err) = run(&["report", "--profile", "nosuch"], &path);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        err.contains("no profile `nosuch`; profiles: ")
            && err.contains("young-child")
            && err.contains("teen"),
        "{err}"
    );
    // A real profile without activity is not an error.
    let (code, out, err) = run(&["report", "--profile", "teen"], &path);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("no activity recorded"), "{out}");
}

/// Every string or number under a key that names a time.
fn timestamps(v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if ["at", "since", "until", "started", "stopped"].contains(&k.as_str()) {
                    out.push((k.clone(), v.clone()));
                }
                timestamps(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| timestamps(v, out)),
        _ => {}
    }
}

#[test]
fn report_json_gives_every_timestamp_as_rfc_3339() {
    let dir = TempDir::new();
    let state = dir.join("state");
    nestguard::activity::events::note(&state, "resolver", "a test event");
    let path = config(&dir, &format!("[state]\ndir = \"{}\"\n", state.display()));
    let (code, out, err) = run(&["report", "--format", "json"], &path);
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut found = Vec::new();
    timestamps(&json, &mut found);
    let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    assert!(keys.contains(&"at") && keys.contains(&"since"), "{out}");
    for (k, v) in found {
        let text = v
            .as_str()
            .unwrap_or_else(|| panic!("`{k}` is {v}, not an RFC 3339 string"));
        text.parse::<jiff::Timestamp>()
            .unwrap_or_else(|e| panic!("`{k}` = {text}: {e}"));
        assert!(text.ends_with('Z') && text.contains('T'), "{k} = {text}");
    }
}

#[test]
fn the_port_53_hint_names_root_the_capability_and_port_5353() {
    let denied = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        .context("cannot listen on 127.0.0.1:53");
    let listen = ["127.0.0.1:53".parse().unwrap()];
    let hint = nestguard::cli::listen_hint(&denied, &listen).expect("a hint");
    for part in ["root", "CAP_NET_BIND_SERVICE", "5353", "setcap"] {
        assert!(hint.contains(part), "{part}: {hint}");
    }
    // Not for other errors, nor for high ports.
    let in_use = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::AddrInUse));
    assert!(nestguard::cli::listen_hint(&in_use, &listen).is_none());
    let high = ["127.0.0.1:5353".parse().unwrap()];
    assert!(nestguard::cli::listen_hint(&denied, &high).is_none());
}

#[cfg(target_os = "linux")]
#[test]
fn a_normal_user_starting_the_daemon_on_port_53_is_told_how_to() {
    use std::os::unix::fs::PermissionsExt;
    let unprivileged_from: u16 =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(1024);
    if !crate::support::is_root()
        || unprivileged_from <= 53
        || !Path::new("/usr/bin/setpriv").exists()
    {
        eprintln!("SKIPPED: needs root, setpriv and port 53 privileged");
        return;
    }
    let dir = TempDir::new();
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:53\"]\n[state]\ndir = \"{}\"\n[[upstream]]\nprotocol = \"udp\"\naddress = \"127.0.0.1:9\"\n",
            state.display()
        ),
    )
    .unwrap();
    // As `nobody`: the kernel refuses the bind before looking at whether the port is free.
    let out = Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_nestguard"))
        .args(["run", "-c"])
        .arg(&path)
        .env_remove("NESTGUARD_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    assert!(
        err.contains("hint: 127.0.0.1:53: port 53 is below 1024")
            && err.contains("CAP_NET_BIND_SERVICE")
            && err.contains("5353"),
        "{err}"
    );
}
