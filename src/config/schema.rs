//! The configuration's schema: every table and key, with its default. Types
//! only; reading, merging and checking a file is [`super::load`], and this
//! module imports nothing of the daemon's own (the domain modules read it,
//! never the other way round).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::{ConfigError, Position};

/// Most `[[upstream]]` tables a config may have.
pub const MAX_UPSTREAMS: usize = 64;

/// The embedded default configuration (also the documentation of every key).
pub const DEFAULT_TOML: &str = include_str!("default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default = "default_upstreams", rename = "upstream")]
    pub upstreams: Vec<Spanned<UpstreamConfig>>,
    #[serde(default)]
    pub cache: CacheConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub rules: RulesConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub state: StateConfig,
    #[serde(default)]
    pub update: UpdateConfig,
    #[serde(default)]
    pub fleet: FleetConfig,
    #[serde(default)]
    pub activity: ActivityConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    /// Which clients get which profile; the first table that matches wins.
    #[serde(default, rename = "client")]
    pub clients: Vec<Spanned<ClientConfig>>,
    /// The children: each with the devices that are theirs and what differs
    /// for them. A child matches before any `[[client]]` table.
    #[serde(default, rename = "child")]
    pub children: Vec<Spanned<ChildConfig>>,
    /// Devices given to a child by their MAC or address (besides the
    /// `[[child]]` table's own keys; the dashboard writes the same tables
    /// into the state folder).
    #[serde(default, rename = "device")]
    pub devices: Vec<Spanned<DeviceConfig>>,
    /// `[profile.<id>]`: changes to a shipped profile, without copying `rules/`.
    #[serde(default, rename = "profile")]
    pub profiles: std::collections::BTreeMap<String, Spanned<Tweaks>>,
    /// Time windows that tighten a profile or some children (bedtime, homework).
    #[serde(default, rename = "schedule")]
    pub schedules: Vec<Spanned<ScheduleConfig>>,
    /// Exam windows: allowlist-only for the clients named (a school's lab).
    #[serde(default, rename = "exam")]
    pub exams: Vec<Spanned<ExamConfig>>,
    /// The files this config was read from (the main file, then `conf.d/`
    /// drop-ins), so checks made after parsing (profile and category names)
    /// can point at the line. Items carry the index of their file.
    #[serde(skip)]
    pub origins: Vec<Origin>,
    /// The main file, when the config came from one (what a reload reads again).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// The fleet bundle whose drop-ins were read (its folder in the state
    /// folder), when one was.
    #[serde(skip)]
    pub fleet_bundle: Option<PathBuf>,
}

/// Where a config came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub name: String,
    pub text: std::sync::Arc<str>,
}

impl Config {
    /// An error at the position of a spanned value read from file `origin`.
    pub fn error_at(
        &self,
        origin: usize,
        span: std::ops::Range<usize>,
        message: String,
    ) -> ConfigError {
        match self.origins.get(origin) {
            Some(o) => ConfigError::at(&o.name, &o.text, Some(span), message),
            None => ConfigError::plain("<config>", message),
        }
    }

    /// Every file this config was read from.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.origins.iter().map(|o| o.name.as_str())
    }
}

/// `[admin]`: the parents' dashboard, the JSON API and `/metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub enabled: bool,
    /// Loopback by default: the dashboard is for this machine's users.
    pub listen: SocketAddr,
    /// Argon2 hash of the admin password (`nestguard passwd` sets it): the
    /// account named [`FIRST_PARENT`].
    pub password_hash: Option<String>,
    /// More parents, each with a name and a password of their own
    /// (`[[admin.parent]]`, `nestguard passwd --parent NAME`).
    #[serde(rename = "parent")]
    pub parents: Vec<Spanned<ParentConfig>>,
    /// The SHA-256 of the read-only monitoring token, as `sha256:<64 hex
    /// digits>` (`nestguard metrics-token` writes it): `Authorization:
    /// Bearer <token>` opens `/metrics` and `/api/status`, nothing else.
    pub metrics_token_hash: Option<Spanned<String>>,
    /// ISO country code for the help lines shown to children (`rules/helplines.toml`).
    pub country: String,
    /// The language of the children's pages (`de`), when a child has none
    /// of their own; unset: the country's, else the browser's.
    pub language: Option<Spanned<String>>,
    /// How long a login lasts.
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    /// How long a client has to send a request's headers, and the longest a
    /// connection may wait idle for its next request.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Dashboard connections open at once; beyond it the oldest idle one is
    /// closed, or, when none is idle, the new one.
    pub max_connections: usize,
    /// Where the children's block page listens: every HTTP request there,
    /// whatever its path, gets the "why blocked" page for the name in its
    /// `Host` header. Unset: with `block_mode = "address"`, port 80 of each
    /// of `policy.block_addresses`; otherwise none. `[]` turns it off.
    pub block_page_listen: Option<Vec<SocketAddr>>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8053)),
            password_hash: None,
            parents: Vec::new(),
            metrics_token_hash: None,
            country: String::new(),
            language: None,
            session_ttl: Duration::from_secs(12 * 3600),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 64,
            block_page_listen: None,
        }
    }
}

/// The name of the account `[admin] password_hash` opens.
pub const FIRST_PARENT: &str = "parent";

/// One parent's account: `[[admin.parent]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentConfig {
    /// What they log in as, and what the audit trail says they did.
    pub name: String,
    /// Argon2 hash of their password (`nestguard passwd --parent NAME`).
    pub password_hash: String,
}

impl AdminConfig {
    /// Every parent's account, as (name, Argon2 hash): `password_hash` as
    /// [`FIRST_PARENT`], then the `[[admin.parent]]` tables in order.
    pub fn accounts(&self) -> Vec<(String, String)> {
        self.password_hash
            .iter()
            .map(|h| (FIRST_PARENT.to_string(), h.clone()))
            .chain(self.parents.iter().map(|p| {
                let p = p.get_ref();
                (p.name.clone(), p.password_hash.clone())
            }))
            .collect()
    }

    /// Whether any parent can log in.
    pub fn has_accounts(&self) -> bool {
        self.password_hash.is_some() || !self.parents.is_empty()
    }
}

/// `[activity]`: the aggregate counters parents see.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivityConfig {
    /// Keep activity counters at all.
    pub enabled: bool,
    /// How often counters are written to the database (and at shutdown).
    #[serde(with = "humantime_serde")]
    pub flush_interval: Duration,
    /// How often what the flushes took is written to the database (and at
    /// shutdown); until then it is held in memory (the backlog). Unset: at
    /// every flush. Set long (hours) where the state folder is on flash.
    #[serde(default, with = "humantime_serde")]
    pub write_interval: Option<Duration>,
    /// How long they are kept.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Blocked (or, at `detailed`, visited) sites kept per profile per day.
    pub top_domains: usize,
    /// Privacy level per profile id, replacing the preset's: `aggregate`,
    /// `blocked-domains` or `detailed`.
    pub privacy: std::collections::BTreeMap<String, Privacy>,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        ActivityConfig {
            enabled: true,
            flush_interval: Duration::from_secs(10),
            write_interval: None,
            retention: Duration::from_secs(90 * 24 * 3600),
            top_domains: 20,
            privacy: Default::default(),
        }
    }
}

/// `[notify]`: desktop notices of blocks, sent to each local user's
/// `nestguard notify` agent about that user's own lookups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Open the socket the agents connect to.
    pub enabled: bool,
    /// Its path (any local user may connect; each is told only of the
    /// lookups of its own uid, as the kernel reports it for the connection).
    pub socket: PathBuf,
    /// How long the first block of a burst waits for the rest, so a page
    /// with forty blocked names gives one notice.
    #[serde(with = "humantime_serde")]
    pub gather: Duration,
    /// At most one notice per user per this long; what is blocked in
    /// between is summed up in the next.
    #[serde(with = "humantime_serde")]
    pub every: Duration,
    /// Categories (ids) whose blocks give no notice.
    pub silent_categories: Vec<Spanned<String>>,
    /// Notices for what an allowlist-only schedule window (bedtime) or a
    /// parent's pause blocks.
    pub during_bedtime: bool,
}

/// Where `nestguard notify` finds the daemon unless told otherwise.
pub const NOTIFY_SOCKET: &str = "/run/nestguard/notify.sock";

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            enabled: false,
            socket: PathBuf::from(NOTIFY_SOCKET),
            gather: Duration::from_secs(2),
            every: Duration::from_secs(60),
            silent_categories: vec![Spanned::new(0..0, "trackers".to_string())],
            during_bedtime: false,
        }
    }
}

/// `[update]`: which full public lists `nestguard update` downloads, and how.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateConfig {
    /// Names from `rules/subscriptions.toml` to download, or `["all"]`.
    pub subscriptions: Vec<String>,
    /// Lists of your own to download.
    #[serde(rename = "list")]
    pub lists: Vec<OwnSubscription>,
    /// How often the daemon updates them; `0s` turns periodic updates off.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// A random delay up to this much is added to each interval, so a fleet
    /// of machines does not download at the same second.
    #[serde(with = "humantime_serde")]
    pub jitter: Duration,
    /// Longest a download may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Largest list accepted, in MiB.
    pub max_size_mib: u64,
    /// A list that shrinks by more than this fraction since the last download is refused.
    pub max_shrink: f64,
    /// A list with fewer entries is refused.
    pub min_entries: usize,
    /// PEM file with the CA certificates to trust instead of the public roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            subscriptions: Vec::new(),
            lists: Vec::new(),
            interval: Duration::from_secs(24 * 3600),
            jitter: Duration::from_secs(3600),
            timeout: Duration::from_secs(60),
            max_size_mib: 64,
            max_shrink: 0.5,
            min_entries: 1,
            ca_file: None,
        }
    }
}

/// `[[update.list]]`: a list of your own that `nestguard update` downloads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnSubscription {
    pub name: String,
    /// `https://…` or `file://…`.
    pub url: String,
    pub category: String,
}

/// `[state]`: where nestguard keeps what it changes at run time.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// The state directory; see `state::dir` for the default.
    pub dir: Option<PathBuf>,
    /// How often the daemon rewrites what it keeps by the minute (its
    /// heartbeat, budget minutes); unset: every 30 s and every minute. Set
    /// long (hours) where the state folder is on flash.
    #[serde(default, with = "humantime_serde")]
    pub save_interval: Option<std::time::Duration>,
}

/// `[fleet]`: a signed policy bundle a school's machines fetch (`fleet`).
/// Main config only: a bundle must not be able to change the key that
/// checks it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetConfig {
    /// Where the bundle is fetched (`https://`, or `file://`); its
    /// signature is at the same URL with `.minisig` added.
    pub url: Option<Spanned<String>>,
    /// The minisign public key bundles must be signed with (the base64
    /// line of a `minisign.pub`).
    pub public_key: Option<Spanned<String>>,
}

/// `[[schedule]]`: while the window is active, the profile gets more categories
/// blocked, or only its allowlist.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Index of the file it was read from (see [`Config::origins`]).
    #[serde(skip)]
    pub origin: usize,
    /// The profile it tightens: its clients and every child in that band.
    #[serde(default)]
    pub profile: Option<Spanned<String>>,
    /// Children it tightens, by name (with `profile`, in addition to them).
    #[serde(default)]
    pub children: Vec<Spanned<String>>,
    pub name: String,
    /// Days the window starts on (`mon` … `sun`); every day when empty.
    #[serde(default)]
    pub days: Vec<Spanned<String>>,
    /// Local start time, `HH:MM`.
    pub from: Spanned<String>,
    /// Local end time, `HH:MM`; at or before `from` means the next day.
    pub to: Spanned<String>,
    /// Only the profile's allowlist is reachable.
    #[serde(default)]
    pub allow_only: bool,
    /// Categories blocked in addition to the profile's own.
    #[serde(default)]
    pub block: Vec<Spanned<String>>,
}

/// `[[exam]]`: while the window is open, only the exam's sites and the
/// profile's own allowlist (help lines) are reachable for the clients named;
/// AI chatbots and filter bypass stay blocked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamConfig {
    /// Index of the file it was read from (see [`Config::origins`]).
    #[serde(skip)]
    pub origin: usize,
    pub name: String,
    /// Whom it holds for: `"all"`, children, profiles or `[[client]]` names.
    pub who: Vec<Spanned<String>>,
    /// Days the window starts on (`mon` … `sun`); every day when empty.
    #[serde(default)]
    pub days: Vec<Spanned<String>>,
    /// Local start time, `HH:MM`.
    pub from: Spanned<String>,
    /// Local end time, `HH:MM`; at or before `from` means the next day.
    pub to: Spanned<String>,
    /// Sites reachable during the exam (each with its subdomains).
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// A file of more sites, one per line (relative to this config file).
    #[serde(default)]
    pub allow_file: Option<PathBuf>,
}

/// How blocked names are answered, and the profile of clients no `[[client]]` matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Index of the file `default_profile` was read from (see [`Config::origins`]).
    #[serde(skip)]
    pub origin: usize,
    pub default_profile: Spanned<String>,
    pub block_mode: Spanned<BlockMode>,
    /// With `block_mode = "address"`: the address of a block page, one IPv4
    /// and/or one IPv6.
    pub block_addresses: Vec<IpAddr>,
    /// TTL of blocked answers: short, so an unblock takes effect at once.
    #[serde(with = "humantime_serde")]
    pub blocked_ttl: Duration,
    /// Per profile id, replacing the preset's: what its clients get when no
    /// upstream answers and no stale answer is kept.
    pub upstream_failure: std::collections::BTreeMap<String, UpstreamFailure>,
    /// The policy's version as whoever wrote it names it (a fleet's drop-in
    /// sets it), shown in `/metrics` so a fleet's dashboard shows which
    /// machines have which policy.
    pub version: Option<String>,
}

/// What a profile's clients get when no upstream answers and no stale answer is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamFailure {
    /// SERVFAIL with EDE 22: nothing unfiltered or unencrypted slips through.
    #[default]
    Closed,
    /// Ask the `fallback = true` upstreams (answers not cached); SERVFAIL if there are none.
    Open,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            origin: 0,
            default_profile: Spanned::new(0..0, "child".into()),
            block_mode: Spanned::new(0..0, BlockMode::Nxdomain),
            block_addresses: Vec::new(),
            blocked_ttl: Duration::from_secs(10),
            upstream_failure: Default::default(),
            version: None,
        }
    }
}

/// The answer to a blocked name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockMode {
    /// "No such name" (the default): every client and app understands it at once.
    Nxdomain,
    /// 0.0.0.0 for A, :: for AAAA, no data for other types.
    Null,
    /// REFUSED: some devices retry less on it than on NXDOMAIN.
    Refused,
    /// `policy.block_addresses` (a block page) for A and AAAA, no data for other types.
    Address,
}

/// A network, written as an address (`10.0.0.7`) or a CIDR (`10.0.0.0/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net(pub ipnet::IpNet);

impl<'de> Deserialize<'de> for Net {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if let Ok(net) = s.parse::<ipnet::IpNet>() {
            return Ok(Net(net));
        }
        s.parse::<IpAddr>()
            .map(|ip| Net(ipnet::IpNet::from(ip)))
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an IP address or CIDR")))
    }
}

/// `[[client]]`: who gets a profile. A client matches by the listener it asked
/// on, then by its local OS user, then by its MAC address, then by its IP
/// address; within each, the first matching table wins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Index of the file it was read from (see [`Config::origins`]).
    #[serde(skip)]
    pub origin: usize,
    pub profile: Spanned<String>,
    /// A name for the client (a child's name), shown by `explain` and in reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Client addresses or networks.
    #[serde(default)]
    pub addresses: Vec<Net>,
    /// Listen addresses (from `server.listen`) whose queries all get this profile.
    #[serde(default)]
    pub listeners: Vec<SocketAddr>,
    /// Local OS users (Linux), for queries from programs on this machine.
    #[serde(default)]
    pub users: Vec<Spanned<String>>,
    /// MAC addresses of devices on the local network (`aa:bb:cc:dd:ee:ff`).
    #[serde(default)]
    pub macs: Vec<crate::mac::Mac>,
}

/// `[[child]]`: one child. Their band (the shipped profile that applies)
/// follows `born`, or is `profile`; the device keys say which queries are
/// theirs (the same matchers as `[[client]]`); the other keys change what the
/// band's profile does, for this child only (see [`Tweaks`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ChildTable")]
pub struct ChildConfig {
    /// Index of the file it was read from (see [`Config::origins`]).
    pub origin: usize,
    /// The child's name as parents say it (`Leo`); its lowercase form is the
    /// id used on the command line and in reports (`leo`).
    pub name: Spanned<String>,
    /// Birth month, `YYYY-MM`: the band follows the age.
    pub born: Option<Spanned<BirthMonth>>,
    /// A profile id, instead of one that follows `born`.
    pub profile: Option<Spanned<String>>,
    /// When a birthday moves the child into the next band.
    pub band_change: BandChange,
    pub addresses: Vec<Net>,
    pub listeners: Vec<SocketAddr>,
    pub users: Vec<Spanned<String>>,
    pub macs: Vec<crate::mac::Mac>,
    /// The language of this child's pages (`de`).
    pub language: Option<Spanned<String>>,
    pub tweaks: Tweaks,
}

/// A `[[child]]` table as written: one flat table, every key checked
/// (serde's `flatten` would lose both the unknown-key check and the spans).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildTable {
    name: Spanned<String>,
    #[serde(default)]
    born: Option<Spanned<BirthMonth>>,
    #[serde(default)]
    profile: Option<Spanned<String>>,
    #[serde(default)]
    band_change: BandChange,
    #[serde(default)]
    addresses: Vec<Net>,
    #[serde(default)]
    listeners: Vec<SocketAddr>,
    #[serde(default)]
    users: Vec<Spanned<String>>,
    #[serde(default)]
    macs: Vec<crate::mac::Mac>,
    #[serde(default)]
    language: Option<Spanned<String>>,
    #[serde(default)]
    block_categories: Vec<Spanned<String>>,
    #[serde(default)]
    allow_categories: Vec<Spanned<String>>,
    #[serde(default)]
    allow_sites: Vec<Spanned<String>>,
    #[serde(default)]
    block_sites: Vec<Spanned<String>>,
    #[serde(default)]
    safe_search: Option<bool>,
    #[serde(default)]
    youtube: Option<YoutubeLevel>,
    #[serde(default)]
    upstream_failure: Option<UpstreamFailure>,
    #[serde(default)]
    services: std::collections::BTreeMap<String, Spanned<ServiceRule>>,
}

impl From<ChildTable> for ChildConfig {
    fn from(t: ChildTable) -> ChildConfig {
        ChildConfig {
            origin: 0,
            name: t.name,
            born: t.born,
            profile: t.profile,
            band_change: t.band_change,
            addresses: t.addresses,
            listeners: t.listeners,
            users: t.users,
            macs: t.macs,
            language: t.language,
            tweaks: Tweaks {
                block_categories: t.block_categories,
                allow_categories: t.allow_categories,
                allow_sites: t.allow_sites,
                block_sites: t.block_sites,
                safe_search: t.safe_search,
                youtube: t.youtube,
                upstream_failure: t.upstream_failure,
                services: t.services,
            },
        }
    }
}

impl ChildConfig {
    /// The id: the name in lowercase (`Leo` → `leo`).
    pub fn id(&self) -> String {
        self.name.get_ref().trim().to_lowercase()
    }
}

/// `[[device]]`: "this is Leo's tablet".
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// Index of the file it was read from (see [`Config::origins`]).
    #[serde(skip)]
    pub origin: usize,
    /// The child's name.
    pub child: String,
    /// What the parent calls it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<crate::mac::Mac>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// Who said so, and when (written by the dashboard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<jiff::Timestamp>,
}

/// Changes to a profile, for a `[profile.<id>]` table or one `[[child]]`.
/// Unset keys keep the profile's own setting.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tweaks {
    /// Categories blocked in addition to the profile's.
    #[serde(default)]
    pub block_categories: Vec<Spanned<String>>,
    /// The profile's categories that are not blocked.
    #[serde(default)]
    pub allow_categories: Vec<Spanned<String>>,
    /// Sites always reachable (with their subdomains), whatever the
    /// categories say; security lists and bedtime still apply.
    #[serde(default)]
    pub allow_sites: Vec<Spanned<String>>,
    /// Sites always blocked (with their subdomains).
    #[serde(default)]
    pub block_sites: Vec<Spanned<String>>,
    #[serde(default)]
    pub safe_search: Option<bool>,
    #[serde(default)]
    pub youtube: Option<YoutubeLevel>,
    #[serde(default)]
    pub upstream_failure: Option<UpstreamFailure>,
    /// Per service of `rules/services.toml` (`tiktok = "block"`, `youtube =
    /// { budget = "60m" }`).
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, Spanned<ServiceRule>>,
}

/// What a parent says about one service for a child or a profile.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceRule {
    /// `"block"` or `"allow"`.
    Simple(ServiceAction),
    /// Reachable (even if its category is blocked) within limits: only in
    /// a window, and/or for a daily budget of active minutes.
    Limited(ServiceLimits),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    /// Never reachable (its hosts answered as blocked).
    Block,
    /// Always reachable, even if its category is blocked (security lists
    /// and bedtime still apply).
    Allow,
}

impl<'de> Deserialize<'de> for ServiceRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ServiceRule, D::Error> {
        struct Rule;
        impl<'de> serde::de::Visitor<'de> for Rule {
            type Value = ServiceRule;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"block\", \"allow\", or a table { from, to, days, budget, reset }")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ServiceRule, E> {
                match v {
                    "block" => Ok(ServiceRule::Simple(ServiceAction::Block)),
                    "allow" => Ok(ServiceRule::Simple(ServiceAction::Allow)),
                    _ => Err(E::custom(format!(
                        "`{v}`: say \"block\" or \"allow\", or give a table {{ from = \"16:00\", to = \"18:00\", days = [\"sat\"], budget = \"60m\" }}"
                    ))),
                }
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ServiceRule, A::Error> {
                ServiceLimits::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ServiceRule::Limited)
            }
        }
        d.deserialize_any(Rule)
    }
}

/// Written as it is read: `"block"`, `"allow"` or a table (the dashboard's
/// state file uses the config's syntax).
impl serde::Serialize for ServiceRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ServiceRule::Simple(ServiceAction::Block) => s.serialize_str("block"),
            ServiceRule::Simple(ServiceAction::Allow) => s.serialize_str("allow"),
            ServiceRule::Limited(l) => l.serialize(s),
        }
    }
}

/// `{ days = ["sat", "sun"], from = "16:00", to = "18:00", budget = "60m" }`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceLimits {
    /// Days the window opens on (`mon` … `sun`); every day when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Spanned<String>>,
    /// Local time the service opens, `HH:MM` (with `to`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Spanned<String>>,
    /// Local time it closes; at or before `from` means the next day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Spanned<String>>,
    /// Active minutes a day (`60m`, `1h30m`).
    #[serde(
        default,
        with = "humantime_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub budget: Option<Duration>,
    /// Local time the budget starts again (`00:00`, local midnight, by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<Spanned<String>>,
}

impl Tweaks {
    /// Whether it changes anything.
    pub fn is_empty(&self) -> bool {
        self.block_categories.is_empty()
            && self.allow_categories.is_empty()
            && self.allow_sites.is_empty()
            && self.block_sites.is_empty()
            && self.safe_search.is_none()
            && self.youtube.is_none()
            && self.upstream_failure.is_none()
            && self.services.is_empty()
    }
}

/// A profile made from a shipped one for one child.
#[derive(Debug, Clone)]
pub struct DerivedProfile {
    pub id: String,
    pub name: String,
    /// The shipped profile it starts from.
    pub base: String,
    pub tweaks: Tweaks,
}

/// `born = "2018-05"`: a year and a month (a birthday is taken as the 1st).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BirthMonth {
    pub year: i16,
    pub month: i8,
}

impl FromStr for BirthMonth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a birth month as YYYY-MM (for example 2018-05)");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let year: i16 = y.parse().map_err(|_| bad())?;
        let month: i8 = m.parse().map_err(|_| bad())?;
        if y.len() != 4
            || m.len() != 2
            || !(1900..=9999).contains(&year)
            || !(1..=12).contains(&month)
        {
            return Err(bad());
        }
        Ok(BirthMonth { year, month })
    }
}

impl std::fmt::Display for BirthMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl<'de> Deserialize<'de> for BirthMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What happens when a birthday moves a child into the next band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BandChange {
    /// The child keeps the band until a parent confirms the new one.
    #[default]
    Ask,
    /// The child moves on the birthday.
    Automatic,
}

/// The rule lists: the shipped categories and profiles, plus the admin's own lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Directory of shipped rules (categories.toml, profiles/, lists/); the copy
    /// built into the binary when unset.
    pub dir: Option<PathBuf>,
    /// Refuse to compile lists whose estimated peak memory exceeds this (MiB).
    pub memory_budget_mib: u64,
    /// The admin's own lists, added to a category.
    #[serde(rename = "list")]
    pub lists: Vec<ListConfig>,
    /// Where the parent's permanent allows live (`<profile>.txt`, written by
    /// the dashboard); set from the state directory, not by the config file.
    #[serde(skip)]
    pub profile_allow_dir: Option<PathBuf>,
    /// Profiles made at run time from a shipped one: one per `[[child]]`
    /// (id, name, the band's profile, the child's changes). Set by the
    /// engine from the config and the recorded bands, not by the file.
    #[serde(skip)]
    pub derived: Vec<DerivedProfile>,
    /// `[profile.<id>]` changes to shipped profiles (copied from the config).
    #[serde(skip)]
    pub tweaks: std::collections::BTreeMap<String, Tweaks>,
    /// Keep each domain rule's list and line in the compiled rules, for
    /// `explain` (the daemon leaves them out: they would double the index).
    /// Set by the command line, not by the file.
    #[serde(skip)]
    pub keep_origins: bool,
    /// A change that makes a local list lose rules (emptied, cut short, gone
    /// from the config) is put in force only once its files have been
    /// unchanged this long, or at once with `nestguard reload` (SIGHUP): a
    /// save still being written must not unblock names.
    #[serde(with = "humantime_serde")]
    pub shrink_hold: Duration,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            profile_allow_dir: None,
            derived: Vec::new(),
            tweaks: Default::default(),
            keep_origins: false,
            shrink_hold: Duration::from_secs(3),
            dir: None,
            memory_budget_mib: 512,
            lists: Vec::new(),
        }
    }
}

/// One of the admin's lists: `[[rules.list]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListConfig {
    pub path: PathBuf,
    /// The category its rules belong to (an id from categories.toml).
    pub category: String,
    /// Every rule in it is an exception.
    #[serde(default)]
    pub allow: bool,
    /// It is a keyword list.
    #[serde(default)]
    pub keywords: bool,
    /// Where the table's `path` is written, and how, so errors about the file
    /// (found when the rules are compiled) name the config line once.
    #[serde(skip)]
    pub declared: Option<Position>,
    #[serde(skip)]
    pub declared_as: Option<String>,
    /// A downloaded subscription (a third party's list), not the parent's own.
    #[serde(skip)]
    pub subscribed: bool,
}

impl ListConfig {
    /// An error about this list's file: at the config line that names it,
    /// when known (`nestguard.toml:12:8: [[rules.list]] path "x.txt": …`).
    pub fn error(&self, message: String) -> ConfigError {
        match (&self.declared, &self.declared_as) {
            (Some(at), Some(written)) => ConfigError::at_position(
                at,
                format!("[[rules.list]] path \"{written}\": {message}"),
            ),
            _ => ConfigError::plain(&self.path.display().to_string(), message),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: Spanned<Vec<SocketAddr>>,
    pub max_udp_payload: Spanned<u16>,
    #[serde(with = "humantime_serde")]
    pub tcp_idle_timeout: Duration,
    pub max_tcp_clients: usize,
    /// Of those, the most from one address; a new one beyond it replaces that
    /// address's longest-idle connection, or is closed if none is idle.
    pub max_tcp_clients_per_address: usize,
    pub max_inflight: usize,
    /// Clients answered at all (others get REFUSED): loopback, private and
    /// link-local networks by default, so nestguard is never an open resolver.
    pub allow: Vec<Net>,
    /// Clients refused even if `allow` has them.
    pub deny: Vec<Net>,
    /// Queries per second per client network (an IPv4 /24, an IPv6 /56);
    /// beyond it (and the burst) clients get REFUSED. 0 turns it off.
    pub rate_limit: u32,
    pub rate_limit_burst: u32,
    /// Networks never rate limited (this machine's own programs by default).
    pub rate_limit_exempt: Vec<Net>,
    /// Forwarders (a router's dnsmasq) whose EDNS options say which device a
    /// query is for: the MAC (`add-mac`) and the address (`add-subnet`, RFC
    /// 7871). From anyone else those options are ignored. None by default.
    pub trusted_forwarders: Vec<Net>,
}

/// Loopback, RFC 1918, RFC 6598 (carrier-grade NAT, some ISPs' routers),
/// link-local, and RFC 4193 unique local addresses.
pub fn private_networks() -> Vec<Net> {
    [
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    ]
    .iter()
    .filter_map(|n| n.parse().ok().map(Net))
    .collect()
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: Spanned::new(
                0..0,
                vec![
                    SocketAddr::from(([127, 0, 0, 1], 5353)),
                    SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 5353)),
                ],
            ),
            max_udp_payload: Spanned::new(0..0, 1232),
            tcp_idle_timeout: Duration::from_secs(10),
            max_tcp_clients: 256,
            max_tcp_clients_per_address: 64,
            max_inflight: 4096,
            allow: private_networks(),
            deny: Vec::new(),
            rate_limit: 300,
            rate_limit_burst: 600,
            rate_limit_exempt: ["127.0.0.0/8", "::1/128"]
                .iter()
                .filter_map(|n| n.parse().ok().map(Net))
                .collect(),
            trusted_forwarders: Vec::new(),
        }
    }
}

/// How nestguard talks to an upstream resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Plain DNS over UDP, retried over TCP when the answer is truncated.
    Udp,
    /// Plain DNS over TCP.
    Tcp,
    /// DNS-over-TLS (RFC 7858).
    Tls,
    /// DNS-over-HTTPS (RFC 8484), HTTP/2.
    Https,
}

impl Protocol {
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Udp | Protocol::Tcp => 53,
            Protocol::Tls => 853,
            Protocol::Https => 443,
        }
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, Protocol::Tls | Protocol::Https)
    }
}

/// An IP address with an optional port: `9.9.9.9`, `9.9.9.9:853`, `[2620:fe::fe]:853`.
/// Upstreams are given by address, never by name, so no bootstrap DNS is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPort {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl FromStr for HostPort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Ok(HostPort {
                ip: sa.ip(),
                port: Some(sa.port()),
            });
        }
        let bare = s.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<IpAddr>()
            .map(|ip| HostPort { ip, port: None })
            .map_err(|_| {
                format!("`{s}` is not an IP address with an optional port (upstreams are given by IP; the name goes in tls_name)")
            })
    }
}

impl<'de> Deserialize<'de> for HostPort {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    pub protocol: Protocol,
    pub address: HostPort,
    /// The name the upstream's certificate must carry (tls and https).
    #[serde(default)]
    pub tls_name: Option<String>,
    /// The HTTP path of a DoH upstream.
    #[serde(default)]
    pub path: Option<String>,
    /// A PEM file of CA certificates to trust instead of the public roots (a private CA).
    #[serde(default)]
    pub ca_file: Option<Spanned<PathBuf>>,
    #[serde(default = "default_upstream_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Asked only when every other upstream has failed and no stale answer is
    /// kept, and only for profiles that fail open; its answers are not cached.
    #[serde(default)]
    pub fallback: bool,
}

impl UpstreamConfig {
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(
            self.address.ip,
            self.address.port.unwrap_or(self.protocol.default_port()),
        )
    }

    pub fn doh_path(&self) -> &str {
        self.path.as_deref().unwrap_or("/dns-query")
    }
}

fn default_upstream_timeout() -> Duration {
    Duration::from_secs(2)
}

pub(super) fn default_upstreams() -> Vec<Spanned<UpstreamConfig>> {
    // The same two Quad9 upstreams as in default.toml.
    ["9.9.9.9", "149.112.112.112"]
        .iter()
        .map(|ip| {
            Spanned::new(
                0..0,
                UpstreamConfig {
                    protocol: Protocol::Tls,
                    address: HostPort {
                        ip: ip.parse().unwrap_or(IpAddr::from([9, 9, 9, 9])),
                        port: Some(853),
                    },
                    tls_name: Some("dns.quad9.net".into()),
                    path: None,
                    ca_file: None,
                    timeout: default_upstream_timeout(),
                    fallback: false,
                },
            )
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    pub max_entries: usize,
    #[serde(with = "humantime_serde")]
    pub min_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub max_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub max_negative_ttl: Duration,
    pub serve_stale: bool,
    #[serde(with = "humantime_serde")]
    pub stale_retention: Duration,
    /// With an expired answer at hand, how long the upstreams get before the
    /// client is given it (RFC 8767's client response timer).
    #[serde(with = "humantime_serde")]
    pub stale_answer_timeout: Duration,
    /// A cached answer asked for in the last tenth of its TTL is refreshed in
    /// the background, once, so a name in use never becomes a miss (as
    /// unbound's `prefetch: yes`).
    pub prefetch: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_entries: 100_000,
            min_ttl: Duration::ZERO,
            max_ttl: Duration::from_secs(86_400),
            max_negative_ttl: Duration::from_secs(3_600),
            serve_stale: true,
            stale_retention: Duration::from_secs(86_400),
            stale_answer_timeout: Duration::from_millis(1800),
            prefetch: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub level: Spanned<String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: Spanned::new(0..0, "info".into()),
        }
    }
}

/// YouTube restricted mode for a profile or a child.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YoutubeLevel {
    #[default]
    Off,
    Moderate,
    Strict,
}

/// How much of the names a child looks up is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Privacy {
    /// Counts only: no domain names at all.
    #[default]
    Aggregate,
    /// Counts, and the registrable domains of blocked names.
    BlockedDomains,
    /// Counts, and the registrable domains of blocked and allowed names.
    Detailed,
}
