//! UDP on Linux: one thread per listening socket that sleeps in `recvmmsg`,
//! answers blocked and cached names in place and sends the answers back with
//! one `sendmmsg`.
//!
//! Why a thread and not a tokio task: at tens of thousands of queries a second
//! most of a DNS server's CPU time is the kernel's work per datagram. A task
//! adds an epoll wakeup and a scheduler pass per burst, and one syscall per
//! datagram each way; a thread blocked in `recvmmsg(MSG_WAITFORONE)` wakes
//! once, takes every datagram that is queued (up to [`BATCH`]) and sends the
//! replies together. BENCHMARKS.md has the figures.
//!
//! Cache misses go to the tokio runtime as tasks, exactly as from the portable
//! loop in [`super::server`]; their replies are sent with `MSG_DONTWAIT` so a
//! task never blocks a worker thread.
//!
//! Nothing here waits on the kernel for anything but datagrams: a query whose
//! client socket's owner is not known yet (per-user clients) is a miss too,
//! and its task asks for the owner (`policy::users::Owners`).

use std::io::{IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Weak};
use std::time::Duration;

use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg, sendto};
use tokio::runtime::Handle;

use super::handler::{Client, Fast, Transport};
use super::server::{ServeContext, udp_miss};

/// Datagrams taken and answered per wakeup.
const BATCH: usize = 32;
/// Room for one query. Anything larger is not a query a stub sends; it is
/// read truncated and answered FORMERR or dropped by the parser.
const QUERY_MAX: usize = 4096;
/// How often a thread with nothing to read checks whether it should stop.
/// A shutdown wakes it at once (see [`poke`]); this bound is for a runtime
/// dropped without one, and keeps an idle daemon from waking the CPU often.
const STOP_POLL: Duration = Duration::from_secs(2);

/// Where replies to a socket served by [`spawn`] are sent from tasks.
#[derive(Clone)]
struct Sender(Arc<UdpSocket>);

impl Sender {
    /// Sends without blocking: a full send buffer drops the reply (the client
    /// retries) rather than stall a runtime worker.
    fn send(&self, out: &[u8], peer: SocketAddr) {
        let to = SockaddrStorage::from(peer);
        if let Err(e) = sendto(self.0.as_raw_fd(), out, &to, MsgFlags::MSG_DONTWAIT) {
            tracing::trace!(error = %e, %peer, "UDP send failed");
        }
    }
}

/// Starts the receive thread for `socket` (blocking mode is set here). The
/// thread ends when `ctx.shutdown` is cancelled or the runtime is dropped;
/// a task in `ctx.tasks` waits for it, so a drained shutdown includes it.
pub fn spawn(socket: UdpSocket, ctx: ServeContext) -> std::io::Result<()> {
    socket.set_nonblocking(false)?;
    socket.set_read_timeout(Some(STOP_POLL))?;
    let listener = socket.local_addr()?;
    let socket = Arc::new(socket);
    let runtime = Handle::current();
    // Dropped with the runtime's tasks if the runtime goes away without a
    // shutdown (tests do that): the thread notices and ends.
    let alive = Arc::new(());
    let weak = Arc::downgrade(&alive);
    let thread_ctx = ctx.clone();
    let thread = std::thread::Builder::new()
        .name(format!("udp {listener}"))
        .spawn(move || receive_loop(&socket, listener, &thread_ctx, &runtime, &weak))?;
    let stop = ctx.shutdown.clone();
    ctx.tasks.spawn(async move {
        stop.cancelled().await;
        drop(alive);
        poke(listener);
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    });
    Ok(())
}

/// Wakes the thread sleeping on `listener` with an empty datagram (which
/// it drops), so that it sees the shutdown now rather than at its next
/// [`STOP_POLL`].
fn poke(listener: SocketAddr) {
    let mut to = listener;
    if to.ip().is_unspecified() {
        to.set_ip(match to {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    let from: SocketAddr = match to {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    if let Err(e) = UdpSocket::bind(from).and_then(|s| s.send_to(&[], to)) {
        tracing::debug!(error = %e, %listener, "could not wake the UDP thread; it stops within {STOP_POLL:?}");
    }
}

fn receive_loop(
    socket: &Arc<UdpSocket>,
    listener: SocketAddr,
    ctx: &ServeContext,
    runtime: &Handle,
    alive: &Weak<()>,
) {
    let fd = socket.as_raw_fd();
    let sender = Sender(socket.clone());
    let mut batch = Batch::new();
    while !ctx.shutdown.is_cancelled() && alive.strong_count() > 0 {
        match batch.receive(fd) {
            Ok(0) | Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => continue,
            Ok(_) => batch.answer_and_send(fd, listener, ctx, runtime, &sender),
            // ICMP errors from earlier sends surface here; not fatal.
            Err(e) => tracing::trace!(error = %e, "UDP receive error"),
        }
    }
}

/// The buffers of one wakeup: up to [`BATCH`] queries in, their replies out.
/// Allocated once per socket; nothing per query.
struct Batch {
    bufs: Box<[[u8; QUERY_MAX]; BATCH]>,
    got: [(usize, Option<SockaddrStorage>); BATCH],
    received: usize,
    outs: Vec<Vec<u8>>,
    to: [Option<SockaddrStorage>; BATCH],
    recv_headers: MultiHeaders<SockaddrStorage>,
    send_headers: MultiHeaders<SockaddrStorage>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            bufs: Box::new([[0u8; QUERY_MAX]; BATCH]),
            got: [(0, None); BATCH],
            received: 0,
            outs: (0..BATCH).map(|_| Vec::with_capacity(512)).collect(),
            to: [None; BATCH],
            recv_headers: MultiHeaders::preallocate(BATCH, None),
            send_headers: MultiHeaders::preallocate(BATCH, None),
        }
    }

    /// Sleeps until a datagram arrives (or [`STOP_POLL`] passes), then takes
    /// every one that is queued, up to [`BATCH`].
    fn receive(&mut self, fd: RawFd) -> nix::Result<usize> {
        let mut iovs = self.bufs.each_mut().map(|b| [IoSliceMut::new(&mut b[..])]);
        let msgs = recvmmsg(
            fd,
            &mut self.recv_headers,
            iovs.iter_mut(),
            MsgFlags::MSG_WAITFORONE,
            None,
        )?;
        let mut n = 0;
        for (slot, m) in self.got.iter_mut().zip(msgs) {
            *slot = (m.bytes, m.address);
            n += 1;
        }
        self.received = n;
        Ok(n)
    }

    /// Answers what was received: blocked and cached names in place, sent
    /// together; misses become tasks on `runtime`.
    fn answer_and_send(
        &mut self,
        fd: RawFd,
        listener: SocketAddr,
        ctx: &ServeContext,
        runtime: &Handle,
        sender: &Sender,
    ) {
        let mut replies = 0;
        for (i, &(len, from)) in self.got[..self.received].iter().enumerate() {
            let (Some(from), Some(peer)) = (from, from.and_then(socket_addr)) else {
                continue;
            };
            let packet = &self.bufs[i][..len.min(QUERY_MAX)];
            let client = Client { peer, listener };
            match ctx
                .handler
                .answer_fast(packet, client, Transport::Udp, &mut self.outs[replies])
            {
                Fast::Reply => {
                    self.to[replies] = Some(from);
                    replies += 1;
                }
                Fast::ReplyPrefetch => {
                    self.to[replies] = Some(from);
                    replies += 1;
                    if let Some(refresh) = super::server::prefetch(ctx, packet) {
                        ctx.tasks.spawn_on(refresh, runtime);
                    }
                }
                Fast::Drop => {}
                Fast::Miss => spawn_miss(ctx, runtime, sender, packet, client),
            }
        }
        self.received = 0;
        send_all(
            fd,
            &mut self.send_headers,
            &self.outs[..replies],
            &self.to[..replies],
        );
    }
}

/// Sends every reply, resuming after a partial `sendmmsg`.
fn send_all(
    fd: RawFd,
    headers: &mut MultiHeaders<SockaddrStorage>,
    outs: &[Vec<u8>],
    to: &[Option<SockaddrStorage>],
) {
    let mut sent = 0;
    while sent < outs.len() {
        let rest = &outs[sent..];
        let slices: [[IoSlice<'_>; 1]; BATCH] =
            std::array::from_fn(|i| [IoSlice::new(rest.get(i).map_or(&[][..], |o| o))]);
        let slices = &slices[..rest.len().min(BATCH)];
        match sendmmsg(fd, headers, slices, &to[sent..], [], MsgFlags::empty()) {
            Ok(results) => {
                let n = results.count();
                if n == 0 {
                    return;
                }
                sent += n;
            }
            Err(nix::errno::Errno::EINTR) => {}
            // One bad destination (say, unreachable) fails the call at that
            // message: skip it and send the rest.
            Err(e) => {
                tracing::trace!(error = %e, "UDP send failed");
                sent += 1;
            }
        }
    }
}

fn spawn_miss(
    ctx: &ServeContext,
    runtime: &Handle,
    sender: &Sender,
    packet: &[u8],
    client: Client,
) {
    let Some(answer) = udp_miss(ctx, packet, client) else {
        return;
    };
    let sender = sender.clone();
    ctx.tasks.spawn_on(
        async move {
            let out = answer.await;
            if !out.is_empty() {
                sender.send(&out, client.peer);
            }
        },
        runtime,
    );
}

fn socket_addr(s: SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    s.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}
