//! The shipped rules: categories (`rules/categories.toml`), age profiles
//! (`rules/profiles/*.toml`) and their lists, read from the copy embedded in the
//! binary or from a directory (`rules.dir`), compiled together with the
//! admin's own lists from the config.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Deserialize;

use super::compile::{self, Builder, CompileError, Diagnostics, ListKind, Provenance};
use super::guard::Guard;
use super::set::SourceLocation;
use super::{CategoryId, CategoryMask, RuleSet, name};
use crate::config::{ConfigError, ListConfig, RulesConfig};

/// `rules/` as build.rs copies it: every file gzip-compressed (a `*.gz` one
/// as it is), read back one file at a time by [`embedded`].
static EMBEDDED: Dir<'static> = include_dir!("$OUT_DIR/rules");

/// The bytes of an embedded file as they are in `rules/`: decompressed, but
/// a `*.gz` file as it is (the compiler reads gzip itself).
fn embedded(rel: &str) -> Option<Result<Cow<'static, [u8]>, String>> {
    let stored = EMBEDDED.get_file(rel)?.contents();
    if rel.ends_with(".gz") {
        return Some(Ok(Cow::Borrowed(stored)));
    }
    let mut bytes = Vec::with_capacity(embedded_len(stored));
    Some(
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(stored), &mut bytes)
            .map(|_| Cow::Owned(bytes))
            .map_err(|e| format!("<builtin>/rules/{rel}: {e}")),
    )
}

/// The size of an embedded file as it is in `rules/` (a `*.gz` one
/// decompressed, as [`size_of`] counts it), from the gzip trailer.
fn embedded_size(rel: &str) -> Option<u64> {
    EMBEDDED
        .get_file(rel)
        .and_then(|f| compile::gzip_size_hint(f.contents()))
}

fn embedded_len(gz: &[u8]) -> usize {
    compile::gzip_size_hint(gz).map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// A Better Internet for Kids (BIK+) risk area a category addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Risk {
    SexualContent,
    Violence,
    SelfHarm,
    Gambling,
    Drugs,
    Grooming,
    Cyberbullying,
    SocialMedia,
    AddictiveDesign,
    ScamsMalware,
    Bypass,
    Privacy,
    Disinformation,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    pub id: String,
    pub name: String,
    pub description: String,
    pub risks: Vec<Risk>,
    #[serde(default)]
    pub lists: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    /// Token-score files (`token weight` lines and a threshold); may be [] or left out.
    #[serde(default)]
    pub score: Vec<String>,
    /// A security list (malware, scams) rather than household policy: blocked
    /// answers carry EDE 15 "Blocked" instead of 17 "Filtered".
    #[serde(default)]
    pub security: bool,
    /// Third-party opinion (piracy, drugs, social media …): its shipped and
    /// subscribed lists never block what the public-institution guard covers.
    #[serde(default)]
    pub opinion: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoriesFile {
    category: Vec<toml::Spanned<CategoryDef>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDef {
    pub id: String,
    pub name: String,
    pub description: String,
    pub ages: String,
    pub block: Vec<toml::Spanned<String>>,
    #[serde(default)]
    pub allow: Vec<toml::Spanned<String>>,
    /// Allow files (relative to rules/) whose names join `allow`: the
    /// support sites a profile never blocks (`support/allow.txt`).
    #[serde(default)]
    pub allow_lists: Vec<toml::Spanned<String>>,
    /// Answer the search engines of `safesearch.toml` with their safe-search hosts.
    #[serde(default)]
    pub safe_search: bool,
    #[serde(default)]
    pub youtube: YoutubeLevel,
    /// What the activity report keeps of domain names (`aggregate`,
    /// `blocked-domains`, `detailed`); the config may change it.
    #[serde(default)]
    pub activity: crate::config::Privacy,
    /// With every upstream down and no stale answer: SERVFAIL (`closed`, the
    /// default) or the fallback upstreams (`open`); the config may change it.
    #[serde(default)]
    pub upstream_failure: crate::config::UpstreamFailure,
    /// For a child's profile: the shipped profile it was made from.
    #[serde(skip)]
    pub base: Option<String>,
    /// Sites the parent always allows / always blocks (`allow_sites`,
    /// `block_sites` in the config).
    #[serde(skip)]
    pub own_allow: Vec<String>,
    #[serde(skip)]
    pub own_block: Vec<String>,
    /// The category holding what stays reachable in allow-only windows (help
    /// lines, bedtime allows): set when the rules are compiled.
    #[serde(skip)]
    pub allowlist: Option<String>,
}

impl ProfileDef {
    /// Applies a config's changes (`[profile.<id>]` or a `[[child]]`).
    fn apply(
        &mut self,
        t: &crate::config::Tweaks,
        categories: &[CategoryDef],
    ) -> Result<(), String> {
        for c in &t.block_categories {
            let c = c.get_ref();
            if !categories.iter().any(|d| &d.id == c) {
                return Err(format!("profile `{}`: no category `{c}`", self.id));
            }
            if !self.block.iter().any(|b| b.get_ref() == c) {
                self.block.push(toml::Spanned::new(0..0, c.clone()));
            }
        }
        for c in &t.allow_categories {
            self.block.retain(|b| b.get_ref() != c.get_ref());
        }
        for (sites, into) in [
            (&t.allow_sites, &mut self.own_allow),
            (&t.block_sites, &mut self.own_block),
        ] {
            for s in sites {
                into.push(
                    name::normalize(s.get_ref()).map_err(|e| format!("`{}`: {e}", s.get_ref()))?,
                );
            }
        }
        if let Some(v) = t.safe_search {
            self.safe_search = v;
        }
        if let Some(v) = t.youtube {
            self.youtube = v;
        }
        if let Some(v) = t.upstream_failure {
            self.upstream_failure = v;
        }
        Ok(())
    }
}

/// The catalog with the config's changes: `[profile.<id>]` applied to the
/// shipped profiles, then one profile per child made from their band's.
fn with_changes(mut catalog: Catalog, config: &RulesConfig) -> Result<Catalog, ConfigError> {
    let fail = |m: String| ConfigError::plain("<config>", m);
    for (id, t) in &config.tweaks {
        let categories = &catalog.categories;
        let p = catalog
            .profiles
            .iter_mut()
            .find(|p| &p.id == id)
            .ok_or_else(|| fail(format!("[profile.{id}]: no such profile")))?;
        p.apply(t, categories).map_err(fail)?;
    }
    for d in &config.derived {
        if catalog.profiles.iter().any(|p| p.id == d.id) {
            return Err(fail(format!(
                "child `{}`: the id `{}` is a profile's; give the child another name",
                d.name, d.id
            )));
        }
        let mut p = catalog
            .profiles
            .iter()
            .find(|p| p.id == d.base)
            .cloned()
            .ok_or_else(|| fail(format!("child `{}`: no profile `{}`", d.name, d.base)))?;
        p.id = d.id.clone();
        p.name = d.name.clone();
        p.base = Some(d.base.clone());
        p.apply(&d.tweaks, &catalog.categories).map_err(fail)?;
        catalog.profiles.push(p);
    }
    Ok(catalog)
}

/// YouTube restricted mode for a profile (a config value too: `youtube = "strict"`).
pub use crate::config::YoutubeLevel;

/// `safesearch.toml`: which names are answered with which safe-search host.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeSearchDef {
    pub search: Vec<SearchDef>,
    pub youtube: YoutubeDef,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchDef {
    pub id: String,
    pub target: String,
    pub hosts: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YoutubeDef {
    pub hosts: Vec<String>,
    pub moderate: String,
    pub strict: String,
}

/// Where the shipped rules are read from.
#[derive(Clone, Debug)]
pub enum RulesDir {
    /// The copy compiled into the binary.
    Embedded,
    Path(PathBuf),
}

impl RulesDir {
    pub fn from_config(config: &RulesConfig) -> RulesDir {
        config
            .dir
            .clone()
            .map_or(RulesDir::Embedded, RulesDir::Path)
    }

    /// How a file of this directory is named in messages.
    pub fn display(&self, rel: &str) -> String {
        match self {
            RulesDir::Embedded => format!("<builtin>/rules/{rel}"),
            RulesDir::Path(p) => p.join(rel).display().to_string(),
        }
    }

    fn location(&self, rel: &str) -> SourceLocation {
        match self {
            RulesDir::Embedded => SourceLocation::Embedded(rel.to_string()),
            RulesDir::Path(p) => SourceLocation::File(p.join(rel)),
        }
    }

    pub fn read(&self, rel: &str) -> Result<Cow<'static, [u8]>, String> {
        match self {
            RulesDir::Embedded => {
                embedded(rel).unwrap_or_else(|| Err(format!("{}: not found", self.display(rel))))
            }
            RulesDir::Path(p) => crate::sources::read(&p.join(rel))
                .map(Cow::Owned)
                .map_err(|e| format!("{}: {e}", self.display(rel))),
        }
    }

    /// Whether the directory has this file (asked of optional files, without waiting).
    pub fn has(&self, rel: &str) -> bool {
        match self {
            RulesDir::Embedded => EMBEDDED.get_file(rel).is_some(),
            RulesDir::Path(p) => p.join(rel).exists(),
        }
    }

    fn profile_files(&self) -> Vec<String> {
        let mut names: Vec<String> = match self {
            RulesDir::Embedded => EMBEDDED
                .get_dir("profiles")
                .map(|d| {
                    d.files()
                        .filter_map(|f| f.path().to_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            RulesDir::Path(p) => std::fs::read_dir(p.join("profiles"))
                .map(|rd| {
                    rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .map(|n| format!("profiles/{n}"))
                        .collect()
                })
                .unwrap_or_default(),
        };
        names.retain(|n| n.ends_with(".toml"));
        names.sort();
        names
    }
}

/// Reads the text of one source line again (for `explain`). Line numbers start at 1.
pub fn source_line(location: &SourceLocation, line: u32) -> Option<String> {
    let bytes: Cow<'_, [u8]> = match location {
        SourceLocation::Embedded(rel) => embedded(rel)?.ok()?,
        SourceLocation::File(p) => Cow::Owned(std::fs::read(p).ok()?),
        SourceLocation::Inline(text) => Cow::Borrowed(text.as_bytes()),
        SourceLocation::Unknown => return None,
    };
    let text = compile::decode("", &bytes).ok()?;
    text.lines()
        .nth(line.checked_sub(1)? as usize)
        .map(|l| l.trim().to_string())
}

/// Categories and profiles, checked against each other.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub categories: Vec<CategoryDef>,
    pub profiles: Vec<ProfileDef>,
    pub safe_search: SafeSearchDef,
}

/// `helplines.toml`: where a child can get help, per country.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Helplines {
    pub international: International,
    #[serde(default)]
    pub country: Vec<CountryHelp>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct International {
    pub name: String,
    pub url: String,
    pub help_name: String,
    pub help_url: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryHelp {
    pub code: String,
    pub name: String,
    pub helpline_name: String,
    pub helpline_phone: String,
    pub helpline_url: String,
    pub hotline_url: String,
    /// The Safer Internet Centre's own helpline (advice on online
    /// problems), when it is not the child helpline above.
    #[serde(default)]
    pub sic_helpline_name: String,
    #[serde(default)]
    pub sic_helpline_phone: String,
    #[serde(default)]
    pub sic_helpline_url: String,
    /// The INHOPE member hotline's name (empty: `name`).
    #[serde(default)]
    pub hotline_name: String,
    /// Where these entries were checked (https).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// The help lines of a rules directory (none if it has no `helplines.toml`).
pub fn load_helplines(dir: &RulesDir) -> Result<Helplines, ConfigError> {
    if !dir.has("helplines.toml") {
        return Ok(Helplines::default());
    }
    parse_toml(dir, "helplines.toml").map(|(h, _)| h)
}

/// One list of `subscriptions.toml`: a full public list `nestguard update` downloads.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDef {
    pub category: String,
    pub name: String,
    pub url: String,
    /// adblock | hosts | domains | wildcard (informational: every format is read per line).
    pub format: String,
    #[serde(default)]
    pub licence: String,
    #[serde(default)]
    pub homepage: String,
    /// Part of the recommended set (`subscriptions = ["recommended"]`).
    #[serde(default)]
    pub recommended: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscriptionsFile {
    #[serde(default)]
    subscription: Vec<SubscriptionDef>,
}

/// The subscriptions a rules directory offers (none if it has no `subscriptions.toml`).
pub fn load_subscriptions(dir: &RulesDir) -> Result<Vec<SubscriptionDef>, ConfigError> {
    if !dir.has("subscriptions.toml") {
        return Ok(Vec::new());
    }
    let (file, _): (SubscriptionsFile, String) = parse_toml(dir, "subscriptions.toml")?;
    Ok(file.subscription)
}

enum AllowFileError {
    Unreadable,
    Bad(ConfigError),
}

/// The names of an allow file: one a line, `#` starts a comment; a line
/// that is not a name is an error at its line.
fn allow_file_names(
    dir: &RulesDir,
    rel: &str,
) -> Result<Vec<toml::Spanned<String>>, AllowFileError> {
    if !dir.has(rel) {
        return Err(AllowFileError::Unreadable);
    }
    let text = read_text(dir, rel).map_err(AllowFileError::Bad)?;
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let body = line.split('#').next().unwrap_or_default();
        let name = body.trim();
        if !name.is_empty() {
            let start = at + body.find(name).unwrap_or(0);
            let span = start..start + name.len();
            if let Err(e) = name::normalize(name) {
                return Err(AllowFileError::Bad(ConfigError::at(
                    &dir.display(rel),
                    &text,
                    Some(span),
                    format!("`{name}`: {e}"),
                )));
            }
            out.push(toml::Spanned::new(span, name.to_string()));
        }
        at += line.len();
    }
    Ok(out)
}

fn read_text(dir: &RulesDir, rel: &str) -> Result<String, ConfigError> {
    let bytes = dir
        .read(rel)
        .map_err(|e| ConfigError::plain(&dir.display(rel), e))?;
    String::from_utf8(bytes.into_owned())
        .map_err(|_| ConfigError::plain(&dir.display(rel), "not UTF-8".into()))
}

pub(super) fn parse_toml<T: serde::de::DeserializeOwned>(
    dir: &RulesDir,
    rel: &str,
) -> Result<(T, String), ConfigError> {
    let text = read_text(dir, rel)?;
    let value = toml::from_str(&text).map_err(|e| {
        ConfigError::at(&dir.display(rel), &text, e.span(), e.message().to_string())
    })?;
    Ok((value, text))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Reads and cross-checks `categories.toml` and `profiles/*.toml`.
pub fn load_catalog(dir: &RulesDir) -> Result<Catalog, ConfigError> {
    let rel = "categories.toml";
    let (file, text): (CategoriesFile, String) = parse_toml(dir, rel)?;
    let origin = dir.display(rel);
    let mut categories = Vec::new();
    for c in file.category {
        let span = c.span();
        let c = c.into_inner();
        if c.security && c.opinion {
            return Err(ConfigError::at(
                &origin,
                &text,
                Some(span),
                format!(
                    "category `{}` cannot be both `security` and `opinion`",
                    c.id
                ),
            ));
        }
        if !valid_id(&c.id) || categories.iter().any(|d: &CategoryDef| d.id == c.id) {
            return Err(ConfigError::at(
                &origin,
                &text,
                Some(span),
                format!("category id `{}` is not valid or not unique", c.id),
            ));
        }
        categories.push(c);
    }
    let mut profiles: Vec<ProfileDef> = Vec::new();
    for rel in dir.profile_files() {
        let (mut p, text): (ProfileDef, String) = parse_toml(dir, &rel)?;
        let origin = dir.display(&rel);
        if !valid_id(&p.id) || profiles.iter().any(|q| q.id == p.id) {
            return Err(ConfigError::plain(
                &origin,
                format!("profile id `{}` is not valid or not unique", p.id),
            ));
        }
        for b in &p.block {
            if !categories.iter().any(|c| &c.id == b.get_ref()) {
                return Err(ConfigError::at(
                    &origin,
                    &text,
                    Some(b.span()),
                    format!("no category `{}` in categories.toml", b.get_ref()),
                ));
            }
        }
        for a in &p.allow {
            if let Err(e) = name::normalize(a.get_ref()) {
                return Err(ConfigError::at(
                    &origin,
                    &text,
                    Some(a.span()),
                    format!("`{}`: {e}", a.get_ref()),
                ));
            }
        }
        for file in &p.allow_lists {
            let names = allow_file_names(dir, file.get_ref()).map_err(|e| match e {
                AllowFileError::Unreadable => ConfigError::at(
                    &origin,
                    &text,
                    Some(file.span()),
                    format!("allow_lists: cannot read {}", dir.display(file.get_ref())),
                ),
                AllowFileError::Bad(e) => e,
            })?;
            p.allow.extend(names);
        }
        profiles.push(p);
    }
    let (safe_search, text): (SafeSearchDef, String) = parse_toml(dir, "safesearch.toml")?;
    let origin = dir.display("safesearch.toml");
    let all_names = safe_search
        .search
        .iter()
        .flat_map(|s| s.hosts.iter().chain(std::iter::once(&s.target)))
        .chain(&safe_search.youtube.hosts)
        .chain([&safe_search.youtube.moderate, &safe_search.youtube.strict]);
    for n in all_names {
        if let Err(e) = name::normalize(n) {
            let at = text.find(n.as_str()).map(|i| i..i + n.len());
            return Err(ConfigError::at(&origin, &text, at, format!("`{n}`: {e}")));
        }
    }
    Ok(Catalog {
        categories,
        profiles,
        safe_search,
    })
}

/// Everything that can stop a rule set from being built.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    // Transparent: the message is the inner one, said once (not again as its cause).
    #[error(transparent)]
    Catalog(#[from] ConfigError),
    #[error(transparent)]
    Compile(#[from] CompileError),
}

/// One source to compile, before it is read.
struct Planned {
    display: String,
    location: SourceLocation,
    category: String,
    kind: ListKind,
    read: Box<dyn Fn() -> Result<Cow<'static, [u8]>, String>>,
    /// The config's `[[rules.list]]` table, for errors at its line.
    declared: Option<ListConfig>,
    /// The parent's own list (not shipped, not subscribed).
    own: bool,
}

fn size_of(bytes: &[u8]) -> u64 {
    compile::gzip_size_hint(bytes).unwrap_or(bytes.len() as u64)
}

/// Compiles the shipped categories and profiles plus the config's own lists.
/// Refuses, before reading any list, when the estimated peak exceeds the memory budget.
pub fn compile(config: &RulesConfig) -> Result<(RuleSet, Diagnostics, Catalog), RulesError> {
    let dir = RulesDir::from_config(config);
    let mut catalog = with_changes(load_catalog(&dir)?, config)?;
    let mut planned = Vec::new();
    for c in &catalog.categories {
        for (files, kind) in [
            (&c.lists, ListKind::Block),
            (&c.allow, ListKind::Allow),
            (&c.keywords, ListKind::Keywords),
            (&c.score, ListKind::Score),
        ] {
            for rel in files {
                let d = dir.clone();
                let r = rel.clone();
                planned.push(Planned {
                    display: dir.display(rel),
                    location: dir.location(rel),
                    category: c.id.clone(),
                    kind,
                    read: Box::new(move || d.read(&r)),
                    declared: None,
                    own: false,
                });
            }
        }
    }
    for l in &config.lists {
        let path = l.path.clone();
        if !catalog.categories.iter().any(|c| c.id == l.category) {
            return Err(l
                .error(format!(
                    "no category `{}` in {}",
                    l.category,
                    dir.display("categories.toml")
                ))
                .into());
        }
        let kind = if l.keywords {
            ListKind::Keywords
        } else if l.allow {
            ListKind::Allow
        } else {
            ListKind::Block
        };
        let p = path.clone();
        planned.push(Planned {
            display: path.display().to_string(),
            location: SourceLocation::File(path),
            category: l.category.clone(),
            kind,
            read: Box::new(move || {
                crate::sources::read(&p)
                    .map(Cow::Owned)
                    .map_err(|e| cannot_read(&p, &e))
            }),
            declared: Some(l.clone()),
            own: !l.subscribed,
        });
    }

    // The budget check needs sizes only; config lists are stat'ed, shipped ones are in memory.
    let mut sizes: Vec<(u64, &str)> = Vec::new();
    for p in &planned {
        let size = match &p.location {
            SourceLocation::File(path) => file_size(path),
            // Without decompressing: the gzip trailer holds the size.
            SourceLocation::Embedded(rel) => embedded_size(rel).unwrap_or(0),
            _ => (p.read)().map(|b| size_of(&b)).unwrap_or(0),
        };
        sizes.push((size, &p.display));
    }
    let total: u64 = sizes.iter().map(|(s, _)| s).sum();
    let needed = compile::peak_estimate(total);
    let budget = config.memory_budget_mib.saturating_mul(1 << 20);
    if needed > budget {
        sizes.sort_by_key(|s| std::cmp::Reverse(s.0));
        let largest = sizes
            .iter()
            .take(3)
            .map(|(s, n)| format!("{n} ({:.1} MiB)", *s as f64 / f64::from(1 << 20)))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(CompileError::OverBudget {
            needed_mib: needed >> 20,
            budget_mib: config.memory_budget_mib,
            largest,
        }
        .into());
    }

    let mut b = Builder::new();
    if config.keep_origins {
        b.keep_origins(super::index::Origins::Kept);
    }
    // Plain lists average about 20 bytes a line.
    b.reserve((total / 20) as usize);
    // Declared in precedence order (the reason reported when several
    // categories block a name): security categories first, then the order of
    // categories.toml. Config lists only use these categories, so the order
    // holds whatever order the lists come in.
    let security_first = catalog
        .categories
        .iter()
        .filter(|c| c.security)
        .chain(catalog.categories.iter().filter(|c| !c.security));
    for c in security_first {
        let id = b.category(&c.id, &c.name)?;
        if c.security {
            b.mark_security(id);
        }
        if c.opinion {
            b.mark_opinion(id);
        }
    }
    b.set_guard(load_guard(&dir, &catalog)?);
    for p in planned {
        let category = b.category(&p.category, "")?;
        let unreadable = |e: String| match &p.declared {
            Some(list) => RulesError::from(list.error(e)),
            None => CompileError::Source {
                path: p.display.clone(),
                message: e,
            }
            .into(),
        };
        // The parent's own lists are the parent's judgement; the shipped and
        // subscribed ones are a third party's.
        let provenance = if p.own {
            Provenance::Own
        } else {
            Provenance::ThirdParty
        };
        b.set_provenance(provenance);
        match &p.location {
            // A file is read a line at a time: its whole text is never in memory.
            SourceLocation::File(path) => {
                let file =
                    crate::sources::open(path).map_err(|e| unreadable(cannot_read(path, &e)))?;
                b.add_source_from(&p.display, p.location.clone(), file, category, p.kind)?;
            }
            _ => {
                let bytes = (p.read)().map_err(unreadable)?;
                b.add_source_at(&p.display, p.location, &bytes, category, p.kind)?;
            }
        }
    }
    // The profiles' allowlists, the dashboard's allow files and a child's
    // `allow_sites` / `block_sites` are the parent's.
    b.set_provenance(Provenance::Own);
    for p in &mut catalog.profiles {
        let mut mask = CategoryMask::NONE;
        for c in &p.block {
            mask = mask.with(b.category(c.get_ref(), "")?);
        }
        // The profile's own allowlist: its `allow` entries and the parent's
        // "also during bedtime" allows (`<profile>.bedtime.txt`, written by the
        // dashboard). These stay reachable in allow-only windows. A child
        // without bedtime allows of their own shares their band's (the
        // categories are few: 64 in all).
        let allow_file = |suffix: &str| {
            config
                .profile_allow_dir
                .as_ref()
                .map(|d| d.join(format!("{}{suffix}", p.id)))
                .filter(|f| f.exists())
        };
        let bedtime_file = allow_file(".bedtime.txt");
        let shared = p
            .base
            .as_ref()
            .map(|base| format!("profile:{base}"))
            .filter(|c| bedtime_file.is_none() && b.has_category(c));
        if let Some(shared) = shared {
            mask = mask.with(b.category(&shared, "")?);
            p.allowlist = Some(shared);
        } else if !p.allow.is_empty() || bedtime_file.is_some() {
            let own_id = format!("profile:{}", p.id);
            let own = b.category(&own_id, &format!("allowlist of profile {}", p.id))?;
            mask = mask.with(own);
            let text: String = p
                .allow
                .iter()
                .map(|a| format!("{}\n", a.get_ref()))
                .collect();
            let name = format!("profile {} allow", p.id);
            b.add_source_at(
                &name,
                SourceLocation::Inline(text.clone()),
                text.as_bytes(),
                own,
                ListKind::Allow,
            )?;
            if let Some(file) = bedtime_file {
                add_allow_file(&mut b, file, own)?;
            }
            p.allowlist = Some(own_id);
        }
        // The parent's "always" allows (`allow_sites` in the config, and
        // `<profile>.txt`, written by the dashboard) lift category blocks but
        // not bedtime: a category of their own, outside the allowlist an
        // allow-only window leaves reachable.
        let parent_file = allow_file(".txt");
        if parent_file.is_some() || !p.own_allow.is_empty() {
            let parent = b.category(
                &format!("parent-allow:{}", p.id),
                &format!("the parent's allows for {}", p.id),
            )?;
            mask = mask.with(parent);
            if !p.own_allow.is_empty() {
                let text: String = p.own_allow.iter().map(|a| format!("{a}\n")).collect();
                b.add_source_at(
                    &format!("allow_sites of {}", p.id),
                    SourceLocation::Inline(text.clone()),
                    text.as_bytes(),
                    parent,
                    ListKind::Allow,
                )?;
            }
            if let Some(file) = parent_file {
                add_allow_file(&mut b, file, parent)?;
            }
        }
        // The parent's "always blocked" sites.
        if !p.own_block.is_empty() {
            let own = b.category(
                &format!("parent-block:{}", p.id),
                &format!("sites the parent blocks for {}", p.id),
            )?;
            mask = mask.with(own);
            let text: String = p.own_block.iter().map(|a| format!("{a}\n")).collect();
            b.add_source_at(
                &format!("block_sites of {}", p.id),
                SourceLocation::Inline(text.clone()),
                text.as_bytes(),
                own,
                ListKind::Block,
            )?;
        }
        b.profile(&p.id, mask);
    }
    let (set, diagnostics) = b.build()?;
    Ok((set, diagnostics, catalog))
}

/// Where the guard's suffixes are, relative to the rules directory.
pub const INSTITUTIONS: &str = "guard/institutions.txt";
/// Where the portals no single list line may block whole are.
pub const PORTALS: &str = "guard/portals.txt";

/// The public-institution guard: `guard/institutions.txt` (when the rules
/// directory has one), the help lines of `helplines.toml` and every
/// profile's own allowlist (the help lines the presets allow).
pub fn load_guard(dir: &RulesDir, catalog: &Catalog) -> Result<Guard, RulesError> {
    let institutions = if dir.has(INSTITUTIONS) {
        read_text(dir, INSTITUTIONS)?
    } else {
        String::new()
    };
    let portals = if dir.has(PORTALS) {
        read_text(dir, PORTALS)?
    } else {
        String::new()
    };
    let help = load_helplines(dir)?;
    let urls = help
        .country
        .iter()
        .flat_map(|c| [&c.helpline_url, &c.hotline_url, &c.sic_helpline_url])
        .chain([&help.international.url, &help.international.help_url]);
    let hosts = urls
        .filter_map(|u| {
            let rest = u.split_once("://").map_or(u.as_str(), |(_, r)| r);
            rest.split(['/', '?', '#', ':']).next().map(str::to_string)
        })
        .filter(|h| !h.is_empty())
        .chain(
            catalog
                .profiles
                .iter()
                .flat_map(|p| p.allow.iter().map(|a| a.get_ref().clone())),
        );
    let (guard, bad) = Guard::parse(&institutions, &portals, hosts);
    if let Some(first) = bad.first() {
        return Err(ConfigError::plain(&dir.display("guard/"), first.clone()).into());
    }
    Ok(guard)
}

/// Adds an allow file the dashboard writes to `category`.
fn add_allow_file(b: &mut Builder, file: PathBuf, category: CategoryId) -> Result<(), RulesError> {
    let bytes = crate::sources::read(&file).map_err(|e| CompileError::Source {
        path: file.display().to_string(),
        message: e.to_string(),
    })?;
    let name = file.display().to_string();
    b.add_source_at(
        &name,
        SourceLocation::File(file),
        &bytes,
        category,
        ListKind::Allow,
    )?;
    Ok(())
}

/// Why a list file could not be read, as the config's errors say it.
fn cannot_read(path: &Path, e: &std::io::Error) -> String {
    format!(
        "cannot read {}: {}",
        crate::config::absolute(path).display(),
        crate::config::io_reason(e)
    )
}

fn file_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    // A gzip file's trailer holds its uncompressed size.
    if path.extension().is_some_and(|e| e == "gz")
        && let Ok(bytes) = std::fs::read(path)
        && let Some(n) = compile::gzip_size_hint(&bytes)
    {
        return n;
    }
    meta.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `rules/` as [`RulesDir::Embedded`] reads it: the same
    /// bytes as on disk (stored compressed in the binary; a `*.gz` one as it is).
    #[test]
    fn embedded_files_read_back_as_they_are_in_rules() {
        fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                let name = e.file_name().into_string().unwrap();
                let rel = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                if e.file_type().unwrap().is_dir() {
                    walk(&e.path(), &rel, out);
                } else {
                    out.push(rel);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut files = Vec::new();
        walk(&root, "", &mut files);
        assert!(files.len() > 20, "{files:?}");
        for rel in &files {
            let on_disk = std::fs::read(root.join(rel)).unwrap();
            let embedded = RulesDir::Embedded.read(rel).unwrap();
            assert!(embedded[..] == on_disk[..], "{rel}");
            assert!(RulesDir::Embedded.has(rel), "{rel}");
            assert_eq!(
                embedded_size(rel),
                Some(size_of(&on_disk)),
                "{rel}: the size the memory budget counts"
            );
        }
        assert!(RulesDir::Embedded.read("lists/no-such.txt").is_err());
    }

    /// `explain` quotes a line of an embedded list, a gzip one too.
    #[test]
    fn source_line_quotes_embedded_lists() {
        for rel in ["lists/drugs/domains.txt", "lists/adult/domains.txt.gz"] {
            let text = compile::decode(rel, &RulesDir::Embedded.read(rel).unwrap())
                .unwrap()
                .into_owned();
            let location = SourceLocation::Embedded(rel.to_string());
            for (i, line) in text.lines().enumerate().step_by(997) {
                let n = u32::try_from(i + 1).unwrap();
                assert_eq!(
                    source_line(&location, n).as_deref(),
                    Some(line.trim()),
                    "{rel}:{n}"
                );
            }
        }
    }
}
