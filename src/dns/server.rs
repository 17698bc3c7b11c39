//! The listening sockets: UDP and TCP on every configured address.
//!
//! UDP: one receive loop per socket drains every datagram that is ready and
//! answers cache hits inline, from buffers it owns; misses are handed to a
//! task so a slow upstream never stalls the loop.
//!
//! TCP (RFC 7766): pipelined queries on one connection are answered as they
//! resolve, possibly out of order; a connection with nothing to read for
//! `idle_timeout` is closed, and the number of connections is bounded.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::limit::LogEvery;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::resolve::{Client, Fast, Resolver, Transport};

/// Datagrams handled before the loop yields to other tasks.
const UDP_BUDGET: usize = 256;
/// Room for bursts while the loop is busy; the kernel caps it at net.core.rmem_max.
const UDP_RECV_BUFFER: usize = 4 << 20;

/// Everything a listener task needs, cloned into each.
#[derive(Clone)]
pub struct ServeContext {
    pub resolver: Arc<Resolver>,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    /// Upstream resolutions in flight; a UDP miss that finds none free is dropped,
    /// a TCP one waits.
    pub inflight: Arc<Semaphore>,
    pub tcp_clients: Arc<Semaphore>,
    pub idle_timeout: Duration,
    /// Limits reached are logged once per interval, not per packet.
    pub inflight_full: Arc<LogEvery>,
    pub tcp_full: Arc<LogEvery>,
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
                .resolver
                .answer_fast(packet, client, Transport::Udp, &mut out)
            {
                Fast::Reply => send_udp(&socket, &out, peer).await,
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
    let resolver = ctx.resolver.clone();
    Some(async move {
        let mut out = Vec::new();
        resolver
            .answer_slow(&packet, client, Transport::Udp, &mut out)
            .await;
        drop(permit);
        out
    })
}

/// A slot for one more upstream resolution from UDP, or None (counted and
/// logged once per interval) when `max_inflight` are already waiting.
fn inflight_permit(ctx: &ServeContext) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = ctx.inflight.clone().try_acquire_owned() {
        return Some(permit);
    }
    let c = &ctx.resolver.counters;
    c.dropped_busy
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Some(dropped) = ctx.inflight_full.hit() {
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
    loop {
        if ctx.tcp_clients.available_permits() == 0
            && let Some(times) = ctx.tcp_full.hit()
        {
            tracing::warn!(
                times,
                "max_tcp_clients connections are open; new ones wait in the accept queue"
            );
        }
        let permit = tokio::select! {
            biased;
            _ = ctx.shutdown.cancelled() => break,
            p = ctx.tcp_clients.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            biased;
            _ = ctx.shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let ctx2 = ctx.clone();
                ctx.tasks.spawn(async move {
                    serve_connection(stream, ctx2).await;
                    drop(permit);
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_connection(stream: TcpStream, ctx: ServeContext) {
    let (Ok(peer), Ok(listener)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    let client = Client { peer, listener };
    let (mut reader, writer) = stream.into_split();
    let (tx, rx) = mpsc::channel::<Vec<u8>>(64);
    let writer_task = ctx.tasks.spawn(write_frames(writer, rx));
    let mut out = Vec::new();
    let mut packet = Vec::new();
    loop {
        let read = tokio::select! {
            biased;
            _ = ctx.shutdown.cancelled() => break,
            r = tokio::time::timeout(ctx.idle_timeout, read_frame(&mut reader, &mut packet)) => r,
        };
        match read {
            Ok(Ok(true)) => {}
            // Idle, closed by the client, or broken: stop reading; answers in flight still go out.
            _ => break,
        }
        match ctx
            .resolver
            .answer_fast(&packet, client, Transport::Tcp, &mut out)
        {
            Fast::Reply => {
                if tx.send(out.clone()).await.is_err() {
                    break;
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
                    p = ctx.inflight.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                };
                let tx = tx.clone();
                let resolver = ctx.resolver.clone();
                let query = packet.clone();
                ctx.tasks.spawn(async move {
                    let mut out = Vec::new();
                    resolver
                        .answer_slow(&query, client, Transport::Tcp, &mut out)
                        .await;
                    if !out.is_empty() {
                        let _ = tx.send(out).await;
                    }
                    drop(permit);
                });
            }
        }
    }
    drop(tx);
    let _ = writer_task.await;
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

async fn write_frames(
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::Receiver<Vec<u8>>,
) {
    let mut frame = Vec::new();
    while let Some(msg) = rx.recv().await {
        let Ok(len) = u16::try_from(msg.len()) else {
            continue;
        };
        frame.clear();
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&msg);
        if writer.write_all(&frame).await.is_err() {
            return;
        }
    }
    let _ = writer.shutdown().await;
}
