//! The admin server over real sockets: 401 without credentials, wrong
//! passwords slowed down, `/metrics` in Prometheus text format, logging in, the
//! dashboard's charts, allowing a site (then a DNS query for it is allowed),
//! and a child's request to unblock, approved by a parent.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::support::http::{HttpResponse, csrf_of, form_value, http, post_form, post_login};
use crate::support::*;
use base64::Engine as _;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nestguard::clock::ManualClock;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
const PASSWORD: &str = "correct horse battery";

/// The daemon on a manual clock (moved on by hand: waits are not waited out).
async fn start() -> (
    TestDaemon,
    SocketAddr,
    (TempDir, FakeUpstream, Arc<ManualClock>),
) {
    let up = FakeUpstream::start().await;
    for n in ["blocked.example.", "games.example.", "site.example."] {
        up.set_a(n, OPEN, 1);
    }
    let dir = TempDir::new();
    std::fs::write(dir.join("adult.txt"), "blocked.example\n").unwrap();
    std::fs::write(dir.join("gaming.txt"), "games.example\n").unwrap();
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    let config = format!(
        "{}[activity]\nflush_interval = \"200ms\"\n\
         [admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\ncountry = \"GB\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"gaming\"\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("adult.txt").display(),
        dir.join("gaming.txt").display()
    );
    let (d, clock) = TestDaemon::start_manual(&config).await;
    let admin = d.daemon.admin_addr.expect("admin server started");
    (d, admin, (dir, up, clock))
}

fn basic() -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
    format!("Basic {token}")
}

/// Logs in from `src`; the session cookie.
async fn login(src: &str, admin: SocketAddr) -> String {
    let r = post_login(src, admin, PASSWORD).await;
    assert_eq!(r.status, 303, "{r:?}");
    let cookie = r
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_get_401_and_wrong_passwords_are_slowed_not_locked() {
    let (d, admin, (_dir, _up, clock)) = start().await;
    for path in ["/", "/api/report", "/api/status", "/metrics"] {
        let r = http("127.0.0.1", admin, "GET", path, &[], "").await;
        assert_eq!(r.status, 401, "{path}");
        // No monitoring token configured: a bearer token opens nothing.
        let r = http(
            "127.0.0.1",
            admin,
            "GET",
            path,
            &[("Authorization", "Bearer anything")],
            "",
        )
        .await;
        assert_eq!(r.status, 401, "{path} with a bearer token");
    }
    let r = http("127.0.0.1", admin, "GET", "/metrics", &[], "").await;
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"nestguard\"")
    );
    // A stolen-looking cookie is not a session.
    let r = http(
        "127.0.0.1",
        admin,
        "GET",
        "/",
        &[("Cookie", "ng_session=0000")],
        "",
    )
    .await;
    assert_eq!(r.status, 401);

    // Five wrong passwords in a row: the first is checked, the rest come too
    // soon and are refused unchecked, with how long to wait.
    for i in 0..5 {
        let r = post_login("127.0.0.5", admin, "guess").await;
        if i == 0 {
            assert_eq!(r.status, 401);
        } else {
            assert_eq!(r.status, 429, "{r:?}");
            assert_eq!(r.header("retry-after"), Some("1"));
        }
    }
    // The right one a second later is in: slowed down, never locked out.
    let mut r = None;
    for _ in 0..4 {
        let tried = post_login("127.0.0.5", admin, PASSWORD).await;
        if tried.status != 429 {
            r = Some(tried);
            break;
        }
        // The server's own wait (a second) is what this checks: its clock
        // moves a second on.
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(r.expect("in within four seconds").status, 303);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text() {
    let (d, admin, _dir) = start().await;
    query_udp(d.addr, "site.example", RecordType::A).await;
    query_udp(d.addr, "site.example", RecordType::A).await;
    query_udp(d.addr, "blocked.example", RecordType::A).await;
    d.daemon.flush_activity().await;
    let auth = basic();
    let r = http(
        "127.0.0.1",
        admin,
        "GET",
        "/metrics",
        &[("Authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let mut samples = std::collections::HashMap::new();
    let mut typed = std::collections::HashSet::new();
    for line in r.body.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") || line.is_empty() {
            continue;
        }
        // name{label="value",...} number
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        assert!(typed.contains(name), "sample before its TYPE: {line}");
        if let Some(labels) = series.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for pair in labels[1..labels.len() - 1].split("\",") {
                let (k, v) = pair
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("bad label in {line}"));
                assert!(
                    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{line}"
                );
                assert!(!v.trim_end_matches('"').contains('"'), "{line}");
            }
        }
        samples.insert(series.to_string(), value.parse::<f64>().unwrap());
    }
    assert_eq!(samples["nestguard_queries_total{transport=\"udp\"}"], 3.0);
    assert_eq!(samples["nestguard_cache_hits_total"], 1.0);
    assert_eq!(
        samples["nestguard_decisions_total{profile=\"child\",category=\"adult\",action=\"blocked\"}"],
        1.0
    );
    assert_eq!(samples["nestguard_last_reload_success"], 1.0);
    promtool_check(&r.body);
    d.stop().await;
}

/// Prometheus's own parser and linter on a scrape: `promtool check metrics`
/// (Debian's `prometheus` package). Skipped, saying so, where it is not installed.
fn promtool_check(text: &str) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!(
            "promtool not installed (apt-get install prometheus): its check of /metrics skipped"
        );
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_logs_in_sees_charts_and_allows_a_site() {
    let (d, admin, _dir) = start().await;
    for name in ["site.example", "games.example", "blocked.example"] {
        query_udp(d.addr, name, RecordType::A).await;
    }
    d.daemon.flush_activity().await;
    let cookie = login("127.0.0.1", admin).await;
    let page = http("127.0.0.1", admin, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<svg class=chart id=\"hours-child\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<svg class=chart id=\"categories-child\"")
    );
    assert!(page.body.contains("gaming"));

    // Without the form token: refused.
    let r = post_form(
        "127.0.0.1",
        admin,
        "/allow",
        &cookie,
        "csrf=nope&name=games.example&profile=child&duration=1h",
    )
    .await;
    assert_eq!(r.status, 403);
    let m = query_udp(d.addr, "games.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);

    // Allowed for good: the allow file is written and reloaded.
    let csrf = csrf_of(&page);
    let r = post_form(
        "127.0.0.1",
        admin,
        "/allow",
        &cookie,
        &format!("csrf={csrf}&name=games.example&profile=child&duration=permanent"),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    let took = time_until(d.addr, "games.example", false, Duration::from_secs(3)).await;
    assert!(
        took.is_some(),
        "the allow did not take effect: {:?}",
        std::fs::read_to_string(d.state.join("status.toml"))
    );
    let m = query_udp(d.addr, "games.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);
    let page = http("127.0.0.1", admin, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert!(
        page.body.contains("games.example for child (permanent)"),
        "audit trail"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_asks_and_a_parent_approves() {
    let (d, admin, _dir) = start().await;
    let page = http(
        "127.0.0.1",
        admin,
        "GET",
        "/blocked?name=blocked.example",
        &[],
        "",
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("This site is blocked for you")
            || page.body.contains("This website is not open for you"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Childline"), "GB help line");
    assert!(page.body.contains("inhope.org"));
    let at = page.body.find("name=token value=\"").unwrap() + "name=token value=\"".len();
    let token = page.body[at..].split('"').next().unwrap();
    let r = http(
        "127.0.0.1",
        admin,
        "POST",
        "/ask",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!(
            "token={token}&name=blocked.example&note={}",
            form_value("for a school project")
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    // The same token twice: refused.
    let again = http(
        "127.0.0.1",
        admin,
        "POST",
        "/ask",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={token}&name=blocked.example"),
    )
    .await;
    assert_eq!(again.status, 403);

    let cookie = login("127.0.0.1", admin).await;
    let dash = http("127.0.0.1", admin, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert!(dash.body.contains("for a school project"));
    let at = dash.body.find("action=/requests/").unwrap() + "action=/requests/".len();
    let id: String = dash.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = post_form(
        "127.0.0.1",
        admin,
        &format!("/requests/{id}"),
        &cookie,
        &format!("csrf={}&decision=approve-1h", csrf_of(&dash)),
    )
    .await;
    assert_eq!(r.status, 303);
    let m = query_udp(d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN], "approved for an hour");
    d.stop().await;
}

/// Text with every character HTML gives a meaning to.
const HOSTILE: &str = "<script>alert(1)</script> \"q\" 'a' & <img src=x onerror=alert(2)>";

/// `s` as a TOML basic string.
fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// What a browser shows for HTML text: the entities decoded.
fn decoded(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|&e| e < 10);
        let c = end.and_then(|e| match &rest[1..e] {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            n => n
                .strip_prefix('#')
                .and_then(|d| d.parse::<u32>().ok())
                .and_then(char::from_u32),
        });
        match (c, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The hostile text reached the page (as text) and only escaped.
#[track_caller]
fn shown_escaped(what: &str, page: &HttpResponse, times: usize) {
    for raw in ["<script", "<img", "\"q\"", "'a'", "& <"] {
        assert!(
            !page.body.contains(raw),
            "{what}: `{raw}` unescaped in\n{}",
            page.body
        );
    }
    let shown = decoded(&page.body).matches(HOSTILE).count();
    assert!(
        shown >= times,
        "{what}: shown {shown} times, not {times}:\n{}",
        page.body
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_from_lists_config_and_requests_is_escaped_on_every_dashboard_page() {
    let up = FakeUpstream::start().await;
    for n in ["blocked.example.", "games.example.", "site.example."] {
        up.set_a(n, OPEN, 1);
    }
    let dir = TempDir::new();
    // The shipped rules, with hostile names where parents' and children's
    // pages show list-supplied text: a category's name and description, a
    // profile's name, every help line field.
    let rules = dir.join("rules");
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
        &rules,
    );
    let h = toml_str(HOSTILE);
    let categories = std::fs::read_to_string(rules.join("categories.toml")).unwrap();
    let categories = categories.replacen(
        "name = \"Sexual content\"\ndescription = \"Pornography, sex cams and other sexually explicit sites.\"",
        &format!("name = {h}\ndescription = {h}"),
        1,
    );
    assert!(
        categories.contains(HOSTILE.split(' ').next().unwrap()),
        "categories.toml changed shape"
    );
    std::fs::write(rules.join("categories.toml"), categories).unwrap();
    let child = std::fs::read_to_string(rules.join("profiles/child.toml")).unwrap();
    let child = child.replacen("name = \"Child (9–12)\"", &format!("name = {h}"), 1);
    std::fs::write(rules.join("profiles/child.toml"), child).unwrap();
    std::fs::write(
        rules.join("helplines.toml"),
        format!(
            "[international]\nname = {h}\nurl = {h}\nhelp_name = {h}\nhelp_url = {h}\n\
             [[country]]\ncode = \"GB\"\nname = {h}\nhelpline_name = {h}\nhelpline_phone = {h}\n\
             helpline_url = {h}\nhotline_url = {h}\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("adult.txt"), "blocked.example\n").unwrap();
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    // A window open all day, with a hostile name: the profile card counts lookups in it.
    let config = format!(
        "{}[activity]\nflush_interval = \"200ms\"\n\
         [admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\ncountry = \"GB\"\n\
         [rules]\ndir = \"{}\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n\
         [[schedule]]\nprofile = \"child\"\nname = {h}\nfrom = \"00:00\"\nto = \"00:00\"\nblock = [\"gaming\"]\n",
        udp_upstream(up.addr(), "1s"),
        rules.display(),
        dir.join("adult.txt").display(),
    );
    let d = TestDaemon::start(&config).await;
    let admin = d.daemon.admin_addr.expect("admin server started");

    // The child's page: every help line field.
    let page = http(
        "127.0.0.1",
        admin,
        "GET",
        "/blocked?name=blocked.example",
        &[],
        "",
    )
    .await;
    assert_eq!(page.status, 200);
    // A shipped category is named in the child's words (locales/), not by
    // its name in categories.toml: the help line fields are what is shown.
    shown_escaped("/blocked (category, help lines)", &page, 5 + 4);
    let category_page = page;
    // A name that is not a site name: nothing to ask about (no form), and
    // nothing of it unescaped.
    let asked = format!("/blocked?name={}", form_value(HOSTILE));
    let page = http("127.0.0.1", admin, "GET", &asked, &[], "").await;
    assert_eq!(page.status, 200);
    shown_escaped("/blocked (the name asked about)", &page, 1);
    assert!(!page.body.contains("action=/ask"), "{}", page.body);
    // A child's note, shown to the parents.
    let page = category_page;
    let at = page.body.find("name=token value=\"").unwrap() + "name=token value=\"".len();
    let token = page.body[at..].split('"').next().unwrap();
    let r = http(
        "127.0.0.1",
        admin,
        "POST",
        "/ask",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!(
            "token={token}&name=blocked.example&note={}",
            form_value(HOSTILE)
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");

    // The dashboard: the note, and the window's name on the child's card
    // once its lookups are counted (written now, not at the next flush).
    for name in ["site.example", "blocked.example"] {
        query_udp(d.addr, name, RecordType::A).await;
    }
    d.daemon.flush_activity().await;
    let cookie = login("127.0.0.1", admin).await;
    let dash = http("127.0.0.1", admin, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert!(
        decoded(&dash.body).contains(&format!("During “{HOSTILE}”")),
        "the child's card names the window: {}",
        dash.body
    );
    shown_escaped("/ (dashboard: note, window)", &dash, 2);
    let csrf = csrf_of(&dash);

    // Reasons a request was refused, which repeat what was sent.
    for (what, form) in [
        (
            "a site name",
            format!("name={}&profile=child&duration=1h", form_value(HOSTILE)),
        ),
        (
            "a profile",
            format!(
                "name=site.example&profile={}&duration=1h",
                form_value(HOSTILE)
            ),
        ),
        (
            "a duration",
            format!(
                "name=site.example&profile=child&duration={}",
                form_value(HOSTILE)
            ),
        ),
    ] {
        let r = post_form(
            "127.0.0.1",
            admin,
            "/allow",
            &cookie,
            &format!("csrf={csrf}&{form}"),
        )
        .await;
        assert_eq!(r.status, 400, "{what}: {r:?}");
        shown_escaped(&format!("/allow refused ({what})"), &r, 1);
    }
    d.stop().await;
    drop(up);
}
