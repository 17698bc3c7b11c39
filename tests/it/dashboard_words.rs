//! The parents' dashboard in the household's language (issue 19): the
//! login page, the dashboard and its messages come from the Fluent files
//! (`locales/*/dashboard.ftl`) in the config's language, else the
//! country's, else the browser's, with `<html lang>` to match and no
//! English fixed string left over; every dashboard message renders in
//! every language with its variables filled.

use std::net::SocketAddr;

use crate::support::http::{HttpResponse, http, post_form, post_login_as};
use crate::support::*;
use nestguard::words::{Lang, message_ids, text};

const MUM: &str = "mum's long password";

/// The daemon with a dashboard, one child (Lea) and `extra` in `[admin]`.
async fn start(extra: &str) -> (TestDaemon, SocketAddr, (TempDir, FakeUpstream)) {
    let up = FakeUpstream::start().await;
    let dir = TempDir::new();
    let hash = nestguard::admin::auth::hash_password(MUM).unwrap();
    let config = format!(
        "{}[admin]\nenabled = true\nlisten = \"127.0.0.1:0\"\npassword_hash = \"{hash}\"\n{extra}\n\
         [state]\ndir = \"{}\"\n\
         [[child]]\nname = \"Lea\"\nprofile = \"teen\"\naddresses = [\"127.0.0.9\"]\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("state").display(),
    );
    let (d, _clock) = TestDaemon::start_manual(&config).await;
    let admin = d.daemon.admin_addr.expect("admin server started");
    (d, admin, (dir, up))
}

/// Logs in (with the browser's `accept` languages) and fetches the dashboard.
async fn dashboard(admin: SocketAddr, accept: &str) -> (String, HttpResponse) {
    let login = http(
        "127.0.0.1",
        admin,
        "GET",
        "/login",
        &[("Accept-Language", accept)],
        "",
    )
    .await;
    assert_eq!(login.status, 200, "{login:?}");
    let r = post_login_as("127.0.0.1", admin, "", MUM).await;
    assert_eq!(r.status, 303, "{r:?}");
    let cookie = r.session_cookie().expect("a session cookie");
    let page = http(
        "127.0.0.1",
        admin,
        "GET",
        "/",
        &[("Cookie", &cookie), ("Accept-Language", accept)],
        "",
    )
    .await;
    assert_eq!(page.status, 200, "{page:?}");
    (cookie, login_and(page, login))
}

/// The dashboard, with the login page's body appended (both are checked).
fn login_and(mut page: HttpResponse, login: HttpResponse) -> HttpResponse {
    page.body.push_str(&login.body);
    page
}

/// The page's text as a reader sees it (askama escapes quotes and `&`).
fn unescaped(body: &str) -> String {
    body.replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The parents' side of the message files.
fn dashboard_ids() -> Vec<String> {
    message_ids(Lang::En)
        .unwrap()
        .into_iter()
        .filter(|id| id.starts_with("dashboard-") || id.starts_with("login-"))
        .collect()
}

/// Every English fixed string of the dashboard (no variables) that differs
/// from `lang`'s and shows on `page`.
/// The audit trail's rows are left out: they are a record, written in
/// English when the change was made (see README).
fn english_left(page: &str, lang: Lang) -> Vec<String> {
    let mut page = unescaped(page);
    if let Some(at) = page.find("<section class=card id=recent>") {
        let end = page[at..].find("</section>").map_or(page.len(), |e| at + e);
        page.replace_range(at..end, "");
    }
    dashboard_ids()
        .into_iter()
        .filter_map(|id| {
            let en = text(Lang::En, &id, &[]);
            let ours = text(lang, &id, &[]);
            // Words that also occur in a page of any language: form values
            // (`value=block`) and service names ("Epic Games", "Apple Music").
            let shared = ["dashboard-svc-rule-block", "dashboard-svc-rule-allow"]
                .contains(&id.as_str())
                || id.starts_with("dashboard-group-");
            (!shared && !en.contains('{') && en != ours && en.len() > 3 && page.contains(&en))
                .then(|| format!("{id}: {en:?}"))
        })
        .collect()
}

/// `page` is in `lang` (`<html lang>`), shows each of `shown`, and no
/// English fixed string is left on it.
fn assert_speaks(page: &HttpResponse, lang: Lang, shown: &[&str]) {
    let body = unescaped(&page.body);
    let start = format!("<!doctype html><html lang={}>", lang.code());
    assert!(body.starts_with(&start), "{body}");
    for s in shown {
        assert!(body.contains(s), "{s:?} missing: {body}");
    }
    let left = english_left(&page.body, lang);
    assert!(left.is_empty(), "English on the page: {left:#?}");
}

/// The "Allow a site" form, posted with the page's CSRF token and `fields`.
async fn post_allow(
    admin: SocketAddr,
    cookie: &str,
    page: &HttpResponse,
    fields: &str,
) -> HttpResponse {
    let csrf = crate::support::http::csrf_of(page);
    let body = format!("csrf={csrf}&name=example.com&duration=1h&{fields}");
    post_form("127.0.0.1", admin, "/allow", cookie, &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_in_german_with_language_de_and_no_english_is_left() {
    let (d, admin, _keep) = start("language = \"de\"\n").await;
    // The browser asks for French: the household's language wins.
    let (cookie, page) = dashboard(admin, "fr-FR,fr;q=0.9").await;
    assert_speaks(
        &page,
        Lang::De,
        &[
            "Eine Seite freigeben",
            "Internet pausieren:",
            "Aktive Freigaben",
            "Letzte Änderungen",
            "Abmelden",
            "Angemeldet als",
            "Anmelden",
            "Passwort",
            "Aktive Minuten pro Stunde",
            "0 Abfragen",
            // The services panel on the child's card.
            "<h3>Dienste</h3>",
            "<optgroup label=\"Kurzvideos\">",
            "<option value=budget>tägliches Zeitbudget</option>",
            "Festlegen",
        ],
    );
    for english in [
        "Allow a site",
        "Pause the internet",
        "Recent changes",
        "Allows in force",
        "Log out",
        "Logged in as",
        "lookups",
        "Password",
        "<h3>Services</h3>",
        "min a day",
        "<optgroup label=\"Short video\">",
    ] {
        assert!(
            !page.body.contains(english),
            "{english:?} left: {}",
            page.body
        );
    }

    // A button that cannot do its work answers in German too.
    let r = post_allow(admin, &cookie, &page, "profile=nope").await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_speaks(&r, Lang::De, &["Nicht freigegeben", "Zurück zur Übersicht"]);

    // An allow in force: its row, its ends and its button.
    let r = post_allow(admin, &cookie, &page, "profile=teen&bedtime=1").await;
    assert_eq!(r.status, 303, "{r:?}");
    let page = http("127.0.0.1", admin, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_speaks(
        &page,
        Lang::De,
        &[
            "bis ",
            ", auch zur Schlafenszeit",
            "von parent",
            "Zurücknehmen",
        ],
    );
    assert!(!page.body.contains("Revoke"), "{}", page.body);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_follows_the_browser_when_no_language_or_country_is_set() {
    let (d, admin, _keep) = start("").await;
    let (_, page) = dashboard(admin, "fr-CH, fr;q=0.9, en;q=0.8").await;
    assert_speaks(
        &page,
        Lang::Fr,
        &[
            "Autoriser un site",
            "Mettre Internet en pause :",
            "Autorisations en vigueur",
            "Se déconnecter",
            "Mot de passe",
        ],
    );

    // A browser asking for a language not shipped gets English.
    let (_, page) = dashboard(admin, "sv-SE").await;
    assert!(page.body.starts_with("<!doctype html><html lang=en>"));
    assert!(page.body.contains("Allow a site") && page.body.contains("Pause the internet:"));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_countrys_language_comes_before_the_browsers() {
    let (d, admin, _keep) = start("country = \"PL\"\n").await;
    let (_, page) = dashboard(admin, "fr").await;
    assert!(
        page.body.starts_with("<!doctype html><html lang=pl>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Odblokuj stronę"), "{}", page.body);
    d.stop().await;
}

/// Values for every variable the dashboard's messages use.
const ARGS: &[(&str, &str)] = &[
    ("name", "Lea"),
    ("who", "mum"),
    ("time", "2026-12-03 20:00"),
    ("category", "gaming"),
    ("file", "/etc/nestguard/lists.toml"),
    ("band", "child"),
    ("next", "teen"),
    ("date", "2026-12-24"),
    ("id", "lea"),
    ("profile", "default"),
    ("h", "2"),
    ("m", "05"),
    ("used", "12"),
    ("allowed", "60"),
    ("from", "16:00"),
    ("to", "18:00"),
    ("days", "Mo Di"),
    ("devices", "aa:bb:cc:dd:ee:ff"),
    ("window", "bedtime"),
    ("address", "127.0.0.1"),
];

#[test]
fn every_dashboard_message_renders_with_its_variables_in_every_language() {
    let ids = dashboard_ids();
    assert!(ids.len() >= 60, "{}", ids.len());
    let mut bad = Vec::new();
    for lang in Lang::ALL {
        for id in &ids {
            // Counts and ages in the forms plurals choose between.
            for n in ["0", "1", "2", "5", "22"] {
                for bedtime in ["yes", "no"] {
                    let mut args = ARGS.to_vec();
                    args.extend([("n", n), ("age", n), ("bedtime", bedtime)]);
                    let s = text(lang, id, &args);
                    if s.trim().is_empty()
                        || s.contains(['{', '}'])
                        || s.contains("  ")
                        || s != s.trim()
                    {
                        bad.push(format!("{}: {id} (n = {n}): {s:?}", lang.code()));
                    }
                }
            }
            let none = text(lang, id, &[("age", "none"), ("name", "Lea")]);
            if id.starts_with("dashboard-sees") && (none.contains("none") || none.contains("{")) {
                bad.push(format!("{}: {id} (no age): {none:?}", lang.code()));
            }
        }
    }
    bad.dedup();
    assert!(
        bad.is_empty(),
        "{} problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
    // Plural forms are chosen, not printed: Polish has three of them.
    let pl = |n: &str| text(Lang::Pl, "dashboard-lookups", &[("n", n)]);
    assert_eq!(
        [pl("1"), pl("3"), pl("5")],
        ["1 zapytanie", "3 zapytania", "5 zapytań"]
    );
    assert_eq!(
        text(Lang::En, "dashboard-lookups", &[("n", "1")]),
        "1 lookup"
    );
}
