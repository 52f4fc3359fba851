//! bytes → lines → prefixes → grammars → records → events.
//!
//! Checks that nothing panics, that every record's position stays inside
//! the input and moves forward, that the per-class counts add up to the
//! lines read, that every event serialises to valid JSON, and that the
//! terminal sanitiser never lets a control or bidi character through.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tracesift::event::recognize;
use tracesift::record::{read_input, Record, RecordSink};
use tracesift::report::{ndjson, sanitize};
use tracesift::stats::StatsCollector;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (opts, data) = common::options(data);
    let len = data.len() as u64;
    let mut last: Option<(u64, u64)> = None;
    let mut lines = 0u64;
    let mut st = StatsCollector::default();
    let mut sink = |r: &Record<'_>| {
        st.record(r);
        assert!(r.lines >= 1);
        assert!(r.pos.line >= 1);
        assert!(r.pos.offset <= len, "offset {} past {}", r.pos.offset, len);
        assert!(r.pos.offset < len || len == 0 || r.pos.offset == len);
        if let Some((l, o)) = last {
            assert!(r.pos.line > l && r.pos.offset > o, "records go backwards");
        }
        last = Some((r.pos.line, r.pos.offset));
        lines += r.lines as u64;
        assert!(r.text.len() <= r.original.len() + 3 * opts.line_cap || r.repairs != 0);
        if let Some(e) = recognize(r) {
            assert_eq!(e.pos, r.pos);
            if let Some(j) = ndjson::event_json(&e) {
                let v: serde_json::Value = serde_json::from_slice(&j).expect("event JSON");
                assert_eq!(v["line"].as_u64(), Some(r.pos.line));
            }
        }
        let shown = sanitize::for_terminal(r.original);
        common::assert_terminal_safe("for_terminal", &shown);
        let (_, lossy) = sanitize::for_json(r.original);
        assert_eq!(lossy, std::str::from_utf8(r.original).is_err());
    };
    let (sum, err) = read_input(0, data, &opts, &mut sink);
    assert!(err.is_none());
    assert_eq!(sum.bytes, len);
    assert_eq!(sum.lines, lines, "records must cover every line");
    st.end_input(0);
    assert_eq!(st.total_classes().iter().sum::<u64>(), sum.lines);
});
