//! Per-client rate limiting of the public API (governor): each client address gets a
//! bucket of requests that refills at a steady rate. A client over its quota gets a 429
//! with `Retry-After`, and its requests cost nothing more than that response.
//!
//! The client is the TCP peer address; IPv6 clients are grouped by /64, the block one
//! subscriber usually holds. Behind a reverse proxy every peer is the proxy, so the
//! operator can name a header the proxy sets (such as `X-Forwarded-For`) to read the
//! client from; it is trusted blindly, so it must be set only when every request passes
//! through that proxy.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::ApiError;

/// Requests between two sweeps of the buckets of clients that have gone quiet.
const SWEEP_EVERY: u64 = 4_096;

/// Paths that are never limited. Health checks and metric scrapes come from one monitor,
/// often through the same proxy as the public. The widget's script and style are fixed
/// files that a whole classroom behind one address loads at once.
const UNLIMITED_PATHS: &[&str] = &["/healthz", "/metrics", "/widget.js", "/widget/theme.css"];

/// Path prefixes that are never limited: the pages' fixed assets, for the same reason.
const UNLIMITED_PREFIXES: &[&str] = &["/static/"];

/// How many requests one client may make.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    /// Sustained requests per second per client; `None` turns limiting off.
    pub per_second: Option<NonZeroU32>,
    /// Requests a client may make at once before the steady rate applies.
    pub burst: NonZeroU32,
    /// Header holding the client address, set by a trusted reverse proxy.
    pub client_ip_header: Option<HeaderName>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            // A page load plus typing in the place box makes a few dozen requests at once.
            // Sustained, 10 a second is far above what a person or a widget sends.
            per_second: NonZeroU32::new(10),
            burst: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
            client_ip_header: None,
        }
    }
}

/// The limiter shared by every request.
pub struct ClientRateLimiter {
    /// `None` when limiting is off.
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    client_ip_header: Option<HeaderName>,
    requests: AtomicU64,
}

impl ClientRateLimiter {
    pub fn new(settings: &RateLimitSettings) -> ClientRateLimiter {
        ClientRateLimiter {
            limiter: settings.per_second.map(|rate| {
                RateLimiter::keyed(Quota::per_second(rate).allow_burst(settings.burst))
            }),
            client_ip_header: settings.client_ip_header.clone(),
            requests: AtomicU64::new(0),
        }
    }

    /// Whether `client` may make one more request now; otherwise the seconds to wait.
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.requests.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Whole seconds, rounded up, as Retry-After requires.
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// The client a request comes from, `None` when the server gave no peer address.
    fn client(&self, request: &Request) -> Option<IpAddr> {
        let from_header = self.client_ip_header.as_ref().and_then(|name| {
            let value = request.headers().get(name)?.to_str().ok()?;
            // A proxy appends the address it saw, so the last entry is the one it vouches for.
            value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        });
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        from_header.or(peer).map(bucket_key)
    }
}

/// Groups IPv6 clients by /64; IPv4-mapped addresses count as IPv4.
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// Sends a 429 to a client over its quota and passes every other request on.
pub async fn enforce(
    State(limiter): State<Arc<ClientRateLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if UNLIMITED_PATHS.contains(&path) || UNLIMITED_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return next.run(request).await;
    }
    let Some(client) = limiter.client(&request) else {
        return next.run(request).await;
    };
    let cross_origin = request.uri().path().starts_with("/api/");
    match limiter.check(client) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => {
            tracing::debug!(%client, retry_after, "rate limited");
            let error = ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message: format!("too many requests from your address; retry in {retry_after} s"),
                parameter: None,
                accepted: Vec::new(),
            };
            let mut response = error.into_response();
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            // The API's CORS layer sits inside this one, so a widget on another origin would
            // see a network error instead of the 429 without this header.
            if cross_origin {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: u32, burst: u32) -> ClientRateLimiter {
        ClientRateLimiter::new(&RateLimitSettings {
            per_second: NonZeroU32::new(per_second),
            burst: NonZeroU32::new(burst).unwrap(),
            client_ip_header: None,
        })
    }

    #[test]
    fn burst_then_wait() {
        let limiter = limiter(1, 3);
        let client: IpAddr = "192.0.2.7".parse().unwrap();

        for _ in 0..3 {
            assert_eq!(limiter.check(client), Ok(()));
        }
        assert_eq!(limiter.check(client), Err(1));
        assert_eq!(limiter.check("192.0.2.8".parse().unwrap()), Ok(()));
    }

    #[test]
    fn zero_rate_turns_limiting_off() {
        let limiter = limiter(0, 1);
        let client: IpAddr = "192.0.2.7".parse().unwrap();

        for _ in 0..100 {
            assert_eq!(limiter.check(client), Ok(()));
        }
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();

        assert_eq!(bucket_key(a), bucket_key(b));
        assert_ne!(bucket_key(a), bucket_key(other));
        assert_eq!(
            bucket_key("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn client_comes_from_the_trusted_header_when_set() {
        let limiter = ClientRateLimiter::new(&RateLimitSettings {
            client_ip_header: Some(HeaderName::from_static("x-forwarded-for")),
            ..RateLimitSettings::default()
        });
        let mut request = Request::new(axum::body::Body::empty());
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
        assert_eq!(limiter.client(&request), Some("127.0.0.1".parse().unwrap()));

        request.headers_mut().insert(
            "x-forwarded-for",
            HeaderValue::from_static("198.51.100.1, 203.0.113.9"),
        );
        assert_eq!(
            limiter.client(&request),
            Some("203.0.113.9".parse().unwrap())
        );
    }
}
