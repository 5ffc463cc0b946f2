//! The tantivy search index, derived from the store.
