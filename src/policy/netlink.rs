//! A minimal netlink client: one request, the replies read into a caller's buffer.
//!
//! Only two kernel interfaces are used, each with fixed-layout messages
//! (`sock_diag` for the owner of a socket, `rtnetlink` neighbours for MAC
//! addresses), so the few structs are read and written by hand rather than
//! through a general netlink crate.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto,
    setsockopt, socket, sockopt,
};
use nix::sys::time::TimeVal;

pub const NLMSG_HDRLEN: usize = 16;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// The kernel never takes longer than this to answer; a stuck socket must not
/// stall the query path.
const REPLY_TIMEOUT: Duration = Duration::from_millis(200);

/// One open netlink socket of one protocol.
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

/// What a reply callback wants next.
pub enum Flow {
    More,
    Stop,
}

impl Socket {
    pub fn open(protocol: SockProtocol) -> io::Result<Socket> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            protocol,
        )?;
        let micros = i64::try_from(REPLY_TIMEOUT.as_micros()).unwrap_or(i64::MAX);
        setsockopt(
            &fd,
            sockopt::ReceiveTimeout,
            &TimeVal::new(micros / 1_000_000, micros % 1_000_000),
        )?;
        Ok(Socket { fd, seq: 0 })
    }

    /// Writes the netlink header into `msg[..16]` (the caller has filled the
    /// payload after it), sends it, and passes each reply message's type and
    /// payload to `each` until it says stop, the dump is done, or an error
    /// reply arrives (returned as `Err` unless it is an acknowledgement).
    pub fn request(
        &mut self,
        msg: &mut [u8],
        kind: u16,
        flags: u16,
        buf: &mut [u8],
        mut each: impl FnMut(u16, &[u8]) -> Flow,
    ) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let len = u32::try_from(msg.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[4..6].copy_from_slice(&kind.to_ne_bytes());
        msg[6..8].copy_from_slice(&flags.to_ne_bytes());
        msg[8..12].copy_from_slice(&seq.to_ne_bytes());
        msg[12..16].copy_from_slice(&0u32.to_ne_bytes());
        sendto(
            self.fd.as_raw_fd(),
            msg,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )?;
        loop {
            let n = recv(self.fd.as_raw_fd(), buf, MsgFlags::empty())?;
            let mut rest = &buf[..n];
            while rest.len() >= NLMSG_HDRLEN {
                let len = u32_at(rest, 0) as usize;
                if len < NLMSG_HDRLEN || len > rest.len() {
                    return Err(io::ErrorKind::InvalidData.into());
                }
                let kind = u16::from_ne_bytes([rest[4], rest[5]]);
                let reply_seq = u32_at(rest, 8);
                let payload = &rest[NLMSG_HDRLEN..len];
                rest = &rest[align4(len).min(rest.len())..];
                // A late reply to an earlier, timed-out request.
                if reply_seq != seq {
                    continue;
                }
                match kind {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        let errno = payload
                            .get(0..4)
                            .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                        return if errno == 0 {
                            Ok(())
                        } else {
                            Err(io::Error::from_raw_os_error(-errno))
                        };
                    }
                    _ => {
                        let flow = each(kind, payload);
                        // A plain request has exactly one reply; a dump ends with DONE.
                        if matches!(flow, Flow::Stop) || flags & NLM_F_DUMP == 0 {
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
}

pub fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A native-endian u32 at `at` (callers have checked the length).
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
