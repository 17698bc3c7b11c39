//! Who may ask, and how fast: the access list and the per-client rate limit.
//!
//! Both run before a packet is parsed further, allocate nothing for known
//! clients and take no lock. The access list keeps nestguard from being an
//! open resolver (a router with a misconfigured firewall would otherwise
//! answer the internet). The rate limit is a token bucket per client
//! network (an IPv4 /24 or an IPv6 /56, so one device cannot dodge it by
//! rotating privacy addresses), packed into one atomic per network.

use std::net::IpAddr;

use ipnet::IpNet;
use portable_atomic::AtomicU64;
use std::sync::atomic::Ordering;

use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::log_every::LogEvery;

/// Networks tracked at most; beyond this, new networks are not limited
/// (rather than growing without bound under a spoofed-source flood).
const MAX_BUCKETS: usize = 100_000;
/// Tokens are kept in thousandths, so refills below one token a millisecond add up.
const MILLI: u64 = 1000;

/// What to do with a query's source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    Yes,
    /// Not on the access list: REFUSED (or nothing for junk).
    Denied,
    /// Over the rate limit: REFUSED.
    Limited,
}

pub struct Gate {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
    qps: u64,
    burst: u64,
    exempt: Vec<IpNet>,
    /// Network key → milli-tokens (high 32 bits) and the millisecond of the last refill (low 32).
    buckets: papaya::HashMap<u128, AtomicU64, foldhash::fast::RandomState>,
    /// "Rate limited" is logged once per interval, not per packet.
    logged: LogEvery,
    /// Queries let through unlimited because [`MAX_BUCKETS`] networks are tracked.
    untracked: LogEvery,
    /// Tokens refill by this clock's milliseconds.
    clock: Clock,
    /// `trusted_forwarders`: peers whose EDNS options may name the device
    /// they ask for.
    trusted: Vec<IpNet>,
    /// Queries from anyone else that named a device anyway (ignored).
    untrusted_identity: LogEvery,
}

/// IPv4-mapped IPv6 is treated as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn network_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => (1u128 << 64) | u128::from(u32::from(v4) & 0xffff_ff00),
        IpAddr::V6(v6) => u128::from(v6) & !((1u128 << 72) - 1),
    }
}

impl Gate {
    pub fn new(config: &ServerConfig, clock: &Clock) -> Gate {
        let nets = |v: &[crate::config::Net]| v.iter().map(|n| n.0).collect::<Vec<_>>();
        Gate {
            allow: nets(&config.allow),
            deny: nets(&config.deny),
            qps: u64::from(config.rate_limit),
            // Milli-tokens must fit the 32 bits they are packed into.
            burst: u64::from(config.rate_limit_burst.max(config.rate_limit)).min(4_000_000),
            exempt: nets(&config.rate_limit_exempt),
            buckets: papaya::HashMap::with_hasher(Default::default()),
            logged: LogEvery::new(clock),
            untracked: LogEvery::new(clock),
            clock: clock.clone(),
            trusted: nets(&config.trusted_forwarders),
            untrusted_identity: LogEvery::new(clock),
        }
    }

    /// Whether `ip` is a trusted forwarder, whose EDNS options (`add-mac`,
    /// `add-subnet`) say which device a query is for.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// A query from `ip`, not a trusted forwarder, named a device by its EDNS
    /// options: counted, and logged at most once per interval.
    pub fn ignored_identity(&self, ip: IpAddr) {
        if let Some(times) = self.untrusted_identity.hit() {
            tracing::warn!(
                client = %ip,
                times,
                "queries carry a device's MAC or address in EDNS options (dnsmasq add-mac/add-subnet), \
                 but {ip} is not in [server] trusted_forwarders: ignored, the query is judged by its own address"
            );
        }
    }

    /// Queries whose device options were ignored (see [`Gate::ignored_identity`]).
    pub fn identities_ignored(&self) -> u64 {
        self.untrusted_identity.total()
    }

    /// Whether to answer a query from `ip` now (spends a token if so).
    pub fn admit(&self, ip: IpAddr) -> Admit {
        let ip = canonical(ip);
        if self.deny.iter().any(|n| n.contains(&ip)) || !self.allow.iter().any(|n| n.contains(&ip))
        {
            return Admit::Denied;
        }
        if self.qps == 0 || self.exempt.iter().any(|n| n.contains(&ip)) {
            return Admit::Yes;
        }
        if self.take(network_key(ip), self.clock.now_millis()) {
            Admit::Yes
        } else {
            self.log_limited(ip);
            Admit::Limited
        }
    }

    fn take(&self, key: u128, now: u64) -> bool {
        let now32 = now & 0xffff_ffff;
        let full = self.burst * MILLI;
        let map = self.buckets.pin();
        let cell = match map.get(&key) {
            Some(c) => c,
            None if map.len() < MAX_BUCKETS => {
                map.get_or_insert(key, AtomicU64::new((full << 32) | now32))
            }
            None => {
                if let Some(times) = self.untracked.hit() {
                    tracing::warn!(
                        times,
                        "{MAX_BUCKETS} client networks are rate limited already; new ones are not limited (a spoofed-source flood?)"
                    );
                }
                return true;
            }
        };
        let mut current = cell.load(Ordering::Relaxed);
        loop {
            let tokens = current >> 32;
            let last = current & 0xffff_ffff;
            let elapsed = now32.wrapping_sub(last) & 0xffff_ffff;
            let tokens = tokens
                .saturating_add(elapsed.saturating_mul(self.qps))
                .min(full);
            if tokens < MILLI {
                return false;
            }
            let next = ((tokens - MILLI) << 32) | now32;
            match cell.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(seen) => current = seen,
            }
        }
    }

    /// One log line per network per ten seconds at most, not one per packet.
    fn log_limited(&self, ip: IpAddr) {
        if let Some(times) = self.logged.hit() {
            tracing::warn!(client = %ip, times, "client over the rate limit; refusing its queries for now");
        }
    }
}

impl Gate {
    /// Queries from networks beyond [`MAX_BUCKETS`], let through unlimited.
    pub fn untracked(&self) -> u64 {
        self.untracked.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(text: &str) -> Gate {
        let c = crate::config::Config::parse(text, "t.toml", None).unwrap();
        Gate::new(&c.server, &Clock::system())
    }

    #[test]
    fn private_networks_only_by_default() {
        let g = gate("");
        for ok in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.20",
            "fd00::5",
            "fe80::1",
            "::ffff:192.168.1.9",
        ] {
            assert_eq!(g.admit(ok.parse().unwrap()), Admit::Yes, "{ok}");
        }
        for no in ["8.8.8.8", "2001:db8::1", "::ffff:1.1.1.1"] {
            assert_eq!(g.admit(no.parse().unwrap()), Admit::Denied, "{no}");
        }
        let g = gate("[server]\ndeny = [\"192.168.1.66\"]\n");
        assert_eq!(g.admit("192.168.1.66".parse().unwrap()), Admit::Denied);
    }

    #[test]
    fn networks_beyond_the_table_are_let_through_and_counted() {
        let g = gate("[server]\nrate_limit = 10\n");
        for n in 0..MAX_BUCKETS as u128 {
            assert!(g.take(n, 1_000));
        }
        assert_eq!(g.untracked(), 0);
        assert!(g.take(u128::MAX, 1_000), "not limited");
        assert!(g.take(u128::MAX - 1, 1_000));
        assert_eq!(g.untracked(), 2, "and counted for /metrics");
    }

    #[test]
    fn buckets_refill_at_the_rate() {
        let g = gate("[server]\nrate_limit = 10\nrate_limit_burst = 10\n");
        let key = network_key("192.168.1.5".parse().unwrap());
        let t = 1_000;
        assert!((0..10).all(|_| g.take(key, t)));
        assert!(!g.take(key, t), "burst spent");
        assert!(!g.take(key, t + 50), "half a token after 50 ms");
        assert!(g.take(key, t + 100), "one token after 100 ms");
        assert!(!g.take(key, t + 100));
        // Another network has its own bucket; the same /24 shares one.
        assert!(g.take(network_key("192.168.2.5".parse().unwrap()), t));
        assert_eq!(key, network_key("192.168.1.200".parse().unwrap()));
        assert_eq!(
            network_key("fd00:1:2:3a::1".parse().unwrap()),
            network_key("fd00:1:2:3b:ffff::9".parse().unwrap()),
            "one /56"
        );
    }
}
