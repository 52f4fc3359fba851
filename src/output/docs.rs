//! The JSON pieces several documents share: inputs, findings and their
//! evidence (the report's and the timeline's), boots, CPU windows and dumps
//! (the report's and the stats').

use std::borrow::Cow;

use serde::Serialize;

use crate::correlate::boots::{BootStart, Boots};
use crate::correlate::coverage::Coverage;
use crate::correlate::evidence::Evidence;
use crate::correlate::reports::Occurrence;
use crate::grammar::TraceTs;
use crate::output::sanitize;
use crate::reader::driver::InputResult;
use crate::rules::release::Standing;
use crate::rules::{Confidence, Finding, Fix, RuleId, Severity, SuspectValue};

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
        .listed()
        .map(|(i, b)| BootDoc {
            index: i,
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

/// A finding as serialised (also used by `timeline --json`).
#[derive(Serialize)]
pub(crate) struct FindingDoc<'a> {
    rule: RuleId,
    severity: Severity,
    confidence: Confidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    eb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<SubjectDoc<'a>>,
    message: &'a str,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a Fix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel: Option<KernelDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<ValueDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    candidate: Option<CandidateDoc<'a>>,
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

/// The declared key and value a finding is about.
#[derive(Serialize)]
pub(crate) struct SubjectDoc<'a> {
    key: &'a str,
    value: &'a str,
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

/// The likely eb of a tree-checker report whose header names none.
#[derive(Serialize)]
pub(crate) struct CandidateDoc<'a> {
    eb: u64,
    confidence: Confidence,
    pid: u32,
    comm: &'a str,
    splat: &'a str,
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
pub(crate) fn trace_ts(t: Option<TraceTs>) -> (Option<u64>, Option<u64>) {
    match t {
        Some(TraceTs::Counter(c)) => (None, Some(c)),
        Some(t) => (t.ns(), None),
        None => (None, None),
    }
}

/// The kernel a `race-signature` finding is about, against the fix.
#[derive(Serialize)]
pub(crate) struct KernelDoc<'a> {
    release: &'a str,
    standing: Standing,
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

pub(crate) fn is_one(n: &u32) -> bool {
    *n == 1
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
        subject: f
            .key_subject()
            .map(|(key, value)| SubjectDoc { key, value }),
        message: &f.message,
        count: f.count,
        title: f.title(),
        cpu: f.cpu(),
        fix: f.fix(),
        kernel: f.kernel().map(|(release, standing)| KernelDoc {
            release,
            standing: *standing,
        }),
        value: f.value().map(value_doc),
        candidate: f.candidate().map(|c| CandidateDoc {
            eb: c.eb,
            confidence: Confidence::Likely,
            pid: c.pid,
            comm: &c.comm,
            splat: &c.splat,
        }),
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

#[derive(Serialize)]
pub(crate) struct CpuDoc {
    boot: u32,
    pub input: u32,
    pub cpu: u32,
    pub events: u64,
    pub lost_events: u64,
    pub lost_markers: u32,
    pub lost_unknown: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_trace_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_trace_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_trace_ts_counter: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_trace_ts_counter: Option<u64>,
}

/// One dump, as serialised in `stats` and `report`.
#[derive(Serialize)]
pub(crate) struct DumpDoc<'a> {
    /// Its number (`export --dump N`): dumps are numbered from 0 over the
    /// whole run, listed or not.
    index: u64,
    boot: u32,
    pub input: u32,
    pub line: u64,
    pub end_line: Option<u64>,
    pub events: u64,
    pub empty: bool,
    pub lost_markers: u32,
    pub instance: Option<&'a str>,
}

/// Coverage windows as JSON documents.
pub(crate) fn cpu_docs(cov: &Coverage) -> Vec<CpuDoc> {
    cov.cpus()
        .map(|w| {
            let (f_ns, f_c) = trace_ts(w.first_ts);
            let (l_ns, l_c) = trace_ts(w.last_ts);
            CpuDoc {
                boot: w.boot,
                input: w.input,
                cpu: w.cpu,
                events: w.events,
                lost_events: w.lost_events,
                lost_markers: w.lost_markers,
                lost_unknown: w.lost_unknown,
                first_trace_ts_ns: f_ns,
                last_trace_ts_ns: l_ns,
                first_trace_ts_counter: f_c,
                last_trace_ts_counter: l_c,
            }
        })
        .collect()
}

/// Dumps as JSON documents.
pub(crate) fn dump_docs(cov: &Coverage) -> Vec<DumpDoc<'_>> {
    cov.dumps()
        .map(|(n, d)| DumpDoc {
            index: n,
            boot: d.boot,
            input: d.input,
            line: d.line,
            end_line: d.end_line,
            events: d.events,
            empty: d.empty,
            lost_markers: d.lost_markers,
            instance: d.instance.as_deref(),
        })
        .collect()
}
