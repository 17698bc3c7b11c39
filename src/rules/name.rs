//! Domain names as rules and queries see them: lowercase ASCII, no trailing
//! dot, Unicode converted to punycode.
//!
//! A rule name is normalised once, when its list is read. A query name is
//! turned into a [`Candidate`] once per query, on the stack, and every matcher
//! reads that one candidate.

/// Longest name in presentation form without the trailing dot.
pub const MAX_NAME: usize = 253;
const MAX_LABELS: usize = 128;

/// Why a rule's name was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty name")]
    Empty,
    #[error("name longer than 253 characters")]
    TooLong,
    #[error("empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    #[error("label longer than 63 characters")]
    LabelTooLong,
    #[error("character {0:?} is not allowed in a domain name")]
    BadChar(char),
    #[error("`{0}` is an IP address, not a domain name")]
    IpAddress(String),
    #[error("not a valid internationalised name")]
    Idna,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
}

/// Normalises a domain name written in a rule: lowercase, trailing dot removed,
/// Unicode labels converted to punycode (UTS 46), every label checked.
pub fn normalize(raw: &str) -> Result<String, NameError> {
    let trimmed = raw.strip_suffix('.').unwrap_or(raw);
    if trimmed.is_empty() {
        return Err(NameError::Empty);
    }
    let ascii = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(trimmed).map_err(|_| NameError::Idna)?
    };
    validate(&ascii)?;
    Ok(ascii)
}

/// A normalised name (see [`normalize`]) in DNS wire form.
pub fn to_wire(name: &str) -> Vec<u8> {
    let mut wire = Vec::with_capacity(name.len() + 2);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        wire.push(label.len() as u8);
        wire.extend_from_slice(label.as_bytes());
    }
    wire.push(0);
    wire
}

/// Checks an already lowercase ASCII name.
pub fn validate(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME {
        return Err(NameError::TooLong);
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(NameError::LabelTooLong);
        }
        if let Some(c) = label.bytes().find(|&b| !is_name_byte(b)) {
            return Err(NameError::BadChar(char::from(c)));
        }
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(NameError::IpAddress(name.to_string()));
    }
    Ok(())
}

/// A query name ready for matching: lowercase bytes without the trailing dot,
/// and where each label starts. Lives on the stack; building one allocates nothing.
pub struct Candidate {
    buf: [u8; MAX_NAME + 2],
    len: u8,
    starts: [u8; MAX_LABELS],
    labels: u8,
}

impl Candidate {
    /// From a wire-format QNAME (as in a query packet). Returns None for the root
    /// or a name that does not fit (which cannot happen for a parsed query).
    pub fn from_wire(wire: &[u8]) -> Option<Candidate> {
        let mut c = Candidate::empty();
        let mut at = 0usize;
        let mut len = 0usize;
        while let Some(&l) = wire.get(at) {
            let l = usize::from(l);
            if l == 0 {
                break;
            }
            if l > 63 || c.labels as usize >= MAX_LABELS {
                return None;
            }
            if len > 0 {
                *c.buf.get_mut(len)? = b'.';
                len += 1;
            }
            c.starts[usize::from(c.labels)] = u8::try_from(len).ok()?;
            c.labels += 1;
            let label = wire.get(at + 1..at + 1 + l)?;
            let dst = c.buf.get_mut(len..len + l)?;
            for (d, s) in dst.iter_mut().zip(label) {
                *d = s.to_ascii_lowercase();
            }
            len += l;
            at += 1 + l;
        }
        if len == 0 || len > MAX_NAME {
            return None;
        }
        c.len = len as u8;
        Some(c)
    }

    /// From presentation text (tests, `nestguard explain`). Unicode is converted to punycode.
    pub fn from_text(text: &str) -> Option<Candidate> {
        Candidate::from_wire(&to_wire(&normalize(text).ok()?))
    }

    fn empty() -> Candidate {
        Candidate {
            buf: [0; MAX_NAME + 2],
            len: 0,
            starts: [0; MAX_LABELS],
            labels: 0,
        }
    }

    /// The whole name, e.g. `www.example.com`.
    pub fn name(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// Number of labels.
    pub fn label_count(&self) -> usize {
        usize::from(self.labels)
    }

    /// The name from label `i` on: suffix(0) is the whole name, the last one the TLD.
    pub fn suffix(&self, i: usize) -> &[u8] {
        &self.buf[usize::from(self.starts[i])..usize::from(self.len)]
    }

    /// Presentation form (allocates; not for the hot path).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.name()).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_dots_and_unicode() {
        assert_eq!(normalize("WWW.Example.COM.").unwrap(), "www.example.com");
        assert_eq!(
            normalize("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize("_dmarc.example.com").unwrap(),
            "_dmarc.example.com"
        );
        assert_eq!(normalize("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(normalize("a b"), Err(NameError::BadChar(' ')));
        assert!(matches!(
            normalize("127.0.0.1"),
            Err(NameError::IpAddress(_))
        ));
        assert_eq!(normalize(&"a".repeat(64)), Err(NameError::LabelTooLong));
    }

    #[test]
    fn candidate_suffixes() {
        let c = Candidate::from_text("WWW.Example.com.").unwrap();
        assert_eq!(c.name(), b"www.example.com");
        assert_eq!(c.label_count(), 3);
        assert_eq!(c.suffix(0), b"www.example.com");
        assert_eq!(c.suffix(1), b"example.com");
        assert_eq!(c.suffix(2), b"com");
        let c = Candidate::from_text("bücher.example").unwrap();
        assert_eq!(c.name(), b"xn--bcher-kva.example");
        assert!(Candidate::from_wire(b"\0").is_none());
    }
}
