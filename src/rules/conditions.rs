//! What a rule asks of a query beyond its name.

use super::parse::{ClientFilter, ClientInfo, Rewrite, TypeFilter};

/// Conditions of a rule beyond its name (`$dnstype`, `$client`, `$denyallow`) and its rewrite.
#[derive(Clone, Debug)]
pub struct Conditions {
    pub line: u32,
    pub dnstype: Option<TypeFilter>,
    pub client: Option<ClientFilter>,
    pub denyallow: Box<[Box<str>]>,
    pub rewrite: Option<Rewrite>,
}

impl Conditions {
    pub fn applies(&self, name: &[u8], qtype: u16, client: &ClientInfo<'_>) -> bool {
        self.dnstype.as_ref().is_none_or(|t| t.allows(qtype))
            && self.client.as_ref().is_none_or(|c| c.allows(client))
            && !self
                .denyallow
                .iter()
                .any(|d| in_subtree(name, d.as_bytes()))
    }
}

/// `name` is `domain` or one of its subdomains.
fn in_subtree(name: &[u8], domain: &[u8]) -> bool {
    name.ends_with(domain)
        && (name.len() == domain.len() || name[name.len() - domain.len() - 1] == b'.')
}
