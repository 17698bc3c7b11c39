//! The hand-off from the query path to the notice task: a fixed ring of
//! fixed-size entries, filled without allocation or locks, and only while
//! an agent is connected. A full ring drops the block and counts it
//! (`/metrics`: `nestguard_notices_dropped_total`).

use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_queue::ArrayQueue;
use portable_atomic::AtomicU64;

use crate::engine::Decision;

/// Blocks waiting for the notice task, at most.
pub const CAPACITY: usize = 1024;

/// One blocked lookup of a local user.
#[derive(Clone, Copy)]
pub struct Blocked {
    pub uid: u32,
    /// The profile's number in the engine in force when it was decided.
    pub profile: usize,
    pub decision: Decision,
    name: [u8; 255],
    len: u8,
}

impl Blocked {
    /// `qname_wire`: the name in DNS wire form (at most 255 bytes; longer is cut).
    pub fn new(uid: u32, profile: usize, decision: Decision, qname_wire: &[u8]) -> Blocked {
        let len = qname_wire.len().min(255);
        let mut name = [0u8; 255];
        name[..len].copy_from_slice(&qname_wire[..len]);
        Blocked {
            uid,
            profile,
            decision,
            name,
            len: len as u8,
        }
    }

    /// The name as text (`blocked.example`).
    pub fn name(&self) -> String {
        let mut out = String::new();
        let mut wire = &self.name[..usize::from(self.len)];
        while let Some((&n, rest)) = wire.split_first() {
            let n = usize::from(n);
            if n == 0 || n > rest.len() {
                break;
            }
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&String::from_utf8_lossy(&rest[..n]));
            wire = &rest[n..];
        }
        out
    }
}

pub struct Queue {
    ring: ArrayQueue<Blocked>,
    /// Agents connected now: with none, the query path pushes nothing.
    agents: AtomicUsize,
    dropped: AtomicU64,
    /// What became of the blocks, for `/metrics`.
    pub counters: NoticeCounters,
}

/// What `/metrics` shows of the notices besides the ring's drops.
#[derive(Default)]
pub struct NoticeCounters {
    /// Notices written to an agent's queue.
    pub sent: AtomicU64,
    /// Blocks that gave no notice of their own (silent categories, bedtime).
    pub silent: AtomicU64,
    /// Agents turned away because the most allowed were connected.
    pub agents_refused: AtomicU64,
    /// Notices not sent because the agent was not reading.
    pub agent_backlog_full: AtomicU64,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            ring: ArrayQueue::new(CAPACITY),
            agents: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
            counters: NoticeCounters::default(),
        }
    }
}

impl Queue {
    /// Whether anyone listens (the query path's first, cheap check).
    pub fn wanted(&self) -> bool {
        self.agents.load(Ordering::Relaxed) > 0
    }

    /// On the query path: no allocation, no lock, no wait.
    pub fn push(&self, b: Blocked) {
        if self.ring.push(b).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn pop(&self) -> Option<Blocked> {
        self.ring.pop()
    }

    /// Blocks not handed over because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn agents(&self) -> usize {
        self.agents.load(Ordering::Relaxed)
    }

    pub fn agent_connected(&self) {
        self.agents.fetch_add(1, Ordering::Relaxed);
    }

    pub fn agent_gone(&self) {
        self.agents.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_goes_through_as_text() {
        let wire = crate::rules::name::to_wire("a.blocked.example");
        let b = Blocked::new(1000, 0, Decision::Paused, &wire);
        assert_eq!(b.name(), "a.blocked.example");
    }

    #[test]
    fn a_full_ring_drops_and_counts() {
        let q = Queue::default();
        let b = Blocked::new(1, 0, Decision::Paused, b"\0");
        for _ in 0..CAPACITY + 3 {
            q.push(b);
        }
        assert_eq!(q.dropped(), 3);
    }
}
