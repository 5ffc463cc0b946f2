//! multifresque aggregates the event feeds of fresque workshop families and serves
//! geographic search over them.
//!
//! The modules follow the data flow, each depending only on those before it:
//! `config` → `scheduler` → `fetch` → `adapter` → `normalize` → `store` → `index` →
//! `search` → `http` → `web`. `event`, `catalog` and `places` are the shared vocabulary.

pub mod adapter;
pub mod app;
pub mod catalog;
pub mod config;
pub mod event;
pub mod fetch;
pub mod http;
pub mod index;
pub mod normalize;
pub mod places;
pub mod scheduler;
pub mod search;
pub mod store;
pub mod web;

pub use catalog::Catalog;
pub use event::{Draft, Event};
pub use places::Gazetteer;
