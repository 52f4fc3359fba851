//! The whole `report` pipeline in memory: bytes (sniffed for gzip, zstd and
//! xz like a file) → records → correlation → rules → the JSON, text and
//! markdown reports. (The `events` serialiser is checked by `records`.)
//!
//! Checks that nothing panics, the JSON is valid with the counts it must
//! have, and human output carries no control or bidi character.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use tracesift::correlate::Analysis;
use tracesift::driver::InputResult;
use tracesift::input::source::wrap;
use tracesift::record::{read_input, ReadSummary, RecordSink};
use tracesift::report::{self, Style};
use tracesift::rules;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (opts, data) = common::options(data);
    // A small live-eb bound so that eviction runs too.
    let max_live = if data.first().is_some_and(|b| b & 1 == 1) {
        16
    } else {
        100_000
    };
    let opened = match wrap("fuzz".into(), Box::new(Cursor::new(data.to_vec()))) {
        Ok(o) => o,
        Err(_) => return,
    };
    let mut an = Analysis::new(max_live);
    let (summary, err) = read_input(0, opened.reader, &opts, &mut an);
    an.end_input(0);
    let results = vec![InputResult {
        name: "fuzz\u{202e}\x1b[31m".into(),
        compression: opened.compression,
        summary: ReadSummary {
            lines: summary.lines,
            bytes: summary.bytes,
        },
        error: err.map(|e| {
            tracesift::input::source::read_error("fuzz", opened.compression, summary.bytes, e)
        }),
    }];
    an.finish();
    let findings = rules::evaluate(&an);

    let mut json = Vec::new();
    report::json::write(&mut json, &an, &findings, &results).expect("write JSON");
    let v: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
    assert_eq!(v["summary"]["lines"].as_u64(), Some(summary.lines));
    assert_eq!(
        v["findings"].as_array().map(|a| a.len()),
        Some(findings.len())
    );

    let mut text = Vec::new();
    report::text::write(&mut text, &an, &findings, &results, &Style::default()).expect("text");
    let text = String::from_utf8(text).expect("text report is UTF-8");
    common::assert_terminal_safe("report text", &text);

    let mut md = Vec::new();
    report::markdown::write(&mut md, &an, &findings, &results).expect("markdown");
    let md = String::from_utf8(md).expect("markdown is UTF-8");
    common::assert_terminal_safe("report markdown", &md);
    // Over 72 columns only when the line, after its indent and a list
    // bullet, is one token (a word is never cut).
    for l in md.lines() {
        let body = l.trim_start_matches(' ');
        let body = body.strip_prefix("- ").unwrap_or(body);
        assert!(
            l.chars().count() <= 72 || !body.contains(' '),
            "markdown line over 72 columns: {l:?}"
        );
    }
});
