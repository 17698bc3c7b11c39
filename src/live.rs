//! What holds right now for an engine: the schedule windows open at this
//! moment, the temporary allows and pauses in force ([`Live`]), recomputed off the
//! query path every second from the clock and the allows file.

use crate::clock::Clock;
use crate::engine::Engine;
use crate::policy::Live;

/// Where [`Live`] comes from: the clock and the temporary-allows file.
pub struct LiveSource {
    clock: Clock,
    overrides: std::sync::Mutex<crate::policy::overrides::Watch>,
    pauses: std::sync::Mutex<crate::policy::pause::Watch>,
}

impl LiveSource {
    pub fn new(clock: Clock, state_dir: &std::path::Path) -> LiveSource {
        LiveSource {
            clock,
            overrides: std::sync::Mutex::new(crate::policy::overrides::Watch::new(
                crate::state::layout::temporary_allows(state_dir),
            )),
            pauses: std::sync::Mutex::new(crate::policy::pause::Watch::new(
                crate::state::layout::pauses(state_dir),
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
        let paused = match self.pauses.lock() {
            Ok(mut w) => crate::policy::pause::compile(w.poll(), self.clock.timestamp(), |p| {
                engine.profile_index(p)
            }),
            Err(_) => 0,
        };
        Live {
            windows: engine.active_windows(self.clock.local()),
            allows,
            paused,
        }
    }
}
