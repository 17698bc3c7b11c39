//! The activity database: SQLite in the state directory.
//!
//! WAL mode, one transaction per flush: a crash or `kill -9` loses at most
//! the counters of one flush interval and never leaves a half-written flush.
//! Times are UTC hours (`unix seconds / 3600`) and days; reports convert to
//! local time. The schema is versioned with `PRAGMA user_version`, and
//! [`migrate`] brings an older file up to date.

use std::path::Path;

use rusqlite::{Connection, params};

use super::Slot;
use super::backlog::Backlog;
use super::tally::Drained;
use crate::engine::Engine;

const SCHEMA_VERSION: i64 = 6;

/// Kept per profile per day in the database; the report shows fewer. More
/// than shown, so a site that rises late in the day is not lost.
const DOMAIN_HEADROOM: usize = 4;

/// The database file, created 0600 in a 0700 folder before SQLite opens it:
/// SQLite gives its WAL and shared-memory files the database's mode. A
/// failure here shows up as SQLite's own when it opens the file.
fn create_private(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = crate::state::create_private_dir(dir);
    }
    let _ = crate::state::create_private_file(path);
}

pub struct Store {
    conn: Connection,
    top_domains: usize,
    retention_hours: i64,
    last_prune_hour: i64,
}

/// Creates or upgrades the schema.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    // IMMEDIATE: the write lock is taken before the version is read, so two
    // openers (the daemon's flusher, the dashboard) never both migrate.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 1 {
        tx.execute_batch(
            "CREATE TABLE counts (hour INTEGER NOT NULL, profile TEXT NOT NULL, category TEXT NOT NULL,
                action TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hour, profile, category, action)) WITHOUT ROWID;
             CREATE TABLE minutes (hour INTEGER NOT NULL, profile TEXT NOT NULL, bits INTEGER NOT NULL,
                PRIMARY KEY (hour, profile)) WITHOUT ROWID;
             CREATE TABLE windows (hour INTEGER NOT NULL, profile TEXT NOT NULL, window TEXT NOT NULL,
                n INTEGER NOT NULL, PRIMARY KEY (hour, profile, window)) WITHOUT ROWID;
             CREATE TABLE bypass (hour INTEGER NOT NULL, profile TEXT NOT NULL, n INTEGER NOT NULL,
                PRIMARY KEY (hour, profile)) WITHOUT ROWID;
             CREATE TABLE domains (day INTEGER NOT NULL, profile TEXT NOT NULL, action TEXT NOT NULL,
                domain TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (day, profile, action, domain)) WITHOUT ROWID;",
        )?;
    }
    if version < 2 {
        // Children's requests to unblock a site, and what parents did (the audit trail).
        tx.execute_batch(
            "CREATE TABLE requests (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, profile TEXT NOT NULL,
                domain TEXT NOT NULL, note TEXT NOT NULL, status TEXT NOT NULL, decided_at INTEGER);
             CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, who TEXT NOT NULL,
                action TEXT NOT NULL, detail TEXT NOT NULL);",
        )?;
    }
    if version < 3 {
        // Devices that stopped using the filter (a day without a query).
        tx.execute_batch(
            "CREATE TABLE gone (at INTEGER NOT NULL, profile TEXT NOT NULL, client TEXT NOT NULL);",
        )?;
    }
    if version < 4 {
        // Protection events (filtering stopped, loosened) and the daemon's own notes.
        tx.execute_batch(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,
                detail TEXT NOT NULL);
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
        )?;
    }
    if version < 5 {
        // Who asked (an OS user or an address, see admin::throttle::Source),
        // so each asker's waiting requests can be capped.
        tx.execute_batch("ALTER TABLE requests ADD COLUMN asker TEXT NOT NULL DEFAULT '';")?;
    }
    if version < 6 {
        // Minutes in which a service's (a group's) names were looked up and
        // allowed, as minute-of-hour bitmaps like `minutes`.
        tx.execute_batch(
            "CREATE TABLE service_minutes (hour INTEGER NOT NULL, profile TEXT NOT NULL,
                service TEXT NOT NULL, bits INTEGER NOT NULL, PRIMARY KEY (hour, profile, service)) WITHOUT ROWID;
             CREATE TABLE group_minutes (hour INTEGER NOT NULL, profile TEXT NOT NULL,
                grp TEXT NOT NULL, bits INTEGER NOT NULL, PRIMARY KEY (hour, profile, grp)) WITHOUT ROWID;",
        )?;
    }
    // Later versions: `if version < 7 { ... }`, each step in this one transaction.
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

impl Store {
    pub fn open(
        path: &Path,
        top_domains: usize,
        retention: std::time::Duration,
    ) -> rusqlite::Result<Store> {
        create_private(path);
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // With WAL, NORMAL is durable against a process crash; only a power
        // cut can lose the last transaction, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Short: the writer keeps what it could not write and tries again.
        conn.busy_timeout(std::time::Duration::from_secs(1))?;
        migrate(&mut conn)?;
        Ok(Store {
            conn,
            top_domains: top_domains.max(1),
            retention_hours: i64::try_from(retention.as_secs() / 3600).unwrap_or(i64::MAX),
            last_prune_hour: 0,
        })
    }

    /// Opens the database for the dashboard (requests and the audit trail),
    /// creating or upgrading it.
    pub fn open_for_admin(path: &Path) -> rusqlite::Result<Connection> {
        create_private(path);
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(conn)
    }

    /// Notes in the audit trail that `who` did `action`, from a command
    /// (`nestguard allow` as `cli (user NAME)`); the daemon need not run.
    pub fn audit_from_command(
        path: &Path,
        who: &str,
        action: &str,
        detail: &str,
    ) -> rusqlite::Result<()> {
        let conn = Store::open_for_admin(path)?;
        insert_audit(
            &conn,
            jiff::Timestamp::now().as_second(),
            who,
            action,
            detail,
        )
    }

    /// Opens the database read-only, for reports.
    pub fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
        Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    }

    /// Writes what the backlog holds, oldest first, each batch in one
    /// transaction; a batch leaves the backlog only once written. Prunes old
    /// rows once an hour (`minute` is now).
    pub fn write_backlog(&mut self, backlog: &mut Backlog, minute: u64) -> rusqlite::Result<usize> {
        // One transaction for the whole backlog: where writes are held for
        // hours (flash), a batch per hour each committed on its own would
        // write the same pages again for each. Taken out of the backlog only
        // once committed.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let written = (|| -> rusqlite::Result<usize> {
            let mut rows = 0;
            for b in &backlog.batches {
                rows += self.write(&b.drained, &b.engine, b.minute)?;
            }
            for (engine, at, gone) in &backlog.gone {
                self.gone(gone, engine, *at)?;
            }
            let hour = i64::try_from(minute / 60).unwrap_or(i64::MAX);
            if hour != self.last_prune_hour {
                self.prune(hour)?;
            }
            self.conn.execute_batch("COMMIT")?;
            self.last_prune_hour = hour;
            Ok(rows)
        })();
        match written {
            Ok(rows) => {
                backlog.batches.clear();
                backlog.gone.clear();
                Ok(rows)
            }
            Err(e) => {
                // Nothing of it was kept: all of it is tried again.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn write(&mut self, d: &Drained, engine: &Engine, minute: u64) -> rusqlite::Result<usize> {
        let hour = i64::try_from(minute / 60).unwrap_or(i64::MAX);
        let day = hour / 24;
        let profile = |p: usize| engine.profile_id(p).to_string();
        let mut rows = 0;
        let tx = self.conn.savepoint()?;
        {
            let mut counts = tx.prepare_cached(
                "INSERT INTO counts VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO UPDATE SET n = n + excluded.n",
            )?;
            for (p, slot, action, n) in &d.counts {
                let slot: &Slot = slot;
                counts.execute(params![
                    hour,
                    profile(*p),
                    slot.name(engine),
                    action.as_str(),
                    *n as i64
                ])?;
                rows += 1;
            }
            let mut minutes = tx.prepare_cached(
                "INSERT INTO minutes VALUES (?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET bits = bits | excluded.bits",
            )?;
            for (p, parity, bits) in &d.minutes {
                minutes.execute(params![hour_of(hour, *parity), profile(*p), *bits as i64])?;
                rows += 1;
            }
            let mut services = tx.prepare_cached(
                "INSERT INTO service_minutes VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO UPDATE SET bits = bits | excluded.bits",
            )?;
            let catalogue = engine.services().defs();
            for (p, s, parity, bits) in &d.service_minutes {
                let Some(def) = catalogue.get(*s) else {
                    continue;
                };
                let h = hour_of(hour, *parity);
                services.execute(params![h, profile(*p), def.id, *bits as i64])?;
                rows += 1;
            }
            let mut groups = tx.prepare_cached(
                "INSERT INTO group_minutes VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO UPDATE SET bits = bits | excluded.bits",
            )?;
            for (p, g, parity, bits) in &d.group_minutes {
                let h = hour_of(hour, *parity);
                groups.execute(params![h, profile(*p), g.id(), *bits as i64])?;
                rows += 1;
            }
            let mut windows = tx.prepare_cached(
                "INSERT INTO windows VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO UPDATE SET n = n + excluded.n",
            )?;
            for (w, n) in &d.windows {
                let owner = (0..engine.profile_ids().count())
                    .find(|&p| engine.profile_windows(p) & (1 << w) != 0)
                    .map_or_else(String::new, profile);
                windows.execute(params![
                    hour,
                    owner,
                    engine.window_name(*w as u16),
                    *n as i64
                ])?;
                rows += 1;
            }
            let mut bypass = tx.prepare_cached(
                "INSERT INTO bypass VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET n = n + excluded.n",
            )?;
            for (p, n) in &d.bypass {
                bypass.execute(params![hour, profile(*p), *n as i64])?;
                rows += 1;
            }
            let mut domains = tx.prepare_cached(
                "INSERT INTO domains VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO UPDATE SET n = n + excluded.n",
            )?;
            for (p, action, name, n) in &d.names {
                domains.execute(params![day, profile(*p), action.as_str(), name, *n as i64])?;
                rows += 1;
            }
            if !d.names.is_empty() {
                tx.execute(
                    "DELETE FROM domains WHERE day = ?1 AND (profile, action, domain) NOT IN (
                        SELECT profile, action, domain FROM (
                            SELECT profile, action, domain,
                                   row_number() OVER (PARTITION BY profile, action ORDER BY n DESC, domain) AS r
                            FROM domains WHERE day = ?1)
                        WHERE r <= ?2)",
                    params![day, (self.top_domains * DOMAIN_HEADROOM) as i64],
                )?;
            }
        }
        tx.commit()?;
        Ok(rows)
    }

    /// Records devices that stopped using the filter, as bypass signals.
    pub fn gone(
        &mut self,
        gone: &[(std::net::IpAddr, usize)],
        engine: &Engine,
        minute: u64,
    ) -> rusqlite::Result<()> {
        if gone.is_empty() {
            return Ok(());
        }
        let at = i64::try_from(minute * 60).unwrap_or(i64::MAX);
        let tx = self.conn.savepoint()?;
        for (ip, p) in gone {
            tx.execute(
                "INSERT INTO gone VALUES (?1, ?2, ?3)",
                params![at, engine.profile_id(*p), ip.to_string()],
            )?;
        }
        tx.commit()
    }

    /// Deletes rows older than the retention.
    pub fn prune(&mut self, now_hour: i64) -> rusqlite::Result<()> {
        let oldest = now_hour.saturating_sub(self.retention_hours);
        let tx = self.conn.savepoint()?;
        for table in [
            "counts",
            "minutes",
            "windows",
            "bypass",
            "service_minutes",
            "group_minutes",
        ] {
            tx.execute(&format!("DELETE FROM {table} WHERE hour < ?1"), [oldest])?;
        }
        tx.execute("DELETE FROM domains WHERE day < ?1", [oldest / 24])?;
        for table in ["gone", "events"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE at < ?1"),
                [oldest.saturating_mul(3600)],
            )?;
        }
        tx.commit()
    }

    /// The connection (tests, reports).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// The hour a minute bitmap of `parity` belongs to, flushed in `hour`: bits
/// of the previous hour (the other parity) that a flush just after the hour
/// turned picks up belong to that hour.
fn hour_of(hour: i64, parity: u64) -> i64 {
    if (hour as u64 & 1) == parity {
        hour
    } else {
        hour - 1
    }
}

/// One row of the audit trail: `who` did `action` at `at` (Unix seconds).
pub fn insert_audit(
    conn: &Connection,
    at: i64,
    who: &str,
    action: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO audit (at, who, action, detail) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![at, who, action, detail],
    )
    .map(|_| ())
}
