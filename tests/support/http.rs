//! A small HTTPS server on loopback that serves one list, with ETags, for
//! `nestguard update` tests (HTTP/1.1, one request per connection).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::tls::TestCa;

#[derive(Default)]
struct Served {
    body: Vec<u8>,
    etag: String,
    /// Request heads seen, newest last.
    requests: Vec<String>,
}

pub struct ListServer {
    addr: SocketAddr,
    served: Arc<Mutex<Served>>,
}

impl ListServer {
    /// Starts serving on 127.0.0.1 with a certificate from `ca`. Must run in a tokio runtime.
    pub async fn start(ca: &TestCa) -> ListServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(ca.server_config(&[b"http/1.1"]));
        let served = Arc::new(Mutex::new(Served::default()));
        let s = served.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, s) = (acceptor.clone(), s.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let response = {
                        let mut s = s.lock().unwrap();
                        s.requests.push(head.clone());
                        let matches = head.lines().any(|l| {
                            l.to_ascii_lowercase().starts_with("if-none-match:")
                                && l.split_once(':').unwrap().1.trim() == s.etag
                        });
                        if matches {
                            format!("HTTP/1.1 304 Not Modified\r\nETag: {}\r\nConnection: close\r\n\r\n", s.etag)
                                .into_bytes()
                        } else {
                            let mut r = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nETag: {}\r\nLast-Modified: Mon, 23 Nov 2026 10:00:00 GMT\r\nConnection: close\r\n\r\n",
                                s.body.len(),
                                s.etag
                            )
                            .into_bytes();
                            r.extend_from_slice(&s.body);
                            r
                        }
                    };
                    let _ = tls.write_all(&response).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        ListServer { addr, served }
    }

    /// What the next requests get: `body` with ETag `etag` (quoted as given).
    pub fn set(&self, body: Vec<u8>, etag: &str) {
        let mut s = self.served.lock().unwrap();
        s.body = body;
        s.etag = etag.to_string();
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// The head of the last request.
    pub fn last_request(&self) -> String {
        self.served
            .lock()
            .unwrap()
            .requests
            .last()
            .cloned()
            .unwrap_or_default()
    }
}
