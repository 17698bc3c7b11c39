//! The services panel of the parents' dashboard, over the wire: a rule set
//! there (block, allow, open hours, a daily budget, back to the config) is
//! for that child only, takes the place of the config's rule at once, is
//! kept in the state folder across a restart, and a broken file is refused
//! by name while the last good rules keep serving.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::support::http::{
    HttpResponse, csrf_of, form_value, http, http_within, post_form, post_login,
};
use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use nestguard::clock::{LocalTime, ManualClock};

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 81);
const PASSWORD: &str = "correct horse battery";
const LEO: &str = "127.0.0.5";
const MIA: &str = "127.0.0.6";

fn blocked(m: &hickory_proto::op::Message) -> bool {
    m.metadata.response_code == ResponseCode::NXDomain
}

/// Monday 12:00, local and UTC alike.
fn monday_noon(clock: &ManualClock) {
    clock.set_timestamp("2026-12-07T12:00:00Z".parse().unwrap());
    clock.set(LocalTime {
        weekday: 0,
        minute: 12 * 60,
    });
}

/// A logged-in parent on one daemon's dashboard.
struct Parent {
    admin: std::net::SocketAddr,
    cookie: String,
    csrf: String,
}

impl Parent {
    async fn log_in(d: &TestDaemon) -> Parent {
        let admin = d.daemon.admin_addr.expect("admin server started");
        let cookie = post_login("127.0.0.1", admin, PASSWORD)
            .await
            .session_cookie()
            .expect("logged in");
        let mut parent = Parent {
            admin,
            cookie,
            csrf: String::new(),
        };
        parent.csrf = csrf_of(&parent.page().await);
        parent
    }

    async fn page(&self) -> HttpResponse {
        let cookie = [("Cookie", self.cookie.as_str())];
        http("127.0.0.1", self.admin, "GET", "/", &cookie, "").await
    }

    /// The services panel's form for `child`, with `fields` (`rule=block`).
    /// The answer comes once the rules are rebuilt: a full compile of the
    /// shipped lists, which takes seconds on a busy test host.
    async fn set(&self, child: &str, service: &str, fields: &str) -> HttpResponse {
        http_within(
            Duration::from_secs(60),
            "127.0.0.1",
            self.admin,
            "POST",
            &format!("/children/{child}/service"),
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Cookie", self.cookie.as_str()),
            ],
            &format!("csrf={}&service={service}&{fields}", form_value(&self.csrf)),
        )
        .await
    }
}

/// The budget `key` (`leo/youtube`) in force: its minutes a day.
fn budget(d: &TestDaemon, key: &str) -> Option<u32> {
    d.daemon.refresh();
    d.daemon
        .budgets_now()
        .iter()
        .find(|b| b.budget.key == key)
        .map(|b| b.budget.minutes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_rules_set_on_the_dashboard_are_per_child_kept_and_a_broken_file_is_refused() {
    let up = FakeUpstream::start().await;
    for name in ["www.tiktok.com.", "www.roblox.com.", "site.example."] {
        up.set_a(name, OPEN, 300);
    }
    let state = TempDir::new();
    let dir = TempDir::new();
    let hash = nestguard::admin::auth::hash_password(PASSWORD).unwrap();
    // Leo is 9–12 (short videos and games are blocked categories for him),
    // Mia a teen (they are not); Leo's config gives him an hour of Roblox.
    let config = test_config_text(
        &format!(
            "{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\n\
             [[child]]\nname = \"Leo\"\nprofile = \"child\"\naddresses = [\"{LEO}\"]\n\
             services = {{ roblox = {{ budget = \"60m\" }} }}\n\
             [[child]]\nname = \"Mia\"\nprofile = \"teen\"\naddresses = [\"{MIA}\"]\n",
            udp_upstream(up.addr(), "1s"),
        ),
        &state,
    );
    let path = dir.join("nestguard.toml");
    std::fs::write(&path, &config).unwrap();
    let start = || async {
        let (clock, env) = manual_env();
        monday_noon(&clock);
        let d = TestDaemon::start_in(&config, env).await;
        d.daemon.refresh();
        (d, clock)
    };
    let (d, _clock) = start().await;
    let ask = |d: &TestDaemon, src: &'static str, name: &'static str| {
        query_from(src, d.addr, name, RecordType::A)
    };
    assert!(blocked(&ask(&d, LEO, "www.tiktok.com").await));
    assert!(!blocked(&ask(&d, MIA, "www.tiktok.com").await));
    assert_eq!(budget(&d, "leo/roblox"), Some(60));

    let parent = Parent::log_in(&d).await;
    // Every catalogue service can be chosen, grouped, with its suggested age.
    let page = parent.page().await;
    let panel = &page.body[page.body.find("data-profile=\"leo\"").unwrap()..];
    assert!(
        panel.contains("form method=post action=\"/children/leo/service\" class=service-rule")
            && panel.contains("<optgroup label=\"Short video\">")
            && panel.contains("TikTok (13+)"),
        "{panel}"
    );

    // TikTok allowed for Leo: open for him at once, and only for him.
    let r = parent.set("leo", "tiktok", "rule=allow").await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(!blocked(&ask(&d, LEO, "www.tiktok.com").await));
    // Blocked for Mia: for her only.
    let r = parent.set("mia", "tiktok", "rule=block").await;
    assert_eq!(r.status, 303, "{r:?}");
    let m = ask(&d, MIA, "www.tiktok.com").await;
    assert!(blocked(&m));
    assert!(
        ede(m.edns.as_ref()).is_some_and(|(_, t)| t.contains("tiktok")),
        "{m:?}"
    );
    assert!(!blocked(&ask(&d, LEO, "www.tiktok.com").await));
    // Roblox for Mia only 16:00–18:00 on school days: closed at noon.
    let r = parent
        .set(
            "mia",
            "roblox",
            "rule=hours&from=16%3A00&to=18%3A00&days=school",
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(blocked(&ask(&d, MIA, "www.roblox.com").await));
    // Leo's budget: 45 minutes in place of the config's 60, not beside it.
    let r = parent.set("leo", "roblox", "rule=budget&minutes=45").await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(budget(&d, "leo/roblox"), Some(45));
    assert_eq!(d.daemon.budgets_now().len(), 1);
    assert!(!blocked(&ask(&d, LEO, "www.roblox.com").await));

    // What makes no sense changes nothing, and says why.
    let r = parent.set("leo", "roblox", "rule=budget&minutes=0").await;
    assert!(
        r.body.contains("a daily budget is 1 to 1440 minutes"),
        "{r:?}"
    );
    let r = parent.set("leo", "nosuch", "rule=block").await;
    assert!(r.body.contains("no service `nosuch`"), "{r:?}");
    let r = post_form(
        "127.0.0.1",
        parent.admin,
        "/children/leo/service",
        &parent.cookie,
        "csrf=nope&service=tiktok&rule=block",
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(budget(&d, "leo/roblox"), Some(45));

    // The card says so, with a way back to the config; the changes are audited.
    let page = parent.page().await;
    for said in [
        "Leo: TikTok allowed",
        "Mia: TikTok blocked",
        "Mia: Roblox open 16:00–18:00 school days",
        "Leo: Roblox 45 min a day",
        "45 min a day",
        "As configured",
    ] {
        assert!(page.body.contains(said), "{said}: {}", page.body);
    }
    let saved =
        std::fs::read_to_string(nestguard::state::layout::service_rules(state.path())).unwrap();
    assert!(
        saved.contains("[child.leo]") && saved.contains("tiktok = \"allow\""),
        "{saved}"
    );

    // A restart: the rules are read back from the state folder.
    d.stop().await;
    let (d, _clock) = start().await;
    assert!(!blocked(&ask(&d, LEO, "www.tiktok.com").await));
    assert!(blocked(&ask(&d, MIA, "www.tiktok.com").await));
    assert!(blocked(&ask(&d, MIA, "www.roblox.com").await));
    assert_eq!(budget(&d, "leo/roblox"), Some(45));

    // "As configured": Leo's TikTok is blocked by his band again.
    let parent = Parent::log_in(&d).await;
    let r = parent.set("leo", "tiktok", "rule=config").await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(blocked(&ask(&d, LEO, "www.tiktok.com").await));
    assert!(
        parent
            .page()
            .await
            .body
            .contains("Leo: TikTok as configured")
    );

    // A broken file (edited by hand): the reload is refused naming the file
    // and its line, `nestguard check` says the same, the last good rules serve.
    let file = nestguard::state::layout::service_rules(state.path());
    std::fs::write(&file, "[child.mia]\ntiktok = \"sometimes\"\n").unwrap();
    let e = d.daemon.reload().await.unwrap_err();
    assert!(e.contains(&format!("{}:2:", file.display())), "{e}");
    assert!(blocked(&ask(&d, MIA, "www.tiktok.com").await));
    assert!(blocked(&ask(&d, MIA, "www.roblox.com").await));
    assert_eq!(budget(&d, "leo/roblox"), Some(45));
    let (code, _, err) = crate::support::cli::run(&["check"], &path);
    assert_ne!(code, Some(0));
    assert!(err.contains(&format!("{}:2:", file.display())), "{err}");
    // And the dashboard says so instead of writing over it.
    let r = parent.set("leo", "tiktok", "rule=allow").await;
    assert!(r.body.contains("services.toml:2:"), "{r:?}");
    d.stop().await;
}
