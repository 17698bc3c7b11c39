//! `nestguard system-resolver enable|disable|status`: make this machine use
//! nestguard for DNS, and undo it exactly.
//!
//! With systemd-resolved running, a drop-in
//! (`/etc/systemd/resolved.conf.d/50-nestguard.conf`) points it at nestguard
//! for every domain; resolved's own files are not touched, so disabling is
//! removing the drop-in. Otherwise `/etc/resolv.conf` is replaced by one
//! naming nestguard, after its exact bytes (or the symlink it was) are saved
//! in the state directory; disabling puts them back byte for byte. Every
//! path is under `root`, so tests (and image builders) work on a copy.
//!
//! Per-user profiles (`users` in a `[[client]]`) need more: nestguard learns
//! the user from the socket that sent the query, so programs must ask it
//! directly. A stub in between (resolved's 127.0.0.53, or resolved reached
//! through NSS over D-Bus) makes every account's lookups its own. So then
//! `/etc/resolv.conf` names nestguard, the drop-in also turns resolved's
//! stub listener off, and `resolve` comes off the `hosts:` line of
//! `/etc/nsswitch.conf`; all three files' originals are kept for `disable`.

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const DROP_IN: &str = "etc/systemd/resolved.conf.d/50-nestguard.conf";
const RESOLV_CONF: &str = "etc/resolv.conf";
const RESOLVED_RUNTIME: &str = "run/systemd/resolve";
const NSSWITCH: &str = "etc/nsswitch.conf";
/// The addresses systemd-resolved's stub listens on.
const RESOLVED_STUBS: [std::net::Ipv4Addr; 2] = [
    std::net::Ipv4Addr::new(127, 0, 0, 53),
    std::net::Ipv4Addr::new(127, 0, 0, 54),
];

/// What `enable` did, so `disable` can undo exactly that.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "kebab-case")]
enum Record {
    /// A resolved drop-in was written (it did not exist before).
    Resolved,
    /// resolv.conf was replaced; this is what it was.
    ResolvConf {
        /// The symlink target, if it was a symlink.
        symlink: Option<PathBuf>,
        /// Its bytes (base64-free: kept as a byte list), if it was a file.
        bytes: Option<Vec<u8>>,
    },
    /// Programs ask nestguard directly (per-user profiles): resolv.conf was
    /// replaced, and maybe resolved's stub turned off and nsswitch.conf changed.
    Direct {
        resolv_conf: Saved,
        /// nsswitch.conf's bytes, if `resolve` was taken off its hosts line.
        nsswitch: Option<Vec<u8>>,
        /// Whether the resolved drop-in was written.
        drop_in: bool,
    },
}

/// A file as it was: a symlink, bytes, or nothing.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Saved {
    symlink: Option<PathBuf>,
    bytes: Option<Vec<u8>>,
}

fn save(path: &Path) -> io::Result<Saved> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Ok(Saved {
            symlink: Some(fs::read_link(path)?),
            bytes: None,
        }),
        Ok(_) => Ok(Saved {
            symlink: None,
            bytes: Some(fs::read(path)?),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Saved {
            symlink: None,
            bytes: None,
        }),
        Err(e) => Err(e),
    }
}

fn restore(path: &Path, saved: &Saved) -> io::Result<()> {
    match (&saved.symlink, &saved.bytes) {
        (Some(target), _) => {
            let _ = fs::remove_file(path);
            symlink_to(target, path)
        }
        (None, Some(bytes)) => crate::state::write_atomic(path, bytes),
        (None, None) => match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    }
}

/// Writes a system file others must read: a new one is `0644` whatever the umask.
fn write_public(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let existed = fs::metadata(path).is_ok();
    crate::state::write_atomic(path, bytes)?;
    #[cfg(unix)]
    if !existed {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

fn at(root: &Path, rel: &str) -> PathBuf {
    root.join(rel)
}

fn read_record(root: &Path) -> io::Result<Option<Record>> {
    match fs::read_to_string(crate::state::layout::system_resolver_record(root)) {
        Ok(t) => toml::from_str(&t)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_record(root: &Path, r: &Record) -> io::Result<()> {
    let text = toml::to_string(r).map_err(io::Error::other)?;
    crate::state::write_atomic(
        &crate::state::layout::system_resolver_record(root),
        text.as_bytes(),
    )
}

/// The address to give the system: the first loopback listen address on
/// port 53 (the only port resolv.conf can name), else the first loopback
/// one; a wildcard address is reached at the loopback address.
pub fn local_address(listen: &[SocketAddr]) -> Option<SocketAddr> {
    let local = |a: &SocketAddr| {
        let ip = match a.ip() {
            std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        ip.is_loopback().then_some(SocketAddr::new(ip, a.port()))
    };
    let mut all = listen.iter().filter_map(local);
    all.clone().find(|a| a.port() == 53).or_else(|| all.next())
}

/// Points the system at `addr`. With `per_user` (some `[[client]]` matches
/// by `users`), programs are made to ask nestguard directly. Returns what
/// was done, for the user.
pub fn enable(root: &Path, addr: SocketAddr, per_user: bool) -> Result<String, String> {
    let io = |what: &str, e: io::Error| format!("{what}: {e}");
    if let Some(r) = read_record(root).map_err(|e| io("the record of an earlier enable", e))? {
        return Err(format!(
            "already enabled ({}); run `nestguard system-resolver disable` first",
            mode_name(&r)
        ));
    }
    if per_user {
        return enable_direct(root, addr);
    }
    if at(root, RESOLVED_RUNTIME).is_dir() {
        let drop_in = at(root, DROP_IN);
        if drop_in.exists() {
            return Err(format!(
                "{} exists already: not overwriting it",
                drop_in.display()
            ));
        }
        let text = format!(
            "# Written by `nestguard system-resolver enable`; removed by `disable`.\n\
             [Resolve]\nDNS={addr}\nDomains=~.\n"
        );
        crate::state::write_atomic(&drop_in, text.as_bytes())
            .map_err(|e| io(&drop_in.display().to_string(), e))?;
        write_record(root, &Record::Resolved).map_err(|e| io("record", e))?;
        return Ok(format!(
            "wrote {}; restart systemd-resolved (systemctl restart systemd-resolved) to use nestguard at {addr}\n",
            drop_in.display()
        ));
    }
    if addr.port() != 53 {
        return Err(format!(
            "/etc/resolv.conf cannot name a port: nestguard must listen on port 53 (it listens on {addr}); set [server] listen"
        ));
    }
    let resolv = at(root, RESOLV_CONF);
    let before = match fs::symlink_metadata(&resolv) {
        Ok(m) if m.file_type().is_symlink() => Record::ResolvConf {
            symlink: Some(fs::read_link(&resolv).map_err(|e| io("resolv.conf", e))?),
            bytes: None,
        },
        Ok(_) => Record::ResolvConf {
            symlink: None,
            bytes: Some(fs::read(&resolv).map_err(|e| io("resolv.conf", e))?),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Record::ResolvConf {
            symlink: None,
            bytes: None,
        },
        Err(e) => return Err(io("resolv.conf", e)),
    };
    // The record first: if writing resolv.conf fails, disable still knows the original.
    write_record(root, &before).map_err(|e| io("record", e))?;
    if fs::symlink_metadata(&resolv).is_ok_and(|m| m.file_type().is_symlink()) {
        fs::remove_file(&resolv).map_err(|e| io("resolv.conf", e))?;
    }
    let text = format!(
        "# Written by `nestguard system-resolver enable`; `disable` restores the original.\n\
         nameserver {}\noptions edns0 trust-ad\n",
        addr.ip()
    );
    crate::state::write_atomic(&resolv, text.as_bytes()).map_err(|e| io("resolv.conf", e))?;
    Ok(format!(
        "{} now names nestguard ({})\n",
        resolv.display(),
        addr.ip()
    ))
}

/// Per-user profiles: resolv.conf names nestguard, resolved's stub listener
/// is off (and resolved itself forwards to nestguard, for the programs that
/// ask it over D-Bus), and nsswitch.conf does not send lookups to resolved.
fn enable_direct(root: &Path, addr: SocketAddr) -> Result<String, String> {
    let io = |what: &Path, e: io::Error| format!("{}: {e}", what.display());
    if addr.port() != 53 {
        return Err(format!(
            "per-user profiles ([[client]] users) need programs to ask nestguard directly, through /etc/resolv.conf, \
             which cannot name a port: nestguard must listen on port 53 (it listens on {addr}); set [server] listen = [\"127.0.0.1:53\"]"
        ));
    }
    let resolved = at(root, RESOLVED_RUNTIME).is_dir();
    let drop_in = at(root, DROP_IN);
    if resolved && drop_in.exists() {
        return Err(format!(
            "{} exists already: not overwriting it",
            drop_in.display()
        ));
    }
    let resolv = at(root, RESOLV_CONF);
    let nsswitch = at(root, NSSWITCH);
    let ns_before = match fs::read(&nsswitch) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&nsswitch, e)),
    };
    let ns_after = ns_before
        .as_deref()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(without_resolve);
    let record = Record::Direct {
        resolv_conf: save(&resolv).map_err(|e| io(&resolv, e))?,
        nsswitch: ns_after.as_ref().and(ns_before),
        drop_in: resolved,
    };
    // The record first: whatever fails after it, disable still knows the originals.
    write_record(root, &record).map_err(|e| format!("record: {e}"))?;
    let mut done = Vec::new();
    if resolved {
        let text = format!(
            "# Written by `nestguard system-resolver enable`; removed by `disable`.\n\
             # Per-user profiles: programs ask nestguard directly, so the stub is off.\n\
             [Resolve]\nDNS={addr}\nDomains=~.\nDNSStubListener=no\n"
        );
        write_public(&drop_in, text.as_bytes()).map_err(|e| io(&drop_in, e))?;
        done.push(format!(
            "wrote {} (stub listener off); restart systemd-resolved (systemctl restart systemd-resolved)",
            drop_in.display()
        ));
    }
    if fs::symlink_metadata(&resolv).is_ok_and(|m| m.file_type().is_symlink()) {
        fs::remove_file(&resolv).map_err(|e| io(&resolv, e))?;
    }
    let text = format!(
        "# Written by `nestguard system-resolver enable`; `disable` restores the original.\n\
         # Programs ask nestguard directly, so it knows which user asks (per-user profiles).\n\
         nameserver {}\noptions edns0 trust-ad\n",
        addr.ip()
    );
    write_public(&resolv, text.as_bytes()).map_err(|e| io(&resolv, e))?;
    done.push(format!(
        "{} now names nestguard ({})",
        resolv.display(),
        addr.ip()
    ));
    if let Some(text) = ns_after {
        write_public(&nsswitch, text.as_bytes()).map_err(|e| io(&nsswitch, e))?;
        done.push(format!(
            "took `resolve` off the hosts line of {} (lookups went to systemd-resolved, around nestguard)",
            nsswitch.display()
        ));
    }
    Ok(done.iter().map(|l| format!("{l}\n")).collect())
}

/// nsswitch.conf with `resolve` (and the action after it) taken off the
/// `hosts:` line and `dns` kept on it; `None` when there is nothing to change.
fn without_resolve(text: &str) -> Option<String> {
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let Some((head, rest)) = hosts_line(line) else {
            out.push_str(line);
            continue;
        };
        let tokens: Vec<&str> = rest.split_whitespace().collect();
        if !tokens.contains(&"resolve") {
            out.push_str(line);
            continue;
        }
        let has_dns = tokens.contains(&"dns");
        let mut kept: Vec<&str> = Vec::new();
        let mut skip_action = false;
        for t in tokens {
            if skip_action && t.starts_with('[') {
                continue;
            }
            skip_action = false;
            if t == "resolve" {
                skip_action = true;
                // Where resolve was, DNS is asked (that is nestguard now).
                if !has_dns {
                    kept.push("dns");
                }
                continue;
            }
            kept.push(t);
        }
        let ending = &line[head.len() + rest.len()..];
        out.push_str(head);
        out.push_str(&kept.join(" "));
        out.push_str(ending);
        changed = true;
    }
    changed.then_some(out)
}

/// The sources of a `hosts:` line (what follows `hosts:` and its spaces).
fn hosts_sources(line: &str) -> Option<&str> {
    hosts_line(line).map(|(_, sources)| sources)
}

/// A `hosts:` line split into its head (`hosts:` and the spaces after it)
/// and its sources (without the line ending).
fn hosts_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix("hosts")?;
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let head = &line[..line.len() - rest.len()];
    Some((head, rest.trim_end_matches(['\n', '\r'])))
}

/// Undoes `enable` exactly.
pub fn disable(root: &Path) -> Result<String, String> {
    let io = |what: &str, e: io::Error| format!("{what}: {e}");
    let Some(record) = read_record(root).map_err(|e| io("record", e))? else {
        return Ok("not enabled: nothing to undo\n".into());
    };
    let done = match record {
        Record::Resolved => {
            let drop_in = at(root, DROP_IN);
            match fs::remove_file(&drop_in) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&drop_in.display().to_string(), e)),
            }
            format!(
                "removed {}; restart systemd-resolved (systemctl restart systemd-resolved)\n",
                drop_in.display()
            )
        }
        Record::ResolvConf { symlink, bytes } => {
            let resolv = at(root, RESOLV_CONF);
            restore(&resolv, &Saved { symlink, bytes }).map_err(|e| io("resolv.conf", e))?;
            format!("{} restored\n", resolv.display())
        }
        Record::Direct {
            resolv_conf,
            nsswitch,
            drop_in,
        } => {
            let mut done = String::new();
            let resolv = at(root, RESOLV_CONF);
            restore(&resolv, &resolv_conf).map_err(|e| io("resolv.conf", e))?;
            done.push_str(&format!("{} restored\n", resolv.display()));
            if let Some(bytes) = nsswitch {
                let path = at(root, NSSWITCH);
                crate::state::write_atomic(&path, &bytes).map_err(|e| io("nsswitch.conf", e))?;
                done.push_str(&format!("{} restored\n", path.display()));
            }
            if drop_in {
                let path = at(root, DROP_IN);
                match fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(io(&path.display().to_string(), e));
                    }
                    _ => {}
                }
                done.push_str(&format!(
                    "removed {}; restart systemd-resolved (systemctl restart systemd-resolved)\n",
                    path.display()
                ));
            }
            done
        }
    };
    fs::remove_file(crate::state::layout::system_resolver_record(root))
        .map_err(|e| io("record", e))?;
    Ok(done)
}

#[cfg(unix)]
fn symlink_to(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink_to(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

fn mode_name(r: &Record) -> &'static str {
    match r {
        Record::Resolved => "a systemd-resolved drop-in",
        Record::ResolvConf { .. } => "/etc/resolv.conf replaced",
        Record::Direct { .. } => {
            "programs ask nestguard directly, for per-user profiles (/etc/resolv.conf replaced, systemd-resolved's stub off, no `resolve` in /etc/nsswitch.conf)"
        }
    }
}

/// Why per-user profiles would not work on the system under `root` as it is
/// set up now: lookups that reach nestguard through a local stub or
/// forwarder all carry its user. One sentence per reason; none when programs
/// ask nestguard (at one of `listen`) directly.
pub fn per_user_warnings(root: &Path, listen: &[SocketAddr]) -> Vec<String> {
    let mut out = Vec::new();
    let fix = "run `nestguard system-resolver enable` (after `disable` if it was enabled before)";
    let resolv = at(root, RESOLV_CONF);
    let servers = nameservers(&resolved_path(root, &resolv));
    let ours = |ip: std::net::IpAddr| {
        listen
            .iter()
            .any(|a| a.port() == 53 && (a.ip() == ip || a.ip().is_unspecified()))
    };
    for ip in servers {
        let what = match ip {
            std::net::IpAddr::V4(v4) if RESOLVED_STUBS.contains(&v4) => {
                format!("{ip}, systemd-resolved's stub")
            }
            _ if ours(ip) => continue,
            _ if ip.is_loopback() => format!("{ip}, a local forwarder that is not nestguard"),
            _ => format!("{ip}, a server that is not nestguard"),
        };
        out.push(format!(
            "per-user profiles ([[client]] users) need programs to ask nestguard directly, but /etc/resolv.conf names {what}: \
             lookups through it reach nestguard as its user (so every account gets one profile) or not at all; {fix}"
        ));
    }
    let uses_resolve = fs::read_to_string(at(root, NSSWITCH)).is_ok_and(|t| {
        t.lines()
            .filter_map(hosts_sources)
            .any(|s| s.split_whitespace().any(|w| w == "resolve"))
    });
    if uses_resolve {
        out.push(format!(
            "per-user profiles ([[client]] users) need programs to ask nestguard directly, but the hosts line of /etc/nsswitch.conf \
             has `resolve`: those lookups go to systemd-resolved over D-Bus and reach nestguard as its user; {fix}"
        ));
    }
    out
}

/// Whether the system under `root` asks nestguard (answering at `dns`) for
/// names now: the first `nameserver` of resolv.conf (the one the C library
/// asks first) is one of `dns` on port 53, or it is systemd-resolved's stub
/// and resolved's drop-in names one of `dns`. A lie either way would hide a
/// machine that stopped filtering, so anything else counts as "no".
pub fn uses_nestguard(root: &Path, dns: &[SocketAddr]) -> bool {
    let ours = |a: SocketAddr| {
        dns.iter().any(|d| {
            d.port() == a.port()
                && (d.ip() == a.ip() || (d.ip().is_unspecified() && a.ip().is_loopback()))
        })
    };
    let resolv = at(root, RESOLV_CONF);
    let Some(&first) = nameservers(&resolved_path(root, &resolv)).first() else {
        return false;
    };
    match first {
        std::net::IpAddr::V4(v4) if RESOLVED_STUBS.contains(&v4) => {
            fs::read_to_string(at(root, DROP_IN)).is_ok_and(|text| {
                text.lines()
                    .filter_map(|l| l.trim().strip_prefix("DNS="))
                    .flat_map(|v| v.split_whitespace())
                    .filter_map(|v| {
                        v.parse::<SocketAddr>()
                            .ok()
                            .or_else(|| Some(SocketAddr::new(v.parse().ok()?, 53)))
                    })
                    .any(ours)
            })
        }
        ip => ours(SocketAddr::new(ip, 53)),
    }
}

/// The file a resolv.conf path leads to, with an absolute symlink read under `root`.
fn resolved_path(root: &Path, path: &Path) -> PathBuf {
    match fs::read_link(path) {
        Ok(target) if target.is_absolute() => {
            root.join(target.strip_prefix("/").unwrap_or(&target))
        }
        Ok(target) => path.parent().map_or(target.clone(), |p| p.join(&target)),
        Err(_) => path.to_path_buf(),
    }
}

/// The `nameserver` addresses of a resolv.conf; the C library's default
/// (127.0.0.1) when there are none.
fn nameservers(path: &Path) -> Vec<std::net::IpAddr> {
    let Ok(text) = fs::read_to_string(path) else {
        // A missing resolv.conf: the C library asks 127.0.0.1.
        return vec![std::net::IpAddr::from([127, 0, 0, 1])];
    };
    let found: Vec<std::net::IpAddr> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| {
            let ip = rest.trim().split(['%', ' ', '\t']).next()?;
            ip.parse().ok()
        })
        .collect();
    if found.is_empty() {
        vec![std::net::IpAddr::from([127, 0, 0, 1])]
    } else {
        found
    }
}

pub fn status(root: &Path) -> Result<String, String> {
    match read_record(root).map_err(|e| e.to_string())? {
        Some(r) => Ok(format!("enabled: {}\n", mode_name(&r))),
        None => {
            Ok("disabled: the system does not use nestguard for DNS (by this command)\n".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(name: &str) -> PathBuf {
        let r =
            std::env::temp_dir().join(format!("nestguard-sysres-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&r);
        fs::create_dir_all(r.join("etc")).unwrap();
        r
    }

    #[test]
    fn uses_nestguard_reads_resolv_conf_and_resolveds_drop_in() {
        let r = root("uses");
        let on_53: Vec<SocketAddr> = vec!["0.0.0.0:53".parse().unwrap()];
        let elsewhere: Vec<SocketAddr> = vec!["127.0.0.1:5353".parse().unwrap()];
        fs::write(
            r.join(RESOLV_CONF),
            "nameserver 127.0.0.1\nnameserver 9.9.9.9\n",
        )
        .unwrap();
        assert!(uses_nestguard(&r, &on_53));
        assert!(
            !uses_nestguard(&r, &elsewhere),
            "resolv.conf cannot name port 5353"
        );
        // The first nameserver is the one asked first.
        fs::write(
            r.join(RESOLV_CONF),
            "nameserver 9.9.9.9\nnameserver 127.0.0.1\n",
        )
        .unwrap();
        assert!(!uses_nestguard(&r, &on_53));
        // resolved's stub: only with resolved's drop-in naming nestguard.
        fs::write(r.join(RESOLV_CONF), "nameserver 127.0.0.53\n").unwrap();
        assert!(!uses_nestguard(&r, &elsewhere));
        fs::create_dir_all(r.join(DROP_IN).parent().unwrap()).unwrap();
        fs::write(
            r.join(DROP_IN),
            "[Resolve]\nDNS=127.0.0.1:5353\nDomains=~.\n",
        )
        .unwrap();
        assert!(uses_nestguard(&r, &elsewhere));
        assert!(!uses_nestguard(&r, &["127.0.0.2:5353".parse().unwrap()]));
        fs::remove_dir_all(&r).unwrap();
    }

    #[test]
    fn resolv_conf_file_is_restored_byte_for_byte() {
        let r = root("file");
        let original = b"# from DHCP\nnameserver 192.168.1.1\nsearch home.arpa\n";
        fs::write(r.join(RESOLV_CONF), original).unwrap();
        let addr: SocketAddr = "127.0.0.1:53".parse().unwrap();
        enable(&r, addr, false).unwrap();
        let now = fs::read_to_string(r.join(RESOLV_CONF)).unwrap();
        assert!(now.contains("nameserver 127.0.0.1\n"), "{now}");
        assert!(status(&r).unwrap().starts_with("enabled"));
        assert!(enable(&r, addr, false).is_err(), "twice is refused");
        disable(&r).unwrap();
        assert_eq!(fs::read(r.join(RESOLV_CONF)).unwrap(), original);
        assert!(!crate::state::layout::system_resolver_record(&r).exists());
        assert!(status(&r).unwrap().starts_with("disabled"));
        fs::remove_dir_all(&r).unwrap();
    }

    #[test]
    fn a_symlinked_resolv_conf_comes_back_as_the_same_symlink() {
        let r = root("link");
        let target = PathBuf::from("../run/systemd/resolve/stub-resolv.conf");
        std::os::unix::fs::symlink(&target, r.join(RESOLV_CONF)).unwrap();
        enable(&r, "127.0.0.1:53".parse().unwrap(), false).unwrap();
        assert!(
            !fs::symlink_metadata(r.join(RESOLV_CONF))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        disable(&r).unwrap();
        assert_eq!(fs::read_link(r.join(RESOLV_CONF)).unwrap(), target);
        fs::remove_dir_all(&r).unwrap();
    }

    #[test]
    fn with_resolved_a_drop_in_is_added_and_removed() {
        let r = root("resolved");
        fs::create_dir_all(r.join(RESOLVED_RUNTIME)).unwrap();
        fs::create_dir_all(r.join("etc/systemd")).unwrap();
        let conf = b"[Resolve]\n#DNS=\n";
        fs::write(r.join("etc/systemd/resolved.conf"), conf).unwrap();
        enable(&r, "127.0.0.1:5353".parse().unwrap(), false).unwrap();
        let drop_in = fs::read_to_string(r.join(DROP_IN)).unwrap();
        assert!(
            drop_in.contains("DNS=127.0.0.1:5353\nDomains=~.\n"),
            "{drop_in}"
        );
        disable(&r).unwrap();
        assert!(!r.join(DROP_IN).exists());
        assert_eq!(fs::read(r.join("etc/systemd/resolved.conf")).unwrap(), conf);
        fs::remove_dir_all(&r).unwrap();
    }

    #[test]
    fn resolve_comes_off_the_hosts_line_and_dns_stays() {
        let cases = [
            // Fedora
            (
                "hosts:      files myhostname resolve [!UNAVAIL=return] dns\n",
                Some("hosts:      files myhostname dns\n"),
            ),
            // Debian with libnss-resolve: dns already there, later.
            (
                "hosts: files resolve [!UNAVAIL=return] dns myhostname",
                Some("hosts: files dns myhostname"),
            ),
            // Only resolve: dns takes its place.
            ("hosts:\tresolve\r\n", Some("hosts:\tdns\r\n")),
            // Nothing to do.
            ("hosts: files mdns4_minimal [NOTFOUND=return] dns\n", None),
            ("# hosts: resolve\npasswd: files\n", None),
        ];
        for (before, after) in cases {
            assert_eq!(without_resolve(before).as_deref(), after, "{before:?}");
        }
    }

    #[test]
    fn the_address_given_to_the_system_prefers_port_53() {
        let listen: Vec<SocketAddr> = ["127.0.0.1:5353", "0.0.0.0:53"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(
            local_address(&listen),
            Some("127.0.0.1:53".parse().unwrap())
        );
        assert_eq!(local_address(&listen[..1]), Some(listen[0]));
        assert_eq!(local_address(&["192.0.2.1:53".parse().unwrap()]), None);
    }

    #[test]
    fn resolv_conf_needs_port_53() {
        let r = root("port");
        fs::write(r.join(RESOLV_CONF), "nameserver 9.9.9.9\n").unwrap();
        let e = enable(&r, "127.0.0.1:5353".parse().unwrap(), false).unwrap_err();
        assert!(e.contains("port 53"), "{e}");
        assert_eq!(
            fs::read_to_string(r.join(RESOLV_CONF)).unwrap(),
            "nameserver 9.9.9.9\n"
        );
        fs::remove_dir_all(&r).unwrap();
    }
}
