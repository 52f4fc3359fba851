//! `timeline`: address parsing, and the block-prefiltered timeline pipeline
//! over the input with small block sizes and line caps.
//!
//! The first line of the input is an address for `parse_addr` (and, when it
//! parses, a target); numbers after `eb=` in the rest are targets too.
//! Checks that nothing panics, that a parsed address round-trips, that the
//! line count agrees with the line reader, and that the text output is
//! terminal-safe and the JSON valid.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::timeline(data));
