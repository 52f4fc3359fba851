//! `report --json`: one JSON document for bug trackers.
//!
//! # Schema (`schema_version` 1)
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "tool": {"name": "tracesift", "version": "0.1.0"},
//!   "inputs": [{"path": "typescript-2.txt", "lines": 8646, "bytes": 851124,
//!               "compression": "none", "error": null}],
//!   "summary": {
//!     "lines": 8646,                 // physical lines over all inputs
//!     "events": 3718,                // recognised events (what `events` streams)
//!     "findings": {"error": 3, "warning": 39, "info": 48},
//!     "lifetimes": {"ebs": 1611, "lifetimes": 1590, "reallocations": 0, "insert_races": 120,
//!                   "contending_allocs": 275, "discards": 272, "orphan_discards": 7,
//!                   "clones": 0, "clone_releases": 0, "final_releases": 0,
//!                   "ambiguous_releases": 7, "missed_releases": 0, "reads": 1222,
//!                   "reads_without_alloc": 38, "duplicate_reads": 0, "evicted": 0},
//!     "largest_insert_race": {"eb": 14545043456, "allocs": 5, "span_ns": 9000,
//!                             "input": 0, "line": 4120}         // or null
//!   },
//!   "findings": [{
//!     "rule": "duplicate-read-completion",       // stable ids, spec §5
//!     "severity": "error",                       // error | warning | info
//!     "confidence": "certain",                   // certain | likely | unverifiable
//!     "eb": 15302115328,                         // exact unsigned integer; omitted when not about one eb
//!     "message": "2 read completions for one allocation of eb 15302115328 (CPU 15, CPU 31, 206 us apart)",
//!     "count": 2,                                // occurrences (reads, repeated messages, markers)
//!     "title": "...",                            // kernel-splat only
//!     "cpu": 18,                                 // lost-events only
//!     "fix": {"commit": "ef1e68236b91...", "title": "...", "release": "v6.9",
//!             "affected": [">=6.5 <6.6.24", ...], "cve": "CVE-2024-35798"},   // race-signature only
//!     "evidence": [{
//!       "input": 0,                              // index into "inputs"
//!       "line": 2,                               // 1-based physical line (first line of a repaired record)
//!       "lines": 3,                              // physical lines, when more than one
//!       "role": "alloc",                         // alloc, read-done, release, tree-check, validation, splat, ...
//!       "text": "[ 2740.240046] iou-wrk--173727 ...",   // the original line(s)
//!       "lossy": true,                           // present when the text was not UTF-8 (U+FFFD replacements)
//!       "cpu": 15, "pid": 173727, "comm": "iou-wrk-",
//!       "trace_ts_ns": 2649295481000,            // trace clock (dumps: µs since buffer reset, as ns)
//!       "trace_ts_counter": 123,                 // instead, for counter clocks
//!       "console_ts_ns": 2740240046000           // printk time
//!     }]
//!   }],
//!   "splats": [{"kind": "BUG", "title": "kernel BUG in btrfs_check_eb_owner",
//!               "input": 0, "line": 1182, "location": "fs/btrfs/tree-checker.c:2070",
//!               "die": 1, "panicked": false}],
//!   "coverage": {"cpus": [{"input": 0, "cpu": 18, "events": 60, "lost_events": 468484,
//!                          "lost_markers": 1, "lost_unknown": false,
//!                          "first_trace_ts_ns": 680442771000, "last_trace_ts_ns": 680630041000}],
//!                "dumps": [{"input": 0, "line": 3044, "end_line": 8520, "events": 3638,
//!                           "empty": false, "lost_markers": 48, "instance": null}]}
//! }
//! ```
//!
//! Findings are sorted by severity, then input, then line. eb values are
//! exact JSON integers (they may exceed 2^53; parse them as 64-bit).
//!
//! ## Text that is not UTF-8, and control characters
//!
//! Captures are bytes, and any text field that comes from them (`text`,
//! `comm`, `message`, `title`, `path`, `error`) may have held invalid UTF-8.
//! Every such field is still a JSON string: the bytes are decoded as UTF-8
//! and each invalid sequence is replaced by U+FFFD (the original bytes
//! cannot be recovered from the document; `input` and `line` point back to
//! them). An evidence line whose `text` needed a replacement carries
//! `"lossy": true`; shorter fields (`comm`, paths) are replaced without a
//! flag. ANSI escape sequences, NUL bytes and carriage returns were already
//! removed when the line was read (see `stats`, `cleaned`), so `text` is
//! the line as a console showed it. Other control characters are escaped
//! by the JSON encoding (`\u0007`); bidirectional-override characters
//! (U+202E, U+2066..U+2069, ...) are valid JSON and are kept as they are, so
//! a consumer that prints JSON strings to a terminal must escape them.
//! The same holds for `timeline --json`, `stats --json` and `events`.
//! Adding fields or enum values is not a schema break; removing or renaming
//! one bumps `schema_version`.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::correlate::ebs::LifetimeStats;
use crate::correlate::evidence::Evidence;
use crate::correlate::Analysis;
use crate::driver::InputResult;
use crate::grammar::TraceTs;
use crate::report::sanitize;
use crate::report::stats::{cpu_docs, dump_docs, CpuDoc, DumpDoc};
use crate::report::{Tool, SCHEMA_VERSION};
use crate::rules::{Confidence, Counts, Finding, Fix, RuleId, Severity};

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    tool: Tool,
    inputs: Vec<InputDoc<'a>>,
    summary: Summary<'a>,
    findings: Vec<FindingDoc<'a>>,
    splats: Vec<SplatDoc<'a>>,
    coverage: CoverageDoc<'a>,
}

#[derive(Serialize)]
struct InputDoc<'a> {
    path: &'a str,
    lines: u64,
    bytes: u64,
    compression: &'static str,
    error: Option<String>,
}

#[derive(Serialize)]
struct Summary<'a> {
    lines: u64,
    events: u64,
    findings: Counts,
    lifetimes: &'a LifetimeStats,
    largest_insert_race: Option<RaceDoc>,
}

#[derive(Serialize)]
struct RaceDoc {
    eb: u64,
    allocs: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_ns: Option<u64>,
    input: u32,
    line: u64,
}

/// A finding as serialised (also used by `timeline --json`).
#[derive(Serialize)]
pub(crate) struct FindingDoc<'a> {
    rule: RuleId,
    severity: Severity,
    confidence: Confidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    eb: Option<u64>,
    message: &'a str,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a Fix>,
    evidence: Vec<EvidenceDoc<'a>>,
}

/// One evidence line as serialised.
#[derive(Serialize)]
pub(crate) struct EvidenceDoc<'a> {
    input: u32,
    line: u64,
    #[serde(skip_serializing_if = "is_one")]
    lines: u32,
    role: &'static str,
    text: Cow<'a, str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    lossy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_ts_counter: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    console_ts_ns: Option<u64>,
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

#[derive(Serialize)]
struct SplatDoc<'a> {
    kind: &'static str,
    title: &'a str,
    input: u32,
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    die: Option<u32>,
    panicked: bool,
}

#[derive(Serialize)]
struct CoverageDoc<'a> {
    cpus: Vec<CpuDoc>,
    dumps: Vec<DumpDoc<'a>>,
}

/// Serialise one evidence line.
pub(crate) fn evidence_doc(e: &Evidence) -> EvidenceDoc<'_> {
    let (text, lossy) = sanitize::for_json(&e.text);
    let (ns, counter) = match e.trace_ts {
        Some(TraceTs::Counter(c)) => (None, Some(c)),
        Some(t) => (t.ns(), None),
        None => (None, None),
    };
    EvidenceDoc {
        input: e.pos.input,
        line: e.pos.line,
        lines: e.lines,
        role: e.role,
        text,
        lossy,
        cpu: e.cpu,
        pid: e.pid,
        comm: (!e.comm.is_empty()).then(|| String::from_utf8_lossy(e.comm.as_bytes())),
        trace_ts_ns: ns,
        trace_ts_counter: counter,
        console_ts_ns: e.console_ns,
    }
}

/// Serialise one finding.
pub(crate) fn finding_doc(f: &Finding) -> FindingDoc<'_> {
    FindingDoc {
        rule: f.rule,
        severity: f.severity,
        confidence: f.confidence,
        eb: f.eb,
        message: &f.message,
        count: f.count,
        title: f.title.as_deref(),
        cpu: f.cpu,
        fix: f.fix.as_ref(),
        evidence: f.evidence.iter().map(evidence_doc).collect(),
    }
}

/// Write the report document.
pub fn write(
    w: &mut dyn Write,
    an: &Analysis,
    findings: &[Finding],
    results: &[InputResult],
) -> io::Result<()> {
    let inputs = results
        .iter()
        .enumerate()
        .map(|(i, r)| InputDoc {
            path: &r.name,
            lines: an.lines.get(i).copied().unwrap_or(0),
            bytes: r.summary.bytes,
            compression: r.compression.name(),
            error: r.error.as_ref().map(|e| e.to_string()),
        })
        .collect();
    let race = an.ebs.largest_race.as_ref().map(|r| RaceDoc {
        eb: r.eb,
        allocs: r.allocs,
        span_ns: match r.first.trace_ts {
            Some(TraceTs::Counter(_)) | None => None,
            Some(_) => Some(r.span),
        },
        input: r.first.pos.input,
        line: r.first.pos.line,
    });
    let doc = Doc {
        schema_version: SCHEMA_VERSION,
        tool: Tool::current(),
        inputs,
        summary: Summary {
            lines: an.lines.iter().sum(),
            events: an.events,
            findings: Counts::of(findings),
            lifetimes: &an.ebs.stats,
            largest_insert_race: race,
        },
        findings: findings.iter().map(finding_doc).collect(),
        splats: an
            .splats
            .splats
            .iter()
            .map(|s| SplatDoc {
                kind: s.kind.name(),
                title: &s.title,
                input: s.evidence.pos.input,
                line: s.evidence.pos.line,
                location: s.location.as_deref(),
                die: s.die,
                panicked: s.panicked,
            })
            .collect(),
        coverage: CoverageDoc {
            cpus: cpu_docs(&an.coverage),
            dumps: dump_docs(&an.coverage),
        },
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}
