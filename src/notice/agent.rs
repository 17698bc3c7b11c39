//! `nestguard notify`: the per-user agent, started with the desktop session
//! (`/etc/xdg/autostart/nestguard-notify.desktop`). It connects to the
//! daemon's notice socket, where the daemon tells it of the blocks of this
//! user's own lookups, and shows each notice through the session D-Bus
//! (`org.freedesktop.Notifications`, which every Linux desktop runs). When
//! the daemon is not there or goes away (a restart, an upgrade), it tries
//! again after 1 s, then 2, 4, … and at most [`MAX_BACKOFF`] apart.
//!
//! It needs no config file (a desktop user cannot read the daemon's) and no
//! privilege: the daemon decides what it is told by its uid.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::AsyncBufReadExt as _;
use tokio::net::UnixStream;
use zbus::zvariant::Value;

use super::wire::Notice;

/// The longest wait between two tries to reach the daemon.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest line the daemon sends (a notice is a few hundred bytes).
const MAX_LINE: usize = 64 * 1024;

const BUS_NAME: &str = "org.freedesktop.Notifications";
const OBJECT: &str = "/org/freedesktop/Notifications";
/// How long a notice stays on screen, in ms (the server may differ).
const SHOW_FOR_MS: i32 = 10_000;

/// Runs until killed (the desktop session ends it).
pub async fn run(socket: PathBuf) -> anyhow::Result<()> {
    let bus = zbus::Connection::session()
        .await
        .context("cannot reach the desktop session's D-Bus (DBUS_SESSION_BUS_ADDRESS)")?;
    let mut backoff = FIRST_BACKOFF;
    let mut said_missing = false;
    loop {
        match UnixStream::connect(&socket).await {
            Ok(stream) => {
                tracing::info!(socket = %socket.display(), "connected to nestguard");
                said_missing = false;
                backoff = FIRST_BACKOFF;
                let why = listen(stream, &bus).await;
                tracing::info!(%why, "nestguard went away; connecting again");
            }
            Err(e) => {
                // Said once until it works again, not at every try.
                if !said_missing {
                    tracing::warn!(
                        socket = %socket.display(),
                        error = %e,
                        "cannot reach nestguard's notice socket (is the daemon running with [notify] enabled = true?); trying again"
                    );
                    said_missing = true;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Shows each notice the daemon sends until it hangs up; why it ended.
async fn listen(stream: UnixStream, bus: &zbus::Connection) -> String {
    let mut lines = tokio::io::BufReader::new(stream);
    let mut line = String::new();
    let mut server = None;
    loop {
        line.clear();
        match read_line(&mut lines, &mut line).await {
            Ok(0) => return "the connection was closed".into(),
            Ok(_) => {}
            Err(e) => return e.to_string(),
        }
        let notice: Notice = match serde_json::from_str(line.trim_end()) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "nestguard sent a notice this version cannot read");
                continue;
            }
        };
        // What the notification server can show, asked once per connection.
        let caps = match &server {
            Some(c) => c,
            None => server.insert(capabilities(bus).await),
        };
        if let Err(e) = show(bus, caps, &notice).await {
            tracing::warn!(error = %e, "cannot show a desktop notification");
            // The server may have been replaced: ask again next time.
            server = None;
        }
    }
}

/// One line, refusing one longer than [`MAX_LINE`].
async fn read_line(
    reader: &mut tokio::io::BufReader<UnixStream>,
    line: &mut String,
) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt as _;
    let n = reader.take(MAX_LINE as u64).read_line(line).await?;
    if n >= MAX_LINE && !line.ends_with('\n') {
        return Err(std::io::Error::other("a line too long"));
    }
    Ok(n)
}

/// The notification server's capabilities (none if it does not say).
async fn capabilities(bus: &zbus::Connection) -> Vec<String> {
    let reply = bus
        .call_method(
            Some(BUS_NAME),
            OBJECT,
            Some(BUS_NAME),
            "GetCapabilities",
            &(),
        )
        .await;
    reply
        .ok()
        .and_then(|m| m.body().deserialize::<Vec<String>>().ok())
        .unwrap_or_default()
}

/// The body as the server can show it: the link as a link where it can
/// (`body-hyperlinks`), else written out.
pub fn body_for(notice: &Notice, caps: &[String]) -> String {
    let links = caps.iter().any(|c| c == "body-hyperlinks");
    let markup = links || caps.iter().any(|c| c == "body-markup");
    let text = if markup {
        escape(&notice.body)
    } else {
        notice.body.clone()
    };
    match &notice.url {
        Some(url) if links => format!(
            "{text}\n<a href=\"{}\">Read why, or ask to unblock it</a>",
            escape(url)
        ),
        Some(url) => format!("{text}\nRead why, or ask to unblock it: {url}"),
        None => text,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn show(bus: &zbus::Connection, caps: &[String], notice: &Notice) -> anyhow::Result<u32> {
    let body = body_for(notice, caps);
    let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
    hints.insert("desktop-entry", Value::from("nestguard-notify"));
    hints.insert("category", Value::from("network"));
    let actions: Vec<&str> = Vec::new();
    let reply = bus
        .call_method(
            Some(BUS_NAME),
            OBJECT,
            Some(BUS_NAME),
            "Notify",
            &(
                "nestguard",
                0u32,
                "dialog-information",
                notice.title.as_str(),
                body.as_str(),
                actions,
                hints,
                SHOW_FOR_MS,
            ),
        )
        .await?;
    Ok(reply.body().deserialize::<u32>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            title: "a.example is blocked".into(),
            body: "It is in the group “Gambling” & more.".into(),
            url: Some("http://127.0.0.1:8053/blocked?name=a.example".into()),
        }
    }

    #[test]
    fn the_link_is_a_link_where_the_server_shows_links() {
        let b = body_for(&notice(), &["body".into(), "body-hyperlinks".into()]);
        assert!(b.contains("&amp; more"), "{b}");
        assert!(
            b.contains("<a href=\"http://127.0.0.1:8053/blocked?name=a.example\">"),
            "{b}"
        );
    }

    #[test]
    fn elsewhere_the_link_is_written_out_and_the_text_is_plain() {
        let b = body_for(&notice(), &["body".into()]);
        assert!(b.contains("& more"), "{b}");
        assert!(
            b.ends_with("ask to unblock it: http://127.0.0.1:8053/blocked?name=a.example"),
            "{b}"
        );
    }
}
