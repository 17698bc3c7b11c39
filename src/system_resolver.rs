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

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const DROP_IN: &str = "etc/systemd/resolved.conf.d/50-nestguard.conf";
const RESOLV_CONF: &str = "etc/resolv.conf";
const RESOLVED_RUNTIME: &str = "run/systemd/resolve";
const RECORD: &str = "var/lib/nestguard/system-resolver.toml";

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
}

fn at(root: &Path, rel: &str) -> PathBuf {
    root.join(rel)
}

fn read_record(root: &Path) -> io::Result<Option<Record>> {
    match fs::read_to_string(at(root, RECORD)) {
        Ok(t) => toml::from_str(&t)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_record(root: &Path, r: &Record) -> io::Result<()> {
    let text = toml::to_string(r).map_err(io::Error::other)?;
    crate::state::write_atomic(&at(root, RECORD), text.as_bytes())
}

/// The address to give the system: the first loopback listen address.
pub fn local_address(listen: &[SocketAddr]) -> Option<SocketAddr> {
    listen.iter().copied().find(|a| a.ip().is_loopback())
}

/// Points the system at `addr`. Returns what was done, for the user.
pub fn enable(root: &Path, addr: SocketAddr) -> Result<String, String> {
    let io = |what: &str, e: io::Error| format!("{what}: {e}");
    if let Some(r) = read_record(root).map_err(|e| io("the record of an earlier enable", e))? {
        return Err(format!(
            "already enabled ({}); run `nestguard system-resolver disable` first",
            mode_name(&r)
        ));
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
            match (symlink, bytes) {
                (Some(target), _) => {
                    let _ = fs::remove_file(&resolv);
                    symlink_to(&target, &resolv).map_err(|e| io("resolv.conf", e))?;
                }
                (None, Some(bytes)) => {
                    crate::state::write_atomic(&resolv, &bytes)
                        .map_err(|e| io("resolv.conf", e))?;
                }
                (None, None) => {
                    let _ = fs::remove_file(&resolv);
                }
            }
            format!("{} restored\n", resolv.display())
        }
    };
    fs::remove_file(at(root, RECORD)).map_err(|e| io("record", e))?;
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
    fn resolv_conf_file_is_restored_byte_for_byte() {
        let r = root("file");
        let original = b"# from DHCP\nnameserver 192.168.1.1\nsearch home.arpa\n";
        fs::write(r.join(RESOLV_CONF), original).unwrap();
        let addr: SocketAddr = "127.0.0.1:53".parse().unwrap();
        enable(&r, addr).unwrap();
        let now = fs::read_to_string(r.join(RESOLV_CONF)).unwrap();
        assert!(now.contains("nameserver 127.0.0.1\n"), "{now}");
        assert!(status(&r).unwrap().starts_with("enabled"));
        assert!(enable(&r, addr).is_err(), "twice is refused");
        disable(&r).unwrap();
        assert_eq!(fs::read(r.join(RESOLV_CONF)).unwrap(), original);
        assert!(!r.join(RECORD).exists());
        assert!(status(&r).unwrap().starts_with("disabled"));
        fs::remove_dir_all(&r).unwrap();
    }

    #[test]
    fn a_symlinked_resolv_conf_comes_back_as_the_same_symlink() {
        let r = root("link");
        let target = PathBuf::from("../run/systemd/resolve/stub-resolv.conf");
        std::os::unix::fs::symlink(&target, r.join(RESOLV_CONF)).unwrap();
        enable(&r, "127.0.0.1:53".parse().unwrap()).unwrap();
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
        enable(&r, "127.0.0.1:5353".parse().unwrap()).unwrap();
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
    fn resolv_conf_needs_port_53() {
        let r = root("port");
        fs::write(r.join(RESOLV_CONF), "nameserver 9.9.9.9\n").unwrap();
        let e = enable(&r, "127.0.0.1:5353".parse().unwrap()).unwrap_err();
        assert!(e.contains("port 53"), "{e}");
        assert_eq!(
            fs::read_to_string(r.join(RESOLV_CONF)).unwrap(),
            "nameserver 9.9.9.9\n"
        );
        fs::remove_dir_all(&r).unwrap();
    }
}
