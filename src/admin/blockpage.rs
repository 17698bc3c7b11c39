//! The children's block page listener: where a blocked name's address
//! (`block_mode = "address"`) leads a browser. Every HTTP request there, for
//! any path, is answered with the "why blocked" page for the site the
//! browser asked for, named by its `Host` header; the parents' dashboard and
//! login are never served on it. Only `POST /ask` (the page's own form) is
//! something else. It listens on plain HTTP only: an HTTPS visit cannot be
//! answered without a certificate for the blocked name that the browser
//! trusts, which nestguard does not make or install (README, "What a child
//! sees"), so port 443 is left closed and the browser's connection is
//! refused at once rather than hanging.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, header};

use crate::config::{BlockMode, Config};

/// The port a browser visits for `http://blocked.example/`.
pub const HTTP_PORT: u16 = 80;

/// Where the block page listens as `config` says: `[admin]
/// block_page_listen` when set, else port 80 of each block address in
/// `block_mode = "address"`, else nowhere.
pub fn addrs(config: &Config) -> Vec<SocketAddr> {
    if let Some(listen) = &config.admin.block_page_listen {
        return listen.clone();
    }
    if *config.policy.block_mode.get_ref() != BlockMode::Address {
        return Vec::new();
    }
    config
        .policy
        .block_addresses
        .iter()
        .map(|ip| SocketAddr::new(*ip, HTTP_PORT))
        .collect()
}

/// The site a request was for: its `Host` header without the port, as the
/// name the rules know (lowercase ASCII; a Unicode name becomes its
/// punycode form). `None` for no `Host`, an address (`http://192.0.2.1/`) or
/// something that is not a name.
pub fn site_of(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    host_name(host)
}

fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    // `[2001:db8::1]:80` and `[::1]`: an IPv6 address, not a site.
    if host.starts_with('[') {
        return None;
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return None,
        None => host,
    };
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    crate::rules::name::normalize(name).ok()
}

#[cfg(test)]
mod tests {
    use super::{addrs, host_name};
    use crate::config::Config;

    fn listens(text: &str) -> Vec<String> {
        let config = Config::parse(text, "t.toml", None).unwrap();
        addrs(&config).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn by_default_port_80_of_the_block_addresses_in_address_mode_only() {
        assert_eq!(
            listens(
                "[policy]\nblock_mode = \"address\"\nblock_addresses = [\"192.0.2.1\", \"2001:db8::1\"]\n"
            ),
            ["192.0.2.1:80", "[2001:db8::1]:80"]
        );
        assert!(listens("").is_empty());
        assert!(listens("[policy]\nblock_mode = \"refused\"\n").is_empty());
        // Said outright, it wins; `[]` turns it off.
        assert_eq!(
            listens(
                "[policy]\nblock_mode = \"address\"\nblock_addresses = [\"192.0.2.1\"]\n[admin]\nblock_page_listen = [\"127.0.0.2:8080\"]\n"
            ),
            ["127.0.0.2:8080"]
        );
        assert!(
            listens("[policy]\nblock_mode = \"address\"\nblock_addresses = [\"192.0.2.1\"]\n[admin]\nblock_page_listen = []\n")
                .is_empty()
        );
    }

    #[test]
    fn the_site_is_the_host_without_its_port() {
        assert_eq!(host_name("Blocked.Example"), Some("blocked.example".into()));
        assert_eq!(
            host_name("blocked.example:8080"),
            Some("blocked.example".into())
        );
        assert_eq!(
            host_name("blocked.example."),
            Some("blocked.example".into())
        );
        // A Unicode name (some clients send it so) is the punycode the rules hold.
        assert_eq!(
            host_name("bücher.example"),
            Some("xn--bcher-kva.example".into())
        );
        assert_eq!(
            host_name("xn--bcher-kva.example:80"),
            Some("xn--bcher-kva.example".into())
        );
    }

    #[test]
    fn an_address_or_garbage_names_no_site() {
        assert_eq!(host_name("192.0.2.1"), None);
        assert_eq!(host_name("192.0.2.1:80"), None);
        assert_eq!(host_name("[2001:db8::1]:80"), None);
        assert_eq!(host_name("[::1]"), None);
        assert_eq!(host_name(""), None);
        assert_eq!(host_name("a:b:c"), None);
        assert_eq!(host_name("bad name.example"), None);
    }
}
