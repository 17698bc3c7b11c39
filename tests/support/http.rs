//! A small HTTPS server on loopback that serves one list, with ETags, for
//! `nestguard update` tests (HTTP/1.1, one request per connection), and
//! files by path (a fleet's bundle and its signature).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// Bodies by request path, each with the Content-Length declared for it
    /// (more than the body: a download cut short).
    paths: std::collections::HashMap<String, (Vec<u8>, usize)>,
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
                    let response = 'response: {
                        let mut s = s.lock().unwrap();
                        s.requests.push(head.clone());
                        let path = head.split(' ').nth(1).unwrap_or("").to_string();
                        if let Some((body, declared)) = s.paths.get(&path) {
                            let mut r = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
                            )
                            .into_bytes();
                            r.extend_from_slice(body);
                            break 'response r;
                        }
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

    /// What requests for `path` get from now on: `body`, whole.
    pub fn set_path(&self, path: &str, body: Vec<u8>) {
        let n = body.len();
        self.served
            .lock()
            .unwrap()
            .paths
            .insert(path.into(), (body, n));
    }

    /// `body` for `path`, with a Content-Length of `declared` (larger: the
    /// connection closes before all of it came).
    pub fn set_path_cut(&self, path: &str, body: Vec<u8>, declared: usize) {
        self.served
            .lock()
            .unwrap()
            .paths
            .insert(path.into(), (body, declared));
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// How many requests have been answered (or are being).
    pub fn request_count(&self) -> usize {
        self.served.lock().unwrap().requests.len()
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

/// A plain HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The session cookie a successful login sets, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        let cookie = self.header("set-cookie")?;
        cookie.split(';').next().map(str::to_string)
    }
}

/// `POST /login` with `password` from `src`, as the dashboard's form sends it.
pub async fn post_login(src: &str, admin: SocketAddr, password: &str) -> HttpResponse {
    post_login_as(src, admin, "", password).await
}

/// `POST /login` as parent `name` (empty: the form's name left blank).
pub async fn post_login_as(
    src: &str,
    admin: SocketAddr,
    name: &str,
    password: &str,
) -> HttpResponse {
    let name = if name.is_empty() {
        String::new()
    } else {
        format!("name={}&", form_value(name))
    };
    http(
        src,
        admin,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("{name}password={}", form_value(password)),
    )
    .await
}

/// The CSRF token of a dashboard page's forms.
pub fn csrf_of(page: &HttpResponse) -> String {
    let at =
        page.body.find("name=csrf value=\"").expect("a csrf field") + "name=csrf value=\"".len();
    page.body[at..].split('"').next().unwrap().to_string()
}

/// A dashboard form posted from `src` with the session `cookie`.
pub async fn post_form(
    src: &str,
    admin: SocketAddr,
    path: &str,
    cookie: &str,
    body: &str,
) -> HttpResponse {
    http(
        src,
        admin,
        "POST",
        path,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", cookie),
        ],
        body,
    )
    .await
}

/// One HTTP/1.1 request from source address `src` (a loopback address), `Connection: close`.
pub async fn http(
    src: &str,
    server: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    http_within(
        Duration::from_secs(10),
        src,
        server,
        method,
        path,
        headers,
        body,
    )
    .await
}

/// [`http`], waiting up to `wait` for the answer: for a form whose answer
/// comes after a reload (a full rules compile, slow on a busy test host).
pub async fn http_within(
    wait: Duration,
    src: &str,
    server: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(format!("{src}:0").parse().unwrap()).unwrap();
    let mut conn = tokio::time::timeout(std::time::Duration::from_secs(5), sock.connect(server))
        .await
        .expect("connect within 5 s")
        .unwrap();
    // A `Host` among `headers` replaces the default (the server's address).
    let host = if headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        String::new()
    } else {
        format!("Host: {server}\r\n")
    };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\n{host}Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    conn.write_all(req.as_bytes()).await.unwrap();
    // Read to the end of the body: Content-Length when given (some servers
    // keep the connection open), else until the server closes.
    let mut raw = Vec::new();
    let read = async {
        let mut buf = [0u8; 8192];
        loop {
            let n = conn.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if length.is_some_and(|len| raw.len() >= end + 4 + len) {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(wait, read)
        .await
        .unwrap_or_else(|_| panic!("response within {wait:?}"));
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: body.to_string(),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}
