//! bytes → lines → prefixes → grammars → records → events.
//!
//! Checks that nothing panics, that every record's position stays inside
//! the input and moves forward, that the per-class counts add up to the
//! lines read, that every event serialises to valid JSON, and that the
//! terminal sanitiser never lets a control or bidi character through.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::records(data));
