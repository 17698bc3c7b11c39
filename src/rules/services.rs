//! The services catalogue (`rules/services.toml`): apps and sites as parents
//! name them ("TikTok", "YouTube", "Roblox"), each with every domain it
//! needs, and the matcher that tells which service a query name belongs to.
//!
//! Services are not categories: a category is a list the rules block or
//! allow; a service is a set of names a parent blocks, allows, opens on a
//! schedule or gives a daily budget, per child. There are more services
//! than the 64 categories a mask holds, so they have a mask of their own
//! ([`ServiceMask`]).

use std::collections::HashMap;

use serde::Deserialize;

use super::catalog::{RulesDir, parse_toml};
use super::name::{self, Candidate};
use crate::config::ConfigError;

/// At most this many services (the width of [`ServiceMask`]).
pub const MAX_SERVICES: usize = 256;

/// The highest `min_age` a service may give: no service's terms ask for more
/// than 21 (the oldest legal gambling age), so a larger number is a typo.
pub const MAX_MIN_AGE: u8 = 21;

/// Top-level names that are not on the public DNS (RFC 6761, 6762, 7686,
/// 8375, ICANN's `.internal`): a device never asks the resolver about a
/// service under them, so a catalogue line naming one is a mistake (NextDNS's
/// Spotify list has the mDNS name `_spotify-connect._tcp.local`).
const SPECIAL_USE: [&str; 8] = [
    "local",
    "localhost",
    "test",
    "invalid",
    "example",
    "onion",
    "arpa",
    "internal",
];

/// What kind of service it is (the dashboard and the report group by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceGroup {
    Video,
    ShortVideo,
    Social,
    Chat,
    Games,
    AiChatbots,
    Dating,
    Shopping,
    Streaming,
    Music,
    Gambling,
    Forums,
    Other,
}

impl ServiceGroup {
    /// Every group, in the order of [`ServiceGroup::index`].
    pub const ALL: [ServiceGroup; 13] = [
        ServiceGroup::Video,
        ServiceGroup::ShortVideo,
        ServiceGroup::Social,
        ServiceGroup::Chat,
        ServiceGroup::Games,
        ServiceGroup::AiChatbots,
        ServiceGroup::Dating,
        ServiceGroup::Shopping,
        ServiceGroup::Streaming,
        ServiceGroup::Music,
        ServiceGroup::Gambling,
        ServiceGroup::Forums,
        ServiceGroup::Other,
    ];

    /// Its place in [`ServiceGroup::ALL`] (counters are kept per group).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The group's id as written in `services.toml` (`short-video`).
    pub fn id(self) -> &'static str {
        match self {
            ServiceGroup::Video => "video",
            ServiceGroup::ShortVideo => "short-video",
            ServiceGroup::Social => "social",
            ServiceGroup::Chat => "chat",
            ServiceGroup::Games => "games",
            ServiceGroup::AiChatbots => "ai-chatbots",
            ServiceGroup::Dating => "dating",
            ServiceGroup::Shopping => "shopping",
            ServiceGroup::Streaming => "streaming",
            ServiceGroup::Music => "music",
            ServiceGroup::Gambling => "gambling",
            ServiceGroup::Forums => "forums",
            ServiceGroup::Other => "other",
        }
    }
}

/// One `[[service]]` of `services.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    /// Lowercase letters, digits and `-` (`youtube`, `epic-games`).
    pub id: String,
    /// As people write it (`YouTube`).
    pub name: String,
    pub group: ServiceGroup,
    /// The youngest age the service's own terms (or PEGI/app-store rating) allow.
    pub min_age: u8,
    /// Every domain the service needs; each covers its subdomains.
    pub domains: Vec<toml::Spanned<String>>,
    /// Domains of `domains` that another service needs too (a shared CDN or
    /// login host): listed by both, marked here by both.
    #[serde(default)]
    pub shared: Vec<String>,
    /// Where the domains came from (`nextdns-services (MIT)`, a vendor's
    /// documentation URL, `hand-checked 2026-12`).
    pub sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    #[serde(default)]
    service: Vec<toml::Spanned<ServiceDef>>,
}

/// The services of a rules directory (none if it has no `services.toml`),
/// checked: ids valid and unique, domains valid names, no domain claimed by
/// two services unless both mark it `shared`.
pub fn load_services(dir: &RulesDir) -> Result<Vec<ServiceDef>, ConfigError> {
    const REL: &str = "services.toml";
    if !dir.has(REL) {
        return Ok(Vec::new());
    }
    let (file, text): (ServicesFile, String) = parse_toml(dir, REL)?;
    let origin = dir.display(REL);
    let at = |span: std::ops::Range<usize>, msg: String| {
        ConfigError::at(&origin, &text, Some(span), msg)
    };
    if file.service.len() > MAX_SERVICES {
        return Err(ConfigError::plain(
            &origin,
            format!("at most {MAX_SERVICES} services"),
        ));
    }
    let mut claimed: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<ServiceDef> = Vec::with_capacity(file.service.len());
    for s in file.service {
        let span = s.span();
        let mut def = s.into_inner();
        let valid = !def.id.is_empty()
            && def
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(at(
                span,
                format!(
                    "service id `{}`: use lowercase letters, digits and `-`",
                    def.id
                ),
            ));
        }
        if out.iter().any(|o| o.id == def.id) {
            return Err(at(span, format!("service `{}` is defined twice", def.id)));
        }
        if def.domains.is_empty() {
            return Err(at(span, format!("service `{}` has no domains", def.id)));
        }
        if let Some(msg) = check_fields(&def) {
            return Err(at(span, msg));
        }
        // Compared with the normalised domains below, so written the same way.
        for x in &mut def.shared {
            if let Ok(n) = name::normalize(x) {
                *x = n;
            }
        }
        for d in &mut def.domains {
            let n = name::normalize(d.get_ref())
                .and_then(|n| name::validate(&n).map(|()| n))
                .map_err(|e| at(d.span(), format!("`{}`: {e}", d.get_ref())))?;
            if let Some(msg) = not_public(&n) {
                return Err(at(d.span(), format!("`{n}`: {msg}")));
            }
            if let Some(&other) = claimed.get(&n) {
                if other == out.len() {
                    return Err(at(
                        d.span(),
                        format!("`{n}` is listed twice in `{}`", def.id),
                    ));
                }
                let both = def.shared.contains(&n) && out[other].shared.contains(&n);
                if !both {
                    return Err(at(
                        d.span(),
                        format!(
                            "`{n}` is claimed by `{}` too; mark it `shared` in both or keep it in one",
                            out[other].id
                        ),
                    ));
                }
            } else {
                claimed.insert(n.clone(), out.len());
            }
            *d = toml::Spanned::new(d.span(), n);
        }
        // A `shared` entry that is not one of the service's domains marks
        // nothing: a typo there would silently turn a shared host into a
        // double claim elsewhere, or hide that the service lost the domain.
        if let Some(x) = def
            .shared
            .iter()
            .find(|x| !def.domains.iter().any(|d| d.get_ref() == *x))
        {
            return Err(at(
                span,
                format!(
                    "service `{}`: shared `{x}` is not one of its domains",
                    def.id
                ),
            ));
        }
        out.push(def);
    }
    Ok(out)
}

/// What is wrong with a service's own fields (not its domains), if anything.
fn check_fields(def: &ServiceDef) -> Option<String> {
    if def.name.trim().is_empty() {
        return Some(format!("service `{}` has no name", def.id));
    }
    if def.min_age > MAX_MIN_AGE {
        return Some(format!(
            "service `{}`: min_age {} is above {MAX_MIN_AGE}",
            def.id, def.min_age
        ));
    }
    if def.sources.iter().all(|s| s.trim().is_empty()) {
        return Some(format!(
            "service `{}` has no sources: say where its domains came from",
            def.id
        ));
    }
    None
}

/// Why a normalised name cannot be a service's domain, if it cannot: a
/// single label would claim a whole top-level domain (NextDNS's YouTube list
/// has `youtube`, Google's brand TLD), and special-use names never reach a
/// resolver.
fn not_public(n: &str) -> Option<&'static str> {
    if !n.contains('.') {
        return Some(
            "a service domain needs at least two labels (a whole top-level domain is never one service's)",
        );
    }
    let tld = n.rsplit('.').next().unwrap_or(n);
    SPECIAL_USE
        .contains(&tld)
        .then_some("a special-use name (mDNS, local or reserved), never asked of a public resolver")
}

/// The index of a service in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(pub u8);

/// A set of services: one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceMask(pub [u64; MAX_SERVICES / 64]);

impl ServiceMask {
    pub const NONE: ServiceMask = ServiceMask([0; MAX_SERVICES / 64]);

    pub fn with(mut self, s: ServiceId) -> ServiceMask {
        self.0[usize::from(s.0) / 64] |= 1u64 << (s.0 % 64);
        self
    }

    pub fn contains(&self, s: ServiceId) -> bool {
        self.0[usize::from(s.0) / 64] & (1u64 << (s.0 % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    pub fn and(mut self, other: ServiceMask) -> ServiceMask {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a &= b;
        }
        self
    }

    pub fn without(mut self, other: ServiceMask) -> ServiceMask {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a &= !b;
        }
        self
    }

    /// The first service in it.
    pub fn first(&self) -> Option<ServiceId> {
        self.0
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| ServiceId((i * 64 + w.trailing_zeros() as usize) as u8))
    }

    pub fn union(mut self, other: ServiceMask) -> ServiceMask {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        self
    }

    /// Calls `f` for each service in it; allocates nothing.
    pub fn for_each(&self, mut f: impl FnMut(ServiceId)) {
        for (i, w) in self.0.iter().enumerate() {
            let mut w = *w;
            while w != 0 {
                f(ServiceId((i * 64 + w.trailing_zeros() as usize) as u8));
                w &= w - 1;
            }
        }
    }

    /// The services in it, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = ServiceId> + '_ {
        (0..MAX_SERVICES)
            .filter(|&i| self.0[i / 64] & (1u64 << (i % 64)) != 0)
            .map(|i| ServiceId(i as u8))
    }
}

/// The services of the name being answered, looked up at most once per
/// query: the engine's service rules and the activity counters both need
/// them, and the first to ask fills this in for the other.
#[derive(Default)]
pub struct ServicesSeen(std::cell::Cell<Option<ServiceMask>>);

impl ServicesSeen {
    /// The services of `name` (the query's name) by `index`.
    pub fn of(&self, index: &ServiceIndex, name: &Candidate) -> ServiceMask {
        if let Some(m) = self.0.get() {
            return m;
        }
        let m = index.services_of(name);
        self.0.set(Some(m));
        m
    }

    /// The same, from the name in wire form (parsed only if not yet known).
    pub fn of_wire(&self, index: &ServiceIndex, qname_wire: &[u8]) -> ServiceMask {
        if let Some(m) = self.0.get() {
            return m;
        }
        match Candidate::from_wire(qname_wire) {
            Some(name) => self.of(index, &name),
            None => ServiceMask::NONE,
        }
    }
}

/// Which service a name belongs to: the most specific domain of any service
/// that is the name or a parent of it. Allocates nothing per lookup.
#[derive(Default)]
pub struct ServiceIndex {
    defs: Vec<ServiceDef>,
    /// Domain (lowercase, no trailing dot) → the services that claim it
    /// (more than one only for a `shared` domain).
    by_domain: HashMap<Box<[u8]>, ServiceMask, foldhash::fast::RandomState>,
}

impl ServiceIndex {
    pub fn new(defs: Vec<ServiceDef>) -> ServiceIndex {
        let mut by_domain: HashMap<Box<[u8]>, ServiceMask, foldhash::fast::RandomState> =
            HashMap::default();
        for (i, def) in defs.iter().enumerate().take(MAX_SERVICES) {
            for d in &def.domains {
                let m = by_domain.entry(d.get_ref().as_bytes().into()).or_default();
                *m = m.with(ServiceId(i as u8));
            }
        }
        ServiceIndex { defs, by_domain }
    }

    /// The services a name belongs to (empty if none). A shared domain
    /// belongs to each service that claims it.
    pub fn services_of(&self, name: &Candidate) -> ServiceMask {
        if self.by_domain.is_empty() {
            return ServiceMask::NONE;
        }
        (0..name.label_count())
            .find_map(|i| self.by_domain.get(name.suffix(i)).copied())
            .unwrap_or(ServiceMask::NONE)
    }

    pub fn get(&self, s: ServiceId) -> Option<&ServiceDef> {
        self.defs.get(usize::from(s.0))
    }

    /// The service of this id (`youtube`).
    pub fn id_of(&self, id: &str) -> Option<ServiceId> {
        self.defs
            .iter()
            .position(|d| d.id == id)
            .map(|i| ServiceId(i as u8))
    }

    pub fn defs(&self) -> &[ServiceDef] {
        &self.defs
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}
