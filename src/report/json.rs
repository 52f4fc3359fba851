#![doc = include_str!("../../doc/schema/report.md")]

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::correlate::boots::{BootStart, Boots};
use crate::correlate::ebs::LifetimeStats;
use crate::correlate::evidence::Evidence;
use crate::correlate::reports::Occurrence;
use crate::correlate::Analysis;
use crate::grammar::TraceTs;
use crate::reader::driver::InputResult;
use crate::report::sanitize;
use crate::report::stats::{cpu_docs, dump_docs, CpuDoc, DumpDoc};
use crate::report::{Tool, SCHEMA_VERSION};
use crate::rules::{Confidence, Counts, Finding, Fix, RuleId, Severity, SuspectValue};

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    tool: Tool,
    inputs: Vec<InputDoc<'a>>,
    summary: Summary<'a>,
    findings: Vec<FindingDoc<'a>>,
    splats: Vec<SplatDoc<'a>>,
    coverage: CoverageDoc<'a>,
    boots: Vec<BootDoc<'a>>,
}

/// One boot of the machine (`boots[]`).
#[derive(Serialize)]
pub(crate) struct BootDoc<'a> {
    index: u32,
    start: BootStart,
    first: PlaceDoc,
    last: PlaceDoc,
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<&'a str>,
}

/// A line of an input.
#[derive(Serialize)]
pub(crate) struct PlaceDoc {
    input: u32,
    line: u64,
}

/// The boots of a run as serialised.
pub(crate) fn boot_docs(boots: &Boots) -> Vec<BootDoc<'_>> {
    boots
        .all()
        .iter()
        .enumerate()
        .map(|(i, b)| BootDoc {
            index: i as u32,
            start: b.start,
            first: PlaceDoc {
                input: b.first.input,
                line: b.first.line,
            },
            last: PlaceDoc {
                input: b.last.input,
                line: b.last.line,
            },
            release: b.release.as_deref(),
        })
        .collect()
}

/// One entry of a document's `inputs` (the report's and the timeline's).
#[derive(Serialize)]
pub(crate) struct InputDoc<'a> {
    path: &'a str,
    lines: u64,
    bytes: u64,
    compression: &'static str,
    error: Option<String>,
}

impl InputDoc<'_> {
    /// The entries for `results`, with the physical lines read from each.
    pub(crate) fn list<'a>(results: &'a [InputResult], lines: &[u64]) -> Vec<InputDoc<'a>> {
        results
            .iter()
            .enumerate()
            .map(|(i, r)| InputDoc {
                path: &r.name,
                lines: lines.get(i).copied().unwrap_or(0),
                bytes: r.summary.bytes,
                compression: r.compression.name(),
                error: r.error.as_ref().map(|e| e.to_string()),
            })
            .collect()
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    lines: u64,
    events: u64,
    findings: Counts,
    lifetimes: &'a LifetimeStats,
    largest_insert_race: Option<RaceDoc>,
    reports: ReportsDoc,
}

/// The bounds on grouped btrfs reports, and what they left out.
#[derive(Serialize)]
struct ReportsDoc {
    groups: u64,
    max_groups: u64,
    first_kept: u32,
    evidence_budget_bytes: u64,
    evidence_omitted: u64,
    not_kept: u64,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<ValueDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mirrors: Option<&'a [u32]>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    every_mirror: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    boots: Option<&'a [u32]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first: Option<OccurrenceDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last: Option<OccurrenceDoc>,
    #[serde(skip_serializing_if = "is_zero")]
    evidence_omitted: u64,
    #[serde(skip_serializing_if = "is_zero")]
    not_kept: u64,
    evidence: Vec<EvidenceDoc<'a>>,
}

/// The value a forensic finding rests on.
#[derive(Serialize)]
pub(crate) struct ValueDoc<'a> {
    field: &'a str,
    found: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
}

/// Where and when a grouped report was first or last printed.
#[derive(Serialize)]
pub(crate) struct OccurrenceDoc {
    input: u32,
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    console_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_ts_counter: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wall_s: Option<u64>,
    boot: u32,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn occurrence_doc(o: &Occurrence) -> OccurrenceDoc {
    let (ns, counter) = trace_ts(o.trace_ts);
    OccurrenceDoc {
        input: o.pos.input,
        line: o.pos.line,
        console_ts_ns: o.console_ns,
        trace_ts_ns: ns,
        trace_ts_counter: counter,
        wall_s: o.wall_s,
        boot: o.boot,
    }
}

fn value_doc(v: &SuspectValue) -> ValueDoc<'_> {
    ValueDoc {
        field: v.field,
        found: v.found,
        expected: v.expected,
        bit: v.bit,
        region: v.region,
    }
}

/// A trace time as (`trace_ts_ns`, `trace_ts_counter`).
fn trace_ts(t: Option<TraceTs>) -> (Option<u64>, Option<u64>) {
    match t {
        Some(TraceTs::Counter(c)) => (None, Some(c)),
        Some(t) => (t.ns(), None),
        None => (None, None),
    }
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
    boot: u32,
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
    let (ns, counter) = trace_ts(e.trace_ts);
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
        boot: e.boot,
    }
}

/// Serialise one finding.
pub(crate) fn finding_doc(f: &Finding) -> FindingDoc<'_> {
    let o = f.occurrences.as_deref();
    FindingDoc {
        rule: f.rule,
        severity: f.severity,
        confidence: f.confidence,
        eb: f.eb(),
        message: &f.message,
        count: f.count,
        title: f.title(),
        cpu: f.cpu(),
        fix: f.fix(),
        value: f.value().map(value_doc),
        device: o.and_then(|o| o.device.as_deref()),
        phase: o.and_then(|o| o.phase).map(|p| p.name()),
        mirrors: o.map(|o| o.mirrors.as_slice()).filter(|m| !m.is_empty()),
        every_mirror: o.is_some_and(|o| o.every_mirror),
        boots: o.map(|o| o.boots.as_slice()),
        first: o.map(|o| occurrence_doc(&o.first)),
        last: o.map(|o| occurrence_doc(&o.last)),
        evidence_omitted: o.map_or(0, |o| o.evidence_omitted),
        not_kept: o.map_or(0, |o| o.not_kept),
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
    let inputs = InputDoc::list(results, &an.lines);
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
            reports: ReportsDoc {
                groups: (an.reports.reports.len() + an.reports.aborts.len()) as u64,
                max_groups: crate::correlate::reports::MAX_GROUPS as u64,
                first_kept: crate::correlate::reports::FIRST_KEPT,
                evidence_budget_bytes: crate::correlate::reports::EVIDENCE_BUDGET as u64,
                evidence_omitted: an.reports.evidence_omitted(),
                not_kept: an.reports.not_kept(),
            },
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
        boots: boot_docs(&an.boots),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}
