//! The children's block page listener (`block_mode = "address"`): whatever
//! a browser asks of it, it answers with the "why blocked" page for the
//! site in the `Host` header, never the parents' dashboard or login, and
//! its "ask" form reaches the parents' list of requests. Over real sockets,
//! and in a real headless browser visiting `http://blocked.example/`.

use std::net::{Ipv4Addr, SocketAddr};

use crate::dashboard_browser::{Browser, Page, chromium};
use crate::support::http::{HttpResponse, form_value, http, post_login};
use crate::support::*;
use serde_json::json;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
const PASSWORD: &str = "correct horse battery";

/// The daemon in address mode, its block page on an ephemeral loopback
/// port; the block page's address and the dashboard's.
async fn start(dir: &TempDir) -> (TestDaemon, SocketAddr, SocketAddr, FakeUpstream) {
    let up = FakeUpstream::start().await;
    for n in ["blocked.example.", "site.example."] {
        up.set_a(n, OPEN, 1);
    }
    std::fs::write(
        dir.join("adult.txt"),
        "blocked.example\nxn--bcher-kva.example\n",
    )
    .unwrap();
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    let config = format!(
        "{}[policy]\nblock_mode = \"address\"\nblock_addresses = [\"127.0.0.1\"]\n\
         [admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\ncountry = \"GB\"\n\
         block_page_listen = [\"127.0.0.1:0\"]\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("adult.txt").display(),
    );
    let d = TestDaemon::start(&config).await;
    let admin = d.daemon.admin_addr.expect("dashboard started");
    let pages = d.daemon.block_page_addrs();
    assert_eq!(pages.len(), 1, "one block page listener: {pages:?}");
    (d, pages[0], admin, up)
}

async fn get(page: SocketAddr, host: &str, path: &str) -> HttpResponse {
    http("127.0.0.1", page, "GET", path, &[("Host", host)], "").await
}

fn is_child_page(r: &HttpResponse, site: &str) -> bool {
    r.status == 200
        && r.body
            .contains(&format!("<p class=muted id=site>{site} · "))
        && r.body
            .contains("This website shows things that are only for grown-ups.")
        && r.body.contains("action=/ask")
        && !r.body.contains("id=password")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_for_a_blocked_name_gets_its_child_page() {
    let dir = TempDir::new();
    let (d, page, admin, _up) = start(&dir).await;
    // The name resolves to the block page's address.
    let m = query_udp(d.addr, "blocked.example", hickory_proto::rr::RecordType::A).await;
    assert_eq!(a_records(&m), vec![Ipv4Addr::LOCALHOST]);

    for path in [
        "/",
        "/login",
        "/some/page?x=1",
        "/blocked",
        "/api/status",
        "/metrics",
    ] {
        let r = get(page, "blocked.example", path).await;
        assert!(is_child_page(&r, "blocked.example"), "{path}: {r:?}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    }
    // The port is not part of the name; a Unicode name is its punycode.
    let r = get(page, "Blocked.Example:80", "/").await;
    assert!(is_child_page(&r, "blocked.example"), "{r:?}");
    let r = get(page, "xn--bcher-kva.example", "/").await;
    assert!(is_child_page(&r, "xn--bcher-kva.example"), "{r:?}");
    // A POST to the login form is not a login here.
    let r = http(
        "127.0.0.1",
        page,
        "POST",
        "/login",
        &[
            ("Host", "blocked.example"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("password={}", form_value(PASSWORD)),
    )
    .await;
    assert!(r.header("set-cookie").is_none(), "{r:?}");
    assert!(is_child_page(&r, "blocked.example"), "{r:?}");
    // The address itself (no name): the general page, still not the dashboard.
    let r = get(page, &page.to_string(), "/").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Some sites are blocked"), "{r:?}");
    assert!(!r.body.contains("id=password"));

    // The ask form posts to the block page and reaches the parents' list.
    let r = get(page, "blocked.example", "/").await;
    let at = r.body.find("name=token value=\"").unwrap() + "name=token value=\"".len();
    let token = r.body[at..].split('"').next().unwrap();
    let asked = http(
        "127.0.0.1",
        page,
        "POST",
        "/ask",
        &[
            ("Host", "blocked.example"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!(
            "token={token}&name=blocked.example&note={}",
            form_value("homework on the block page")
        ),
    )
    .await;
    assert_eq!(asked.status, 200, "{asked:?}");
    let login = post_login("127.0.0.1", admin, PASSWORD).await;
    let cookie = login.session_cookie().expect("logged in");
    let dash = http("127.0.0.1", admin, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert!(dash.body.contains("homework on the block page"), "{dash:?}");
    assert!(dash.body.contains("blocked.example"));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_block_page_is_off_unless_address_mode_or_set() {
    let up = FakeUpstream::start().await;
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    let config = format!(
        "{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\n",
        udp_upstream(up.addr(), "1s"),
    );
    let d = TestDaemon::start(&config).await;
    assert!(d.daemon.admin_addr.is_some());
    assert_eq!(d.daemon.block_page_addrs(), Vec::<SocketAddr>::new());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_visiting_a_blocked_name_sees_why_and_can_ask() {
    let Some(exe) = chromium() else {
        eprintln!(
            "SKIPPED a_browser_visiting_a_blocked_name_sees_why_and_can_ask: chromium is not installed (apt-get install chromium)"
        );
        return;
    };
    let dir = TempDir::new();
    let (d, page_addr, admin, _up) = start(&dir).await;
    let port = page_addr.port();
    let Some(browser) = tokio::task::spawn_blocking(move || {
        Browser::launch_or_skip_with(
            &exe,
            &[("blocked.example", port)],
            "a_browser_visiting_a_blocked_name_sees_why_and_can_ask",
        )
    })
    .await
    .unwrap() else {
        return;
    };
    let mut page = Page::open(browser.port).await;
    page.call("Page.enable", json!({})).await;
    page.call("Page.navigate", json!({"url": "http://blocked.example/"}))
        .await;
    page.wait_for("document.readyState === 'complete' && !!document.querySelector('h2')")
        .await;
    let site = page
        .eval("document.getElementById('site').textContent")
        .await;
    assert_eq!(site, json!("blocked.example · Sexual content"));
    let text = page.eval("document.body.innerText").await;
    let text = text.as_str().unwrap_or("");
    assert!(
        text.contains("This website shows things that are only for grown-ups."),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("password"), "{text}");
    // Ask, from the page itself.
    page.eval(
        "document.querySelector('input[name=note]').value = 'asked from the browser';\
         document.querySelector('form[action=\"/ask\"] button').click(); true",
    )
    .await;
    page.wait_for(
        "document.readyState === 'complete' && document.body.innerText.includes('Your parents will see your question')",
    )
    .await;
    let login = post_login("127.0.0.1", admin, PASSWORD).await;
    let cookie = login.session_cookie().expect("logged in");
    let dash = http("127.0.0.1", admin, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert!(dash.body.contains("asked from the browser"), "{dash:?}");
    drop(browser);
    d.stop().await;
}
