//! The configuration file: its schema ([`schema`]), how it is read and
//! checked ([`load`], [`checks`]), where it is found ([`locate`]) and how
//! mistakes are reported ([`error`]).
//!
//! Every table rejects unknown keys, so a typo is an error with a line and a
//! column instead of a setting that silently does nothing.

mod checks;
mod error;
mod load;
mod locate;
mod schema;

pub use checks::{list_url_accepted, service_rules as check_service_rules};
pub use error::{ConfigError, Position, io_reason};
pub use load::{CONF_D, conf_d_files};
pub use locate::{ConfigSource, absolute, locate, system_dir};
pub use schema::*;
