//! The DNS side of the daemon: wire format, cache, upstreams, the resolver that
//! ties them together, and the listening sockets.

pub mod answer;
pub mod bailiwick;
pub mod cache;
pub mod fd_limit;
pub mod handler;
pub mod limit;
pub mod resolve;
pub mod server;
pub mod tcp_pool;
#[cfg(target_os = "linux")]
pub mod udp_batch;
pub mod upstream;
pub mod wire;
