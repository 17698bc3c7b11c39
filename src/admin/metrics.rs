//! Prometheus `/metrics` (text exposition format 0.0.4).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

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
    if let Some(s) = status {
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
