//! Signed policy bundles for fleets (`[fleet]`): a school signs its drop-ins
//! and lists once, every machine fetches them and checks the signature.
//!
//! A bundle is one TOML file (`version` and `[[file]]` tables with each
//! file's path and text) with a minisign signature beside it at the same URL
//! plus `.minisig`. `nestguard update` and the daemon's periodic update
//! fetch both, and take the bundle only if:
//! - the signature is good for `[fleet] public_key` (a truncated or altered
//!   download fails here),
//! - its version is above the one in force (an older one is a replay: refused;
//!   the same one: nothing to do),
//! - every path in it is `conf.d/<name>.toml` or `lists/<name>`,
//! - the whole config with its drop-ins in place loads and compiles (what
//!   `nestguard check --drop-in` checks).
//!
//! It is then unpacked into `<state>/fleet/v<version>/` and put in force by
//! replacing the symlink `<state>/fleet/current` (a rename, so the daemon
//! reads the old bundle or the new one, never half of one); the config
//! loader reads the bundle's `conf.d/` after the machine's own. A refused
//! bundle leaves the one in force as it was, and is counted by reason in
//! `<state>/fleet/record.toml` (for `/metrics` and `nestguard status`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{CONF_D, Config};
use crate::state::layout;

/// Why a bundle was refused: the `reason` label of
/// `nestguard_fleet_bundle_failures_total`.
pub const REASONS: [&str; 7] = [
    "download",
    "too_large",
    "signature",
    "format",
    "replay",
    "drop_in",
    "write",
];

/// The largest signature file read (a minisign signature is ~300 bytes).
const MAX_SIGNATURE: u64 = 16 * 1024;

/// A bundle as signed: its version and its files.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Must grow with each bundle published; a machine never goes back.
    pub version: u64,
    #[serde(default, rename = "file")]
    pub files: Vec<BundleFile>,
}

/// One file of a bundle.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    /// `conf.d/<name>.toml` or `lists/<name>`.
    pub path: String,
    pub text: String,
}

/// What came of one fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied { version: u64, files: usize },
    Unchanged { version: u64 },
    Refused { reason: &'static str, why: String },
}

impl Outcome {
    fn refused(reason: &'static str, why: impl Into<String>) -> Outcome {
        Outcome::Refused {
            reason,
            why: why.into(),
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Applied { version, files } => {
                write!(f, "applied version {version} ({files} files)")
            }
            Outcome::Unchanged { version } => write!(f, "version {version} already in force"),
            Outcome::Refused { reason, why } => {
                write!(f, "REFUSED ({reason}), the bundle in force stays: {why}")
            }
        }
    }
}

/// What is counted of bundles, kept in the state folder so that the
/// command and the daemon count into one record.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Record {
    /// Refused bundles by reason.
    #[serde(default)]
    pub failures: BTreeMap<String, u64>,
    pub last_failure: Option<String>,
    pub last_failure_at: Option<jiff::Timestamp>,
    pub applied_at: Option<jiff::Timestamp>,
}

impl Record {
    pub fn read(state_dir: &Path) -> Record {
        std::fs::read_to_string(layout::fleet_record(state_dir))
            .ok()
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn write(&self, state_dir: &Path) -> Result<(), String> {
        let path = layout::fleet_record(state_dir);
        let text = toml::to_string(self).map_err(|e| format!("{}: {e}", path.display()))?;
        crate::state::write_private(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The version of the bundle in force, if one is.
pub fn version_in_force(state_dir: &Path) -> Option<u64> {
    let dir = layout::fleet_bundle_in_force(state_dir)?;
    std::fs::read_to_string(dir.join("version"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Fetches, checks and applies the configured bundle; `None` without `[fleet] url`.
pub fn update(config: &Config) -> Option<Outcome> {
    let url = config.fleet.url.as_ref()?.get_ref().clone();
    let state_dir = crate::state::dir(config);
    let outcome = fetch_and_apply(config, &url, &state_dir);
    let mut record = Record::read(&state_dir);
    match &outcome {
        Outcome::Refused { reason, why } => {
            *record.failures.entry((*reason).to_string()).or_default() += 1;
            record.last_failure = Some(format!("{reason}: {why}"));
            record.last_failure_at = Some(jiff::Timestamp::now());
        }
        Outcome::Applied { .. } => record.applied_at = Some(jiff::Timestamp::now()),
        Outcome::Unchanged { .. } => return Some(outcome),
    }
    if let Err(e) = record.write(&state_dir) {
        tracing::warn!("fleet record: {e}");
    }
    Some(outcome)
}

fn fetch_and_apply(config: &Config, url: &str, state_dir: &Path) -> Outcome {
    let Some(key) = config.fleet.public_key.as_ref() else {
        return Outcome::refused("signature", "fleet.public_key is not set");
    };
    let key = match minisign_verify::PublicKey::from_base64(key.get_ref().trim()) {
        Ok(k) => k,
        Err(e) => return Outcome::refused("signature", format!("fleet.public_key: {e}")),
    };
    let limit = config.update.max_size_mib.saturating_mul(1 << 20);
    let sig_url = format!("{url}.minisig");
    let fetched = crate::download::agent(config)
        .map_err(Fetch::Failed)
        .and_then(|agent| {
            Ok((
                get(&agent, url, limit)?,
                get(&agent, &sig_url, MAX_SIGNATURE)?,
            ))
        });
    let (bytes, sig) = match fetched {
        Ok(x) => x,
        Err(Fetch::TooLarge(what)) => {
            return Outcome::refused(
                "too_large",
                format!("{what}: larger than update.max_size_mib"),
            );
        }
        Err(Fetch::Failed(why)) => return Outcome::refused("download", why),
    };
    let bundle = match verify(&key, &bytes, &sig, url) {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    // From the version check to the swap, one installer at a time: a
    // `nestguard update` and the daemon's own update at the same moment must
    // not both pass the check, the older bundle then swapped in last.
    let _lock = match InstallLock::take(state_dir) {
        Ok(l) => l,
        Err(refused) => return refused,
    };
    let in_force = version_in_force(state_dir);
    match in_force {
        Some(v) if bundle.version == v => return Outcome::Unchanged { version: v },
        Some(v) if bundle.version < v => {
            return Outcome::refused(
                "replay",
                format!(
                    "{url}: version {} is older than version {v} in force (a replayed bundle?)",
                    bundle.version
                ),
            );
        }
        _ => {}
    }
    apply(config, &bundle, url, state_dir)
}

/// An exclusive `flock` on `<state>/fleet/.lock`, released when dropped
/// (and by the kernel when the process ends, so a crash leaves no stale lock).
struct InstallLock {
    #[cfg(target_os = "linux")]
    _held: nix::fcntl::Flock<std::fs::File>,
}

impl InstallLock {
    /// Waits for the lock. Elsewhere than Linux, installs are not locked.
    fn take(state_dir: &Path) -> Result<InstallLock, Outcome> {
        let fleet = layout::fleet_dir(state_dir);
        let failed = |e: String| Outcome::refused("write", e);
        crate::state::create_private_dir(&fleet)
            .map_err(|e| failed(format!("{}: {e}", fleet.display())))?;
        let path = fleet.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| failed(format!("{}: {e}", path.display())))?;
        #[cfg(target_os = "linux")]
        {
            let held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
                .map_err(|(_, e)| failed(format!("{}: {e}", path.display())))?;
            Ok(InstallLock { _held: held })
        }
        #[cfg(not(target_os = "linux"))]
        {
            drop(file);
            Ok(InstallLock {})
        }
    }
}

/// The signature checked, then the bundle parsed.
fn verify(
    key: &minisign_verify::PublicKey,
    bytes: &[u8],
    sig: &[u8],
    url: &str,
) -> Result<Bundle, Outcome> {
    let sig_text = std::str::from_utf8(sig)
        .map_err(|_| Outcome::refused("signature", format!("{url}.minisig: not text")))?;
    let signature = minisign_verify::Signature::decode(sig_text)
        .map_err(|e| Outcome::refused("signature", format!("{url}.minisig: {e}")))?;
    // Legacy (not prehashed) signatures are refused: `minisign -S` and
    // `nestguard fleet sign` both make prehashed ones.
    key.verify(bytes, &signature, false).map_err(|e| {
        Outcome::refused(
            "signature",
            format!("{url}: {e} (not signed with fleet.public_key, or altered or cut short)"),
        )
    })?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Outcome::refused("format", format!("{url}: not UTF-8 text")))?;
    let bundle: Bundle = toml::from_str(text).map_err(|e| {
        let at = crate::config::ConfigError::at(url, text, e.span(), e.message().to_string());
        Outcome::refused("format", at.to_string())
    })?;
    for f in &bundle.files {
        safe_path(&f.path)
            .map_err(|why| Outcome::refused("format", format!("{url}: `{}`: {why}", f.path)))?;
    }
    Ok(bundle)
}

/// A bundle's paths stay inside its folder: `conf.d/<name>.toml` or `lists/<name>`.
fn safe_path(path: &str) -> Result<(), &'static str> {
    let Some((dir, name)) = path.split_once('/') else {
        return Err("a bundle holds conf.d/<name>.toml and lists/<name> only");
    };
    let name_ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.len() <= 200;
    match dir {
        _ if !name_ok => Err("a file name without `/`, not starting with `.`"),
        "conf.d" if name.ends_with(".toml") => Ok(()),
        "lists" => Ok(()),
        _ => Err("a bundle holds conf.d/<name>.toml and lists/<name> only"),
    }
}

/// Unpacks into a hidden folder, checks the config with it, then renames it
/// into place and swaps `current`.
fn apply(config: &Config, bundle: &Bundle, url: &str, state_dir: &Path) -> Outcome {
    let fleet = layout::fleet_dir(state_dir);
    let staging = fleet.join(format!(".v{}.{}", bundle.version, std::process::id()));
    let result = unpack(bundle, &staging).map_err(|e| Outcome::refused("write", e));
    let result = result.and_then(|()| check(config, &staging, url));
    let result = result.and_then(|()| swap(state_dir, &staging, bundle.version));
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    match result {
        Ok(()) => {
            prune(&fleet, bundle.version);
            Outcome::Applied {
                version: bundle.version,
                files: bundle.files.len(),
            }
        }
        Err(o) => o,
    }
}

fn unpack(bundle: &Bundle, dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for sub in [CONF_D, "lists"] {
        let d = dir.join(sub);
        crate::state::create_private_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    for f in &bundle.files {
        let path = dir.join(&f.path);
        crate::state::write_private(&path, f.text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let path = dir.join("version");
    crate::state::write_private(&path, format!("{}\n", bundle.version).as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The config with the bundle in place must load and compile, as
/// `nestguard check --drop-in` would have it.
fn check(config: &Config, staging: &Path, url: &str) -> Result<(), Outcome> {
    let Some(main) = &config.path else {
        return Err(Outcome::refused(
            "drop_in",
            "a bundle needs a main config file to be checked with",
        ));
    };
    let candidate = Config::load_with_bundle(main, staging)
        .map_err(|e| Outcome::refused("drop_in", format!("{url}: {e}")))?;
    crate::engine::Engine::build(&candidate)
        .map_err(|e| Outcome::refused("drop_in", format!("{url}: {e:#}")))?;
    Ok(())
}

/// `staging` becomes `v<version>`, then `current` is pointed at it by
/// renaming a new symlink over the old one.
fn swap(state_dir: &Path, staging: &Path, version: u64) -> Result<(), Outcome> {
    let fleet = layout::fleet_dir(state_dir);
    let name = format!("v{version}");
    let target = fleet.join(&name);
    let io =
        |p: &Path, e: std::io::Error| Outcome::refused("write", format!("{}: {e}", p.display()));
    if target.exists() {
        // Left by an attempt that stopped before the swap: never in force.
        std::fs::remove_dir_all(&target).map_err(|e| io(&target, e))?;
    }
    std::fs::rename(staging, &target).map_err(|e| io(&target, e))?;
    let link = fleet.join(".current.new");
    let _ = std::fs::remove_file(&link);
    symlink(Path::new(&name), &link).map_err(|e| io(&link, e))?;
    let current = layout::fleet_current(state_dir);
    std::fs::rename(&link, &current).map_err(|e| io(&current, e))?;
    // The rename is durable once the folder is synced.
    if let Ok(d) = std::fs::File::open(&fleet) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "fleet bundles are swapped by a symlink: Unix only",
    ))
}

/// Removes the bundles older than the one before `version`: the one in
/// force and its predecessor stay (a daemon may still be reading it).
fn prune(fleet: &Path, version: u64) {
    let Ok(entries) = std::fs::read_dir(fleet) else {
        return;
    };
    let mut versions: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let v = name.to_str()?.strip_prefix('v')?.parse::<u64>().ok()?;
            Some((v, e.path()))
        })
        .filter(|(v, _)| *v < version)
        .collect();
    versions.sort();
    versions.pop();
    for (_, path) in versions {
        let _ = std::fs::remove_dir_all(path);
    }
}

enum Fetch {
    TooLarge(String),
    Failed(String),
}

/// A body of at most `limit` bytes from an `https://` or `file://` URL.
fn get(agent: &ureq::Agent, url: &str, limit: u64) -> Result<Vec<u8>, Fetch> {
    if let Some(path) = url.strip_prefix("file://") {
        let mut bytes = Vec::new();
        let file = std::fs::File::open(path).map_err(|e| Fetch::Failed(format!("{path}: {e}")))?;
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Fetch::Failed(format!("{path}: {e}")))?;
        if bytes.len() as u64 > limit {
            return Err(Fetch::TooLarge(url.to_string()));
        }
        return Ok(bytes);
    }
    let response = agent
        .get(url)
        .call()
        .map_err(|e| Fetch::Failed(format!("{url}: {e}")))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(Fetch::Failed(format!("{url}: HTTP {status}")));
    }
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Fetch::Failed(format!("{url}: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(Fetch::TooLarge(url.to_string()));
    }
    Ok(bytes)
}

/// A new key pair for signing bundles: (public key file, secret key file),
/// in minisign's formats. The secret key is not password-protected: it is
/// meant for a signing step that runs unattended; keep it off the machines.
pub fn keygen() -> Result<(String, String), String> {
    let kp = minisign::KeyPair::generate_unencrypted_keypair().map_err(|e| e.to_string())?;
    let pk = kp.pk.to_box().map_err(|e| e.to_string())?.into_string();
    let sk = kp
        .sk
        .to_box(Some("nestguard fleet secret key"))
        .map_err(|e| e.to_string())?
        .into_string();
    Ok((pk, sk))
}

/// The base64 line of a public key file (what `[fleet] public_key` takes).
pub fn public_key_line(pk_file: &str) -> Option<&str> {
    pk_file
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
}

/// Builds a bundle from `dir` (its `conf.d/*.toml` and `lists/*`) and signs
/// it with the secret key file's text: (bundle, signature file).
pub fn sign(secret_key: &str, version: u64, dir: &Path) -> Result<(Vec<u8>, String), String> {
    let mut files = Vec::new();
    for sub in [CONF_D, "lists"] {
        let d = dir.join(sub);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for p in paths {
            let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                return Err(format!("{}: not a UTF-8 file name", p.display()));
            };
            let path = format!("{sub}/{name}");
            if name.starts_with('.') {
                continue;
            }
            safe_path(&path).map_err(|why| format!("{}: {why}", p.display()))?;
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            files.push(BundleFile { path, text });
        }
    }
    if files.is_empty() {
        return Err(format!(
            "{}: no conf.d/*.toml or lists/* files to bundle",
            dir.display()
        ));
    }
    let bundle = Bundle { version, files };
    let body = toml::to_string(&bundle).map_err(|e| e.to_string())?;
    let body = format!("# nestguard fleet bundle (signed: see the .minisig beside it)\n{body}");
    let sk_box = minisign::SecretKeyBox::from_string(secret_key)
        .map_err(|e| format!("not a minisign secret key: {e}"))?;
    let sk = sk_box.into_unencrypted_secret_key().map_err(|e| {
        format!("cannot use the secret key (a password-protected one needs `minisign -S`): {e}")
    })?;
    let signature = minisign::sign(
        None,
        &sk,
        body.as_bytes(),
        Some(&format!("nestguard fleet bundle version {version}")),
        Some("signature from a nestguard fleet key"),
    )
    .map_err(|e| e.to_string())?;
    Ok((body.into_bytes(), signature.into_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_bundle() {
        assert!(safe_path("conf.d/50-school.toml").is_ok());
        assert!(safe_path("lists/school.txt").is_ok());
        for bad in [
            "conf.d/../x.toml",
            "../x",
            "lists/../../etc/passwd",
            "conf.d/a.txt",
            "other/x",
            "lists/.hidden",
            "x",
            "lists/",
        ] {
            assert!(safe_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn what_sign_makes_verifies_and_an_altered_byte_does_not() {
        let dir = std::env::temp_dir().join(format!("ng-fleet-unit-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lists")).unwrap();
        std::fs::write(dir.join("lists/a.txt"), "a.example\n").unwrap();
        let (pk, sk) = keygen().unwrap();
        let (body, sig) = sign(&sk, 3, &dir).unwrap();
        let key = minisign_verify::PublicKey::from_base64(public_key_line(&pk).unwrap()).unwrap();
        let b = verify(&key, &body, sig.as_bytes(), "u").unwrap();
        assert_eq!(b.version, 3);
        let mut altered = body.clone();
        let last = altered.len() - 2;
        altered[last] ^= 1;
        assert!(matches!(
            verify(&key, &altered, sig.as_bytes(), "u"),
            Err(Outcome::Refused {
                reason: "signature",
                ..
            })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
