//! Prometheus metrics: what the scheduler and the HTTP layer count, and their text
//! exposition for `GET /metrics`.
//!
//! Label values are bounded: source ids come from `sources.toml`, routes from the router's
//! patterns (never raw paths), so a client cannot grow the series without limit.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of per-source series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

/// Labels of a fetch counted by its outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FetchLabels {
    pub source: String,
    /// `stored`, `unchanged` or `failed`.
    pub result: String,
}

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route pattern, such as `/api/v1/events/{id}`, or `unmatched`.
    pub route: String,
    /// The status class: `2xx`, `3xx`, `4xx` or `5xx`.
    pub status: String,
}

/// Labels of a configuration reload.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `applied`, `unchanged` or `invalid`.
    pub result: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric of the process. Cheap to share behind an `Arc`; recording never blocks on
/// I/O.
pub struct Metrics {
    registry: Registry,
    pub fetches: Family<FetchLabels, Counter>,
    pub fetch_duration: HistogramFamily<SourceLabels>,
    pub source_searchable_events: Family<SourceLabels, Gauge>,
    pub source_events_kept: Family<SourceLabels, Gauge>,
    pub source_events_rejected: Family<SourceLabels, Gauge>,
    pub source_last_success: Family<SourceLabels, Gauge>,
    pub requests: HistogramFamily<RequestLabels>,
    pub config_reloads: Family<ReloadLabels, Counter>,
    pub index_documents: Gauge,
    pub index_size_bytes: Gauge,
    pub store_size_bytes: Gauge,
    pub index_generation: Gauge,
    /// Serializes encoding with the gauge updates done just before it.
    scrape: Mutex<()>,
}

/// Fetch durations, from 10 ms to about 80 s.
fn fetch_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 14))
}

/// Request durations, from 0.5 ms to about 8 s.
fn request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("multifresque");
        let metrics = Metrics {
            fetches: Family::default(),
            fetch_duration: Family::new_with_constructor(fetch_buckets),
            source_searchable_events: Family::default(),
            source_events_kept: Family::default(),
            source_events_rejected: Family::default(),
            source_last_success: Family::default(),
            requests: Family::new_with_constructor(request_buckets),
            config_reloads: Family::default(),
            index_documents: Gauge::default(),
            index_size_bytes: Gauge::default(),
            store_size_bytes: Gauge::default(),
            index_generation: Gauge::default(),
            scrape: Mutex::new(()),
            registry: Registry::default(),
        };
        registry.register(
            "fetches",
            "Source fetches by source and result (stored, unchanged, failed)",
            metrics.fetches.clone(),
        );
        registry.register(
            "fetch_duration_seconds",
            "Duration of one source run: every page fetched, parsed, stored and indexed",
            metrics.fetch_duration.clone(),
        );
        registry.register(
            "source_searchable_events",
            "Searchable events of each source",
            metrics.source_searchable_events.clone(),
        );
        registry.register(
            "source_events_kept",
            "Events kept from the last parsed fetch of each source",
            metrics.source_events_kept.clone(),
        );
        registry.register(
            "source_events_rejected",
            "Events rejected in the last parsed fetch of each source",
            metrics.source_events_rejected.clone(),
        );
        registry.register(
            "source_last_success_timestamp_seconds",
            "Unix time of the last successful fetch of each source",
            metrics.source_last_success.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, route and status class; search queries are route /api/v1/events",
            metrics.requests.clone(),
        );
        registry.register(
            "config_reloads",
            "Reloads of the sources file by result (applied, unchanged, invalid)",
            metrics.config_reloads.clone(),
        );
        registry.register(
            "index_documents",
            "Documents in the search index (searchable events)",
            metrics.index_documents.clone(),
        );
        registry.register(
            "index_size_bytes",
            "Size of the search index directory on disk",
            metrics.index_size_bytes.clone(),
        );
        registry.register(
            "store_size_bytes",
            "Size of the SQLite store on disk, write-ahead log included",
            metrics.store_size_bytes.clone(),
        );
        registry.register(
            "index_generation",
            "Store generation that the search index reflects",
            metrics.index_generation.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts one source run and its duration.
    pub fn record_fetch(&self, source: &str, result: &str, seconds: f64) {
        self.fetches
            .get_or_create(&FetchLabels {
                source: source.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        self.fetch_duration
            .get_or_create(&SourceLabels {
                source: source.to_owned(),
            })
            .observe(seconds);
    }

    /// Records one HTTP request.
    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: class.to_owned(),
            })
            .observe(seconds);
    }

    /// Forgets the per-source series of a source that left the configuration.
    pub fn forget_source(&self, source: &str) {
        let labels = SourceLabels {
            source: source.to_owned(),
        };
        self.source_searchable_events.remove(&labels);
        self.source_events_kept.remove(&labels);
        self.source_events_rejected.remove(&labels);
        self.source_last_success.remove(&labels);
    }

    /// Encodes every metric in the OpenMetrics text format. `update` runs first, under the
    /// same lock, to refresh the gauges that are read at scrape time.
    pub fn encode(&self, update: impl FnOnce(&Metrics)) -> String {
        let _scrape = self
            .scrape
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        update(self);
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_lists_recorded_series() {
        let metrics = Metrics::new();
        metrics.record_fetch("climat", "stored", 0.2);
        metrics.record_request("GET", "/api/v1/events", 200, 0.003);

        let text = metrics.encode(|m| {
            m.index_documents.set(42);
        });

        assert!(
            text.contains(r#"multifresque_fetches_total{source="climat",result="stored"} 1"#),
            "{text}"
        );
        assert!(text.contains("multifresque_index_documents 42"), "{text}");
        assert!(text.contains(r#"multifresque_http_request_duration_seconds_count{method="GET",route="/api/v1/events",status="2xx"} 1"#), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
