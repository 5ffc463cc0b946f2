//! The tantivy search index, derived from the store. (Placeholder until the index lands.)

use std::path::Path;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::event::Event;
use crate::search::{SearchQuery, SearchResults};

#[derive(Debug, thiserror::Error)]
#[error("index: {0}")]
pub struct IndexError(String);

pub enum OpenState {
    Ready,
    Created { reason: String },
}

pub struct Index;

impl Index {
    pub fn open(_dir: &Path, _catalog: Arc<Catalog>) -> Result<(Index, OpenState), IndexError> {
        Ok((Index, OpenState::Ready))
    }
    pub fn generation(&self) -> Option<u64> {
        None
    }
    pub fn replace_source(
        &self,
        _source_id: &str,
        _events: &[Event],
        _generation: u64,
    ) -> Result<(), IndexError> {
        Ok(())
    }
    pub fn rebuild(
        &self,
        _events: impl IntoIterator<Item = Event>,
        _generation: u64,
    ) -> Result<usize, IndexError> {
        Ok(0)
    }
    pub fn search(&self, _query: &SearchQuery) -> Result<SearchResults, IndexError> {
        Err(IndexError("not built".into()))
    }
    pub fn num_docs(&self) -> u64 {
        0
    }
}
