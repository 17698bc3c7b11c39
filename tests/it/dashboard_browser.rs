//! The parents' dashboard in a real headless browser (Debian's chromium,
//! driven over the DevTools protocol): log in, see the charts render for a
//! profile with data, allow a site, and a DNS query for it is then allowed.
//!
//! Skips with a message when chromium is not installed (`.ci/run` installs
//! it). The browser is confined to loopback: every other host name fails to
//! resolve and everything else goes to a dead proxy. With
//! `NESTGUARD_SCREENSHOT=path`, the dashboard is saved there as PNG (that is
//! how `docs/dashboard.png` is made).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::http::http;
use crate::support::*;
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
const PASSWORD: &str = "correct horse battery";

pub(crate) fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// The browser process, killed when dropped.
pub(crate) struct Browser {
    child: Child,
    _profile: TempDir,
    pub(crate) port: u16,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts chromium and waits for its DevTools port. Chromium gets an
    /// environment of its own (home and XDG folders inside its profile, no
    /// D-Bus: a stale bus address on a CI runner makes each of its bus calls
    /// wait 25 s), and its output goes to a log whose tail is the error when
    /// it does not come up.
    /// `hosts`: names that resolve to loopback, as `(name, port)` pairs,
    /// each visited without the (dead) proxy.
    fn launch_with(exe: &PathBuf, hosts: &[(&str, u16)]) -> Result<Browser, String> {
        let mut rules: Vec<String> = hosts
            .iter()
            .map(|(name, port)| format!("MAP {name} 127.0.0.1:{port}"))
            .collect();
        rules.push("MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".into());
        let mut bypass = vec!["127.0.0.1"];
        bypass.extend(hosts.iter().map(|(name, _)| *name));
        let profile = TempDir::new();
        let log_path = profile.join("chromium.log");
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", profile.path())
            .env("XDG_CONFIG_HOME", profile.join("config"))
            .env("XDG_CACHE_HOME", profile.join("cache"))
            .env("TMPDIR", "/tmp")
            .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
            .env("DBUS_SYSTEM_BUS_ADDRESS", "disabled:")
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-domain-reliability",
                "--disable-client-side-phishing-detection",
                "--disable-breakpad",
                "--disable-crash-reporter",
                "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
                // Loopback only: no other name resolves, and any other traffic
                // goes to a proxy that is not there.
                "--proxy-server=127.0.0.1:9",
                "--window-size=1200,1400",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
            ])
            .arg(format!("--host-resolver-rules={}", rules.join(", ")))
            .arg(format!("--proxy-bypass-list={}", bypass.join(";")))
            .arg(format!("--user-data-dir={}", profile.join("data").display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        let tail = || {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        // Chromium writes its port into DevToolsActivePort once it listens.
        let file = profile.join("data").join("DevToolsActivePort");
        let start = Instant::now();
        loop {
            if let Some(port) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| t.lines().next()?.parse().ok())
            {
                return Ok(Browser {
                    child,
                    _profile: profile,
                    port,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "chromium exited ({status}) before starting its DevTools server:\n{}",
                    tail()
                ));
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "chromium did not start its DevTools server in 60 s:\n{}",
                    tail()
                ));
            }
            // A poll step: chromium starting is what ends it.
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Two tries (a cold first start can be slow); when chromium cannot run
    /// here at all, that is the machine, not the dashboard: the test says so
    /// and skips, unless NESTGUARD_REQUIRE_BROWSER=1 makes it a failure.
    fn launch_or_skip(exe: &PathBuf) -> Option<Browser> {
        Browser::launch_or_skip_with(exe, &[], "log_in_see_charts_allow_a_site")
    }

    /// [`Browser::launch_or_skip`] with [`Browser::launch_with`]'s host names,
    /// for the test named `test`.
    pub(crate) fn launch_or_skip_with(
        exe: &PathBuf,
        hosts: &[(&str, u16)],
        test: &str,
    ) -> Option<Browser> {
        let first = match Browser::launch_with(exe, hosts) {
            Ok(b) => return Some(b),
            Err(e) => e,
        };
        eprintln!("chromium did not come up, trying once more: {first}");
        match Browser::launch_with(exe, hosts) {
            Ok(b) => Some(b),
            Err(e) if std::env::var_os("NESTGUARD_REQUIRE_BROWSER").is_some() => panic!("{e}"),
            Err(e) => {
                eprintln!("SKIPPED {test}: chromium is installed but cannot run here: {e}");
                None
            }
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One DevTools page session.
pub(crate) struct Page {
    ws: Socket,
    next: u64,
}

impl Page {
    pub(crate) async fn open(port: u16) -> Page {
        let devtools = SocketAddr::from(([127, 0, 0, 1], port));
        let list = http("127.0.0.1", devtools, "GET", "/json/list", &[], "").await;
        let targets: Value = serde_json::from_str(&list.body).expect("DevTools target list");
        let url = targets
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_string();
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("DevTools websocket");
        Page { ws, next: 0 }
    }

    /// Sends a command and waits (bounded) for its result.
    pub(crate) async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({"id": id, "method": method, "params": params});
        self.ws.send(Ws::text(msg.to_string())).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method}"))
                .expect("websocket open")
                .unwrap();
            if let Ws::Text(text) = frame {
                let v: Value = serde_json::from_str(&text).unwrap();
                if v["id"] == id {
                    assert!(v.get("error").is_none(), "{method}: {v}");
                    return v["result"].clone();
                }
            }
        }
    }

    pub(crate) async fn eval(&mut self, js: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        r["result"]["value"].clone()
    }

    /// Waits until `js` is true (bounded).
    pub(crate) async fn wait_for(&mut self, js: &str) {
        let start = Instant::now();
        while self.eval(js).await != json!(true) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out waiting for {js}"
            );
            // A poll step: the page's script is what ends it.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Activity of the past hours, written as the daemon would have.
fn seed_history(state: &std::path::Path) {
    let store = nestguard::activity::store::Store::open(
        &nestguard::state::layout::activity_db(state),
        20,
        Duration::from_secs(90 * 86_400),
    )
    .unwrap();
    let now = jiff::Timestamp::now().as_second() / 3600;
    let mut sql = String::new();
    for (ago, minutes, teen_minutes) in [
        (9, 12, 0),
        (8, 35, 20),
        (7, 50, 41),
        (6, 22, 55),
        (5, 8, 30),
        (3, 40, 12),
        (2, 18, 0),
        (1, 27, 9),
    ] {
        let h = now - ago;
        let bits = |m: u32| (1i64 << m) - 1;
        sql.push_str(&format!(
            "INSERT INTO minutes VALUES ({h}, 'child', {});
             INSERT INTO counts VALUES ({h}, 'child', 'none', 'allowed', {});
             INSERT INTO counts VALUES ({h}, 'teen', 'none', 'allowed', {});",
            bits(minutes),
            minutes * 7,
            teen_minutes * 5
        ));
        if teen_minutes > 0 {
            sql.push_str(&format!(
                "INSERT INTO minutes VALUES ({h}, 'teen', {});",
                bits(teen_minutes)
            ));
        }
    }
    sql.push_str(&format!(
        "INSERT INTO counts VALUES ({h}, 'teen', 'adult', 'blocked', 4);
         INSERT INTO counts VALUES ({h}, 'teen', 'bypass', 'blocked', 2);
         INSERT INTO bypass VALUES ({h}, 'teen', 2);",
        h = now - 3
    ));
    store.connection().execute_batch(&sql).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_see_charts_allow_a_site() {
    let Some(exe) = chromium() else {
        eprintln!(
            "SKIPPED log_in_see_charts_allow_a_site: chromium is not installed (apt-get install chromium)"
        );
        return;
    };
    let up = FakeUpstream::start().await;
    for n in [
        "games.example.",
        "site.example.",
        "news.example.",
        "blocked.example.",
        "videos.example.",
    ] {
        up.set_a(n, OPEN, 1);
    }
    let dir = TempDir::new();
    std::fs::write(dir.join("adult.txt"), "blocked.example\n").unwrap();
    std::fs::write(dir.join("gaming.txt"), "games.example\n").unwrap();
    std::fs::write(dir.join("video.txt"), "videos.example\n").unwrap();
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    let config = format!(
        "{}[activity]\nflush_interval = \"200ms\"\n\
         [admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\ncountry = \"GB\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"gaming\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"short-video\"\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("adult.txt").display(),
        dir.join("gaming.txt").display(),
        dir.join("video.txt").display()
    );
    // Earlier hours of the day and a second child, so the charts (and the
    // screenshot in docs/) show a day rather than one bar.
    let state = TempDir::new();
    seed_history(state.path());
    let config = format!("{config}[state]\ndir = \"{}\"\n", state.path().display());
    let d = TestDaemon::start(&config).await;
    let admin = d.daemon.admin_addr.unwrap();
    // Some activity for the child profile.
    for (name, times) in [
        ("site.example", 12),
        ("news.example", 6),
        ("games.example", 5),
        ("blocked.example", 3),
        ("videos.example", 4),
    ] {
        for _ in 0..times {
            query_udp(d.addr, name, RecordType::A).await;
        }
    }
    // Written to the database now, not after a flush interval.
    d.daemon.flush_activity().await;

    let Some(browser) = tokio::task::spawn_blocking(move || Browser::launch_or_skip(&exe))
        .await
        .unwrap()
    else {
        return;
    };
    let mut page = Page::open(browser.port).await;
    page.call("Page.enable", json!({})).await;
    page.call(
        "Page.navigate",
        json!({"url": format!("http://{admin}/login")}),
    )
    .await;
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('password')")
        .await;

    // Log in.
    page.eval(&format!(
        "document.getElementById('password').value = {}; document.getElementById('login').click(); true",
        json!(PASSWORD)
    ))
    .await;
    page.wait_for("location.pathname === '/' && document.readyState === 'complete' && !!document.getElementById('allow-form')").await;

    // The charts render: bars with height, laid out on the page.
    let drawn = page
        .eval(
            "Array.from(document.querySelectorAll('#hours-child rect')).filter(r => r.getBoundingClientRect().height > 0).length",
        )
        .await;
    assert!(drawn.as_u64().unwrap_or(0) >= 1, "hour chart bars: {drawn}");
    let categories = page
        .eval("Array.from(document.querySelectorAll('#categories-child text')).map(t => t.textContent).join(',')")
        .await;
    let categories = categories.as_str().unwrap_or("");
    for c in ["adult", "gaming", "short-video"] {
        assert!(
            categories.contains(c),
            "category chart lists {c}: {categories}"
        );
    }

    let shot = page
        .call("Page.captureScreenshot", json!({"format": "png"}))
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    if let Ok(path) = std::env::var("NESTGUARD_SCREENSHOT") {
        std::fs::write(&path, &png).unwrap();
    }

    // Allow the game site for the child, for good.
    let m = query_udp(d.addr, "games.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    page.eval(
        "document.getElementById('allow-name').value = 'games.example';\
         document.getElementById('allow-profile').value = 'child';\
         document.getElementById('allow-duration').value = 'permanent';\
         document.getElementById('allow-submit').click(); true",
    )
    .await;
    page.wait_for("document.readyState === 'complete' && document.body.innerText.includes('games.example for child (permanent)')").await;
    let took = time_until(d.addr, "games.example", false, Duration::from_secs(3)).await;
    assert!(
        took.is_some(),
        "the allow from the browser did not take effect"
    );
    let m = query_udp(d.addr, "games.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);
    drop(browser);
    d.stop().await;
}

/// A day of activity for two children, as the daemon would have written it.
fn seed_family(state: &std::path::Path) {
    let store = nestguard::activity::store::Store::open(
        &nestguard::state::layout::activity_db(state),
        20,
        Duration::from_secs(90 * 86_400),
    )
    .unwrap();
    let now = jiff::Timestamp::now().as_second() / 3600;
    let mut sql = String::new();
    for (ago, leo, mia) in [(9, 12, 0), (7, 50, 41), (5, 8, 30), (3, 40, 12), (1, 27, 9)] {
        let h = now - ago;
        let bits = |m: u32| (1i64 << m) - 1;
        for (who, m) in [("leo", leo), ("mia", mia)] {
            if m > 0 {
                sql.push_str(&format!(
                    "INSERT INTO minutes VALUES ({h}, '{who}', {});
                     INSERT INTO counts VALUES ({h}, '{who}', 'none', 'allowed', {});",
                    bits(m),
                    m * 6
                ));
            }
        }
    }
    sql.push_str(&format!(
        "INSERT INTO counts VALUES ({h}, 'leo', 'gaming', 'blocked', 9);
         INSERT INTO counts VALUES ({h}, 'leo', 'adult', 'blocked', 1);
         INSERT INTO counts VALUES ({h}, 'mia', 'dating', 'blocked', 2);",
        h = now - 3
    ));
    store.connection().execute_batch(&sql).unwrap();
}

/// The page's width fits the viewport: nothing scrolls sideways.
async fn fits(page: &mut Page, width: u64) {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": 1400, "deviceScaleFactor": 1, "mobile": width < 600}),
    )
    .await;
    // A mark on the old page: the wait ends on the reloaded one, not before.
    page.eval("window.__before_reload = true; location.reload(); true")
        .await;
    page.wait_for("!window.__before_reload && document.readyState === 'complete' && !!document.getElementById('allow-form')")
        .await;
    let (scroll, inner) = (
        page.eval("document.documentElement.scrollWidth").await,
        page.eval("window.innerWidth").await,
    );
    assert!(
        scroll.as_u64().unwrap() <= inner.as_u64().unwrap(),
        "at {width} px the page is {scroll} px wide: it scrolls sideways"
    );
    // Every chart stays inside its card.
    let outside = page
        .eval(
            "Array.from(document.querySelectorAll('svg.chart')).filter(s => {\
               const c = s.closest('section').getBoundingClientRect(), r = s.getBoundingClientRect();\
               return r.right > c.right + 1 || r.left < c.left - 1; }).length",
        )
        .await;
    assert_eq!(
        outside,
        json!(0),
        "charts outside their cards at {width} px"
    );
}

async fn screenshot(page: &mut Page, name: &str) {
    let shot = page
        .call("Page.captureScreenshot", json!({"format": "png"}))
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    // `NESTGUARD_SCREENSHOT_DIR=docs` is how docs/dashboard-*.png are made.
    if let Some(dir) = std::env::var_os("NESTGUARD_SCREENSHOT_DIR") {
        std::fs::write(PathBuf::from(dir).join(name), &png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_dashboard_on_a_laptop_and_a_phone() {
    // Logs in, sees one card per child at 1280 and 390 px, allows a site for
    // a child and revokes it, pauses a child and gives a device to another,
    // sets a child's daily budget in the services panel and grants more time.
    let Some(exe) = chromium() else {
        eprintln!(
            "SKIPPED a_family_dashboard_on_a_laptop_and_a_phone: chromium is not installed (apt-get install chromium)"
        );
        return;
    };
    let up = FakeUpstream::start().await;
    for n in ["games.example.", "site.example."] {
        up.set_a(n, OPEN, 0);
    }
    let dir = TempDir::new();
    std::fs::write(dir.join("gaming.txt"), "games.example\n").unwrap();
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    let state = TempDir::new();
    seed_family(state.path());
    let config = format!(
        "{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\ncountry = \"GB\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"gaming\"\n\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\nmacs = [\"02:00:5e:10:00:05\"]\n\
         [[child]]\nname = \"Mia\"\nprofile = \"teen\"\naddresses = [\"127.0.0.6\"]\n\
         services = {{ youtube = {{ budget = \"60m\" }}, tiktok = \"block\" }}\n\
         [state]\ndir = \"{}\"\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("gaming.txt").display(),
        state.path().display()
    );
    let (_clock, env) = manual_env_with_neighbours(&[
        ("127.0.0.5", "02:00:5e:10:00:05"),
        ("127.0.0.9", "02:00:5e:10:00:09"),
    ]);
    let d = TestDaemon::start_in(&config, env).await;
    let admin = d.daemon.admin_addr.unwrap();
    // The tablet asks: nobody's yet, so it gets the default ("child": no games).
    let m = query_from("127.0.0.9", d.addr, "games.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);

    let Some(browser) = tokio::task::spawn_blocking(move || Browser::launch_or_skip(&exe))
        .await
        .unwrap()
    else {
        return;
    };
    let mut page = Page::open(browser.port).await;
    page.call("Page.enable", json!({})).await;
    page.call(
        "Page.navigate",
        json!({"url": format!("http://{admin}/login")}),
    )
    .await;
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('password')")
        .await;
    page.eval(&format!(
        "document.getElementById('password').value = {}; document.getElementById('login').click(); true",
        json!(PASSWORD)
    ))
    .await;
    page.wait_for("location.pathname === '/' && document.readyState === 'complete' && !!document.getElementById('allow-form')").await;

    for width in [1280, 390] {
        fits(&mut page, width).await;
        // One card per child, with their charts.
        let cards = page
            .eval("Array.from(document.querySelectorAll('section.card[data-profile] h2')).map(h => h.textContent).join(',')")
            .await;
        assert_eq!(cards, json!("Leo,Mia"), "at {width} px");
        let bars = page
            .eval("Array.from(document.querySelectorAll('#hours-leo rect')).filter(r => r.getBoundingClientRect().height > 0).length")
            .await;
        assert!(
            bars.as_u64().unwrap_or(0) >= 1,
            "Leo's chart at {width} px: {bars}"
        );
        screenshot(&mut page, &format!("dashboard-{width}.png")).await;
    }

    // On the laptop: allow the game site for Leo for an hour, then revoke it.
    fits(&mut page, 1280).await;
    page.eval(
        "document.getElementById('allow-name').value = 'games.example';\
         document.getElementById('allow-profile').value = 'leo';\
         document.getElementById('allow-duration').value = '1h';\
         document.getElementById('allow-submit').click(); true",
    )
    .await;
    let row = "document.querySelector('tr.allow[data-profile=leo][data-name=\"games.example\"]')";
    page.wait_for(&format!(
        "document.readyState === 'complete' && {row} !== null"
    ))
    .await;
    let m = query_from("127.0.0.5", d.addr, "games.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN], "allowed for Leo");
    page.eval(&format!(
        "{row}.querySelector('button.revoke').click(); true"
    ))
    .await;
    page.wait_for(&format!(
        "document.readyState === 'complete' && !!document.getElementById('allow-form') && {row} === null"
    ))
    .await;
    let m = query_from("127.0.0.5", d.addr, "games.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "revoked");

    // On the phone: pause Leo for 30 minutes.
    fits(&mut page, 390).await;
    page.eval(
        "document.querySelector('section[data-profile=leo] form.pause button[value=\"30m\"]').click(); true",
    )
    .await;
    page.wait_for("document.readyState === 'complete' && document.querySelector('section[data-profile=leo] .paused') !== null").await;
    let m = query_from("127.0.0.5", d.addr, "site.example", RecordType::A).await;
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NXDomain,
        "Leo is paused"
    );
    fits(&mut page, 390).await;
    screenshot(&mut page, "dashboard-390-paused.png").await;

    // "The tablet is Mia's": from then on it gets her band (a teen: games are fine).
    page.eval(
        "const f = document.querySelector('#unassigned form.assign');\
         f.querySelector('input[name=name]').value = 'tablet';\
         f.querySelector('select[name=child]').value = 'mia';\
         f.querySelector('button').click(); true",
    )
    .await;
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('allow-form') && document.getElementById('unassigned') === null").await;
    let m = query_from("127.0.0.9", d.addr, "games.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);

    // Mia's services: TikTok blocked, an hour of YouTube a day; on the phone
    // her parent gives her half an hour more.
    let youtube = "document.querySelector('section[data-profile=mia] li[data-service=youtube]')";
    let line = page.eval(&format!("{youtube}.textContent")).await;
    let line = line.as_str().unwrap_or_default().to_string();
    assert!(
        line.contains("YouTube") && line.contains("0 of 60 min today"),
        "{line}"
    );
    let tiktok = page
        .eval("document.querySelector('section[data-profile=mia] li[data-service=tiktok]').textContent")
        .await;
    assert!(
        tiktok.as_str().unwrap_or_default().contains("blocked"),
        "{tiktok}"
    );
    // On the phone, through Mia's services panel: 45 minutes of YouTube a
    // day in place of the config's hour, in force at once.
    fits(&mut page, 390).await;
    page.eval(
        "const f = document.querySelector('section[data-profile=mia] form.service-rule');\
         f.querySelector('select[name=service]').value = 'youtube';\
         f.querySelector('select[name=rule]').value = 'budget';\
         f.querySelector('input[name=minutes]').value = '45';\
         f.querySelector('button.set-rule').click(); true",
    )
    .await;
    page.wait_for(&format!(
        "document.readyState === 'complete' && {youtube} !== null && {youtube}.textContent.includes('0 of 45 min today')"
    ))
    .await;
    let budgets = d.daemon.budgets_now();
    assert_eq!(
        budgets
            .iter()
            .map(|b| (b.budget.key.as_str(), b.budget.minutes))
            .collect::<Vec<_>>(),
        vec![("mia/youtube", 45)]
    );
    // Then half an hour more, today.
    fits(&mut page, 390).await;
    page.eval(&format!(
        "{youtube}.querySelector('form.grant button').click(); true"
    ))
    .await;
    page.wait_for(&format!(
        "document.readyState === 'complete' && {youtube} !== null && {youtube}.textContent.includes('of 75 min today')"
    ))
    .await;
    fits(&mut page, 390).await;
    screenshot(&mut page, "dashboard-390-services.png").await;
    let budgets = d.daemon.budgets_now();
    assert_eq!((budgets[0].budget.minutes, budgets[0].granted), (45, 30));
    // Mia watches: today's minutes by service group appear after her
    // services list (per group only: a teen's level is `aggregate`), and
    // still nothing scrolls sideways on the phone.
    up.set_a("i.ytimg.com.", OPEN, 60);
    query_from("127.0.0.6", d.addr, "i.ytimg.com", RecordType::A).await;
    d.daemon.flush_activity().await;
    fits(&mut page, 390).await;
    let minutes = page
        .eval(
            "[!!document.querySelector('section[data-profile=mia] ul.services ~ .minutes #group-minutes-mia'),\
              !!document.getElementById('service-minutes-mia')]",
        )
        .await;
    assert_eq!(minutes, json!([true, false]));
    screenshot(&mut page, "dashboard-390-minutes.png").await;
    drop(browser);
    d.stop().await;
}

/// The child's page at `width`: loaded in the language the browser asks
/// for (its Accept-Language), nothing scrolls sideways.
async fn child_page(page: &mut Page, url: &str, accept: &str, width: u64) {
    page.call(
        "Emulation.setUserAgentOverride",
        json!({"userAgent": "nestguard-test", "acceptLanguage": accept}),
    )
    .await;
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": width < 600}),
    )
    .await;
    page.eval("window.__before_navigation = true; true").await;
    page.call("Page.navigate", json!({ "url": url })).await;
    page.wait_for("!window.__before_navigation && document.readyState === 'complete' && !!document.getElementById('why')")
        .await;
    let scroll = page.eval("document.documentElement.scrollWidth").await;
    assert!(
        scroll.as_u64().unwrap() <= width,
        "{url} ({accept}) at {width} px is {scroll} px wide: it scrolls sideways"
    );
    // The note field stays inside its card.
    let outside = page
        .eval(
            "Array.from(document.querySelectorAll('input, button')).filter(e => {\
               const c = e.closest('section').getBoundingClientRect(), r = e.getBoundingClientRect();\
               return r.right > c.right + 1; }).length",
        )
        .await;
    assert_eq!(outside, json!(0), "{url}: a field outside its card");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_sees_why_in_their_language_on_a_phone_and_asks_a_parent() {
    let Some(exe) = chromium() else {
        eprintln!(
            "SKIPPED a_child_sees_why_in_their_language_on_a_phone_and_asks_a_parent: chromium is not installed (apt-get install chromium)"
        );
        return;
    };
    let up = FakeUpstream::start().await;
    up.set_a("games.example.", OPEN, 0);
    let dir = TempDir::new();
    std::fs::write(dir.join("gaming.txt"), "games.example\n").unwrap();
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    // No language in the config, and a country of several languages
    // (Belgium): the browser's language, with Belgium's help lines.
    let config = format!(
        "{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\ncountry = \"BE\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"gaming\"\n\
         [[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"127.0.0.1\"]\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("gaming.txt").display(),
    );
    let d = TestDaemon::start(&config).await;
    let admin = d.daemon.admin_addr.unwrap();
    let Some(browser) = tokio::task::spawn_blocking(move || Browser::launch_or_skip(&exe))
        .await
        .unwrap()
    else {
        return;
    };
    let mut page = Page::open(browser.port).await;
    page.call("Page.enable", json!({})).await;
    let blocked = format!("http://{admin}/blocked?name=games.example");
    for (accept, lang, heading) in [
        ("de-DE,de;q=0.9", "de", "Warum wurde das gesperrt?"),
        ("fr-FR,fr;q=0.9", "fr", "Pourquoi est-ce bloqué ?"),
        ("pl-PL,pl;q=0.9", "pl", "Dlaczego to jest zablokowane?"),
    ] {
        child_page(&mut page, &blocked, accept, 390).await;
        assert_eq!(
            page.eval("document.documentElement.lang").await,
            json!(lang)
        );
        assert_eq!(page.eval("document.title").await, json!(heading));
        screenshot(&mut page, &format!("child-page-{lang}-390.png")).await;
    }
    child_page(&mut page, &blocked, "en", 1280).await;
    screenshot(&mut page, "child-page-en-1280.png").await;
    // "Filtering is on for you", linked from the page, on the phone.
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 1000, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await;
    page.eval("window.__before_navigation = true; document.getElementById('me').click(); true")
        .await;
    page.wait_for("!window.__before_navigation && document.readyState === 'complete' && !!document.getElementById('on')")
        .await;
    assert_eq!(
        page.eval("document.title").await,
        json!("Filtering is on for you")
    );
    let scroll = page.eval("document.documentElement.scrollWidth").await;
    assert!(scroll.as_u64().unwrap() <= 390, "/me is {scroll} px wide");
    screenshot(&mut page, "child-filtering-en-390.png").await;

    // The ask flow: a note from the phone reaches the parent's dashboard.
    child_page(&mut page, &blocked, "en", 390).await;
    page.eval(
        "window.__before_navigation = true;\
         document.querySelector('input[name=note]').value = 'for my homework on volcanoes';\
         document.querySelector('.ask button').click(); true",
    )
    .await;
    page.wait_for("!window.__before_navigation && document.readyState === 'complete' && document.body.textContent.includes('Your parents will see your question')").await;
    page.call(
        "Page.navigate",
        json!({"url": format!("http://{admin}/login")}),
    )
    .await;
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('password')")
        .await;
    page.eval(&format!(
        "document.getElementById('password').value = {}; document.getElementById('login').click(); true",
        json!(PASSWORD)
    ))
    .await;
    page.wait_for("location.pathname === '/' && document.readyState === 'complete' && !!document.getElementById('allow-form')").await;
    let asked = page
        .eval("document.body.textContent.includes('games.example') && document.body.textContent.includes('for my homework on volcanoes')")
        .await;
    assert_eq!(asked, json!(true), "the parent sees the child's question");
    drop(browser);
    d.stop().await;
}
