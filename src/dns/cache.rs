//! The answer cache.
//!
//! An entry is an upstream response kept as encoded bytes, with the offset of
//! every TTL field remembered. A hit copies the bytes into the caller's buffer,
//! writes the client's ID and question over ours and counts the TTLs down:
//! no allocation, no lock (papaya's map is lock-free for readers).
//!
//! Positive answers live for the smallest answer TTL, negative ones for the
//! RFC 2308 SOA rule, both clamped by `min_ttl`/`max_ttl`/`max_negative_ttl`.
//! With serve-stale on (RFC 8767), an expired entry is kept `stale_retention`
//! longer so it can answer when every upstream fails.

use portable_atomic::AtomicU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::Rng;

use super::wire::{self, FLAG_TC, OptOut, Query, Rcode};

/// RFC 8914 INFO-CODE 3: the answer is stale.
const EDE_STALE_ANSWER: u16 = 3;

/// How TTLs are clamped and how long expired entries are kept.
#[derive(Clone, Copy, Debug)]
pub struct TtlPolicy {
    pub min_ttl: u32,
    pub max_ttl: u32,
    pub max_negative_ttl: u32,
    /// Seconds an expired entry is kept for serve-stale; 0 turns serve-stale off.
    pub stale_retention: u32,
    /// TTL given to stale answers (RFC 8767 recommends 30 s).
    pub stale_answer_ttl: u32,
    /// RFC 8767's client response timer: with an expired answer at hand and
    /// the upstreams not answered by then, the client gets the stale answer
    /// while the refresh goes on (1.8 s, so a client's own 2 s timer does not
    /// fire first).
    pub stale_answer_timeout: std::time::Duration,
    /// Whether answers asked for in the last tenth of their TTL are refreshed
    /// early (see [`Answer::claim_prefetch`]).
    pub prefetch: bool,
}

/// One upstream response, ready to be replayed to any client that asks the same question.
#[derive(Debug)]
pub struct Answer {
    /// The response without its OPT record, ID zeroed.
    bytes: Box<[u8]>,
    question_end: usize,
    /// Offsets of the TTL fields in `bytes`; their stored values are already clamped.
    ttl_offsets: Box<[u32]>,
    /// Extended DNS Error options the upstream attached, passed on to EDNS clients.
    ede_options: Box<[u8]>,
    /// Offsets of CNAME targets in `bytes` (answer section), for the cloaking check.
    cname_targets: Box<[u32]>,
    ext_rcode: u8,
    /// Lifetime in seconds from `stored_at`; 0 means "do not cache".
    ttl: u32,
    stored_at: u64,
    /// Set by the first query that asked for a refresh (prefetch): one per answer.
    prefetch_claimed: AtomicBool,
}

/// How an answer is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Past its TTL, served because resolution failed (RFC 8767), with this TTL.
    Stale(u32),
}

/// Size limits of the response being written.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Most bytes the response may take (the client's UDP size, or 65535 on TCP).
    pub limit: usize,
    /// UDP payload size we advertise in our OPT record.
    pub server_payload: u16,
    /// Longest TTL the answer may carry (`u32::MAX`: as cached). Answers
    /// for a service on a daily budget live a minute, so a device keeps
    /// asking while it uses it and a cut-off takes effect soon.
    pub ttl_cap: u32,
}

impl Answer {
    /// Builds an answer from a checked upstream response.
    pub fn from_upstream(
        msg: &[u8],
        layout: &wire::ResponseLayout,
        policy: &TtlPolicy,
        now: u64,
    ) -> Answer {
        // Drop the OPT record: the client gets one of ours (or none, if it sent none).
        // If records follow the OPT (unusual), they are additional data and are dropped
        // with it rather than re-encoding the message.
        let (body_end, arcount) = match layout.opt {
            Some((start, _)) => (start, layout.additional_before_opt),
            None => (msg.len(), wire::read_u16(msg, 10)),
        };
        let mut bytes = msg[..body_end].to_vec();
        wire::write_u16(&mut bytes, 0, 0);
        wire::write_u16(&mut bytes, 10, arcount);

        let negative = layout.is_negative();
        let ttl = if layout.flags & FLAG_TC != 0 {
            0
        } else if negative {
            layout.negative_ttl.map_or(0, |t| {
                t.clamp(policy.min_ttl, policy.max_negative_ttl.max(policy.min_ttl))
            })
        } else if layout.rcode == 0 {
            layout
                .min_answer_ttl
                .map_or(0, |t| t.clamp(policy.min_ttl, policy.max_ttl))
        } else {
            0 // SERVFAIL, REFUSED and friends are passed on, never cached.
        };
        let cap = if negative { ttl } else { policy.max_ttl };
        let ttl_offsets: Box<[u32]> = layout
            .ttl_offsets
            .iter()
            .filter(|&&at| at < body_end)
            .map(|&at| at as u32)
            .collect();
        if ttl > 0 {
            for &at in ttl_offsets.iter() {
                let at = at as usize;
                let t = wire::read_u32(&bytes, at)
                    .clamp(policy.min_ttl, policy.max_ttl.max(policy.min_ttl));
                wire::write_u32(&mut bytes, at, t.min(cap));
            }
        }
        let cname_targets = layout
            .cname_targets
            .iter()
            .filter(|&&at| at < body_end)
            .map(|&at| at as u32)
            .collect();
        let ede_options = layout
            .opt_options
            .map(|(s, e)| wire::keep_ede_options(&msg[s..e]))
            .unwrap_or_default();
        Answer {
            bytes: bytes.into_boxed_slice(),
            question_end: layout.question_end,
            ttl_offsets,
            ede_options: ede_options.into_boxed_slice(),
            cname_targets,
            ext_rcode: layout.ext_rcode,
            ttl,
            stored_at: now,
            prefetch_claimed: AtomicBool::new(false),
        }
    }

    /// The CNAME targets of the answer, each as (message, offset) for [`wire::expand_name`].
    pub fn cname_targets(&self) -> impl Iterator<Item = usize> + '_ {
        self.cname_targets.iter().map(|&at| at as usize)
    }

    /// The stored response (ID zeroed, no OPT record).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn is_cacheable(&self) -> bool {
        self.ttl > 0
    }

    pub fn expires_at(&self) -> u64 {
        self.stored_at + u64::from(self.ttl)
    }

    /// Whether this answer, asked for at `now`, should be refreshed before
    /// it expires: it is in the last tenth of its TTL (as unbound's
    /// `prefetch`), and no earlier query asked for the refresh. True once per
    /// answer; a refresh replaces the answer with a new one. Lock- and
    /// allocation-free (it runs on the cache-hit path).
    pub fn claim_prefetch(&self, now: u64) -> bool {
        let left = self.expires_at().saturating_sub(now);
        left > 0
            && left * 10 <= u64::from(self.ttl)
            && !self.prefetch_claimed.load(Ordering::Relaxed)
            && !self.prefetch_claimed.swap(true, Ordering::Relaxed)
    }

    pub fn rcode(&self) -> u8 {
        self.bytes[3] & 0x0f
    }

    /// Writes this answer for `query` into `out`: the client's ID, flags and question,
    /// TTLs counted down to `now`, an OPT record if the client sent one, and TC with no
    /// records if it does not fit in `limit` bytes.
    pub fn render(
        &self,
        query: &Query<'_>,
        now: u64,
        freshness: Freshness,
        shape: Shape,
        out: &mut Vec<u8>,
    ) {
        out.clear();
        out.extend_from_slice(&self.bytes);
        let flags = wire::relayed_flags(wire::read_u16(out, 2), query);
        wire::write_u16(out, 0, query.id());
        wire::write_u16(out, 2, flags);
        // Same name, same length: the client's spelling (0x20 case) goes back to it.
        out[wire::HEADER_LEN..self.question_end].copy_from_slice(query.question());

        let elapsed = now.saturating_sub(self.stored_at).min(u64::from(u32::MAX)) as u32;
        for &at in self.ttl_offsets.iter() {
            let at = at as usize;
            let ttl = match freshness {
                Freshness::Fresh => wire::read_u32(&self.bytes, at).saturating_sub(elapsed),
                Freshness::Stale(ttl) => ttl,
            };
            wire::write_u32(out, at, ttl.min(shape.ttl_cap));
        }
        if let Some(edns) = query.edns {
            let opt = OptOut {
                payload: shape.server_payload,
                dnssec_ok: edns.dnssec_ok,
                ext_rcode: self.ext_rcode,
                ede: matches!(freshness, Freshness::Stale(_)).then_some((EDE_STALE_ANSWER, "")),
                raw_options: &self.ede_options,
            };
            opt.write(out);
            let arcount = wire::read_u16(out, 10) + 1;
            wire::write_u16(out, 10, arcount);
        }
        if out.len() > shape.limit {
            let rcode = match self.rcode() {
                3 => Rcode::NxDomain,
                2 => Rcode::ServFail,
                _ => Rcode::NoError,
            };
            let packet = query.packet;
            wire::write_empty_response(
                packet,
                Some(query),
                rcode,
                FLAG_TC,
                shape.server_payload,
                None,
                out,
            );
        }
    }
}

/// What a lookup found.
pub enum Lookup<'g> {
    Fresh(&'g Arc<Answer>),
    Stale(&'g Arc<Answer>),
    Miss,
}

/// foldhash, seeded per process: several times faster than SipHash on a
/// 20-byte key, and still not predictable by a client choosing names.
type Hasher = foldhash::fast::RandomState;
type Map = papaya::HashMap<Box<[u8]>, Arc<Answer>, Hasher>;

/// A bounded, concurrent map from question to answer.
pub struct Cache {
    map: Map,
    max_entries: usize,
    pub policy: TtlPolicy,
    evictions: AtomicU64,
    /// The daemon's clock: every entry's age is measured by its monotonic side.
    clock: crate::clock::Clock,
}

impl Cache {
    pub fn new(max_entries: usize, policy: TtlPolicy, clock: crate::clock::Clock) -> Cache {
        Cache {
            map: papaya::HashMap::builder()
                .hasher(Hasher::default())
                .capacity(max_entries.min(1 << 16))
                .resize_mode(papaya::ResizeMode::Blocking)
                .build(),
            max_entries: max_entries.max(1),
            policy,
            evictions: AtomicU64::new(0),
            clock,
        }
    }

    /// Now, in the seconds entries are stored and expire in.
    pub fn now(&self) -> u64 {
        self.clock.now_secs()
    }

    /// The clock entries age by (the daemon's).
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    /// Runs `f` on what the cache holds for `key` at `now`. The reference
    /// is only valid inside `f`, which is what keeps the lookup lock-free.
    pub fn with<R>(&self, key: &[u8], now: u64, f: impl FnOnce(Lookup<'_>) -> R) -> R {
        let map = self.map.pin();
        let found = match map.get(key) {
            Some(a) if now < a.expires_at() => Lookup::Fresh(a),
            Some(a) if now < self.retained_until(a) => Lookup::Stale(a),
            _ => Lookup::Miss,
        };
        f(found)
    }

    pub fn serves_stale(&self) -> bool {
        self.policy.stale_retention > 0
    }

    fn retained_until(&self, a: &Answer) -> u64 {
        a.expires_at() + u64::from(self.policy.stale_retention)
    }

    /// Stores a cacheable answer, evicting if the cache is full.
    pub fn insert(&self, key: Box<[u8]>, answer: Arc<Answer>, now: u64) {
        if !answer.is_cacheable() {
            return;
        }
        let map = self.map.pin();
        if map.len() >= self.max_entries && !map.contains_key(&key) {
            self.evict(&map, now);
        }
        map.insert(key, answer);
    }

    /// Makes room: a batch of about 1% of capacity, chosen from a sample that starts
    /// at a random place in the table, preferring entries past retention, then those
    /// closest to expiry. Runs only on the miss path.
    fn evict(
        &self,
        map: &papaya::HashMapRef<'_, Box<[u8]>, Arc<Answer>, Hasher, papaya::LocalGuard<'_>>,
        now: u64,
    ) {
        let batch = (self.max_entries / 100).clamp(1, 1024);
        let len = map.len();
        let skip = if len > 4 * batch {
            rand::rng().random_range(0..len - 4 * batch)
        } else {
            0
        };
        let mut sample: Vec<(u64, &Box<[u8]>)> = map
            .iter()
            .skip(skip)
            .take(4 * batch)
            .map(|(k, a)| {
                let until = self.retained_until(a);
                (if until <= now { 0 } else { a.expires_at() }, k)
            })
            .collect();
        sample.sort_unstable_by_key(|(rank, _)| *rank);
        for (_, key) in sample.into_iter().take(batch) {
            if map.remove(key).is_some() {
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Drops every entry past its retention. Called periodically in the background.
    pub fn sweep(&self, now: u64) -> usize {
        let map = self.map.pin();
        let before = map.len();
        map.retain(|_, a| self.retained_until(a) > now);
        before.saturating_sub(map.len())
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode, Query as HQuery};
    use hickory_proto::rr::{Name, RData, Record, RecordType, rdata::A};

    const POLICY: TtlPolicy = TtlPolicy {
        min_ttl: 0,
        max_ttl: 86_400,
        max_negative_ttl: 3_600,
        stale_retention: 3_600,
        stale_answer_ttl: 30,
        stale_answer_timeout: std::time::Duration::from_millis(1800),
        prefetch: true,
    };

    fn client_query(name: &str, id: u16) -> Vec<u8> {
        let mut m = Message::new(id, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(HQuery::query(
            Name::from_ascii(name).unwrap(),
            RecordType::A,
        ));
        m.to_vec().unwrap()
    }

    fn upstream_answer(key: &[u8], id: u16, ttl: u32) -> (Vec<u8>, wire::ResponseLayout) {
        let mut q = Vec::new();
        wire::write_upstream_query(key, id, 1232, &mut q);
        let mut m = Message::from_vec(&q).unwrap();
        m.metadata.message_type = MessageType::Response;
        let name = m.queries[0].name().clone();
        m.add_answer(Record::from_rdata(
            name,
            ttl,
            RData::A(A::new(192, 0, 2, 1)),
        ));
        let bytes = m.to_vec().unwrap();
        let layout = wire::scan_response(&bytes, id, key).unwrap();
        (bytes, layout)
    }

    #[test]
    fn hit_patches_id_case_and_ttl() {
        let cache = Cache::new(10, POLICY, crate::clock::Clock::system());
        let q1 = client_query("Example.COM.", 7);
        let query = wire::parse_query(&q1).unwrap();
        let mut kb = [0; wire::MAX_KEY_LEN];
        let key = query.cache_key(&mut kb).to_vec();
        let (bytes, layout) = upstream_answer(&key, 99, 300);
        let answer = Arc::new(Answer::from_upstream(&bytes, &layout, &POLICY, 100));
        cache.insert(key.clone().into(), answer, 100);

        let q2 = client_query("eXample.com.", 4242);
        let query = wire::parse_query(&q2).unwrap();
        let mut out = Vec::new();
        cache.with(query.cache_key(&mut kb), 110, |found| match found {
            Lookup::Fresh(a) => a.render(
                &query,
                110,
                Freshness::Fresh,
                Shape {
                    limit: 512,
                    server_payload: 1232,
                    ttl_cap: u32::MAX,
                },
                &mut out,
            ),
            _ => panic!("expected a fresh hit"),
        });
        let m = Message::from_vec(&out).unwrap();
        assert_eq!(m.metadata.id, 4242);
        assert_eq!(m.queries[0].name().to_ascii(), "eXample.com.");
        assert_eq!(m.answers[0].ttl, 290);
        assert!(m.edns.is_none(), "no OPT for a client that sent none");

        cache.with(&key, 400, |found| {
            assert!(matches!(found, Lookup::Stale(_)))
        });
        cache.with(&key, 400 + 3_600, |found| {
            assert!(matches!(found, Lookup::Miss))
        });
    }

    #[test]
    fn prefetch_is_claimed_once_in_the_last_tenth_of_the_ttl() {
        let q = client_query("example.com.", 1);
        let query = wire::parse_query(&q).unwrap();
        let mut kb = [0; wire::MAX_KEY_LEN];
        let key = query.cache_key(&mut kb).to_vec();
        let (bytes, layout) = upstream_answer(&key, 1, 100);
        let a = Answer::from_upstream(&bytes, &layout, &POLICY, 1_000);
        assert!(!a.claim_prefetch(1_000), "fresh");
        assert!(!a.claim_prefetch(1_089), "11 s of 100 left");
        assert!(a.claim_prefetch(1_090), "10 s of 100 left");
        assert!(!a.claim_prefetch(1_095), "claimed already");
        let b = Answer::from_upstream(&bytes, &layout, &POLICY, 1_000);
        assert!(!b.claim_prefetch(1_100), "expired: a miss, not a prefetch");
        let (bytes, layout) = upstream_answer(&key, 1, 5);
        let short = Answer::from_upstream(&bytes, &layout, &POLICY, 1_000);
        assert!(
            !short.claim_prefetch(1_004),
            "a tenth of 5 s is under a second"
        );
    }

    #[test]
    fn eviction_keeps_the_bound() {
        let cache = Cache::new(50, POLICY, crate::clock::Clock::system());
        for i in 0..200u32 {
            let q = client_query(&format!("n{i}.example."), 1);
            let query = wire::parse_query(&q).unwrap();
            let mut kb = [0; wire::MAX_KEY_LEN];
            let key = query.cache_key(&mut kb).to_vec();
            let (bytes, layout) = upstream_answer(&key, 1, 300);
            let a = Arc::new(Answer::from_upstream(&bytes, &layout, &POLICY, 0));
            cache.insert(key.into(), a, 0);
        }
        assert!(cache.len() <= 50, "len {}", cache.len());
        assert!(cache.evictions() >= 150);
    }
}
