//! Which local OS user sent a query from loopback (Linux).
//!
//! The kernel knows the owner of every socket; `sock_diag` (netlink) finds one
//! socket by its addresses in a single round trip, so the lookup is exact and
//! costs one syscall pair. It runs only for loopback clients and only when the
//! config matches clients by user, and never on a thread that answers
//! queries: [`Owners`] (in `flows.rs`) keeps each flow's owner for the query
//! path and has worker threads ask the kernel. A query that a local stub resolver (such as
//! systemd-resolved) forwards belongs to that stub's user, not the
//! application's, so user matching needs applications to ask nestguard
//! directly.

use std::net::SocketAddr;

mod flows;
pub use flows::{Counters as OwnerCounters, Flow, Owner, OwnerSource, Owners, Proto};

/// The kernel's socket table ([`uid_of`]).
pub struct KernelOwners;

impl OwnerSource for KernelOwners {
    fn owner(&self, peer: SocketAddr, local: SocketAddr, proto: Proto) -> Option<u32> {
        uid_of(peer, local, proto)
    }
}

/// The uid owning the client socket `peer` that sent a query to our socket `local`.
#[cfg(target_os = "linux")]
pub fn uid_of(peer: SocketAddr, local: SocketAddr, proto: Proto) -> Option<u32> {
    use std::cell::RefCell;

    thread_local! {
        static DIAG: RefCell<Option<super::netlink::Socket>> = const { RefCell::new(None) };
    }
    if !peer.ip().is_loopback() {
        return None;
    }
    // A wildcard listener does not say which address the client sent to; on
    // loopback it is almost always the client's own address.
    let local = if local.ip().is_unspecified() {
        SocketAddr::new(peer.ip(), local.port())
    } else {
        local
    };
    DIAG.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            match super::netlink::Socket::open(super::netlink::NETLINK_SOCK_DIAG) {
                Ok(s) => *slot = Some(s),
                Err(e) => {
                    warn_once(&e);
                    return None;
                }
            }
        }
        let sock = slot.as_mut()?;
        // The kernel's UDP lookup reads the address pair the other way round
        // from TCP's ("for historical reasons"); try both, and accept only the
        // socket whose own port is the client's.
        let (first, second) = match proto {
            Proto::Tcp => ((peer, local), (local, peer)),
            Proto::Udp => ((local, peer), (peer, local)),
        };
        diag::lookup(sock, proto, first.0, first.1, peer)
            .or_else(|| diag::lookup(sock, proto, second.0, second.1, peer))
    })
}

#[cfg(not(target_os = "linux"))]
pub fn uid_of(_peer: SocketAddr, _local: SocketAddr, _proto: Proto) -> Option<u32> {
    None
}

#[cfg(target_os = "linux")]
fn warn_once(e: &std::io::Error) {
    use std::sync::Once;
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(error = %e, "cannot ask the kernel who owns a socket (sock_diag); `users` in [[client]] will not match");
    });
}

/// The uid of a user name, through the system's user database (NSS, so LDAP and
/// directory users of a school network are found too).
#[cfg(target_os = "linux")]
pub fn uid_by_name(name: &str) -> Option<u32> {
    nix::unistd::User::from_name(name)
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
}

#[cfg(not(target_os = "linux"))]
pub fn uid_by_name(_name: &str) -> Option<u32> {
    None
}

/// The user name of a uid (NSS; may block: not for the query path).
#[cfg(target_os = "linux")]
pub fn name_of(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

#[cfg(not(target_os = "linux"))]
pub fn name_of(_uid: u32) -> Option<String> {
    None
}

#[cfg(target_os = "linux")]
mod diag {
    use std::net::SocketAddr;

    use netlink_packet_sock_diag::SockDiagMessage;
    use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP};
    use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};

    use super::super::netlink::{Flow, NLM_F_REQUEST, Socket};
    use super::Proto;

    /// Asks for the socket with id (src, dst); returns its uid if its own port is `peer`'s.
    pub(super) fn lookup(
        sock: &mut Socket,
        proto: Proto,
        src: SocketAddr,
        dst: SocketAddr,
        peer: SocketAddr,
    ) -> Option<u32> {
        let request = SockDiagMessage::InetRequest(InetRequest {
            family: if src.is_ipv4() { AF_INET } else { AF_INET6 },
            protocol: match proto {
                Proto::Udp => IPPROTO_UDP,
                Proto::Tcp => IPPROTO_TCP,
            },
            extensions: ExtensionFlags::empty(),
            // Every state, as the kernel counts them (not only those the crate names).
            states: StateFlags::from_bits_retain(u32::MAX),
            socket_id: SocketId {
                source_port: src.port(),
                destination_port: dst.port(),
                source_address: src.ip(),
                destination_address: dst.ip(),
                interface_id: 0,
                cookie: [0xff; 8], // INET_DIAG_NOCOOKIE
            },
        });
        let mut buf = [0u8; 1024];
        let mut uid = None;
        let asked = sock.request(request, NLM_F_REQUEST, &mut buf, |msg| {
            if let SockDiagMessage::InetResponse(r) = msg
                && r.header.socket_id.source_port == peer.port()
            {
                uid = Some(r.header.uid);
            }
            Flow::Stop
        });
        // ENOENT: no such socket (the client already gave up); not worth a log line.
        asked.ok().and(uid)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream, UdpSocket};

    fn my_uid() -> u32 {
        nix::unistd::getuid().as_raw()
    }

    #[test]
    fn finds_the_owner_of_a_udp_client_socket() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (local, peer) = (server.local_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(uid_of(peer, local, Proto::Udp), Some(my_uid()));
        // A connected client socket (what glibc's stub resolver uses).
        client.connect(local).unwrap();
        assert_eq!(uid_of(peer, local, Proto::Udp), Some(my_uid()));
        // Through a wildcard listener address.
        let wildcard = SocketAddr::new("0.0.0.0".parse().unwrap(), local.port());
        assert_eq!(uid_of(peer, wildcard, Proto::Udp), Some(my_uid()));
    }

    #[test]
    fn finds_the_owner_of_a_tcp_client_socket() {
        let server = TcpListener::bind("[::1]:0").unwrap();
        let local = server.local_addr().unwrap();
        let client = TcpStream::connect(local).unwrap();
        let peer = client.local_addr().unwrap();
        assert_eq!(uid_of(peer, local, Proto::Tcp), Some(my_uid()));
    }

    #[test]
    fn no_socket_no_uid() {
        let gone = UdpSocket::bind("127.0.0.1:0").unwrap();
        let peer = gone.local_addr().unwrap();
        drop(gone);
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(uid_of(peer, server.local_addr().unwrap(), Proto::Udp), None);
        // Not loopback: never asked.
        let lan = SocketAddr::new("192.168.1.5".parse().unwrap(), 4000);
        assert_eq!(uid_of(lan, server.local_addr().unwrap(), Proto::Udp), None);
    }

    #[test]
    fn user_names_resolve() {
        assert_eq!(uid_by_name("root"), Some(0));
        assert_eq!(uid_by_name("no-such-user-nestguard"), None);
    }
}
