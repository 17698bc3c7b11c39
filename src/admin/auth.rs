//! Who may use the dashboard: the parents' accounts (a name and an Argon2
//! password hash each, in the config), sessions in a cookie that know which
//! parent opened them, a CSRF token per session. Guesses are slowed per
//! source ([`super::throttle`]) and checked one at a time
//! ([`super::checker`]); a name that is no account costs the same check as a
//! wrong password (against a dummy hash), so timing does not tell which
//! names exist. A reload may change a parent's password
//! ([`Auth::set_accounts`]): that parent's sessions end, and a check that
//! started against the old password opens none.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
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
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same`] for bytes (digests).
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

struct Session {
    /// On the daemon's monotonic clock.
    expires: Duration,
    csrf: String,
    /// The parent who logged in.
    parent: Arc<str>,
}

/// What a live session is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub csrf: String,
    /// The parent's name, for the audit trail and the page's header.
    pub parent: Arc<str>,
}

/// One parent's password, and which version of it this is.
struct Account {
    hash: Arc<str>,
    /// Changes whenever the password does: a check made against an older
    /// one opens nothing.
    generation: u64,
}

/// The accounts in force and the sessions they opened, under one lock so a
/// session never outlives a change of its parent's password.
struct Keys {
    accounts: BTreeMap<Arc<str>, Account>,
    /// The next account generation (never reused, so an account removed and
    /// added again does not revive checks made before).
    next_generation: u64,
    ttl: Duration,
    sessions: HashMap<String, Session>,
}

impl Keys {
    fn put(&mut self, name: &str, hash: &str) {
        self.next_generation += 1;
        self.accounts.insert(
            Arc::from(name),
            Account {
                hash: Arc::from(hash),
                generation: self.next_generation,
            },
        );
    }

    /// Ends the live sessions of `parent`; how many were live.
    fn end_sessions(&mut self, parent: &str, now: Duration) -> usize {
        let mut live = 0;
        self.sessions.retain(|_, s| {
            let theirs = &*s.parent == parent;
            if theirs && s.expires > now {
                live += 1;
            }
            !theirs
        });
        live
    }
}

/// A password was right: `parent`'s, as of its `generation`.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    parent: Arc<str>,
    generation: u64,
}

impl Verified {
    pub fn parent(&self) -> &str {
        &self.parent
    }
}

/// How a parent's account changed at a reload.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    /// A new password: their sessions ended (this many were live).
    NewPassword(usize),
    /// Gone from the config: their sessions ended.
    Removed(usize),
}

/// A hash with Argon2's default cost, of a random password nobody knows:
/// what a login naming no account is checked against, so it costs what a
/// real check does (made once, on first use).
fn dummy_hash() -> Arc<str> {
    static DUMMY: OnceLock<Arc<str>> = OnceLock::new();
    DUMMY
        .get_or_init(|| Arc::from(hash_password(&token()).unwrap_or_default()))
        .clone()
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
    /// Starts the password-checking thread too. `accounts`: (name, Argon2 hash).
    pub fn new(
        accounts: &[(String, String)],
        ttl: Duration,
        counters: Arc<AdminCounters>,
        clock: &Clock,
    ) -> std::io::Result<Auth> {
        let mut keys = Keys {
            accounts: BTreeMap::new(),
            next_generation: 0,
            ttl,
            sessions: HashMap::new(),
        };
        for (name, hash) in accounts {
            keys.put(name, hash);
        }
        // Made now, not at the first unknown name, whose check would then take longer.
        let _ = dummy_hash();
        Ok(Auth {
            keys: Mutex::new(keys),
            throttle: Mutex::new(Throttle::default()),
            checker: Checker::start(counters.clone())?,
            counters,
            too_soon_logged: LogEvery::new(clock),
            busy_logged: LogEvery::new(clock),
            evicted_logged: LogEvery::new(clock),
            clock: clock.clone(),
        })
    }

    /// Puts the accounts of a reloaded config in force. A parent whose
    /// password changed, or who is gone, is signed out everywhere (they
    /// changed it because someone may know the old one); the others stay
    /// signed in. Returns what changed, per parent.
    pub fn set_accounts(&self, accounts: &[(String, String)]) -> Vec<(String, Change)> {
        let mut k = lock(&self.keys);
        let now = self.clock.elapsed();
        let mut changes = Vec::new();
        let gone: Vec<Arc<str>> = k
            .accounts
            .keys()
            .filter(|n| !accounts.iter().any(|(name, _)| name.as_str() == &***n))
            .cloned()
            .collect();
        for name in gone {
            k.accounts.remove(&name);
            let ended = k.end_sessions(&name, now);
            changes.push((name.to_string(), Change::Removed(ended)));
        }
        for (name, hash) in accounts {
            let change = match k.accounts.get(name.as_str()) {
                Some(a) if &*a.hash == hash.as_str() => continue,
                Some(_) => Change::NewPassword(k.end_sessions(name, now)),
                None => Change::Added,
            };
            k.put(name, hash);
            changes.push((name.clone(), change));
        }
        changes
    }

    /// The one account's name when there is exactly one (the login form
    /// then needs no name).
    pub fn only_parent(&self) -> Option<String> {
        let k = lock(&self.keys);
        match k.accounts.keys().collect::<Vec<_>>()[..] {
            [one] => Some(one.to_string()),
            _ => None,
        }
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

    /// Checks `parent`'s password from `source`: refused unchecked when it
    /// comes too soon after the source's last guess, else checked in turn.
    /// With one account, the name is not needed (any is taken as that
    /// one's); with several, a name that is none is checked against a dummy
    /// hash and is wrong, at the cost of a real check.
    pub async fn check(
        &self,
        source: Source,
        parent: &str,
        password: String,
    ) -> Result<Verified, LoginError> {
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
        let account = {
            let k = lock(&self.keys);
            if k.accounts.is_empty() {
                return Err(LoginError::NoPassword);
            }
            let found = match k.accounts.get_key_value(parent) {
                Some(found) => Some(found),
                None if k.accounts.len() == 1 => k.accounts.iter().next(),
                None => None,
            };
            found.map(|(name, a)| (name.clone(), a.hash.clone(), a.generation))
        };
        let hash = account
            .as_ref()
            .map_or_else(dummy_hash, |(_, hash, _)| hash.clone());
        match (self.checker.check(hash, password).await, account) {
            (Err(Busy), _) => {
                self.counters.logins_busy.fetch_add(1, Ordering::Relaxed);
                if let Some(times) = self.busy_logged.hit() {
                    tracing::warn!(
                        times,
                        "many password checks waiting at once; refusing more for now"
                    );
                }
                Err(LoginError::Busy)
            }
            (Ok(true), Some((parent, _, generation))) => {
                lock(&self.throttle).succeeded(source, self.clock.elapsed());
                Ok(Verified { parent, generation })
            }
            // Wrong, or no such account (right against the dummy hash is still wrong).
            (Ok(_), _) => {
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
        lock(&self.keys)
            .accounts
            .get(&v.parent)
            .is_some_and(|a| a.generation == v.generation)
    }

    /// A new session's token (after a right password), unless the password
    /// changed while it was being checked.
    pub fn new_session(&self, v: Verified) -> Option<String> {
        if !self.current(&v) {
            return None;
        }
        let t = token();
        let mut k = lock(&self.keys);
        let now = self.clock.elapsed();
        let expires = now.saturating_add(k.ttl);
        k.sessions.retain(|_, v| v.expires > now);
        k.sessions.insert(
            t.clone(),
            Session {
                expires,
                csrf: token(),
                parent: v.parent,
            },
        );
        Some(t)
    }

    /// A live session: its CSRF token and its parent.
    pub fn session(&self, token: &str) -> Option<SessionInfo> {
        lock(&self.keys)
            .sessions
            .get(token)
            .filter(|v| v.expires > self.clock.elapsed())
            .map(|v| SessionInfo {
                csrf: v.csrf.clone(),
                parent: v.parent.clone(),
            })
    }

    pub fn logout(&self, token: &str) {
        lock(&self.keys).sessions.remove(token);
    }

    /// HTTP Basic credentials (`<parent>:<password>`, parsed by the
    /// caller), for API clients; the parent they name.
    pub async fn basic(
        &self,
        source: Source,
        parent: &str,
        password: &str,
    ) -> Result<Arc<str>, LoginError> {
        let v = self.check(source, parent, password.to_string()).await?;
        if self.current(&v) {
            Ok(v.parent)
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

    fn one(name: &str, hash: &str) -> Vec<(String, String)> {
        vec![(name.to_string(), hash.to_string())]
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passwords_sessions_and_slowed_guesses() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let counters = Arc::new(AdminCounters::default());
        let auth = Auth::new(
            &one("parent", &hash),
            Duration::from_secs(60),
            counters.clone(),
            &Clock::system(),
        )
        .unwrap();
        let me = Source::User(1000);
        // One account: the name is not needed.
        let v = auth.check(me, "", "correct horse".into()).await.unwrap();
        assert_eq!(v.parent(), "parent");
        let t = auth.new_session(v).unwrap();
        assert_eq!(&*auth.session(&t).unwrap().parent, "parent");
        auth.logout(&t);
        assert!(auth.session(&t).is_none());
        assert_eq!(
            auth.check(me, "parent", "wrong".into()).await,
            Err(LoginError::Wrong)
        );
        // Too soon after a wrong one: refused without a check, even if right.
        assert!(matches!(
            auth.check(me, "parent", "correct horse".into()).await,
            Err(LoginError::TooSoon(w)) if w <= Duration::from_secs(1)
        ));
        assert_eq!(counters.password_checks.load(Ordering::Relaxed), 2);
        // Another user is not held up.
        let other = Source::User(1001);
        assert!(auth.check(other, "", "correct horse".into()).await.is_ok());
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn several_parents_each_with_their_own_password() {
        let (mum, dad) = (
            hash_password("mum's pass").unwrap(),
            hash_password("dad's pass").unwrap(),
        );
        let accounts = vec![("mum".to_string(), mum.clone()), ("dad".to_string(), dad)];
        let counters = Arc::new(AdminCounters::default());
        let auth = Auth::new(
            &accounts,
            Duration::from_secs(60),
            counters.clone(),
            &Clock::system(),
        )
        .unwrap();
        assert_eq!(auth.only_parent(), None);
        let v = auth
            .check(Source::User(1), "mum", "mum's pass".into())
            .await;
        let mum_session = auth.new_session(v.unwrap()).unwrap();
        let v = auth
            .check(Source::User(2), "dad", "dad's pass".into())
            .await;
        let dad_session = auth.new_session(v.unwrap()).unwrap();
        assert_eq!(&*auth.session(&dad_session).unwrap().parent, "dad");
        // Another parent's password, or no name, opens nothing.
        assert_eq!(
            auth.check(Source::User(3), "dad", "mum's pass".into())
                .await,
            Err(LoginError::Wrong)
        );
        assert_eq!(
            auth.check(Source::User(4), "", "mum's pass".into()).await,
            Err(LoginError::Wrong)
        );
        // A name that is no account is checked like a wrong password: it
        // runs an Argon2 check and slows its source down.
        let before = counters.password_checks.load(Ordering::Relaxed);
        assert_eq!(
            auth.check(Source::User(5), "nobody", "mum's pass".into())
                .await,
            Err(LoginError::Wrong)
        );
        assert_eq!(counters.password_checks.load(Ordering::Relaxed), before + 1);
        assert!(matches!(
            auth.check(Source::User(5), "mum", "mum's pass".into())
                .await,
            Err(LoginError::TooSoon(_))
        ));
        // Dad's new password signs dad out, not mum; removing mum signs her out.
        let dad2 = hash_password("dad's new").unwrap();
        let changes =
            auth.set_accounts(&[("mum".into(), mum.clone()), ("dad".into(), dad2.clone())]);
        assert_eq!(changes, vec![("dad".to_string(), Change::NewPassword(1))]);
        assert!(auth.session(&dad_session).is_none());
        assert!(auth.session(&mum_session).is_some());
        let changes = auth.set_accounts(&one("dad", &dad2));
        assert_eq!(changes, vec![("mum".to_string(), Change::Removed(1))]);
        assert!(auth.session(&mum_session).is_none());
        assert_eq!(auth.only_parent().as_deref(), Some("dad"));
        // The dummy hash costs what a real one does.
        let params = |h: &str| {
            let p = argon2::password_hash::PasswordHash::new(h).unwrap();
            format!("{:?} {:?} {}", p.algorithm, p.version, p.params)
        };
        assert_eq!(params(&dummy_hash()), params(&mum));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_new_password_ends_every_session_and_checks_made_before_it() {
        let old = hash_password("old password").unwrap();
        let counters = Arc::new(AdminCounters::default());
        let auth = Auth::new(
            &one("parent", &old),
            Duration::from_secs(60),
            counters,
            &Clock::system(),
        )
        .unwrap();
        let (a, b) = (Source::User(1000), Source::User(1001));
        let first = auth.new_session(auth.check(a, "", "old password".into()).await.unwrap());
        let first = first.unwrap();
        // Checked before the change, its session asked for after.
        let late = auth.check(b, "", "old password".into()).await.unwrap();
        assert_eq!(auth.set_accounts(&one("parent", &old)), vec![], "unchanged");
        assert!(auth.session(&first).is_some());
        let new = hash_password("new password").unwrap();
        assert_eq!(
            auth.set_accounts(&one("parent", &new)),
            vec![("parent".to_string(), Change::NewPassword(1))]
        );
        assert!(auth.session(&first).is_none());
        assert!(!auth.current(&late));
        assert_eq!(auth.new_session(late), None);
        assert_eq!(
            auth.check(Source::User(1002), "", "old password".into())
                .await,
            Err(LoginError::Wrong)
        );
        let v = auth
            .check(Source::User(1003), "", "new password".into())
            .await;
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
        assert_eq!(
            auth.set_accounts(&[]),
            vec![("parent".to_string(), Change::Removed(0))]
        );
        assert_eq!(
            auth.check(Source::User(1004), "", "new password".into())
                .await,
            Err(LoginError::NoPassword)
        );
    }
}
