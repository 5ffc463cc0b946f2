//! Recent search answers, kept in memory so that a popular search (the home page's "near
//! Paris", a widget's fixed query) costs a lookup instead of a search.
//!
//! An answer is keyed by the raw query string and is valid only for the index version that
//! produced it, and for a few seconds: searches start "from now", so an answer kept longer
//! could list a session that has just begun. Requests for an answer being computed wait for
//! it instead of searching again, so an expiring popular answer is searched once, not once
//! per waiting client. Errors are never kept. The cache holds at most [`MAX_ANSWERS`]
//! answers and [`MAX_BYTES`]; when full, it drops stale answers, then everything.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderValue;
use tokio::sync::OnceCell;

/// How long an answer stays valid.
const TIME_TO_LIVE: Duration = Duration::from_secs(5);
/// Most answers kept.
const MAX_ANSWERS: usize = 2_048;
/// Bytes of answers kept at most; about a thousand first pages.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Answers larger than this are not kept: they are rare and would crowd out the rest.
const MAX_ANSWER_BYTES: usize = 512 * 1024;
/// Longest query string kept; longer ones are not worth a key.
const MAX_KEY_BYTES: usize = 1024;

/// A response body and its entity tag.
pub type Answer = (Bytes, HeaderValue);

#[derive(Default)]
pub struct AnswerCache {
    slots: Mutex<HashMap<Box<str>, Slot>>,
}

struct Slot {
    version: u64,
    created: Instant,
    answer: Arc<OnceCell<Answer>>,
}

impl Slot {
    fn fresh(&self, version: u64) -> bool {
        self.version == version && self.created.elapsed() < TIME_TO_LIVE
    }

    fn bytes(&self) -> usize {
        self.answer.get().map_or(0, |(body, _)| body.len())
    }
}

impl AnswerCache {
    /// The answer to `query` at index `version`: the one kept, the one another request is
    /// computing, or else the result of `compute`, which is then kept.
    ///
    /// # Errors
    ///
    /// Returns `compute`'s error, which is not kept.
    pub async fn get_or_compute<E, F>(
        &self,
        query: &str,
        version: u64,
        compute: F,
    ) -> Result<Answer, E>
    where
        F: Future<Output = Result<Answer, E>>,
    {
        if query.len() > MAX_KEY_BYTES {
            return compute.await;
        }
        let cell = self.slot(query, version);
        let answer = cell.get_or_try_init(|| compute).await?.clone();
        if answer.0.len() > MAX_ANSWER_BYTES {
            self.forget(query, &cell);
        }
        Ok(answer)
    }

    /// The fresh slot of `query`, created empty when there is none.
    fn slot(&self, query: &str, version: u64) -> Arc<OnceCell<Answer>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get(query).filter(|slot| slot.fresh(version)) {
            return slot.answer.clone();
        }
        let full = |slots: &HashMap<Box<str>, Slot>| {
            slots.len() >= MAX_ANSWERS
                || slots.values().map(Slot::bytes).sum::<usize>() >= MAX_BYTES
        };
        if full(&slots) {
            slots.retain(|_, slot| slot.fresh(version));
            if full(&slots) {
                slots.clear();
            }
        }
        let answer = Arc::new(OnceCell::new());
        let slot = Slot {
            version,
            created: Instant::now(),
            answer: answer.clone(),
        };
        slots.insert(query.into(), slot);
        answer
    }

    /// Drops the slot of `query` if it is still `cell`.
    fn forget(&self, query: &str, cell: &Arc<OnceCell<Answer>>) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots
            .get(query)
            .is_some_and(|slot| Arc::ptr_eq(&slot.answer, cell))
        {
            slots.remove(query);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn answer(body: &'static [u8]) -> Answer {
        (
            Bytes::from_static(body),
            HeaderValue::from_static("W/\"1\""),
        )
    }

    async fn get(cache: &AnswerCache, query: &str, version: u64, calls: &AtomicUsize) -> Answer {
        cache
            .get_or_compute(query, version, async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(answer(b"{}"))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_answer_is_reused_only_for_its_query_and_index_version() {
        let cache = AnswerCache::default();
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
        let cache = AnswerCache::default();
        let failed = cache
            .get_or_compute("q=x", 1, async { Err::<Answer, _>("index unreadable") })
            .await;
        assert_eq!(failed, Err("index unreadable"));
        let calls = AtomicUsize::new(0);
        get(&cache, "q=x", 1, &calls).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_computation() {
        let cache = Arc::new(AnswerCache::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_compute("near=Lyon", 1, async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, ()>(answer(b"{}"))
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
    async fn the_cache_stays_within_its_bounds() {
        let cache = AnswerCache::default();
        let body = Bytes::from(vec![b' '; MAX_ANSWER_BYTES]);
        for i in 0..(2 * MAX_BYTES / MAX_ANSWER_BYTES) {
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
        assert!(slots.len() <= MAX_ANSWERS);
    }

    #[tokio::test]
    async fn oversized_answers_are_not_kept() {
        let cache = AnswerCache::default();
        let big = Bytes::from(vec![b' '; MAX_ANSWER_BYTES + 1]);
        cache
            .get_or_compute("q=all", 1, async move {
                Ok::<_, ()>((big, HeaderValue::from_static("W/\"1\"")))
            })
            .await
            .unwrap();
        assert!(cache.slots.lock().unwrap().is_empty());
    }
}
