//! Schema guard: the JSON documents deserialize into mirror structs that
//! deny unknown fields, so any added, removed or renamed field fails here
//! until this test, the rustdoc schema and the man page catch up.

#![allow(dead_code)]

use serde::Deserialize;

use crate::util::{fixture, report_json, stats_json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tool {
    name: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    schema_version: u32,
    tool: Tool,
    inputs: Vec<ReportInput>,
    summary: Summary,
    findings: Vec<Finding>,
    splats: Vec<Splat>,
    coverage: Coverage,
    boots: Vec<Boot>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Boot {
    index: u32,
    start: String,
    first: Place,
    last: Place,
    release: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Place {
    input: u32,
    line: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportInput {
    path: String,
    lines: u64,
    bytes: u64,
    compression: String,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    lines: u64,
    events: u64,
    findings: Counts,
    lifetimes: Lifetimes,
    largest_insert_race: Option<Race>,
    reports: ReportsBounds,
    not_kept: std::collections::BTreeMap<String, u64>,
    splats_not_listed: u64,
    boots_not_listed: u64,
    cpus_not_listed: u64,
    dumps_not_listed: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportsBounds {
    groups: u64,
    max_groups: u64,
    first_kept: u32,
    evidence_budget_bytes: u64,
    evidence_omitted: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Counts {
    error: u64,
    warning: u64,
    info: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lifetimes {
    ebs: u64,
    lifetimes: u64,
    reallocations: u64,
    insert_races: u64,
    contending_allocs: u64,
    discards: u64,
    orphan_discards: u64,
    clones: u64,
    clone_releases: u64,
    final_releases: u64,
    ambiguous_releases: u64,
    missed_releases: u64,
    reads: u64,
    reads_without_alloc: u64,
    duplicate_reads: u64,
    evicted: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Race {
    eb: u64,
    allocs: u32,
    span_ns: Option<u64>,
    input: u32,
    line: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Finding {
    rule: String,
    severity: String,
    confidence: String,
    eb: Option<u64>,
    subject: Option<Subject>,
    message: String,
    count: u64,
    title: Option<String>,
    cpu: Option<u32>,
    fix: Option<Fix>,
    value: Option<Value>,
    candidate: Option<Candidate>,
    device: Option<String>,
    phase: Option<String>,
    mirrors: Option<Vec<u32>>,
    every_mirror: Option<bool>,
    boots: Option<Vec<u32>>,
    first: Option<Occurrence>,
    last: Option<Occurrence>,
    evidence_omitted: Option<u64>,
    not_kept: Option<u64>,
    kernel: Option<Kernel>,
    evidence: Vec<Evidence>,
}

/// The declared key and value a finding of a declared rule is about.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Subject {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Candidate {
    eb: u64,
    confidence: String,
    pid: u32,
    comm: String,
    splat: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Value {
    field: String,
    found: u64,
    expected: Option<u64>,
    bit: Option<u32>,
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Occurrence {
    input: u32,
    line: u64,
    console_ts_ns: Option<u64>,
    trace_ts_ns: Option<u64>,
    trace_ts_counter: Option<u64>,
    wall_s: Option<u64>,
    boot: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Kernel {
    release: String,
    standing: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fix {
    commit: String,
    title: String,
    release: String,
    affected: Vec<String>,
    cve: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Evidence {
    input: u32,
    line: u64,
    lines: Option<u32>,
    role: String,
    text: String,
    lossy: Option<bool>,
    cpu: Option<u32>,
    pid: Option<u32>,
    comm: Option<String>,
    trace_ts_ns: Option<u64>,
    trace_ts_counter: Option<u64>,
    console_ts_ns: Option<u64>,
    boot: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Splat {
    kind: String,
    #[serde(rename = "type")]
    report: String,
    title: String,
    frame: Option<String>,
    corrupted: bool,
    input: u32,
    line: u64,
    location: Option<String>,
    die: Option<u32>,
    panicked: bool,
    boot: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Coverage {
    cpus: Vec<Cpu>,
    dumps: Vec<Dump>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cpu {
    boot: u32,
    input: u32,
    cpu: u32,
    events: u64,
    lost_events: u64,
    lost_markers: u32,
    lost_unknown: bool,
    first_trace_ts_ns: Option<u64>,
    last_trace_ts_ns: Option<u64>,
    first_trace_ts_counter: Option<u64>,
    last_trace_ts_counter: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dump {
    index: u64,
    boot: u32,
    input: u32,
    line: u64,
    end_line: Option<u64>,
    events: u64,
    empty: bool,
    lost_markers: u32,
    instance: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stats {
    schema_version: u32,
    tool: Tool,
    lines: u64,
    bytes: u64,
    classes: std::collections::BTreeMap<String, u64>,
    formats: std::collections::BTreeMap<String, u64>,
    inputs: Vec<StatsInput>,
    cpus: Vec<Cpu>,
    cpus_not_listed: u64,
    dumps: Vec<Dump>,
    dumps_not_listed: u64,
    unrecognized_samples: Vec<Sample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsInput {
    path: String,
    lines: u64,
    bytes: u64,
    compression: String,
    classes: std::collections::BTreeMap<String, u64>,
    formats: std::collections::BTreeMap<String, u64>,
    cleaned: Cleaned,
    repaired: Repaired,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cleaned {
    crlf: u64,
    ansi: u64,
    nul: u64,
    lone_cr: u64,
    invalid_utf8: u64,
    truncated: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repaired {
    records: std::collections::BTreeMap<String, u64>,
    lines: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    input: u32,
    line: u64,
    text: String,
    lossy: Option<bool>,
}

fn all_fixtures() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(fixture("cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    v.push(fixture("thread-excerpt.txt"));
    v.extend(
        std::fs::read_dir(fixture("keys"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt")),
    );
    v.sort();
    v
}

#[test]
fn report_documents_match_schema_1() {
    let packs = tracesift::spec::Rules::with_packs(&[], true).unwrap();
    let declared: Vec<String> = tracesift::rules::lifecycle::declared_rules(&packs)
        .iter()
        .map(|r| r.id().to_string())
        .collect();
    for f in all_fixtures() {
        let (v, _) = report_json(&[&f]);
        let r: Report =
            serde_json::from_value(v).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(r.schema_version, 1);
        assert_eq!(r.tool.name, "tracesift");
        for f in &r.findings {
            if let Some(k) = &f.kernel {
                assert!(!k.release.is_empty());
                assert!(["predates", "affected", "fixed", "unknown"].contains(&k.standing.as_str()));
            }
            assert!(["error", "warning", "info"].contains(&f.severity.as_str()));
            assert!(["certain", "likely", "unverifiable"].contains(&f.confidence.as_str()));
            match &f.subject {
                // A declared rule: namespaced, from a pack.
                Some(s) => {
                    assert!(declared.contains(&f.rule), "unknown rule {}", f.rule);
                    assert!(!s.key.is_empty() && !s.value.is_empty());
                    assert!(f.eb.is_none());
                }
                None => assert!(
                    tracesift::rules::RuleId::from_id(&f.rule).is_some(),
                    "unknown rule {}",
                    f.rule
                ),
            }
        }
        for (rule, n) in &r.summary.not_kept {
            assert!(tracesift::rules::RuleId::from_id(rule).is_some(), "{rule}");
            assert!(*n > 0);
        }
        let sum = r.summary.findings.error + r.summary.findings.warning + r.summary.findings.info;
        assert_eq!(sum as usize, r.findings.len());
        // Boots are numbered in order and cover the inputs from the first line on.
        assert!(
            !r.boots.is_empty() || r.summary.lines == 0,
            "{}",
            f.display()
        );
        for (i, b) in r.boots.iter().enumerate() {
            assert_eq!(b.index as usize, i);
            assert!(
                ["start", "banner", "clock-reset", "dump-after-reboot"].contains(&b.start.as_str())
            );
            assert!((b.first.input, b.first.line) <= (b.last.input, b.last.line));
            assert!(b.release.as_deref().is_none_or(|r| !r.is_empty()));
        }
        for e in r.findings.iter().flat_map(|f| &f.evidence) {
            assert!((e.boot as usize) < r.boots.len());
        }
        for f in &r.findings {
            assert!(f
                .phase
                .as_deref()
                .is_none_or(|p| ["read", "write"].contains(&p)));
            // A finding with occurrences has both ends and its boots.
            assert_eq!(f.first.is_some(), f.last.is_some());
            assert_eq!(f.first.is_some(), f.boots.is_some());
            if let (Some(a), Some(b)) = (&f.first, &f.last) {
                assert!((a.input, a.line) <= (b.input, b.line));
            }
            if let Some(c) = &f.candidate {
                assert_eq!(f.rule, "tree-check-failure");
                assert!(f.eb.is_none(), "a candidate stands in for a missing eb");
                assert_eq!(c.confidence, "likely");
                assert!(c.pid > 0 && c.eb > 0 && !c.comm.is_empty() && !c.splat.is_empty());
            }
            if f.every_mirror == Some(true) {
                assert!(f.mirrors.as_ref().is_some_and(|m| m.len() >= 2));
            }
        }
        assert!(r.summary.reports.groups <= 2 * r.summary.reports.max_groups);
        for s in &r.splats {
            assert!(
                tracesift::correlate::splat::ReportType::ALL
                    .iter()
                    .any(|t| t.name() == s.report),
                "unknown splat type {}",
                s.report
            );
            if let Some(frame) = &s.frame {
                assert!(s.title.ends_with(&format!(" in {frame}")), "{}", s.title);
            }
        }
    }
}

#[test]
fn every_splat_type_is_documented() {
    let doc = std::fs::read_to_string(crate::util::root().join("doc/schema/report.md"))
        .expect("doc/schema/report.md");
    for t in tracesift::correlate::splat::ReportType::ALL {
        assert!(
            doc.contains(t.name()),
            "{} missing from report.md",
            t.name()
        );
    }
}

#[test]
fn stats_documents_match_schema_1() {
    for f in all_fixtures() {
        let (v, _) = stats_json(&[&f]);
        let s: Stats = serde_json::from_value(v).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(s.schema_version, 1);
        assert_eq!(s.classes.values().sum::<u64>(), s.lines);
        for c in [
            "ftrace_event",
            "framing",
            "header",
            "kernel_message",
            "blank",
            "unrecognized",
        ] {
            assert!(s.classes.contains_key(c), "missing class {c}");
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyTimeline {
    targets: Vec<Subject>,
    entries: Vec<serde_json::Value>,
    not_shown: Option<NotShown>,
    findings: Vec<Finding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotShown {
    lines: u64,
    before: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimelineDoc {
    schema_version: u32,
    tool: Tool,
    inputs: Vec<ReportInput>,
    ebs: Vec<serde_json::Value>,
    keys: Option<Vec<KeyTimeline>>,
}

#[test]
fn timeline_key_documents_match_schema_1() {
    let (out, _, code) = crate::util::run(
        &["timeline", "--json", "--key", "daddr=0x851c80"],
        &[&fixture("keys/chinner-daddr.txt")],
    );
    assert_eq!(code, 0);
    let t: TimelineDoc = serde_json::from_str(&out).unwrap();
    assert_eq!(t.schema_version, 1);
    let keys = t.keys.expect("keys");
    assert_eq!(keys[0].targets[0].key, "daddr");
    assert_eq!(keys[0].targets[0].value, "0x851c80");
    assert!(!keys[0].findings.is_empty());
    // Without --key, no `keys` member: eb timelines are unchanged.
    let (out, _, _) = crate::util::run(
        &["timeline", "--json", "--eb", "15302115328"],
        &[&fixture("thread-excerpt.txt")],
    );
    let t: TimelineDoc = serde_json::from_str(&out).unwrap();
    assert!(t.keys.is_none());
}
