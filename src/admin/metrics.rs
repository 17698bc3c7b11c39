//! Prometheus `/metrics` (text exposition format 0.0.4).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use portable_atomic::AtomicU64;

use crate::activity::Totals;
use crate::dns::resolve::Resolver;
use crate::status::Status;

/// A label value, escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The dashboard's own limits: how often each was reached.
#[derive(Default)]
pub struct AdminCounters {
    /// Argon2 checks run (logins and HTTP Basic).
    pub password_checks: AtomicU64,
    /// Guesses refused unchecked: too soon after the source's last one.
    pub logins_too_soon: AtomicU64,
    /// Guesses refused unchecked: the checking queue was full.
    pub logins_busy: AtomicU64,
    /// Sources dropped from the wrong-password table because it was full.
    pub login_sources_evicted: AtomicU64,
    /// Dashboard connections open now.
    pub connections_open: AtomicU64,
    /// Closed because `max_connections` were open (the oldest idle one, or the new one).
    pub closed_full: AtomicU64,
    /// Closed because a first request's headers did not arrive within `header_read_timeout`.
    pub closed_header_timeout: AtomicU64,
    /// Closed after serving requests, idle for `header_read_timeout` (keep-alive ends).
    pub closed_idle: AtomicU64,
    /// Closed because the connection had been open for the longest allowed.
    pub closed_lifetime: AtomicU64,
    /// Failed `accept` calls (out of descriptors, for instance).
    pub accept_errors: AtomicU64,
    /// Children's asks not stored: the same site was already waiting for the profile.
    pub asks_duplicate: AtomicU64,
    /// ... the asker already had `MAX_ASKS_PER_ASKER` waiting.
    pub asks_asker_full: AtomicU64,
    /// ... the profile already had `MAX_ASKS_PER_PROFILE` waiting.
    pub asks_profile_full: AtomicU64,
    /// ... the queue already had `MAX_ASKS` waiting.
    pub asks_queue_full: AtomicU64,
}

/// The dashboard's counters, appended to [`render`]'s output.
pub fn render_admin(out: &mut String, c: &AdminCounters) {
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    metric(
        out,
        "nestguard_admin_password_checks_total",
        "counter",
        "Password (Argon2) checks run for dashboard logins and HTTP Basic.",
    );
    let _ = writeln!(
        out,
        "nestguard_admin_password_checks_total {}",
        get(&c.password_checks)
    );
    metric(
        out,
        "nestguard_admin_logins_refused_total",
        "counter",
        "Password guesses refused without a check: too soon after the source's last, or the check queue full.",
    );
    for (reason, n) in [("too_soon", &c.logins_too_soon), ("busy", &c.logins_busy)] {
        let _ = writeln!(
            out,
            "nestguard_admin_logins_refused_total{{reason=\"{reason}\"}} {}",
            get(n)
        );
    }
    metric(
        out,
        "nestguard_admin_login_sources_evicted_total",
        "counter",
        "Sources dropped from the wrong-password table because it was full.",
    );
    let _ = writeln!(
        out,
        "nestguard_admin_login_sources_evicted_total {}",
        get(&c.login_sources_evicted)
    );
    metric(
        out,
        "nestguard_admin_connections",
        "gauge",
        "Dashboard connections open.",
    );
    let _ = writeln!(
        out,
        "nestguard_admin_connections {}",
        get(&c.connections_open)
    );
    metric(
        out,
        "nestguard_admin_connections_closed_total",
        "counter",
        "Dashboard connections closed by a limit: max_connections reached, headers not sent within header_read_timeout, idle that long after a request, or open the longest allowed.",
    );
    for (reason, n) in [
        ("full", &c.closed_full),
        ("header_timeout", &c.closed_header_timeout),
        ("idle", &c.closed_idle),
        ("lifetime", &c.closed_lifetime),
    ] {
        let _ = writeln!(
            out,
            "nestguard_admin_connections_closed_total{{reason=\"{reason}\"}} {}",
            get(n)
        );
    }
    metric(
        out,
        "nestguard_admin_accept_errors_total",
        "counter",
        "Failed accepts on the dashboard's socket (for instance, out of descriptors).",
    );
    let _ = writeln!(
        out,
        "nestguard_admin_accept_errors_total {}",
        get(&c.accept_errors)
    );
    metric(
        out,
        "nestguard_admin_asks_refused_total",
        "counter",
        "Children's requests to unblock not stored: already waiting, or a waiting limit reached.",
    );
    for (reason, n) in [
        ("duplicate", &c.asks_duplicate),
        ("asker_full", &c.asks_asker_full),
        ("profile_full", &c.asks_profile_full),
        ("queue_full", &c.asks_queue_full),
    ] {
        let _ = writeln!(
            out,
            "nestguard_admin_asks_refused_total{{reason=\"{reason}\"}} {}",
            get(n)
        );
    }
}

pub fn render(resolver: &Resolver, totals: &Totals, status: Option<&Status>) -> String {
    let c = &resolver.counters;
    let get = |a: &portable_atomic::AtomicU64| a.load(Ordering::Relaxed);
    let mut out = String::new();
    metric(
        &mut out,
        "nestguard_queries_total",
        "counter",
        "DNS queries received.",
    );
    let _ = writeln!(
        out,
        "nestguard_queries_total{{transport=\"udp\"}} {}",
        get(&c.queries_udp)
    );
    let _ = writeln!(
        out,
        "nestguard_queries_total{{transport=\"tcp\"}} {}",
        get(&c.queries_tcp)
    );
    metric(
        &mut out,
        "nestguard_refused_total",
        "counter",
        "Queries refused: the client is not allowed, or over the rate limit.",
    );
    for (reason, n) in [("access", &c.refused_acl), ("rate", &c.refused_rate)] {
        let _ = writeln!(
            out,
            "nestguard_refused_total{{reason=\"{reason}\"}} {}",
            get(n)
        );
    }
    metric(
        &mut out,
        "nestguard_dropped_busy_total",
        "counter",
        "UDP cache misses dropped because max_inflight queries were waiting on upstreams.",
    );
    let _ = writeln!(out, "nestguard_dropped_busy_total {}", get(&c.dropped_busy));
    metric(
        &mut out,
        "nestguard_max_inflight",
        "gauge",
        "Upstream resolutions allowed at once (max_inflight, fitted to the open-file limit).",
    );
    let _ = writeln!(out, "nestguard_max_inflight {}", get(&c.max_inflight));
    metric(
        &mut out,
        "nestguard_max_tcp_clients",
        "gauge",
        "TCP connections served at once (max_tcp_clients, fitted to the open-file limit).",
    );
    let _ = writeln!(out, "nestguard_max_tcp_clients {}", get(&c.max_tcp_clients));
    metric(
        &mut out,
        "nestguard_descriptors_exhausted_total",
        "counter",
        "Times a socket could not be opened or accepted because the process was out of file descriptors.",
    );
    let fds_upstream = resolver.upstreams().fds_exhausted();
    for (at, n) in [
        ("accept", get(&c.fds_exhausted_accept)),
        ("upstream", fds_upstream),
    ] {
        let _ = writeln!(
            out,
            "nestguard_descriptors_exhausted_total{{at=\"{at}\"}} {n}"
        );
    }
    metric(
        &mut out,
        "nestguard_tcp_accept_failures_total",
        "counter",
        "TCP accepts that failed, for any reason (out of descriptors included).",
    );
    let _ = writeln!(
        out,
        "nestguard_tcp_accept_failures_total {}",
        get(&c.accept_failures)
    );
    metric(
        &mut out,
        "nestguard_tcp_pool_full_total",
        "counter",
        "Times every TCP connection slot (max_tcp_clients) was taken when another connection came.",
    );
    let _ = writeln!(
        out,
        "nestguard_tcp_pool_full_total {}",
        get(&c.tcp_pool_full)
    );
    metric(
        &mut out,
        "nestguard_tcp_closed_total",
        "counter",
        "TCP connections closed by a limit: idle ones closed early for room, ones over the per-address cap, ones whose client did not read its answers.",
    );
    for (reason, n) in [
        ("idle_for_room", &c.tcp_closed_idle_early),
        ("per_address", &c.tcp_closed_per_address),
        ("answers_unread", &c.tcp_closed_unread),
    ] {
        let _ = writeln!(
            out,
            "nestguard_tcp_closed_total{{reason=\"{reason}\"}} {}",
            get(n)
        );
    }
    metric(
        &mut out,
        "nestguard_cache_hits_total",
        "counter",
        "Queries answered from the cache.",
    );
    let _ = writeln!(out, "nestguard_cache_hits_total {}", get(&c.cache_hits));
    metric(
        &mut out,
        "nestguard_cache_evictions_total",
        "counter",
        "Cached answers evicted to stay within [cache] max_entries.",
    );
    let _ = writeln!(
        out,
        "nestguard_cache_evictions_total {}",
        resolver.cache().evictions()
    );
    metric(
        &mut out,
        "nestguard_rate_limit_untracked_total",
        "counter",
        "Queries from client networks not rate limited because 100,000 networks are tracked already.",
    );
    let _ = writeln!(
        out,
        "nestguard_rate_limit_untracked_total {}",
        resolver.rate_limit_untracked()
    );
    let o = resolver.owners().counters();
    metric(
        &mut out,
        "nestguard_owner_lookups_total",
        "counter",
        "Socket owner (local OS user) lookups made off the query path, for per-user clients.",
    );
    let _ = writeln!(out, "nestguard_owner_lookups_total {}", get(&o.lookups));
    metric(
        &mut out,
        "nestguard_owner_unknown_total",
        "counter",
        "Queries given the default profile because their socket owner was not known in time: the lookup queue was full, or the lookup was slow.",
    );
    for (reason, n) in [("queue_full", &o.queue_full), ("timeout", &o.timed_out)] {
        let _ = writeln!(
            out,
            "nestguard_owner_unknown_total{{reason=\"{reason}\"}} {}",
            get(n)
        );
    }
    metric(
        &mut out,
        "nestguard_owner_flows_evicted_total",
        "counter",
        "Client flows dropped from the full socket owner map before their time.",
    );
    let _ = writeln!(
        out,
        "nestguard_owner_flows_evicted_total {}",
        get(&o.evicted)
    );
    metric(
        &mut out,
        "nestguard_upstream_queries_total",
        "counter",
        "Questions sent upstream.",
    );
    let _ = writeln!(
        out,
        "nestguard_upstream_queries_total {}",
        get(&c.upstream_queries)
    );
    metric(
        &mut out,
        "nestguard_upstream_failures_total",
        "counter",
        "Upstream questions no upstream answered.",
    );
    let _ = writeln!(
        out,
        "nestguard_upstream_failures_total {}",
        get(&c.upstream_failures)
    );
    metric(
        &mut out,
        "nestguard_upstream_fallback_queries_total",
        "counter",
        "Questions sent to the fallback upstreams, for profiles that fail open.",
    );
    let _ = writeln!(
        out,
        "nestguard_upstream_fallback_queries_total {}",
        get(&c.fallback_queries)
    );
    metric(
        &mut out,
        "nestguard_stale_answers_total",
        "counter",
        "Expired answers served (RFC 8767): every upstream failed, or none answered within cache.stale_answer_timeout.",
    );
    let _ = writeln!(
        out,
        "nestguard_stale_answers_total {}",
        get(&c.stale_answers)
    );
    metric(
        &mut out,
        "nestguard_upstream_seconds_total",
        "counter",
        "Time spent waiting for upstream answers.",
    );
    let _ = writeln!(
        out,
        "nestguard_upstream_seconds_total {:.6}",
        get(&c.upstream_micros) as f64 / 1e6
    );
    metric(
        &mut out,
        "nestguard_decisions_total",
        "counter",
        "Queries by profile, category and action (allowed, blocked, rewritten), as of the last activity flush.",
    );
    for ((profile, category, action), n) in totals.snapshot() {
        let _ = writeln!(
            out,
            "nestguard_decisions_total{{profile=\"{}\",category=\"{}\",action=\"{action}\"}} {n}",
            label(&profile),
            label(&category)
        );
    }
    let w = &totals.writer;
    metric(
        &mut out,
        "nestguard_activity_write_failures_total",
        "counter",
        "Activity database writes or opens that failed (the counts are kept and written later).",
    );
    let _ = writeln!(
        out,
        "nestguard_activity_write_failures_total {}",
        get(&w.write_failures)
    );
    metric(
        &mut out,
        "nestguard_activity_pending_batches",
        "gauge",
        "Batches of activity counts waiting for the database.",
    );
    let _ = writeln!(
        out,
        "nestguard_activity_pending_batches {}",
        get(&w.pending_batches)
    );
    metric(
        &mut out,
        "nestguard_activity_dropped_batches_total",
        "counter",
        "Batches of activity counts dropped because too many waited for the database.",
    );
    let _ = writeln!(
        out,
        "nestguard_activity_dropped_batches_total {}",
        get(&w.dropped_batches)
    );
    if let Some(s) = status {
        metric(
            &mut out,
            "nestguard_reloads_total",
            "counter",
            "Reloads since start by outcome: ok, refused (any reason), unsafe_files (refused: a file or folder others can write), held (a list would lose rules or the change loosens filtering).",
        );
        let r = &s.reloads;
        for (outcome, n) in [
            ("ok", r.ok),
            ("refused", r.refused),
            ("unsafe_files", r.unsafe_files),
            ("held", r.held),
        ] {
            let _ = writeln!(out, "nestguard_reloads_total{{outcome=\"{outcome}\"}} {n}");
        }
        metric(
            &mut out,
            "nestguard_reload_held",
            "gauge",
            "1 while a change is held back until its files are unchanged (or `nestguard reload`).",
        );
        let _ = writeln!(out, "nestguard_reload_held {}", u8::from(s.held.is_some()));
        metric(&mut out, "nestguard_rules", "gauge", "Rules in force.");
        let _ = writeln!(
            out,
            "nestguard_rules{{kind=\"domain\"}} {}",
            s.rules.domain_rules
        );
        let _ = writeln!(
            out,
            "nestguard_rules{{kind=\"keyword\"}} {}",
            s.rules.keywords
        );
        let _ = writeln!(out, "nestguard_rules{{kind=\"regex\"}} {}", s.rules.regexes);
        metric(
            &mut out,
            "nestguard_last_reload_success",
            "gauge",
            "1 if the last reload worked (or none happened), 0 if it was refused.",
        );
        let ok = s.last_reload.as_ref().is_none_or(|r| r.ok);
        let _ = writeln!(out, "nestguard_last_reload_success {}", u8::from(ok));
        metric(
            &mut out,
            "nestguard_start_time_seconds",
            "gauge",
            "When the daemon started (Unix time).",
        );
        let _ = writeln!(
            out,
            "nestguard_start_time_seconds {}",
            s.started.as_second()
        );
    }
    out
}
