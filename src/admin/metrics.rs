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
            "Reloads since start by outcome: ok, refused (any reason), unsafe_files (refused: a file or folder others can write), held (a list would lose rules).",
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
