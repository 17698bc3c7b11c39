//! Client MAC addresses, from the kernel's neighbour table (ARP for IPv4, NDP
//! for IPv6). A device keeps its profile whatever address it uses, including
//! IPv6 privacy addresses, as long as it is on the same link as nestguard
//! (a home router, a lab machine serving its room).
//!
//! The table is read in the background into an immutable map that queries
//! read without a lock: every [`REFRESH`], and within a second when a query
//! comes from an address the map does not know yet.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;

/// How often the whole table is re-read.
pub const REFRESH: Duration = Duration::from_secs(10);
/// How soon an unknown address triggers a re-read.
pub const MISS_REFRESH: Duration = Duration::from_secs(1);

pub use crate::mac::Mac;

/// Where neighbour entries come from: the kernel, or a test's table.
pub trait NeighbourSource: Send + Sync {
    fn read(&self) -> io::Result<Vec<(IpAddr, Mac)>>;
}

/// The kernel's neighbour table (Linux rtnetlink); empty elsewhere.
pub struct KernelNeighbours;

impl NeighbourSource for KernelNeighbours {
    #[cfg(target_os = "linux")]
    fn read(&self) -> io::Result<Vec<(IpAddr, Mac)>> {
        rtnl::dump()
    }

    #[cfg(not(target_os = "linux"))]
    fn read(&self) -> io::Result<Vec<(IpAddr, Mac)>> {
        Ok(Vec::new())
    }
}

/// The neighbour map queries read, and the flag that asks for a refresh.
pub struct Neighbours {
    source: Arc<dyn NeighbourSource>,
    map: ArcSwap<HashMap<IpAddr, Mac>>,
    wanted: AtomicBool,
}

impl Neighbours {
    pub fn new(source: Arc<dyn NeighbourSource>) -> Neighbours {
        Neighbours {
            source,
            map: ArcSwap::from_pointee(HashMap::new()),
            wanted: AtomicBool::new(true),
        }
    }

    /// The MAC address of a client on our link. Lock-free; an unknown
    /// non-loopback address asks the background task for a fresh read.
    pub fn mac(&self, ip: IpAddr) -> Option<Mac> {
        let found = self.map.load().get(&ip).copied();
        if found.is_none() && !ip.is_loopback() {
            self.wanted.store(true, Ordering::Relaxed);
        }
        found
    }

    /// Whether a query has met an address the map lacks since the last refresh.
    pub fn refresh_wanted(&self) -> bool {
        self.wanted.load(Ordering::Relaxed)
    }

    /// Re-reads the table (off the query path).
    pub fn refresh(&self) {
        self.wanted.store(false, Ordering::Relaxed);
        match self.source.read() {
            Ok(entries) => self.map.store(Arc::new(entries.into_iter().collect())),
            Err(e) => {
                use std::sync::Once;
                static WARNED: Once = Once::new();
                WARNED.call_once(|| {
                    tracing::warn!(error = %e, "cannot read the neighbour table; `macs` in [[client]] will not match");
                });
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod rtnl {
    //! The two rtnetlink neighbour messages nestguard uses, and only them: a
    //! dump request (`RTM_GETNEIGH`) and its replies (`RTM_NEWNEIGH`), of
    //! which only the destination and link-layer address are read. The
    //! framing and attribute walk are netlink-packet-core's; the fixed
    //! 12-byte `struct ndmsg` before the attributes is read here. This
    //! replaced netlink-packet-route, whose every route, link and traffic
    //! control message cost the router build about 0.2 MB of code for one
    //! table (BENCHMARKS.md, "Binary size"; docs/decisions.md).
    use std::io;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use netlink_packet_core::{
        DecodeError, NLM_F_DUMP, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable,
        NlasIterator,
    };

    use super::super::netlink::{Flow, NETLINK_ROUTE, NLM_F_REQUEST, Socket};
    use super::Mac;

    /// `<linux/rtnetlink.h>`.
    const RTM_NEWNEIGH: u16 = 28;
    const RTM_GETNEIGH: u16 = 30;
    /// `<linux/neighbour.h>`: the attributes read.
    const NDA_DST: u16 = 1;
    const NDA_LLADDR: u16 = 2;
    /// `struct ndmsg`: family, padding, ifindex, state, flags, type.
    const NDMSG_LEN: usize = 12;
    /// Where `ndm_state` (native-endian u16) sits in `struct ndmsg`.
    const NDM_STATE: usize = 8;
    /// Entries that do not (yet) say which device holds the address (the
    /// state is a bit set).
    const NUD_INCOMPLETE: u16 = 0x01;
    const NUD_FAILED: u16 = 0x20;

    /// What goes over the socket: the dump request, or one reply.
    pub(super) enum Message {
        /// `RTM_GETNEIGH` for every family (IPv4 and IPv6).
        Dump,
        /// One `RTM_NEWNEIGH`, if it names both addresses and is complete.
        Entry(Option<(IpAddr, Mac)>),
        /// Any other reply type (none is expected).
        Other,
    }

    impl NetlinkSerializable for Message {
        fn message_type(&self) -> u16 {
            RTM_GETNEIGH
        }

        fn buffer_len(&self) -> usize {
            NDMSG_LEN
        }

        fn serialize(&self, buffer: &mut [u8]) {
            // An all-zero ndmsg: family AF_UNSPEC, every interface.
            buffer.fill(0);
        }
    }

    impl NetlinkDeserializable for Message {
        type Error = DecodeError;

        fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Message, DecodeError> {
            if header.message_type != RTM_NEWNEIGH {
                return Ok(Message::Other);
            }
            entry(payload).map(Message::Entry)
        }
    }

    pub(super) fn dump() -> io::Result<Vec<(IpAddr, Mac)>> {
        let mut sock = Socket::open(NETLINK_ROUTE)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut out = Vec::new();
        sock.request(Message::Dump, NLM_F_REQUEST | NLM_F_DUMP, &mut buf, |msg| {
            if let Message::Entry(Some(entry)) = msg {
                out.push(entry);
            }
            Flow::More
        })?;
        Ok(out)
    }

    /// One `RTM_NEWNEIGH` payload: its destination address and link-layer
    /// address; none for an incomplete or failed entry, or one without both
    /// (a bridge's forwarding entry, a tunnel's).
    pub(super) fn entry(payload: &[u8]) -> Result<Option<(IpAddr, Mac)>, DecodeError> {
        let (ndmsg, attributes) = payload
            .split_at_checked(NDMSG_LEN)
            .ok_or_else(|| DecodeError::from("neighbour message shorter than struct ndmsg"))?;
        let state = u16::from_ne_bytes([ndmsg[NDM_STATE], ndmsg[NDM_STATE + 1]]);
        if state & (NUD_INCOMPLETE | NUD_FAILED) != 0 {
            return Ok(None);
        }
        let (mut ip, mut mac) = (None, None);
        for nla in NlasIterator::new(attributes) {
            let nla = nla?;
            match nla.kind() {
                NDA_DST => {
                    ip = match nla.value() {
                        v4 if v4.len() == 4 => <[u8; 4]>::try_from(v4)
                            .ok()
                            .map(|a| IpAddr::V4(Ipv4Addr::from(a))),
                        v6 => <[u8; 16]>::try_from(v6)
                            .ok()
                            .map(|a| IpAddr::V6(Ipv6Addr::from(a))),
                    };
                }
                NDA_LLADDR => mac = <[u8; 6]>::try_from(nla.value()).ok().map(Mac),
                _ => {}
            }
        }
        Ok(ip.zip(mac))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_syntax() {
        let m: Mac = "AA:bb:0c:dd:ee:0F".parse().unwrap();
        assert_eq!(m.0, [0xaa, 0xbb, 0x0c, 0xdd, 0xee, 0x0f]);
        assert_eq!(m.to_string(), "aa:bb:0c:dd:ee:0f");
        assert_eq!("aa-bb-0c-dd-ee-0f".parse::<Mac>(), Ok(m));
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aabbccddeeff",
            "g0:bb:cc:dd:ee:ff",
            "a:bb:cc:dd:ee:fff",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn parses_a_neighbour_message() {
        let mut msg = vec![10u8, 0, 0, 0, 2, 0, 0, 0, 0x02, 0, 0, 1]; // AF_INET6, if 2, REACHABLE
        msg.extend_from_slice(&20u16.to_ne_bytes());
        msg.extend_from_slice(&1u16.to_ne_bytes());
        let ip: std::net::Ipv6Addr = "fe80::1".parse().unwrap();
        msg.extend_from_slice(&ip.octets());
        msg.extend_from_slice(&10u16.to_ne_bytes());
        msg.extend_from_slice(&2u16.to_ne_bytes());
        msg.extend_from_slice(&[2, 0, 0, 0, 0, 7, 0, 0]); // 6 bytes + padding
        let parse = |msg: &[u8]| rtnl::entry(msg).unwrap();
        assert_eq!(parse(&msg), Some((IpAddr::V6(ip), Mac([2, 0, 0, 0, 0, 7]))));
        msg[8] = 0x20; // FAILED
        assert_eq!(parse(&msg), None);
        msg[8] = 0x02;
        // IPv4, and an entry with no link-layer address (a tunnel's).
        let mut v4 = vec![2u8, 0, 0, 0, 2, 0, 0, 0, 0x02, 0, 0, 1];
        v4.extend_from_slice(&8u16.to_ne_bytes());
        v4.extend_from_slice(&1u16.to_ne_bytes());
        v4.extend_from_slice(&[192, 168, 1, 20]);
        assert_eq!(parse(&v4), None);
        v4.extend_from_slice(&10u16.to_ne_bytes());
        v4.extend_from_slice(&2u16.to_ne_bytes());
        v4.extend_from_slice(&[2, 0, 0, 0, 0, 8, 0, 0]);
        assert_eq!(
            parse(&v4),
            Some(("192.168.1.20".parse().unwrap(), Mac([2, 0, 0, 0, 0, 8])))
        );
        // Truncated: an error, not a panic.
        assert!(rtnl::entry(&msg[..6]).is_err());
        assert!(rtnl::entry(&msg[..msg.len() - 3]).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_table_can_be_read() {
        // Every complete IPv4 entry of /proc/net/arp (the older interface) is in the dump.
        let entries = KernelNeighbours.read().unwrap();
        let arp = std::fs::read_to_string("/proc/net/arp").unwrap_or_default();
        for line in arp.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 4 && f[2] == "0x2" {
                let entry = (f[0].parse().unwrap(), f[3].parse::<Mac>().unwrap());
                assert!(entries.contains(&entry), "{entry:?} not in {entries:?}");
            }
        }
    }

    struct Fixed(Vec<(IpAddr, Mac)>);
    impl NeighbourSource for Fixed {
        fn read(&self) -> io::Result<Vec<(IpAddr, Mac)>> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn unknown_addresses_ask_for_a_refresh() {
        let mac = Mac([2, 0, 0, 0, 0, 1]);
        let ip: IpAddr = "192.168.1.20".parse().unwrap();
        let n = Neighbours::new(Arc::new(Fixed(vec![(ip, mac)])));
        n.refresh();
        assert!(!n.refresh_wanted());
        assert_eq!(n.mac(ip), Some(mac));
        assert!(!n.refresh_wanted());
        assert_eq!(n.mac("127.0.0.1".parse().unwrap()), None);
        assert!(!n.refresh_wanted(), "loopback has no neighbours");
        assert_eq!(n.mac("192.168.1.21".parse().unwrap()), None);
        assert!(n.refresh_wanted());
    }
}
