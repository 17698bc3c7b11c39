//! `nestguard openwrt-config`: the router's config, made from UCI.
//!
//! OpenWrt keeps settings in UCI files (`/etc/config/nestguard`). The init
//! script used to turn them into TOML with `echo`, so a value with a `"` broke
//! the file and a client with nothing to match it by was let through. Here the
//! UCI file is read by a small parser of its own syntax, every value is put in
//! place with `toml_edit` (so it is escaped once, correctly), every section
//! and option is checked, and a mistake is named with the UCI file's
//! `file:line:column`. The init script only runs this command.
//!
//! The generated file is rewritten at every start, so what the dashboard
//! commands write (`nestguard passwd`, `nestguard metrics-token`) goes into a
//! persistent `[admin]` file instead (see [`Generated`]), which is merged in.

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

/// One `option` or `list` line of a UCI section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UciOption {
    pub name: String,
    pub value: String,
    /// `list` rather than `option`.
    pub list: bool,
    pub line: usize,
    /// Column (1-based) of the value.
    pub column: usize,
}

/// One `config TYPE 'name'` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UciSection {
    pub kind: String,
    pub name: Option<String>,
    pub line: usize,
    pub options: Vec<UciOption>,
}

impl UciSection {
    fn option(&self, name: &str) -> Option<&UciOption> {
        self.options
            .iter()
            .rev()
            .find(|o| o.name == name && !o.list)
    }

    fn list(&self, name: &str) -> impl Iterator<Item = &UciOption> {
        // `uci` itself reads an `option` where a list is expected as a list
        // of one, so both are taken.
        self.options.iter().filter(move |o| o.name == name)
    }
}

/// Splits one line into words as `uci` does: unquoted words end at blanks;
/// `'…'` keeps everything as it is; `"…"` and bare words take `\x` as `x`;
/// quoted and bare pieces next to each other make one word (`'it'\''s'`, as
/// `uci export` writes a quote). A `#` where a word would start ends the line.
/// Gives each word with the column it starts at.
fn words(line: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            break;
        }
        let start = i + 1;
        let mut word = String::new();
        while i < chars.len() && !chars[i].is_whitespace() {
            match chars[i] {
                '\'' => {
                    let open = i + 1;
                    i += 1;
                    while i < chars.len() && chars[i] != '\'' {
                        word.push(chars[i]);
                        i += 1;
                    }
                    if i == chars.len() {
                        return Err((open, "unterminated ' quote".into()));
                    }
                    i += 1;
                }
                '"' => {
                    let open = i + 1;
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' && i + 1 < chars.len() {
                            i += 1;
                        }
                        word.push(chars[i]);
                        i += 1;
                    }
                    if i == chars.len() {
                        return Err((open, "unterminated \" quote".into()));
                    }
                    i += 1;
                }
                '\\' if i + 1 < chars.len() => {
                    word.push(chars[i + 1]);
                    i += 2;
                }
                c => {
                    word.push(c);
                    i += 1;
                }
            }
        }
        out.push((word, start));
    }
    Ok(out)
}

/// Reads a UCI config file's text; `origin` names it in errors.
pub fn parse_uci(text: &str, origin: &str) -> Result<Vec<UciSection>, String> {
    let mut sections: Vec<UciSection> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let at = |col: usize, msg: String| format!("{origin}:{n}:{col}: {msg}");
        let w = words(line).map_err(|(col, msg)| at(col, msg))?;
        let Some((keyword, _)) = w.first() else {
            continue;
        };
        match (keyword.as_str(), w.len()) {
            ("package", 2) => {}
            ("config", 2 | 3) => sections.push(UciSection {
                kind: w[1].0.clone(),
                name: w.get(2).map(|(s, _)| s.clone()),
                line: n,
                options: Vec::new(),
            }),
            ("option" | "list", 3) => {
                let Some(section) = sections.last_mut() else {
                    return Err(at(1, format!("`{keyword}` before any `config` section")));
                };
                section.options.push(UciOption {
                    name: w[1].0.clone(),
                    value: w[2].0.clone(),
                    list: keyword == "list",
                    line: n,
                    column: w[2].1,
                });
            }
            ("config" | "option" | "list" | "package", _) => {
                let want = match keyword.as_str() {
                    "config" => "config TYPE 'name'",
                    "package" => "package NAME",
                    k => {
                        return Err(at(
                            1,
                            format!(
                                "expected `{k} NAME 'value'` (a value with spaces or quotes needs quoting: '…')"
                            ),
                        ));
                    }
                };
                return Err(at(1, format!("expected `{want}`")));
            }
            (k, _) => {
                return Err(at(
                    1,
                    format!("unknown keyword `{k}`: a UCI file has config, option and list lines"),
                ));
            }
        }
    }
    Ok(sections)
}

/// Where the generated file came from, written into its first lines so that
/// `nestguard passwd` and `nestguard metrics-token`, pointed at the generated
/// file, write into the persistent `[admin]` file and make the config again
/// (the generated file itself is rewritten at every start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub uci: PathBuf,
    pub preset: PathBuf,
    pub admin: PathBuf,
}

const MARK_UCI: &str = "# nestguard-openwrt-uci = ";
const MARK_PRESET: &str = "# nestguard-openwrt-preset = ";
const MARK_ADMIN: &str = "# nestguard-openwrt-admin = ";

impl Generated {
    /// The sources named in a generated file's header, if it is one.
    pub fn of(text: &str) -> Option<Generated> {
        let find = |mark: &str| -> Option<PathBuf> {
            let line = text.lines().take(8).find_map(|l| l.strip_prefix(mark))?;
            // The path was written as a TOML string: read it back as one.
            let v: toml_edit::Value = line.parse().ok()?;
            v.as_str().map(PathBuf::from)
        };
        Some(Generated {
            uci: find(MARK_UCI)?,
            preset: find(MARK_PRESET)?,
            admin: find(MARK_ADMIN)?,
        })
    }

    /// Makes the config from these sources.
    pub fn generate(&self) -> Result<String, String> {
        let read =
            |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
        let uci = read(&self.uci)?;
        let preset = read(&self.preset)?;
        let admin = match std::fs::read_to_string(&self.admin) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: {e}", self.admin.display())),
        };
        let sections = parse_uci(&uci, &self.uci.display().to_string())?;
        let mut doc = to_toml(
            &sections,
            &self.uci.display().to_string(),
            &preset,
            &self.preset,
        )?;
        if let Some(admin) = admin {
            merge_admin(&mut doc, &admin, &self.admin)?;
        }
        let header = format!(
            "# Generated by `nestguard openwrt-config` from the files below at every start\n\
             # of /etc/init.d/nestguard: edit those, not this file. `nestguard passwd` and\n\
             # `nestguard metrics-token` write into the [admin] file.\n{MARK_UCI}{}\n{MARK_PRESET}{}\n{MARK_ADMIN}{}\n\n",
            toml_edit::Value::from(self.uci.display().to_string()),
            toml_edit::Value::from(self.preset.display().to_string()),
            toml_edit::Value::from(self.admin.display().to_string()),
        );
        let text = format!("{header}{doc}");
        // The same check the daemon makes at start (conf.d drop-ins apart):
        // a config it would refuse is not written over one that works.
        crate::config::Config::parse(&text, "<generated config>", None)
            .map_err(|e| format!("the generated config is refused: {e}"))?;
        Ok(text)
    }
}

/// UCI's booleans.
fn boolean(o: &UciOption, origin: &str) -> Result<bool, String> {
    match o.value.as_str() {
        "1" | "yes" | "on" | "true" | "enabled" => Ok(true),
        "0" | "no" | "off" | "false" | "disabled" => Ok(false),
        v => Err(at(
            o,
            origin,
            format!("option {}: `{v}` is not 0 or 1", o.name),
        )),
    }
}

fn number(o: &UciOption, origin: &str) -> Result<i64, String> {
    o.value.parse::<u32>().map(i64::from).map_err(|_| {
        at(
            o,
            origin,
            format!("option {}: `{}` is not a whole number", o.name, o.value),
        )
    })
}

fn at(o: &UciOption, origin: &str, msg: String) -> String {
    format!("{origin}:{}:{}: {msg}", o.line, o.column)
}

fn strings<'a>(it: impl Iterator<Item = &'a UciOption>) -> Array {
    it.map(|o| o.value.as_str()).collect()
}

/// Refuses options a section does not have: a misspelt option would
/// otherwise be ignored without a word.
fn known(s: &UciSection, origin: &str, names: &[&str]) -> Result<(), String> {
    match s.options.iter().find(|o| !names.contains(&o.name.as_str())) {
        Some(o) => Err(format!(
            "{origin}:{}:1: `config {}` has no option `{}` (it has: {})",
            o.line,
            s.kind,
            o.name,
            names.join(", ")
        )),
        None => Ok(()),
    }
}

const MAIN_OPTIONS: &[&str] = &[
    "enabled",
    "listen",
    "forwarder_identity",
    "default_profile",
    "upstream",
    "memory_budget_mib",
    "cache_entries",
    "state_dir",
];
const ADMIN_OPTIONS: &[&str] = &[
    "enabled",
    "listen",
    "country",
    "language",
    "password_hash",
    "metrics_token_hash",
];
const CLIENT_OPTIONS: &[&str] = &["name", "profile", "mac", "address"];

/// Table positions past any preset's, so what UCI adds comes after it.
const AFTER_PRESET: isize = 10_000;

/// The config from the UCI sections over the preset's text.
pub fn to_toml(
    sections: &[UciSection],
    origin: &str,
    preset: &str,
    preset_path: &Path,
) -> Result<DocumentMut, String> {
    let mut doc: DocumentMut = preset
        .parse()
        .map_err(|e| format!("{}: {e}", preset_path.display()))?;
    let mut upstreams = ArrayOfTables::new();
    let mut clients = ArrayOfTables::new();
    let mut server = Table::new();
    for s in sections {
        match s.kind.as_str() {
            "nestguard" => {
                known(s, origin, MAIN_OPTIONS)?;
                let listen = strings(s.list("listen"));
                if !listen.is_empty() {
                    server["listen"] = value(listen);
                }
                let identity = match s.option("forwarder_identity") {
                    Some(o) => boolean(o, origin)?,
                    None => true,
                };
                if identity {
                    // dnsmasq on this router forwards from loopback.
                    server["trusted_forwarders"] = value(Array::from_iter(["127.0.0.1", "::1"]));
                }
                if let Some(o) = s.option("default_profile") {
                    table(&mut doc, "policy")["default_profile"] = value(o.value.as_str());
                }
                if let Some(o) = s.option("memory_budget_mib") {
                    table(&mut doc, "rules")["memory_budget_mib"] = value(number(o, origin)?);
                }
                if let Some(o) = s.option("cache_entries") {
                    table(&mut doc, "cache")["max_entries"] = value(number(o, origin)?);
                }
                if let Some(o) = s.option("state_dir") {
                    table(&mut doc, "state")["dir"] = value(o.value.as_str());
                }
                if let Some(o) = s.option("enabled") {
                    boolean(o, origin)?;
                }
                for o in s.list("upstream") {
                    let mut t = upstream(o, origin)?;
                    // After the preset's tables, in the UCI file's order.
                    t.set_position(Some(AFTER_PRESET + upstreams.len() as isize));
                    upstreams.push(t);
                }
            }
            "admin" => {
                known(s, origin, ADMIN_OPTIONS)?;
                let admin = table(&mut doc, "admin");
                for o in &s.options {
                    admin[o.name.as_str()] = if o.name == "enabled" {
                        value(boolean(o, origin)?)
                    } else {
                        value(o.value.as_str())
                    };
                }
            }
            "client" => {
                known(s, origin, CLIENT_OPTIONS)?;
                let name = s.option("name").map(|o| o.value.clone()).or(s.name.clone());
                let macs = strings(s.list("mac"));
                let addresses = strings(s.list("address"));
                if macs.is_empty() && addresses.is_empty() {
                    return Err(format!(
                        "{origin}:{}:1: client {}has nothing to match its device by: add `list mac '…'` (or `list address '…'`); without one it would match nobody",
                        s.line,
                        name.as_deref()
                            .map(|n| format!("'{n}' "))
                            .unwrap_or_default()
                    ));
                }
                let mut t = Table::new();
                if let Some(n) = &name {
                    t["name"] = value(n.as_str());
                }
                t["profile"] = value(s.option("profile").map_or("child", |o| o.value.as_str()));
                if !macs.is_empty() {
                    t["macs"] = value(macs);
                }
                if !addresses.is_empty() {
                    t["addresses"] = value(addresses);
                }
                t.set_position(Some(AFTER_PRESET * 2 + clients.len() as isize));
                clients.push(t);
            }
            other => {
                return Err(format!(
                    "{origin}:{}:1: unknown section `config {other}` (nestguard, admin or client)",
                    s.line
                ));
            }
        }
    }
    if !server.is_empty() {
        // [server] first, as a person would write it.
        server.set_position(Some(0));
        let old = doc.remove("server");
        let mut merged = match old {
            Some(Item::Table(t)) => t,
            _ => Table::new(),
        };
        for (k, v) in server.iter() {
            merged[k] = v.clone();
        }
        merged.set_position(Some(0));
        doc["server"] = Item::Table(merged);
    }
    if !upstreams.is_empty() {
        doc["upstream"] = Item::ArrayOfTables(upstreams);
    }
    if !clients.is_empty() {
        doc["client"] = Item::ArrayOfTables(clients);
    }
    Ok(doc)
}

/// The top-level table `name`, made (as a `[name]` table, not an inline
/// one) when the preset has none.
fn table<'a>(doc: &'a mut DocumentMut, name: &str) -> &'a mut Item {
    if !doc.contains_table(name) {
        doc[name] = toml_edit::table();
    }
    &mut doc[name]
}

/// `tls 9.9.9.9:853 dns.quad9.net` → an `[[upstream]]` table.
fn upstream(o: &UciOption, origin: &str) -> Result<Table, String> {
    let parts: Vec<&str> = o.value.split_whitespace().collect();
    let mut t = Table::new();
    match parts.as_slice() {
        [protocol, address, rest @ ..] if rest.len() <= 1 => {
            t["protocol"] = value(*protocol);
            t["address"] = value(*address);
            if let [name] = rest {
                t["tls_name"] = value(*name);
            }
            Ok(t)
        }
        _ => Err(at(
            o,
            origin,
            format!(
                "list upstream: `{}` is not `PROTOCOL ADDRESS [TLS_NAME]` (e.g. 'tls 9.9.9.9:853 dns.quad9.net')",
                o.value
            ),
        )),
    }
}

/// The persistent `[admin]` file's keys over what UCI set: what `nestguard
/// passwd` wrote last is what holds.
fn merge_admin(doc: &mut DocumentMut, text: &str, path: &Path) -> Result<(), String> {
    let extra: DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    for (k, _) in extra.iter() {
        if k != "admin" {
            return Err(format!(
                "{}: only [admin] belongs here (found `{k}`); the rest goes in /etc/config/nestguard or conf.d",
                path.display()
            ));
        }
    }
    if let Some(Item::Table(t)) = extra.get("admin") {
        let admin = table(doc, "admin");
        for (k, v) in t.iter() {
            admin[k] = v.clone();
        }
    }
    Ok(())
}

/// `nestguard openwrt-config`: writes the config to `output` (atomically) or
/// prints it.
pub fn command(sources: &Generated, output: Option<&Path>) -> Result<(), String> {
    let text = sources.generate()?;
    match output {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            // It holds the dashboard's password hashes: root's alone.
            crate::state::write_private(path, text.as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))
        }
        None => {
            crate::terminal::out!("{text}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_uci_quoting() {
        let w = |s: &str| {
            words(s)
                .unwrap()
                .into_iter()
                .map(|(w, _)| w)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            w("option name 'Leo tablet'"),
            ["option", "name", "Leo tablet"]
        );
        assert_eq!(
            w(r#"option name "say \"hi\"""#),
            ["option", "name", r#"say "hi""#]
        );
        assert_eq!(w(r"option name 'it'\''s'"), ["option", "name", "it's"]);
        assert_eq!(w(r"option name 'a\b'"), ["option", "name", r"a\b"]);
        assert_eq!(w("  # comment"), Vec::<String>::new());
        assert_eq!(w("option x y # tail"), ["option", "x", "y"]);
        assert!(words("option name 'open").is_err());
    }
}
