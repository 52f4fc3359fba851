#![doc = include_str!("../../doc/schema/stats.md")]

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::correlate::boots::{FIRST_BOOTS_KEPT, LAST_BOOTS_KEPT};

/// Rows of the text's per-CPU table at most: a table is laid out whole
/// before it is printed, and thousands of CPU windows took `stats` to
/// 150 MiB.
const MAX_CPU_ROWS: usize = 1024;
use crate::correlate::coverage::{FIRST_DUMPS_KEPT, LAST_DUMPS_KEPT, MAX_WINDOWS};
use crate::grammar::LineClass;
use crate::output::docs::{cpu_docs, dump_docs, CpuDoc, DumpDoc};
use crate::output::sanitize;
use crate::output::{fmt_ts, table, Style, Tool, SCHEMA_VERSION};
use crate::reader::driver::InputResult;
use crate::stats::StatsCollector;

/// Class counts serialised as an object in [`LineClass::ALL`] order.
struct Classes([u64; LineClass::ALL.len()]);

impl Serialize for Classes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for c in LineClass::ALL {
            m.serialize_entry(c.name(), &self.0[c.index()])?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct StatsDoc<'a> {
    schema_version: u32,
    tool: Tool,
    lines: u64,
    bytes: u64,
    classes: Classes,
    formats: BTreeMap<&'static str, u64>,
    inputs: Vec<InputDoc<'a>>,
    cpus: Vec<CpuDoc>,
    /// Per-CPU windows of boots no longer listed (the first and the latest
    /// 64 boots are).
    cpus_not_listed: u64,
    dumps: Vec<DumpDoc<'a>>,
    /// Dumps counted but not listed (the first and the latest 256 are).
    dumps_not_listed: u64,
    unrecognized_samples: Vec<SampleDoc<'a>>,
}

#[derive(Serialize)]
struct InputDoc<'a> {
    path: &'a str,
    lines: u64,
    bytes: u64,
    compression: &'static str,
    classes: Classes,
    formats: &'a BTreeMap<&'static str, u64>,
    cleaned: Cleaned,
    repaired: Repaired<'a>,
    error: Option<String>,
}

#[derive(Serialize)]
struct Cleaned {
    crlf: u64,
    ansi: u64,
    nul: u64,
    lone_cr: u64,
    invalid_utf8: u64,
    truncated: u64,
}

#[derive(Serialize)]
struct Repaired<'a> {
    records: &'a BTreeMap<&'static str, u64>,
    lines: u64,
}

/// One CPU window, as serialised in `stats` and `report`.
#[derive(Serialize)]
struct SampleDoc<'a> {
    input: u32,
    line: u64,
    text: std::borrow::Cow<'a, str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    lossy: bool,
}

/// Write the stats JSON document.
pub(crate) fn write_json(
    w: &mut dyn Write,
    st: &StatsCollector,
    results: &[InputResult],
) -> io::Result<()> {
    let empty = BTreeMap::new();
    let inputs = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let c = st.inputs.get(i);
            InputDoc {
                path: &r.name,
                lines: c.map_or(0, |c| c.lines),
                bytes: r.summary.bytes,
                compression: r.compression.name(),
                classes: Classes(c.map_or([0; LineClass::ALL.len()], |c| c.classes)),
                formats: c.map_or(&empty, |c| &c.formats),
                cleaned: Cleaned {
                    crlf: c.map_or(0, |c| c.crlf),
                    ansi: c.map_or(0, |c| c.ansi),
                    nul: c.map_or(0, |c| c.nul),
                    lone_cr: c.map_or(0, |c| c.lone_cr),
                    invalid_utf8: c.map_or(0, |c| c.invalid_utf8),
                    truncated: c.map_or(0, |c| c.truncated),
                },
                repaired: Repaired {
                    records: c.map_or(&empty, |c| &c.repaired),
                    lines: c.map_or(0, |c| c.repaired_lines),
                },
                error: r.error.as_ref().map(|e| e.to_string()),
            }
        })
        .collect();
    let doc = StatsDoc {
        schema_version: SCHEMA_VERSION,
        tool: Tool::current(),
        lines: st.total_lines(),
        bytes: results.iter().map(|r| r.summary.bytes).sum(),
        classes: Classes(st.total_classes()),
        formats: st.total_formats(),
        inputs,
        cpus: cpu_docs(&st.coverage),
        cpus_not_listed: st.coverage.not_listed().cpus,
        dumps: dump_docs(&st.coverage),
        dumps_not_listed: st.coverage.not_listed().dumps,
        unrecognized_samples: st
            .samples
            .iter()
            .map(|s| {
                let (text, lossy) = sanitize::for_json(&s.text);
                SampleDoc {
                    input: s.input,
                    line: s.line,
                    text,
                    lossy,
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

/// Write the stats as text tables.
pub(crate) fn write_text(
    w: &mut dyn Write,
    st: &StatsCollector,
    results: &[InputResult],
    style: &Style,
) -> io::Result<()> {
    let many = results.len() > 1;
    for (i, r) in results.iter().enumerate() {
        let Some(c) = st.inputs.get(i) else { continue };
        writeln!(
            w,
            "{}: {} lines, {} bytes{}",
            style.bold(&sanitize::for_terminal(r.name.as_bytes())),
            c.lines,
            r.summary.bytes,
            if r.compression.name() != "none" {
                format!(" ({})", r.compression.name())
            } else {
                String::new()
            }
        )?;
        if let Some(e) = &r.error {
            writeln!(w, "  {}", style.error(&format!("error: {e}")))?;
        }
    }
    let total = st.total_classes();
    let lines = st.total_lines();
    let mut t = table(style, &["class", "lines", "%"]);
    for c in LineClass::ALL {
        let n = total[c.index()];
        let pct = if lines == 0 {
            0.0
        } else {
            n as f64 * 100.0 / lines as f64
        };
        t.add_row(vec![
            c.name().to_string(),
            n.to_string(),
            format!("{pct:.1}"),
        ]);
    }
    t.add_row(vec!["total".into(), lines.to_string(), "100.0".into()]);
    writeln!(
        w,
        "\nLine classes{}:\n{t}",
        if many { " (all inputs)" } else { "" }
    )?;
    let formats = st.total_formats();
    if !formats.is_empty() {
        let mut t = table(style, &["format / prefix", "lines"]);
        for (k, v) in &formats {
            t.add_row(vec![k.to_string(), v.to_string()]);
        }
        writeln!(w, "\nFormats detected:\n{t}")?;
    }
    let nl = st.coverage.not_listed();
    let cpus: Vec<_> = st.coverage.cpus().collect();
    if !cpus.is_empty() {
        let mut t = table(
            style,
            &["input", "cpu", "events", "lost", "first ts", "last ts"],
        );
        for c in cpus.iter().take(MAX_CPU_ROWS) {
            let lost = if c.lost_unknown {
                format!("{}+?", c.lost_events)
            } else {
                c.lost_events.to_string()
            };
            t.add_row(vec![
                c.input.to_string(),
                c.cpu.to_string(),
                c.events.to_string(),
                lost,
                fmt_ts(c.first_ts),
                fmt_ts(c.last_ts),
            ]);
        }
        let with_lost = cpus.iter().filter(|c| c.lost_markers > 0).count();
        writeln!(
            w,
            "\nPer-CPU coverage ({} CPUs, {} with lost events{}):\n{t}{}",
            cpus.len(),
            with_lost,
            if nl.cpus > 0 {
                format!(
                    "; {} more not kept: the first {} and the latest {} boots keep their windows, \
                     up to {} in all",
                    nl.cpus, FIRST_BOOTS_KEPT, LAST_BOOTS_KEPT, MAX_WINDOWS
                )
            } else {
                String::new()
            },
            if cpus.len() > MAX_CPU_ROWS {
                format!(
                    "\n... and {} more rows ('stats --json' lists every one)",
                    cpus.len() - MAX_CPU_ROWS
                )
            } else {
                String::new()
            }
        )?;
    }
    let dumps = st.coverage.dump_count();
    if dumps > 0 {
        let mut t = table(
            style,
            &["input", "line", "end", "events", "empty", "lost markers"],
        );
        for (_, d) in st.coverage.dumps() {
            t.add_row(vec![
                d.input.to_string(),
                d.line.to_string(),
                d.end_line.map_or("-".into(), |l| l.to_string()),
                d.events.to_string(),
                if d.empty { "yes".into() } else { "no".into() },
                d.lost_markers.to_string(),
            ]);
        }
        let empty = st.coverage.empty_dumps();
        writeln!(
            w,
            "\nDumps ({dumps} found, {empty} empty{}):\n{t}",
            if nl.dumps > 0 {
                format!(
                    "; {} not listed: the first {} and the latest {} are",
                    nl.dumps, FIRST_DUMPS_KEPT, LAST_DUMPS_KEPT
                )
            } else {
                String::new()
            }
        )?;
    }
    if !st.samples.is_empty() {
        writeln!(w, "\nUnrecognized lines (samples):")?;
        for s in &st.samples {
            let name = results
                .get(s.input as usize)
                .map_or("?", |r| r.name.as_str());
            writeln!(
                w,
                "  {}:{}: {}",
                sanitize::for_terminal(name.as_bytes()),
                s.line,
                sanitize::for_terminal(&s.text)
            )?;
        }
    }
    Ok(())
}
