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
use tracesift::input::LineReader;
use tracesift::report::{self, Style};
use tracesift::timeline::{parse_addr, run_bytes};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (opts, data) = common::options(data);
    let (first, rest) = match memchr_nl(data) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    let mut targets = Vec::new();
    if let Ok(s) = std::str::from_utf8(first) {
        if let Ok(v) = parse_addr(s) {
            // Round trip through both spellings.
            assert_eq!(parse_addr(&v.to_string()), Ok(v));
            assert_eq!(parse_addr(&format!("{v:#x}")), Ok(v));
            assert_eq!(parse_addr(&format!("0X{v:X}")), Ok(v));
            targets.push(v);
        }
    }
    let mut at = 0;
    while let Some(p) = find(&rest[at..], b"eb=") {
        let s = at + p + 3;
        let n = rest[s..].iter().take_while(|c| c.is_ascii_digit()).count();
        if let Ok(v) = std::str::from_utf8(&rest[s..s + n])
            .unwrap_or("")
            .parse::<u64>()
        {
            if !targets.contains(&v) && targets.len() < 4 {
                targets.push(v);
            }
        }
        at = s;
    }
    if targets.is_empty() {
        targets.push(15302115328);
    }
    let block = 1 + first.len() % 300;
    let (tl, results) = run_bytes(&[rest], &targets, &opts, block);

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

    let mut text = Vec::new();
    report::timeline::write_text(&mut text, &tl, &results, &Style::default()).expect("text");
    let text = String::from_utf8(text).expect("timeline text is UTF-8");
    common::assert_terminal_safe("timeline text", &text);
    let mut json = Vec::new();
    report::timeline::write_json(&mut json, &tl, &results).expect("json");
    serde_json::from_slice::<serde_json::Value>(&json).expect("valid timeline JSON");
});

fn memchr_nl(d: &[u8]) -> Option<usize> {
    d.iter().position(|&b| b == b'\n')
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}
