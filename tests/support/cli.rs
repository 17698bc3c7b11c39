//! Running the `nestguard` binary from a test.

use std::path::Path;
use std::process::Command;

/// Runs `nestguard ARGS -c CONFIG` with extra environment; its standard
/// output, after asserting it succeeded.
pub fn stdout_of(args: &[&str], config: &Path, env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(args)
        .arg("-c")
        .arg(config)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nestguard {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `nestguard ARGS -c CONFIG`: its exit code, standard output and standard error.
pub fn run(args: &[&str], config: &Path) -> (Option<i32>, String, String) {
    run_with_input(args, config, "")
}

/// [`run`] with `input` on standard input (`passwd` reads the password there).
pub fn run_with_input(args: &[&str], config: &Path, input: &str) -> (Option<i32>, String, String) {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .args(args)
        .arg("-c")
        .arg(config)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
