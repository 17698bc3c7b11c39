//! What holds right now for an engine: the schedule windows open at this
//! moment, the temporary allows, pauses and exams in force ([`Live`]),
//! recomputed off the query path every second from the clock and the state
//! files.

use crate::clock::Clock;
use crate::engine::Engine;
use crate::policy::{Live, exam, overrides, pause, watch::Watch};

/// Where [`Live`] comes from: the clock and the state files.
pub struct LiveSource {
    clock: Clock,
    overrides: std::sync::Mutex<overrides::Watch>,
    pauses: std::sync::Mutex<pause::Watch>,
    exams: std::sync::Mutex<Watch<exam::ExamFile>>,
}

impl LiveSource {
    pub fn new(clock: Clock, state_dir: &std::path::Path) -> LiveSource {
        use crate::state::layout;
        LiveSource {
            clock,
            overrides: std::sync::Mutex::new(overrides::watch(layout::temporary_allows(state_dir))),
            pauses: std::sync::Mutex::new(pause::watch(layout::pauses(state_dir))),
            exams: std::sync::Mutex::new(exam::watch(layout::exam(state_dir))),
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
        Live {
            windows: engine.active_windows(local),
            allows,
            paused,
            exam,
        }
    }
}
