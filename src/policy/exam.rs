//! Exam mode for schools: `nestguard exam start --for 90m --allow FILE`, or
//! `[[exam]]` windows in the config (a `conf.d/` drop-in a fleet pushes).
//!
//! While an exam holds for a client, only the exam's allowlist and the
//! profile's own allowlist (help lines) are reachable; AI chatbots and the
//! bypass category stay blocked even when the exam's allowlist names them.
//! A teacher can open one site for a while (`exam allow NAME --for 15m`) or
//! lift the exam for one child or client for a while (`exam lift leo --for
//! 20m`); both end by themselves, and so does the exam, at `until`.
//!
//! The exam started from the command line is kept in `exam.toml` in the
//! state folder, written atomically, and read by the daemon every second
//! (like pauses). What holds now is compiled off the query path into
//! [`ExamLive`], which the query path reads without allocating.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::clock::LocalTime;
use crate::rules::name::{Candidate, normalize};
use crate::schedule::Window;

/// The name in `who` that means every client of this filter.
pub const EVERYONE: &str = "all";

/// An exam started from the command line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exam {
    /// Whom it holds for: [`EVERYONE`], or children, profiles and
    /// `[[client]]` names.
    pub who: Vec<String>,
    pub until: Timestamp,
    /// The sites reachable during the exam (each with its subdomains).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Who started it (`cli (user teacher)`), for the audit trail.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
}

/// A teacher's override: one site open during the exam, until it expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSite {
    pub name: String,
    pub until: Timestamp,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
}

/// A teacher's override: the exam lifted for one child, profile or client
/// until it expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lift {
    pub who: String,
    pub until: Timestamp,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
}

/// What `exam.toml` holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exam: Option<Exam>,
    #[serde(default, rename = "open", skip_serializing_if = "Vec::is_empty")]
    pub open: Vec<OpenSite>,
    #[serde(default, rename = "lift", skip_serializing_if = "Vec::is_empty")]
    pub lifts: Vec<Lift>,
}

impl ExamFile {
    /// Drops what has ended by `now`.
    fn tidy(&mut self, now: Timestamp) {
        if self.exam.as_ref().is_some_and(|e| e.until <= now) {
            self.exam = None;
        }
        self.open.retain(|o| o.until > now);
        self.lifts.retain(|l| l.until > now);
    }

    /// The exam in force at `now`, if any.
    pub fn current(&self, now: Timestamp) -> Option<&Exam> {
        self.exam.as_ref().filter(|e| e.until > now)
    }
}

/// The exam file (empty when it does not exist).
pub fn load(path: &Path) -> Result<ExamFile, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ExamFile::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn parse(text: &str) -> Result<ExamFile, String> {
    toml::from_str::<ExamFile>(text).map_err(|e| e.to_string())
}

fn save(path: &Path, file: &ExamFile) -> Result<(), String> {
    let body = toml::to_string(file).map_err(|e| e.to_string())?;
    let text = format!(
        "# Exam mode, written by `nestguard exam`; the exam and each override end at `until` (UTC).\n\n{body}"
    );
    crate::state::write_atomic(path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Starts an exam (replacing one in force, and its overrides).
pub fn start(path: &Path, exam: Exam) -> Result<(), String> {
    save(
        path,
        &ExamFile {
            exam: Some(exam),
            ..ExamFile::default()
        },
    )
}

/// Ends the exam started from the command line, and its overrides; returns
/// whether one was in force.
pub fn stop(path: &Path, now: Timestamp) -> Result<bool, String> {
    let file = load(path)?;
    let was = file.current(now).is_some();
    if file != ExamFile::default() {
        save(path, &ExamFile::default())?;
    }
    Ok(was)
}

/// Adds a teacher's override (a site opened, or the exam lifted for
/// someone), dropping what has ended.
pub fn add_override(
    path: &Path,
    now: Timestamp,
    change: impl FnOnce(&mut ExamFile),
) -> Result<(), String> {
    let mut file = load(path)?;
    file.tidy(now);
    change(&mut file);
    save(path, &file)
}

/// The sites of an exam's allow file: one domain per line (each with its
/// subdomains), `#` comments and blank lines ignored. A mistake is reported
/// as `file:line:column`.
pub fn read_allow_file(path: &Path) -> Result<Vec<String>, String> {
    let text = crate::sources::read_to_string(path).map_err(|e| {
        format!(
            "{}: cannot read: {}",
            path.display(),
            crate::config::io_reason(&e)
        )
    })?;
    let mut names = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let name = content.trim();
        if name.is_empty() {
            continue;
        }
        let column = content.len() - content.trim_start().len() + 1;
        let site = normalize(name)
            .map_err(|e| format!("{}:{}:{column}: `{name}`: {e}", path.display(), i + 1))?;
        names.push(site);
    }
    Ok(names)
}

/// An `[[exam]]` window of the config, as the daemon uses it.
#[derive(Clone, Debug)]
pub struct ExamWindow {
    pub name: String,
    pub window: Window,
    /// Bit p: the window holds for policy p.
    pub who: u64,
    /// Its sites, normalised.
    pub allow: Vec<String>,
}

/// The config's `[[exam]]` windows, with `who` resolved to policy bits by
/// `resolve` and the allow files read. A name no child, profile or client
/// has, or a bad allow file, is an error at its file:line:column.
pub fn windows(
    config: &crate::config::Config,
    resolve: impl Fn(&str) -> Option<u64>,
) -> anyhow::Result<Vec<ExamWindow>> {
    let mut out = Vec::new();
    for ex in &config.exams {
        let ex = ex.get_ref();
        let mut who = 0;
        for w in &ex.who {
            who |= resolve(w.get_ref()).ok_or_else(|| {
                config.error_at(
                    ex.origin,
                    w.span(),
                    format!(
                        "no child, profile or [[client]] named `{}` (or \"{EVERYONE}\" for everyone)",
                        w.get_ref()
                    ),
                )
            })?;
        }
        // Checked when the config was read.
        let mut allow: Vec<String> = ex
            .allow
            .iter()
            .filter_map(|a| normalize(a.get_ref()).ok())
            .collect();
        if let Some(file) = &ex.allow_file {
            allow.extend(read_allow_file(file).map_err(anyhow::Error::msg)?);
        }
        let days = if ex.days.is_empty() {
            0x7f
        } else {
            ex.days
                .iter()
                .filter_map(|d| crate::schedule::parse_day(d.get_ref()))
                .fold(0u8, |m, d| m | (1 << d))
        };
        let time =
            |t: &toml::Spanned<String>| crate::schedule::parse_hhmm(t.get_ref()).unwrap_or(0);
        out.push(ExamWindow {
            name: ex.name.clone(),
            window: Window {
                days,
                from: time(&ex.from),
                to: time(&ex.to),
            },
            who,
            allow,
        });
    }
    Ok(out)
}

/// What holds now, as the query path reads it. Built off the query path.
#[derive(Debug, Default)]
pub struct ExamLive {
    /// Bit p set: an exam holds for policy p now.
    pub on: u64,
    /// Site → bit p set: reachable for policy p during its exam.
    sites: HashMap<Box<[u8]>, u64>,
    /// Per policy under an exam: the local time it ends (minutes after midnight).
    ends: Vec<u16>,
}

impl ExamLive {
    /// The exams in force at `now` (local time `local`): the one in the file
    /// and the config's windows open now, less the lifts in force.
    /// `resolve` turns a `who` name into policy bits.
    pub fn compile(
        file: &ExamFile,
        windows: &[ExamWindow],
        now: Timestamp,
        local: LocalTime,
        resolve: impl Fn(&str) -> u64,
    ) -> ExamLive {
        let mut live = ExamLive::default();
        let mut ends = [None::<u16>; 64];
        let mut hold = |live: &mut ExamLive, who: u64, sites: &[String], end: u16| {
            live.on |= who;
            for s in sites {
                *live.sites.entry(s.as_bytes().into()).or_default() |= who;
            }
            for (p, e) in ends.iter_mut().enumerate() {
                if who & (1u64 << p) != 0 && e.is_none() {
                    *e = Some(end);
                }
            }
        };
        if let Some(exam) = file.current(now) {
            let who = exam.who.iter().fold(0, |m, w| m | resolve(w));
            // Minutes left, to the nearest, on the local clock.
            let left = (exam.until.as_second() - now.as_second() + 30) / 60;
            let end = (i64::from(local.minute) + left).rem_euclid(24 * 60) as u16;
            hold(&mut live, who, &exam.allow, end);
        }
        for w in windows.iter().filter(|w| w.window.active(local)) {
            hold(&mut live, w.who, &w.allow, w.window.to);
        }
        let on = live.on;
        for o in file.open.iter().filter(|o| o.until > now) {
            *live.sites.entry(o.name.as_bytes().into()).or_default() |= on;
        }
        for l in file.lifts.iter().filter(|l| l.until > now) {
            live.on &= !resolve(&l.who);
        }
        if live.on != 0 {
            live.ends = ends.iter().map(|e| e.unwrap_or(0)).collect();
        }
        live
    }

    /// Whether an exam holds for `profile`. Allocates nothing.
    pub fn holds(&self, profile: usize) -> bool {
        profile < 64 && self.on & (1u64 << profile) != 0
    }

    /// Whether `name` or a parent of it is reachable for `profile` during
    /// its exam. Allocates nothing.
    pub fn allows(&self, name: &Candidate, profile: usize) -> bool {
        if profile >= 64 {
            return false;
        }
        let bit = 1u64 << profile;
        (0..name.label_count())
            .any(|i| self.sites.get(name.suffix(i)).is_some_and(|b| b & bit != 0))
    }

    /// The local time `profile`'s exam ends, in minutes after midnight.
    pub fn ends(&self, profile: usize) -> u16 {
        self.ends.get(profile).copied().unwrap_or(0)
    }
}

/// The watch on the exam file at `path`.
pub fn watch(path: PathBuf) -> super::watch::Watch<ExamFile> {
    super::watch::Watch::new(path, "exam mode", parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn an_exam_holds_until_it_ends_and_lifts_and_sites_expire() {
        let now = ts("2026-12-03T09:00:00Z");
        let file = ExamFile {
            exam: Some(Exam {
                who: vec![EVERYONE.into()],
                until: ts("2026-12-03T10:30:00Z"),
                allow: vec!["wikipedia.org".into()],
                by: String::new(),
            }),
            open: vec![OpenSite {
                name: "dictionary.example".into(),
                until: ts("2026-12-03T09:15:00Z"),
                by: String::new(),
            }],
            lifts: vec![Lift {
                who: "leo".into(),
                until: ts("2026-12-03T09:20:00Z"),
                by: String::new(),
            }],
        };
        let resolve = |w: &str| match w {
            EVERYONE => 0b11,
            "leo" => 0b10,
            _ => 0,
        };
        let local = LocalTime {
            weekday: 3,
            minute: 9 * 60,
        };
        let live = ExamLive::compile(&file, &[], now, local, resolve);
        assert!(live.holds(0) && !live.holds(1), "lifted for leo");
        assert_eq!(live.ends(0), 10 * 60 + 30);
        let wiki = Candidate::from_text("en.wikipedia.org").unwrap();
        let dict = Candidate::from_text("dictionary.example").unwrap();
        assert!(live.allows(&wiki, 0) && live.allows(&dict, 0));
        let later = ExamLive::compile(&file, &[], ts("2026-12-03T09:30:00Z"), local, resolve);
        assert!(later.holds(1), "the lift expired");
        assert!(!later.allows(&dict, 0), "the opened site expired");
        let over = ExamLive::compile(&file, &[], ts("2026-12-03T10:30:00Z"), local, resolve);
        assert_eq!(over.on, 0, "ends by itself");
    }

    #[test]
    fn allow_file_mistakes_are_at_their_line_and_column() {
        let dir = std::env::temp_dir().join(format!("nestguard-exam-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("allow.txt");
        std::fs::write(&file, "# exam sites\nwikipedia.org\n\n  bad..name # typo\n").unwrap();
        let e = read_allow_file(&file).unwrap_err();
        assert!(
            e.ends_with(
                "allow.txt:4:3: `bad..name`: empty label (two dots in a row, or a leading dot)"
            ),
            "{e}"
        );
        std::fs::write(&file, "Wikipedia.org.\nbbc.co.uk # news\n").unwrap();
        assert_eq!(
            read_allow_file(&file).unwrap(),
            ["wikipedia.org", "bbc.co.uk"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
