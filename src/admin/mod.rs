//! The admin HTTP server (off unless `[admin] enabled = true`; loopback by
//! default): the parents' dashboard, the children's "why was this blocked?"
//! page, a JSON API and Prometheus `/metrics`.
//!
//! Parents log in with a name and the password whose Argon2 hash is in the
//! config for that name (`nestguard passwd [--parent NAME]`); the session is
//! an HttpOnly, SameSite=Strict cookie that knows which parent it is, and
//! every form carries the session's CSRF token. Every change is in the audit
//! trail under the name of the parent who made it. API clients use HTTP
//! Basic with a parent's name and password; monitoring uses the read-only
//! token (`Authorization: Bearer`, `[admin] metrics_token_hash`), which opens
//! `/metrics` and `/api/status` and nothing else. Password guesses are
//! slowed per source and checked one at a time, never locked out; failures
//! are in the audit trail. Allowing a site writes the profile's allow file in
//! the state directory (or a temporary allow), which hot-reloads; the allows
//! in force are listed and can be revoked ([`allows`]). The server bounds
//! its connections in number and time ([`serve`]). `[admin]` reloads with
//! the rest of the config ([`Handle::apply`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use axum_extra::headers::HeaderMapExt as _;
use axum_extra::headers::authorization::{Authorization, Basic, Bearer};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::activity::{self, report};
use crate::config::{AdminConfig, Config};
use crate::dns::resolve::Resolver;
use crate::policy::overrides;
use crate::reload::{FollowsConfig, Reloader};
use crate::words::{Lang, Tr};

pub mod allows;
pub mod auth;
pub mod blockpage;
pub mod checker;
mod child;
mod family;
pub mod metrics;
pub mod pages;
pub mod serve;
mod state;
pub mod throttle;

use auth::{Auth, LoginError, SESSION_COOKIE};
use metrics::AdminCounters;
pub use state::Admin;

/// A desktop notice's words for a block (see `admin::child`).
pub fn notice_words(
    engine: &crate::engine::Engine,
    profile: usize,
    decision: crate::engine::Decision,
    lang: crate::words::Lang,
) -> Option<crate::words::Words> {
    child::notice_words(engine, profile, decision, lang)
}
use state::{Local, Shared, audit, page};
use throttle::Source;

/// The SHA-256 a `sha256:<hex>` config value names (checked when loaded).
fn token_digest(a: &AdminConfig) -> Option<[u8; 32]> {
    let hex = a
        .metrics_token_hash
        .as_ref()?
        .get_ref()
        .strip_prefix("sha256:")?;
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The SHA-256 of a monitoring token, for the config (`nestguard metrics-token`).
pub fn token_hash(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The dashboard as the config in force says it should be. It starts with
/// the daemon; each reload hands it the new config ([`Handle::apply`]):
/// settings a running server can take are swapped in (a new password ends
/// every session), and turning it on or off or moving it starts or stops
/// its listener, so no `[admin]` change waits for a restart.
pub struct Handle {
    resolver: Arc<Resolver>,
    seen: Arc<dyn crate::observe::SeenClients>,
    reloader: Arc<Reloader>,
    totals: Arc<activity::Totals>,
    /// The daemon's, from its start (`[state]` changes need a restart).
    state_dir: PathBuf,
    /// This machine's DNS setup, for `/metrics`.
    machine: metrics::Machine,
    /// The daemon's shutdown: ends whichever server is running.
    stop: CancellationToken,
    tasks: tokio_util::task::TaskTracker,
    now: Mutex<Now>,
}

struct Now {
    /// The `[admin]` table last applied.
    config: AdminConfig,
    /// Where the block page was to listen as that config said ([`blockpage::addrs`]).
    block_page: Vec<SocketAddr>,
    server: Option<Server>,
}

/// A running dashboard.
struct Server {
    admin: Arc<Admin>,
    addr: SocketAddr,
    /// Where its block page listens (those of its addresses that could be bound).
    block_page: Vec<SocketAddr>,
    /// Ends this server only (a child of the daemon's shutdown).
    stop: CancellationToken,
    accepting: tokio::task::JoinHandle<()>,
    /// The block page's accept loops.
    block_page_accepting: Vec<tokio::task::JoinHandle<()>>,
}

/// How long stopping a server waits for its accept loop to let go of the
/// port (it does at once; this only bounds a stuck runtime).
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What the dashboard reads of the running daemon.
pub struct Daemonside {
    pub resolver: Arc<Resolver>,
    pub reloader: Arc<Reloader>,
    pub totals: Arc<activity::Totals>,
    pub seen: Arc<dyn crate::observe::SeenClients>,
    /// This machine's DNS setup, for `/metrics`.
    pub machine: metrics::Machine,
}

/// Starts the admin server if the config enables it; its handle, which a
/// reload updates (the handle gives the bound address).
pub async fn start(
    config: &Config,
    daemon: Daemonside,
    stop: CancellationToken,
    tasks: &tokio_util::task::TaskTracker,
) -> anyhow::Result<Arc<Handle>> {
    let Daemonside {
        resolver,
        reloader,
        totals,
        seen,
        machine,
    } = daemon;
    let handle = Arc::new(Handle {
        resolver,
        seen,
        reloader: reloader.clone(),
        totals,
        state_dir: crate::state::dir(config),
        machine,
        stop,
        tasks: tasks.clone(),
        now: Mutex::new(Now {
            config: config.admin.clone(),
            block_page: blockpage::addrs(config),
            server: None,
        }),
    });
    if config.admin.enabled && !opens_something(&config.admin) {
        no_password();
    }
    let server = handle.launch(config).await?;
    lock(&handle.now).server = server;
    // Weak: the dashboard holds the reloader, and the daemon holds this handle.
    let follower: std::sync::Weak<dyn FollowsConfig> =
        Arc::downgrade(&(handle.clone() as Arc<dyn FollowsConfig>));
    reloader.follow_admin(follower);
    Ok(handle)
}

fn no_password() {
    tracing::error!(
        "[admin] is enabled but has no password_hash, no [[admin.parent]] and no metrics_token_hash: run `nestguard passwd` (or `nestguard metrics-token` for /metrics only); the dashboard stays off"
    );
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether `a` has the dashboard serving: on, with a password or the
/// monitoring token (a fleet machine may have only the token: then only
/// `/metrics` and `/api/status` open, and no password opens the rest).
fn serving(a: &AdminConfig) -> bool {
    a.enabled && opens_something(a)
}

/// Whether any credential opens anything: a parent's password or the monitoring token.
fn opens_something(a: &AdminConfig) -> bool {
    a.has_accounts() || a.metrics_token_hash.is_some()
}

impl Handle {
    /// Where the dashboard listens now, if it runs.
    pub fn addr(&self) -> Option<SocketAddr> {
        lock(&self.now).server.as_ref().map(|s| s.addr)
    }

    /// Where the children's block page listens now (none when the dashboard
    /// does not run: the page's "ask" goes to the dashboard's requests).
    pub fn block_page_addrs(&self) -> Vec<SocketAddr> {
        lock(&self.now)
            .server
            .as_ref()
            .map(|s| s.block_page.clone())
            .unwrap_or_default()
    }

    /// Starts a dashboard server as `config` says, if it says to.
    async fn launch(&self, config: &Config) -> anyhow::Result<Option<Server>> {
        let a = &config.admin;
        if !serving(a) {
            if !blockpage::addrs(config).is_empty() {
                tracing::warn!(
                    "the children's block page needs the dashboard ([admin] enabled with a password): it stays off"
                );
            }
            return Ok(None);
        }
        let db_path = crate::state::layout::activity_db(&self.state_dir);
        let db = activity::store::Store::open_for_admin(&db_path)?;
        let local = Local::of(config)?;
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let listen = listener.local_addr()?;
        let counters = Arc::new(AdminCounters::default());
        let limits = Arc::new(serve::Limits::new(a.max_connections, a.header_read_timeout));
        let reloader = self.reloader.clone();
        let mut registry = metrics::registry(
            self.resolver.clone(),
            self.totals.clone(),
            Arc::new(move || reloader.status()),
            counters.clone(),
        );
        registry.register_collector(Box::new(metrics::Fleet::new(
            &self.state_dir,
            self.machine.clone(),
        )));
        let admin = Arc::new(Admin {
            resolver: self.resolver.clone(),
            reloader: self.reloader.clone(),
            auth: Auth::new(
                &a.accounts(),
                a.session_ttl,
                counters.clone(),
                self.resolver.clock(),
            )?,
            db: Mutex::new(db),
            db_path,
            state_dir: self.state_dir.clone(),
            local: ArcSwap::from_pointee(local),
            listen,
            limits: limits.clone(),
            ask_tokens: Mutex::new(Vec::new()),
            counters: counters.clone(),
            asks_logged: crate::log_every::LogEvery::new(self.resolver.clock()),
            metrics: registry,
            seen: self.seen.clone(),
            metrics_token: ArcSwap::from_pointee(token_digest(a)),
        });
        let app = Router::new()
            .route("/", get(dashboard))
            .route("/login", get(login_page).post(login))
            .route("/logout", post(logout))
            .route("/allow", post(allow))
            .route("/children/{id}/{action}", post(child_action))
            .route("/devices", post(assign_device))
            .route("/allows/revoke", post(revoke_allow))
            .route("/requests/{id}", post(decide_request))
            .route("/blocked", get(child::blocked_page))
            .route("/me", get(child::filtering_page))
            .route("/ask", post(child::ask))
            .route("/api/report", get(api_report))
            .route("/api/status", get(api_status))
            .route("/metrics", get(metrics))
            .with_state(admin.clone());
        tracing::info!(addr = %listen, "admin dashboard listening");
        let stop = self.stop.child_token();
        let (block_page, block_page_accepting) = self
            .launch_block_page(config, &admin, &limits, &counters, &stop)
            .await;
        let accepting = self.tasks.spawn(serve::run(
            listener,
            app,
            limits,
            counters,
            self.resolver.clock().clone(),
            stop.clone(),
            self.tasks.clone(),
        ));
        Ok(Some(Server {
            admin,
            addr: listen,
            block_page,
            stop,
            accepting,
            block_page_accepting,
        }))
    }

    /// Starts the children's block page on each of its addresses, with the
    /// dashboard's state (asks go to its requests) and connection limits. An
    /// address that cannot be bound is logged and left out; the dashboard
    /// runs all the same.
    async fn launch_block_page(
        &self,
        config: &Config,
        admin: &Arc<Admin>,
        limits: &Arc<serve::Limits>,
        counters: &Arc<AdminCounters>,
        stop: &CancellationToken,
    ) -> (Vec<SocketAddr>, Vec<tokio::task::JoinHandle<()>>) {
        let mut bound = Vec::new();
        let mut accepting = Vec::new();
        for addr in blockpage::addrs(config) {
            let listener = match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(%addr, error = %e, "the children's block page cannot listen here");
                    continue;
                }
            };
            let Ok(local) = listener.local_addr() else {
                continue;
            };
            // Every path is the child page; the dashboard's routes are not here.
            let app = Router::new()
                .route("/ask", post(child::ask))
                .fallback(child::child_page)
                .with_state(admin.clone());
            tracing::info!(addr = %local, "children's block page listening");
            bound.push(local);
            accepting.push(self.tasks.spawn(serve::run(
                listener,
                app,
                limits.clone(),
                counters.clone(),
                self.resolver.clock().clone(),
                stop.clone(),
                self.tasks.clone(),
            )));
        }
        (bound, accepting)
    }

    /// Puts a reloaded config's `[admin]` in force: on the running server
    /// where it can take it, else by stopping it and starting another.
    /// Called by the reloader, one reload at a time.
    async fn apply(&self, config: &Config) {
        let new = &config.admin;
        let (old, running) = {
            let now = lock(&self.now);
            (
                now.config.clone(),
                now.server.as_ref().map(|s| (s.admin.clone(), s.addr)),
            )
        };
        let (old_block_page, new_block_page) =
            (lock(&self.now).block_page.clone(), blockpage::addrs(config));
        // The same listener can take the change when it stays on where it is.
        let keep = serving(new) && new.listen == old.listen && new_block_page == old_block_page;
        if let Some((admin, addr)) = &running
            && keep
        {
            update(admin, *addr, &old, config);
            lock(&self.now).config = new.clone();
            return;
        }
        if let Some((_, addr)) = running {
            let why = if !new.enabled {
                "[admin] enabled = false"
            } else if !opens_something(new) {
                "[admin] has no password_hash, no [[admin.parent]] and no metrics_token_hash"
            } else if new.listen != old.listen {
                "[admin] listen changed"
            } else {
                "the block page's addresses changed"
            };
            self.stop_server().await;
            tracing::info!(%addr, "admin dashboard stopped: {why}");
        }
        let had_none = old.enabled && !opens_something(&old);
        if new.enabled && !opens_something(new) && !had_none {
            no_password();
        }
        // A server that should run but does not (turned on, moved, or its
        // port was taken at the last try) is started.
        match self.launch(config).await {
            Ok(server) => lock(&self.now).server = server,
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "the admin dashboard cannot start; it stays off until the next reload"
            ),
        }
        let mut now = lock(&self.now);
        now.config = new.clone();
        now.block_page = new_block_page;
    }

    /// Stops the running server and waits until its ports are free again.
    async fn stop_server(&self) {
        let server = lock(&self.now).server.take();
        if let Some(s) = server {
            s.stop.cancel();
            // Its connections finish on their own (briefly, see `serve`).
            let _ = tokio::time::timeout(RELEASE_WAIT, s.accepting).await;
            for a in s.block_page_accepting {
                let _ = tokio::time::timeout(RELEASE_WAIT, a).await;
            }
        }
    }
}

impl FollowsConfig for Handle {
    fn apply<'a>(
        &'a self,
        config: &'a Config,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(Handle::apply(self, config))
    }
}

/// Swaps what a running dashboard can take from a new `[admin]` and logs
/// each change (never the hash).
fn update(admin: &Admin, addr: SocketAddr, old: &AdminConfig, config: &Config) {
    let new = &config.admin;
    for (parent, change) in admin.auth.set_accounts(&new.accounts()) {
        let (action, detail) = match change {
            auth::Change::Added => ("account added", String::new()),
            auth::Change::NewPassword(ended) => {
                tracing::warn!(
                    %addr,
                    %parent,
                    sessions_ended = ended,
                    "admin dashboard password changed: this parent is signed out everywhere"
                );
                (
                    "password changed",
                    format!("{ended} signed-in sessions ended"),
                )
            }
            auth::Change::Removed(ended) => {
                tracing::warn!(%addr, %parent, sessions_ended = ended, "admin dashboard account removed");
                (
                    "account removed",
                    format!("{ended} signed-in sessions ended"),
                )
            }
        };
        audit(admin, &parent, action, &detail);
    }
    let token = token_digest(new);
    if token != **admin.metrics_token.load() {
        tracing::info!(
            set = token.is_some(),
            "admin dashboard: new monitoring token"
        );
        admin.metrics_token.store(Arc::new(token));
    }
    if new.session_ttl != old.session_ttl {
        admin.auth.set_session_ttl(new.session_ttl);
        tracing::info!(
            session_ttl = %humantime::format_duration(new.session_ttl),
            "admin dashboard: new session time"
        );
    }
    if new.max_connections != old.max_connections
        || new.header_read_timeout != old.header_read_timeout
    {
        admin
            .limits
            .set(new.max_connections, new.header_read_timeout);
        tracing::info!(
            max_connections = new.max_connections,
            header_read_timeout = %humantime::format_duration(new.header_read_timeout),
            "admin dashboard: new connection limits"
        );
    }
    // Help lines come from the rules folder, which a reload may have changed too.
    match Local::of(config) {
        Ok(local) => {
            if local.country != admin.local.load().country {
                tracing::info!(country = %local.country, "admin dashboard: help lines for a new country");
            }
            admin.local.store(Arc::new(local));
        }
        Err(e) => tracing::warn!(
            error = format!("{e:#}"),
            "admin dashboard: cannot read the help lines; the previous ones stay"
        ),
    }
}

/// The session (its token, CSRF token and parent), if the request comes
/// from a logged-in parent.
fn session(admin: &Admin, headers: &HeaderMap) -> Option<(String, auth::SessionInfo)> {
    let jar = CookieJar::from_headers(headers);
    let token = jar.get(SESSION_COOKIE)?.value();
    let info = admin.auth.session(token)?;
    Some((token.to_string(), info))
}

/// Why a form post is refused.
enum Refused {
    NotLoggedIn,
    BadFormToken,
}

impl Refused {
    fn response(self, admin: &Admin, headers: &HeaderMap) -> Response {
        match self {
            Refused::NotLoggedIn => unauthorized_page(admin, headers),
            Refused::BadFormToken => (StatusCode::FORBIDDEN, "bad form token\n").into_response(),
        }
    }
}

/// The logged-in parent of a form post whose CSRF token is the session's.
fn form_session(
    admin: &Admin,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<auth::SessionInfo, Refused> {
    let Some((_, info)) = session(admin, headers) else {
        return Err(Refused::NotLoggedIn);
    };
    if !auth::same(&info.csrf, csrf) {
        return Err(Refused::BadFormToken);
    }
    Ok(info)
}

fn unauthorized_page(admin: &Admin, headers: &HeaderMap) -> Response {
    login_form(
        admin,
        parents_tr(admin, headers),
        StatusCode::UNAUTHORIZED,
        "",
    )
}

/// The parents' language: the household's (`[admin] language`, else the
/// country's), else the browser's, else English.
fn parents_tr(admin: &Admin, headers: &HeaderMap) -> Tr {
    let lang = admin.local.load().language.or_else(|| {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
    });
    Tr::parents(lang.unwrap_or(Lang::En))
}

/// The login form with a note (a message id; empty: none); the name filled
/// in when there is one account.
fn login_form(admin: &Admin, tr: Tr, status: StatusCode, message: &str) -> Response {
    let name = admin.auth.only_parent().unwrap_or_default();
    let message = if message.is_empty() {
        String::new()
    } else {
        tr.get(message)
    };
    page(status, pages::login(tr, &message, &name))
}

/// Who may read an API endpoint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// A parent: a session, or Basic with a parent's name and password.
    Parent,
    /// A parent, or monitoring with the read-only token (`/metrics`, `/api/status`).
    Monitoring,
}

/// Session cookie or HTTP Basic (or, for `Reader::Monitoring`, the bearer
/// token), for the API and `/metrics`.
async fn api_allowed(
    admin: &Admin,
    headers: &HeaderMap,
    peer: SocketAddr,
    reader: Reader,
) -> Result<(), Response> {
    if session(admin, headers).is_some() {
        return Ok(());
    }
    // A bearer token is the monitoring token or nothing: no password check runs.
    if let Some(Authorization(bearer)) = headers.typed_get::<Authorization<Bearer>>() {
        let given = ring::digest::digest(&ring::digest::SHA256, bearer.token().as_bytes());
        let right = (**admin.metrics_token.load())
            .is_some_and(|want| auth::same_bytes(&want, given.as_ref()));
        if right && reader == Reader::Monitoring {
            return Ok(());
        }
        admin
            .counters
            .bearer_refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let text = if right {
            "the monitoring token opens /metrics and /api/status only\n"
        } else {
            "wrong token\n"
        };
        let status = if right {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        return Err((status, text).into_response());
    }
    let deny = |status: StatusCode, text: &'static str| {
        let mut r = (status, text).into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"nestguard\""),
        );
        r
    };
    // Absent, not Basic, or not base64 `user:password`: no check is run.
    let Some(Authorization(basic)) = headers.typed_get::<Authorization<Basic>>() else {
        return Err(deny(StatusCode::UNAUTHORIZED, "authentication required\n"));
    };
    match admin
        .auth
        .basic(
            Source::of(peer, admin.listen),
            basic.username(),
            basic.password(),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e @ (LoginError::TooSoon(_) | LoginError::Busy)) => {
            let text = if e == LoginError::Busy {
                "busy checking passwords; try again shortly\n"
            } else {
                "too soon after a wrong password; try again shortly\n"
            };
            let mut r = (StatusCode::TOO_MANY_REQUESTS, text).into_response();
            retry_after(&mut r, &e);
            Err(r)
        }
        Err(e) => {
            if e == LoginError::Wrong {
                write_failed_logins(admin);
            }
            Err(deny(StatusCode::UNAUTHORIZED, "authentication required\n"))
        }
    }
}

/// `Retry-After` in whole seconds (at least one) for a guess refused unchecked.
fn retry_after(r: &mut Response, e: &LoginError) {
    let secs = match e {
        LoginError::TooSoon(wait) => wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        _ => 1,
    };
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
}

/// Writes wrong-password news to the audit trail: one row per source per
/// [`throttle::AUDIT_PERIOD`], updated as tries come in, so a script
/// hammering the form cannot flood the trail parents read.
fn write_failed_logins(admin: &Admin) {
    let Ok(db) = admin.db.lock() else {
        return;
    };
    let now = admin.resolver.clock().timestamp().as_second();
    let tz = jiff::tz::TimeZone::system();
    for row in admin.auth.take_failure_rows() {
        let since = jiff::Timestamp::from_second(row.since)
            .map(|t| {
                t.to_zoned_datetime(tz.clone())
                    .strftime("%H:%M")
                    .to_string()
            })
            .unwrap_or_default();
        let detail = format!(
            "{} tries since {since}: {} checked and wrong, {} refused unchecked as too soon after the one before",
            row.tries(),
            row.wrong,
            row.too_soon
        );
        match row.id {
            Some(id) => {
                let _ = db.execute(
                    "UPDATE audit SET at = ?1, detail = ?2 WHERE id = ?3",
                    rusqlite::params![now, detail, id],
                );
            }
            None => {
                let inserted = db.execute(
                    "INSERT INTO audit (at, who, action, detail) VALUES (?1, ?2, 'wrong password', ?3)",
                    rusqlite::params![now, row.source.to_string(), detail],
                );
                if inserted.is_ok() {
                    admin.auth.failure_row_written(&row, db.last_insert_rowid());
                }
            }
        }
    }
}

async fn login_page(State(admin): Shared, headers: HeaderMap) -> Response {
    login_form(&admin, parents_tr(&admin, &headers), StatusCode::OK, "")
}

#[derive(Deserialize)]
struct LoginForm {
    /// The parent's name: with one account it may be left out.
    #[serde(default)]
    name: String,
    password: String,
}

async fn login(
    State(admin): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let tr = parents_tr(&admin, &headers);
    let source = Source::of(peer, admin.listen);
    let checked = admin
        .auth
        .check(source, form.name.trim(), form.password)
        .await;
    // Right, but against a password a reload has just replaced: wrong now.
    let checked = checked.and_then(|v| {
        let parent = v.parent().to_string();
        admin
            .auth
            .new_session(v)
            .map(|t| (t, parent))
            .ok_or(LoginError::Wrong)
    });
    match checked {
        Ok((token, parent)) => {
            audit(&admin, &parent, "login", &source.to_string());
            let cookie = Cookie::build((SESSION_COOKIE, token))
                .http_only(true)
                .same_site(SameSite::Strict)
                .path("/")
                .secure(admin.listen.ip().is_loopback());
            (CookieJar::new().add(cookie), Redirect::to("/")).into_response()
        }
        Err(e @ LoginError::TooSoon(_)) => {
            let mut r = login_form(&admin, tr, StatusCode::TOO_MANY_REQUESTS, "login-too-soon");
            retry_after(&mut r, &e);
            r
        }
        Err(e @ LoginError::Busy) => {
            let mut r = login_form(&admin, tr, StatusCode::TOO_MANY_REQUESTS, "login-busy");
            retry_after(&mut r, &e);
            r
        }
        Err(_) => {
            write_failed_logins(&admin);
            login_form(&admin, tr, StatusCode::UNAUTHORIZED, "login-wrong")
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(admin): Shared, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let Some((token, info)) = session(&admin, &headers)
        && auth::same(&info.csrf, &form.csrf)
    {
        admin.auth.logout(&token);
    }
    Redirect::to("/login").into_response()
}

async fn dashboard(State(admin): Shared, headers: HeaderMap) -> Response {
    let Some((_, info)) = session(&admin, &headers) else {
        return unauthorized_page(&admin, &headers);
    };
    let tr = parents_tr(&admin, &headers);
    let engine = admin.resolver.engine();
    let since = admin
        .resolver
        .clock()
        .timestamp()
        .checked_sub(jiff::SignedDuration::from_hours(24))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let today = admin
        .resolver
        .clock()
        .timestamp()
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .date();
    let activity = match report::build(&admin.db_path, since, None) {
        Ok(mut r) => {
            // Services by their names ("YouTube"; ids in the report).
            let services = engine.services();
            for t in r
                .profiles
                .iter_mut()
                .flat_map(|p| p.service_time.iter_mut())
            {
                for (id, _) in &mut t.services {
                    if let Some(def) = services.id_of(id).and_then(|s| services.get(s)) {
                        id.clone_from(&def.name);
                    }
                }
            }
            pages::Activity::of(
                tr,
                family::heads(tr, &admin.resolver, &admin.state_dir),
                &r.profiles,
                today,
            )
        }
        Err(e) => pages::Activity::Unreadable(e),
    };
    let devices = family::unassigned(tr, &admin.resolver, admin.seen.as_ref());
    let children: Vec<(String, String)> = engine
        .children()
        .iter()
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    let pending = pending_requests(&admin);
    // The audit trail, with the latest wrong-password tries.
    write_failed_logins(&admin);
    let recent = recent_audit(&admin);
    page(
        StatusCode::OK,
        pages::dashboard(pages::DashboardPage {
            tr,
            csrf: &info.csrf,
            parent: &info.parent,
            profiles: engine
                .children()
                .iter()
                .map(|c| (c.id.as_str(), c.name.as_str()))
                .chain(
                    engine
                        .profile_ids()
                        .filter(|id| engine.child(id).is_none())
                        .map(|id| (id, id)),
                )
                .collect(),
            pending,
            activity,
            family: pages::Family {
                children,
                devices,
                catalogue: family::catalogue(tr, &admin.resolver),
            },
            audit: recent,
            allows: allows::rows(
                tr,
                &admin.state_dir,
                admin.resolver.clock().timestamp(),
                &admin.local.load().allow_lists,
                &admin.local.load().site_allows,
                &engine,
            ),
        }),
    )
}

fn pending_requests(admin: &Admin) -> Vec<pages::Pending> {
    let engine = admin.resolver.engine();
    let Ok(db) = admin.db.lock() else {
        return Vec::new();
    };
    let Ok(mut stmt) = db.prepare(
        "SELECT id, profile, domain, note, at FROM requests WHERE status = 'pending' ORDER BY id LIMIT 50",
    ) else {
        return Vec::new();
    };
    stmt.query_map([], |r| {
        let profile: String = r.get(1)?;
        let at: i64 = r.get(4)?;
        Ok(pages::Pending {
            id: r.get(0)?,
            // Who asked: the child's name, or the profile of a device no child has.
            who: engine
                .child(&profile)
                .map_or_else(|| profile.clone(), |c| c.name.clone()),
            profile,
            domain: r.get(2)?,
            note: r.get(3)?,
            at: jiff::Timestamp::from_second(at)
                .map(pages::local_time)
                .unwrap_or_default(),
        })
    })
    .map(|rows| rows.filter_map(Result::ok).collect())
    .unwrap_or_default()
}

fn recent_audit(admin: &Admin) -> Vec<pages::AuditRow> {
    let Ok(db) = admin.db.lock() else {
        return Vec::new();
    };
    let Ok(mut stmt) =
        db.prepare("SELECT at, who, action, detail FROM audit ORDER BY id DESC LIMIT 10")
    else {
        return Vec::new();
    };
    stmt.query_map([], |r| {
        let at: i64 = r.get(0)?;
        let when = jiff::Timestamp::from_second(at)
            .map(pages::local_time)
            .unwrap_or_default();
        Ok(pages::AuditRow {
            at: when,
            who: r.get(1)?,
            action: r.get(2)?,
            detail: r.get(3)?,
        })
    })
    .map(|rows| rows.filter_map(Result::ok).collect())
    .unwrap_or_default()
}

#[derive(Deserialize)]
struct AllowForm {
    csrf: String,
    name: String,
    profile: String,
    duration: String,
    /// The "also during bedtime" box: present when ticked.
    bedtime: Option<String>,
}

/// Allows `name` for `profile`, as parent `by`: for a while (a temporary
/// allow) or for good (a line in the profile's allow file;
/// `<profile>.bedtime.txt` when it holds during allow-only windows too).
/// Both are picked up within a second.
fn apply_allow(
    admin: &Admin,
    tr: Tr,
    by: &str,
    name: &str,
    profile: &str,
    duration: &str,
    scope: overrides::Scope,
) -> Result<String, String> {
    let engine = admin.resolver.engine();
    let Some(index) = engine.profile_index(profile) else {
        return Err(format!("no profile `{profile}`"));
    };
    let name = crate::rules::name::normalize(name.trim()).map_err(|e| format!("`{name}`: {e}"))?;
    if let Some(category) = engine.security_block(&name, index) {
        return Err(tr.args(
            "dashboard-security-list",
            &[("name", &name), ("category", &category)],
        ));
    }
    let now = admin.resolver.clock().timestamp();
    let span = match duration {
        "1h" => Some(jiff::SignedDuration::from_hours(1)),
        "1day" => Some(jiff::SignedDuration::from_hours(24)),
        "permanent" => None,
        other => return Err(format!("unknown duration `{other}`")),
    };
    match span {
        Some(span) => {
            let until = now.checked_add(span).map_err(|e| e.to_string())?;
            overrides::add_scoped(
                &crate::state::layout::temporary_allows(&admin.state_dir),
                &name,
                profile,
                until,
                now,
                scope,
                Some(by),
            )?;
        }
        None => {
            crate::policy::allows::add_permanent(&admin.state_dir, profile, &name, scope, by, now)?
        }
    }
    Ok(name)
}

async fn allow(State(admin): Shared, headers: HeaderMap, Form(form): Form<AllowForm>) -> Response {
    let info = match form_session(&admin, &headers, &form.csrf) {
        Ok(info) => info,
        Err(r) => return r.response(&admin, &headers),
    };
    let scope = overrides::Scope::of(form.bedtime.is_some());
    let tr = parents_tr(&admin, &headers);
    match apply_allow(
        &admin,
        tr,
        &info.parent,
        &form.name,
        &form.profile,
        &form.duration,
        scope,
    ) {
        Ok(name) => {
            // Temporary allows are read by the daemon's ticker: refresh now. A
            // permanent one is a rule: in force before the page returns (the
            // file watcher would get there too, a moment later).
            admin.reloader.refresh_live();
            if form.duration == "permanent"
                && let Err(e) = admin
                    .reloader
                    .reload("an allow added on the dashboard")
                    .await
            {
                tracing::warn!(error = %e, "the new allow could not be put in force at once");
            }
            audit(
                &admin,
                &info.parent,
                "allow",
                &format!(
                    "{name} for {} ({}): {}",
                    form.profile,
                    form.duration,
                    scope.describe()
                ),
            );
            Redirect::to("/").into_response()
        }
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            pages::message(tr, &tr.get("dashboard-not-allowed"), &e, true),
        ),
    }
}

/// The Revoke button of an allow in force: out of the state folder, and out
/// of force before the answer (a temporary allow by re-reading what holds
/// now, a permanent one by reloading the rules: losing an allow only blocks
/// more, so nothing waits).
async fn revoke_allow(
    State(admin): Shared,
    headers: HeaderMap,
    Form(form): Form<allows::RevokeForm>,
) -> Response {
    let info = match form_session(&admin, &headers, &form.csrf) {
        Ok(info) => info,
        Err(r) => return r.response(&admin, &headers),
    };
    let tr = parents_tr(&admin, &headers);
    let refuse = |why: &str| {
        page(
            StatusCode::BAD_REQUEST,
            pages::message(tr, &tr.get("dashboard-not-revoked"), why, true),
        )
    };
    let revoked = allows::revoke(&admin.state_dir, &admin.resolver.engine(), &form);
    let what = format!("{} for {} ({})", form.name, form.profile, form.kind);
    match revoked {
        Ok(allows::Revoked::Nothing) => {}
        Ok(allows::Revoked::Temporary) => {
            admin.reloader.refresh_live();
            audit(&admin, &info.parent, "revoke", &what);
        }
        Ok(allows::Revoked::Permanent) => {
            let reloaded = admin
                .reloader
                .reload("an allow revoked on the dashboard")
                .await;
            audit(&admin, &info.parent, "revoke", &what);
            if let Err(e) = reloaded {
                return refuse(&format!(
                    "{} is gone from the allows, but the rules could not be reloaded ({e}); \
                     the previous rules, which still allow it, serve until that is fixed.",
                    form.name
                ));
            }
        }
        Err(e) => return refuse(&e),
    }
    Redirect::to("/").into_response()
}

#[derive(Deserialize)]
struct ChildForm {
    csrf: String,
    /// For a pause: `30m`, `1h`, `2h` or `morning`.
    #[serde(default)]
    length: String,
    /// For more time or a service rule: the service's id.
    #[serde(default)]
    service: String,
    /// The services panel: `block`, `allow`, `hours`, `budget` or `config`.
    #[serde(default)]
    rule: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    minutes: String,
}

/// The logged-in parent and the child a form is about, once the form's
/// token is checked; else the page to answer with.
fn child_form(
    admin: &Admin,
    headers: &HeaderMap,
    csrf: &str,
    child: &str,
) -> Result<(String, crate::policy::children::ChildPlan), Box<Response>> {
    let info =
        form_session(admin, headers, csrf).map_err(|r| Box::new(r.response(admin, headers)))?;
    let plan = admin
        .resolver
        .engine()
        .child(child)
        .cloned()
        .ok_or_else(|| {
            let tr = parents_tr(admin, headers);
            Box::new(page(
                StatusCode::NOT_FOUND,
                pages::message(
                    tr,
                    &tr.get("dashboard-no-child"),
                    &tr.with("dashboard-no-child-text", "id", child),
                    true,
                ),
            ))
        })?;
    Ok((info.parent.to_string(), plan))
}

/// Pause, resume, or confirm a child's new band.
async fn child_action(
    State(admin): Shared,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ChildForm>,
) -> Response {
    let (who, child) = match child_form(&admin, &headers, &form.csrf, &id) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = parents_tr(&admin, &headers);
    let action = match action.as_str() {
        "pause" => family::Action::Pause(form.length),
        "resume" => family::Action::Resume,
        "confirm-band" => family::Action::ConfirmBand,
        "grant" => family::Action::Grant(form.service),
        "service" => family::Action::Service(
            form.service,
            family::ServiceChoice {
                rule: form.rule,
                from: form.from,
                to: form.to,
                days: form.days,
                minutes: form.minutes,
            },
        ),
        _ => return (StatusCode::NOT_FOUND, "no such action\n").into_response(),
    };
    let trigger = match action {
        family::Action::Service(..) => "dashboard: a child's service rule set",
        _ => "dashboard: a child's band confirmed",
    };
    let reloader = admin.reloader.clone();
    let reload = || -> family::Reload { Box::pin(async move { reloader.reload(trigger).await }) };
    match family::act(
        &admin.resolver,
        &admin.state_dir,
        &child,
        action,
        &who,
        reload,
    )
    .await
    {
        Ok((what, detail)) => {
            admin.reloader.refresh_live();
            audit(&admin, &who, what, &detail);
            Redirect::to("/").into_response()
        }
        Err(e) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::message(tr, &tr.get("dashboard-not-done"), &e, true),
        ),
    }
}

#[derive(Deserialize)]
struct AssignForm {
    csrf: String,
    device: String,
    child: String,
    #[serde(default)]
    name: String,
}

/// "This is Leo's tablet".
async fn assign_device(
    State(admin): Shared,
    headers: HeaderMap,
    Form(form): Form<AssignForm>,
) -> Response {
    let (who, child) = match child_form(&admin, &headers, &form.csrf, &form.child) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = parents_tr(&admin, &headers);
    let reloader = admin.reloader.clone();
    let reload = || -> family::Reload {
        Box::pin(async move {
            reloader
                .reload("dashboard: a device given to a child")
                .await
        })
    };
    let assigned = family::assign(
        &admin.resolver,
        &admin.state_dir,
        &child,
        &form.device,
        &form.name,
        &who,
        reload,
    )
    .await;
    match assigned {
        Ok(detail) => {
            audit(&admin, &who, "device", &detail);
            Redirect::to("/").into_response()
        }
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            pages::message(tr, &tr.get("dashboard-not-assigned"), &e, true),
        ),
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
}

async fn decide_request(
    State(admin): Shared,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let info = match form_session(&admin, &headers, &form.csrf) {
        Ok(info) => info,
        Err(r) => return r.response(&admin, &headers),
    };
    let tr = parents_tr(&admin, &headers);
    let found: Option<(String, String)> = admin.db.lock().ok().and_then(|db| {
        db.query_row(
            "SELECT profile, domain FROM requests WHERE id = ?1 AND status = 'pending'",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()
    });
    let Some((profile, domain)) = found else {
        return Redirect::to("/").into_response();
    };
    let status = match form.decision.as_str() {
        "approve-1h" => apply_allow(
            &admin,
            tr,
            &info.parent,
            &domain,
            &profile,
            "1h",
            overrides::Scope::Categories,
        )
        .map(|_| "approved"),
        "approve" => apply_allow(
            &admin,
            tr,
            &info.parent,
            &domain,
            &profile,
            "permanent",
            overrides::Scope::Categories,
        )
        .map(|_| "approved"),
        _ => Ok("declined"),
    };
    let status = status.unwrap_or("declined");
    admin.reloader.refresh_live();
    if let Ok(db) = admin.db.lock() {
        let _ = db.execute(
            "UPDATE requests SET status = ?1, decided_at = ?2 WHERE id = ?3",
            rusqlite::params![status, admin.resolver.clock().timestamp().as_second(), id],
        );
    }
    audit(
        &admin,
        &info.parent,
        status,
        &format!("{domain} for {profile} ({})", form.decision),
    );
    Redirect::to("/").into_response()
}

#[derive(Deserialize)]
struct ReportQuery {
    since: Option<String>,
    profile: Option<String>,
}

async fn api_report(
    State(admin): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Response {
    if let Err(r) = api_allowed(&admin, &headers, peer, Reader::Parent).await {
        return r;
    }
    let since = q.since.as_deref().unwrap_or("7d");
    let Ok(d) = humantime::parse_duration(since) else {
        return (
            StatusCode::BAD_REQUEST,
            "since: a duration such as 24h or 7d\n",
        )
            .into_response();
    };
    let from = jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|s| admin.resolver.clock().timestamp().checked_sub(s).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    match report::build(&admin.db_path, from, q.profile.as_deref()) {
        Ok(r) => json(report::json(&r)),
        Err(e) => (StatusCode::NOT_FOUND, e).into_response(),
    }
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn api_status(
    State(admin): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = api_allowed(&admin, &headers, peer, Reader::Monitoring).await {
        return r;
    }
    json(serde_json::to_string_pretty(&admin.reloader.status()).unwrap_or_default())
}

async fn metrics(
    State(admin): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = api_allowed(&admin, &headers, peer, Reader::Monitoring).await {
        return r;
    }
    match metrics::render(&admin.metrics) {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode /metrics");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot encode the metrics\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_hash_is_plain_sha256_of_the_token() {
        // What `sha256sum` prints for "abc" (FIPS 180-2's example), so a
        // fleet can make the config line without nestguard.
        let hash = token_hash("abc");
        assert_eq!(
            hash,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let config = Config::parse(
            &format!("[admin]\nmetrics_token_hash = \"{hash}\"\n"),
            "t.toml",
            None,
        )
        .unwrap();
        let digest = token_digest(&config.admin).unwrap();
        assert_eq!(digest[..3], [0xba, 0x78, 0x16]);
        assert_eq!(token_digest(&AdminConfig::default()), None);
    }
}
