//! Desktop notices of blocks (`[notify]`, `nestguard notify`): the query
//! path hands each blocked lookup of a local user to a bounded ring
//! ([`queue`]); the daemon's notice task gathers them per user, words them
//! and sends them over a Unix socket to that user's agents only
//! ([`server`]); the agent, started with the user's desktop session, shows
//! them through the session D-Bus ([`agent`]).

#[cfg(feature = "desktop")]
pub mod agent;
pub mod queue;
pub mod server;
pub mod wire;
