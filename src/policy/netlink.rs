//! A minimal netlink client: one request, each reply handed to the caller.
//!
//! The socket is netlink-sys's and the framing netlink-packet-core's, so no
//! frame is read at hand-computed byte offsets; the message types come from
//! netlink-packet-sock-diag (socket owners) and `neighbours.rs` (the one
//! neighbour dump, over netlink-packet-core's attribute walk). Only the
//! request/reply loop is ours: a receive timeout, the sequence check, and
//! when to stop.

use std::io;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_DUMP, NetlinkBuffer, NetlinkDeserializable, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, NetlinkSerializable,
};
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::{TimeVal, TimeValLike};

pub use netlink_packet_core::NLM_F_REQUEST;
pub use netlink_sys::protocols::{NETLINK_ROUTE, NETLINK_SOCK_DIAG};

/// The kernel never takes longer than this to answer; a stuck socket must
/// not hold up the lookups queued behind it.
const REPLY_TIMEOUT: Duration = Duration::from_millis(200);

/// One open netlink socket of one protocol.
pub struct Socket {
    sock: netlink_sys::Socket,
    seq: u32,
}

/// What a reply callback wants next.
pub enum Flow {
    More,
    Stop,
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("netlink: {e}"))
}

impl Socket {
    pub fn open(protocol: isize) -> io::Result<Socket> {
        let sock = netlink_sys::Socket::new(protocol)?;
        sock.connect(&netlink_sys::SocketAddr::new(0, 0))?;
        // TimeValLike picks the platform's widths (time_t is 32 bits on
        // 32-bit glibc: `.ci/cross`'s armv7 build).
        let millis = i64::try_from(REPLY_TIMEOUT.as_millis()).unwrap_or(i64::MAX);
        setsockopt(
            &sock,
            sockopt::ReceiveTimeout,
            &TimeVal::milliseconds(millis),
        )?;
        Ok(Socket { sock, seq: 0 })
    }

    /// Sends `message` with `flags` and passes each reply to `each` until it
    /// says stop, the dump is done, or an error reply arrives (returned as
    /// `Err` unless it is an acknowledgement). `buf` holds one read.
    pub fn request<M>(
        &mut self,
        message: M,
        flags: u16,
        buf: &mut [u8],
        mut each: impl FnMut(M) -> Flow,
    ) -> io::Result<()>
    where
        M: NetlinkSerializable + NetlinkDeserializable,
    {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        self.sock.send(&out, 0)?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        loop {
            let n = self.sock.recv(&mut &mut buf[..], 0)?;
            let mut rest = buf.get(..n).ok_or_else(|| invalid("short read"))?;
            while !rest.is_empty() {
                // Checks the length field against what was read.
                let frame = NetlinkBuffer::new_checked(rest).map_err(invalid)?;
                let len = frame.length() as usize;
                let reply_seq = frame.sequence_number();
                let decoded = NetlinkMessage::<M>::deserialize(&rest[..len]);
                rest = rest.get(align4(len)..).unwrap_or_default();
                // A late reply to an earlier, timed-out request.
                if reply_seq != seq {
                    continue;
                }
                let payload = match decoded {
                    Ok(m) => m.payload,
                    // One entry of a dump we cannot read is skipped; the
                    // single answer to a request is needed.
                    Err(e) if dump => {
                        tracing::debug!(error = %e, "skipped a netlink message");
                        continue;
                    }
                    Err(e) => return Err(invalid(e)),
                };
                match payload {
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(()),
                            Some(_) => Err(e.to_io()),
                        };
                    }
                    NetlinkPayload::InnerMessage(m) => {
                        let flow = each(m);
                        // A plain request has exactly one reply; a dump ends with DONE.
                        if matches!(flow, Flow::Stop) || !dump {
                            return Ok(());
                        }
                    }
                    NetlinkPayload::Noop | NetlinkPayload::Overrun(_) => {}
                    _ => {}
                }
            }
        }
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}
