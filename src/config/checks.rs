//! Checks that need more than the config's own text: the rules directory's
//! `subscriptions.toml` and `helplines.toml`, the list files on disk. They run
//! when the config is parsed, so `nestguard check`, the daemon's start and
//! every reload refuse the same mistakes with the same `file:line:column`,
//! instead of `update` failing later or the dashboard silently showing no
//! help line.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::io_reason;
use super::locate::absolute;
use super::{Config, ConfigError, Position};
use crate::rules::catalog::{self, RulesDir};

/// Positions of values whose types carry none (kept plain so the rest of the
/// program is not bothered with spans). Read leniently from the same text,
/// which has already parsed: only the keys checked here are looked at.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Positions {
    update: UpdatePositions,
    admin: AdminPositions,
    rules: RulesPositions,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct UpdatePositions {
    subscriptions: Vec<Spanned<String>>,
    list: Vec<UrlPosition>,
}

#[derive(Deserialize)]
struct UrlPosition {
    url: Spanned<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AdminPositions {
    country: Option<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RulesPositions {
    list: Vec<PathPosition>,
}

#[derive(Deserialize)]
struct PathPosition {
    path: Spanned<String>,
}

/// Runs every check of this module on a config just read from `text`.
pub(super) fn run(config: &mut Config, text: &str, origin: &str) -> Result<(), ConfigError> {
    let at = |span: Range<usize>, msg: String| ConfigError::at(origin, text, Some(span), msg);
    let positions: Positions = toml::from_str(text).unwrap_or_default();
    clients(config, &at)?;
    list_files(config, &positions, text, origin)?;
    let dir = RulesDir::from_config(&config.rules);
    if !config.children.is_empty() || !config.profiles.is_empty() || !config.devices.is_empty() {
        let shipped = catalog::load_catalog(&dir)?;
        let services = crate::rules::services::load_services(&dir)?;
        children(config, &shipped, &services, &at)?;
    }
    if config.notify.enabled {
        silent_categories(config, &catalog::load_catalog(&dir)?, &at)?;
    }
    subscriptions(&positions, &dir, &at)?;
    own_list_urls(&positions, &at)?;
    if let Some(country) = &positions.admin.country {
        check_country(country, &dir, &at)?;
    }
    languages(config, &at)?;
    Ok(())
}

/// `[admin] language` and each child's `language` name a shipped language:
/// any other would silently show English.
fn languages(
    config: &Config,
    at: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let given = config.admin.language.iter().chain(
        config
            .children
            .iter()
            .filter_map(|c| c.get_ref().language.as_ref()),
    );
    for l in given {
        if crate::words::Lang::parse(l.get_ref()).is_none() {
            return Err(at(
                l.span(),
                format!(
                    "language `{}`: the children's pages are written in {}",
                    l.get_ref(),
                    crate::words::Lang::codes()
                ),
            ));
        }
    }
    Ok(())
}

/// `[notify] silent_categories` names categories the catalog has: a typo
/// would silently give notices for the category meant.
fn silent_categories(
    config: &Config,
    shipped: &catalog::Catalog,
    at: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    for c in &config.notify.silent_categories {
        known_category(shipped, c)
            .map_err(|e| at(c.span(), format!("[notify] silent_categories: {e}")))?;
    }
    Ok(())
}

/// `c` is a category of the catalog; else the error's text, naming them all.
fn known_category(shipped: &catalog::Catalog, c: &Spanned<String>) -> Result<(), String> {
    if shipped.categories.iter().any(|d| &d.id == c.get_ref()) {
        return Ok(());
    }
    let known: Vec<&str> = shipped.categories.iter().map(|d| d.id.as_str()).collect();
    Err(format!(
        "no category `{}`; categories: {}",
        c.get_ref(),
        known.join(", ")
    ))
}

/// A `[[client]]` with nothing to match by matches no one: its child would
/// silently get the default profile.
fn clients(
    config: &Config,
    at: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    for c in &config.clients {
        let r = c.get_ref();
        if r.addresses.is_empty()
            && r.macs.is_empty()
            && r.users.is_empty()
            && r.listeners.is_empty()
        {
            let who = r
                .name
                .as_deref()
                .map_or(String::new(), |n| format!(" (\"{n}\")"));
            return Err(at(
                c.span(),
                format!(
                    "this [[client]]{who} has nothing to match it by: give it addresses, macs, users or listeners (as it is, it matches no one)"
                ),
            ));
        }
    }
    Ok(())
}

/// Each `[[child]]` and `[profile.<id>]`: names, bands, categories and sites
/// that exist and parse, so a typo is an error at its line, not a child
/// who silently gets the default profile.
fn children(
    config: &Config,
    shipped: &catalog::Catalog,
    services: &[crate::rules::services::ServiceDef],
    at: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let profile_ids = || {
        shipped
            .profiles
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let known_profile = |p: &Spanned<String>| {
        if shipped.profiles.iter().any(|d| &d.id == p.get_ref()) {
            Ok(())
        } else {
            Err(at(
                p.span(),
                format!("no profile `{}`; profiles: {}", p.get_ref(), profile_ids()),
            ))
        }
    };
    let tweaks = |t: &super::Tweaks| -> Result<(), ConfigError> {
        for c in t.block_categories.iter().chain(&t.allow_categories) {
            known_category(shipped, c).map_err(|e| at(c.span(), e))?;
        }
        for site in t.allow_sites.iter().chain(&t.block_sites) {
            if let Err(e) = crate::rules::name::normalize(site.get_ref()) {
                return Err(at(site.span(), format!("`{}`: {e}", site.get_ref())));
            }
        }
        service_rules(&t.services, services, at)
    };
    for (id, t) in &config.profiles {
        if !shipped.profiles.iter().any(|d| &d.id == id) {
            return Err(at(
                t.span(),
                format!(
                    "[profile.{id}]: no such profile; profiles: {}",
                    profile_ids()
                ),
            ));
        }
        tweaks(t.get_ref())?;
    }
    for d in &config.devices {
        if d.get_ref().mac.is_none() && d.get_ref().address.is_none() {
            return Err(at(
                d.span(),
                "a [[device]] needs mac or address: what tells the device apart".into(),
            ));
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for c in &config.children {
        let child = c.get_ref();
        let id = child.id();
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|ch| ch.is_alphanumeric() || ch == '-' || ch == '_');
        if !valid {
            return Err(at(
                child.name.span(),
                format!(
                    "child name `{}`: use letters, digits, - or _ (it names the child on the command line and in reports)",
                    child.name.get_ref()
                ),
            ));
        }
        if seen.contains(&id) {
            return Err(at(
                child.name.span(),
                format!("two children are named `{id}`"),
            ));
        }
        if shipped.profiles.iter().any(|p| p.id == id) {
            return Err(at(
                child.name.span(),
                format!("child name `{id}` is also a profile's id; give the child another name"),
            ));
        }
        match (&child.born, &child.profile) {
            (None, None) => {
                return Err(at(
                    c.span(),
                    format!(
                        "child `{}` needs born = \"YYYY-MM\" (their band follows their age) or profile = \"…\"",
                        child.name.get_ref()
                    ),
                ));
            }
            (Some(b), Some(_)) => {
                return Err(at(
                    b.span(),
                    "give born or profile, not both: with profile the band does not follow the age"
                        .into(),
                ));
            }
            (None, Some(p)) => known_profile(p)?,
            (Some(_), None) => {}
        }
        tweaks(&child.tweaks)?;
        seen.push(id);
    }
    Ok(())
}

/// `services = { … }` of a child or profile (or of a child in the
/// dashboard's state file): services the catalogue has, windows and budgets
/// that parse.
pub fn service_rules(
    rules: &std::collections::BTreeMap<String, Spanned<super::ServiceRule>>,
    services: &[crate::rules::services::ServiceDef],
    at: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    use super::ServiceRule;
    for (id, rule) in rules {
        if !services.iter().any(|s| &s.id == id) {
            let mut known: Vec<&str> = services.iter().map(|s| s.id.as_str()).collect();
            known.sort_unstable();
            return Err(at(
                rule.span(),
                format!(
                    "no service `{id}` in services.toml; services: {}",
                    known.join(", ")
                ),
            ));
        }
        let ServiceRule::Limited(l) = rule.get_ref() else {
            continue;
        };
        for d in &l.days {
            if crate::schedule::parse_day(d.get_ref()).is_none() {
                return Err(at(
                    d.span(),
                    format!(
                        "`{}`: days are mon, tue, wed, thu, fri, sat, sun",
                        d.get_ref()
                    ),
                ));
            }
        }
        for t in [&l.from, &l.to, &l.reset].into_iter().flatten() {
            if crate::schedule::parse_hhmm(t.get_ref()).is_none() {
                return Err(at(
                    t.span(),
                    format!("`{}`: a local time is HH:MM, 00:00 to 23:59", t.get_ref()),
                ));
            }
        }
        match (&l.from, &l.to, l.budget) {
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(at(
                    rule.span(),
                    format!("service `{id}`: give both from and to, or neither"),
                ));
            }
            (None, None, None) if l.days.is_empty() => {
                return Err(at(
                    rule.span(),
                    format!(
                        "service `{id}`: say \"block\" or \"allow\", or give hours (from, to, days) and/or a daily budget"
                    ),
                ));
            }
            _ => {}
        }
        if l.budget
            .is_some_and(|b| b.as_secs() < 60 || b.as_secs() > 24 * 3600)
        {
            return Err(at(
                rule.span(),
                format!("service `{id}`: a daily budget is between 1m and 24h"),
            ));
        }
    }
    Ok(())
}

/// Records where each `[[rules.list]]` is written, and refuses one whose file
/// cannot be read, naming the config line once.
fn list_files(
    config: &mut Config,
    positions: &Positions,
    text: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    for (list, pos) in config.rules.lists.iter_mut().zip(&positions.rules.list) {
        list.declared = Some(Position::of(origin, text, pos.path.span().start));
        list.declared_as = Some(pos.path.get_ref().clone());
        if let Err(e) = readable_file(&list.path) {
            return Err(list.error(format!(
                "cannot read {}: {}",
                absolute(&list.path).display(),
                io_reason(&e)
            )));
        }
    }
    Ok(())
}

/// Whether a list file can be opened for reading, without reading it (lists
/// can be large). A missing file is looked for again the way the rules are
/// read, so an editor replacing it during a reload does not fail the reload.
fn readable_file(path: &Path) -> std::io::Result<()> {
    let file = match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return crate::sources::read(path).map(drop);
        }
        other => other?,
    };
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        ));
    }
    Ok(())
}

/// Names from `subscriptions.toml`: `update` refuses any other, so `check` and the daemon do too.
fn subscriptions(
    positions: &Positions,
    dir: &RulesDir,
    at: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let wanted = &positions.update.subscriptions;
    let keyword = |n: &str| {
        n == crate::rules::subscriptions::ALL || n == crate::rules::subscriptions::RECOMMENDED
    };
    if wanted.iter().all(|n| keyword(n.get_ref())) {
        return Ok(());
    }
    let offered = catalog::load_subscriptions(dir)?;
    for name in wanted {
        let name_text = name.get_ref();
        if keyword(name_text) || offered.iter().any(|d| &d.name == name_text) {
            continue;
        }
        let file = dir.display("subscriptions.toml");
        let lower = name_text.to_lowercase();
        let close: Vec<&str> = offered
            .iter()
            .map(|d| d.name.as_str())
            .filter(|n| {
                let n = n.to_lowercase();
                n == lower || (lower.len() >= 3 && n.contains(&lower))
            })
            .collect();
        let hint = if offered.is_empty() {
            format!("{file} offers none")
        } else if close.is_empty() {
            format!(
                "its names are: {}",
                offered
                    .iter()
                    .map(|d| format!("\"{}\"", d.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "did you mean {}?",
                close
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        };
        return Err(at(
            name.span(),
            format!("update.subscriptions: no subscription named `{name_text}` in {file}; {hint}"),
        ));
    }
    Ok(())
}

/// The URL schemes `update` fetches; anything else it refuses at download time.
pub fn list_url_accepted(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("file://")
}

fn own_list_urls(
    positions: &Positions,
    at: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    for list in &positions.update.list {
        let url = list.url.get_ref();
        if !list_url_accepted(url) {
            let why = if url.starts_with("http://") {
                "a list fetched over plain HTTP can be changed on the way; use https://"
            } else {
                "use https://… or file:///path"
            };
            return Err(at(
                list.url.span(),
                format!(
                    "[[update.list]] url `{url}`: only https:// and file:// URLs are accepted ({why})"
                ),
            ));
        }
    }
    Ok(())
}

/// `[admin] country` must be a code `helplines.toml` has: any other shows
/// children no help line, silently.
fn check_country(
    country: &Spanned<String>,
    dir: &RulesDir,
    at: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let given = country.get_ref().trim();
    if given.is_empty() {
        return Ok(());
    }
    let code = given.to_ascii_uppercase();
    let helplines = catalog::load_helplines(dir)?;
    if helplines.country.iter().any(|c| c.code == code) {
        return Ok(());
    }
    let file = dir.display("helplines.toml");
    let mut known: Vec<&str> = helplines.country.iter().map(|c| c.code.as_str()).collect();
    known.sort_unstable();
    let known = known.join(", ");
    let message = match suggestion(&code) {
        Some(better) => {
            format!("country `{given}` is not an ISO 3166-1 alpha-2 code: use `{better}`")
        }
        None if !is_iso_3166_alpha2(&code) => format!(
            "country `{given}` is not an ISO 3166-1 alpha-2 code (two letters, e.g. GB, DE, IE); {file} has help lines for {known}"
        ),
        None => format!(
            "country `{given}`: {file} has no help lines for it (it has {known}). Leave country unset to show only the international services, or add a [[country]] entry for {code} to that file"
        ),
    };
    Err(at(country.span(), message))
}

/// The right code for names people often write instead.
fn suggestion(code: &str) -> Option<&'static str> {
    match code {
        // The United Kingdom's ISO code is GB; UK is only exceptionally reserved.
        "UK" | "GBR" | "ENGLAND" | "SCOTLAND" | "WALES" => Some("GB"),
        // The EU's code for Greece.
        "EL" | "GRC" => Some("GR"),
        "IRL" => Some("IE"),
        "DEU" | "GER" => Some("DE"),
        "AUT" => Some("AT"),
        "FRA" => Some("FR"),
        "NLD" => Some("NL"),
        "BEL" => Some("BE"),
        "ITA" => Some("IT"),
        "ESP" => Some("ES"),
        _ => None,
    }
}

/// The 249 officially assigned ISO 3166-1 alpha-2 codes.
const ISO_3166_ALPHA2: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ \
VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

fn is_iso_3166_alpha2(code: &str) -> bool {
    code.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iso_table_has_every_assigned_code_once() {
        let codes: Vec<&str> = ISO_3166_ALPHA2.split(' ').collect();
        assert_eq!(codes.len(), 249);
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, codes, "sorted and unique");
        assert!(is_iso_3166_alpha2("US") && !is_iso_3166_alpha2("UK"));
    }

    #[test]
    fn io_reasons_drop_the_os_error_number() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&e), "No such file or directory");
    }
}
