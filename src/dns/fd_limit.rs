//! The open-file limit, and fitting the daemon's limits inside it.
//!
//! Every UDP upstream query takes a socket for as long as it waits, and
//! every TCP client one for as long as it is connected. With systemd's
//! default soft limit of 1,024 and the default `max_inflight` of 4,096, a
//! burst of misses ran out of descriptors long before `max_inflight` and
//! was answered SERVFAIL. So: raise the soft limit to the hard one at start
//! (what the service manager allows is ours to use), and size `max_inflight`
//! and `max_tcp_clients` to what is left after a reserve for everything else.

use std::io;

/// Descriptors kept back for what is neither an upstream query nor a TCP
/// client: listeners, dashboard connections, the activity database, file
/// watches, netlink sockets, standard streams, the runtime's own.
pub const RESERVED: u64 = 128;

/// The limits the server runs with, after [`fit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fitted {
    pub max_inflight: usize,
    pub max_tcp_clients: usize,
}

/// Fits the configured limits to a soft open-file limit (None: unknown or
/// not limited). TCP clients get at most a quarter of what is left, since
/// each holds its descriptor for the whole connection while an upstream
/// query holds one for a round trip; upstream queries get the rest.
pub fn fit(max_inflight: usize, max_tcp_clients: usize, soft_limit: Option<u64>) -> Fitted {
    let (max_inflight, max_tcp_clients) = (max_inflight.max(1), max_tcp_clients.max(1));
    let Some(soft) = soft_limit else {
        return Fitted {
            max_inflight,
            max_tcp_clients,
        };
    };
    let room = usize::try_from(soft.saturating_sub(RESERVED)).unwrap_or(usize::MAX);
    let tcp = max_tcp_clients.min(room / 4).max(1);
    Fitted {
        max_inflight: max_inflight.min(room.saturating_sub(tcp)).max(1),
        max_tcp_clients: tcp,
    }
}

/// Whether an error means this process (EMFILE) or the whole system
/// (ENFILE) is out of file descriptors. The numbers are the same on Linux
/// and the BSDs.
pub fn is_exhausted(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

/// A limit as u64: `rlim_t` is 32 bits on 32-bit glibc (armhf Raspberry Pi
/// OS, found by `.ci/cross`'s armv7 build) and 64 bits elsewhere, where this
/// converts nothing.
#[cfg(target_os = "linux")]
#[allow(clippy::useless_conversion)]
fn widen(limit: nix::libc::rlim_t) -> u64 {
    u64::from(limit)
}

/// The soft open-file limit, where the platform has one we can read.
pub fn soft_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::resource::{Resource, getrlimit};
        getrlimit(Resource::RLIMIT_NOFILE)
            .ok()
            .map(|(soft, _)| widen(soft))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Raises the soft open-file limit to the hard limit; returns the soft
/// limit now in force (None where it cannot be read). Logs what it did.
pub fn raise_soft_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
        if soft >= hard {
            return Some(widen(soft));
        }
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => {
                tracing::info!(
                    from = widen(soft),
                    to = widen(hard),
                    "raised the open-file limit"
                );
                Some(widen(hard))
            }
            Err(e) => {
                tracing::warn!(soft = widen(soft), hard = widen(hard), error = %e, "cannot raise the open-file limit");
                Some(widen(soft))
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_fit_inside_the_open_file_limit() {
        // systemd's default soft limit.
        let f = fit(4096, 256, Some(1024));
        assert_eq!(f.max_tcp_clients, 224);
        assert_eq!(f.max_inflight, 1024 - 128 - 224);
        // Plenty of room: the config as written.
        let f = fit(4096, 256, Some(65_536));
        assert_eq!((f.max_inflight, f.max_tcp_clients), (4096, 256));
        // Not even the reserve: one of each, never zero.
        let f = fit(4096, 256, Some(10));
        assert_eq!((f.max_inflight, f.max_tcp_clients), (1, 1));
        assert_eq!(fit(0, 0, None).max_inflight, 1);
    }
}
