//! What the daemon sends an agent: one JSON object per line, each a notice
//! ready to show (the daemon words it: it knows the child's profile).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The notification's summary line.
    pub title: String,
    /// What was blocked and why, in the child's words.
    pub body: String,
    /// The child page, where they can read more and ask to unblock it
    /// (none when the dashboard is off).
    pub url: Option<String>,
}
