#![doc = include_str!("../../doc/schema/report.md")]

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::correlate::ebs::LifetimeStats;
use crate::correlate::Analysis;
use crate::grammar::TraceTs;
use crate::output::docs::{
    boot_docs, cpu_docs, dump_docs, finding_doc, BootDoc, CpuDoc, DumpDoc, FindingDoc, InputDoc,
};
use crate::output::{Tool, SCHEMA_VERSION};
use crate::reader::driver::InputResult;
use crate::rules::{self, Counts, Finding};

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

#[derive(Serialize)]
struct Summary<'a> {
    lines: u64,
    events: u64,
    findings: Counts,
    lifetimes: &'a LifetimeStats,
    largest_insert_race: Option<RaceDoc>,
    /// Findings not kept to bound memory, per rule id.
    not_kept: BTreeMap<&'static str, u64>,
    /// Grouped btrfs reports and their bounds.
    reports: ReportsDoc,
    /// Splats counted on their finding but not listed in `splats`.
    splats_not_listed: u64,
    /// Boots counted but not listed in `boots` (the first and the latest 64 are).
    boots_not_listed: u64,
    /// Per-CPU windows of the boots not listed.
    cpus_not_listed: u64,
    /// Dumps counted but not listed in `coverage.dumps` (the first and the latest 256 are).
    dumps_not_listed: u64,
}

/// The bounds on grouped btrfs reports, and what they left out (the
/// reports not grouped are in `not_kept`, under their rules).
#[derive(Serialize)]
struct ReportsDoc {
    groups: u64,
    max_groups: u64,
    first_kept: u32,
    evidence_budget_bytes: u64,
    evidence_omitted: u64,
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

#[derive(Serialize)]
struct SplatDoc<'a> {
    kind: &'static str,
    #[serde(rename = "type")]
    report: &'static str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    frame: Option<&'a str>,
    corrupted: bool,
    input: u32,
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    die: Option<u32>,
    panicked: bool,
    boot: u32,
}

#[derive(Serialize)]
struct CoverageDoc<'a> {
    cpus: Vec<CpuDoc>,
    dumps: Vec<DumpDoc<'a>>,
}

/// Write the report document.
pub fn write(
    w: &mut dyn Write,
    an: &Analysis,
    findings: &[Finding],
    results: &[InputResult],
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &doc(an, findings, results))?;
    writeln!(w)
}

/// One line of `report --each --json`: the report document of one input on
/// one line, with the input's `path` first.
pub(crate) fn write_line(
    w: &mut dyn Write,
    path: &str,
    an: &Analysis,
    findings: &[Finding],
    results: &[InputResult],
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Line<'a> {
        path: &'a str,
        #[serde(flatten)]
        doc: Doc<'a>,
    }
    let line = Line {
        path,
        doc: doc(an, findings, results),
    };
    serde_json::to_writer(&mut *w, &line)?;
    writeln!(w)
}

/// The report document.
fn doc<'a>(an: &'a Analysis, findings: &'a [Finding], results: &'a [InputResult]) -> Doc<'a> {
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
    Doc {
        schema_version: SCHEMA_VERSION,
        tool: Tool::current(),
        inputs,
        summary: Summary {
            lines: an.lines.iter().sum(),
            events: an.events,
            findings: Counts::of(findings),
            lifetimes: &an.ebs.stats,
            largest_insert_race: race,
            not_kept: rules::not_kept(an)
                .into_iter()
                .map(|(r, n)| (r.id(), n))
                .collect(),
            reports: ReportsDoc {
                groups: (an.reports.reports.len() + an.reports.aborts.len()) as u64,
                max_groups: crate::correlate::reports::MAX_GROUPS as u64,
                first_kept: crate::correlate::reports::FIRST_KEPT,
                evidence_budget_bytes: crate::correlate::reports::EVIDENCE_BUDGET as u64,
                evidence_omitted: an.reports.evidence_omitted(),
            },
            splats_not_listed: an.splats.not_kept().0,
            boots_not_listed: an.boots.not_listed(),
            cpus_not_listed: an.coverage.not_listed().cpus,
            dumps_not_listed: an.coverage.not_listed().dumps,
        },
        findings: findings.iter().map(finding_doc).collect(),
        splats: an
            .splats
            .splats()
            .iter()
            .map(|s| SplatDoc {
                kind: s.kind.name(),
                report: s.report.name(),
                title: &s.title,
                frame: s.frame.as_deref(),
                corrupted: s.corrupted,
                input: s.evidence.pos.input,
                line: s.evidence.pos.line,
                location: s.location.as_deref(),
                die: s.die,
                panicked: s.panicked,
                boot: s.evidence.boot,
            })
            .collect(),
        coverage: CoverageDoc {
            cpus: cpu_docs(&an.coverage),
            dumps: dump_docs(&an.coverage),
        },
        boots: boot_docs(&an.boots),
    }
}
