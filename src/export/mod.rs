//! Exports: the shapes other programs read multifresque's events in. Each submodule turns
//! normalized [`Event`](crate::event::Event)s into one format and knows nothing of HTTP.
//!
//! - `openfresque`: pages of the OpenFresque feed v1, for other aggregators and replicas.
//! - `tuf`: Trouver une Fresque's record, for its existing front end.
//! - `ics`: an iCalendar file, for calendar subscriptions.
//! - `atom`: an Atom feed, for feed readers.
//! - `filter`: the search filters checked on one event, for events the index does not hold.

pub mod atom;
pub mod filter;
pub mod ics;
pub mod openfresque;
pub mod tuf;
