//! Answers nestguard makes itself: blocked names, canaries, rewrites.
//!
//! They are honest: NXDOMAIN (or a null address, by config) with an RFC 8914
//! Extended DNS Error that says why — 17 "Filtered" for the household's own
//! policy, 15 "Blocked" for security lists — and the category and rule as its
//! text. Rewrites (a list's `$dnsrewrite`, safe search) say so the same way,
//! whatever they answer: an address, an alias, no records. Negative answers carry a synthetic SOA whose TTL and MINIMUM are the
//! short `blocked_ttl`, so a stub resolver caches the block only briefly and an
//! unblock takes effect at once. Written straight into the caller's buffer.

use std::io::Write as _;
use std::net::IpAddr;

use super::wire::{self, FLAG_CD, FLAG_QR, FLAG_RA, FLAG_RD, FLAG_TC, OptOut, Query, Rcode};
use crate::config::BlockMode;
use crate::engine::{Decision, Engine, ServiceWhy};
use crate::rules::Origin;
use crate::rules::parse::Rewrite;

const EDE_BLOCKED: u16 = 15;
const EDE_FILTERED: u16 = 17;
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
/// Pointer to the question's name (offset 12) for the records we write.
const NAME_PTR: [u8; 2] = [0xc0, 0x0c];
/// SOA RDATA names: MNAME `nestguard.invalid.`, RNAME `blocked.nestguard.invalid.`
/// (serial, refresh, retry, expire and MINIMUM follow per answer).
const SOA_NAMES: &[u8] = b"\x09nestguard\x07invalid\x00\x07blocked\x09nestguard\x07invalid\x00";

/// The rcode and records of a synthesized answer.
struct Shape {
    rcode: Rcode,
    address: Option<IpAddr>,
    soa: bool,
}

fn shape(decision: Decision, engine: &Engine, qtype: u16) -> Shape {
    let nodata = Shape {
        rcode: Rcode::NoError,
        address: None,
        soa: true,
    };
    let address_or_nodata = |ip: IpAddr| match (ip, qtype) {
        (IpAddr::V4(_), TYPE_A) | (IpAddr::V6(_), TYPE_AAAA) => Shape {
            rcode: Rcode::NoError,
            address: Some(ip),
            soa: false,
        },
        _ => Shape {
            rcode: Rcode::NoError,
            address: None,
            soa: true,
        },
    };
    match decision {
        Decision::Canary => Shape {
            rcode: Rcode::NxDomain,
            address: None,
            soa: true,
        },
        Decision::Scheduled(_) | Decision::Paused | Decision::Service(..) | Decision::Exam(_) => {
            shape(Decision::Block(Origin::NONE), engine, qtype)
        }
        // Forward and SafeSearch are answered from upstream, never here.
        Decision::NoData | Decision::Forward | Decision::Metered(_) | Decision::SafeSearch(_) => {
            nodata
        }
        Decision::Block(_) => match (engine.block_mode, qtype) {
            (BlockMode::Nxdomain, _) => Shape {
                rcode: Rcode::NxDomain,
                address: None,
                soa: true,
            },
            (BlockMode::Null, TYPE_A) => address_or_nodata(IpAddr::from([0, 0, 0, 0])),
            (BlockMode::Null, TYPE_AAAA) => address_or_nodata(IpAddr::from([0u16; 8])),
            (BlockMode::Refused, _) => Shape {
                rcode: Rcode::Refused,
                address: None,
                soa: false,
            },
            (BlockMode::Address, TYPE_A | TYPE_AAAA) => engine
                .block_addresses
                .iter()
                .find(|ip| ip.is_ipv4() == (qtype == TYPE_A))
                .map_or(nodata, |ip| address_or_nodata(*ip)),
            (BlockMode::Null | BlockMode::Address, _) => nodata,
        },
        Decision::Rewrite(_, id) => match engine.rules.rewrite(id) {
            Some(Rewrite::NxDomain) => Shape {
                rcode: Rcode::NxDomain,
                address: None,
                soa: true,
            },
            Some(Rewrite::Refused) => Shape {
                rcode: Rcode::Refused,
                address: None,
                soa: false,
            },
            Some(Rewrite::Address(ip)) => address_or_nodata(*ip),
            Some(Rewrite::NoData | Rewrite::Cname(_)) | None => nodata,
        },
    }
}

/// The Extended DNS Error for an answer the policy made: its code, and
/// `category: source:line` (`category` alone for a plain domain rule,
/// whose list and line the daemon does not keep; or a fixed reason, or
/// `safe search: host`) as its
/// text, written into `buf`. Allocates nothing.
pub fn ede_reason<'b>(
    decision: Decision,
    engine: &Engine,
    buf: &'b mut [u8; 256],
) -> (u16, &'b str) {
    let total = buf.len();
    let mut w: &mut [u8] = &mut buf[..];
    let code = match decision {
        Decision::Block(o) | Decision::Rewrite(o, _) => {
            let (code, category) = match engine.rules.category(o.category) {
                Some(c) => (
                    if c.security {
                        EDE_BLOCKED
                    } else {
                        EDE_FILTERED
                    },
                    c.id.as_str(),
                ),
                None => (EDE_FILTERED, "?"),
            };
            // Truncated silently if it does not fit: the text is informational.
            // A plain domain rule's list and line are not kept by the daemon
            // (`nestguard explain` finds them): the category alone.
            let _ = match engine.rules.source(o.source) {
                Some(s) => write!(w, "{category}: {}:{}", s.name, o.line),
                None => write!(w, "{category}"),
            };
            code
        }
        Decision::Canary => {
            let _ = w.write_all(b"bypass canary");
            EDE_FILTERED
        }
        Decision::Scheduled(window) => {
            let _ = write!(w, "schedule: {}", engine.window_name(window));
            EDE_FILTERED
        }
        Decision::Paused => {
            let _ = w.write_all(b"paused by a parent");
            EDE_FILTERED
        }
        Decision::Service(s, why) => {
            let id = engine.services().get(s).map_or("?", |d| d.id.as_str());
            let _ = match why {
                ServiceWhy::Parent => write!(w, "service: {id} blocked by a parent"),
                ServiceWhy::Hours => write!(w, "schedule: {id} closed now"),
                ServiceWhy::Budget(b) => {
                    let minutes = engine
                        .budgets()
                        .get(usize::from(b))
                        .map_or(0, |b| b.minutes);
                    write!(w, "budget: {id} {minutes} min used")
                }
            };
            EDE_FILTERED
        }
        Decision::Exam(end) => {
            let _ = write!(w, "exam: until {:02}:{:02}", end / 60, end % 60);
            EDE_FILTERED
        }
        Decision::SafeSearch(t) => {
            let _ = w.write_all(b"safe search: ");
            write_name(&mut w, engine.safe_search_target(t).unwrap_or(b"\0"));
            EDE_FILTERED
        }
        Decision::NoData | Decision::Forward | Decision::Metered(_) => {
            let _ = w.write_all(b"resolver discovery disabled by the filter");
            EDE_FILTERED
        }
    };
    let used = total - w.len();
    // Only ASCII and list names are written; a cut inside a UTF-8 character is trimmed off.
    let text = match std::str::from_utf8(&buf[..used]) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&buf[..e.valid_up_to()]).unwrap_or(""),
    };
    (code, text)
}

/// Writes a wire name (plain labels, as the safe-search table holds them) in
/// presentation form without the final dot.
fn write_name(w: &mut &mut [u8], wire: &[u8]) {
    let mut at = 0;
    while let Some(&len) = wire.get(at) {
        let Some(label) = wire
            .get(at + 1..at + 1 + usize::from(len))
            .filter(|_| len > 0)
        else {
            break;
        };
        if at > 0 {
            let _ = w.write_all(b".");
        }
        let _ = w.write_all(label);
        at += 1 + usize::from(len);
    }
}

/// Writes the answer to `query` for a decision other than Forward.
pub fn write(
    query: &Query<'_>,
    decision: Decision,
    engine: &Engine,
    server_payload: u16,
    limit: usize,
    out: &mut Vec<u8>,
) {
    let s = shape(decision, engine, query.qtype);
    let ttl = engine.blocked_ttl;
    out.clear();
    let (low, high) = s.rcode.split();
    let flags = FLAG_QR | FLAG_RA | (query.flags() & (FLAG_RD | FLAG_CD)) | low;
    out.extend_from_slice(&query.id().to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    let counts = [
        1u16,
        u16::from(s.address.is_some()),
        u16::from(s.soa),
        u16::from(query.edns.is_some()),
    ];
    for c in counts {
        out.extend_from_slice(&c.to_be_bytes());
    }
    out.extend_from_slice(query.question());
    if let Some(ip) = s.address {
        out.extend_from_slice(&NAME_PTR);
        out.extend_from_slice(&query.qtype.to_be_bytes());
        out.extend_from_slice(&wire::CLASS_IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        match ip {
            IpAddr::V4(v4) => {
                out.extend_from_slice(&4u16.to_be_bytes());
                out.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                out.extend_from_slice(&16u16.to_be_bytes());
                out.extend_from_slice(&v6.octets());
            }
        }
    }
    if s.soa {
        out.extend_from_slice(&NAME_PTR);
        out.extend_from_slice(&wire::TYPE_SOA.to_be_bytes());
        out.extend_from_slice(&wire::CLASS_IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&((SOA_NAMES.len() + 20) as u16).to_be_bytes());
        out.extend_from_slice(SOA_NAMES);
        for v in [1u32, 3600, 600, 86_400, ttl] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    if let Some(edns) = query.edns {
        let mut buf = [0u8; 256];
        let (code, text) = ede_reason(decision, engine, &mut buf);
        OptOut {
            payload: server_payload,
            dnssec_ok: edns.dnssec_ok,
            ext_rcode: high,
            ede: Some((code, text)),
            raw_options: &[],
        }
        .write(out);
    }
    if out.len() > limit {
        wire::write_empty_response(
            query.packet,
            Some(query),
            s.rcode,
            FLAG_TC,
            server_payload,
            None,
            out,
        );
    }
}
