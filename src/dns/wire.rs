//! DNS wire format, read and written by hand where it is hot.
//!
//! The per-query path (parse the client's question, look the answer up in the
//! cache, patch ID and TTLs, send) must not allocate, so this module works on
//! byte slices and caller-owned buffers. hickory-proto is used where a full
//! message model is worth its allocations: tests, tooling and anything that is
//! not per query.

use std::fmt;
use std::net::IpAddr;

use crate::mac::Mac;

pub const HEADER_LEN: usize = 12;
/// Longest name on the wire (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// A cache key is the lowercased QNAME plus QTYPE, QCLASS and one flag byte.
pub const MAX_KEY_LEN: usize = MAX_NAME_LEN + 5;
/// The UDP size every DNS implementation must accept (RFC 1035 §4.2.1).
pub const CLASSIC_UDP_SIZE: usize = 512;

pub const TYPE_CNAME: u16 = 5;
pub const TYPE_SOA: u16 = 6;
pub const TYPE_OPT: u16 = 41;
pub const TYPE_AXFR: u16 = 252;
pub const TYPE_IXFR: u16 = 251;
pub const CLASS_IN: u16 = 1;

/// EDNS option code of an Extended DNS Error (RFC 8914).
pub const OPT_EDE: u16 = 15;
/// EDNS Client Subnet (RFC 7871): the address a forwarder asked for.
pub const OPT_CLIENT_SUBNET: u16 = 8;
/// The requestor's MAC address, six raw bytes (dnsmasq `--add-mac`; the
/// code is dyndns.org's private-use assignment, which Pi-hole FTL reads too).
pub const OPT_MAC: u16 = 65001;
/// Nominum's device id, which dnsmasq fills with the requestor's MAC as eight
/// base64 characters (`--add-mac=base64`) or `aa:bb:cc:dd:ee:ff`
/// (`--add-mac=text`).
pub const OPT_DEVICE_ID: u16 = 65073;

// Header flag bits (second 16-bit word of the header).
pub const FLAG_QR: u16 = 0x8000;
pub const FLAG_AA: u16 = 0x0400;
pub const FLAG_TC: u16 = 0x0200;
pub const FLAG_RD: u16 = 0x0100;
pub const FLAG_RA: u16 = 0x0080;
pub const FLAG_AD: u16 = 0x0020;
pub const FLAG_CD: u16 = 0x0010;
const OPCODE_MASK: u16 = 0x7800;
const RCODE_MASK: u16 = 0x000f;
/// DO bit inside the OPT record's TTL field (RFC 3225).
const EDNS_DO: u32 = 0x8000;

/// Response codes we produce or inspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    FormErr,
    ServFail,
    NxDomain,
    NotImp,
    Refused,
    /// RFC 6891: an EDNS version we do not speak (extended code 16).
    BadVers,
}

impl Rcode {
    /// Low four bits for the header, high eight bits for the OPT record.
    pub fn split(self) -> (u16, u8) {
        match self {
            Rcode::NoError => (0, 0),
            Rcode::FormErr => (1, 0),
            Rcode::ServFail => (2, 0),
            Rcode::NxDomain => (3, 0),
            Rcode::NotImp => (4, 0),
            Rcode::Refused => (5, 0),
            Rcode::BadVers => (0, 1),
        }
    }
}

/// Why a datagram could not be taken as a query, and what to answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// Shorter than a header, or a response: nothing sensible to answer.
    Drop,
    /// Malformed: answer FORMERR (with the question if it could be read).
    FormErr,
    /// An opcode other than QUERY.
    NotImp,
    /// EDNS version other than 0 (RFC 6891 §6.1.3).
    BadVers,
}

/// The client's EDNS(0) parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edns {
    /// Advertised UDP payload size, never below 512.
    pub payload: u16,
    pub dnssec_ok: bool,
}

/// The device a forwarder asked for, as its EDNS options name it: the MAC
/// (dnsmasq `--add-mac`) and the whole address (RFC 7871 client subnet with a
/// /32 or /128 source prefix; a shorter one names a network, not a device).
/// Only worth believing from a forwarder the config trusts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForwardedFor {
    pub mac: Option<Mac>,
    pub ip: Option<IpAddr>,
}

impl ForwardedFor {
    /// Nobody behind a forwarder: the peer asked for itself.
    pub const NONE: ForwardedFor = ForwardedFor {
        mac: None,
        ip: None,
    };

    pub fn is_some(&self) -> bool {
        self.mac.is_some() || self.ip.is_some()
    }

    /// Notes one EDNS option if it names the device.
    fn read_option(&mut self, code: u16, data: &[u8]) {
        match code {
            OPT_MAC => {
                if let Ok(bytes) = <[u8; 6]>::try_from(data) {
                    self.mac = Some(Mac(bytes));
                }
            }
            OPT_DEVICE_ID => {
                if let Some(mac) = device_id_mac(data) {
                    self.mac = Some(mac);
                }
            }
            OPT_CLIENT_SUBNET => {
                if let Some(ip) = subnet_address(data) {
                    self.ip = Some(ip);
                }
            }
            _ => {}
        }
    }
}

/// The MAC in dnsmasq's device-id option: `aa:bb:cc:dd:ee:ff`, or the six
/// bytes in standard base64 without padding (eight characters).
fn device_id_mac(data: &[u8]) -> Option<Mac> {
    let mut mac = [0u8; 6];
    match data.len() {
        17 => {
            for (i, byte) in mac.iter_mut().enumerate() {
                let at = i * 3;
                if i < 5 && data[at + 2] != b':' {
                    return None;
                }
                *byte = (hex_digit(data[at])? << 4) | hex_digit(data[at + 1])?;
            }
        }
        8 => {
            for (chunk, out) in data.chunks_exact(4).zip(mac.chunks_exact_mut(3)) {
                let mut bits = 0u32;
                for &c in chunk {
                    bits = (bits << 6) | u32::from(base64_digit(c)?);
                }
                out.copy_from_slice(&bits.to_be_bytes()[1..]);
            }
        }
        _ => return None,
    }
    Some(Mac(mac))
}

fn hex_digit(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn base64_digit(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// The address in a client-subnet option (RFC 7871 §6: family, source prefix,
/// scope prefix, then as many address bytes as the source prefix needs), if
/// the prefix covers all of it.
fn subnet_address(data: &[u8]) -> Option<IpAddr> {
    let (head, addr) = data.split_at_checked(4)?;
    let family = read_u16(head, 0);
    match (family, head[2], addr.len()) {
        (1, 32, 4) => <[u8; 4]>::try_from(addr).ok().map(IpAddr::from),
        (2, 128, 16) => <[u8; 16]>::try_from(addr).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A query, borrowed from the packet it was read from. Reading it allocates nothing.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    pub packet: &'a [u8],
    /// End of the question section (offset just past QCLASS).
    pub question_end: usize,
    pub qtype: u16,
    pub qclass: u16,
    pub edns: Option<Edns>,
    /// The device the EDNS options name, whoever sent them: the resolver
    /// believes it only from a trusted forwarder.
    pub forwarded_for: ForwardedFor,
}

impl<'a> Query<'a> {
    pub fn id(&self) -> u16 {
        read_u16(self.packet, 0)
    }

    pub fn flags(&self) -> u16 {
        read_u16(self.packet, 2)
    }

    pub fn recursion_desired(&self) -> bool {
        self.flags() & FLAG_RD != 0
    }

    pub fn checking_disabled(&self) -> bool {
        self.flags() & FLAG_CD != 0
    }

    pub fn dnssec_ok(&self) -> bool {
        self.edns.is_some_and(|e| e.dnssec_ok)
    }

    /// The QNAME in wire format, as the client sent it (case preserved).
    pub fn qname_wire(&self) -> &'a [u8] {
        &self.packet[HEADER_LEN..self.question_end - 4]
    }

    /// The question section as sent: QNAME, QTYPE, QCLASS.
    pub fn question(&self) -> &'a [u8] {
        &self.packet[HEADER_LEN..self.question_end]
    }

    /// The most a UDP answer to this query may hold, given our own ceiling.
    pub fn udp_limit(&self, server_max: u16) -> usize {
        match self.edns {
            Some(e) => usize::from(e.payload.min(server_max)).max(CLASSIC_UDP_SIZE),
            None => CLASSIC_UDP_SIZE,
        }
    }

    /// Writes the cache key (lowercased QNAME, QTYPE, QCLASS, DO and CD bits) into `buf`.
    /// DO and CD are part of the key because they change what an upstream returns.
    pub fn cache_key<'b>(&self, buf: &'b mut [u8; MAX_KEY_LEN]) -> &'b [u8] {
        let question = self.question();
        let name_len = question.len() - 4;
        for (dst, src) in buf.iter_mut().zip(&question[..name_len]) {
            *dst = src.to_ascii_lowercase();
        }
        buf[name_len..name_len + 4].copy_from_slice(&question[name_len..]);
        buf[name_len + 4] = u8::from(self.dnssec_ok()) | (u8::from(self.checking_disabled()) << 1);
        &buf[..name_len + 5]
    }

    /// The QNAME in presentation format, for logs (allocates; not for the hot path).
    pub fn qname_text(&self) -> String {
        name_to_text(self.qname_wire())
    }
}

pub fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub fn write_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

pub fn write_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Reads an uncompressed name starting at `at`; returns the offset just past it.
/// Questions in queries never need compression, so a pointer there is malformed.
fn skip_uncompressed_name(b: &[u8], mut at: usize) -> Option<usize> {
    let start = at;
    loop {
        let len = usize::from(*b.get(at)?);
        if len == 0 {
            at += 1;
            break;
        }
        if len > 63 {
            return None;
        }
        at += 1 + len;
        if at - start > MAX_NAME_LEN {
            return None;
        }
    }
    (at - start <= MAX_NAME_LEN).then_some(at)
}

/// Skips a possibly compressed name; returns the offset just past it in the record.
pub fn skip_name(b: &[u8], mut at: usize) -> Option<usize> {
    let mut total = 0usize;
    loop {
        let len = *b.get(at)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(at + 1),
            0x00 => {
                total += usize::from(len) + 1;
                if total > MAX_NAME_LEN {
                    return None;
                }
                at += 1 + usize::from(len);
            }
            // A pointer ends the name in this record; where it points is not our concern
            // when we only need to step over records.
            0xc0 => {
                b.get(at + 1)?;
                return Some(at + 2);
            }
            _ => return None,
        }
    }
}

/// Parses a client query. Allocates nothing.
///
/// Follows Unbound's checks: exactly one question, no answer or authority
/// records, at most one additional record which must be OPT.
pub fn parse_query(packet: &[u8]) -> Result<Query<'_>, (QueryError, Option<Query<'_>>)> {
    if packet.len() < HEADER_LEN {
        return Err((QueryError::Drop, None));
    }
    let flags = read_u16(packet, 2);
    if flags & FLAG_QR != 0 {
        // Answering a response invites reflection loops.
        return Err((QueryError::Drop, None));
    }
    let (qd, an, ns, ar) = (
        read_u16(packet, 4),
        read_u16(packet, 6),
        read_u16(packet, 8),
        read_u16(packet, 10),
    );
    let not_query = (flags & OPCODE_MASK) != 0;
    if qd != 1 {
        let err = if not_query {
            QueryError::NotImp
        } else {
            QueryError::FormErr
        };
        return Err((err, None));
    }
    let name_end = skip_uncompressed_name(packet, HEADER_LEN).ok_or((QueryError::FormErr, None))?;
    if packet.len() < name_end + 4 {
        return Err((QueryError::FormErr, None));
    }
    let mut query = Query {
        packet,
        question_end: name_end + 4,
        qtype: read_u16(packet, name_end),
        qclass: read_u16(packet, name_end + 2),
        edns: None,
        forwarded_for: ForwardedFor::NONE,
    };
    if not_query {
        return Err((QueryError::NotImp, Some(query)));
    }
    if an != 0 || ns != 0 || ar > 1 {
        return Err((QueryError::FormErr, Some(query)));
    }
    let mut at = query.question_end;
    if ar == 1 {
        // Only OPT is accepted: its owner is the root (a single zero byte).
        if packet.len() < at + 11 || packet[at] != 0 || read_u16(packet, at + 1) != TYPE_OPT {
            return Err((QueryError::FormErr, Some(query)));
        }
        let payload = read_u16(packet, at + 3);
        let ttl = read_u32(packet, at + 5);
        let rdlen = usize::from(read_u16(packet, at + 9));
        at += 11;
        // The options must be well formed too: code, length, data.
        let end = at + rdlen;
        if packet.len() < end {
            return Err((QueryError::FormErr, Some(query)));
        }
        while at < end {
            if end - at < 4 {
                return Err((QueryError::FormErr, Some(query)));
            }
            let data_end = at + 4 + usize::from(read_u16(packet, at + 2));
            if data_end <= end {
                let data = &packet[at + 4..data_end];
                query.forwarded_for.read_option(read_u16(packet, at), data);
            }
            at = data_end;
        }
        if at != end {
            return Err((QueryError::FormErr, Some(query)));
        }
        query.edns = Some(Edns {
            payload: payload.max(CLASSIC_UDP_SIZE as u16),
            dnssec_ok: ttl & EDNS_DO != 0,
        });
        let version = (ttl >> 16) & 0xff;
        if version != 0 {
            return Err((QueryError::BadVers, Some(query)));
        }
    }
    if at != packet.len() {
        return Err((QueryError::FormErr, Some(query)));
    }
    Ok(query)
}

/// An OPT record we add to a response: our payload size, the client's DO bit,
/// and optionally one Extended DNS Error (RFC 8914).
#[derive(Clone, Copy, Debug)]
pub struct OptOut<'a> {
    pub payload: u16,
    pub dnssec_ok: bool,
    pub ext_rcode: u8,
    pub ede: Option<(u16, &'a str)>,
    /// Extra raw options to carry (already encoded: code, length, data).
    pub raw_options: &'a [u8],
}

impl OptOut<'_> {
    pub fn encoded_len(&self) -> usize {
        11 + self.raw_options.len() + self.ede.map_or(0, |(_, t)| 6 + t.len())
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(0);
        out.extend_from_slice(&TYPE_OPT.to_be_bytes());
        out.extend_from_slice(&self.payload.to_be_bytes());
        let ttl = (u32::from(self.ext_rcode) << 24) | if self.dnssec_ok { EDNS_DO } else { 0 };
        out.extend_from_slice(&ttl.to_be_bytes());
        let rdlen = self.encoded_len() - 11;
        out.extend_from_slice(&(rdlen as u16).to_be_bytes());
        out.extend_from_slice(self.raw_options);
        if let Some((code, text)) = self.ede {
            out.extend_from_slice(&OPT_EDE.to_be_bytes());
            out.extend_from_slice(&((2 + text.len()) as u16).to_be_bytes());
            out.extend_from_slice(&code.to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// Header flags of an answer we relay from an upstream or the cache.
///
/// Ours, not the upstream's: RA, because we are the recursive service the
/// client asked even when the upstream is an authoritative server that offers
/// none; never AA (we are not the authority) and never the reserved Z bit. RD
/// and CD echo the client's query. TC and the rcode are the upstream's. AD only
/// for a client that asked for it with AD or DO (RFC 6840 §5.8).
pub fn relayed_flags(upstream: u16, query: &Query<'_>) -> u16 {
    let asked = query.flags();
    let wants_ad = asked & FLAG_AD != 0 || query.dnssec_ok();
    let ad = if wants_ad { upstream & FLAG_AD } else { 0 };
    FLAG_QR | FLAG_RA | (upstream & (FLAG_TC | RCODE_MASK)) | ad | (asked & (FLAG_RD | FLAG_CD))
}

/// Builds a response that carries no records: an error, or a truncated answer.
/// Echoes ID, opcode, RD and CD, and says RA; includes the question when the
/// query had one we could read. NOTIMP (an opcode other than QUERY) echoes the
/// opcode only: RA, RD, CD and the rest are defined for QUERY alone (RFC 1035
/// §4.1.1, RFC 6895 §2), and the DNS flag day tests expect them clear.
pub fn write_empty_response(
    packet: &[u8],
    query: Option<&Query<'_>>,
    rcode: Rcode,
    extra_flags: u16,
    server_payload: u16,
    ede: Option<(u16, &str)>,
    out: &mut Vec<u8>,
) {
    out.clear();
    if packet.len() < 2 {
        return;
    }
    let req_flags = if packet.len() >= 4 {
        read_u16(packet, 2)
    } else {
        0
    };
    let (low, high) = rcode.split();
    let flags = if rcode == Rcode::NotImp {
        FLAG_QR | (req_flags & OPCODE_MASK) | low
    } else {
        FLAG_QR | FLAG_RA | (req_flags & (OPCODE_MASK | FLAG_RD | FLAG_CD)) | extra_flags | low
    };
    out.extend_from_slice(&packet[..2]);
    out.extend_from_slice(&flags.to_be_bytes());
    let question = query.map_or(&[][..], |q| q.question());
    let edns = query.and_then(|q| q.edns);
    out.extend_from_slice(&u16::from(query.is_some()).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&u16::from(edns.is_some()).to_be_bytes());
    out.extend_from_slice(question);
    if let Some(e) = edns {
        OptOut {
            payload: server_payload,
            dnssec_ok: e.dnssec_ok,
            ext_rcode: high,
            ede,
            raw_options: &[],
        }
        .write(out);
    }
}

/// Encodes a query for an upstream: our own ID, RD set, the client's CD bit,
/// the lowercased name, and EDNS with our payload size and the client's DO bit.
pub fn write_upstream_query(key: &[u8], id: u16, payload: u16, out: &mut Vec<u8>) {
    out.clear();
    let flag_byte = key[key.len() - 1];
    let question = &key[..key.len() - 1];
    let mut flags = FLAG_RD;
    if flag_byte & 2 != 0 {
        flags |= FLAG_CD;
    }
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]);
    out.extend_from_slice(question);
    OptOut {
        payload,
        dnssec_ok: flag_byte & 1 != 0,
        ext_rcode: 0,
        ede: None,
        raw_options: &[],
    }
    .write(out);
}

/// Where things are in an upstream response, found once when it arrives.
#[derive(Debug, Default)]
pub struct ResponseLayout {
    pub rcode: u8,
    pub flags: u16,
    pub answer_count: u16,
    pub authority_count: u16,
    /// Offset of each record's TTL field (OPT excluded).
    pub ttl_offsets: Vec<usize>,
    /// Smallest TTL in the answer section.
    pub min_answer_ttl: Option<u32>,
    /// RFC 2308 negative TTL: min(SOA TTL, SOA MINIMUM) of an SOA in authority.
    pub negative_ttl: Option<u32>,
    /// Byte range of the OPT record, if any.
    pub opt: Option<(usize, usize)>,
    /// Extended RCODE bits from the OPT record.
    pub ext_rcode: u8,
    /// Byte range of the OPT record's options (RDATA).
    pub opt_options: Option<(usize, usize)>,
    /// Additional records that come before the OPT record.
    pub additional_before_opt: u16,
    /// Offsets of the targets (RDATA) of CNAME records in the answer section,
    /// checked against the rules so an alias cannot smuggle a blocked name in.
    pub cname_targets: Vec<usize>,
    /// End of the question section.
    pub question_end: usize,
}

impl ResponseLayout {
    /// NXDOMAIN, or NOERROR with no answer (NODATA): cached by the RFC 2308 rule.
    pub fn is_negative(&self) -> bool {
        self.rcode == 3 || (self.rcode == 0 && self.answer_count == 0)
    }
}

/// Why an upstream response was not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("response is malformed")]
    Malformed,
    #[error("response does not match the question asked")]
    Mismatch,
}

/// Walks an upstream response, checks it answers `key` with ID `id`,
/// and records where its TTLs and OPT record are.
pub fn scan_response(msg: &[u8], id: u16, key: &[u8]) -> Result<ResponseLayout, LayoutError> {
    if msg.len() < HEADER_LEN {
        return Err(LayoutError::Malformed);
    }
    let flags = read_u16(msg, 2);
    if read_u16(msg, 0) != id || flags & FLAG_QR == 0 || read_u16(msg, 4) != 1 {
        return Err(LayoutError::Mismatch);
    }
    let question = &key[..key.len() - 1];
    let qend = HEADER_LEN + question.len();
    let got = msg.get(HEADER_LEN..qend).ok_or(LayoutError::Malformed)?;
    if !got.eq_ignore_ascii_case(question) {
        return Err(LayoutError::Mismatch);
    }
    let mut layout = ResponseLayout {
        rcode: (flags & RCODE_MASK) as u8,
        flags,
        answer_count: read_u16(msg, 6),
        authority_count: read_u16(msg, 8),
        question_end: qend,
        ..ResponseLayout::default()
    };
    let counts = [
        layout.answer_count,
        layout.authority_count,
        read_u16(msg, 10),
    ];
    let mut at = qend;
    for (section, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            let start = at;
            at = skip_name(msg, at).ok_or(LayoutError::Malformed)?;
            if msg.len() < at + 10 {
                return Err(LayoutError::Malformed);
            }
            let rtype = read_u16(msg, at);
            let ttl = read_u32(msg, at + 4);
            let rdlen = usize::from(read_u16(msg, at + 8));
            let rdata = at + 10;
            let end = rdata + rdlen;
            if msg.len() < end {
                return Err(LayoutError::Malformed);
            }
            if rtype == TYPE_OPT {
                if section != 2 || layout.opt.is_some() {
                    return Err(LayoutError::Malformed);
                }
                layout.opt = Some((start, end));
                layout.ext_rcode = (ttl >> 24) as u8;
                layout.opt_options = Some((rdata, end));
            } else {
                if section == 2 && layout.opt.is_none() {
                    layout.additional_before_opt += 1;
                }
                layout.ttl_offsets.push(at + 4);
                if section == 0 && rtype == TYPE_CNAME {
                    layout.cname_targets.push(rdata);
                }
                match section {
                    0 => {
                        layout.min_answer_ttl =
                            Some(layout.min_answer_ttl.map_or(ttl, |m| m.min(ttl)));
                    }
                    1 if rtype == TYPE_SOA => {
                        // SOA RDATA: MNAME, RNAME, then five 32-bit fields; MINIMUM is last.
                        let min_at = end.checked_sub(4).ok_or(LayoutError::Malformed)?;
                        if rdlen < 22 {
                            return Err(LayoutError::Malformed);
                        }
                        layout.negative_ttl = Some(ttl.min(read_u32(msg, min_at)));
                    }
                    _ => {}
                }
            }
            at = end;
        }
    }
    if at != msg.len() {
        return Err(LayoutError::Malformed);
    }
    Ok(layout)
}

/// Copies the possibly compressed name at `at` in `msg` into `out` in plain wire
/// form (labels, then the root); returns its length. None if it is malformed,
/// loops, or does not fit.
pub fn expand_name(msg: &[u8], mut at: usize, out: &mut [u8; MAX_NAME_LEN + 1]) -> Option<usize> {
    let mut len = 0usize;
    for _ in 0..128 {
        let l = *msg.get(at)?;
        match l & 0xc0 {
            0x00 if l == 0 => {
                *out.get_mut(len)? = 0;
                return Some(len + 1);
            }
            0x00 => {
                let n = 1 + usize::from(l);
                out.get_mut(len..len + n)?
                    .copy_from_slice(msg.get(at..at + n)?);
                len += n;
                at += n;
            }
            0xc0 => {
                let target = (usize::from(l & 0x3f) << 8) | usize::from(*msg.get(at + 1)?);
                // Only back to an earlier name (RFC 1035 §4.1.4), so no loops and no
                // forward references a later edit of the message could change.
                if target >= at {
                    return None;
                }
                at = target;
            }
            _ => return None,
        }
    }
    None
}

/// Whether every compression pointer the name at `at` follows lands where
/// `ok` allows (see `bailiwick`: never in the header or a TTL we rewrite).
pub fn pointers_land(msg: &[u8], mut at: usize, ok: impl Fn(usize) -> bool) -> bool {
    for _ in 0..128 {
        let Some(&l) = msg.get(at) else {
            return false;
        };
        match l & 0xc0 {
            0x00 if l == 0 => return true,
            0x00 => at += 1 + usize::from(l),
            0xc0 => {
                let Some(&low) = msg.get(at + 1) else {
                    return false;
                };
                let target = (usize::from(l & 0x3f) << 8) | usize::from(low);
                if target >= at || !ok(target) {
                    return false;
                }
                at = target;
            }
            _ => return false,
        }
    }
    false
}

/// Extended DNS Error options found in an OPT record's RDATA, re-encoded
/// contiguously. Other options (cookies, padding, keepalive) are hop-by-hop and dropped.
pub fn keep_ede_options(options: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= options.len() {
        let code = read_u16(options, at);
        let len = usize::from(read_u16(options, at + 2));
        let end = (at + 4 + len).min(options.len());
        if code == OPT_EDE {
            out.extend_from_slice(&options[at..end]);
        }
        at = end;
    }
    out
}

/// Presentation format of a wire name (for logs and errors).
pub fn name_to_text(wire: &[u8]) -> String {
    let mut s = String::new();
    let mut at = 0;
    while let Some(&len) = wire.get(at) {
        if len == 0 || len > 63 {
            break;
        }
        let label = wire.get(at + 1..at + 1 + usize::from(len)).unwrap_or(&[]);
        for &c in label {
            if c.is_ascii_graphic() && c != b'.' && c != b'\\' {
                s.push(char::from(c));
            } else {
                s.push_str(&format!("\\{c:03}"));
            }
        }
        s.push('.');
        at += 1 + usize::from(len);
    }
    if s.is_empty() {
        s.push('.');
    }
    s
}

/// Human-readable name of a record type for logs.
pub struct TypeName(pub u16);

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = hickory_proto::rr::RecordType::from(self.0);
        write!(f, "{t}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[&str], qtype: u16, edns: Option<(u16, bool)>) -> Vec<u8> {
        let mut p = vec![
            0x12,
            0x34,
            0x01,
            0x00,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            u8::from(edns.is_some()),
        ];
        for l in name {
            p.push(l.len() as u8);
            p.extend_from_slice(l.as_bytes());
        }
        p.push(0);
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&CLASS_IN.to_be_bytes());
        if let Some((size, dok)) = edns {
            OptOut {
                payload: size,
                dnssec_ok: dok,
                ext_rcode: 0,
                ede: None,
                raw_options: &[],
            }
            .write(&mut p);
        }
        p
    }

    /// A query carrying `options` (already encoded) in its OPT record.
    fn query_with_options(options: &[u8]) -> Vec<u8> {
        let mut p = query(&["example", "com"], 1, None);
        p[11] = 1;
        OptOut {
            payload: 1232,
            dnssec_ok: false,
            ext_rcode: 0,
            ede: None,
            raw_options: options,
        }
        .write(&mut p);
        p
    }

    fn option(code: u16, data: &[u8]) -> Vec<u8> {
        let mut o = code.to_be_bytes().to_vec();
        o.extend_from_slice(&(data.len() as u16).to_be_bytes());
        o.extend_from_slice(data);
        o
    }

    fn named(options: &[u8]) -> ForwardedFor {
        let p = query_with_options(options);
        parse_query(&p).expect("valid").forwarded_for
    }

    const DEVICE: Mac = Mac([0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]);

    #[test]
    fn reads_the_mac_in_each_form_dnsmasq_sends() {
        assert_eq!(named(&option(OPT_MAC, &DEVICE.0)).mac, Some(DEVICE));
        // --add-mac=text, in either case.
        let text = option(OPT_DEVICE_ID, b"02:1A:2b:3c:4d:5e");
        assert_eq!(named(&text).mac, Some(DEVICE));
        // --add-mac=base64: three bytes to four characters, twice, no padding.
        let b64 = option(OPT_DEVICE_ID, b"AhorPE1e");
        assert_eq!(named(&b64).mac, Some(DEVICE));
        for junk in [
            &b"02:1a:2b:3c:4d"[..],
            b"02-1a-2b-3c-4d-5e",
            b"AhorPE1=",
            b"zz:1a:2b:3c:4d:5e",
        ] {
            assert_eq!(named(&option(OPT_DEVICE_ID, junk)).mac, None, "{junk:?}");
        }
        assert_eq!(named(&option(OPT_MAC, &DEVICE.0[..5])).mac, None);
    }

    #[test]
    fn reads_a_whole_address_from_client_subnet_only() {
        let v4 = option(OPT_CLIENT_SUBNET, &[0, 1, 32, 0, 192, 168, 1, 23]);
        assert_eq!(named(&v4).ip, Some("192.168.1.23".parse().expect("ip")));
        let mut v6 = vec![0, 2, 128, 0];
        v6.extend_from_slice(
            &"fd00::17"
                .parse::<std::net::Ipv6Addr>()
                .expect("ip")
                .octets(),
        );
        assert_eq!(
            named(&option(OPT_CLIENT_SUBNET, &v6)).ip,
            Some("fd00::17".parse().expect("ip"))
        );
        // A network (dnsmasq's default prefix is 0: "add nothing") names no device.
        for data in [
            &[0, 1, 24, 0, 192, 168, 1][..],
            &[0, 1, 0, 0],
            &[0, 1, 32, 0, 192, 168, 1],
        ] {
            assert_eq!(
                named(&option(OPT_CLIENT_SUBNET, data)),
                ForwardedFor::NONE,
                "{data:?}"
            );
        }
    }

    #[test]
    fn reads_mac_and_address_together_among_other_options() {
        let mut opts = option(10, &[1, 2, 3, 4, 5, 6, 7, 8]);
        opts.extend(option(OPT_CLIENT_SUBNET, &[0, 1, 32, 0, 10, 0, 0, 9]));
        opts.extend(option(OPT_MAC, &DEVICE.0));
        let got = named(&opts);
        assert_eq!(got.mac, Some(DEVICE));
        assert_eq!(got.ip, Some("10.0.0.9".parse().expect("ip")));
        assert_eq!(named(&option(10, &[1; 8])), ForwardedFor::NONE);
    }

    #[test]
    fn an_option_running_past_the_record_is_still_formerr() {
        let mut p = query_with_options(&option(OPT_MAC, &DEVICE.0));
        // Claim two bytes more than the OPT record holds.
        let len_at = p.len() - 6 - 2;
        p[len_at + 1] += 2;
        assert!(matches!(parse_query(&p), Err((QueryError::FormErr, _))));
    }

    #[test]
    fn parses_plain_and_edns_queries() {
        let p = query(&["Example", "COM"], 1, None);
        let q = parse_query(&p).expect("valid");
        assert_eq!(q.qtype, 1);
        assert_eq!(q.id(), 0x1234);
        assert!(q.edns.is_none());
        assert_eq!(q.qname_text(), "Example.COM.");
        let mut buf = [0u8; MAX_KEY_LEN];
        assert_eq!(&q.cache_key(&mut buf)[..13], b"\x07example\x03com\x00");

        let p = query(&["a"], 28, Some((4096, true)));
        let q = parse_query(&p).expect("valid");
        assert_eq!(
            q.edns,
            Some(Edns {
                payload: 4096,
                dnssec_ok: true
            })
        );
        assert_eq!(q.udp_limit(1232), 1232);
        let p = query(&["a"], 28, Some((100, false)));
        assert_eq!(parse_query(&p).expect("valid").udp_limit(1232), 512);
    }

    #[test]
    fn rejects_malformed_queries() {
        assert_eq!(parse_query(&[1, 2, 3]).unwrap_err().0, QueryError::Drop);
        let mut p = query(&["a"], 1, None);
        p.push(0); // trailing garbage
        assert_eq!(parse_query(&p).unwrap_err().0, QueryError::FormErr);
        let mut p = query(&["a"], 1, None);
        p[2] |= 0x80; // a response
        assert_eq!(parse_query(&p).unwrap_err().0, QueryError::Drop);
        let mut p = query(&["a"], 1, None);
        p[12] = 0xc0; // compression pointer in the question
        assert_eq!(parse_query(&p).unwrap_err().0, QueryError::FormErr);
        let mut p = query(&["a"], 1, None);
        p[2] |= 0x10; // opcode 2 (STATUS)
        assert_eq!(parse_query(&p).unwrap_err().0, QueryError::NotImp);
        let mut p = query(&["a"], 1, Some((1232, false)));
        let v = p.len() - 5; // EDNS version byte
        p[v] = 1;
        assert_eq!(parse_query(&p).unwrap_err().0, QueryError::BadVers);
    }

    #[test]
    fn error_response_echoes_question_and_edns() {
        let p = query(&["a", "b"], 1, Some((1232, true)));
        let q = parse_query(&p).expect("valid");
        let mut out = Vec::new();
        write_empty_response(
            &p,
            Some(&q),
            Rcode::ServFail,
            0,
            1232,
            Some((22, "x")),
            &mut out,
        );
        let msg = hickory_proto::op::Message::from_vec(&out).expect("decodes");
        assert_eq!(
            msg.metadata.response_code,
            hickory_proto::op::ResponseCode::ServFail
        );
        assert_eq!(msg.queries.len(), 1);
        assert!(msg.edns.is_some());
    }

    #[test]
    fn compressed_names_expand() {
        // "a.example." at 0, then "b" + pointer to 0 at 11.
        let msg = b"\x01a\x07example\x00\x01b\xc0\x00";
        let mut out = [0u8; MAX_NAME_LEN + 1];
        let n = expand_name(msg, 11, &mut out).unwrap();
        assert_eq!(&out[..n], b"\x01b\x01a\x07example\x00");
        // A pointer loop is refused.
        assert!(expand_name(b"\xc0\x00", 0, &mut out).is_none());
    }

    #[test]
    fn names_with_odd_bytes_print_escaped() {
        assert_eq!(name_to_text(b"\x03a.b\x00"), "a\\046b.");
        assert_eq!(name_to_text(b"\x00"), ".");
    }
}
