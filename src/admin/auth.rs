//! Who may use the dashboard: an Argon2 password hash in the config, sessions
//! in a cookie, a CSRF token per session. Guesses are slowed per source
//! ([`super::throttle`]) and checked one at a time ([`super::checker`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::atomic::Ordering;

use super::checker::{Busy, Checker};
use super::metrics::AdminCounters;
use super::throttle::{FailureRow, Reserve, Source, Throttle};
use crate::dns::limit::LogEvery;

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

/// Whether `password` matches the PHC `hash`. Slow on purpose (Argon2).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A random token, hex.
pub fn token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

struct Session {
    expires: Instant,
    csrf: String,
}

/// Logged-in sessions, and the guards on password checks.
pub struct Auth {
    hash: Option<Arc<str>>,
    ttl: Duration,
    sessions: Mutex<HashMap<String, Session>>,
    throttle: Mutex<Throttle>,
    checker: Checker,
    counters: Arc<AdminCounters>,
    too_soon_logged: LogEvery,
    busy_logged: LogEvery,
    evicted_logged: LogEvery,
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
    ) -> std::io::Result<Auth> {
        Ok(Auth {
            hash: hash.map(Arc::from),
            ttl,
            sessions: Mutex::new(HashMap::new()),
            throttle: Mutex::new(Throttle::default()),
            checker: Checker::start(counters.clone())?,
            counters,
            too_soon_logged: LogEvery::default(),
            busy_logged: LogEvery::default(),
            evicted_logged: LogEvery::default(),
        })
    }

    /// Checks a password from `source`: refused unchecked when it comes too
    /// soon after the source's last guess, else checked in turn.
    pub async fn check(&self, source: Source, password: String) -> Result<(), LoginError> {
        let wall = jiff::Timestamp::now().as_second();
        let reserved = {
            let mut t = lock(&self.throttle);
            let r = t.reserve(source, Instant::now(), wall);
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
        let Some(hash) = self.hash.clone() else {
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
                lock(&self.throttle).succeeded(source, Instant::now());
                Ok(())
            }
            Ok(false) => {
                lock(&self.throttle).failed(source, Instant::now(), wall);
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

    /// A new session's token (after a right password).
    pub fn new_session(&self) -> String {
        let t = token();
        let mut s = lock(&self.sessions);
        s.retain(|_, v| v.expires > Instant::now());
        s.insert(
            t.clone(),
            Session {
                expires: Instant::now() + self.ttl,
                csrf: token(),
            },
        );
        t
    }

    /// The CSRF token of a live session.
    pub fn session(&self, token: &str) -> Option<String> {
        lock(&self.sessions)
            .get(token)
            .filter(|v| v.expires > Instant::now())
            .map(|v| v.csrf.clone())
    }

    pub fn logout(&self, token: &str) {
        lock(&self.sessions).remove(token);
    }

    /// HTTP Basic credentials (`admin:<password>`), for API clients and Prometheus.
    pub async fn basic(&self, source: Source, header: &str) -> Result<(), LoginError> {
        use base64::Engine as _;
        let encoded = header.strip_prefix("Basic ").ok_or(LoginError::Wrong)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| LoginError::Wrong)?;
        let text = String::from_utf8(decoded).map_err(|_| LoginError::Wrong)?;
        let (_, password) = text.split_once(':').ok_or(LoginError::Wrong)?;
        self.check(source, password.to_string()).await
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
        let auth = Auth::new(Some(hash), Duration::from_secs(60), counters.clone()).unwrap();
        let me = Source::User(1000);
        auth.check(me, "correct horse".into()).await.unwrap();
        let t = auth.new_session();
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
        assert_eq!(auth.check(other, "correct horse".into()).await, Ok(()));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
