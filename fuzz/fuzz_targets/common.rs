//! The fuzz targets' bodies, shared with the normal test suite.
//!
//! Each target (`records.rs`, `report.rs`, `timeline.rs`) is one call to the
//! function of its name here, and `tests/integration/fuzz_corpus.rs`
//! includes this file too and replays seeds (the fixtures, the committed
//! regression inputs under `fuzz/regressions/`) through the same
//! functions: a change of API breaks the test suite, not only the fuzz
//! crate that CI does not build.

#![allow(dead_code)]

use std::io::Cursor;

use tracesift::correlate::Analysis;
use tracesift::event::Recognizer;
use tracesift::input::source::{read_error, wrap};
use tracesift::input::LineReader;
use tracesift::output::sanitize;
use tracesift::output::Style;
use tracesift::reader::driver::InputResult;
use tracesift::reader::{read_input, ReadOptions, ReadSummary, RecordSink};
use tracesift::record::Record;
use tracesift::repair::kinds;
use tracesift::stats::StatsCollector;
use tracesift::timeline::{self, render};
use tracesift::units::parse_addr;
use tracesift::{events, report, rules};

/// Reading options drawn from the first input byte, so one target covers the
/// default path and tiny read blocks / line caps (buffer-edge code); with
/// the top two bits set, the parallel reader with tiny batches on top.
pub fn options(data: &[u8]) -> (ReadOptions, &[u8]) {
    let Some((&k, rest)) = data.split_first() else {
        return (ReadOptions::default(), data);
    };
    let mut opts = match k % 4 {
        0 => ReadOptions::default(),
        1 => ReadOptions {
            read_size: 1 + (k as usize >> 2) % 7,
            ..ReadOptions::default()
        },
        2 => ReadOptions {
            line_cap: 1 + (k as usize >> 2) % 64,
            read_size: 1 + (k as usize >> 4) % 13,
            ..ReadOptions::default()
        },
        _ => ReadOptions {
            line_cap: 200,
            read_size: 4096,
            ..ReadOptions::default()
        },
    };
    if k >= 0xc0 {
        opts.threads = 2;
        opts.parallel_after = 0;
        opts.batch_records = 1 + (k as usize >> 2) % 5;
    }
    (opts, rest)
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Human output must never pass a control or bidi character through
/// (newlines excepted, they end output lines).
pub fn assert_terminal_safe(what: &str, s: &str) {
    for c in s.chars() {
        assert!(
            c == '\n' || (!c.is_control() && !is_bidi(c)),
            "{what}: unescaped {c:?} in output:\n{s}"
        );
    }
}

/// `records`: bytes → lines → repair → prefixes → grammars → records →
/// events and their NDJSON; the `stats` sink.
///
/// Checks that nothing panics; that positions stay inside the input and
/// never go backwards (the records split off one physical line share its
/// position, and only the first of them counts the line, unless a later
/// piece was joined to the next line, which it then counts); that the
/// records cover every line read and the per-class counts add up to them;
/// that every event serialises to valid JSON with its line; and that the
/// terminal sanitiser never lets a control or bidi character through.
pub fn records(data: &[u8]) {
    let (opts, data) = options(data);
    let len = data.len() as u64;
    let recognizer = Recognizer::builtin();
    let mut last: Option<(u64, u64)> = None;
    let mut lines = 0u64;
    let mut st = StatsCollector::default();
    let mut sink = |r: &Record<'_>| {
        let _ = st.record(r, None);
        assert!(r.pos.line >= 1);
        assert!(r.pos.offset <= len, "offset {} past {}", r.pos.offset, len);
        if let Some((l, o)) = last {
            if r.lines == 0 || (r.pos.line, r.pos.offset) == (l, o) {
                // A record split off the line of the one before it (it
                // counts a line when it was joined to the next one).
                assert!(r.repairs & kinds::SPLIT != 0, "a record of no line");
                assert_eq!((r.pos.line, r.pos.offset), (l, o), "split records move");
            } else {
                assert!(
                    r.pos.line > l && r.pos.offset > o,
                    "records go backwards: line {} offset {} after line {l} offset {o}",
                    r.pos.line,
                    r.pos.offset
                );
            }
        } else {
            assert!(r.lines >= 1, "the first record counts its line");
        }
        last = Some((r.pos.line, r.pos.offset));
        lines += u64::from(r.lines);
        assert!(r.text.len() <= r.original.len() + 3 * opts.line_cap || r.repairs != 0);
        if let Some(e) = recognizer.recognize(r) {
            assert_eq!(e.pos, r.pos);
            if let Some(j) = events::event_json(&e) {
                let v: serde_json::Value = serde_json::from_slice(&j).expect("event JSON");
                assert_eq!(v["line"].as_u64(), Some(r.pos.line));
            }
        }
        let shown = sanitize::for_terminal(r.original);
        assert_terminal_safe("for_terminal", &shown);
        let (_, lossy) = sanitize::for_json(r.original);
        assert_eq!(lossy, std::str::from_utf8(r.original).is_err());
    };
    let (sum, err) = read_input(0, data, &opts, &mut sink);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(sum.bytes, len);
    assert_eq!(sum.lines, lines, "records must cover every line");
    let _ = st.end_input(0);
    assert_eq!(st.total_classes().iter().sum::<u64>(), sum.lines);
}

/// `report`: bytes sniffed like a file (gzip, zstd and xz decoders on
/// arbitrary data) → records → correlation (a live-eb bound of 16 half of
/// the time, so eviction runs) → rules → the JSON, text and markdown
/// reports.
///
/// Checks that nothing panics, the JSON is valid with the counts it must
/// have, human output carries no control or bidi character and the
/// markdown stays within 72 columns.
pub fn report(data: &[u8]) {
    let (opts, data) = options(data);
    let max_live = if data.first().is_some_and(|b| b & 1 == 1) {
        16
    } else {
        100_000
    };
    let Ok(opened) = wrap("fuzz".into(), Box::new(Cursor::new(data.to_vec()))) else {
        return;
    };
    let mut an = Analysis::new(max_live);
    let (summary, err) = read_input(0, opened.reader, &opts, &mut an);
    let _ = an.end_input(0);
    let results = vec![InputResult {
        name: "fuzz\u{202e}\x1b[31m".into(),
        compression: opened.compression,
        summary: ReadSummary {
            lines: summary.lines,
            bytes: summary.bytes,
        },
        error: err.map(|e| read_error("fuzz", opened.compression, summary.bytes, e)),
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
    assert_terminal_safe("report text", &text);

    let mut md = Vec::new();
    report::markdown::write(&mut md, &an, &findings, &results).expect("markdown");
    let md = String::from_utf8(md).expect("markdown is UTF-8");
    assert_terminal_safe("report markdown", &md);
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
}

/// `timeline`: the first line is an address for `parse_addr` (and, when it
/// parses, a target); numbers after `eb=` in the rest are targets too (at
/// most 4). The rest goes through `timeline::run_bytes` (the block
/// prefilter, block size 1–300 bytes so block edges are everywhere) → the
/// timeline's text and JSON.
///
/// Checks that nothing panics, that a parsed address round-trips through
/// its decimal and hex spellings, that the timeline counts the same lines
/// as `LineReader`, that the text is terminal-safe and the JSON valid.
pub fn timeline(data: &[u8]) {
    let (opts, data) = options(data);
    let (first, rest) = match memchr::memchr(b'\n', data) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    let mut targets = Vec::new();
    if let Ok(s) = std::str::from_utf8(first) {
        if let Ok(v) = parse_addr(s) {
            assert_eq!(parse_addr(&v.to_string()), Ok(v));
            assert_eq!(parse_addr(&format!("{v:#x}")), Ok(v));
            assert_eq!(parse_addr(&format!("0X{v:X}")), Ok(v));
            targets.push(v);
        }
    }
    for p in memchr::memmem::find_iter(rest, b"eb=") {
        let s = p + 3;
        let n = rest[s..].iter().take_while(|c| c.is_ascii_digit()).count();
        let v = std::str::from_utf8(&rest[s..s + n])
            .ok()
            .and_then(|d| d.parse::<u64>().ok());
        if let Some(v) = v {
            if !targets.contains(&v) && targets.len() < 4 {
                targets.push(v);
            }
        }
    }
    if targets.is_empty() {
        targets.push(15302115328);
    }
    let block = 1 + first.len() % 300;
    let (tl, outcome) = timeline::run_bytes(&[rest], &targets, &opts, block);
    let results = &outcome.inputs[..];

    let mut lr = LineReader::with_limits(rest, opts.line_cap, 4096);
    let mut n = 0u64;
    while let Ok(Some(_)) = lr.next_line() {
        n += 1;
    }
    assert_eq!(
        tl.lines,
        vec![n],
        "timeline and line reader disagree on lines"
    );
    assert_eq!(results[0].summary.lines, n);
    assert_eq!(tl.ebs.len(), targets.len());

    let mut text = Vec::new();
    render::write_text(&mut text, &tl, results, &Style::default()).expect("text");
    let text = String::from_utf8(text).expect("timeline text is UTF-8");
    assert_terminal_safe("timeline text", &text);
    let mut json = Vec::new();
    render::write_json(&mut json, &tl, results).expect("json");
    serde_json::from_slice::<serde_json::Value>(&json).expect("valid timeline JSON");
}
