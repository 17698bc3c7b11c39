//! Telling the service manager how the daemon is doing (systemd's
//! `sd_notify` protocol: a datagram to `$NOTIFY_SOCKET`).
//!
//! `READY=1` once every listener is bound and the rules are compiled, so
//! units ordered after nestguard (and `systemctl start`) wait for a daemon
//! that answers; `WATCHDOG=1` every half `$WATCHDOG_USEC` from a task on the
//! async runtime (TCP, cache misses, upstreams and reloads run there; on
//! Linux UDP is read by threads of its own, `dns::udp_batch`), so a wedged
//! runtime gets the daemon restarted; `RELOADING=1` and
//! `STOPPING=1` around reloads and shutdown. Without `$NOTIFY_SOCKET`
//! (not started by systemd) every call does nothing.

use std::time::Duration;

/// Sends one notification; false when there is no service manager to tell.
pub fn notify(state: &str) -> bool {
    match std::env::var_os("NOTIFY_SOCKET") {
        Some(path) => notify_to(&path.to_string_lossy(), state),
        None => false,
    }
}

/// Sends `state` to the notify socket at `path` (`@name` for an abstract socket).
pub fn notify_to(path: &str, state: &str) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::net::UnixDatagram;
        let Ok(sock) = UnixDatagram::unbound() else {
            return false;
        };
        let sent = if let Some(name) = path.strip_prefix('@') {
            abstract_send(&sock, name, state)
        } else {
            sock.send_to(state.as_bytes(), path).is_ok()
        };
        if !sent {
            tracing::debug!(socket = %path, "cannot notify the service manager");
        }
        sent
    }
    #[cfg(not(unix))]
    {
        let _ = (path, state);
        false
    }
}

#[cfg(target_os = "linux")]
fn abstract_send(sock: &std::os::unix::net::UnixDatagram, name: &str, state: &str) -> bool {
    use std::os::linux::net::SocketAddrExt;
    std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
        .and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
        .is_ok()
}

#[cfg(all(unix, not(target_os = "linux")))]
fn abstract_send(_: &std::os::unix::net::UnixDatagram, _: &str, _: &str) -> bool {
    false
}

/// How often to ping the watchdog: half of `$WATCHDOG_USEC`, if it is set
/// for this process.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Some(pid) = std::env::var("WATCHDOG_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        && pid != std::process::id()
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn notifications_reach_the_socket() {
        let dir = std::env::temp_dir().join(format!("nestguard-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let server = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        assert!(notify_to(&path.display().to_string(), "READY=1"));
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        // An abstract socket.
        use std::os::linux::net::SocketAddrExt;
        let name = format!("nestguard-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let abstract_server = std::os::unix::net::UnixDatagram::bind_addr(&addr).unwrap();
        assert!(notify_to(&format!("@{name}"), "WATCHDOG=1"));
        let n = abstract_server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        assert!(!notify_to(
            &dir.join("missing.sock").display().to_string(),
            "READY=1"
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Sends SIGHUP to the daemon `pid` (what `systemctl reload` does): it reloads.
pub fn hangup(pid: u32) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::signal::{Signal, kill};
        let pid = i32::try_from(pid).map_err(|_| format!("pid {pid} out of range"))?;
        kill(nix::unistd::Pid::from_raw(pid), Signal::SIGHUP)
            .map_err(|e| format!("cannot signal the daemon (pid {pid}): {e}"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(format!(
            "cannot signal the daemon (pid {pid}) here: send it SIGHUP with `kill -HUP {pid}`"
        ))
    }
}
