//! Feeds arbitrary bytes to the JSON-LD adapter (a document or an HTML page with JSON-LD
//! blocks) and normalizes the events it yields.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use multifresque::adapter::Kind;

fuzz_target!(init: common::init(), |bytes: &[u8]| common::ingest(Kind::Jsonld, bytes));
