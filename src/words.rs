//! The child's words: what a child is told when something is blocked, in
//! their language and for their age. Plain functions over embedded Project
//! Fluent files (`locales/<lang>/nestguard.ftl`), so the dashboard's pages,
//! the block-page listener and the desktop notice agent all say the same.
//!
//! Bundles are parsed once, on first use, never on the query path.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

/// A language the child's pages are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    De,
    Fr,
    Es,
    It,
    Nl,
    Pl,
}

impl Lang {
    pub const ALL: [Lang; 7] = [
        Lang::En,
        Lang::De,
        Lang::Fr,
        Lang::Es,
        Lang::It,
        Lang::Nl,
        Lang::Pl,
    ];

    /// The ISO 639-1 code (`de`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::It => "it",
            Lang::Nl => "nl",
            Lang::Pl => "pl",
        }
    }

    /// A language tag as a config or a browser writes it (`de`, `de-AT`,
    /// `DE_ch`): its primary language, if one is shipped.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The codes of every shipped language, for error messages.
    pub fn codes() -> String {
        Lang::ALL.map(Lang::code).join(", ")
    }

    /// The language of a country with one national language that is
    /// shipped; none for the others (Belgium, Switzerland, Luxembourg …:
    /// the browser knows better).
    pub fn of_country(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_uppercase().as_str() {
            "GB" | "UK" | "IE" | "MT" => Some(Lang::En),
            "DE" | "AT" | "LI" => Some(Lang::De),
            "FR" | "MC" => Some(Lang::Fr),
            "ES" => Some(Lang::Es),
            "IT" | "SM" => Some(Lang::It),
            "NL" => Some(Lang::Nl),
            "PL" => Some(Lang::Pl),
            _ => None,
        }
    }

    /// The first shipped language of an `Accept-Language` header, by its
    /// q-values (ties keep the header's order).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',').take(32) {
            let mut fields = part.split(';');
            let Some(lang) = fields.next().and_then(Lang::parse) else {
                continue;
            };
            let q = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The message files of a language: the child's words, then the
    /// parents' dashboard (one bundle; ids are unique across both). They are
    /// embedded gzip-compressed (build.rs; BENCHMARKS.md, "Binary size") and
    /// read once, when the bundles are built.
    fn sources(self) -> [String; 2] {
        macro_rules! files {
            ($code:literal) => {
                [
                    include_bytes!(concat!(
                        env!("OUT_DIR"),
                        "/locales/",
                        $code,
                        "/nestguard.ftl"
                    )),
                    include_bytes!(concat!(
                        env!("OUT_DIR"),
                        "/locales/",
                        $code,
                        "/dashboard.ftl"
                    )),
                ]
            };
        }
        let stored: [&[u8]; 2] = match self {
            Lang::En => files!("en"),
            Lang::De => files!("de"),
            Lang::Fr => files!("fr"),
            Lang::Es => files!("es"),
            Lang::It => files!("it"),
            Lang::Nl => files!("nl"),
            Lang::Pl => files!("pl"),
        };
        // build.rs wrote these bytes; a file that would not decompress is
        // empty here, and the message-id tests (tests/it/words.rs) fail.
        stored.map(|gz| {
            let mut text = String::new();
            match std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut text) {
                Ok(_) => text,
                Err(_) => String::new(),
            }
        })
    }
}

/// Which words fit a child: the four shipped age bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    YoungChild,
    Child,
    Teen,
    OlderTeen,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::YoungChild, Band::Child, Band::Teen, Band::OlderTeen];

    /// The band of a profile id. A profile that is not a band (a parent's
    /// own, or `unfiltered`) gets the `child` words: plain, and not babyish.
    pub fn of_profile(id: &str) -> Band {
        match id {
            "young-child" => Band::YoungChild,
            "teen" => Band::Teen,
            "older-teen" => Band::OlderTeen,
            _ => Band::Child,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Band::YoungChild => "young-child",
            Band::Child => "child",
            Band::Teen => "teen",
            Band::OlderTeen => "older-teen",
        }
    }

    /// `young` or `older`: most words differ only between the two halves.
    fn age(self) -> &'static str {
        match self {
            Band::YoungChild | Band::Child => "young",
            Band::Teen | Band::OlderTeen => "older",
        }
    }
}

/// Why something is blocked, as the child is told.
#[derive(Clone, Copy, Debug)]
pub enum Reason<'a> {
    /// A content category (`id` from `rules/categories.toml`; `name` is
    /// shown for a category the words do not know).
    Category { id: &'a str, name: &'a str },
    /// A security list (scams, malware): nobody can unblock it.
    Security { id: &'a str, name: &'a str },
    /// An allowlist-only schedule window that is bedtime.
    Bedtime,
    /// Any other allowlist-only schedule window, by its name.
    Schedule { window: &'a str },
    /// A parent paused the internet for this child.
    Paused,
    /// Exam mode.
    Exam,
    /// A service (YouTube, Roblox …) a parent turned off.
    ServiceBlocked { service: &'a str },
    /// A service outside the hours it is open.
    ServiceHours { service: &'a str },
    /// A service whose time budget for today is used up.
    BudgetUsedUp { service: &'a str },
}

/// The categories whose sites are not for children at all; the others are
/// a family's choice, which a child may ask about.
const HARM: &[&str] = &[
    "bypass",
    "adult",
    "gambling",
    "violence",
    "self-harm",
    "drugs",
    "dating",
    "anonymous-chat",
];

/// The categories with words of their own (`cat-<id>`); others get `cat-other`.
pub const CATEGORIES: &[&str] = &[
    "scams-malware",
    "bypass",
    "adult",
    "gambling",
    "violence",
    "self-harm",
    "drugs",
    "dating",
    "anonymous-chat",
    "short-video",
    "social-media",
    "gaming",
    "unsafe-search",
    "piracy",
    "fake-news",
    "trackers",
];

impl<'a> Reason<'a> {
    /// A category's reason: a security list's (no ask) or a content one's.
    pub fn of_category(id: &'a str, name: &'a str, security: bool) -> Reason<'a> {
        if security {
            Reason::Security { id, name }
        } else {
            Reason::Category { id, name }
        }
    }

    /// A schedule window's reason: bedtime when its name says so.
    pub fn of_window(window: &'a str) -> Reason<'a> {
        let lower = window.to_lowercase();
        if [
            "bed", "night", "sleep", "nacht", "nuit", "noche", "notte", "nacht", "noc",
        ]
        .iter()
        .any(|w| lower.contains(w))
        {
            Reason::Bedtime
        } else {
            Reason::Schedule { window }
        }
    }
}

/// What a child is told: what happened, why, what they can do, and whether
/// asking a parent can change it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Words {
    pub title: String,
    pub why: String,
    pub can: String,
    /// False for security lists: no one can unblock them, so no one is asked.
    pub ask: bool,
}

impl Words {
    /// The desktop notice: a title and one text.
    pub fn notice(&self) -> (String, String) {
        (self.title.clone(), format!("{} {}", self.why, self.can))
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Lang) -> Bundle {
    let id: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // The pages are HTML-escaped; bidi isolation marks would only show as
    // stray characters in a notice.
    b.set_use_isolating(false);
    for source in lang.sources() {
        // A syntax error in a shipped file is a test failure (tests/it/words.rs);
        // the entries that do parse still serve.
        let resource = FluentResource::try_new(source).unwrap_or_else(|(r, _)| r);
        // Only duplicate ids fail here; the message-id test keeps them out.
        let _ = b.add_resource(resource);
    }
    b
}

static BUNDLES: LazyLock<Vec<(Lang, Bundle)>> =
    LazyLock::new(|| Lang::ALL.into_iter().map(|l| (l, bundle(l))).collect());

/// One message, formatted; English when the language lacks it, and the id
/// itself when English does too (a test keeps both from happening).
pub fn text(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        // A count is passed as a number, so that plural selectors
        // (`[one]`, `[few]` …) can choose; "05" stays text (a clock's minutes).
        let count = (*v == "0" || !v.starts_with('0'))
            .then(|| v.parse::<u64>().ok())
            .flatten();
        match count {
            Some(n) => fa.set(*k, n),
            None => fa.set(*k, *v),
        }
    }
    for l in [lang, Lang::En] {
        let Some((_, b)) = BUNDLES.iter().find(|(x, _)| *x == l) else {
            continue;
        };
        if let Some(pattern) = b.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return b
                .format_pattern(pattern, Some(&fa), &mut errors)
                .into_owned();
        }
    }
    id.to_string()
}

/// The ids of the messages a language's files define, in file order.
pub fn message_ids(lang: Lang) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    for source in lang.sources() {
        let resource =
            FluentResource::try_new(source).map_err(|(_, e)| format!("{}: {e:?}", lang.code()))?;
        ids.extend(resource.entries().filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        }));
    }
    Ok(ids)
}

/// The labels of a child's page, in their language and for their band
/// (templates call [`Tr::get`]).
#[derive(Clone, Copy, Debug)]
pub struct Tr {
    pub lang: Lang,
    pub band: Band,
}

impl Tr {
    /// The parents' pages (the dashboard, its login and messages): the
    /// words are the same for every band.
    pub fn parents(lang: Lang) -> Tr {
        Tr {
            lang,
            band: Band::Child,
        }
    }

    pub fn get(&self, id: &str) -> String {
        self.text(id, &[])
    }

    /// One message with one more variable.
    pub fn with(&self, id: &str, key: &str, value: &str) -> String {
        self.text(id, &[(key, value)])
    }

    /// One message with a count (`$n`), for its plural forms (a template
    /// may hand over the number or a reference to it).
    pub fn count(&self, id: &str, n: impl std::borrow::Borrow<u64>) -> String {
        self.text(id, &[("n", &n.borrow().to_string())])
    }

    /// One message with any variables.
    pub fn args(&self, id: &str, args: &[(&str, &str)]) -> String {
        self.text(id, args)
    }

    /// A length of time in minutes: `45 min`, `2 h 05 min`.
    pub fn minutes(&self, m: u64) -> String {
        match (m / 60, m % 60) {
            (0, m) => self.count("dashboard-minutes", m),
            (h, m) => self.args(
                "dashboard-hours",
                &[("h", &h.to_string()), ("m", &format!("{m:02}"))],
            ),
        }
    }

    fn text(&self, id: &str, extra: &[(&str, &str)]) -> String {
        let mut args = vec![("band", self.band.id()), ("age", self.band.age())];
        args.extend_from_slice(extra);
        text(self.lang, id, &args)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// What a child of `band` is told for a block, in `lang`.
pub fn block_words(reason: Reason<'_>, band: Band, lang: Lang) -> Words {
    let age = band.age();
    let fallback = |s: &str, or: &'static str| -> String {
        if s.trim().is_empty() {
            text(lang, or, &[])
        } else {
            s.trim().to_string()
        }
    };
    let t = |id: &str, extra: &[(&str, &str)]| {
        let mut args = vec![("band", band.id()), ("age", age)];
        args.extend_from_slice(extra);
        text(lang, id, &args)
    };
    let service_words = |service: &str, what: &str| {
        let name = fallback(service, "this-service");
        let name = name.as_str();
        Words {
            title: capitalised(&t(&format!("block-title-{what}"), &[("name", name)])),
            why: t(&format!("why-{what}"), &[("name", name)]),
            can: t(&format!("can-{what}"), &[("name", name)]),
            ask: true,
        }
    };
    // Bedtime, a pause, exam mode: the same three messages, no names.
    let plain = |what: &str| Words {
        title: t(&format!("block-title-{what}"), &[]),
        why: t(&format!("why-{what}"), &[]),
        can: t(&format!("can-{what}"), &[]),
        ask: true,
    };
    match reason {
        Reason::Category { id, name } | Reason::Security { id, name } => {
            let security = matches!(reason, Reason::Security { .. });
            let why_id = if CATEGORIES.contains(&id) {
                format!("cat-{id}")
            } else {
                "cat-other".to_string()
            };
            let name = if name.trim().is_empty() { id } else { name };
            let kind = if HARM.contains(&id) { "harm" } else { "choice" };
            let extra = [("name", name), ("kind", kind)];
            if security {
                Words {
                    title: t("block-title-security", &extra),
                    why: t(&why_id, &extra),
                    can: t("can-security", &extra),
                    ask: false,
                }
            } else {
                Words {
                    title: t("block-title-category", &extra),
                    why: t(&why_id, &extra),
                    can: t("can-category", &extra),
                    ask: true,
                }
            }
        }
        Reason::Bedtime => plain("bedtime"),
        Reason::Schedule { window } => {
            // A window with no name: "Quiet hours", not "Quiet hours: quiet hours".
            let title = if window.trim().is_empty() {
                capitalised(&t("quiet-hours", &[]))
            } else {
                t("block-title-schedule", &[("window", window.trim())])
            };
            let window = fallback(window, "quiet-hours");
            let w = [("window", window.as_str())];
            Words {
                title,
                why: t("why-schedule", &w),
                can: t("can-schedule", &w),
                ask: true,
            }
        }
        Reason::Paused => plain("paused"),
        Reason::Exam => plain("exam"),
        Reason::ServiceBlocked { service } => service_words(service, "service-blocked"),
        Reason::ServiceHours { service } => service_words(service, "service-hours"),
        Reason::BudgetUsedUp { service } => service_words(service, "budget"),
    }
}

/// A category's name in the child's language; a category the words do not
/// know keeps the name the rules give it.
pub fn category_name(lang: Lang, id: &str, name: &str) -> String {
    if CATEGORIES.contains(&id) {
        text(lang, &format!("catname-{id}"), &[])
    } else {
        name.to_string()
    }
}

/// A title starts with a capital even when it starts with a name.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_shipped_language() {
        assert_eq!(
            Lang::from_accept_language("sv-SE,de;q=0.8,fr;q=0.9"),
            Some(Lang::Fr)
        );
        assert_eq!(Lang::from_accept_language("pl-PL"), Some(Lang::Pl));
        assert_eq!(Lang::from_accept_language("sv, ja;q=0.5"), None);
        assert_eq!(
            Lang::from_accept_language("de;q=0, nl;q=0.1"),
            Some(Lang::Nl)
        );
    }

    #[test]
    fn bedtime_windows_are_told_as_bedtime() {
        assert!(matches!(Reason::of_window("Bedtime"), Reason::Bedtime));
        assert!(matches!(
            Reason::of_window("homework"),
            Reason::Schedule { window: "homework" }
        ));
    }
}
