//! Cache-poisoning hygiene for upstream answers: only records about the
//! question are kept, cached and passed on.
//!
//! The cache is keyed by the whole question, so a stray record can never
//! answer another name from *our* cache; but clients and the resolvers behind
//! them (a router's dnsmasq, a stub with its own cache) may believe whatever
//! an answer carries. So, as Unbound's scrubber does for a forwarder:
//! - answer section: records owned by the question name or by a name the
//!   CNAME chain from it leads to (plus DNAMEs and signatures owned by an
//!   ancestor of such a name);
//! - authority section: SOA, NS and DS records of a zone above a chain name,
//!   their signatures, and the NSEC/NSEC3 denial proofs of such a zone;
//! - additional section: nothing but our own OPT (glue and "helpful" addresses
//!   are exactly what poisoning attacks ride on, and stubs never need them).
//!
//! A name whose compression pointer lands in the header, in a TTL or past the
//! OPT record makes the whole reply malformed: those bytes are rewritten for
//! each client, so the name would change under them (a fuzzer found this).
//!
//! Almost every answer passes untouched, without a copy. The rare one that
//! does not is re-encoded with hickory-proto (not on the per-query path).

use super::wire::{
    self, LayoutError, MAX_NAME_LEN, ResponseLayout, TYPE_CNAME, TYPE_OPT, TYPE_SOA,
};

const TYPE_NS: u16 = 2;
const TYPE_DNAME: u16 = 39;
const TYPE_DS: u16 = 43;
const TYPE_RRSIG: u16 = 46;
const TYPE_NSEC: u16 = 47;
const TYPE_NSEC3: u16 = 50;

/// Longest CNAME chain followed; longer ones are an upstream's problem, not a reason to keep strays.
const MAX_CHAIN: usize = 16;

type Name = ([u8; MAX_NAME_LEN + 1], usize);

/// One record of a checked response.
struct Rec {
    section: u8,
    /// Where the owner name starts.
    at: usize,
    owner: Name,
    rtype: u16,
    rdata: usize,
}

/// `msg` with every record that is not about the question in `key` removed,
/// and its layout. Returns the input unchanged (no copy) when all records are
/// in bailiwick, which is nearly always.
pub fn scrub(
    msg: Vec<u8>,
    layout: ResponseLayout,
    id: u16,
    key: &[u8],
) -> Result<(Vec<u8>, ResponseLayout), LayoutError> {
    let keep = verdicts(&msg, &layout, key).ok_or(LayoutError::Malformed)?;
    if keep.iter().all(|&k| k) {
        return Ok((msg, layout));
    }
    let dropped = keep.iter().filter(|&&k| !k).count();
    let rebuilt = rebuild(&msg, &keep).ok_or(LayoutError::Malformed)?;
    tracing::debug!(
        name = %wire::name_to_text(key),
        dropped,
        "dropped upstream records outside the question's bailiwick"
    );
    let layout = wire::scan_response(&rebuilt, id, key)?;
    Ok((rebuilt, layout))
}

/// For each record (OPT excluded), in message order: keep it or not. None if
/// a name we read points where a compression pointer must not.
fn verdicts(msg: &[u8], layout: &ResponseLayout, key: &[u8]) -> Option<Vec<bool>> {
    let qname = key.get(..key.len().checked_sub(5)?)?;
    let records = records(msg, layout)?;
    // The bytes we rewrite for each client (header, TTLs) and drop (OPT and
    // after) must not be part of any name: the name would change under them.
    let end = layout.opt.map_or(msg.len(), |(start, _)| start);
    // TTL offsets are recorded in message order, so sorted: a binary search
    // keeps hostile replies with many records and pointers linear-ish.
    let in_ttl = |t: usize| {
        let after = layout.ttl_offsets.partition_point(|&o| o <= t);
        after > 0 && t < layout.ttl_offsets[after - 1] + 4
    };
    let lands = |t: usize| t >= wire::HEADER_LEN && t < end && !in_ttl(t);
    let names_ok = records.iter().all(|r| {
        wire::pointers_land(msg, r.at, lands)
            && (r.rtype != TYPE_CNAME || wire::pointers_land(msg, r.rdata, lands))
    });
    if !names_ok {
        return None;
    }
    let mut chain: Vec<Name> = vec![lower(qname)?];
    // CNAMEs may come in any order: follow them until nothing is added.
    let mut grew = true;
    while grew && chain.len() < MAX_CHAIN {
        grew = false;
        for r in records
            .iter()
            .filter(|r| r.section == 0 && r.rtype == TYPE_CNAME)
        {
            if in_chain(&chain, &r.owner) {
                let target = lower_at(msg, r.rdata)?;
                if !in_chain(&chain, &target) && chain.len() < MAX_CHAIN {
                    chain.push(target);
                    grew = true;
                }
            }
        }
    }
    let above_chain = |n: &Name| chain.iter().any(|c| is_ancestor_or_self(n, c));
    // Zones whose SOA or NS records the authority section rightly carries.
    let zones: Vec<&Name> = records
        .iter()
        .filter(|r| {
            r.section == 1 && matches!(r.rtype, TYPE_SOA | TYPE_NS) && above_chain(&r.owner)
        })
        .map(|r| &r.owner)
        .collect();
    let in_zone = |n: &Name| {
        zones.iter().any(|z| is_ancestor_or_self(z, n))
            // Without an SOA or NS (a wildcard answer's proof), a name sharing
            // the chain's last two labels.
            || (zones.is_empty() && chain.iter().any(|c| shares_two_labels(n, c)))
    };
    Some(
        records
            .iter()
            .map(|r| match (r.section, r.rtype) {
                (0, TYPE_DNAME | TYPE_RRSIG) => in_chain(&chain, &r.owner) || above_chain(&r.owner),
                (0, _) => in_chain(&chain, &r.owner),
                (1, TYPE_SOA | TYPE_NS | TYPE_DS) => above_chain(&r.owner),
                (1, TYPE_RRSIG) => above_chain(&r.owner) || in_zone(&r.owner),
                (1, TYPE_NSEC | TYPE_NSEC3) => in_zone(&r.owner),
                _ => false,
            })
            .collect(),
    )
}

/// The records of a response `scan_response` accepted, OPT left out.
fn records(msg: &[u8], layout: &ResponseLayout) -> Option<Vec<Rec>> {
    let counts = [
        layout.answer_count,
        layout.authority_count,
        wire::read_u16(msg, 10),
    ];
    let mut out = Vec::new();
    let mut at = layout.question_end;
    for (section, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            let start = at;
            let owner = lower_at(msg, at)?;
            at = wire::skip_name(msg, at)?;
            let rtype = wire::read_u16(msg, at);
            let rdata = at + 10;
            let end = rdata + usize::from(wire::read_u16(msg, at + 8));
            if rtype != TYPE_OPT {
                out.push(Rec {
                    section: section as u8,
                    at: start,
                    owner,
                    rtype,
                    rdata,
                });
            }
            at = end;
        }
    }
    Some(out)
}

/// Re-encodes `msg` with only the records `keep` marks (OPT is kept as it was).
fn rebuild(msg: &[u8], keep: &[bool]) -> Option<Vec<u8>> {
    let mut m = hickory_proto::op::Message::from_vec(msg).ok()?;
    let mut k = keep.iter().copied();
    // hickory keeps OPT apart from the record lists, so the lists line up with `keep`.
    m.answers.retain(|_| k.next().unwrap_or(false));
    m.authorities.retain(|_| k.next().unwrap_or(false));
    m.additionals.retain(|_| k.next().unwrap_or(false));
    m.to_vec().ok()
}

fn lower(wire_name: &[u8]) -> Option<Name> {
    let mut n = [0u8; MAX_NAME_LEN + 1];
    n.get_mut(..wire_name.len())?.copy_from_slice(wire_name);
    n[..wire_name.len()].make_ascii_lowercase();
    Some((n, wire_name.len()))
}

fn lower_at(msg: &[u8], at: usize) -> Option<Name> {
    let mut n = [0u8; MAX_NAME_LEN + 1];
    let len = wire::expand_name(msg, at, &mut n)?;
    n[..len].make_ascii_lowercase();
    Some((n, len))
}

fn bytes(n: &Name) -> &[u8] {
    &n.0[..n.1]
}

fn in_chain(chain: &[Name], n: &Name) -> bool {
    chain.iter().any(|c| bytes(c) == bytes(n))
}

/// Offsets at which each suffix of a wire name starts (the name itself first, the root last).
fn suffix_starts(n: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut at = Some(0usize);
    std::iter::from_fn(move || {
        let here = at?;
        let len = usize::from(*n.get(here)?);
        at = (len != 0).then_some(here + 1 + len);
        Some(here)
    })
}

/// Whether `a` is `b` or one of its ancestors (`example.com` for `www.example.com`).
fn is_ancestor_or_self(a: &Name, b: &Name) -> bool {
    let (a, b) = (bytes(a), bytes(b));
    suffix_starts(b).any(|s| &b[s..] == a)
}

/// Whether `a` and `b` end in the same two labels (or are both one label under the root).
fn shares_two_labels(a: &Name, b: &Name) -> bool {
    let last_two = |n: &[u8]| -> usize {
        let starts: Vec<usize> = suffix_starts(n).collect();
        // starts ends with the root; two labels above it start at len - 3.
        starts[starts.len().saturating_sub(3)]
    };
    let (a, b) = (bytes(a), bytes(b));
    a[last_two(a)..] == b[last_two(b)..] && a.len() > 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::rdata::{A, CNAME, NS, SOA};
    use hickory_proto::rr::{Name as HName, RData, Record, RecordType};

    fn name(s: &str) -> HName {
        HName::from_ascii(s).unwrap()
    }

    fn key(qname: &str, qtype: RecordType) -> Vec<u8> {
        let mut k = crate::rules::name::to_wire(qname);
        k.extend_from_slice(&u16::from(qtype).to_be_bytes());
        k.extend_from_slice(&1u16.to_be_bytes());
        k.push(0);
        k
    }

    fn response(qname: &str, answers: Vec<Record>, auth: Vec<Record>, add: Vec<Record>) -> Vec<u8> {
        let mut m = Message::new(0x4242, MessageType::Response, OpCode::Query);
        m.add_query(Query::query(name(qname), RecordType::A));
        m.add_answers(answers);
        m.add_authorities(auth);
        m.add_additionals(add);
        m.to_vec().unwrap()
    }

    fn a(owner: &str, ip: [u8; 4]) -> Record {
        Record::from_rdata(
            name(owner),
            300,
            RData::A(A::from(std::net::Ipv4Addr::from(ip))),
        )
    }

    fn run(msg: Vec<u8>, qname: &str) -> Message {
        let k = key(qname, RecordType::A);
        let layout = wire::scan_response(&msg, 0x4242, &k).unwrap();
        let (out, layout2) = scrub(msg, layout, 0x4242, &k).unwrap();
        assert_eq!(
            usize::from(layout2.answer_count),
            Message::from_vec(&out).unwrap().answers.len()
        );
        Message::from_vec(&out).unwrap()
    }

    fn owners(rs: &[Record]) -> Vec<String> {
        rs.iter().map(|r| r.name.to_ascii()).collect()
    }

    #[test]
    fn a_clean_answer_is_passed_on_as_it_came() {
        let msg = response(
            "www.example.com.",
            vec![
                Record::from_rdata(
                    name("www.example.com."),
                    60,
                    RData::CNAME(CNAME(name("edge.cdn.net."))),
                ),
                a("edge.cdn.net.", [1, 2, 3, 4]),
            ],
            vec![],
            vec![],
        );
        let k = key("www.example.com.", RecordType::A);
        let layout = wire::scan_response(&msg, 0x4242, &k).unwrap();
        let before = msg.as_ptr();
        let (out, _) = scrub(msg, layout, 0x4242, &k).unwrap();
        assert_eq!(out.as_ptr(), before, "no copy for a clean answer");
    }

    #[test]
    fn records_about_other_names_are_dropped() {
        let soa = SOA::new(
            name("ns.example.com."),
            name("host.example.com."),
            1,
            2,
            3,
            4,
            300,
        );
        let msg = response(
            "www.example.com.",
            vec![
                a("bank.example.", [6, 6, 6, 6]),
                Record::from_rdata(
                    name("WWW.Example.com."),
                    60,
                    RData::CNAME(CNAME(name("edge.cdn.net."))),
                ),
                a("edge.cdn.net.", [1, 2, 3, 4]),
            ],
            vec![
                Record::from_rdata(name("com."), 86400, RData::NS(NS(name("ns.evil.example.")))),
                Record::from_rdata(name("example.com."), 300, RData::SOA(soa)),
                Record::from_rdata(
                    name("evil.example."),
                    86400,
                    RData::NS(NS(name("ns.evil.example."))),
                ),
                a("www.example.com.", [6, 6, 6, 6]),
            ],
            vec![a("ns.evil.example.", [6, 6, 6, 6])],
        );
        let m = run(msg, "www.example.com.");
        assert_eq!(owners(&m.answers), ["WWW.Example.com.", "edge.cdn.net."]);
        assert_eq!(owners(&m.authorities), ["com.", "example.com."]);
        assert!(m.additionals.is_empty());
    }

    #[test]
    fn chains_in_any_order_are_followed() {
        let msg = response(
            "a.example.",
            vec![
                a("c.example.", [1, 1, 1, 1]),
                Record::from_rdata(
                    name("b.example."),
                    60,
                    RData::CNAME(CNAME(name("c.example."))),
                ),
                Record::from_rdata(
                    name("a.example."),
                    60,
                    RData::CNAME(CNAME(name("b.example."))),
                ),
            ],
            vec![],
            vec![],
        );
        let m = run(msg, "a.example.");
        assert_eq!(m.answers.len(), 3);
    }

    #[test]
    fn a_name_pointing_into_the_header_or_a_ttl_is_malformed() {
        let k = key("www.example.com.", RecordType::A);
        let good = response(
            "www.example.com.",
            vec![a("www.example.com.", [1, 2, 3, 4])],
            vec![],
            vec![],
        );
        // The answer's owner is a pointer (0xc00c) to the question name; aim it elsewhere.
        let owner_at = good.len() - 16;
        assert_eq!(&good[owner_at..owner_at + 2], b"\xc0\x0c");
        for target in [0u8, 4, (owner_at + 6 - 12) as u8] {
            let mut bad = good.clone();
            bad[owner_at + 1] = target;
            if let Ok(layout) = wire::scan_response(&bad, 0x4242, &k) {
                assert_eq!(
                    scrub(bad, layout, 0x4242, &k).err(),
                    Some(LayoutError::Malformed),
                    "pointer to {target}"
                );
            }
        }
    }

    #[test]
    fn name_helpers() {
        let n = |s: &str| lower(&crate::rules::name::to_wire(s)).unwrap();
        assert!(is_ancestor_or_self(
            &n("example.com"),
            &n("www.example.com")
        ));
        assert!(is_ancestor_or_self(
            &n("www.example.com"),
            &n("www.example.com")
        ));
        assert!(!is_ancestor_or_self(&n("ample.com"), &n("www.example.com")));
        assert!(!is_ancestor_or_self(
            &n("www.example.com"),
            &n("example.com")
        ));
        assert!(shares_two_labels(
            &n("z.example.com"),
            &n("a.b.example.com")
        ));
        assert!(!shares_two_labels(&n("z.other.com"), &n("a.b.example.com")));
    }
}
