//! The admin side of "each child, not each age band" (issue 17), over real
//! sockets: several parents, each with a password of their own, named in the
//! audit trail; a read-only monitoring token that opens `/metrics` and
//! `/api/status` and cannot allow a site; the allows in force listed with
//! who made them and when they end, and revoked (blocked again over DNS);
//! `nestguard allow` from the command line listed and audited.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::support::http::{HttpResponse, csrf_of, http, post_form, post_login_as};
use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nestguard::clock::ManualClock;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 81);
const MUM: &str = "mum's long password";
const DAD: &str = "dad's long password";
const TOKEN: &str = "monitoring-token-0123456789abcdef0123456789abcdef";

struct Family {
    d: TestDaemon,
    admin: SocketAddr,
    clock: Arc<ManualClock>,
    /// The config, as a file (for the command line).
    config: std::path::PathBuf,
    state: std::path::PathBuf,
    _keep: (TempDir, FakeUpstream),
}

/// The daemon with two parents (mum, dad), the monitoring token, an allow
/// list in the config, on a manual clock.
async fn start() -> Family {
    let up = FakeUpstream::start().await;
    for n in [
        "blocked.example.",
        "games.example.",
        "site.example.",
        "school.example.",
    ] {
        up.set_a(n, OPEN, 1);
    }
    let dir = TempDir::new();
    std::fs::write(dir.join("adult.txt"), "blocked.example\n").unwrap();
    std::fs::write(dir.join("gaming.txt"), "games.example\nschool.example\n").unwrap();
    std::fs::write(dir.join("homework.txt"), "school.example\n").unwrap();
    let state = dir.join("state");
    let mum = nestguard::admin::auth::hash_password(MUM).unwrap();
    let dad = nestguard::admin::auth::hash_password(DAD).unwrap();
    let text = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\n{}[state]\ndir = \"{}\"\n\
         [admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\ncountry = \"GB\"\nmetrics_token_hash = \"{}\"\n\
         [[admin.parent]]\nname = \"mum\"\npassword_hash = \"{mum}\"\n\
         [[admin.parent]]\nname = \"dad\"\npassword_hash = \"{dad}\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"gaming\"\n\
         [[rules.list]]\npath = \"{}\"\ncategory = \"gaming\"\nallow = true\n",
        udp_upstream(up.addr(), "1s"),
        state.display(),
        nestguard::admin::token_hash(TOKEN),
        dir.join("adult.txt").display(),
        dir.join("gaming.txt").display(),
        dir.join("homework.txt").display(),
    );
    let config = dir.join("nestguard.toml");
    std::fs::write(&config, &text).unwrap();
    let (d, clock) = TestDaemon::start_manual(&text).await;
    let admin = d.daemon.admin_addr.expect("admin server started");
    Family {
        d,
        admin,
        clock,
        config,
        state,
        _keep: (dir, up),
    }
}

async fn login(admin: SocketAddr, src: &str, name: &str, password: &str) -> HttpResponse {
    post_login_as(src, admin, name, password).await
}

/// Logs `name` in; the session cookie.
async fn session(admin: SocketAddr, src: &str, name: &str, password: &str) -> String {
    let r = login(admin, src, name, password).await;
    assert_eq!(r.status, 303, "{name}: {r:?}");
    r.session_cookie().expect("a session cookie")
}

async fn dashboard(admin: SocketAddr, cookie: &str) -> HttpResponse {
    let page = http("127.0.0.1", admin, "GET", "/", &[("Cookie", cookie)], "").await;
    assert_eq!(page.status, 200, "{page:?}");
    page
}

async fn post(admin: SocketAddr, path: &str, cookie: &str, body: &str) -> HttpResponse {
    post_form("127.0.0.1", admin, path, cookie, body).await
}

/// The audit trail, oldest first: (who, action, detail).
fn audit(state: &Path) -> Vec<(String, String, String)> {
    let db =
        nestguard::activity::store::Store::open_read_only(&state.join("activity.sqlite")).unwrap();
    let mut stmt = db
        .prepare("SELECT who, action, detail FROM audit ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn blocked(m: &hickory_proto::op::Message) -> bool {
    m.metadata.response_code == ResponseCode::NXDomain
}

/// The dashboard's row for an allow of `name` for `profile`, if listed.
fn allow_row<'a>(page: &'a HttpResponse, profile: &str, name: &str) -> Option<&'a str> {
    let key = format!("<tr class=allow data-profile=\"{profile}\" data-name=\"{name}\">");
    let at = page.body.find(&key)?;
    let rest = &page.body[at..];
    Some(&rest[..rest.find("</tr>").unwrap_or(rest.len())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_parents_each_log_in_with_their_own_password_and_the_trail_names_them() {
    let f = start().await;
    // Every connection here is this computer's one user, one source: the
    // clock moves past its wait before each try.
    let next = || f.clock.advance(Duration::from_secs(5));
    // Mum's password is not dad's, and a name that is nobody's costs a
    // check like a wrong password: the right one straight after is too soon.
    assert_eq!(login(f.admin, "127.0.0.2", "dad", MUM).await.status, 401);
    next();
    assert_eq!(login(f.admin, "127.0.0.3", "nobody", MUM).await.status, 401);
    let r = login(f.admin, "127.0.0.3", "mum", MUM).await;
    assert_eq!(
        r.status, 429,
        "a wrong name slows its source like a wrong password"
    );
    next();
    // With two accounts the name is needed.
    assert_eq!(login(f.admin, "127.0.0.4", "", MUM).await.status, 401);
    next();
    // The login form asks for a name.
    let form = http("127.0.0.1", f.admin, "GET", "/login", &[], "").await;
    assert!(form.body.contains("name=name"), "{}", form.body);

    let mum = session(f.admin, "127.0.0.1", "mum", MUM).await;
    next();
    let dad = session(f.admin, "127.0.0.5", "dad", DAD).await;
    let page = dashboard(f.admin, &mum).await;
    assert!(page.body.contains("Logged in as mum"), "{}", page.body);
    let r = post(
        f.admin,
        "/allow",
        &mum,
        &format!(
            "csrf={}&name=games.example&profile=child&duration=1h",
            csrf_of(&page)
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    let page = dashboard(f.admin, &dad).await;
    assert!(page.body.contains("Logged in as dad"));
    let r = post(
        f.admin,
        "/allow",
        &dad,
        &format!(
            "csrf={}&name=blocked.example&profile=teen&duration=permanent",
            csrf_of(&page)
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    // Dad's session token is not mum's form token.
    let r = post(
        f.admin,
        "/allow",
        &dad,
        &format!(
            "csrf={}&name=site.example&profile=teen&duration=1h",
            csrf_of(&dashboard(f.admin, &mum).await)
        ),
    )
    .await;
    assert_eq!(r.status, 403);

    let trail = audit(&f.state);
    let did = |who: &str, action: &str, detail: &str| {
        trail
            .iter()
            .any(|(w, a, d)| w == who && a == action && d.starts_with(detail))
    };
    assert!(did("mum", "login", ""), "{trail:?}");
    assert!(did("dad", "login", ""), "{trail:?}");
    assert!(
        did("mum", "allow", "games.example for child (1h)"),
        "{trail:?}"
    );
    assert!(
        did("dad", "allow", "blocked.example for teen (permanent)"),
        "{trail:?}"
    );
    assert!(!trail.iter().any(|(w, _, _)| w == "parent"), "{trail:?}");
    // And the dashboard shows who did what.
    let page = dashboard(f.admin, &mum).await;
    let games = allow_row(&page, "child", "games.example").expect("listed");
    assert!(games.contains("by mum"), "{games}");
    let site = allow_row(&page, "teen", "blocked.example").expect("listed");
    assert!(site.contains("by dad") && site.contains("always"), "{site}");
    f.d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_token_reads_metrics_and_status_and_cannot_allow_a_site() {
    let f = start().await;
    let bearer = format!("Bearer {TOKEN}");
    let with = |token: &str| vec![("Authorization", token.to_string())];
    let get = |path: &'static str, auth: Vec<(&'static str, String)>| {
        let admin = f.admin;
        async move {
            let headers: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
            http("127.0.0.1", admin, "GET", path, &headers, "").await
        }
    };
    let r = get("/metrics", with(&bearer)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("nestguard_queries_total"));
    assert_eq!(get("/api/status", with(&bearer)).await.status, 200);
    // Nothing else: not the children's activity, not the dashboard.
    assert_eq!(get("/api/report", with(&bearer)).await.status, 403);
    assert_eq!(get("/", with(&bearer)).await.status, 401);
    // A wrong token, or none, is refused.
    assert_eq!(
        get("/metrics", with("Bearer not-the-token")).await.status,
        401
    );
    assert_eq!(get("/metrics", vec![]).await.status, 401);

    // Allowing a site with it: refused, and the site stays blocked over the wire.
    for path in ["/allow", "/requests/1", "/allows/revoke"] {
        let r = http(
            "127.0.0.1",
            f.admin,
            "POST",
            path,
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &bearer),
            ],
            "csrf=x&name=games.example&profile=child&duration=permanent&decision=approve&kind=temporary",
        )
        .await;
        assert!([401, 403].contains(&r.status), "{path}: {r:?}");
    }
    f.clock.advance(Duration::from_secs(2));
    let m = query_udp(f.d.addr, "games.example", RecordType::A).await;
    assert!(blocked(&m), "the token allowed a site");
    assert!(
        !f.state.join("allow").join("child.txt").exists()
            && !f.state.join("overrides.toml").exists()
    );
    // Refusals are counted.
    let r = get("/metrics", with(&bearer)).await;
    let refused = r
        .body
        .lines()
        .find_map(|l| l.strip_prefix("nestguard_admin_bearer_refused_total "))
        .expect("the counter");
    assert!(refused.parse::<f64>().unwrap() >= 2.0, "{refused}");
    f.d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allows_in_force_are_listed_and_revoking_blocks_again_over_dns() {
    let f = start().await;
    let mum = session(f.admin, "127.0.0.1", "mum", MUM).await;
    let page = dashboard(f.admin, &mum).await;
    let csrf = csrf_of(&page);
    // The config's allow list: listed where it is, with no Revoke button.
    let list = allow_row(
        &page,
        "child",
        &f._keep.0.join("homework.txt").display().to_string(),
    )
    .expect("the config's allow list is listed");
    assert!(
        list.contains("in the config file") && !list.contains("Revoke"),
        "{list}"
    );

    for body in [
        "name=games.example&profile=child&duration=1h",
        "name=blocked.example&profile=child&duration=permanent&bedtime=1",
    ] {
        let r = post(f.admin, "/allow", &mum, &format!("csrf={csrf}&{body}")).await;
        assert_eq!(r.status, 303, "{r:?}");
    }
    assert!(
        time_until(f.d.addr, "blocked.example", false, Duration::from_secs(5))
            .await
            .is_some()
    );
    let m = query_udp(f.d.addr, "games.example", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);

    let page = dashboard(f.admin, &mum).await;
    let games = allow_row(&page, "child", "games.example").expect("temporary allow listed");
    assert!(
        games.contains("until ") && games.contains("by mum") && games.contains("Revoke"),
        "{games}"
    );
    let adult = allow_row(&page, "child", "blocked.example").expect("permanent allow listed");
    assert!(
        adult.contains("always, also at bedtime") && adult.contains("Revoke"),
        "{adult}"
    );

    // Revoke both: blocked again as soon as the answer comes back.
    for body in [
        "kind=temporary&profile=child&name=games.example",
        "kind=permanent&profile=child&name=blocked.example&bedtime=1",
    ] {
        let r = post(
            f.admin,
            "/allows/revoke",
            &mum,
            &format!("csrf={csrf}&{body}"),
        )
        .await;
        assert_eq!(r.status, 303, "{r:?}");
    }
    for name in ["games.example", "blocked.example"] {
        let m = query_udp(f.d.addr, name, RecordType::A).await;
        assert!(blocked(&m), "{name} still allowed after revoking");
    }
    let page = dashboard(f.admin, &mum).await;
    assert!(allow_row(&page, "child", "games.example").is_none());
    assert!(allow_row(&page, "child", "blocked.example").is_none());
    let bedtime = std::fs::read_to_string(f.state.join("allow").join("child.bedtime.txt")).unwrap();
    assert!(!bedtime.contains("blocked.example"), "{bedtime}");
    let trail = audit(&f.state);
    for detail in [
        "games.example for child (temporary)",
        "blocked.example for child (permanent)",
    ] {
        assert!(
            trail
                .iter()
                .any(|(w, a, d)| w == "mum" && a == "revoke" && d == detail),
            "{trail:?}"
        );
    }
    // Without the form token, or for a profile the rules do not have: refused.
    let r = post(
        f.admin,
        "/allows/revoke",
        &mum,
        "csrf=nope&kind=temporary&profile=child&name=x.example",
    )
    .await;
    assert_eq!(r.status, 403);
    let r = post(
        f.admin,
        "/allows/revoke",
        &mum,
        &format!("csrf={csrf}&kind=permanent&profile=..%2F..%2Fetc&name=x.example"),
    )
    .await;
    assert_eq!(r.status, 400);
    f.d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_from_the_command_line_is_listed_and_audited() {
    let f = start().await;
    let config = f.config.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::support::cli::stdout_of(
            &[
                "allow",
                "games.example",
                "--profile",
                "child",
                "--for",
                "2h",
            ],
            &config,
            &[],
        )
    })
    .await
    .unwrap();
    assert!(
        out.starts_with("allowed games.example for profile child"),
        "{out}"
    );
    // The daemon reads the file every second (of its clock).
    let mut open = false;
    for _ in 0..40 {
        f.clock.advance(Duration::from_secs(1));
        if !blocked(&query_udp(f.d.addr, "games.example", RecordType::A).await) {
            open = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(open, "the command line's allow did not take effect");
    let user = nestguard::policy::users::name_of(nix::unistd::geteuid().as_raw()).unwrap();
    let who = format!("cli (user {user})");
    let trail = audit(&f.state);
    assert!(
        trail
            .iter()
            .any(|(w, a, d)| *w == who && a == "allow" && d.starts_with("games.example for child")),
        "{trail:?}"
    );
    let mum = session(f.admin, "127.0.0.1", "mum", MUM).await;
    let page = dashboard(f.admin, &mum).await;
    let row = allow_row(&page, "child", "games.example").expect("listed");
    assert!(
        row.contains(&format!("by {who}")) && row.contains("Revoke"),
        "{row}"
    );
    // Ending it from the command line is in the trail too.
    let config = f.config.clone();
    tokio::task::spawn_blocking(move || {
        crate::support::cli::stdout_of(&["allow", "games.example", "--end"], &config, &[])
    })
    .await
    .unwrap();
    let trail = audit(&f.state);
    assert!(
        trail.iter().any(|(w, a, _)| *w == who && a == "revoke"),
        "{trail:?}"
    );
    f.d.stop().await;
}

#[test]
fn passwd_per_parent_and_metrics_token_write_the_config_and_keep_it() {
    let dir = TempDir::new();
    let config = dir.join("nestguard.toml");
    let first = nestguard::admin::auth::hash_password("the first one").unwrap();
    std::fs::write(
        &config,
        format!(
            "# the family's settings\n[admin]\nenabled = true\npassword_hash = \"{first}\" # the first parent\n"
        ),
    )
    .unwrap();
    for (parent, password) in [
        ("mum", "mum's secret"),
        ("dad", "dad's secret"),
        ("mum", "mum's new one"),
    ] {
        let (code, out, err) = crate::support::cli::run_with_input(
            &["passwd", "--parent", parent],
            &config,
            &format!("{password}\n"),
        );
        assert_eq!(code, Some(0), "{err}");
        assert!(out.contains(&format!("name = \"{parent}\"")), "{out}");
    }
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("# the family's settings\n"), "{text}");
    assert!(text.contains("# the first parent"), "comments kept: {text}");
    let parsed: toml::Table = text.parse().unwrap();
    let parents = parsed["admin"]["parent"].as_array().unwrap();
    assert_eq!(
        parents.len(),
        2,
        "mum's second password replaced her first: {text}"
    );
    let hash_of = |name: &str| {
        parents
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .and_then(|p| p["password_hash"].as_str())
            .unwrap()
            .to_string()
    };
    assert!(nestguard::admin::auth::verify_password(
        &hash_of("mum"),
        "mum's new one"
    ));
    assert!(nestguard::admin::auth::verify_password(
        &hash_of("dad"),
        "dad's secret"
    ));
    assert_eq!(
        parsed["admin"]["password_hash"].as_str(),
        Some(first.as_str())
    );
    // The account `parent` is [admin] password_hash, named or not.
    let (code, _, err) = crate::support::cli::run_with_input(
        &["passwd", "--parent", "parent"],
        &config,
        "the second one\n",
    );
    assert_eq!(code, Some(0), "{err}");
    let parsed: toml::Table = std::fs::read_to_string(&config).unwrap().parse().unwrap();
    assert_eq!(parsed["admin"]["parent"].as_array().unwrap().len(), 2);
    let hash = parsed["admin"]["password_hash"].as_str().unwrap();
    assert!(nestguard::admin::auth::verify_password(
        hash,
        "the second one"
    ));

    // The monitoring token: printed once, only its hash in the config.
    let (code, token, err) = crate::support::cli::run_with_input(&["metrics-token"], &config, "");
    assert_eq!(code, Some(0), "{err}");
    let token = token.trim();
    assert_eq!(token.len(), 64, "{token}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        !text.contains(token),
        "the token itself is not in the config"
    );
    assert!(
        text.contains(&format!(
            "metrics_token_hash = \"{}\"",
            nestguard::admin::token_hash(token)
        )),
        "{text}"
    );
    let (code, _, err) = crate::support::cli::run_with_input(&["check"], &config, "");
    assert_eq!(code, Some(0), "the written config checks: {err}");

    // Mistakes point at the table.
    for (bad, says) in [
        (
            "[[admin.parent]]\nname = \"parent\"\npassword_hash = \"x\"\n",
            "two parents named `parent`",
        ),
        (
            "[[admin.parent]]\nname = \"mum dad\"\npassword_hash = \"x\"\n",
            "parent name `mum dad`",
        ),
        (
            "[[admin.parent]]\nname = \"gran\"\npassword_hash = \"not a hash\"\n",
            "is not an Argon2 hash",
        ),
        (
            "metrics_token_hash = \"abc\"\n",
            "metrics_token_hash must be",
        ),
    ] {
        let text = format!("[admin]\npassword_hash = \"{first}\"\n{bad}");
        let bad_config = dir.join("bad.toml");
        std::fs::write(&bad_config, &text).unwrap();
        let (code, _, err) = crate::support::cli::run_with_input(&["check"], &bad_config, "");
        assert_eq!(code, Some(2), "{text}");
        assert!(err.contains(says) && err.contains("bad.toml:3:"), "{err}");
    }
}
