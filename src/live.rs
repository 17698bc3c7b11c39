//! What holds right now for an engine: the schedule windows open at this
//! moment and the temporary allows in force ([`Live`]), recomputed off the
//! query path every second from the clock and the allows file.

use crate::clock::Clock;
use crate::engine::Engine;
use crate::policy::Live;

/// Where [`Live`] comes from: the clock and the temporary-allows file.
pub struct LiveSource {
    clock: Clock,
    overrides: std::sync::Mutex<crate::policy::overrides::Watch>,
}

impl LiveSource {
    pub fn new(clock: Clock, state_dir: &std::path::Path) -> LiveSource {
        LiveSource {
            clock,
            overrides: std::sync::Mutex::new(crate::policy::overrides::Watch::new(
                crate::state::layout::temporary_allows(state_dir),
            )),
        }
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
            windows: engine.active_windows(self.clock.local()),
            allows,
        }
    }
}
