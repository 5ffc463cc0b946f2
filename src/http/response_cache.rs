//! Recent search responses, kept in memory so that a popular search (the home page's "near
//! Paris", a widget's fixed query) costs a lookup instead of a search.
//!
//! A response is keyed by the raw query string and is valid only for the index version that
//! produced it, and for a few seconds. Searches start "from now", so a response kept longer
//! could list a session that has just begun. Requests for a response being computed wait
//! for it instead of searching again, so an expiring popular response is computed once, not
//! once per waiting client. Errors are never kept. The cache keeps at most
//! [`MAX_RESPONSES`] responses and [`MAX_BYTES`]. When full, it drops stale responses, then
//! everything.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderValue;
use tokio::sync::OnceCell;

/// How long a response stays valid.
const TIME_TO_LIVE: Duration = Duration::from_secs(5);
/// Maximum number of responses kept.
const MAX_RESPONSES: usize = 2_048;
/// Maximum bytes of responses kept, about a thousand first pages.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Responses larger than this are not kept, because they are rare and would crowd out the
/// rest.
const MAX_RESPONSE_BYTES: usize = 512 * 1024;
/// Maximum length of a query string kept as a key. Longer ones are computed every time.
const MAX_KEY_BYTES: usize = 1024;

/// A response body and its entity tag.
pub type CachedResponse = (Bytes, HeaderValue);

#[derive(Default)]
pub struct ResponseCache {
    slots: Mutex<HashMap<Box<str>, Slot>>,
}

struct Slot {
    version: u64,
    created: Instant,
    response: Arc<OnceCell<CachedResponse>>,
}

impl Slot {
    fn fresh(&self, version: u64) -> bool {
        self.version == version && self.created.elapsed() < TIME_TO_LIVE
    }

    fn bytes(&self) -> usize {
        self.response.get().map_or(0, |(body, _)| body.len())
    }
}

impl ResponseCache {
    /// Returns the response to `query` at index `version`: the one kept, the one another
    /// request is computing, or else the result of `compute`, which is then kept.
    ///
    /// # Errors
    ///
    /// Returns `compute`'s error, which is not kept.
    pub async fn get_or_compute<E, F>(
        &self,
        query: &str,
        version: u64,
        compute: F,
    ) -> Result<CachedResponse, E>
    where
        F: Future<Output = Result<CachedResponse, E>>,
    {
        if query.len() > MAX_KEY_BYTES {
            return compute.await;
        }
        let cell = self.slot(query, version);
        let response = cell.get_or_try_init(|| compute).await?.clone();
        if response.0.len() > MAX_RESPONSE_BYTES {
            self.forget(query, &cell);
        }
        Ok(response)
    }

    /// Finds the fresh slot of `query`, or creates an empty one.
    fn slot(&self, query: &str, version: u64) -> Arc<OnceCell<CachedResponse>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get(query).filter(|slot| slot.fresh(version)) {
            return slot.response.clone();
        }
        let full = |slots: &HashMap<Box<str>, Slot>| {
            slots.len() >= MAX_RESPONSES
                || slots.values().map(Slot::bytes).sum::<usize>() >= MAX_BYTES
        };
        if full(&slots) {
            slots.retain(|_, slot| slot.fresh(version));
            if full(&slots) {
                slots.clear();
            }
        }
        let response = Arc::new(OnceCell::new());
        let slot = Slot {
            version,
            created: Instant::now(),
            response: response.clone(),
        };
        slots.insert(query.into(), slot);
        response
    }

    /// Drops the slot of `query` if it is still `cell`.
    fn forget(&self, query: &str, cell: &Arc<OnceCell<CachedResponse>>) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots
            .get(query)
            .is_some_and(|slot| Arc::ptr_eq(&slot.response, cell))
        {
            slots.remove(query);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn response(body: &'static [u8]) -> CachedResponse {
        (
            Bytes::from_static(body),
            HeaderValue::from_static("W/\"1\""),
        )
    }

    async fn get(
        cache: &ResponseCache,
        query: &str,
        version: u64,
        calls: &AtomicUsize,
    ) -> CachedResponse {
        cache
            .get_or_compute(query, version, async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(response(b"{}"))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn cache_reuses_response_of_same_query_and_version() {
        let cache = ResponseCache::default();
        let calls = AtomicUsize::new(0);
        get(&cache, "near=Lyon", 3, &calls).await;
        get(&cache, "near=Lyon", 3, &calls).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        get(&cache, "near=Lyon", 4, &calls).await;
        get(&cache, "near=Paris", 4, &calls).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn errors_are_not_kept() {
        let cache = ResponseCache::default();
        let failed = cache
            .get_or_compute("q=x", 1, async {
                Err::<CachedResponse, _>("index unreadable")
            })
            .await;
        assert_eq!(failed, Err("index unreadable"));
        let calls = AtomicUsize::new(0);
        get(&cache, "q=x", 1, &calls).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_computation() {
        let cache = Arc::new(ResponseCache::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_compute("near=Lyon", 1, async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, ()>(response(b"{}"))
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn cache_stays_within_bounds() {
        let cache = ResponseCache::default();
        let body = Bytes::from(vec![b' '; MAX_RESPONSE_BYTES]);
        for i in 0..(2 * MAX_BYTES / MAX_RESPONSE_BYTES) {
            let body = body.clone();
            cache
                .get_or_compute(&format!("q={i}"), 1, async move {
                    Ok::<_, ()>((body, HeaderValue::from_static("W/\"1\"")))
                })
                .await
                .unwrap();
        }
        let slots = cache.slots.lock().unwrap();
        assert!(slots.values().map(Slot::bytes).sum::<usize>() <= MAX_BYTES);
        assert!(slots.len() <= MAX_RESPONSES);
    }

    #[tokio::test]
    async fn oversized_responses_are_not_kept() {
        let cache = ResponseCache::default();
        let big = Bytes::from(vec![b' '; MAX_RESPONSE_BYTES + 1]);
        cache
            .get_or_compute("q=all", 1, async move {
                Ok::<_, ()>((big, HeaderValue::from_static("W/\"1\"")))
            })
            .await
            .unwrap();
        assert!(cache.slots.lock().unwrap().is_empty());
    }
}
