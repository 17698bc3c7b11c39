//! What holds right now for an engine: the schedule windows open at this
//! moment and the temporary allows in force ([`Live`]), recomputed off the
//! query path every second from the clock and the allows file.

use std::sync::Arc;

use crate::engine::Engine;
use crate::policy::Live;

/// Where [`Live`] comes from: the clock and the temporary-allows file.
pub struct LiveSource {
    clock: Arc<dyn crate::schedule::LocalClock>,
    overrides: std::sync::Mutex<crate::policy::overrides::Watch>,
}

impl LiveSource {
    pub fn new(
        clock: Arc<dyn crate::schedule::LocalClock>,
        state_dir: &std::path::Path,
    ) -> LiveSource {
        LiveSource {
            clock,
            overrides: std::sync::Mutex::new(crate::policy::overrides::Watch::new(
                crate::state::layout::temporary_allows(state_dir),
            )),
        }
    }

    /// Wall-clock minutes since the epoch, for activity counters.
    pub fn minute(&self) -> u64 {
        u64::try_from(self.clock.timestamp().as_second() / 60).unwrap_or(0)
    }

    /// What holds now for `engine` (reads the allows file if it changed).
    pub fn live_for(&self, engine: &Engine) -> Live {
        let allows = match self.overrides.lock() {
            Ok(mut w) => crate::policy::overrides::TempAllows::compile(
                w.poll(),
                self.clock.timestamp(),
                |p| engine.profile_index(p),
            ),
            Err(_) => crate::policy::overrides::TempAllows::default(),
        };
        Live {
            windows: engine.active_windows(self.clock.now()),
            allows,
        }
    }
}
