//! The do-nothing DNS responder of the benchmarks: it sets QR on each query
//! and sends it straight back. What it costs per query is the kernel's share
//! of any UDP DNS server on this machine, the floor under every figure in
//! BENCHMARKS.md.
//!
//!     cargo run --release --example echo_responder -- 127.0.0.1:5398 [blocking|spin]
//!
//! `blocking` (the default) sleeps in recvfrom when the queue is empty;
//! `spin` polls with MSG_DONTWAIT for up to 50 µs first, to show what a wakeup costs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests say what failed by panicking

use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:5398".into());
    let spin = args.next().as_deref() == Some("spin");
    let sock = UdpSocket::bind(&addr)?;
    eprintln!(
        "echo responder on {addr} ({})",
        if spin { "spin" } else { "blocking" }
    );
    let mut buf = [0u8; 4096];
    loop {
        let (n, peer) = if spin {
            sock.set_nonblocking(true)?;
            let started = Instant::now();
            loop {
                match sock.recv_from(&mut buf) {
                    Ok(x) => break x,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        if started.elapsed() > Duration::from_micros(50) {
                            sock.set_nonblocking(false)?;
                            break sock.recv_from(&mut buf)?;
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        } else {
            sock.recv_from(&mut buf)?
        };
        if n < 12 {
            continue;
        }
        buf[2] |= 0x80;
        let _ = sock.send_to(&buf[..n], peer);
    }
}
