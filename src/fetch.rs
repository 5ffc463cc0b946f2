//! Fetching feed bytes: HTTP with reqwest (timeouts, compression, a body size limit,
//! conditional GET, a rate limit per host, retries with backoff, checked redirects) or a
//! local file for the bundled examples. What the bytes mean is left to the adapters.
//!
//! Redirects are followed here rather than by reqwest, so that each hop is checked: no
//! change of scheme, no loop, at most [`FetchSettings::max_redirects`] hops, no restricted
//! address that `sources.toml` does not name (see [`guard`]), and request headers from the
//! sources file only for the source's own origin.

pub mod guard;

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
};

use crate::config::{Config, HeaderFromEnv, Location};
use crate::store::Validators;
use guard::{GuardedResolver, NamedHosts, SharedNamedHosts};

/// Limits and timings of the fetcher.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub connect_timeout: Duration,
    /// Whole request, headers and body.
    pub total_timeout: Duration,
    /// Largest accepted body after decompression, in bytes.
    pub max_body_bytes: usize,
    /// Retries after the first attempt, for timeouts, connection errors, 429 and 5xx.
    pub retries: u32,
    /// Wait before the first retry; doubled for each next one.
    pub retry_delay: Duration,
    /// Requests per second allowed to one host, across all sources on it.
    pub per_host_per_second: NonZeroU32,
    /// Redirects followed for one request before it fails.
    pub max_redirects: usize,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(60),
            // The whole world's sessions are tens of thousands of events, a few MB as JSON.
            max_body_bytes: 32 * 1024 * 1024,
            retries: 2,
            retry_delay: Duration::from_secs(2),
            per_host_per_second: NonZeroU32::MIN.saturating_add(1),
            max_redirects: 5,
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("body larger than the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("request failed: {0}")]
    Request(String),
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
    #[error("environment variable {0} for a request header is not set")]
    MissingSecret(String),
    /// A redirect that is not followed: a loop, too many hops, a change of scheme.
    #[error("redirect refused: {0}")]
    Redirect(String),
    /// An address the fetcher may not reach (see [`guard`]).
    #[error("address refused: {0}")]
    Refused(String),
    /// A media type that no feed format uses, such as an image.
    #[error("served as {0}, which is not a feed")]
    ContentType(String),
}

impl FetchError {
    fn is_retryable(&self) -> bool {
        match self {
            FetchError::Status(status) => *status == 429 || *status >= 500,
            FetchError::Timeout(_) | FetchError::Request(_) => true,
            _ => false,
        }
    }

    /// The HTTP status of the failure, if the server answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            FetchError::Status(status) => Some(*status),
            _ => None,
        }
    }
}

/// A fetched body, or the news that it has not changed.
#[derive(Debug)]
pub enum Response {
    NotModified,
    Body {
        bytes: Vec<u8>,
        /// `None` for local files.
        http_status: Option<u16>,
        etag: Option<String>,
        last_modified: Option<String>,
        /// The `Content-Type` header, for error messages; `None` for local files.
        content_type: Option<String>,
    },
}

/// The HTTP client and the per-host rate limiter, shared by all sources.
pub struct Fetcher {
    client: reqwest::Client,
    limiter: DefaultKeyedRateLimiter<String>,
    settings: FetchSettings,
    /// Hosts that `sources.toml` names, which may be on restricted addresses.
    named: SharedNamedHosts,
}

impl Fetcher {
    /// Builds the client.
    ///
    /// # Errors
    ///
    /// Returns [`FetchError::Request`] when the TLS backend cannot start.
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let named: SharedNamedHosts = Arc::new(RwLock::new(NamedHosts::default()));
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "multifresque/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/openfresque/multifresque)"
            ))
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.total_timeout)
            // Followed by `get`, which checks each hop.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver {
                named: named.clone(),
            }))
            .build()
            .map_err(|error| FetchError::Request(error.to_string()))?;
        let limiter = RateLimiter::keyed(Quota::per_second(settings.per_host_per_second));
        Ok(Fetcher {
            client,
            limiter,
            settings,
            named,
        })
    }

    /// Allows the hosts of `config`'s sources on restricted addresses; call it again when
    /// the configuration changes.
    pub fn name_hosts(&self, config: &Config) {
        *self.named.write().unwrap_or_else(PoisonError::into_inner) =
            NamedHosts::from_config(config);
    }

    /// Allows one more URL's host on restricted addresses, as if a source named it.
    pub fn name_url(&self, url: &url::Url) {
        self.named
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .add(url);
    }

    /// Fetches one location, retrying transient failures. `validators` make the request
    /// conditional (HTTP only).
    ///
    /// # Errors
    ///
    /// Returns the last [`FetchError`] once retries are exhausted.
    pub async fn fetch(
        &self,
        location: &Location,
        headers: &[HeaderFromEnv],
        validators: Option<&Validators>,
    ) -> Result<Response, FetchError> {
        let mut attempt = 0;
        loop {
            let result = match location {
                Location::File(path) => read_file(path, self.settings.max_body_bytes).await,
                Location::Url(url) => self.get(url, headers, validators).await,
            };
            match result {
                Err(error) if error.is_retryable() && attempt < self.settings.retries => {
                    let delay = self.settings.retry_delay * 2u32.pow(attempt);
                    tracing::info!(url = %location, %error, attempt, ?delay, "retrying fetch");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Sends one GET and follows its redirects hop by hop, checking each target first.
    async fn get(
        &self,
        url: &url::Url,
        headers: &[HeaderFromEnv],
        validators: Option<&Validators>,
    ) -> Result<Response, FetchError> {
        let mut current = url.clone();
        let mut visited = vec![url.clone()];
        loop {
            self.check_target(&current)?;
            // Secrets go to the URL the operator wrote, never to where a server redirects.
            let same_origin = current.origin() == url.origin();
            let headers = if same_origin { headers } else { &[] };
            let response = self.send(&current, headers, validators).await?;
            if !response.status().is_redirection() || response.status() == StatusCode::NOT_MODIFIED
            {
                return self.read_response(response).await;
            }

            let next = redirect_target(&current, &response)?;
            if next.scheme() != url.scheme() {
                return Err(FetchError::Redirect(format!(
                    "{current} redirects from {} to {next}: write the new URL in sources.toml if it is right",
                    url.scheme()
                )));
            }
            if visited.contains(&next) {
                return Err(FetchError::Redirect(format!(
                    "loop: {current} redirects to {next}, already visited"
                )));
            }
            if visited.len() > self.settings.max_redirects {
                return Err(FetchError::Redirect(format!(
                    "more than {} redirects from {url}",
                    self.settings.max_redirects
                )));
            }
            tracing::debug!(from = %current, to = %next, "following redirect");
            visited.push(next.clone());
            current = next;
        }
    }

    fn check_target(&self, url: &url::Url) -> Result<(), FetchError> {
        let named = self.named.read().unwrap_or_else(PoisonError::into_inner);
        guard::check_url(url, &named).map_err(|refused| FetchError::Refused(refused.0))
    }

    async fn send(
        &self,
        url: &url::Url,
        headers: &[HeaderFromEnv],
        validators: Option<&Validators>,
    ) -> Result<reqwest::Response, FetchError> {
        self.limiter
            .until_key_ready(&url.host_str().unwrap_or("").to_owned())
            .await;

        let mut request = self.client.get(url.clone());
        for header in headers {
            let value = std::env::var(&header.env)
                .map_err(|_| FetchError::MissingSecret(header.env.clone()))?;
            request = request.header(&header.name, format!("{}{value}", header.prefix));
        }
        if let Some(validators) = validators {
            if let Some(etag) = &validators.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(last_modified) = &validators.last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
        }
        request.send().await.map_err(|e| self.request_error(e))
    }

    /// Reads a final (not redirecting) response, within the body size limit.
    async fn read_response(&self, mut response: reqwest::Response) -> Result<Response, FetchError> {
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Response::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        let content_type = header(CONTENT_TYPE);
        if let Some(media_type) = content_type.as_deref().filter(|t| !may_be_feed(t)) {
            return Err(FetchError::ContentType(media_type.to_owned()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > self.settings.max_body_bytes as u64)
        {
            return Err(FetchError::TooLarge {
                limit: self.settings.max_body_bytes,
            });
        }

        // Read chunk by chunk so an endless or decompression-bomb body stops at the limit.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.request_error(e))? {
            if bytes.len() + chunk.len() > self.settings.max_body_bytes {
                return Err(FetchError::TooLarge {
                    limit: self.settings.max_body_bytes,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Response::Body {
            bytes,
            http_status: Some(status.as_u16()),
            etag,
            last_modified,
            content_type,
        })
    }

    fn request_error(&self, error: reqwest::Error) -> FetchError {
        if error.is_timeout() {
            FetchError::Timeout(self.settings.total_timeout)
        } else if let Some(refused) = guard::refused_cause(&error) {
            FetchError::Refused(refused.0)
        } else {
            // The chain carries the useful part (connection refused, DNS, TLS, decoding).
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            FetchError::Request(message)
        }
    }
}

async fn read_file(path: &Path, limit: usize) -> Result<Response, FetchError> {
    let error = |message: String| FetchError::File {
        path: path.display().to_string(),
        message,
    };
    // One blocking read of the whole file. tokio's `File` reads in steps as large as the
    // buffer's spare room, which starts small, so a 3 MB page took a dozen hand-offs to the
    // blocking pool: 20 ms for the 20 pages of a 100,000-event feed, against 2 ms.
    let owned = path.to_owned();
    let bytes = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        use std::io::Read as _;

        let file = std::fs::File::open(&owned)?;
        let size = file
            .metadata()
            .map_or(0, |metadata| metadata.len() as usize);
        let mut bytes = Vec::with_capacity(size.min(limit + 1));
        // Reading one byte past the limit separates a file at the limit from a larger one.
        file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
        Ok(bytes)
    })
    .await
    .map_err(|e| error(e.to_string()))?
    .map_err(|e| error(e.to_string()))?;
    if bytes.len() > limit {
        return Err(FetchError::TooLarge { limit });
    }
    Ok(Response::Body {
        bytes,
        http_status: None,
        etag: None,
        last_modified: None,
        content_type: None,
    })
}

/// Resolves the `Location` of a redirect against the URL that sent it.
fn redirect_target(
    current: &url::Url,
    response: &reqwest::Response,
) -> Result<url::Url, FetchError> {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            FetchError::Redirect(format!(
                "{current} returned {status} without a Location header"
            ))
        })?;
    current.join(location).map_err(|error| {
        FetchError::Redirect(format!(
            "{current} redirects to {location:?}, which is not a URL: {error}"
        ))
    })
}

/// Whether a `Content-Type` may hold a feed. Servers label JSON and calendars in many ways
/// (`text/plain`, `application/octet-stream`, even `text/html`), so only media types that
/// are certainly not text are refused, before their body is downloaded.
fn may_be_feed(content_type: &str) -> bool {
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (top, sub) = media_type.split_once('/').unwrap_or((&media_type, ""));
    let binary_top = matches!(top, "image" | "audio" | "video" | "font" | "model");
    let binary_application = top == "application"
        && matches!(
            sub,
            "pdf"
                | "zip"
                | "gzip"
                | "x-gzip"
                | "x-tar"
                | "x-7z-compressed"
                | "wasm"
                | "vnd.ms-excel"
                | "msword"
                | "x-msdownload"
                | "x-executable"
        );
    !(binary_top || binary_application)
}

/// Resolves a feed's `next` reference against the page it came from: URLs against URLs,
/// paths against the directory of a local file. The next page must stay on the feed's own
/// origin (scheme, host and port), so a feed cannot send the service to other hosts.
///
/// # Errors
///
/// Returns a message naming the reference when it cannot be resolved or leaves the origin.
pub fn resolve_next(feed: &Location, current: &Location, next: &str) -> Result<Location, String> {
    let resolved = match current {
        Location::Url(base) => base
            .join(next)
            .map(Location::Url)
            .map_err(|error| format!("`next` {next:?} is not a valid reference: {error}"))?,
        Location::File(path) if url::Url::parse(next).is_ok() => {
            return Err(format!(
                "`next` {next:?} of a local feed must be a relative path"
            ));
        }
        Location::File(path) => {
            let directory = path.parent().unwrap_or(Path::new("."));
            Location::File(directory.join(next))
        }
    };
    match (feed, &resolved) {
        (Location::Url(origin), Location::Url(url)) if url.origin() == origin.origin() => {
            Ok(resolved)
        }
        (Location::Url(origin), Location::Url(url)) => Err(format!(
            "`next` {url} leaves the feed's origin {}",
            origin.origin().ascii_serialization()
        )),
        _ => Ok(resolved),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_resolves_against_url_and_file() {
        let page = Location::Url(url::Url::parse("https://example.org/feed/page-1.json").unwrap());
        let file = Location::File("examples/feeds/a-1.json".into());

        assert_eq!(
            resolve_next(&page, &page, "page-2.json")
                .unwrap()
                .to_string(),
            "https://example.org/feed/page-2.json"
        );
        assert_eq!(
            resolve_next(&page, &page, "/other?page=2")
                .unwrap()
                .to_string(),
            "https://example.org/other?page=2"
        );
        assert_eq!(
            resolve_next(&page, &page, "https://example.org/x")
                .unwrap()
                .to_string(),
            "https://example.org/x"
        );
        assert_eq!(
            resolve_next(&file, &file, "a-2.json").unwrap(),
            Location::File("examples/feeds/a-2.json".into())
        );
    }

    #[test]
    fn next_may_not_leave_the_origin() {
        let page = Location::Url(url::Url::parse("http://127.0.0.1:18001/feed.json").unwrap());
        let file = Location::File("examples/feeds/a-1.json".into());

        assert!(resolve_next(&page, &page, "http://127.0.0.2:18002/landed.json").is_err());
        assert!(resolve_next(&page, &page, "http://127.0.0.1:18002/other-port.json").is_err());
        assert!(resolve_next(&page, &page, "https://127.0.0.1:18001/other-scheme.json").is_err());
        assert!(resolve_next(&page, &page, "file:///etc/passwd").is_err());
        assert!(resolve_next(&file, &file, "https://example.org/x").is_err());
    }

    #[test]
    fn binary_media_types_are_not_feeds() {
        for feed in [
            "application/json",
            "application/feed+json; charset=utf-8",
            "text/calendar",
            "text/plain",
            "text/html; charset=UTF-8",
            "application/octet-stream",
            "",
        ] {
            assert!(may_be_feed(feed), "{feed}");
        }
        for other in [
            "image/png",
            "Video/MP4",
            "application/pdf",
            "application/zip",
        ] {
            assert!(!may_be_feed(other), "{other}");
        }
    }

    #[tokio::test]
    async fn file_over_limit_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        std::fs::write(&path, vec![b' '; 101]).unwrap();

        let result = read_file(&path, 100).await;

        assert!(matches!(result, Err(FetchError::TooLarge { limit: 100 })));
    }
}
