//! Prometheus `/metrics` through `prometheus-client`, in the text format
//! 0.0.4 ([`prometheus_text::CONTENT_TYPE`]).
//!
//! The per-query counters stay plain atomics that the DNS path bumps without
//! allocating or locking (tests/alloc_free.rs); they are not moved into
//! prometheus-client's metric families, whose labelled ones take a lock. Two
//! [`Collector`]s read them only when `/metrics` is scraped. Counter names are
//! given here without `_total`: the encoder adds it, so what scrapers see
//! (`nestguard_queries_total`, ...) is unchanged.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use portable_atomic::AtomicU64;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeLabelSet, NoLabelSet,
    prometheus_text,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::activity::Totals;
use crate::dns::resolve::Resolver;
use crate::status::Status;

pub use prometheus_text::CONTENT_TYPE;

/// The dashboard's own limits: how often each was reached.
#[derive(Default, Debug)]
pub struct AdminCounters {
    /// Argon2 checks run (logins and HTTP Basic).
    pub password_checks: AtomicU64,
    /// Guesses refused unchecked: too soon after the source's last one.
    pub logins_too_soon: AtomicU64,
    /// Guesses refused unchecked: the checking queue was full.
    pub logins_busy: AtomicU64,
    /// Sources dropped from the wrong-password table because it was full.
    pub login_sources_evicted: AtomicU64,
    /// Requests with a bearer token that was not the monitoring token, or
    /// that asked for more than `/metrics` and `/api/status`.
    pub bearer_refused: AtomicU64,
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

/// Where the reload status comes from at scrape time (the reloader's, handed
/// in as a function so this module does not depend on the reloader).
pub type StatusSource = Arc<dyn Fn() -> Option<Status> + Send + Sync>;

/// Everything `/metrics` shows, read at scrape time: the DNS side's
/// counters, then the dashboard's.
pub fn registry(
    resolver: Arc<Resolver>,
    totals: Arc<Totals>,
    status: StatusSource,
    admin: Arc<AdminCounters>,
) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(DnsMetrics {
        resolver,
        totals,
        status,
    }));
    registry.register_collector(Box::new(admin));
    registry
}

/// The text a scrape gets.
pub fn render(registry: &Registry) -> Result<String, fmt::Error> {
    let mut out = String::new();
    prometheus_text::encode(&mut out, registry)?;
    Ok(out)
}

fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// One counter family: `name` without `_total` (the encoder adds it), one
/// sample per label set.
fn counter<L: EncodeLabelSet, V: EncodeCounterValue>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, V)>,
) -> fmt::Result {
    let mut family = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in samples {
        family
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, u64>(&v, None)?;
    }
    Ok(())
}

/// One gauge family, one sample per label set.
fn gauge<L: EncodeLabelSet, V: EncodeGaugeValue>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, V)>,
) -> fmt::Result {
    let mut family = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in samples {
        family.encode_family(&labels)?.encode_gauge(&v)?;
    }
    Ok(())
}

/// No labels: the one sample of an unlabelled metric.
const NONE: [(&str, &str); 0] = [];

/// A single label per sample, `key="value"`.
fn by<'a, V: 'a>(
    key: &'static str,
    samples: impl IntoIterator<Item = (&'static str, V)> + 'a,
) -> impl Iterator<Item = ([(&'static str, &'static str); 1], V)> + 'a {
    samples.into_iter().map(move |(v, n)| ([(key, v)], n))
}

impl Collector for AdminCounters {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let c = self;
        counter(
            &mut enc,
            "nestguard_admin_password_checks",
            "Password (Argon2) checks run for dashboard logins and HTTP Basic.",
            [(NONE, get(&c.password_checks))],
        )?;
        counter(
            &mut enc,
            "nestguard_admin_logins_refused",
            "Password guesses refused without a check: too soon after the source's last, or the check queue full.",
            by(
                "reason",
                [
                    ("too_soon", get(&c.logins_too_soon)),
                    ("busy", get(&c.logins_busy)),
                ],
            ),
        )?;
        counter(
            &mut enc,
            "nestguard_admin_bearer_refused",
            "Requests with a bearer token refused: not the monitoring token, or a page it does not open.",
            [(NONE, get(&c.bearer_refused))],
        )?;
        counter(
            &mut enc,
            "nestguard_admin_login_sources_evicted",
            "Sources dropped from the wrong-password table because it was full.",
            [(NONE, get(&c.login_sources_evicted))],
        )?;
        gauge(
            &mut enc,
            "nestguard_admin_connections",
            "Dashboard connections open.",
            [(NONE, get(&c.connections_open))],
        )?;
        counter(
            &mut enc,
            "nestguard_admin_connections_closed",
            "Dashboard connections closed by a limit: max_connections reached, headers not sent within header_read_timeout, idle that long after a request, or open the longest allowed.",
            by(
                "reason",
                [
                    ("full", get(&c.closed_full)),
                    ("header_timeout", get(&c.closed_header_timeout)),
                    ("idle", get(&c.closed_idle)),
                    ("lifetime", get(&c.closed_lifetime)),
                ],
            ),
        )?;
        counter(
            &mut enc,
            "nestguard_admin_accept_errors",
            "Failed accepts on the dashboard's socket (for instance, out of descriptors).",
            [(NONE, get(&c.accept_errors))],
        )?;
        counter(
            &mut enc,
            "nestguard_admin_asks_refused",
            "Children's requests to unblock not stored: already waiting, or a waiting limit reached.",
            by(
                "reason",
                [
                    ("duplicate", get(&c.asks_duplicate)),
                    ("asker_full", get(&c.asks_asker_full)),
                    ("profile_full", get(&c.asks_profile_full)),
                    ("queue_full", get(&c.asks_queue_full)),
                ],
            ),
        )
    }
}

/// The DNS side, the activity writer and the reloads, read at scrape time.
struct DnsMetrics {
    resolver: Arc<Resolver>,
    totals: Arc<Totals>,
    status: StatusSource,
}

impl fmt::Debug for DnsMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsMetrics").finish_non_exhaustive()
    }
}

impl Collector for DnsMetrics {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let resolver = &self.resolver;
        let c = &resolver.counters;
        let stats = resolver.stats();
        let e = &mut enc;
        counter(
            e,
            "nestguard_queries",
            "DNS queries received.",
            by(
                "transport",
                [("udp", get(&c.queries_udp)), ("tcp", get(&c.queries_tcp))],
            ),
        )?;
        counter(
            e,
            "nestguard_refused",
            "Queries refused: the client is not allowed, or over the rate limit.",
            by(
                "reason",
                [
                    ("access", get(&c.refused_acl)),
                    ("rate", get(&c.refused_rate)),
                ],
            ),
        )?;
        counter(
            e,
            "nestguard_forwarded_identities",
            "Queries whose EDNS options (dnsmasq add-mac, add-subnet) named the device asking: used from a trusted forwarder, ignored from anyone else.",
            by(
                "outcome",
                [
                    ("used", get(&c.forwarded_identities)),
                    ("ignored", stats.forwarded_identities_ignored),
                ],
            ),
        )?;
        let current = self.resolver.current();
        counter(
            e,
            "nestguard_budget_slots_full",
            "Daily budgets not enforced because the usage store (512 child/service budgets) was full.",
            [(
                NONE,
                current
                    .live
                    .metering
                    .usage
                    .as_ref()
                    .map_or(0, |u| u.slots_full()),
            )],
        )?;
        counter(
            e,
            "nestguard_dropped_busy",
            "UDP cache misses dropped because max_inflight queries were waiting on upstreams.",
            [(NONE, get(&c.dropped_busy))],
        )?;
        gauge(
            e,
            "nestguard_max_inflight",
            "Upstream resolutions allowed at once (max_inflight, fitted to the open-file limit).",
            [(NONE, get(&c.max_inflight))],
        )?;
        gauge(
            e,
            "nestguard_max_tcp_clients",
            "TCP connections served at once (max_tcp_clients, fitted to the open-file limit).",
            [(NONE, get(&c.max_tcp_clients))],
        )?;
        counter(
            e,
            "nestguard_descriptors_exhausted",
            "Times a socket could not be opened or accepted because the process was out of file descriptors.",
            by(
                "at",
                [
                    ("accept", get(&c.fds_exhausted_accept)),
                    ("upstream", stats.upstream_fds_exhausted),
                ],
            ),
        )?;
        counter(
            e,
            "nestguard_tcp_accept_failures",
            "TCP accepts that failed, for any reason (out of descriptors included).",
            [(NONE, get(&c.accept_failures))],
        )?;
        counter(
            e,
            "nestguard_tcp_pool_full",
            "Times every TCP connection slot (max_tcp_clients) was taken when another connection came.",
            [(NONE, get(&c.tcp_pool_full))],
        )?;
        counter(
            e,
            "nestguard_tcp_closed",
            "TCP connections closed by a limit: idle ones closed early for room, ones over the per-address cap, ones whose client did not read its answers.",
            by(
                "reason",
                [
                    ("idle_for_room", get(&c.tcp_closed_idle_early)),
                    ("per_address", get(&c.tcp_closed_per_address)),
                    ("answers_unread", get(&c.tcp_closed_unread)),
                ],
            ),
        )?;
        counter(
            e,
            "nestguard_exam_blocked",
            "Answers blocked because an exam held for the client (nestguard exam, [[exam]] windows).",
            [(NONE, get(&c.exam_blocked))],
        )?;
        counter(
            e,
            "nestguard_cache_hits",
            "Queries answered from the cache.",
            [(NONE, get(&c.cache_hits))],
        )?;
        counter(
            e,
            "nestguard_cache_evictions",
            "Cached answers evicted to stay within [cache] max_entries.",
            [(NONE, stats.cache_evictions)],
        )?;
        counter(
            e,
            "nestguard_rate_limit_untracked",
            "Queries from client networks not rate limited because 100,000 networks are tracked already.",
            [(NONE, stats.rate_limit_untracked)],
        )?;
        counter(
            e,
            "nestguard_owner_lookups",
            "Socket owner (local OS user) lookups made off the query path, for per-user clients.",
            [(NONE, stats.owner_lookups)],
        )?;
        counter(
            e,
            "nestguard_owner_unknown",
            "Queries given the default profile because their socket owner was not known in time: the lookup queue was full, or the lookup was slow.",
            by(
                "reason",
                [
                    ("queue_full", stats.owner_queue_full),
                    ("timeout", stats.owner_timed_out),
                ],
            ),
        )?;
        let notices = resolver.notices();
        let n = &notices.counters;
        gauge(
            e,
            "nestguard_notice_agents",
            "Desktop notice agents (nestguard notify) connected.",
            [(NONE, notices.agents() as u64)],
        )?;
        counter(
            e,
            "nestguard_notices_sent",
            "Desktop notices sent to agents.",
            [(NONE, get(&n.sent))],
        )?;
        counter(
            e,
            "nestguard_notices_silent",
            "Blocks of local users' lookups that gave no notice: a silent category, or bedtime or a pause.",
            [(NONE, get(&n.silent))],
        )?;
        counter(
            e,
            "nestguard_notices_dropped",
            "Desktop notices or blocks dropped by a limit: the query path's ring full, too many agents connected, or an agent not reading.",
            by(
                "reason",
                [
                    ("ring_full", notices.dropped()),
                    ("agents_full", get(&n.agents_refused)),
                    ("agent_backlog_full", get(&n.agent_backlog_full)),
                ],
            ),
        )?;
        counter(
            e,
            "nestguard_owner_flows_evicted",
            "Client flows dropped from the full socket owner map before their time.",
            [(NONE, stats.owner_flows_evicted)],
        )?;
        counter(
            e,
            "nestguard_upstream_queries",
            "Questions sent upstream.",
            [(NONE, get(&c.upstream_queries))],
        )?;
        counter(
            e,
            "nestguard_upstream_failures",
            "Upstream questions no upstream answered.",
            [(NONE, get(&c.upstream_failures))],
        )?;
        let links = stats.upstream_connections;
        counter(
            e,
            "nestguard_upstream_connections_opened",
            "Connections opened to TCP, DoT and DoH upstreams (each kept open and shared by many queries).",
            [(NONE, links.opened)],
        )?;
        counter(
            e,
            "nestguard_upstream_tls_handshakes",
            "TLS handshakes with DoT and DoH upstreams: full ones, and ones that resumed an earlier session.",
            by(
                "kind",
                [
                    ("full", links.handshakes_full),
                    ("resumed", links.handshakes_resumed),
                ],
            ),
        )?;
        counter(
            e,
            "nestguard_upstream_reconnects",
            "Upstream connections opened after one ended in an error or was closed by the upstream with queries in flight.",
            [(NONE, links.reconnects)],
        )?;
        counter(
            e,
            "nestguard_upstream_resent",
            "Queries sent again on a new connection because the upstream closed theirs under them.",
            [(NONE, links.resent)],
        )?;
        counter(
            e,
            "nestguard_upstream_connect_failures",
            "Connects or TLS handshakes to TCP, DoT and DoH upstreams that failed (retried after a backoff).",
            [(NONE, links.connect_failures)],
        )?;
        counter(
            e,
            "nestguard_upstream_fallback_queries",
            "Questions sent to the fallback upstreams, for profiles that fail open.",
            [(NONE, get(&c.fallback_queries))],
        )?;
        counter(
            e,
            "nestguard_stale_answers",
            "Expired answers served (RFC 8767): every upstream failed, or none answered within cache.stale_answer_timeout.",
            [(NONE, get(&c.stale_answers))],
        )?;
        counter(
            e,
            "nestguard_prefetches",
            "Cached answers refreshed before they expired, because they were asked for in the last tenth of their TTL ([cache] prefetch).",
            [(NONE, get(&c.prefetches))],
        )?;
        counter(
            e,
            "nestguard_prefetches_skipped",
            "Prefetches not made because max_inflight upstream resolutions were under way.",
            [(NONE, get(&c.prefetches_skipped))],
        )?;
        counter(
            e,
            "nestguard_upstream_seconds",
            "Time spent waiting for upstream answers.",
            [(NONE, get(&c.upstream_micros) as f64 / 1e6)],
        )?;
        counter(
            e,
            "nestguard_decisions",
            "Queries by profile, category and action (allowed, blocked, rewritten), as of the last activity flush.",
            self.totals
                .snapshot()
                .into_iter()
                .map(|((profile, category, action), n)| {
                    (
                        [
                            ("profile", profile),
                            ("category", category),
                            ("action", action.to_string()),
                        ],
                        n,
                    )
                }),
        )?;
        let w = &self.totals.writer;
        counter(
            e,
            "nestguard_activity_write_failures",
            "Activity database writes or opens that failed (the counts are kept and written later).",
            [(NONE, get(&w.write_failures))],
        )?;
        gauge(
            e,
            "nestguard_activity_pending_batches",
            "Batches of activity counts waiting for the database.",
            [(NONE, get(&w.pending_batches))],
        )?;
        counter(
            e,
            "nestguard_activity_dropped_batches",
            "Batches of activity counts dropped because too many waited for the database.",
            [(NONE, get(&w.dropped_batches))],
        )?;
        let Some(s) = (self.status)() else {
            return Ok(());
        };
        let r = &s.reloads;
        counter(
            e,
            "nestguard_reloads",
            "Reloads since start by outcome: ok, refused (any reason), unsafe_files (refused: a file or folder others can write), held (a list would lose rules or the change loosens filtering).",
            by(
                "outcome",
                [
                    ("ok", r.ok),
                    ("refused", r.refused),
                    ("unsafe_files", r.unsafe_files),
                    ("held", r.held),
                ],
            ),
        )?;
        gauge(
            e,
            "nestguard_reload_held",
            "1 while a change is held back until its files are unchanged (or `nestguard reload`).",
            [(NONE, u64::from(s.held.is_some()))],
        )?;
        gauge(
            e,
            "nestguard_rules",
            "Rules in force.",
            by(
                "kind",
                [
                    ("domain", s.rules.domain_rules),
                    ("keyword", s.rules.keywords),
                    ("regex", s.rules.regexes),
                ],
            ),
        )?;
        gauge(
            e,
            "nestguard_last_reload_success",
            "1 if the last reload worked (or none happened), 0 if it was refused.",
            [(NONE, u64::from(s.last_reload.as_ref().is_none_or(|r| r.ok)))],
        )?;
        gauge(
            e,
            "nestguard_start_time_seconds",
            "When the daemon started (Unix time).",
            [(NONE, s.started.as_second())],
        )?;
        let p = &s.policy;
        gauge(
            e,
            "nestguard_policy_info",
            "Always 1: the policy in force, as labels: [policy] version and the SHA-256 of the config files read (compare them across a fleet).",
            [(
                [
                    ("version", p.version.clone().unwrap_or_default()),
                    ("config_hash", p.config_hash.clone()),
                ],
                1u64,
            )],
        )?;
        let now = self.resolver.clock().timestamp();
        gauge(
            e,
            "nestguard_list_age_seconds",
            "Seconds since each rule list's file last changed (a download that changed it, or an edit).",
            p.lists.iter().filter_map(|path| {
                let changed = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
                let changed = jiff::Timestamp::try_from(changed).ok()?;
                let age = now.duration_since(changed).as_secs().max(0);
                Some(([("list", path.display().to_string())], age))
            }),
        )
    }
}

/// This machine as nestguard sees it: where its DNS setup is read from,
/// and the addresses nestguard answers DNS on.
#[derive(Clone, Debug)]
pub struct Machine {
    /// `/`, or a copy of one (tests).
    pub root: PathBuf,
    pub dns: Vec<SocketAddr>,
}

/// What a fleet watches beyond the DNS counters: the protection events by
/// kind, and whether the system resolver points at nestguard.
pub struct Fleet {
    events_db: PathBuf,
    /// Where fleet bundles are kept (the version in force, failures counted).
    state_dir: PathBuf,
    machine: Machine,
    /// The last event counted, and the counts by kind: events are counted as
    /// they appear in the database, so the counts only grow (the database
    /// drops old events after the activity retention).
    counted: Mutex<(i64, BTreeMap<String, u64>)>,
}

/// The kinds always shown (from zero), so alerts on them have a series.
const EVENT_KINDS: [&str; 6] = [
    "stopped", "started", "failed", "loosened", "refused", "resolver",
];

impl Fleet {
    pub fn new(state_dir: &std::path::Path, machine: Machine) -> Fleet {
        Fleet {
            events_db: crate::state::layout::activity_db(state_dir),
            state_dir: state_dir.to_path_buf(),
            machine,
            counted: Mutex::new((0, EVENT_KINDS.iter().map(|k| (k.to_string(), 0)).collect())),
        }
    }
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet").finish_non_exhaustive()
    }
}

impl Collector for Fleet {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let counts = {
            let mut c = self
                .counted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (id, kind) in crate::activity::events::kinds_after(&self.events_db, c.0) {
                c.0 = id;
                *c.1.entry(kind).or_default() += 1;
            }
            c.1.clone()
        };
        counter(
            &mut enc,
            "nestguard_protection_events",
            "Protection events by kind, as `nestguard status` lists them: stopped (filtering stopped), started, failed (a start that failed), loosened (a change that blocks less), refused (a change refused: files others can write), resolver (lookups bypassing per-user profiles), and the parents' and teachers' actions.",
            counts.into_iter().map(|(k, n)| ([("kind", k)], n)),
        )?;
        gauge(
            &mut enc,
            "nestguard_system_resolver_nestguard",
            "1 if this machine's system resolver points at nestguard (resolv.conf, or systemd-resolved's drop-in), 0 if not: its own lookups are not filtered.",
            [(
                NONE,
                u64::from(crate::system_resolver::uses_nestguard(
                    &self.machine.root,
                    &self.machine.dns,
                )),
            )],
        )?;
        // Read from the state folder: `nestguard update` counts there too.
        gauge(
            &mut enc,
            "nestguard_fleet_bundle_version",
            "The version of the fleet's signed policy bundle in force; 0 before the first one.",
            [(
                NONE,
                crate::fleet::version_in_force(&self.state_dir).unwrap_or(0),
            )],
        )?;
        let record = crate::fleet::Record::read(&self.state_dir);
        counter(
            &mut enc,
            "nestguard_fleet_bundle_failures",
            "Fleet bundles refused, by reason: download, too_large, signature (not signed by the pinned key, altered or cut short), format, replay (older than the one in force), drop_in (the config would not load with it), write. The bundle in force stays.",
            crate::fleet::REASONS.iter().map(|r| {
                (
                    [("reason", *r)],
                    record.failures.get(*r).copied().unwrap_or(0),
                )
            }),
        )
    }
}
