//! Devices a parent gave to a child from the dashboard ("this is Leo's
//! tablet"), kept in the state folder's `devices.toml` as `[[device]]`
//! tables, the same form the config takes.
//!
//! Why the state folder and not the config file: the packaged service runs
//! sandboxed, with `/etc` read-only, so the daemon cannot write its own
//! config; permanent allows from the dashboard live in the state folder for
//! the same reason. The file is written atomically and read when the rules
//! are built (a change reloads them); a parent or a fleet can copy its
//! tables into the config.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::DeviceConfig;

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DevicesFile {
    #[serde(default, rename = "device")]
    devices: Vec<DeviceConfig>,
}

/// The devices in the state folder (none when there is no file).
pub fn load(state_dir: &Path) -> Result<Vec<DeviceConfig>, String> {
    let path = crate::state::layout::devices(state_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str::<DevicesFile>(&text)
            .map(|f| f.devices)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Gives a device to a child, replacing what the file said of that MAC or
/// address before.
pub fn assign(state_dir: &Path, device: DeviceConfig) -> Result<(), String> {
    if device.mac.is_none() && device.address.is_none() {
        return Err("a device needs a MAC address or an IP address".into());
    }
    let mut devices = load(state_dir)?;
    devices.retain(|d| {
        !(device.mac.is_some() && d.mac == device.mac
            || device.mac.is_none() && d.mac.is_none() && d.address == device.address)
    });
    devices.push(device);
    let body = toml::to_string(&DevicesFile { devices }).map_err(|e| e.to_string())?;
    let text = format!(
        "# Devices given to children from the dashboard. The same [[device]] tables\n# may go in the config instead.\n\n{body}"
    );
    let path = crate::state::layout::devices(state_dir);
    crate::state::write_atomic(&path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}
