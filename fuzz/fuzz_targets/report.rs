//! The whole `report` pipeline in memory: bytes (sniffed for gzip, zstd and
//! xz like a file) → records → correlation → rules → the JSON, text and
//! markdown reports. (The `events` serialiser is checked by `records`.)
//!
//! Checks that nothing panics, the JSON is valid with the counts it must
//! have, and human output carries no control or bidi character.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::report(data));
