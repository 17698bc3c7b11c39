//! The listening sockets: UDP and TCP on every configured address.
//!
//! UDP: one receive loop per socket drains every datagram that is ready and
//! answers cache hits inline, from buffers it owns; misses are handed to a
//! task so a slow upstream never stalls the loop.
//!
//! TCP (RFC 7766): pipelined queries on one connection are answered as they
//! resolve, possibly out of order; a connection with nothing to read for
//! `idle_timeout` is closed, as is one whose answers go unread that long.
//! The answers one connection may have outstanding are bounded, and the
//! connections per address and in all (see `tcp_pool.rs`).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::fd_limit::{self, Fitted};
use super::tcp_pool::{Admitted, Conn, MAX_PENDING, OverCap, Registered, TcpPool};
use crate::config::ServerConfig;
use crate::log_every::LogEvery;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::handler::{Client, Fast, Handler, Transport};

/// Datagrams handled before the loop yields to other tasks.
const UDP_BUDGET: usize = 256;
/// Room for bursts while the loop is busy; the kernel caps it at net.core.rmem_max.
const UDP_RECV_BUFFER: usize = 4 << 20;
/// Kernel send and receive buffer of one TCP connection: room for a
/// largest answer, and for the queries of a busy pipelining client.
const TCP_BUFFER: usize = 64 << 10;
/// Pause after a failed accept (out of descriptors, say) instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Everything a listener task needs, cloned into each.
#[derive(Clone)]
pub struct ServeContext {
    pub handler: Arc<dyn Handler>,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    /// Upstream resolutions in flight; a UDP miss that finds none free is dropped,
    /// a TCP one waits.
    pub inflight: Arc<Semaphore>,
    /// The TCP connection slots, per address and in all.
    pub tcp: Arc<TcpPool>,
    /// How long a TCP connection may wait for a query, or an answer wait to be read.
    pub idle_timeout: Duration,
    pub logs: Arc<Logs>,
}

/// Limits reached are logged once per interval each, not per packet.
pub struct Logs {
    inflight_full: LogEvery,
    tcp_full: LogEvery,
    tcp_per_address: LogEvery,
    tcp_unread: LogEvery,
    accept_failed: LogEvery,
}

impl Logs {
    pub fn new(clock: &crate::clock::Clock) -> Logs {
        Logs {
            inflight_full: LogEvery::new(clock),
            tcp_full: LogEvery::new(clock),
            tcp_per_address: LogEvery::new(clock),
            tcp_unread: LogEvery::new(clock),
            accept_failed: LogEvery::new(clock),
        }
    }
}

impl ServeContext {
    /// The context for serving `config` with the limits `fitted` to the
    /// open-file limit (see [`fd_limit::fit`]); records those limits for `/metrics`.
    pub fn new(
        handler: Arc<dyn Handler>,
        config: &ServerConfig,
        fitted: Fitted,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> ServeContext {
        let c = handler.counters();
        c.max_inflight
            .store(fitted.max_inflight as u64, Ordering::Relaxed);
        c.max_tcp_clients
            .store(fitted.max_tcp_clients as u64, Ordering::Relaxed);
        let logs = Arc::new(Logs::new(handler.clock()));
        ServeContext {
            handler,
            shutdown,
            tasks,
            inflight: Arc::new(Semaphore::new(fitted.max_inflight)),
            tcp: Arc::new(TcpPool::new(
                fitted.max_tcp_clients,
                config.max_tcp_clients_per_address,
            )),
            idle_timeout: config.tcp_idle_timeout,
            logs,
        }
    }
}

fn new_socket(addr: SocketAddr, ty: Type, proto: Protocol) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
    if addr.is_ipv6() {
        // So that 0.0.0.0:53 and [::]:53 can both be bound.
        socket.set_only_v6(true)?;
    }
    Ok(socket)
}

/// Binds UDP on `addr`; port 0 picks a free port.
pub fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = new_socket(addr, Type::DGRAM, Protocol::UDP)?;
    // Best effort: a smaller buffer only means drops under extreme bursts.
    let _ = socket.set_recv_buffer_size(UDP_RECV_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Binds TCP on `addr` with address reuse, so a restart does not wait out TIME_WAIT.
pub fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = new_socket(addr, Type::STREAM, Protocol::TCP)?;
    socket.set_reuse_address(true)?;
    socket.set_tcp_nodelay(true)?; // inherited by accepted connections on Linux
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// Binds UDP and TCP on the same address. With port 0 the TCP socket takes the
/// port the kernel chose for UDP, retried a few times in case it is taken.
pub fn bind_pair(addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let mut last_err = None;
    for _ in 0..16 {
        let udp = bind_udp(addr)?;
        let actual = udp.local_addr()?;
        match bind_tcp(actual) {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if addr.port() == 0 => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("could not bind a UDP/TCP port pair")))
}

pub async fn serve_udp(socket: Arc<UdpSocket>, ctx: ServeContext) {
    let Ok(listener) = socket.local_addr() else {
        return;
    };
    let mut buf = vec![0u8; 65_535];
    let mut out = Vec::with_capacity(4096);
    loop {
        tokio::select! {
            biased;
            _ = ctx.shutdown.cancelled() => break,
            ready = socket.readable() => {
                if let Err(e) = ready {
                    tracing::warn!(error = %e, "UDP socket failed");
                    break;
                }
            }
        }
        for _ in 0..UDP_BUDGET {
            let (n, peer) = match socket.try_recv_from(&mut buf) {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // ICMP errors from earlier sends surface here on some systems; not fatal.
                Err(e) => {
                    tracing::trace!(error = %e, "UDP receive error");
                    continue;
                }
            };
            let packet = &buf[..n];
            let client = Client { peer, listener };
            match ctx
                .handler
                .answer_fast(packet, client, Transport::Udp, &mut out)
            {
                Fast::Reply => send_udp(&socket, &out, peer).await,
                Fast::ReplyPrefetch => {
                    send_udp(&socket, &out, peer).await;
                    if let Some(refresh) = prefetch(&ctx, packet) {
                        ctx.tasks.spawn(refresh);
                    }
                }
                Fast::Drop => {}
                Fast::Miss => spawn_udp_miss(&socket, &ctx, packet, peer, client),
            }
        }
        tokio::task::yield_now().await;
    }
}

fn spawn_udp_miss(
    socket: &Arc<UdpSocket>,
    ctx: &ServeContext,
    packet: &[u8],
    peer: SocketAddr,
    client: Client,
) {
    let Some(answer) = udp_miss(ctx, packet, client) else {
        return;
    };
    let socket = socket.clone();
    ctx.tasks.spawn(async move {
        let out = answer.await;
        if !out.is_empty() {
            send_udp(&socket, &out, peer).await;
        }
    });
}

/// The upstream leg of a UDP cache miss, holding one `max_inflight` slot
/// until its answer (empty: nothing to send) is ready; None when no slot is free.
pub(super) fn udp_miss(
    ctx: &ServeContext,
    packet: &[u8],
    client: Client,
) -> Option<impl Future<Output = Vec<u8>> + Send + 'static> {
    let permit = inflight_permit(ctx)?;
    let packet = packet.to_vec();
    let handler = ctx.handler.clone();
    Some(async move {
        let mut out = Vec::new();
        handler
            .answer_slow(&packet, client, Transport::Udp, &mut out)
            .await;
        drop(permit);
        out
    })
}

/// The refresh of a cached answer near its end (prefetch), holding one
/// `max_inflight` slot; None (counted) when every slot is taken: queries
/// waiting for an answer come first.
pub(super) fn prefetch(
    ctx: &ServeContext,
    packet: &[u8],
) -> Option<impl Future<Output = ()> + Send + 'static> {
    let Ok(permit) = ctx.inflight.clone().try_acquire_owned() else {
        ctx.handler
            .counters()
            .prefetches_skipped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return None;
    };
    let packet = packet.to_vec();
    let handler = ctx.handler.clone();
    Some(async move {
        handler.prefetch(&packet).await;
        drop(permit);
    })
}

/// A slot for one more upstream resolution from UDP, or None (counted and
/// logged once per interval) when `max_inflight` are already waiting.
fn inflight_permit(ctx: &ServeContext) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = ctx.inflight.clone().try_acquire_owned() {
        return Some(permit);
    }
    let c = ctx.handler.counters();
    c.dropped_busy.fetch_add(1, Ordering::Relaxed);
    if let Some(dropped) = ctx.logs.inflight_full.hit() {
        tracing::warn!(
            dropped,
            "max_inflight queries are waiting on upstreams; dropping new cache misses (clients retry)"
        );
    }
    None
}

async fn send_udp(socket: &UdpSocket, out: &[u8], peer: SocketAddr) {
    let result = match socket.try_send_to(out, peer) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => socket.send_to(out, peer).await,
        r => r,
    };
    if let Err(e) = result {
        tracing::trace!(error = %e, %peer, "UDP send failed");
    }
}

pub async fn serve_tcp(listener: TcpListener, ctx: ServeContext) {
    let c = ctx.handler.counters();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = ctx.shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                accept_failed(&ctx, &e);
                // Back off instead of spinning while descriptors are short.
                tokio::select! {
                    biased;
                    _ = ctx.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
                continue;
            }
        };
        let slot = match ctx.tcp.try_slot() {
            Some(slot) => slot,
            None => {
                c.tcp_pool_full.fetch_add(1, Ordering::Relaxed);
                // RFC 7766 §6.2.3: under pressure, close idle connections early.
                if ctx.tcp.close_longest_idle() {
                    c.tcp_closed_idle_early.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(times) = ctx.logs.tcp_full.hit() {
                    tracing::warn!(
                        times,
                        "max_tcp_clients connections are open; closing idle ones early, and new ones wait meanwhile"
                    );
                }
                // Further connections wait in the accept queue meanwhile.
                tokio::select! {
                    biased;
                    _ = ctx.shutdown.cancelled() => break,
                    s = ctx.tcp.slot() => match s {
                        Some(s) => s,
                        None => break,
                    },
                }
            }
        };
        match ctx.tcp.register(peer.ip(), slot) {
            Ok((registered, admitted)) => {
                if admitted == Admitted::ReplacedIdle {
                    c.tcp_closed_per_address.fetch_add(1, Ordering::Relaxed);
                }
                bound_buffers(&stream);
                let ctx2 = ctx.clone();
                ctx.tasks
                    .spawn(async move { serve_connection(stream, ctx2, registered).await });
            }
            Err(OverCap) => {
                // Every connection from that address is busy: this one is closed.
                c.tcp_closed_per_address.fetch_add(1, Ordering::Relaxed);
                if let Some(times) = ctx.logs.tcp_per_address.hit() {
                    tracing::warn!(
                        client = %peer.ip(),
                        times,
                        "max_tcp_clients_per_address connections from one address are busy; closing new ones"
                    );
                }
            }
        }
    }
}

/// Counts a failed accept, and logs it once per interval.
fn accept_failed(ctx: &ServeContext, e: &io::Error) {
    let c = ctx.handler.counters();
    c.accept_failures.fetch_add(1, Ordering::Relaxed);
    let exhausted = fd_limit::is_exhausted(e);
    if exhausted {
        c.fds_exhausted_accept.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(times) = ctx.logs.accept_failed.hit() {
        if exhausted {
            tracing::warn!(error = %e, times, "TCP accept failed: out of file descriptors (raise LimitNOFILE, or lower max_tcp_clients)");
        } else {
            tracing::warn!(error = %e, times, "TCP accept failed");
        }
    }
}

/// Fixed kernel buffers for a DNS connection: autotuned, each could grow to
/// megabytes of answers a client never reads, or queries it piles up.
/// Best effort: the defaults only cost memory.
fn bound_buffers(stream: &TcpStream) {
    let sock = socket2::SockRef::from(stream);
    let _ = sock.set_send_buffer_size(TCP_BUFFER);
    let _ = sock.set_recv_buffer_size(TCP_BUFFER);
}

/// An answer for the writer, with the pending slot it frees once written.
type Pending = (Vec<u8>, OwnedSemaphorePermit);

/// Reads queries from one connection and answers them, pipelined (RFC 7766
/// §6.2.1.1). Each query takes one of the connection's pending slots until
/// its answer is written; with none free the server stops reading, so a
/// client that never reads its answers holds a bounded amount here, and the
/// writer closes the connection once an answer has waited `idle_timeout`
/// to be taken. A miss holds a `max_inflight` permit only while it is being
/// resolved, never while its answer waits for the writer.
async fn serve_connection(stream: TcpStream, ctx: ServeContext, registered: Registered) {
    let (Ok(peer), Ok(listener)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    let conn = registered.conn.clone();
    let client = Client { peer, listener };
    let (mut reader, writer) = stream.into_split();
    // Never full: each answer in it holds one of MAX_PENDING slots.
    let (tx, rx) = mpsc::channel::<Pending>(MAX_PENDING);
    let writer_task = ctx
        .tasks
        .spawn(write_frames(writer, rx, ctx.clone(), conn.clone()));
    let mut out = Vec::new();
    let mut packet = Vec::new();
    loop {
        let slot = match conn.pending.clone().try_acquire_owned() {
            Ok(slot) => slot,
            // The client is behind on its answers: stop reading until it catches up.
            Err(_) => tokio::select! {
                biased;
                _ = ctx.shutdown.cancelled() => break,
                _ = conn.close.cancelled() => break,
                s = conn.pending.clone().acquire_owned() => match s {
                    Ok(s) => s,
                    Err(_) => break,
                },
            },
        };
        ctx.tcp.reading(&conn);
        let read = tokio::select! {
            biased;
            _ = ctx.shutdown.cancelled() => break,
            _ = conn.close.cancelled() => break,
            r = tokio::time::timeout(ctx.idle_timeout, read_frame(&mut reader, &mut packet)) => r,
        };
        TcpPool::busy(&conn);
        match read {
            Ok(Ok(true)) => {}
            // Idle, closed by the client, or broken: stop reading; answers in flight still go out.
            _ => break,
        }
        match ctx
            .handler
            .answer_fast(&packet, client, Transport::Tcp, &mut out)
        {
            Fast::Reply => {
                if tx.try_send((out.clone(), slot)).is_err() {
                    break;
                }
            }
            Fast::ReplyPrefetch => {
                if tx.try_send((out.clone(), slot)).is_err() {
                    break;
                }
                if let Some(refresh) = prefetch(&ctx, &packet) {
                    ctx.tasks.spawn(refresh);
                }
            }
            // A stream cannot drop one message silently and stay in sync; close it.
            Fast::Drop => break,
            Fast::Miss => {
                // Waiting for a slot (instead of dropping, as UDP does) is TCP's
                // backpressure: this connection's reads pause until upstreams catch up.
                let permit = tokio::select! {
                    biased;
                    _ = ctx.shutdown.cancelled() => break,
                    _ = conn.close.cancelled() => break,
                    p = ctx.inflight.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                };
                let tx = tx.clone();
                let handler = ctx.handler.clone();
                let query = packet.clone();
                ctx.tasks.spawn(async move {
                    let mut out = Vec::new();
                    handler
                        .answer_slow(&query, client, Transport::Tcp, &mut out)
                        .await;
                    // Resolved: the upstream slot is free whatever the client does next.
                    drop(permit);
                    if !out.is_empty() {
                        // Never waits (see the channel); fails only once the writer is gone.
                        let _ = tx.try_send((out, slot));
                    }
                });
            }
        }
    }
    drop(tx);
    let _ = writer_task.await;
    drop(registered);
}

/// Reads one length-prefixed message into `buf`. Ok(false) at a clean end of stream.
async fn read_frame(
    reader: &mut tokio::net::tcp::OwnedReadHalf,
    buf: &mut Vec<u8>,
) -> io::Result<bool> {
    let mut len = [0u8; 2];
    match reader.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    buf.resize(usize::from(u16::from_be_bytes(len)), 0);
    reader.read_exact(buf).await?;
    Ok(true)
}

/// Writes answers as they come. An answer the client does not take within
/// `idle_timeout` closes the connection (counted and logged), as does
/// anything that closes it from outside (room for others, a write error).
async fn write_frames(
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::Receiver<Pending>,
    ctx: ServeContext,
    conn: Arc<Conn>,
) {
    let mut frame = Vec::new();
    loop {
        let next = tokio::select! {
            biased;
            _ = conn.close.cancelled() => return,
            m = rx.recv() => m,
        };
        let Some((msg, slot)) = next else {
            break;
        };
        let Ok(len) = u16::try_from(msg.len()) else {
            continue;
        };
        frame.clear();
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&msg);
        let written = tokio::select! {
            biased;
            _ = conn.close.cancelled() => return,
            w = tokio::time::timeout(ctx.idle_timeout, writer.write_all(&frame)) => w,
        };
        match written {
            Ok(Ok(())) => drop(slot),
            Ok(Err(_)) => {
                conn.close.cancel();
                return;
            }
            Err(_) => {
                let c = ctx.handler.counters();
                c.tcp_closed_unread.fetch_add(1, Ordering::Relaxed);
                if let Some(times) = ctx.logs.tcp_unread.hit() {
                    tracing::warn!(
                        times,
                        "closing a TCP connection whose client does not read its answers"
                    );
                }
                conn.close.cancel();
                return;
            }
        }
    }
    let _ = writer.shutdown().await;
}
