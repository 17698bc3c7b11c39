//! Protection events: when filtering stopped and started again, and when a
//! change loosened it (a client moved to a profile that blocks less, a
//! profile that stopped blocking a category, this machine no longer using
//! nestguard). These are what a child who wanted the filter gone would do, so
//! parents see them in `nestguard status` and in the report.
//!
//! Kept in the activity database (tables `events` and `meta`), apart from
//! browsing activity: they are about the filter, not about what a child
//! looked at, so they are kept even when activity counting is off.
//!
//! "Stopped" is known two ways: a clean shutdown says so, and a daemon that
//! was killed (or lost power) is found out at the next start from its last
//! heartbeat, written every [`HEARTBEAT`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::engine::Engine;

/// How often a running daemon notes that it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// One protection event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Unix seconds.
    pub at: i64,
    /// `stopped`, `started`, `loosened`, `refused`, `resolver`.
    pub kind: String,
    pub detail: String,
}

/// Who gets which profile, and what each profile blocks: compared across
/// reloads and restarts to find changes that loosen filtering.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySnapshot {
    /// `client sam` / `default` → profile id.
    pub assignments: BTreeMap<String, String>,
    /// Profile id → the categories it blocks (and `safe-search` when it enforces it).
    pub blocks: BTreeMap<String, Vec<String>>,
}

impl PolicySnapshot {
    pub fn of(engine: &Engine) -> PolicySnapshot {
        let blocks = engine
            .profile_ids()
            .enumerate()
            .map(|(i, id)| {
                let mut b: Vec<String> = engine
                    .profile_categories(i)
                    .into_iter()
                    .map(String::from)
                    .collect();
                if engine.profile_safe_search(i) {
                    b.push("safe-search".into());
                }
                (id.to_string(), b)
            })
            .collect();
        PolicySnapshot {
            assignments: engine.assignments(),
            blocks,
        }
    }

    /// What got looser from `old` to `self`, one line each.
    pub fn loosened_since(&self, old: &PolicySnapshot) -> Vec<String> {
        let mut out = Vec::new();
        let lost = |from: &str, to: &str| -> Vec<String> {
            let (Some(before), after) = (old.blocks.get(from), self.blocks.get(to)) else {
                return Vec::new();
            };
            let after = after.map(Vec::as_slice).unwrap_or_default();
            // Snapshots before 2026-12 listed the profiles' own allowlists
            // among what they block; losing an allowlist loosens nothing.
            let allowlist = |c: &str| c.starts_with("profile:") || c.starts_with("parent-allow:");
            before
                .iter()
                .filter(|c| !allowlist(c) && !after.contains(c))
                .cloned()
                .collect()
        };
        // What a client now on `profile` can reach that it could not.
        let opened = |profile: &str, gone: &[String]| {
            if self.blocks.get(profile).is_none_or(Vec::is_empty) {
                "filtering off".to_string()
            } else {
                format!("no longer blocked: {}", gone.join(", "))
            }
        };
        for (who, new_profile) in &self.assignments {
            let Some(old_profile) = old.assignments.get(who) else {
                // A new table takes its devices from the old default.
                let Some(was) = old.assignments.get("default") else {
                    continue;
                };
                let gone = lost(was, new_profile);
                if who != "default" && !gone.is_empty() {
                    out.push(format!(
                        "{who}: added with profile {new_profile} (its devices had the default, {was}; {})",
                        opened(new_profile, &gone)
                    ));
                }
                continue;
            };
            if old_profile == new_profile {
                continue;
            }
            // Only a move that makes something reachable is an event: moving a
            // child to a stricter profile is what parents do every day.
            let gone = lost(old_profile, new_profile);
            if gone.is_empty() {
                continue;
            }
            out.push(format!(
                "{who}: profile {old_profile} → {new_profile} ({})",
                opened(new_profile, &gone)
            ));
        }
        for (who, old_profile) in &old.assignments {
            let now = self.assignments.get("default").map_or("?", String::as_str);
            if who != "default" && !self.assignments.contains_key(who) && now != old_profile {
                let gone = lost(old_profile, now);
                if !gone.is_empty() {
                    out.push(format!(
                        "{who}: removed from the config (was {old_profile}; now gets the default, {now}; no longer blocked: {})",
                        gone.join(", ")
                    ));
                }
            }
        }
        for profile in self.blocks.keys() {
            let gone = lost(profile, profile);
            if !gone.is_empty() {
                out.push(format!(
                    "profile {profile} no longer blocks: {}",
                    gone.join(", ")
                ));
            }
        }
        out
    }
}

/// The daemon's event log (one connection; events are rare).
pub struct Log {
    path: std::path::PathBuf,
    /// None while the database cannot be opened; opened again at the next
    /// event (at most every [`REOPEN_EVERY`] seconds).
    conn: Mutex<Option<Connection>>,
    /// `clock.now_secs()` of the last try to open.
    tried: portable_atomic::AtomicU64,
    clock: crate::clock::Clock,
}

/// Seconds between two tries to open a database that would not open.
const REOPEN_EVERY: u64 = 10;

impl Log {
    /// Opens (creating or upgrading) the database; while it cannot be
    /// opened, events are not kept and it is tried again later.
    pub fn open(state_dir: &Path, clock: &crate::clock::Clock) -> Log {
        let path = crate::state::layout::activity_db(state_dir);
        let log = Log {
            conn: Mutex::new(None),
            tried: portable_atomic::AtomicU64::new(clock.now_secs()),
            clock: clock.clone(),
            path,
        };
        match super::store::Store::open_for_admin(&log.path) {
            Ok(conn) => {
                if let Ok(mut c) = log.conn.lock() {
                    *c = Some(conn);
                }
            }
            Err(e) => {
                tracing::warn!(path = %log.path.display(), error = %e, "cannot open the activity database; protection events are not kept until it can be");
            }
        }
        log
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Option<T> {
        use std::sync::atomic::Ordering;
        let mut guard = self.conn.lock().ok()?;
        if guard.is_none() {
            let now = self.clock.now_secs();
            let last = self.tried.load(Ordering::Relaxed);
            if now < last.saturating_add(REOPEN_EVERY) {
                return None;
            }
            self.tried.store(now, Ordering::Relaxed);
            *guard = super::store::Store::open_for_admin(&self.path).ok();
        }
        let conn = guard.as_mut()?;
        match f(conn) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, "cannot write protection events");
                None
            }
        }
    }

    /// At start: a previous run that ended without saying so, the gap since,
    /// and whatever the config now loosens compared with the last run.
    pub fn started(&self, engine: &Engine, now: i64) {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let alive: Option<i64> = meta(&tx, "alive_at")?.and_then(|v| v.parse().ok());
            let clean: Option<i64> = meta(&tx, "stopped_at")?.and_then(|v| v.parse().ok());
            match (alive, clean) {
                (None, _) => insert(&tx, now, "started", "filtering started")?,
                (Some(last), Some(stop)) if stop >= last => {
                    insert(&tx, now, "started", &format!("filtering on again after {} off", gap(now - stop)))?;
                }
                (Some(last), _) => {
                    insert(&tx, last, "stopped", "filtering stopped unexpectedly (the daemon was killed, crashed or the machine lost power); last seen running")?;
                    insert(&tx, now, "started", &format!("filtering on again after up to {} off", gap(now - last)))?;
                }
            }
            set_meta(&tx, "alive_at", &now.to_string())?;
            tx.execute("DELETE FROM meta WHERE key = 'stopped_at'", [])?;
            policy_changes(&tx, engine, now)?;
            tx.commit()
        });
    }

    /// A start that failed (a port in use, a dashboard that cannot bind):
    /// filtering did not start. The heartbeat is not touched, so the next
    /// start still measures the gap from the last run that really ran.
    pub fn failed_start(&self, now: i64, reason: &str) {
        self.with(|conn| {
            insert(
                conn,
                now,
                "failed",
                &format!("filtering did not start: {reason}"),
            )
        });
    }

    /// After a reload put a new engine in force.
    pub fn reloaded(&self, engine: &Engine, now: i64) {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            policy_changes(&tx, engine, now)?;
            tx.commit()
        });
    }

    /// A change refused because it could switch filtering off (a file or
    /// folder others can write): parents see who tried what.
    pub fn refused(&self, detail: &str, now: i64) {
        tracing::warn!("protection: {detail}");
        self.with(|conn| insert(conn, now, "refused", detail));
    }

    /// One event the daemon noticed (kind `resolver`, say).
    pub fn record(&self, now: i64, kind: &str, detail: &str) {
        self.with(|conn| insert(conn, now, kind, detail));
    }

    pub fn heartbeat(&self, now: i64) {
        self.with(|conn| set_meta(conn, "alive_at", &now.to_string()));
    }

    /// At a clean shutdown.
    pub fn stopped(&self, now: i64) {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert(
                &tx,
                now,
                "stopped",
                "filtering stopped (the service was stopped)",
            )?;
            set_meta(&tx, "alive_at", &now.to_string())?;
            set_meta(&tx, "stopped_at", &now.to_string())?;
            tx.commit()
        });
    }
}

/// Records one event from outside the daemon (the command line).
pub fn note(state_dir: &Path, kind: &str, detail: &str) {
    let path = crate::state::layout::activity_db(state_dir);
    let now = jiff::Timestamp::now().as_second();
    let written = super::store::Store::open_for_admin(&path)
        .and_then(|conn| insert(&conn, now, kind, detail));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot record the event");
    }
}

/// The kinds of the events recorded after the one numbered `after`, with
/// their numbers, oldest first; none if there is no database.
pub fn kinds_after(path: &Path, after: i64) -> Vec<(i64, String)> {
    let Ok(conn) = super::store::Store::open_read_only(path) else {
        return Vec::new();
    };
    let rows = conn
        .prepare("SELECT id, kind FROM events WHERE id > ?1 ORDER BY id")
        .and_then(|mut q| {
            q.query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()
        });
    rows.unwrap_or_default()
}

/// Events since `since` (unix seconds), oldest first; none if there is no database.
pub fn recent(path: &Path, since: i64) -> Vec<Event> {
    let Ok(conn) = super::store::Store::open_read_only(path) else {
        return Vec::new();
    };
    read(&conn, since).unwrap_or_default()
}

pub fn read(conn: &Connection, since: i64) -> rusqlite::Result<Vec<Event>> {
    let mut stmt =
        conn.prepare("SELECT at, kind, detail FROM events WHERE at >= ?1 ORDER BY at, id")?;
    stmt.query_map([since], |r| {
        Ok(Event {
            at: r.get(0)?,
            kind: r.get(1)?,
            detail: r.get(2)?,
        })
    })?
    .collect()
}

fn policy_changes(conn: &Connection, engine: &Engine, now: i64) -> rusqlite::Result<()> {
    let new = PolicySnapshot::of(engine);
    let old: Option<PolicySnapshot> =
        meta(conn, "policy")?.and_then(|v| serde_json::from_str(&v).ok());
    if let Some(old) = old {
        for line in new.loosened_since(&old) {
            tracing::warn!("filtering loosened: {line}");
            insert(conn, now, "loosened", &line)?;
        }
    }
    let text = serde_json::to_string(&new).unwrap_or_default();
    set_meta(conn, "policy", &text)
}

fn insert(conn: &Connection, at: i64, kind: &str, detail: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO events (at, kind, detail) VALUES (?1, ?2, ?3)",
        params![at, kind, detail],
    )
    .map(drop)
}

fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .map(drop)
}

/// `3 h 20 min`, `12 min`, `40 s`.
pub fn gap(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} days {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Turns the first sighting of queries from a system account (see
/// [`crate::policy::forwarder`]) into a protection event, off the query path.
pub struct Noticed {
    events: Arc<Log>,
    done: AtomicBool,
    clock: crate::clock::Clock,
}

impl Noticed {
    pub fn new(events: Arc<Log>, clock: &crate::clock::Clock) -> Noticed {
        Noticed {
            events,
            done: AtomicBool::new(false),
            clock: clock.clone(),
        }
    }

    /// Records the event if `engine` has seen such queries and none was recorded yet.
    pub fn check(&self, engine: &Engine) {
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        let Some((uid, _)) = engine.forwarded().seen() else {
            return;
        };
        self.done.store(true, Ordering::Relaxed);
        let who = crate::policy::users::name_of(uid)
            .map_or(format!("uid {uid}"), |n| format!("{n} (uid {uid})"));
        self.events.record(
            self.clock.timestamp().as_second(),
            "resolver",
            &format!(
                "per-user profiles do not apply: lookups arrive from the system account {who}, which no [[client]] names \
                 (a local DNS stub or forwarder in front of nestguard makes every account look like it); \
                 run `nestguard system-resolver enable`"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(assign: &[(&str, &str)], blocks: &[(&str, &[&str])]) -> PolicySnapshot {
        PolicySnapshot {
            assignments: assign
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            blocks: blocks
                .iter()
                .map(|(p, c)| (p.to_string(), c.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    const BLOCKS: &[(&str, &[&str])] = &[
        ("child", &["adult", "gaming", "social-media"]),
        ("teen", &["adult"]),
        ("unfiltered", &[]),
    ];

    #[test]
    fn moves_to_looser_profiles_are_named() {
        let old = snap(
            &[
                ("default", "child"),
                ("client sam", "child"),
                ("client ann", "child"),
            ],
            BLOCKS,
        );
        let new = snap(
            &[
                ("default", "child"),
                ("client sam", "unfiltered"),
                ("client ann", "teen"),
            ],
            BLOCKS,
        );
        assert_eq!(
            new.loosened_since(&old),
            [
                "client ann: profile child → teen (no longer blocked: gaming, social-media)",
                "client sam: profile child → unfiltered (filtering off)",
            ]
        );
        assert!(old.loosened_since(&old).is_empty());
        // Moving back to the stricter profile loosens nothing.
        assert!(old.loosened_since(&new).is_empty());
    }

    #[test]
    fn a_profile_that_stops_blocking_a_category_is_named() {
        let old = snap(&[("default", "child")], BLOCKS);
        let new = snap(
            &[("default", "child")],
            &[
                ("child", &["gaming"]),
                ("teen", &["adult"]),
                ("unfiltered", &[]),
            ],
        );
        assert_eq!(
            new.loosened_since(&old),
            ["profile child no longer blocks: adult, social-media"]
        );
    }

    #[test]
    fn a_client_added_with_a_looser_profile_than_the_default_is_named() {
        let old = snap(&[("default", "child")], BLOCKS);
        let new = snap(
            &[("default", "child"), ("client sam", "unfiltered")],
            BLOCKS,
        );
        assert_eq!(
            new.loosened_since(&old),
            [
                "client sam: added with profile unfiltered (its devices had the default, child; filtering off)"
            ]
        );
        let stricter = snap(&[("default", "teen"), ("client ann", "child")], BLOCKS);
        assert!(
            stricter
                .loosened_since(&snap(&[("default", "teen")], BLOCKS))
                .is_empty()
        );
    }

    #[test]
    fn a_client_removed_from_the_config_is_named() {
        let old = snap(&[("default", "teen"), ("client sam", "child")], BLOCKS);
        let new = snap(&[("default", "teen")], BLOCKS);
        assert_eq!(
            new.loosened_since(&old),
            [
                "client sam: removed from the config (was child; now gets the default, teen; no longer blocked: gaming, social-media)"
            ]
        );
    }

    #[test]
    fn gaps_read_well() {
        assert_eq!(gap(42), "42 s");
        assert_eq!(gap(12 * 60 + 5), "12 min");
        assert_eq!(gap(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(gap(2 * 86_400 + 3600), "2 days 1 h");
    }
}
