//! `report` as text for a terminal: a summary table, then each finding with
//! its evidence as `file:line`. Info findings are listed one per line.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::correlate::evidence::Evidence;
use crate::correlate::Analysis;
use crate::output::sanitize::{for_terminal, terminal_lines};
use crate::output::{count, short_name, table, Style};
use crate::reader::driver::InputResult;
use crate::rules::{Counts, Finding, Severity};

/// Characters of an evidence line shown in text output.
const TEXT_WIDTH: usize = 220;

/// `name:line` for an evidence position.
pub(crate) fn where_(e: &Evidence, results: &[InputResult]) -> String {
    let name = results
        .get(e.pos.input as usize)
        .map_or("?", |r| r.name.as_str());
    let name = short_name(name);
    if e.lines > 1 {
        format!(
            "{}:{}-{}",
            for_terminal(name.as_bytes()),
            e.pos.line,
            e.pos.line + e.lines as u64 - 1
        )
    } else {
        format!("{}:{}", for_terminal(name.as_bytes()), e.pos.line)
    }
}

fn cut(style: &Style, s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push_str(style.glyph("…", "..."));
        t
    }
}

fn sev(style: &Style, s: Severity) -> String {
    let name = format!("{:<7}", s.name());
    match s {
        Severity::Error => style.error(&name),
        Severity::Warning => style.warning(&name),
        Severity::Info => style.info(&name),
    }
}

/// What to say when ebs were forgotten to stay under the live-eb bound.
pub(crate) fn evicted_note(evicted: u64) -> String {
    format!(
        "Memory bound hit: {evicted} ebs were forgotten to stay under --max-live-ebs; \
         verdicts that need an absence are unverifiable (raise --max-live-ebs for exact ones)."
    )
}

/// What to say under a finding's evidence about how often and when it
/// came: `(9 occurrences, first at 40675.013231, last at 65972.802812; 8
/// lines not shown: ...)`, for a grouped btrfs report; `(N occurrences in all)` for
/// another finding that cites fewer lines than it counts.
pub(crate) fn omitted_note(f: &Finding) -> Option<String> {
    let Some(o) = f.occurrences.as_deref() else {
        return (f.count as usize > f.evidence.len() && f.count > 1)
            .then(|| format!("({} occurrences in all)", f.count));
    };
    let mut parts = Vec::new();
    if f.count > 1 {
        let mut when = format!("{} occurrences", f.count);
        if let (Some(a), Some(b)) = (o.first.console_ns, o.last.console_ns) {
            if a != b {
                when.push_str(&format!(
                    ", first at {}, last at {}",
                    console(a),
                    console(b)
                ));
            }
        }
        if o.boots.len() > 1 {
            when.push_str(&format!(", in {} boots", o.boots.len()));
        }
        parts.push(when);
    }
    if o.evidence_omitted > 0 {
        parts.push(format!(
            "{} lines not shown: the lines of the first {} and of the last are kept",
            o.evidence_omitted,
            crate::correlate::reports::FIRST_KEPT
        ));
    }
    (!parts.is_empty()).then(|| format!("({})", parts.join("; ")))
}

/// A console time as the kernel prints it: `40675.013231`.
fn console(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1000)
}

/// One line per boot: where it is and the kernel it ran (`boot 2:
/// capture.txt:8647-17292, Linux 6.8.0-rc7 (banner)`).
pub(crate) fn boot_lines(an: &Analysis, names: &[String]) -> Vec<String> {
    let name = |i: u32| names.get(i as usize).map_or("?", String::as_str);
    let several = an.boots.count() > 1;
    let mut out = Vec::new();
    let mut next = 0u32;
    for (i, b) in an.boots.listed() {
        if i > next {
            out.push(format!(
                "Boots {}-{}: not listed (the first {} and the latest {} boots are)",
                next + 1,
                i,
                crate::correlate::boots::FIRST_BOOTS_KEPT,
                crate::correlate::boots::LAST_BOOTS_KEPT
            ));
        }
        next = i.saturating_add(1);
        out.push({
            let span = if b.first.input == b.last.input {
                format!("{}:{}-{}", name(b.first.input), b.first.line, b.last.line)
            } else {
                format!(
                    "{}:{} to {}:{}",
                    name(b.first.input),
                    b.first.line,
                    name(b.last.input),
                    b.last.line
                )
            };
            let release = b
                .release
                .as_deref()
                .map(|r| format!(", Linux {}", for_terminal(r.as_bytes())))
                .unwrap_or_default();
            let label = if several {
                format!("Boot {}", u64::from(i) + 1)
            } else {
                "Boot".to_string()
            };
            format!("{label}: {span}{release}")
        });
    }
    out
}

/// ` boot N` after a finding of a capture with several boots (the boot of
/// its first evidence line), else nothing.
pub(crate) fn boot_note(an: &Analysis, f: &Finding) -> String {
    match f.evidence.first() {
        Some(e) if an.boots.count() > 1 => format!(" boot {}", u64::from(e.boot) + 1),
        _ => String::new(),
    }
}

/// What was not kept to bound memory, if anything: `Not kept to bound
/// memory: 990000 read-without-alloc findings (...)`.
pub(crate) fn not_kept_note(an: &Analysis) -> Option<String> {
    let n = crate::rules::not_kept(an);
    if n.is_empty() {
        return None;
    }
    let list: Vec<String> = n
        .iter()
        .map(|(r, k)| format!("{k} {} findings", r.id()))
        .collect();
    let reports = [
        crate::rules::reports::TREE_CHECK_FAILURE,
        crate::rules::reports::VALIDATION_FAILED,
        crate::rules::reports::TRANSACTION_ABORT,
    ];
    let lost = crate::rules::lost::LOST_EVENTS;
    let mut bounds = Vec::new();
    if n.iter().any(|(r, _)| !reports.contains(r) && *r != lost) {
        bounds.push(format!(
            "at most {} extent-buffer findings are kept in full; repeats for one eb in one boot are counted on its finding",
            crate::correlate::ebs::MAX_FACTS
        ));
    }
    if n.iter().any(|(r, _)| reports.contains(r)) {
        bounds.push(format!(
            "at most {} distinct corruptions and as many distinct aborts are kept, the other reports are counted in one finding per rule",
            crate::correlate::reports::MAX_GROUPS
        ));
    }
    if n.iter().any(|(r, _)| *r == lost) {
        bounds.push(format!(
            "the per-CPU windows and trace headers of the first {} and the latest {} boots are kept",
            crate::correlate::boots::FIRST_BOOTS_KEPT,
            crate::correlate::boots::LAST_BOOTS_KEPT
        ));
    }
    Some(format!(
        "Not kept to bound memory: {} ({}).",
        list.join(", "),
        bounds.join("; ")
    ))
}

/// Write the text report.
pub fn write(
    w: &mut dyn Write,
    an: &Analysis,
    findings: &[Finding],
    results: &[InputResult],
    style: &Style,
) -> io::Result<()> {
    let lines: u64 = an.lines.iter().sum();
    let names: Vec<String> = results
        .iter()
        .map(|r| for_terminal(short_name(&r.name).as_bytes()).into_owned())
        .collect();
    let cpus = an
        .coverage
        .cpus()
        .map(|w| w.cpu)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let dumps = an.coverage.dump_count();
    let empty = an.coverage.empty_dumps();
    let boots = an.boots.count();
    writeln!(
        w,
        "{} {} ({}, {}, {} traced, {}{}{})",
        style.bold("tracesift report:"),
        names.join(", "),
        count(lines, "line", "lines"),
        count(an.events, "event", "events"),
        count(cpus as u64, "CPU", "CPUs"),
        count(dumps, "dump", "dumps"),
        if dumps == 0 {
            String::new()
        } else {
            format!(" of which {empty} empty")
        },
        if boots > 1 {
            format!(", {boots} boots")
        } else {
            String::new()
        }
    )?;
    if boots > 1 || an.boots.listed().any(|(_, b)| b.release.is_some()) {
        for line in boot_lines(an, &names) {
            writeln!(w, "{line}")?;
        }
    }
    for note in results.iter().filter_map(crate::output::input_error_note) {
        // Also on stderr; repeated here so a pasted report says its input was incomplete.
        writeln!(w, "{} {note}", style.warning("input error:"))?;
    }
    if lines > 0 && an.events == 0 && an.unrecognized * 2 > lines {
        writeln!(
            w,
            "{} lines were not recognised as trace or kernel output: is this a kernel capture? \
             'tracesift stats' shows how each line was read.",
            an.unrecognized
        )?;
    }
    let counts = Counts::of(findings);
    let mut by_sev: BTreeMap<Severity, BTreeMap<&str, u64>> = BTreeMap::new();
    for f in findings {
        *by_sev
            .entry(f.severity)
            .or_default()
            .entry(f.rule.id())
            .or_default() += 1;
    }
    let mut t = table(style, &["severity", "findings", "rules"]);
    for (s, n) in [
        (Severity::Error, counts.error),
        (Severity::Warning, counts.warning),
        (Severity::Info, counts.info),
    ] {
        let rules = by_sev
            .get(&s)
            .map(|m| {
                m.iter()
                    .map(|(r, c)| format!("{r} {}{c}", style.glyph("×", "x")))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        t.add_row(vec![s.name().to_string(), n.to_string(), rules]);
    }
    writeln!(w, "{t}")?;
    let st = &an.ebs.stats;
    if st.ebs > 0 {
        let race = an
            .ebs
            .largest_race
            .as_ref()
            .map(|r| {
                let span = r
                    .first
                    .trace_ts
                    .and_then(|t| t.ns())
                    .map(|_| format!(" within {} us", r.span / 1000))
                    .unwrap_or_default();
                format!("; largest: eb {}, {} allocs{span}", r.eb, r.allocs)
            })
            .unwrap_or_default();
        writeln!(
            w,
            "Extent buffers: {}, {} ({}), {}, {}, {}.\n\
             Insert races (benign): {}, {}, {} discarded{race}.",
            count(st.ebs, "eb", "ebs"),
            count(st.lifetimes, "lifetime", "lifetimes"),
            count(st.reallocations, "re-allocation", "re-allocations"),
            count(st.reads, "read", "reads"),
            count(st.clones, "clone", "clones"),
            count(st.final_releases, "final release", "final releases"),
            count(st.insert_races, "eb", "ebs"),
            count(
                st.contending_allocs,
                "contending alloc",
                "contending allocs"
            ),
            count(
                st.discards + st.orphan_discards,
                "private copy",
                "private copies"
            ),
        )?;
        if st.evicted > 0 {
            writeln!(w, "{}", evicted_note(st.evicted))?;
        }
    }
    if let Some(note) = not_kept_note(an) {
        writeln!(w, "{note}")?;
    }
    if findings.is_empty() {
        if results.iter().any(|r| r.error.is_some()) {
            writeln!(w, "\nNo findings in what could be read.")?;
        } else {
            writeln!(w, "\nNo findings.")?;
        }
        return Ok(());
    }
    writeln!(w)?;
    for f in findings.iter().filter(|f| f.severity != Severity::Info) {
        let eb = f.eb().map(|e| format!(" eb={e}")).unwrap_or_default();
        writeln!(
            w,
            "{} {}{} [{}]{}",
            sev(style, f.severity),
            style.bold(f.rule.id()),
            eb,
            f.confidence.name(),
            boot_note(an, f)
        )?;
        writeln!(w, "  {}", for_terminal(f.message.as_bytes()))?;
        for e in &f.evidence {
            let place = where_(e, results);
            let role = format!("({})", e.role);
            // Continuation lines of a repaired record line up under the first.
            let indent = " ".repeat(4 + place.chars().count() + 1 + role.chars().count() + 1);
            for (i, line) in terminal_lines(&e.text).enumerate() {
                if i == 0 {
                    writeln!(
                        w,
                        "    {} {} {}",
                        style.dim(&place),
                        style.dim(&role),
                        cut(style, &line, TEXT_WIDTH)
                    )?;
                } else {
                    writeln!(w, "{indent}{}", cut(style, &line, TEXT_WIDTH))?;
                }
            }
        }
        if let Some(note) = omitted_note(f) {
            writeln!(w, "    {}", style.dim(&note))?;
        }
    }
    let info: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .collect();
    if !info.is_empty() {
        writeln!(w, "\n{}", style.bold("Information:"))?;
        for f in info {
            let at = f
                .evidence
                .first()
                .map(|e| format!(" ({})", where_(e, results)))
                .unwrap_or_default();
            writeln!(
                w,
                "{} {}: {}{}",
                sev(style, f.severity),
                f.rule.id(),
                for_terminal(f.message.as_bytes()),
                style.dim(&at)
            )?;
        }
    }
    Ok(())
}
