//! Password checks, one at a time, on one thread.
//!
//! An Argon2 check takes 19 MiB and tens of milliseconds on purpose. Run on
//! `spawn_blocking`, a burst of logins ran dozens at once and grew the daemon
//! by hundreds of MiB. One dedicated thread runs them in turn: at most one
//! check's memory is in use, and the allocator reuses it (one thread, one
//! arena). A short queue waits for it; when the queue is full the login is
//! refused as busy rather than queued without bound.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use tokio::sync::oneshot;

use super::metrics::AdminCounters;

/// Whether `password` matches the PHC `hash`. Slow on purpose (Argon2).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks waiting for the thread at most (each holds only a password and a hash).
pub const QUEUE: usize = 8;

struct Job {
    hash: Arc<str>,
    password: String,
    reply: oneshot::Sender<bool>,
}

/// The check could not be run now: too many are waiting.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

pub struct Checker {
    jobs: SyncSender<Job>,
}

impl Checker {
    /// Starts the checking thread; it ends when the checker is dropped.
    pub fn start(counters: Arc<AdminCounters>) -> std::io::Result<Checker> {
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("nestguard-passwords".into())
            .spawn(move || {
                for job in queue {
                    let ok = verify_password(&job.hash, &job.password);
                    counters.password_checks.fetch_add(1, Ordering::Relaxed);
                    // The asker may have gone (client disconnected): nothing to do.
                    let _ = job.reply.send(ok);
                }
            })?;
        Ok(Checker { jobs })
    }

    /// Whether `password` matches `hash`, checked in turn with every other.
    pub async fn check(&self, hash: Arc<str>, password: String) -> Result<bool, Busy> {
        let (reply, answer) = oneshot::channel();
        match self.jobs.try_send(Job {
            hash,
            password,
            reply,
        }) {
            Ok(()) => answer.await.map_err(|_| Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_run_in_turn_and_a_full_queue_is_refused() {
        let counters = Arc::new(AdminCounters::default());
        let checker = Arc::new(Checker::start(counters.clone()).unwrap());
        let hash: Arc<str> = super::super::auth::hash_password("pw").unwrap().into();
        assert_eq!(checker.check(hash.clone(), "pw".into()).await, Ok(true));
        assert_eq!(checker.check(hash.clone(), "no".into()).await, Ok(false));
        // Forty at once: the thread takes one, the queue holds eight, the rest are busy.
        let all: Vec<_> = (0..40)
            .map(|_| {
                let (c, h) = (checker.clone(), hash.clone());
                tokio::spawn(async move { c.check(h, "no".into()).await })
            })
            .collect();
        let mut busy = 0u64;
        for t in all {
            if t.await.unwrap() == Err(Busy) {
                busy += 1;
            }
        }
        let ran = counters.password_checks.load(Ordering::Relaxed) - 2;
        assert_eq!(ran + busy, 40);
        assert!(
            ran <= QUEUE as u64 + 4 && busy + QUEUE as u64 + 4 >= 40,
            "{ran} ran"
        );
    }
}
