//! Who may use the dashboard: an Argon2 password hash in the config, sessions
//! in a cookie, a CSRF token per session, and a limit on wrong passwords.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Wrong passwords allowed per address within [`FAILURE_WINDOW`].
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(300);

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

/// Logged-in sessions and recent failed logins.
pub struct Auth {
    pub hash: Option<String>,
    ttl: Duration,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// Why a login did not work.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    Wrong,
    /// Too many wrong passwords from this address: wait.
    Limited,
    NoPassword,
}

impl Auth {
    pub fn new(hash: Option<String>, ttl: Duration) -> Auth {
        Auth {
            hash,
            ttl,
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `from` has used up its wrong passwords for now.
    pub fn limited(&self, from: IpAddr) -> bool {
        self.failures.lock().is_ok_and(|f| {
            f.get(&from)
                .is_some_and(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < FAILURE_WINDOW)
        })
    }

    /// Checks a password (counting failures per address); a new session's
    /// token on success.
    pub fn login(&self, from: IpAddr, password: &str) -> Result<String, LoginError> {
        if self.limited(from) {
            return Err(LoginError::Limited);
        }
        let Some(hash) = &self.hash else {
            return Err(LoginError::NoPassword);
        };
        if !verify_password(hash, password) {
            if let Ok(mut f) = self.failures.lock() {
                let e = f.entry(from).or_insert((0, Instant::now()));
                if e.1.elapsed() >= FAILURE_WINDOW {
                    *e = (0, Instant::now());
                }
                e.0 += 1;
            }
            return Err(LoginError::Wrong);
        }
        if let Ok(mut f) = self.failures.lock() {
            f.remove(&from);
        }
        let t = token();
        if let Ok(mut s) = self.sessions.lock() {
            s.retain(|_, v| v.expires > Instant::now());
            s.insert(
                t.clone(),
                Session {
                    expires: Instant::now() + self.ttl,
                    csrf: token(),
                },
            );
        }
        Ok(t)
    }

    /// The CSRF token of a live session.
    pub fn session(&self, token: &str) -> Option<String> {
        let s = self.sessions.lock().ok()?;
        s.get(token)
            .filter(|v| v.expires > Instant::now())
            .map(|v| v.csrf.clone())
    }

    pub fn logout(&self, token: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(token);
        }
    }

    /// HTTP Basic credentials (`admin:<password>`), for API clients and Prometheus.
    pub fn basic(&self, from: IpAddr, header: &str) -> Result<(), LoginError> {
        use base64::Engine as _;
        let encoded = header.strip_prefix("Basic ").ok_or(LoginError::Wrong)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| LoginError::Wrong)?;
        let text = String::from_utf8(decoded).map_err(|_| LoginError::Wrong)?;
        let (_, password) = text.split_once(':').ok_or(LoginError::Wrong)?;
        self.login(from, password).map(|t| self.logout(&t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_sessions_and_the_failure_limit() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let auth = Auth::new(Some(hash), Duration::from_secs(60));
        let me: IpAddr = "127.0.0.1".parse().unwrap();
        let t = auth.login(me, "correct horse").unwrap();
        assert!(auth.session(&t).is_some());
        auth.logout(&t);
        assert!(auth.session(&t).is_none());
        for _ in 0..MAX_FAILURES {
            assert_eq!(auth.login(me, "wrong"), Err(LoginError::Wrong));
        }
        assert_eq!(auth.login(me, "correct horse"), Err(LoginError::Limited));
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(auth.login(other, "correct horse").is_ok());
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
