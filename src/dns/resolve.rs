//! One query, from packet to answer bytes.
//!
//! The order, and why:
//! 1. Parse (allocation-free). Malformed → FORMERR, responses and runts → dropped.
//! 2. Refuse what a forwarder must not do (zone transfers, non-IN classes).
//! 3. The engine decides for this client's profile (`engine.rs`), before the
//!    cache: the cache holds upstream answers only, so one cache serves every
//!    profile. Blocked names are answered on the spot (`answer.rs`).
//! 4. Cache: a fresh hit is rendered straight into the caller's buffer.
//!    This is the hot path and it neither allocates nor locks.
//! 5. Miss: identical questions in flight share one upstream query; the answer
//!    is cached; if every upstream fails an expired answer is served (RFC 8767),
//!    else the upstream's own SERVFAIL, else ours with EDE 22. With an expired
//!    answer at hand, the client waits for the upstreams only as long as RFC
//!    8767's client response timer (`stale_answer_timeout`), then gets the
//!    expired answer while the refresh goes on in a task of its own.

use portable_atomic::AtomicU64;
use std::cell::Cell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use tokio::sync::oneshot;

use super::answer;
use super::cache::{Answer, Cache, Freshness, Lookup, Shape};
pub use super::handler::{Client, Counters, Fast, Handler, Transport};
use super::limit::{Admit, Gate};
use super::upstream::{Forwarded, Upstreams};
use super::wire::{self, CLASS_IN, MAX_KEY_LEN, Query, QueryError, Rcode};
use crate::engine::{Decision, Engine};
use crate::mac::Mac;
use crate::observe::{Counts, Decided, Observer};
use crate::policy::users::{Flow, Owner, Owners};
use crate::policy::{ForwardedFor, Live, Lookups, Proto, Who};
use crate::rules::services::ServicesSeen;

/// RFC 8914 INFO-CODE 18: Prohibited.
const EDE_PROHIBITED: u16 = 18;
/// RFC 8914 INFO-CODE 22: No Reachable Authority.
const EDE_NO_REACHABLE_AUTHORITY: u16 = 22;
const TCP_LIMIT: usize = 65_535;

impl Client {
    /// The client as the engine matches it: `behind` is the device a trusted
    /// forwarder named, if any.
    fn who(self, transport: Transport, behind: ForwardedFor) -> Who {
        Who {
            peer: self.peer,
            listener: self.listener,
            proto: match transport {
                Transport::Udp => Proto::Udp,
                Transport::Tcp => Proto::Tcp,
            },
            behind,
        }
    }
}

/// One query being answered: what was asked, by whom, and how big the answer may be.
#[derive(Clone, Copy)]
struct Asked<'q> {
    query: &'q Query<'q>,
    who: Who,
    profile: usize,
    shape: Shape,
}

#[derive(Clone)]
enum Outcome {
    Answer(Arc<Answer>, Freshness),
    ServFail,
}

type Waiters = Vec<oneshot::Sender<Outcome>>;

/// The policy in force: the engine, and what holds now for it (schedule
/// windows open, temporary allows). One value, so a query never pairs an
/// engine with another engine's window or profile numbers.
pub struct Current {
    pub engine: Arc<Engine>,
    pub live: Live,
    /// What the observer counts, in this engine's profile and category numbers.
    pub counts: Arc<dyn Counts>,
}

/// Totals of the pipeline's parts, read when `/metrics` is scraped.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub cache_evictions: u64,
    pub upstream_fds_exhausted: u64,
    pub rate_limit_untracked: u64,
    /// Queries naming a device in EDNS options from a peer not trusted to.
    pub forwarded_identities_ignored: u64,
    pub owner_lookups: u64,
    pub owner_queue_full: u64,
    pub owner_timed_out: u64,
    pub owner_flows_evicted: u64,
    /// Connections to stream and DoH upstreams: opened, handshakes, reconnects.
    pub upstream_connections: super::upstream::ConnectionStats,
}

/// What resolving a question needs, shared with the refreshes that outlive
/// the query that started them.
struct Shared {
    cache: Cache,
    upstreams: Upstreams,
    counters: Arc<Counters>,
    inflight: Mutex<HashMap<Box<[u8]>, Waiters>>,
}

pub struct Resolver {
    pub counters: Arc<Counters>,
    /// The access list and the rate limit.
    gate: Gate,
    current: ArcSwap<Current>,
    /// Who counts decided queries (activity), per engine.
    observer: Arc<dyn Observer>,
    lookups: Box<dyn Lookups + Send + Sync>,
    /// Who owns each loopback client's socket, as far as known: the query
    /// path reads it, the miss path asks for what it lacks.
    owners: Owners,
    shared: Arc<Shared>,
    server_payload: u16,
    /// Blocks of local users' lookups, for their desktop notices.
    notices: Arc<crate::notice::queue::Queue>,
}

impl Resolver {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: Engine,
        cache: Cache,
        upstreams: Upstreams,
        server_payload: u16,
        lookups: Box<dyn Lookups + Send + Sync>,
        owners: Owners,
        observer: Arc<dyn Observer>,
        gate: Gate,
    ) -> Resolver {
        let counters = Arc::new(Counters::default());
        Resolver {
            counters: counters.clone(),
            gate,
            current: ArcSwap::from_pointee(Current {
                counts: observer.for_engine(&engine),
                engine: Arc::new(engine),
                live: Live::default(),
            }),
            observer,
            lookups,
            owners,
            shared: Arc::new(Shared {
                cache,
                upstreams,
                counters,
                inflight: Mutex::new(HashMap::new()),
            }),
            server_payload,
            notices: Arc::default(),
        }
    }

    /// The daemon's clock (the cache holds it: entries age by it).
    pub fn clock(&self) -> &crate::clock::Clock {
        self.shared.cache.clock()
    }

    /// Recomputes what holds now for the engine in force (`live` is called
    /// again if a reload swaps the engine meanwhile).
    pub fn update_live(&self, live: impl Fn(&Engine) -> Live) {
        self.current.rcu(|cur| Current {
            engine: cur.engine.clone(),
            live: live(&cur.engine),
            counts: cur.counts.clone(),
        });
    }

    /// Puts a new engine in force, with what holds now for it. Queries already
    /// being answered finish on the engine they started with.
    pub fn set_engine(&self, engine: Arc<Engine>, live: impl Fn(&Engine) -> Live) {
        let live = live(&engine);
        let counts = self.observer.for_engine(&engine);
        self.current.store(Arc::new(Current {
            engine,
            live,
            counts,
        }));
    }

    /// The profile a client gets from the engine in force.
    pub fn profile_of(&self, who: &Who) -> usize {
        self.current
            .load()
            .engine
            .profile_for(who, self.lookups.as_ref())
            .0
    }

    /// The policy in force, with what is counted for it.
    pub fn current(&self) -> Arc<Current> {
        self.current.load_full()
    }

    /// The socket owners known so far, and their counters.
    pub fn owners(&self) -> &Owners {
        &self.owners
    }

    /// A client's MAC address from the neighbour table (off the query path:
    /// for the dashboard's device list).
    pub fn mac_of(&self, ip: std::net::IpAddr) -> Option<crate::mac::Mac> {
        self.lookups.mac(ip)
    }

    /// The lookups a query sees: the owner as far as the flow map knows it
    /// (`resolved`: as the miss path found it).
    fn flow_lookups(&self, resolved: Option<Option<u32>>) -> FlowLookups<'_> {
        FlowLookups {
            base: self.lookups.as_ref(),
            owners: &self.owners,
            resolved,
            unknown: Cell::new(false),
        }
    }

    /// The profile and decision for one query.
    fn decide(
        &self,
        current: &Current,
        query: &Query<'_>,
        who: &Who,
        lookups: &dyn Lookups,
        seen: &ServicesSeen,
    ) -> (usize, Decision) {
        let (engine, live) = (&current.engine, &current.live);
        let (profile, _) = engine.profile_for(who, lookups);
        let decision = engine.decide_noting(
            query.qname_wire(),
            query.qtype,
            profile,
            who.client_ip(),
            live,
            seen,
        );
        (profile, decision)
    }

    /// The engine in force.
    pub fn engine(&self) -> Arc<Engine> {
        self.current.load().engine.clone()
    }

    /// Queries not rate limited because the table of client networks is full.
    pub fn rate_limit_untracked(&self) -> u64 {
        self.gate.untracked()
    }

    /// What `/metrics` shows of the pipeline's parts (the cache, the
    /// upstreams, the rate limiter, the socket-owner map), as plain numbers,
    /// so observers need not know those parts.
    pub fn stats(&self) -> Stats {
        let o = self.owners.counters();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            cache_evictions: self.shared.cache.evictions(),
            upstream_fds_exhausted: self.shared.upstreams.fds_exhausted(),
            rate_limit_untracked: self.gate.untracked(),
            forwarded_identities_ignored: self.gate.identities_ignored(),
            owner_lookups: get(&o.lookups),
            owner_queue_full: get(&o.queue_full),
            owner_timed_out: get(&o.timed_out),
            owner_flows_evicted: get(&o.evicted),
            upstream_connections: self.shared.upstreams.connections(),
        }
    }

    pub fn cache(&self) -> &Cache {
        &self.shared.cache
    }

    pub fn upstreams(&self) -> &Upstreams {
        &self.shared.upstreams
    }

    fn shape(&self, query: &Query<'_>, transport: Transport) -> Shape {
        let limit = match transport {
            Transport::Udp => query.udp_limit(self.server_payload),
            Transport::Tcp => TCP_LIMIT,
        };
        Shape {
            limit,
            server_payload: self.server_payload,
            ttl_cap: u32::MAX,
        }
    }

    /// Steps 1–4. Never allocates once `out` has grown to the size of the answers it carries.
    pub fn answer_fast(
        &self,
        packet: &[u8],
        client: Client,
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> Fast {
        match self.gate.admit(client.peer.ip()) {
            Admit::Yes => {}
            Admit::Denied => {
                self.counters.refused_acl.fetch_add(1, Ordering::Relaxed);
                return self.refuse(packet, "not allowed to use this resolver", out);
            }
            Admit::Limited => {
                self.counters.refused_rate.fetch_add(1, Ordering::Relaxed);
                return self.refuse(packet, "rate limited", out);
            }
        }
        let query = match self.check(packet, out) {
            Ok(q) => q,
            Err(fast) => return fast,
        };
        let shape = self.shape(&query, transport);
        match transport {
            Transport::Udp => &self.counters.queries_udp,
            Transport::Tcp => &self.counters.queries_tcp,
        }
        .fetch_add(1, Ordering::Relaxed);
        let current = self.current.load();
        let behind = self.forwarded_for(client, &query);
        if behind.is_some() {
            self.counters
                .forwarded_identities
                .fetch_add(1, Ordering::Relaxed);
        } else if query.forwarded_for.is_some() {
            self.gate.ignored_identity(client.peer.ip());
        }
        let who = client.who(transport, behind);
        let lookups = self.flow_lookups(None);
        let seen = ServicesSeen::default();
        let (profile, decision) = self.decide(&current, &query, &who, &lookups, &seen);
        if lookups.unknown.get() {
            // Who sent it is not known yet: the miss path finds out, off
            // this thread (which must never wait on the kernel).
            return Fast::Miss;
        }
        let decided = (profile, decision);
        self.answer_decided(&current, &query, who, shape, decided, &seen, out)
    }

    /// Step 3 onwards for a query whose profile and decision are known:
    /// counted for activity, answered if blocked or cached; [`Fast::Miss`]
    /// if it needs an upstream.
    #[allow(clippy::too_many_arguments)]
    fn answer_decided(
        &self,
        current: &Current,
        query: &Query<'_>,
        who: Who,
        shape: Shape,
        (profile, decision): (usize, Decision),
        seen: &ServicesSeen,
        out: &mut Vec<u8>,
    ) -> Fast {
        let query = *query;
        let (engine, live) = (&*current.engine, &current.live);
        let minute = self.clock().minute();
        current.counts.decided(&Decided {
            engine,
            client: who.client_ip(),
            profile,
            decision,
            open_windows: live.windows,
            qname_wire: query.qname_wire(),
            minute,
            services: seen,
        });
        let mut shape = shape;
        if let Some(budget) = engine.metered(&query, (profile, decision), live, seen) {
            live.metering.mark(budget, minute);
            shape.ttl_cap = crate::policy::budget::METERED_TTL;
        }
        if let Decision::Exam(_) = decision {
            self.counters.exam_blocked.fetch_add(1, Ordering::Relaxed);
        }
        self.tell_owner(&who, profile, decision, &query);
        match decision {
            Decision::Forward | Decision::Metered(_) => {}
            // Needs the alias target resolved: the miss path does it.
            d if engine.is_alias(d) => return Fast::Miss,
            _ => {
                answer::write(
                    &query,
                    decision,
                    engine,
                    self.server_payload,
                    shape.limit,
                    out,
                );
                return Fast::Reply;
            }
        }
        let mut key_buf = [0u8; MAX_KEY_LEN];
        let key = query.cache_key(&mut key_buf);
        let now = self.cache().now();
        self.cache().with(key, now, |found| match found {
            Lookup::Fresh(answer) => {
                self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                let asked = Asked {
                    query: &query,
                    who,
                    profile,
                    shape,
                };
                self.render_for(engine, live, answer, &asked, Freshness::Fresh, now, out);
                // Near its end and still asked for: refreshed off this thread.
                if self.cache().policy.prefetch && answer.claim_prefetch(now) {
                    Fast::ReplyPrefetch
                } else {
                    Fast::Reply
                }
            }
            Lookup::Stale(_) | Lookup::Miss => Fast::Miss,
        })
    }

    /// A block of a local user's lookup goes to the notice ring while
    /// agents listen: the socket's owner as the flow map knows it (never
    /// asked for here), nothing when unknown.
    fn tell_owner(&self, who: &Who, profile: usize, decision: Decision, query: &Query<'_>) {
        if !matches!(
            decision,
            Decision::Block(_)
                | Decision::Scheduled(_)
                | Decision::Paused
                | Decision::Exam(_)
                | Decision::Service(..)
        ) || !self.notices.wanted()
        {
            return;
        }
        if let Owner::Known(Some(uid)) = self.owners.cached(&flow_of(who)) {
            self.notices.push(crate::notice::queue::Blocked::new(
                uid,
                profile,
                decision,
                query.qname_wire(),
            ));
        }
    }

    /// The ring of blocks for desktop notices.
    pub fn notices(&self) -> &Arc<crate::notice::queue::Queue> {
        &self.notices
    }

    /// REFUSED for a client that may not ask now, never larger than its
    /// query, so a refusal cannot amplify a reflection attack; nothing at
    /// all for a packet that is not a query. EDE 18 (Prohibited) goes with
    /// it when it fits: with its text, or bare, or not at all.
    fn refuse(&self, packet: &[u8], why: &str, out: &mut Vec<u8>) -> Fast {
        let Ok(q) = wire::parse_query(packet) else {
            return Fast::Drop;
        };
        for ede in [
            Some((EDE_PROHIBITED, why)),
            Some((EDE_PROHIBITED, "")),
            None,
        ] {
            let p = self.server_payload;
            wire::write_empty_response(packet, Some(&q), Rcode::Refused, 0, p, ede, out);
            if out.len() <= packet.len() {
                return Fast::Reply;
            }
        }
        // Header and question can only be larger than the query they come
        // from with an OPT record the query did not pay for: send nothing.
        Fast::Drop
    }

    /// The device the query's EDNS options name, if its sender is a trusted
    /// forwarder; nobody otherwise.
    fn forwarded_for(&self, client: Client, query: &Query<'_>) -> ForwardedFor {
        let named = query.forwarded_for;
        if named.is_some() && self.gate.trusts(client.peer.ip()) {
            named
        } else {
            ForwardedFor::NONE
        }
    }

    /// Steps 1–2: parse, and answer at once what needs no upstream.
    fn check<'p>(&self, packet: &'p [u8], out: &mut Vec<u8>) -> Result<Query<'p>, Fast> {
        let (rcode, query) = match wire::parse_query(packet) {
            // CHAOS queries (version.bind) and other classes are not forwarded.
            Ok(q) if q.qclass != CLASS_IN => (Rcode::Refused, Some(q)),
            Ok(q) if matches!(q.qtype, wire::TYPE_AXFR | wire::TYPE_IXFR) => {
                (Rcode::Refused, Some(q))
            }
            Ok(q) => return Ok(q),
            Err((QueryError::Drop, _)) => return Err(Fast::Drop),
            Err((QueryError::FormErr, q)) => (Rcode::FormErr, q),
            Err((QueryError::NotImp, q)) => (Rcode::NotImp, q),
            Err((QueryError::BadVers, q)) => (Rcode::BadVers, q),
        };
        wire::write_empty_response(
            packet,
            query.as_ref(),
            rcode,
            0,
            self.server_payload,
            None,
            out,
        );
        Err(Fast::Reply)
    }

    /// Step 5, for a packet the fast path returned [`Fast::Miss`] for.
    pub async fn answer_slow(
        &self,
        packet: &[u8],
        client: Client,
        transport: Transport,
        out: &mut Vec<u8>,
    ) {
        let query = match self.check(packet, out) {
            Ok(q) => q,
            Err(_) => return,
        };
        let shape = self.shape(&query, transport);
        let who = client.who(transport, self.forwarded_for(client, &query));
        // One snapshot for the whole query: the profile number decided now
        // means nothing in rules a reload swaps in while the upstream answers.
        let current = self.current.load_full();
        // Owned (a Cell), never borrowed across an await.
        let seen = ServicesSeen::default();
        let (mut decided, unknown) = {
            let lookups = self.flow_lookups(None);
            let decided = self.decide(&current, &query, &who, &lookups, &seen);
            (decided, lookups.unknown.get())
        };
        if unknown {
            // The fast path left this query at "who sent it?": ask, then do
            // what it would have (count it, answer a block or a cached name).
            decided = self.identify(&current, &query, &who).await;
            match self.answer_decided(&current, &query, who, shape, decided, &seen, out) {
                Fast::Reply | Fast::Drop => return,
                Fast::ReplyPrefetch => {
                    // Already off the socket's thread: the refresh gets a task of its own.
                    let mut key_buf = [0u8; MAX_KEY_LEN];
                    let key: Box<[u8]> = query.cache_key(&mut key_buf).into();
                    let (shared, counters) = (self.shared.clone(), self.counters.clone());
                    tokio::spawn(async move { shared.prefetch(&key, &counters).await });
                    return;
                }
                Fast::Miss => {}
            }
        }
        if !unknown
            && !matches!(decided.1, Decision::Forward | Decision::Metered(_))
            && !current.engine.is_alias(decided.1)
        {
            // The fast path saw a miss under the policy then in force, and
            // the one in force now blocks it (a budget ran out, a pause or
            // bedtime began in between): answered as blocked, never
            // forwarded. The fast path has counted it already.
            answer::write(
                &query,
                decided.1,
                &current.engine,
                self.server_payload,
                shape.limit,
                out,
            );
            return;
        }
        let mut shape = shape;
        if current
            .engine
            .metered(&query, decided, &current.live, &seen)
            .is_some()
        {
            shape.ttl_cap = crate::policy::budget::METERED_TTL;
        }
        let (profile, alias, fail_open) = {
            let engine = &current.engine;
            let (profile, decision) = decided;
            // An alias says why, as every answer the household's policy makes does.
            let alias = engine.alias_target(decision).map(|target| {
                let mut buf = [0u8; 256];
                let (code, text) = answer::ede_reason(decision, engine, &mut buf);
                (target, code, text.to_owned())
            });
            (profile, alias, engine.fails_open(profile))
        };
        if let Some((target, code, text)) = alias {
            let alias = Alias {
                target: &target,
                ede: (code, &text),
                ttl_cap: shape.ttl_cap,
            };
            return self
                .answer_alias(&query, alias, shape, fail_open, out)
                .await;
        }
        let mut key_buf = [0u8; MAX_KEY_LEN];
        let key = query.cache_key(&mut key_buf);
        let outcome = self.resolve_for(key, fail_open).await;
        match outcome {
            Outcome::Answer(answer, freshness) => {
                if freshness != Freshness::Fresh {
                    self.counters.stale_answers.fetch_add(1, Ordering::Relaxed);
                }
                let asked = Asked {
                    query: &query,
                    who,
                    profile,
                    shape,
                };
                self.render_for(
                    &current.engine,
                    &current.live,
                    &answer,
                    &asked,
                    freshness,
                    self.cache().now(),
                    out,
                );
            }
            Outcome::ServFail => {
                tracing::debug!(name = %query.qname_text(), qtype = %wire::TypeName(query.qtype), "no upstream answered");
                let ede = Some((EDE_NO_REACHABLE_AUTHORITY, "no upstream answered"));
                wire::write_empty_response(
                    packet,
                    Some(&query),
                    Rcode::ServFail,
                    0,
                    self.server_payload,
                    ede,
                    out,
                );
            }
        }
    }

    /// Refreshes the cached answer to `packet`'s question ([`Fast::ReplyPrefetch`]).
    pub async fn prefetch(&self, packet: &[u8]) {
        let Ok(query) = wire::parse_query(packet) else {
            return;
        };
        let mut key_buf = [0u8; MAX_KEY_LEN];
        let key = query.cache_key(&mut key_buf);
        self.shared.prefetch(key, &self.counters).await;
    }

    /// The profile and decision for a query whose socket owner the flow map
    /// did not know: the owner's profile if the lookup answers in time, else
    /// the default profile, never a looser one for want of an answer (an
    /// address table may name a looser profile for the whole machine).
    async fn identify(&self, current: &Current, query: &Query<'_>, who: &Who) -> (usize, Decision) {
        let engine = &current.engine;
        let flow = flow_of(who);
        match self.owners.resolve(&flow).await {
            Owner::Known(uid) => {
                let lookups = self.flow_lookups(Some(uid));
                let seen = ServicesSeen::default();
                self.decide(current, query, who, &lookups, &seen)
            }
            Owner::Unknown => {
                let profile = engine.default_profile();
                let decision = engine.decide(
                    query.qname_wire(),
                    query.qtype,
                    profile,
                    who.client_ip(),
                    &current.live,
                );
                (profile, decision)
            }
        }
    }

    /// Writes an upstream answer (fresh or cached) for this client, or a blocked
    /// answer if it aliases a name the client's profile blocks (CNAME cloaking).
    #[allow(clippy::too_many_arguments)]
    fn render_for(
        &self,
        engine: &Engine,
        live: &Live,
        answer: &Answer,
        asked: &Asked<'_>,
        freshness: Freshness,
        now: u64,
        out: &mut Vec<u8>,
    ) {
        let (query, shape) = (asked.query, asked.shape);
        match cloaked(engine, live, answer, asked) {
            Some(blocked) => answer::write(
                query,
                blocked,
                engine,
                self.server_payload,
                shape.limit,
                out,
            ),
            None => answer.render(query, now, freshness, shape, out),
        }
    }

    /// Safe search and `$dnsrewrite` CNAMEs: a CNAME from the asked name to the
    /// target, followed by the target's records, resolved through the cache and
    /// upstreams like any other name. Rare enough to re-encode with hickory-proto.
    async fn answer_alias(
        &self,
        query: &Query<'_>,
        alias: Alias<'_>,
        shape: Shape,
        fail_open: bool,
        out: &mut Vec<u8>,
    ) {
        let target = alias.target;
        let mut key = Vec::with_capacity(target.len() + 5);
        key.extend_from_slice(target);
        key.extend_from_slice(&query.qtype.to_be_bytes());
        key.extend_from_slice(&query.qclass.to_be_bytes());
        key.push(u8::from(query.dnssec_ok()) | (u8::from(query.checking_disabled()) << 1));
        let built = match self.resolve_for(&key, fail_open).await {
            Outcome::Answer(answer, _) => {
                alias_response(query, alias, &answer, self.server_payload)
            }
            Outcome::ServFail => None,
        };
        match built {
            Some(bytes) if bytes.len() <= shape.limit => *out = bytes,
            Some(_) => {
                let (p, tc) = (self.server_payload, wire::FLAG_TC);
                wire::write_empty_response(
                    query.packet,
                    Some(query),
                    Rcode::NoError,
                    tc,
                    p,
                    None,
                    out,
                );
            }
            None => {
                let ede = Some((EDE_NO_REACHABLE_AUTHORITY, "no upstream answered"));
                let p = self.server_payload;
                wire::write_empty_response(
                    query.packet,
                    Some(query),
                    Rcode::ServFail,
                    0,
                    p,
                    ede,
                    out,
                );
            }
        }
    }

    /// [`Resolver::resolve`]; then, for a profile that fails open and when no
    /// upstream answered at all, the fallback upstreams. Their answers are not
    /// shared with queries in flight and not cached: the cache serves every
    /// profile, and a fail-closed one must never be given them.
    async fn resolve_for(&self, key: &[u8], fail_open: bool) -> Outcome {
        let outcome = self.shared.resolve(key).await;
        let upstreams = &self.shared.upstreams;
        if !matches!(outcome, Outcome::ServFail) || !fail_open || !upstreams.has_fallbacks() {
            return outcome;
        }
        self.counters
            .fallback_queries
            .fetch_add(1, Ordering::Relaxed);
        match upstreams.forward_fallback(key).await {
            Forwarded::Answer(resp, layout) | Forwarded::Failed(Some((resp, layout))) => {
                tracing::debug!(name = %wire::name_to_text(key), "answered by a fallback upstream");
                let cache = self.cache();
                let answer = Answer::from_upstream(&resp, &layout, &cache.policy, cache.now());
                Outcome::Answer(Arc::new(answer), Freshness::Fresh)
            }
            Forwarded::Failed(None) => Outcome::ServFail,
        }
    }
}

impl Shared {
    /// Resolves `key`, sharing one upstream query among identical questions in flight.
    ///
    /// With an expired answer at hand (serve-stale), the upstream query runs in
    /// a task of its own and this client waits for it only `stale_answer_timeout`
    /// (RFC 8767 §5): then it gets the expired answer, and the refresh goes on
    /// and updates the cache when it lands. Without one, the query is asked
    /// here and waited for as long as the upstreams take.
    async fn resolve(self: &Arc<Self>, key: &[u8]) -> Outcome {
        let stale = self.cache.with(key, self.cache.now(), |found| match found {
            Lookup::Stale(a) => Some(a.clone()),
            Lookup::Fresh(_) | Lookup::Miss => None,
        });
        let (waiter, refresh) = {
            let Ok(mut inflight) = self.inflight.lock() else {
                return Outcome::ServFail;
            };
            match inflight.get_mut(key) {
                Some(waiters) => {
                    let (tx, rx) = oneshot::channel();
                    waiters.push(tx);
                    (Some(rx), false)
                }
                None if stale.is_some() => {
                    let (tx, rx) = oneshot::channel();
                    inflight.insert(key.into(), vec![tx]);
                    (Some(rx), true)
                }
                None => {
                    inflight.insert(key.into(), Vec::new());
                    (None, false)
                }
            }
        };
        let Some(rx) = waiter else {
            let leader = Leader { shared: self, key };
            let outcome = self.forward(key).await;
            leader.finish(&outcome);
            return outcome;
        };
        if refresh {
            let shared = self.clone();
            let key: Box<[u8]> = key.into();
            tokio::spawn(async move {
                let leader = Leader {
                    shared: &shared,
                    key: &key,
                };
                let outcome = shared.forward(&key).await;
                leader.finish(&outcome);
            });
        }
        let Some(stale) = stale else {
            return rx.await.unwrap_or(Outcome::ServFail);
        };
        let policy = &self.cache.policy;
        match tokio::time::timeout(policy.stale_answer_timeout, rx).await {
            Ok(Ok(outcome @ Outcome::Answer(..))) => outcome,
            timed_out_or_failed => {
                if timed_out_or_failed.is_err() {
                    tracing::debug!(name = %wire::name_to_text(key), "upstreams slow: serving stale answer, refreshing meanwhile");
                }
                Outcome::Answer(stale, Freshness::Stale(policy.stale_answer_ttl))
            }
        }
    }

    /// Asks the upstreams for `key` ahead of its cached answer's expiry,
    /// unless a query for it is in flight already (that one refreshes it);
    /// the answer replaces the cached one. Misses for the same question
    /// meanwhile wait for this query rather than sending their own.
    async fn prefetch(&self, key: &[u8], counters: &Counters) {
        {
            let Ok(mut inflight) = self.inflight.lock() else {
                return;
            };
            if inflight.contains_key(key) {
                return;
            }
            inflight.insert(key.into(), Vec::new());
        }
        counters.prefetches.fetch_add(1, Ordering::Relaxed);
        let leader = Leader { shared: self, key };
        let outcome = self.forward(key).await;
        leader.finish(&outcome);
    }

    async fn forward(&self, key: &[u8]) -> Outcome {
        let policy = &self.cache.policy;
        let started = std::time::Instant::now();
        let forwarded = self.upstreams.forward(key).await;
        let c = &self.counters;
        c.upstream_queries.fetch_add(1, Ordering::Relaxed);
        c.upstream_micros.fetch_add(
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if matches!(forwarded, Forwarded::Failed(_)) {
            c.upstream_failures.fetch_add(1, Ordering::Relaxed);
        }
        match forwarded {
            Forwarded::Answer(resp, layout) => {
                let now = self.cache.now();
                let answer = Arc::new(Answer::from_upstream(&resp, &layout, policy, now));
                self.cache.insert(key.into(), answer.clone(), now);
                Outcome::Answer(answer, Freshness::Fresh)
            }
            Forwarded::Failed(fallback) => {
                let now = self.cache.now();
                let stale = self.cache.with(key, now, |found| match found {
                    Lookup::Stale(a) => {
                        Some((a.clone(), Freshness::Stale(policy.stale_answer_ttl)))
                    }
                    // Refreshed by a concurrent query meanwhile.
                    Lookup::Fresh(a) => Some((a.clone(), Freshness::Fresh)),
                    Lookup::Miss => None,
                });
                if let Some((a, freshness)) = stale {
                    if freshness != Freshness::Fresh {
                        tracing::debug!(name = %wire::name_to_text(key), "serving stale answer");
                    }
                    return Outcome::Answer(a, freshness);
                }
                match fallback {
                    Some((resp, layout)) => Outcome::Answer(
                        Arc::new(Answer::from_upstream(&resp, &layout, policy, now)),
                        Freshness::Fresh,
                    ),
                    None => Outcome::ServFail,
                }
            }
        }
    }
}

/// The lookups one query sees: the MAC from the daemon's lookups, and the
/// socket owner only as far as the flow map knows it, so deciding never waits
/// on the kernel. `unknown` notes that the engine asked for an owner the map
/// lacks.
struct FlowLookups<'a> {
    base: &'a dyn Lookups,
    owners: &'a Owners,
    /// The owner the miss path found (overrides the map).
    resolved: Option<Option<u32>>,
    unknown: Cell<bool>,
}

impl Lookups for FlowLookups<'_> {
    fn uid(&self, who: &Who) -> Option<u32> {
        if let Some(uid) = self.resolved {
            return uid;
        }
        match self.owners.cached(&flow_of(who)) {
            Owner::Known(uid) => uid,
            Owner::Unknown => {
                self.unknown.set(true);
                None
            }
        }
    }

    fn mac(&self, ip: IpAddr) -> Option<Mac> {
        self.base.mac(ip)
    }
}

fn flow_of(who: &Who) -> Flow {
    Flow {
        peer: who.peer,
        listener: who.listener,
        proto: who.proto,
    }
}

/// CNAME cloaking: an allowed name whose answer aliases a name this client's
/// profile blocks is answered as blocked (with the target's rule as the reason).
fn cloaked(engine: &Engine, live: &Live, answer: &Answer, asked: &Asked<'_>) -> Option<Decision> {
    let mut name = [0u8; wire::MAX_NAME_LEN + 1];
    let peer = asked.who.client_ip();
    answer.cname_targets().find_map(|at| {
        let len = wire::expand_name(answer.bytes(), at, &mut name)?;
        match engine.decide(&name[..len], asked.query.qtype, asked.profile, peer, live) {
            d @ (Decision::Block(_) | Decision::Service(..)) => Some(d),
            _ => None,
        }
    })
}

/// The task that queries upstream for a key. Dropping it (even mid-await)
/// releases the key and tells every waiter, so no one waits forever.
struct Leader<'a> {
    shared: &'a Shared,
    key: &'a [u8],
}

impl Leader<'_> {
    fn finish(self, outcome: &Outcome) {
        for tx in self.take_waiters() {
            let _ = tx.send(outcome.clone());
        }
        std::mem::forget(self);
    }

    fn take_waiters(&self) -> Waiters {
        self.shared
            .inflight
            .lock()
            .ok()
            .and_then(|mut m| m.remove(self.key))
            .unwrap_or_default()
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        for tx in self.take_waiters() {
            let _ = tx.send(Outcome::ServFail);
        }
    }
}

/// An answer the policy makes with a CNAME: to what, and the Extended DNS
/// Error that says why (17 "Filtered" and the rule, or "safe search").
#[derive(Clone, Copy)]
struct Alias<'a> {
    target: &'a [u8],
    ede: (u16, &'a str),
    /// Longest TTL the answer may carry (a budgeted service's alias: a minute).
    ttl_cap: u32,
}

/// Encodes the safe-search answer: the client's question, `CNAME target`, and the
/// target's answer records (or its negative answer).
fn alias_response(
    query: &Query<'_>,
    alias: Alias<'_>,
    answer: &Answer,
    server_payload: u16,
) -> Option<Vec<u8>> {
    use hickory_proto::op::{Edns, Message, OpCode};
    use hickory_proto::rr::rdata::CNAME;
    use hickory_proto::rr::rdata::opt::EdnsOption;
    use hickory_proto::rr::{Name, RData, Record};

    let target = alias.target;

    let request = Message::from_vec(query.packet).ok()?;
    let upstream = Message::from_vec(answer.bytes()).ok()?;
    let asked = request.queries.first()?.clone();
    let target_name = Name::from_ascii(wire::name_to_text(target)).ok()?;
    let ttl = upstream
        .answers
        .iter()
        .map(|r| r.ttl)
        .min()
        .unwrap_or(300)
        .min(3600)
        .min(alias.ttl_cap);
    let mut response = Message::response(request.metadata.id, OpCode::Query);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.metadata.checking_disabled = request.metadata.checking_disabled;
    response.metadata.response_code = upstream.metadata.response_code;
    response.add_answer(Record::from_rdata(
        asked.name().clone(),
        ttl,
        RData::CNAME(CNAME(target_name)),
    ));
    response.add_query(asked);
    response.add_answers(upstream.answers.into_iter().map(|mut r| {
        r.ttl = r.ttl.min(alias.ttl_cap);
        r
    }));
    response.add_authorities(upstream.authorities);
    if let Some(client_edns) = &request.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(server_payload);
        edns.set_dnssec_ok(client_edns.flags().dnssec_ok);
        let (code, text) = alias.ede;
        let mut ede = code.to_be_bytes().to_vec();
        ede.extend_from_slice(text.as_bytes());
        edns.options_mut()
            .insert(EdnsOption::Unknown(wire::OPT_EDE, ede));
        response.set_edns(edns);
    }
    response.to_vec().ok()
}

impl Handler for Resolver {
    fn answer_fast(
        &self,
        packet: &[u8],
        client: Client,
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> Fast {
        Resolver::answer_fast(self, packet, client, transport, out)
    }

    fn answer_slow<'a>(
        &'a self,
        packet: &'a [u8],
        client: Client,
        transport: Transport,
        out: &'a mut Vec<u8>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(Resolver::answer_slow(self, packet, client, transport, out))
    }

    fn prefetch<'a>(
        &'a self,
        packet: &'a [u8],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(Resolver::prefetch(self, packet))
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn clock(&self) -> &crate::clock::Clock {
        Resolver::clock(self)
    }
}
