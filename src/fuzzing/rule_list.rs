//! Every list parser: a rule file of any format (hosts, plain, wildcard, adblock
//! with modifiers, `$dnsrewrite`, regex) as a blocklist or an allowlist, or a
//! keyword list; compiled, then asked about a few names.
//!
//! Input: byte 0 picks the list kind, the rest is the file (gzip included).

use crate::rules::CategoryMask;
use crate::rules::compile::{Builder, ListKind};
use crate::rules::name::Candidate;
use crate::rules::parse::ClientInfo;

const NAMES: &[&str] = &[
    "example.com",
    "ads.example.com",
    "a.b.c.d.e.f.example.org",
    "xn--bcher-kva.example",
    "casino",
    "1.2.3.4.in-addr.arpa",
];

pub fn rule_list(data: &[u8]) {
    let Some((&kind, text)) = data.split_first() else {
        return;
    };
    let kind = match kind % 3 {
        0 => ListKind::Block,
        1 => ListKind::Allow,
        _ => ListKind::Keywords,
    };
    let mut b = Builder::new();
    let Ok(cat) = b.category("fuzz", "Fuzz") else {
        return;
    };
    if b.add_source("fuzz.txt", text, cat, kind).is_err() {
        return;
    }
    b.profile("p", CategoryMask::default().with(cat));
    let Ok((rules, diagnostics)) = b.build() else {
        return;
    };
    assert!(diagnostics.rules() + diagnostics.rejected() <= text.len() + 1);
    let Some(mask) = rules.profile_mask("p") else {
        return;
    };
    let client = ClientInfo {
        ip: Some([192, 168, 1, 20].into()),
        name: Some("kid"),
    };
    for name in NAMES {
        if let Some(c) = Candidate::from_text(name) {
            for qtype in [1, 28, 65] {
                let _ = rules.check(&c, qtype, &client, mask, false);
                let _ = rules.check(&c, qtype, &client, mask, true);
            }
        }
    }
}
