//! multifresque aggregates the event feeds of fresque workshop families and serves
//! geographic search over them.
//!
//! The modules follow the data flow, each depending only on those before it:
//! `config` → `scheduler` → `fetch` → `adapter` → `normalize` → `store` → `index` →
//! `search` → `http` → `web`. `event`, `catalog` and `places` are the shared vocabulary;
//! `export` writes events in other formats, `metrics` counts what happens, and `validate`
//! checks a workshop family's feed for the `feed validate` command.

pub mod adapter;
pub mod app;
pub mod bench;
pub mod catalog;
pub mod config;
pub mod dedup;
pub mod event;
pub mod export;
pub mod fetch;
pub mod geocode;
pub mod http;
pub mod index;
pub mod language;
pub mod metrics;
pub mod normalize;
pub mod places;
pub mod quality;
pub mod scheduler;
pub mod search;
pub mod store;
pub mod validate;
pub mod web;

pub use catalog::Catalog;
pub use event::{Draft, Event};
pub use places::Gazetteer;
