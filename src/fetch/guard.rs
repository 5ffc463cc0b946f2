//! Where the fetcher may connect. Feeds come from dozens of organisations, and their
//! servers choose where redirects and `next` links lead, so a feed could point the
//! aggregator at a service inside its own network (a cloud metadata endpoint, a database
//! on loopback). This module refuses such addresses unless the operator named them in
//! `sources.toml`:
//!
//! - a URL whose host is an IP literal in a restricted range (loopback, private, link-local,
//!   ...) is allowed only when that host and port are a source's own;
//! - a host name is resolved here, by [`GuardedResolver`], and its restricted answers are
//!   dropped unless a source names that host. The connection then goes to the checked
//!   addresses only, so a DNS answer that changes between check and use cannot slip
//!   through.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, PoisonError, RwLock};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::{Config, Location};

/// The hosts and endpoints that `sources.toml` names, which may be on restricted addresses.
#[derive(Debug, Default)]
pub struct NamedHosts {
    /// Host names and IP literals as URLs write them, lower case.
    hosts: HashSet<String>,
    /// Host and port of each source URL, port defaulted by scheme.
    endpoints: HashSet<(String, u16)>,
}

impl NamedHosts {
    /// The hosts of every source URL in `config`, enabled or not.
    pub fn from_config(config: &Config) -> NamedHosts {
        let mut named = NamedHosts::default();
        for source in &config.sources {
            if let Location::Url(url) = &source.location {
                named.add(url);
            }
        }
        named
    }

    /// Adds the host and port of `url`.
    pub fn add(&mut self, url: &url::Url) {
        if let Some(host) = host_key(url) {
            if let Some(port) = url.port_or_known_default() {
                self.endpoints.insert((host.clone(), port));
            }
            self.hosts.insert(host);
        }
    }
}

/// The shared, replaceable list of named hosts: the fetcher and its resolver read it, and
/// a configuration change replaces it.
pub type SharedNamedHosts = Arc<RwLock<NamedHosts>>;

/// Why a URL or a resolved host is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Checks a URL the fetcher is about to request: an IP literal in a restricted range must be
/// a source's own endpoint. Host names are left to [`GuardedResolver`].
///
/// # Errors
///
/// Returns [`Refused`] naming the address when it may not be reached.
pub fn check_url(url: &url::Url, named: &NamedHosts) -> Result<(), Refused> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) | None => return Ok(()),
    };
    if !is_restricted(ip) {
        return Ok(());
    }
    let endpoint = host_key(url).zip(url.port_or_known_default());
    if endpoint.is_some_and(|endpoint| named.endpoints.contains(&endpoint)) {
        return Ok(());
    }
    Err(Refused(format!(
        "{url} is on the {} address {ip}, which no source in sources.toml names",
        range_name(ip)
    )))
}

/// Whether an address must not be reached unless the operator named it: anything that is
/// not a public unicast address.
pub fn is_restricted(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_restricted_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(mapped) => is_restricted_v4(mapped),
            None => is_restricted_v6(ip),
        },
    }
}

fn is_restricted_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // 0.0.0.0/8 ("this network") and 100.64.0.0/10 (carrier-grade NAT, also used by
        // some clouds for internal services).
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24 (protocol assignments) and 240.0.0.0/4 (reserved).
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || a >= 240
}

fn is_restricted_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // fec0::/10, the deprecated site-local range, still routed inside some networks.
        || (first & 0xffc0) == 0xfec0
        // 64:ff9b::/96 translates to IPv4 through NAT64: judge the embedded address.
        || (ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            && is_restricted_v4(Ipv4Addr::from_bits(ip.to_bits() as u32)))
}

fn range_name(ip: IpAddr) -> &'static str {
    match ip {
        ip if ip.is_loopback() => "loopback",
        IpAddr::V4(v4) if v4.is_link_local() => "link-local",
        IpAddr::V6(v6) if v6.is_unicast_link_local() => "link-local",
        IpAddr::V4(v4) if v4.is_private() => "private",
        IpAddr::V6(v6) if v6.is_unique_local() => "private",
        _ => "non-public",
    }
}

/// A URL's host as [`NamedHosts`] keys it: lower case, IPv6 without brackets.
fn host_key(url: &url::Url) -> Option<String> {
    Some(match url.host()? {
        url::Host::Domain(name) => name.to_ascii_lowercase(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    })
}

/// reqwest's DNS resolver: the system resolver, minus restricted answers for hosts that no
/// source names.
pub struct GuardedResolver {
    pub named: SharedNamedHosts,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let named = self
            .named
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .hosts
            .contains(&host);
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port on the addresses it gets back.
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = filter_answers(&host, named, resolved)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Keeps the answers the fetcher may connect to.
fn filter_answers(
    host: &str,
    named: bool,
    resolved: Vec<SocketAddr>,
) -> Result<Vec<SocketAddr>, Refused> {
    if named {
        return Ok(resolved);
    }
    let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = resolved
        .into_iter()
        .partition(|address| !is_restricted(address.ip()));
    match (allowed.is_empty(), refused.first()) {
        (true, Some(address)) => Err(Refused(format!(
            "host {host} resolves to the {} address {}, which no source in sources.toml names",
            range_name(address.ip()),
            address.ip()
        ))),
        _ => Ok(allowed),
    }
}

/// The [`Refused`] error inside a reqwest error's cause chain, if the guard caused it.
pub fn refused_cause(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        cause = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(urls: &[&str]) -> NamedHosts {
        let mut named = NamedHosts::default();
        for url in urls {
            named.add(&url::Url::parse(url).unwrap());
        }
        named
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn restricted_ranges_are_recognised() {
        for restricted in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_restricted(ip(restricted)), "{restricted}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(!is_restricted(ip(public)), "{public}");
        }
    }

    #[test]
    fn ip_literal_must_be_a_named_endpoint() {
        let named = named(&["http://127.0.0.1:8000/feed.json", "https://example.org/a"]);
        let check = |url: &str| check_url(&url::Url::parse(url).unwrap(), &named);

        assert_eq!(check("http://127.0.0.1:8000/other.json"), Ok(()));
        assert!(check("http://127.0.0.1:6379/").is_err());
        assert!(check("http://[::1]:8000/").is_err());
        assert!(check("http://169.254.169.254/latest/meta-data/").is_err());
        assert!(check("http://10.0.0.1/").is_err());
        assert_eq!(check("https://93.184.216.34/feed.json"), Ok(()));
        assert_eq!(check("https://example.org/b"), Ok(()));
        let message = check("http://169.254.169.254/").unwrap_err().0;
        assert!(message.contains("link-local"), "{message}");
    }

    #[test]
    fn resolver_drops_restricted_answers_of_unnamed_hosts() {
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let public: SocketAddr = "93.184.216.34:0".parse().unwrap();

        assert_eq!(
            filter_answers("a.example", false, vec![loopback, public]),
            Ok(vec![public])
        );
        assert!(filter_answers("localhost", false, vec![loopback]).is_err());
        assert_eq!(
            filter_answers("localhost", true, vec![loopback]),
            Ok(vec![loopback])
        );
    }
}
