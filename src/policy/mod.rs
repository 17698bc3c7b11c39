//! Who is asking, and what holds right now.
//!
//! A query's client is known by the listener it asked on, its address and
//! port, and the transport ([`Who`]). The engine matches `[[client]]` tables
//! against that; the local OS user and the MAC address are looked up only when
//! some table asks for them ([`Lookups`]). [`Live`] is the time-bound part of
//! policy (schedule windows open now, temporary allows in force), recomputed
//! off the query path every second.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub mod allows;
pub mod budget;
pub mod children;
pub mod devices;
pub mod exam;
pub mod forwarder;
pub mod neighbours;
#[cfg(target_os = "linux")]
mod netlink;
pub mod overrides;
pub mod pause;
pub mod service_rules;
pub mod users;
pub mod watch;

pub use crate::dns::wire::ForwardedFor;
use neighbours::{Mac, Neighbours};
pub use users::Proto;

/// The client of one query, as the sockets see it.
#[derive(Clone, Copy, Debug)]
pub struct Who {
    pub peer: SocketAddr,
    /// Our address the query arrived on.
    pub listener: SocketAddr,
    pub proto: Proto,
    /// The device a trusted forwarder (`[server] trusted_forwarders`) asked
    /// for, by its EDNS options; [`ForwardedFor::NONE`] from anyone else.
    pub behind: ForwardedFor,
}

impl Who {
    /// The address the query is judged by: the device's behind a trusted
    /// forwarder that named it, else the peer's.
    pub fn client_ip(&self) -> IpAddr {
        self.behind.ip.unwrap_or(self.peer.ip())
    }
}

/// Facts about a client that cost a lookup: asked for only when a `[[client]]`
/// table needs them.
pub trait Lookups {
    /// The local OS user owning the client socket (loopback clients, Linux).
    fn uid(&self, who: &Who) -> Option<u32>;
    /// The client's MAC address, from the neighbour table.
    fn mac(&self, ip: IpAddr) -> Option<Mac>;
}

/// The daemon's lookups: the kernel's socket table and neighbour table.
pub struct SystemLookups {
    pub neighbours: Arc<Neighbours>,
    pub owners: Arc<dyn users::OwnerSource>,
}

impl Lookups for SystemLookups {
    fn uid(&self, who: &Who) -> Option<u32> {
        self.owners.owner(who.peer, who.listener, who.proto)
    }

    fn mac(&self, ip: IpAddr) -> Option<Mac> {
        self.neighbours.mac(ip)
    }
}

/// The time-bound part of policy for one engine.
#[derive(Debug, Default)]
pub struct Live {
    /// Bit w set: schedule window w is open.
    pub windows: u64,
    pub allows: overrides::TempAllows,
    /// Bit p set: policy p (a child, or a profile) is paused.
    pub paused: u64,
    /// The exams in force (`nestguard exam`, `[[exam]]` windows).
    pub exam: exam::ExamLive,
    /// Per policy (index p): its services closed now.
    pub services: Vec<ClosedServices>,
    /// Where lookups of budgeted services are counted.
    pub metering: Metering,
    /// Each daily budget now: used, granted (for pages and status; off the
    /// query path).
    pub budgets: Vec<budget::BudgetNow>,
}

/// A policy's services that are closed at this moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClosedServices {
    /// Outside the hours a parent gave them.
    pub hours: crate::rules::services::ServiceMask,
    /// Their daily budget is used up.
    pub budget: crate::rules::services::ServiceMask,
}

/// The usage store, and the slot each of the engine's budgets counts in
/// (by budget index; None when the store was full).
#[derive(Default)]
pub struct Metering {
    pub usage: Option<Arc<budget::Usage>>,
    pub slots: Vec<Option<u16>>,
}

impl Metering {
    /// Counts a lookup of budget `index`'s service in `minute`. On the
    /// query path: no allocation, no lock.
    pub fn mark(&self, index: u16, minute: u64) {
        if let (Some(usage), Some(Some(slot))) = (&self.usage, self.slots.get(usize::from(index))) {
            usage.mark(*slot, minute);
        }
    }
}

impl std::fmt::Debug for Metering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metering")
            .field("slots", &self.slots)
            .finish()
    }
}
