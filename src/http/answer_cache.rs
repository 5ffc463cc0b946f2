//! Recent search answers, kept in memory so that a popular search (the home page's "near
//! Paris", a widget's fixed query) costs a lookup instead of a search.
//!
//! An answer is keyed by the raw query string and is valid only for the index version that
//! produced it, and for a few seconds: searches start "from now", so an answer kept longer
//! could list a session that has just begun. Errors are never kept. The cache holds at most
//! [`MAX_BYTES`] of answers; when full, it drops stale answers, then everything.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderValue;

/// How long an answer stays valid.
const TIME_TO_LIVE: Duration = Duration::from_secs(5);
/// Bytes of answers kept at most; about a thousand first pages.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Answers larger than this are not kept: they are rare and would crowd out the rest.
const MAX_ANSWER_BYTES: usize = 512 * 1024;
/// Longest query string kept; longer ones are not worth a key.
const MAX_KEY_BYTES: usize = 1024;

#[derive(Default)]
pub struct AnswerCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    answers: HashMap<Box<str>, Answer>,
    bytes: usize,
}

struct Answer {
    version: u64,
    stored: Instant,
    body: Bytes,
    tag: HeaderValue,
}

impl AnswerCache {
    /// The answer kept for `query` at index `version`, with its entity tag, if still fresh.
    pub fn get(&self, query: &str, version: u64) -> Option<(Bytes, HeaderValue)> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = inner.answers.get(query)?;
        (answer.version == version && answer.stored.elapsed() < TIME_TO_LIVE)
            .then(|| (answer.body.clone(), answer.tag.clone()))
    }

    /// Keeps `body`, tagged `tag`, as the answer to `query` at index `version`.
    pub fn put(&self, query: &str, version: u64, body: Bytes, tag: HeaderValue) {
        if body.len() > MAX_ANSWER_BYTES || query.len() > MAX_KEY_BYTES {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.bytes + body.len() > MAX_BYTES {
            inner.answers.retain(|_, answer| {
                answer.version == version && answer.stored.elapsed() < TIME_TO_LIVE
            });
            inner.bytes = inner.answers.values().map(|a| a.body.len()).sum();
            if inner.bytes + body.len() > MAX_BYTES {
                inner.answers.clear();
                inner.bytes = 0;
            }
        }
        inner.bytes += body.len();
        let answer = Answer {
            version,
            stored: Instant::now(),
            body,
            tag,
        };
        if let Some(previous) = inner.answers.insert(query.into(), answer) {
            inner.bytes -= previous.body.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag() -> HeaderValue {
        HeaderValue::from_static("W/\"1\"")
    }

    #[test]
    fn an_answer_is_served_only_for_its_index_version() {
        let cache = AnswerCache::default();
        cache.put("near=Lyon", 3, Bytes::from_static(b"{}"), tag());
        let (body, _) = cache.get("near=Lyon", 3).unwrap();
        assert_eq!(&body[..], b"{}");
        assert_eq!(cache.get("near=Lyon", 4), None);
        assert_eq!(cache.get("near=Paris", 3), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = AnswerCache::default();
        let body = Bytes::from(vec![b' '; MAX_ANSWER_BYTES]);
        for i in 0..(2 * MAX_BYTES / MAX_ANSWER_BYTES) {
            cache.put(&format!("q={i}"), 1, body.clone(), tag());
        }
        let inner = cache.inner.lock().unwrap();
        assert!(inner.bytes <= MAX_BYTES);
        assert_eq!(
            inner.bytes,
            inner.answers.values().map(|a| a.body.len()).sum::<usize>()
        );
    }

    #[test]
    fn oversized_answers_are_not_kept() {
        let cache = AnswerCache::default();
        cache.put(
            "q=all",
            1,
            Bytes::from(vec![b' '; MAX_ANSWER_BYTES + 1]),
            tag(),
        );
        assert_eq!(cache.get("q=all", 1), None);
    }
}
