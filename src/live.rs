//! What holds right now for an engine: the schedule windows open at this
//! moment, the temporary allows and pauses in force, the services closed by
//! their hours or budgets ([`Live`]), recomputed off the query path every
//! second from the clock and the state files.

use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::engine::Engine;
use crate::policy::Live;
use crate::policy::budget::{self, Usage};

/// Where [`Live`] comes from: the clock, the temporary-allows, pauses and
/// grants files, and the budgets' usage.
pub struct LiveSource {
    clock: Clock,
    overrides: Mutex<crate::policy::overrides::Watch>,
    pauses: Mutex<crate::policy::pause::Watch>,
    grants: Mutex<crate::sources::Polled<Vec<budget::Grant>>>,
    usage: Arc<Usage>,
    budgets_file: std::path::PathBuf,
    /// Budgets left out because the usage store is full (logged at most once per interval).
    full_logged: crate::log_every::LogEvery,
}

impl LiveSource {
    pub fn new(clock: Clock, state_dir: &std::path::Path) -> LiveSource {
        let usage = Arc::new(Usage::new());
        let budgets_file = crate::state::layout::budgets(state_dir);
        if let Err(e) = usage.restore(&budgets_file, clock.minute()) {
            tracing::warn!("{e}; today's budget minutes start from zero");
        }
        LiveSource {
            overrides: Mutex::new(crate::policy::overrides::watch(
                crate::state::layout::temporary_allows(state_dir),
            )),
            pauses: Mutex::new(crate::policy::pause::watch(crate::state::layout::pauses(
                state_dir,
            ))),
            grants: Mutex::new(crate::sources::Polled::new(
                crate::state::layout::grants(state_dir),
                "grants",
                budget::parse_grants,
            )),
            usage,
            budgets_file,
            full_logged: crate::log_every::LogEvery::new(&clock),
            clock,
        }
    }

    /// What holds now for `engine` (reads the state files if they changed).
    pub fn live_for(&self, engine: &Engine) -> Live {
        let allows = match self.overrides.lock() {
            Ok(mut w) => crate::policy::overrides::TempAllows::compile(
                w.poll().as_slice(),
                self.clock.timestamp(),
                |p| engine.profile_index(p),
            ),
            Err(_) => crate::policy::overrides::TempAllows::default(),
        };
        let paused = match self.pauses.lock() {
            Ok(mut w) => crate::policy::pause::compile(w.poll(), self.clock.timestamp(), |p| {
                engine.profile_index(p)
            }),
            Err(_) => 0,
        };
        let local = self.clock.local();
        let minute = self.clock.minute();
        self.usage.sweep(minute);
        let grants = match self.grants.lock() {
            Ok(mut w) => w.poll().clone(),
            Err(_) => Vec::new(),
        };
        let (services, budgets) =
            engine.services_now(&self.usage, &grants, (minute, local, self.clock.today()));
        let metering = engine.metering(&self.usage);
        if metering.slots.iter().any(Option::is_none)
            && let Some(n) = self.full_logged.hit()
        {
            tracing::warn!(
                times = n,
                "daily budgets: the usage store is full ({} budgets); some budgets are not enforced",
                budget::MAX_SLOTS
            );
        }
        Live {
            windows: engine.active_windows(local),
            allows,
            paused,
            services,
            metering,
            budgets,
        }
    }

    /// Budgets that are not enforced because the usage store was full.
    pub fn budget_slots_full(&self) -> u64 {
        self.usage.slots_full()
    }

    /// Writes the budgets' minutes to the state folder (the daemon does it
    /// every minute and at shutdown).
    pub fn save_budgets(&self) {
        if let Err(e) = self.usage.save(&self.budgets_file, self.clock.minute()) {
            tracing::warn!("{e}; budget minutes are not kept across a restart");
        }
    }
}
