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
        for d in &mut def.domains {
            let n = name::normalize(d.get_ref())
                .and_then(|n| name::validate(&n).map(|()| n))
                .map_err(|e| at(d.span(), format!("`{}`: {e}", d.get_ref())))?;
            if let Some(&other) = claimed.get(&n) {
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
        out.push(def);
    }
    Ok(out)
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

    pub fn union(mut self, other: ServiceMask) -> ServiceMask {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        self
    }

    /// The services in it, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = ServiceId> + '_ {
        (0..MAX_SERVICES)
            .filter(|&i| self.0[i / 64] & (1u64 << (i % 64)) != 0)
            .map(|i| ServiceId(i as u8))
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
