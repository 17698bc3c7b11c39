//! What holds right now for an engine: the schedule windows open at this
//! moment, the temporary allows, pauses and exams in force, the services
//! closed by their hours or budgets ([`Live`]), recomputed off the query path
//! every second from the clock and the state files.

use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::engine::Engine;
use crate::policy::budget::{self, Usage};
use crate::policy::{Live, exam, overrides, pause, watch::Watch};

/// Where [`Live`] comes from: the clock, the state files, and the budgets'
/// usage.
pub struct LiveSource {
    clock: Clock,
    overrides: Mutex<overrides::Watch>,
    pauses: Mutex<pause::Watch>,
    exams: Mutex<Watch<exam::ExamFile>>,
    grants: Mutex<Watch<Vec<budget::Grant>>>,
    usage: Arc<Usage>,
    budgets_file: std::path::PathBuf,
    /// Budgets left out because the usage store is full (logged at most once per interval).
    full_logged: crate::log_every::LogEvery,
}

impl LiveSource {
    pub fn new(clock: Clock, state_dir: &std::path::Path) -> LiveSource {
        use crate::state::layout;
        let usage = Arc::new(Usage::new());
        let budgets_file = layout::budgets(state_dir);
        if let Err(e) = usage.restore(&budgets_file, clock.minute()) {
            tracing::warn!("{e}; today's budget minutes start from zero");
        }
        LiveSource {
            overrides: Mutex::new(overrides::watch(layout::temporary_allows(state_dir))),
            pauses: Mutex::new(pause::watch(layout::pauses(state_dir))),
            exams: Mutex::new(exam::watch(layout::exam(state_dir))),
            grants: Mutex::new(Watch::new(
                layout::grants(state_dir),
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
        let now = self.clock.timestamp();
        let local = self.clock.local();
        let index = |p: &str| engine.profile_index(p);
        let allows = match self.overrides.lock() {
            Ok(mut w) => overrides::TempAllows::compile(w.poll(), now, index),
            Err(_) => overrides::TempAllows::default(),
        };
        let paused = match self.pauses.lock() {
            Ok(mut w) => pause::compile(w.poll(), now, index),
            Err(_) => 0,
        };
        let exam = match self.exams.lock() {
            Ok(mut w) => {
                exam::ExamLive::compile(w.poll(), engine.exam_windows(), now, local, |n| {
                    engine.exam_targets(n).unwrap_or(0)
                })
            }
            // A poisoned lock: the config's windows still hold.
            Err(_) => exam::ExamLive::compile(
                &exam::ExamFile::default(),
                engine.exam_windows(),
                now,
                local,
                |n| engine.exam_targets(n).unwrap_or(0),
            ),
        };
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
            exam,
            services,
            metering,
            budgets,
        }
    }

    /// Writes the budgets' minutes to the state folder (the daemon does it
    /// every minute and at shutdown).
    pub fn save_budgets(&self) {
        if let Err(e) = self.usage.save(&self.budgets_file, self.clock.minute()) {
            tracing::warn!("{e}; budget minutes are not kept across a restart");
        }
    }
}
