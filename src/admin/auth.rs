//! Who may use the dashboard: an Argon2 password hash in the config, sessions
//! in a cookie, a CSRF token per session. Guesses are slowed per source
//! ([`super::throttle`]) and checked one at a time ([`super::checker`]).
//! A reload may change the password ([`Auth::set_password`]): every session
//! ends, and a check that started against the old password opens none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use std::sync::atomic::Ordering;
use subtle::ConstantTimeEq as _;

use super::checker::{Busy, Checker};
// Checked on the checker's thread; here for `nestguard passwd` and its tests.
pub use super::checker::verify_password;
use super::metrics::AdminCounters;
use super::throttle::{FailureRow, Reserve, Source, Throttle};
use crate::clock::Clock;
use crate::log_every::LogEvery;

pub const SESSION_COOKIE: &str = "ng_session";

/// An Argon2id hash of `password`, as a PHC string for the config.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A random token, hex.
pub fn token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in time that does not depend on where they differ
/// (`subtle`; only the length, which is not secret, ends it early).
pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

struct Session {
    /// On the daemon's monotonic clock.
    expires: Duration,
    csrf: String,
}

/// The password in force and the sessions it opened, under one lock so a
/// session never outlives a change of password.
struct Keys {
    hash: Option<Arc<str>>,
    /// Counts password changes: a check made against an older one opens nothing.
    epoch: u64,
    ttl: Duration,
    sessions: HashMap<String, Session>,
}

/// A password was right, against the password in force as of `epoch`.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    epoch: u64,
}

/// Logged-in sessions, and the guards on password checks.
pub struct Auth {
    keys: Mutex<Keys>,
    throttle: Mutex<Throttle>,
    checker: Checker,
    counters: Arc<AdminCounters>,
    too_soon_logged: LogEvery,
    busy_logged: LogEvery,
    evicted_logged: LogEvery,
    /// Sessions expire and guesses are slowed down by this clock (the daemon's).
    clock: Clock,
}

/// Why a password was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    Wrong,
    /// Too soon after this source's last guess: refused unchecked; wait this long.
    TooSoon(Duration),
    /// Too many checks waiting (from many sources at once): try again shortly.
    Busy,
    NoPassword,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Auth {
    /// Starts the password-checking thread too.
    pub fn new(
        hash: Option<String>,
        ttl: Duration,
        counters: Arc<AdminCounters>,
        clock: &Clock,
    ) -> std::io::Result<Auth> {
        Ok(Auth {
            keys: Mutex::new(Keys {
                hash: hash.map(Arc::from),
                epoch: 0,
                ttl,
                sessions: HashMap::new(),
            }),
            throttle: Mutex::new(Throttle::default()),
            checker: Checker::start(counters.clone())?,
            counters,
            too_soon_logged: LogEvery::new(clock),
            busy_logged: LogEvery::new(clock),
            evicted_logged: LogEvery::new(clock),
            clock: clock.clone(),
        })
    }

    /// Puts a new password (hash) in force. When it differs from the one in
    /// force, every session ends: the parent changed it because someone
    /// may know the old one. Returns how many sessions ended, or `None` when
    /// the password is unchanged.
    pub fn set_password(&self, hash: Option<&str>) -> Option<usize> {
        let mut k = lock(&self.keys);
        if k.hash.as_deref() == hash {
            return None;
        }
        k.hash = hash.map(Arc::from);
        k.epoch += 1;
        let now = self.clock.elapsed();
        let ended = k.sessions.values().filter(|s| s.expires > now).count();
        k.sessions.clear();
        Some(ended)
    }

    /// How long new sessions last; a session already open ends no later
    /// than a new one would (a shorter setting is not waited out).
    pub fn set_session_ttl(&self, ttl: Duration) {
        let mut k = lock(&self.keys);
        k.ttl = ttl;
        let latest = self.clock.elapsed().saturating_add(ttl);
        for s in k.sessions.values_mut() {
            s.expires = s.expires.min(latest);
        }
    }

    /// Checks a password from `source`: refused unchecked when it comes too
    /// soon after the source's last guess, else checked in turn.
    pub async fn check(&self, source: Source, password: String) -> Result<Verified, LoginError> {
        let wall = self.clock.timestamp().as_second();
        let reserved = {
            let mut t = lock(&self.throttle);
            let r = t.reserve(source, self.clock.elapsed(), wall);
            self.note_evictions(t.evicted);
            r
        };
        if let Reserve::Wait(wait) = reserved {
            self.counters
                .logins_too_soon
                .fetch_add(1, Ordering::Relaxed);
            if let Some(times) = self.too_soon_logged.hit() {
                tracing::warn!(%source, times, "password guesses coming too fast; refusing them unchecked for a second or so");
            }
            return Err(LoginError::TooSoon(wait));
        }
        let (hash, epoch) = {
            let k = lock(&self.keys);
            (k.hash.clone(), k.epoch)
        };
        let Some(hash) = hash else {
            return Err(LoginError::NoPassword);
        };
        match self.checker.check(hash, password).await {
            Err(Busy) => {
                self.counters.logins_busy.fetch_add(1, Ordering::Relaxed);
                if let Some(times) = self.busy_logged.hit() {
                    tracing::warn!(
                        times,
                        "many password checks waiting at once; refusing more for now"
                    );
                }
                Err(LoginError::Busy)
            }
            Ok(true) => {
                lock(&self.throttle).succeeded(source, self.clock.elapsed());
                Ok(Verified { epoch })
            }
            Ok(false) => {
                lock(&self.throttle).failed(source, self.clock.elapsed(), wall);
                Err(LoginError::Wrong)
            }
        }
    }

    fn note_evictions(&self, evicted: u64) {
        let before = self
            .counters
            .login_sources_evicted
            .swap(evicted, Ordering::Relaxed);
        if evicted > before
            && let Some(times) = self.evicted_logged.hit()
        {
            tracing::warn!(
                times,
                "wrong-password table full; forgetting the sources seen longest ago"
            );
        }
    }

    /// Whether the password `v` was checked against is still the one in force.
    pub fn current(&self, v: &Verified) -> bool {
        lock(&self.keys).epoch == v.epoch
    }

    /// A new session's token (after a right password), unless the password
    /// changed while it was being checked.
    pub fn new_session(&self, v: Verified) -> Option<String> {
        let t = token();
        let mut k = lock(&self.keys);
        if k.epoch != v.epoch {
            return None;
        }
        let now = self.clock.elapsed();
        let expires = now.saturating_add(k.ttl);
        k.sessions.retain(|_, v| v.expires > now);
        k.sessions.insert(
            t.clone(),
            Session {
                expires,
                csrf: token(),
            },
        );
        Some(t)
    }

    /// The CSRF token of a live session.
    pub fn session(&self, token: &str) -> Option<String> {
        lock(&self.keys)
            .sessions
            .get(token)
            .filter(|v| v.expires > self.clock.elapsed())
            .map(|v| v.csrf.clone())
    }

    pub fn logout(&self, token: &str) {
        lock(&self.keys).sessions.remove(token);
    }

    /// The password of HTTP Basic credentials (`admin:<password>`, parsed by
    /// the caller), for API clients and Prometheus.
    pub async fn basic(&self, source: Source, password: &str) -> Result<(), LoginError> {
        let v = self.check(source, password.to_string()).await?;
        if self.current(&v) {
            Ok(())
        } else {
            Err(LoginError::Wrong)
        }
    }

    /// Failed-login audit rows with news not yet written (marked written).
    pub fn take_failure_rows(&self) -> Vec<FailureRow> {
        lock(&self.throttle).take_dirty()
    }

    /// A failed-login row was inserted into the audit table as `id`.
    pub fn failure_row_written(&self, row: &FailureRow, id: i64) {
        lock(&self.throttle).written(row, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passwords_sessions_and_slowed_guesses() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let counters = Arc::new(AdminCounters::default());
        let auth = Auth::new(
            Some(hash),
            Duration::from_secs(60),
            counters.clone(),
            &Clock::system(),
        )
        .unwrap();
        let me = Source::User(1000);
        let v = auth.check(me, "correct horse".into()).await.unwrap();
        let t = auth.new_session(v).unwrap();
        assert!(auth.session(&t).is_some());
        auth.logout(&t);
        assert!(auth.session(&t).is_none());
        assert_eq!(auth.check(me, "wrong".into()).await, Err(LoginError::Wrong));
        // Too soon after a wrong one: refused without a check, even if right.
        assert!(matches!(
            auth.check(me, "correct horse".into()).await,
            Err(LoginError::TooSoon(w)) if w <= Duration::from_secs(1)
        ));
        assert_eq!(counters.password_checks.load(Ordering::Relaxed), 2);
        // Another user is not held up.
        let other = Source::User(1001);
        assert!(auth.check(other, "correct horse".into()).await.is_ok());
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_new_password_ends_every_session_and_checks_made_before_it() {
        let old = hash_password("old password").unwrap();
        let counters = Arc::new(AdminCounters::default());
        let auth = Auth::new(
            Some(old.clone()),
            Duration::from_secs(60),
            counters,
            &Clock::system(),
        )
        .unwrap();
        let (a, b) = (Source::User(1000), Source::User(1001));
        let first = auth.new_session(auth.check(a, "old password".into()).await.unwrap());
        let first = first.unwrap();
        // Checked before the change, its session asked for after.
        let late = auth.check(b, "old password".into()).await.unwrap();
        assert_eq!(auth.set_password(Some(old.as_str())), None, "unchanged");
        assert!(auth.session(&first).is_some());
        let new = hash_password("new password").unwrap();
        assert_eq!(auth.set_password(Some(new.as_str())), Some(1));
        assert!(auth.session(&first).is_none());
        assert!(!auth.current(&late));
        assert_eq!(auth.new_session(late), None);
        assert_eq!(
            auth.check(Source::User(1002), "old password".into()).await,
            Err(LoginError::Wrong)
        );
        let v = auth.check(Source::User(1003), "new password".into()).await;
        assert!(auth.new_session(v.unwrap()).is_some());
        // A shorter session time cuts the sessions already open.
        auth.set_session_ttl(Duration::ZERO);
        assert!(
            lock(&auth.keys)
                .sessions
                .values()
                .all(|s| s.expires <= auth.clock.elapsed())
        );
        // No password: nobody logs in.
        assert_eq!(auth.set_password(None), Some(0));
        assert_eq!(
            auth.check(Source::User(1004), "new password".into()).await,
            Err(LoginError::NoPassword)
        );
    }
}
