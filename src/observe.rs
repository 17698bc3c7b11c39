//! What the query pipeline reports to those who count what children look up:
//! the narrow interface between `dns` and `activity`. Neither imports the
//! other; the daemon (`app`) plugs one into the other.
//!
//! Counting is per engine: profile and category numbers mean something only
//! in the rules they were compiled with, so when an engine is put in force the
//! pipeline asks the [`Observer`] for that engine's [`Counts`] and keeps them
//! in the same snapshot as the engine. A query loads the snapshot once and
//! reports to the counts that belong to the engine that judged it.

use std::any::Any;
use std::net::IpAddr;
use std::sync::Arc;

use crate::engine::{Decision, Engine};

/// One query the engine decided, as the pipeline reports it.
#[derive(Clone, Copy)]
pub struct Decided<'a> {
    pub engine: &'a Engine,
    pub client: IpAddr,
    pub profile: usize,
    pub decision: Decision,
    /// Schedule windows open now (all profiles'; the profile's own are picked out by the counter).
    pub open_windows: u64,
    pub qname_wire: &'a [u8],
    /// Wall-clock minutes since the epoch, on the daemon's clock.
    pub minute: u64,
    /// The name's services, if the engine looked them up already.
    pub services: &'a crate::rules::services::ServicesSeen,
}

/// Makes the per-engine counts; off the query path.
pub trait Observer: Send + Sync {
    fn for_engine(&self, engine: &Engine) -> Arc<dyn Counts>;
}

/// Counts for one engine. [`Counts::decided`] runs on the query path, once
/// per decided query: it must not lock, block or allocate (beyond noting a
/// client seen for the first time).
pub trait Counts: Send + Sync + Any {
    fn decided(&self, query: &Decided<'_>);
}

/// Counts nothing: activity is off.
pub struct Nothing;

impl Observer for Nothing {
    fn for_engine(&self, _: &Engine) -> Arc<dyn Counts> {
        Arc::new(Nothing)
    }
}

impl Counts for Nothing {
    fn decided(&self, _: &Decided<'_>) {}
}

/// Clients seen lately, for the dashboard's "unassigned devices": the
/// narrow interface between `activity` (which notes them) and `admin`.
pub trait SeenClients: Send + Sync {
    /// Addresses that asked at or after `since` (wall-clock minute), with the
    /// minute each was last seen, newest first.
    fn seen_since(&self, since: u64) -> Vec<(IpAddr, u64)>;
}

/// Sees no one: activity is off.
impl SeenClients for Nothing {
    fn seen_since(&self, _: u64) -> Vec<(IpAddr, u64)> {
        Vec::new()
    }
}
