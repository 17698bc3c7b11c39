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
//!    else the upstream's own SERVFAIL, else ours with EDE 22.

use portable_atomic::AtomicU64;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use tokio::sync::oneshot;

use super::answer;
use super::cache::{Answer, Cache, Freshness, Lookup, Shape};
use super::limit::{Admit, Gate};
use super::upstream::{Forwarded, Upstreams};
use super::wire::{self, CLASS_IN, MAX_KEY_LEN, Query, QueryError, Rcode};
use crate::activity::{self, Tally};
use crate::clock;
use crate::engine::{Decision, Engine};
use crate::policy::{Live, Lookups, Proto, Who};

/// Who asked, and on which of our addresses.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    pub peer: SocketAddr,
    pub listener: SocketAddr,
}

/// RFC 8914 INFO-CODE 18: Prohibited.
const EDE_PROHIBITED: u16 = 18;
/// RFC 8914 INFO-CODE 22: No Reachable Authority.
const EDE_NO_REACHABLE_AUTHORITY: u16 = 22;
const TCP_LIMIT: usize = 65_535;

/// Which transport the query came on; it decides the size limit of the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Client {
    fn who(self, transport: Transport) -> Who {
        Who {
            peer: self.peer,
            listener: self.listener,
            proto: match transport {
                Transport::Udp => Proto::Udp,
                Transport::Tcp => Proto::Tcp,
            },
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

/// What the fast path did with a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Fast {
    /// `out` holds the response.
    Reply,
    /// Nothing to send.
    Drop,
    /// Needs an upstream: call [`Resolver::answer_slow`] off the receive loop.
    Miss,
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
    /// Activity counters, in this engine's profile and category numbers.
    pub tally: Arc<Tally>,
}

fn tally_for(engine: &Engine) -> Arc<Tally> {
    Arc::new(Tally::new(engine.privacy.clone(), engine.window_count()))
}

/// Running totals for `/metrics` (relaxed atomics; never reset).
#[derive(Default)]
pub struct Counters {
    /// Queries refused: not on the access list, over the rate limit.
    pub refused_acl: AtomicU64,
    pub refused_rate: AtomicU64,
    /// UDP cache misses dropped because `max_inflight` queries were waiting on upstreams.
    pub dropped_busy: AtomicU64,
    pub queries_udp: AtomicU64,
    pub queries_tcp: AtomicU64,
    pub cache_hits: AtomicU64,
    pub upstream_queries: AtomicU64,
    pub upstream_failures: AtomicU64,
    /// Sum of upstream answer times, in microseconds.
    pub upstream_micros: AtomicU64,
    /// Queries sent to the fallback upstreams (profiles that fail open).
    pub fallback_queries: AtomicU64,
    /// TCP accepts that failed, and those of them for want of a file descriptor.
    pub accept_failures: AtomicU64,
    pub fds_exhausted_accept: AtomicU64,
    /// Times every TCP slot was taken when a connection was waiting.
    pub tcp_pool_full: AtomicU64,
    /// Idle TCP connections closed early to make room (RFC 7766 §6.2.3).
    pub tcp_closed_idle_early: AtomicU64,
    /// TCP connections closed (an idle one replaced, or a new one refused)
    /// because their address had `max_tcp_clients_per_address` open.
    pub tcp_closed_per_address: AtomicU64,
    /// TCP connections closed because their client did not read its answers.
    pub tcp_closed_unread: AtomicU64,
    /// Gauges: the limits in force, after fitting them to the open-file limit.
    pub max_inflight: AtomicU64,
    pub max_tcp_clients: AtomicU64,
}

pub struct Resolver {
    pub counters: Counters,
    /// The access list and the rate limit.
    gate: Gate,
    /// When each client was last seen (for devices that stop using the filter).
    pub last_seen: activity::LastSeen,
    current: ArcSwap<Current>,
    /// Whether queries are counted for the activity report.
    activity: bool,
    lookups: Box<dyn Lookups + Send + Sync>,
    cache: Cache,
    upstreams: Upstreams,
    inflight: Mutex<HashMap<Box<[u8]>, Waiters>>,
    server_payload: u16,
}

impl Resolver {
    pub fn new(
        engine: Engine,
        cache: Cache,
        upstreams: Upstreams,
        server_payload: u16,
        lookups: Box<dyn Lookups + Send + Sync>,
        activity: bool,
        gate: Gate,
    ) -> Resolver {
        Resolver {
            counters: Counters::default(),
            gate,
            last_seen: activity::LastSeen::default(),
            current: ArcSwap::from_pointee(Current {
                tally: tally_for(&engine),
                engine: Arc::new(engine),
                live: Live::default(),
            }),
            activity,
            lookups,
            cache,
            upstreams,
            inflight: Mutex::new(HashMap::new()),
            server_payload,
        }
    }

    /// Recomputes what holds now for the engine in force (`live` is called
    /// again if a reload swaps the engine meanwhile).
    pub fn update_live(&self, live: impl Fn(&Engine) -> Live) {
        self.current.rcu(|cur| Current {
            engine: cur.engine.clone(),
            live: live(&cur.engine),
            tally: cur.tally.clone(),
        });
    }

    /// Puts a new engine in force, with what holds now for it. Queries already
    /// being answered finish on the engine they started with.
    pub fn set_engine(&self, engine: Arc<Engine>, live: impl Fn(&Engine) -> Live) {
        let live = live(&engine);
        let tally = tally_for(&engine);
        self.current.store(Arc::new(Current {
            engine,
            live,
            tally,
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

    /// The policy in force, with its activity counters.
    pub fn current(&self) -> Arc<Current> {
        self.current.load_full()
    }

    /// The profile and decision for one query.
    fn decide(
        &self,
        engine: &Engine,
        query: &Query<'_>,
        who: &Who,
        live: &Live,
    ) -> (usize, Decision) {
        let (profile, _) = engine.profile_for(who, self.lookups.as_ref());
        let decision = engine.decide(
            query.qname_wire(),
            query.qtype,
            profile,
            who.peer.ip(),
            live,
        );
        (profile, decision)
    }

    /// The engine in force.
    pub fn engine(&self) -> Arc<Engine> {
        self.current.load().engine.clone()
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn upstreams(&self) -> &Upstreams {
        &self.upstreams
    }

    fn shape(&self, query: &Query<'_>, transport: Transport) -> Shape {
        let limit = match transport {
            Transport::Udp => query.udp_limit(self.server_payload),
            Transport::Tcp => TCP_LIMIT,
        };
        Shape {
            limit,
            server_payload: self.server_payload,
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
        let (engine, live) = (&*current.engine, &current.live);
        let who = client.who(transport);
        let (profile, decision) = self.decide(engine, &query, &who, live);
        if self.activity {
            self.last_seen
                .saw(client.peer.ip(), profile, activity::minute());
            activity::record(
                &current.tally,
                engine,
                profile,
                decision,
                live.windows,
                query.qname_wire(),
            );
        }
        match decision {
            Decision::Forward => {}
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
        let now = clock::now_secs();
        self.cache.with(key, now, |found| match found {
            Lookup::Fresh(answer) => {
                self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                let asked = Asked {
                    query: &query,
                    who,
                    profile,
                    shape,
                };
                self.render_for(engine, live, answer, &asked, Freshness::Fresh, now, out);
                Fast::Reply
            }
            Lookup::Stale(_) | Lookup::Miss => Fast::Miss,
        })
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
        let who = client.who(transport);
        let (profile, alias, fail_open) = {
            let current = self.current.load();
            let engine = &current.engine;
            let (profile, decision) = self.decide(engine, &query, &who, &current.live);
            (
                profile,
                engine.alias_target(decision),
                engine.fails_open(profile),
            )
        };
        if let Some(target) = alias {
            return self
                .answer_alias(&query, &target, shape, fail_open, out)
                .await;
        }
        let mut key_buf = [0u8; MAX_KEY_LEN];
        let key = query.cache_key(&mut key_buf);
        let outcome = self.resolve_for(key, fail_open).await;
        match outcome {
            Outcome::Answer(answer, freshness) => {
                let current = self.current.load();
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
                    clock::now_secs(),
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
        target: &[u8],
        shape: Shape,
        fail_open: bool,
        out: &mut Vec<u8>,
    ) {
        let mut key = Vec::with_capacity(target.len() + 5);
        key.extend_from_slice(target);
        key.extend_from_slice(&query.qtype.to_be_bytes());
        key.extend_from_slice(&query.qclass.to_be_bytes());
        key.push(u8::from(query.dnssec_ok()) | (u8::from(query.checking_disabled()) << 1));
        let built = match self.resolve_for(&key, fail_open).await {
            Outcome::Answer(answer, _) => {
                alias_response(query, target, &answer, self.server_payload)
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
        let outcome = self.resolve(key).await;
        if !matches!(outcome, Outcome::ServFail) || !fail_open || !self.upstreams.has_fallbacks() {
            return outcome;
        }
        self.counters
            .fallback_queries
            .fetch_add(1, Ordering::Relaxed);
        match self.upstreams.forward_fallback(key).await {
            Forwarded::Answer(resp, layout) | Forwarded::Failed(Some((resp, layout))) => {
                tracing::debug!(name = %wire::name_to_text(key), "answered by a fallback upstream");
                let now = clock::now_secs();
                let answer = Answer::from_upstream(&resp, &layout, &self.cache.policy, now);
                Outcome::Answer(Arc::new(answer), Freshness::Fresh)
            }
            Forwarded::Failed(None) => Outcome::ServFail,
        }
    }

    /// Resolves `key`, sharing one upstream query among identical questions in flight.
    async fn resolve(&self, key: &[u8]) -> Outcome {
        let waiter = {
            let Ok(mut inflight) = self.inflight.lock() else {
                return Outcome::ServFail;
            };
            match inflight.get_mut(key) {
                Some(waiters) => {
                    let (tx, rx) = oneshot::channel();
                    waiters.push(tx);
                    Some(rx)
                }
                None => {
                    inflight.insert(key.into(), Vec::new());
                    None
                }
            }
        };
        if let Some(rx) = waiter {
            return rx.await.unwrap_or(Outcome::ServFail);
        }
        let leader = Leader {
            resolver: self,
            key,
        };
        let outcome = self.forward(key).await;
        leader.finish(&outcome);
        outcome
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
                let now = clock::now_secs();
                let answer = Arc::new(Answer::from_upstream(&resp, &layout, policy, now));
                self.cache.insert(key.into(), answer.clone(), now);
                Outcome::Answer(answer, Freshness::Fresh)
            }
            Forwarded::Failed(fallback) => {
                let now = clock::now_secs();
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

/// CNAME cloaking: an allowed name whose answer aliases a name this client's
/// profile blocks is answered as blocked (with the target's rule as the reason).
fn cloaked(engine: &Engine, live: &Live, answer: &Answer, asked: &Asked<'_>) -> Option<Decision> {
    let mut name = [0u8; wire::MAX_NAME_LEN + 1];
    let peer = asked.who.peer.ip();
    answer.cname_targets().find_map(|at| {
        let len = wire::expand_name(answer.bytes(), at, &mut name)?;
        match engine.decide(&name[..len], asked.query.qtype, asked.profile, peer, live) {
            d @ Decision::Block(_) => Some(d),
            _ => None,
        }
    })
}

/// The task that queries upstream for a key. Dropping it (even mid-await)
/// releases the key and tells every waiter, so no one waits forever.
struct Leader<'a> {
    resolver: &'a Resolver,
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
        self.resolver
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

/// Encodes the safe-search answer: the client's question, `CNAME target`, and the
/// target's answer records (or its negative answer).
fn alias_response(
    query: &Query<'_>,
    target: &[u8],
    answer: &Answer,
    server_payload: u16,
) -> Option<Vec<u8>> {
    use hickory_proto::op::{Edns, Message, OpCode};
    use hickory_proto::rr::rdata::CNAME;
    use hickory_proto::rr::{Name, RData, Record};

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
        .min(3600);
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
    response.add_answers(upstream.answers);
    response.add_authorities(upstream.authorities);
    if let Some(client_edns) = &request.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(server_payload);
        edns.set_dnssec_ok(client_edns.flags().dnssec_ok);
        response.set_edns(edns);
    }
    response.to_vec().ok()
}
