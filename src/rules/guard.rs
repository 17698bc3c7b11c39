//! The public-institution guard: government, education and health domains
//! (`rules/guard/institutions.txt`) and the help lines are never blocked by
//! the lists of "opinion" categories that come from third parties (shipped
//! or subscribed). Security categories and the parent's own lists still
//! block them.
//!
//! Domain rules are kept out when the rule set is compiled, each one
//! reported (`nestguard check` prints them as `FILE:LINE`). Keyword and
//! regex rules cannot be judged before a name is asked, so they carry a flag
//! and the matcher skips them for a guarded name; that check runs only when
//! such a rule matched, so other queries pay nothing.
//!
//! The whole-portal guard (`rules/guard/portals.txt`) works on lines alone: a
//! third party's line (of any category but security) that would block a whole
//! portal or hosting domain is kept out, and every such line, the parent's
//! own included, is reported.

/// Guarded suffixes and help-line hosts.
#[derive(Clone, Debug, Default)]
pub struct Guard {
    /// `gov`, `gouv.fr`: the suffix and every name under it.
    suffixes: Vec<Box<[u8]>>,
    /// `gov` from `gov.*`: that label under any two-letter country code.
    country_seconds: Vec<Box<[u8]>>,
    /// Help lines: the host and every name under it.
    hosts: Vec<Box<[u8]>>,
    /// Portals and hosting domains no single line may block whole.
    portals: Vec<Box<[u8]>>,
    /// Every portal and each of its parents (`sites.google.com`,
    /// `google.com`, `com`), with the portal's index: a rule is checked
    /// with one lookup, since every line of every list is.
    portal_parents: std::collections::HashMap<Box<[u8]>, usize>,
}

/// Why a name is guarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarded<'a> {
    /// Under a public-institution suffix (as written in the data file).
    Institution(&'a str, bool),
    HelpLine(&'a str),
    /// A top-level domain: a rule for it would block every institution under it.
    TopLevel,
}

impl std::fmt::Display for Guarded<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Guarded::Institution(s, false) => write!(f, "public institution (.{s})"),
            Guarded::Institution(s, true) => write!(f, "public institution (.{s}.<country>)"),
            Guarded::HelpLine(h) => write!(f, "help line ({h})"),
            Guarded::TopLevel => write!(f, "a whole top-level domain"),
        }
    }
}

/// `name` is `suffix` or a name under it.
fn under(name: &[u8], suffix: &[u8]) -> bool {
    name == suffix
        || (name.len() > suffix.len()
            && name.ends_with(suffix)
            && name[name.len() - suffix.len() - 1] == b'.')
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("?")
}

impl Guard {
    /// Reads the institutions file (`# comments`, one suffix a line, `x.*`
    /// for x under any country code), the portals file (one name a line) and
    /// the help-line hosts. Returns the lines it cannot read as
    /// `institutions|portals line N: reason`.
    pub fn parse(
        institutions: &str,
        portals: &str,
        help_lines: impl IntoIterator<Item = String>,
    ) -> (Guard, Vec<String>) {
        let mut g = Guard::default();
        let mut bad = Vec::new();
        for (i, line) in portals.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            match super::name::normalize(line) {
                Ok(n) => {
                    let mut at = 0;
                    loop {
                        g.portal_parents
                            .entry(n.as_bytes()[at..].into())
                            .or_insert(g.portals.len());
                        match n[at..].find('.') {
                            Some(dot) => at += dot + 1,
                            None => break,
                        }
                    }
                    g.portals.push(n.into_bytes().into());
                }
                Err(e) => bad.push(format!("portals line {}: `{line}`: {e}", i + 1)),
            }
        }
        for (i, line) in institutions.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, country) = match line.strip_suffix(".*") {
                Some(n) => (n, true),
                None => (line, false),
            };
            match super::name::normalize(name) {
                Ok(n) if country => g.country_seconds.push(n.into_bytes().into()),
                Ok(n) => g.suffixes.push(n.into_bytes().into()),
                Err(e) => bad.push(format!("institutions line {}: `{line}`: {e}", i + 1)),
            }
        }
        for h in help_lines {
            let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
            let h = h.strip_prefix("www.").unwrap_or(&h);
            if let Ok(n) = super::name::normalize(h)
                && !g.hosts.iter().any(|x| **x == *n.as_bytes())
            {
                g.hosts.push(n.into_bytes().into());
            }
        }
        (g, bad)
    }

    pub fn is_empty(&self) -> bool {
        self.suffixes.is_empty() && self.country_seconds.is_empty() && self.hosts.is_empty()
    }

    /// The portal a rule for `name` would block whole: `name` is the portal
    /// or a parent of it.
    pub fn portal_rule(&self, name: &[u8]) -> Option<&str> {
        let i = *self.portal_parents.get(name)?;
        self.portals.get(i).map(|p| text(p))
    }

    /// Why `name` (lowercase, no trailing dot) is guarded, if it is. Allocates nothing.
    pub fn covers(&self, name: &[u8]) -> Option<Guarded<'_>> {
        if let Some(s) = self.suffixes.iter().find(|s| under(name, s)) {
            return Some(Guarded::Institution(text(s), false));
        }
        if let Some(h) = self.hosts.iter().find(|h| under(name, h)) {
            return Some(Guarded::HelpLine(text(h)));
        }
        // `x.cc`: the label before a two-letter country code.
        let mut labels = name.rsplit(|&b| b == b'.');
        let cc = labels.next()?;
        if cc.len() == 2 && cc.iter().all(u8::is_ascii_lowercase) {
            let second = labels.next()?;
            if let Some(s) = self.country_seconds.iter().find(|s| ***s == *second) {
                return Some(Guarded::Institution(text(s), true));
            }
        }
        None
    }

    /// Why a *rule* for `name` is kept out of an opinion category: the name
    /// is guarded, or it is a bare top-level domain.
    pub fn covers_rule(&self, name: &[u8]) -> Option<Guarded<'_>> {
        if self.is_empty() {
            return None;
        }
        if !name.contains(&b'.') {
            return Some(Guarded::TopLevel);
        }
        self.covers(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        let (g, bad) = Guard::parse(
            "# c\ngov\ngov.*\nac.*\nedu\nnhs.uk\nbad..name\n",
            "narod.ru  # why\nsites.google.com\n",
            ["https://www.childline.org.uk".replace("https://", "")],
        );
        assert_eq!(bad.len(), 1, "{bad:?}");
        g
    }

    #[test]
    fn suffixes_country_seconds_and_help_lines() {
        let g = guard();
        for n in [
            "usa.gov",
            "www.usa.gov",
            "drugs.gov.uk",
            "oflc.gov.au",
            "mitworld.mit.edu",
            "www.ox.ac.uk",
            "nhs.uk",
            "www.nhs.uk",
            "childline.org.uk",
            "www.childline.org.uk",
        ] {
            assert!(g.covers(n.as_bytes()).is_some(), "{n}");
        }
        for n in [
            "gov.example.com",
            "notgov",
            "mygov.com",
            "go.com",
            "gov.com",
            "ac.example",
            "fakenhs.uk",
            "childline.org.uk.evil.example",
        ] {
            assert!(g.covers(n.as_bytes()).is_none(), "{n}");
        }
        assert_eq!(g.covers_rule(b"uk"), Some(Guarded::TopLevel));
        assert_eq!(g.portal_rule(b"narod.ru"), Some("narod.ru"));
        assert_eq!(g.portal_rule(b"google.com"), Some("sites.google.com"));
        assert_eq!(g.portal_rule(b"teacher.narod.ru"), None);
        assert_eq!(g.portal_rule(b"mail.google.com"), None);
        assert_eq!(
            g.covers(b"x.gov.uk").map(|w| w.to_string()).as_deref(),
            Some("public institution (.gov.<country>)")
        );
    }
}
