#![doc = include_str!("../../doc/schema/timeline.md")]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use serde::Serialize;

use crate::correlate::ebs::Note;
use crate::grammar::TraceTs;
use crate::output::docs::{finding_doc, FindingDoc, InputDoc};
use crate::output::sanitize::{for_json, for_terminal, terminal_lines};
use crate::output::short_name;
use crate::output::{Style, Tool, SCHEMA_VERSION};
use crate::reader::driver::InputResult;
use crate::rules::Severity;
use crate::timeline::{
    EbTimeline, Entry, EntryKind, KeyTimeline, Shown, Timeline, FIRST_LINES_SHOWN, LAST_LINES_SHOWN,
};
use crate::units::fmt_secs;

/// Lifetime summary derived from the entries' notes.
#[derive(Debug, Clone, Default, Serialize)]
struct Lifetime {
    n: u32,
    /// The surviving alloc (the one whose task did not discard its copy).
    alloc: Option<Loc>,
    /// All allocs of the lifetime (the winner and its contenders).
    allocs: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    contenders: u32,
    discards: u32,
    reads: u32,
    released: Option<Loc>,
    #[serde(skip)]
    winner_lost: bool,
}

#[derive(Debug, Clone, Copy, Serialize)]
struct Loc {
    input: u32,
    line: u64,
}

/// The lifetime an entry belongs to.
fn lifetime_of(note: &Note) -> Option<u32> {
    match *note {
        Note::NewLifetime { n, .. }
        | Note::Contender { n }
        | Note::Read { n, .. }
        | Note::ReadOrphan { n, .. } => Some(n),
        Note::Discard { n } | Note::FinalRelease { n, .. } => n,
        _ => None,
    }
}

/// What the renderers look up per entry, computed once per eb so that each
/// entry costs a hash look-up, not a scan of the lifetimes, discards or
/// findings (one eb with N lifetimes was quadratic: issue #19).
struct Index {
    /// Lifetime summaries, sorted by number.
    lts: Vec<Lifetime>,
    /// (lifetime, input, pid) of the tasks that discarded their copy.
    discarded: HashSet<(u32, u32, Option<u32>)>,
    /// The rules whose evidence cites each (input, line).
    cited: HashMap<(u32, u64), Vec<&'static str>>,
}

impl Index {
    fn new(t: &EbTimeline) -> Index {
        let discarded = discards(t);
        let lts = lifetimes(t, &discarded);
        let mut cited: HashMap<(u32, u64), Vec<&'static str>> = HashMap::new();
        for f in &t.findings {
            for x in &f.evidence {
                let v = cited.entry((x.pos.input, x.pos.line)).or_default();
                if v.last() != Some(&f.rule.id()) {
                    v.push(f.rule.id());
                }
            }
        }
        Index {
            lts,
            discarded,
            cited,
        }
    }

    fn lifetime(&self, n: u32) -> Option<&Lifetime> {
        self.lts
            .binary_search_by_key(&n, |l| l.n)
            .ok()
            .and_then(|i| self.lts.get(i))
    }

    /// Rules whose evidence cites this entry's line.
    fn cited_by(&self, e: &Entry) -> &[&'static str] {
        self.cited
            .get(&(e.ev.pos.input, e.ev.pos.line))
            .map_or(&[], Vec::as_slice)
    }

    /// The note of an entry, with hindsight on insert races: an alloc whose
    /// task later discards its copy lost the race; the one that did not won.
    fn note_with_race(&self, e: &Entry) -> String {
        let n = match e.note {
            Note::NewLifetime { n, .. } | Note::Contender { n } => n,
            _ => return note_text(e),
        };
        let raced = self.lifetime(n).is_some_and(|l| l.contenders > 0);
        let lost = self.discarded.contains(&(n, e.ev.pos.input, e.ev.pid));
        match (raced, lost) {
            (false, false) => note_text(e),
            // The only alloc seen lost: the winner's is not in the trace.
            (false, true) => format!(
                "lifetime {n}: this copy loses an insert race and is discarded; the winning alloc is not in the trace"
            ),
            (true, true) => format!("insert race in lifetime {n}: this copy loses and is discarded"),
            (true, false) => format!("insert race in lifetime {n}: this alloc wins"),
        }
    }
}

fn discards(t: &EbTimeline) -> HashSet<(u32, u32, Option<u32>)> {
    t.entries
        .iter()
        .filter_map(|e| match e.note {
            Note::Discard { n: Some(n) } => Some((n, e.ev.pos.input, e.ev.pid)),
            _ => None,
        })
        .collect()
}

fn note_text(e: &Entry) -> String {
    match e.note {
        Note::NewLifetime {
            n,
            realloc,
            missed_release,
        } => {
            let why = if realloc {
                " (re-allocation after the final release)"
            } else if missed_release {
                " (the previous lifetime's release is not in the trace)"
            } else {
                ""
            };
            format!("lifetime {n} starts{why}")
        }
        Note::Contender { n } => format!("contending alloc in lifetime {n} (insert race)"),
        Note::Discard { n: Some(n) } => {
            format!("private copy discarded (insert race, lifetime {n})")
        }
        Note::Discard { n: None } => "private copy discarded".into(),
        Note::Clone => "clone allocated".into(),
        Note::CloneRelease => "clone released".into(),
        Note::FinalRelease { n, ambiguous } => {
            let amb = if ambiguous {
                " (no 'called from' line: decided from context)"
            } else {
                ""
            };
            match n {
                Some(n) => format!("final release: lifetime {n} ends{amb}"),
                None => format!("final release{amb}"),
            }
        }
        Note::Read { n, k } => format!("read {k} of lifetime {n}"),
        Note::ReadOrphan {
            n,
            after_release: true,
        } => format!("read after the final release (lifetime {n}, no alloc)"),
        Note::ReadOrphan {
            n,
            after_release: false,
        } => format!("read with no alloc in the trace (lifetime {n})"),
        Note::None => String::new(),
    }
}

fn lifetimes(t: &EbTimeline, discarded: &HashSet<(u32, u32, Option<u32>)>) -> Vec<Lifetime> {
    let mut map: BTreeMap<u32, Lifetime> = BTreeMap::new();
    for e in &t.entries {
        let Some(n) = lifetime_of(&e.note) else {
            continue;
        };
        let l = map.entry(n).or_insert_with(|| Lifetime {
            n,
            ..Lifetime::default()
        });
        let loc = Loc {
            input: e.ev.pos.input,
            line: e.ev.pos.line,
        };
        let lost = discarded.contains(&(n, e.ev.pos.input, e.ev.pid));
        match e.note {
            Note::NewLifetime { .. } | Note::Contender { .. } => {
                l.allocs += 1;
                if matches!(e.note, Note::Contender { .. }) {
                    l.contenders += 1;
                }
                // The surviving alloc names the lifetime; fall back to the first one.
                if l.alloc.is_none() || (!lost && l.winner_lost) {
                    l.alloc = Some(loc);
                    l.comm = Some(String::from_utf8_lossy(e.ev.comm.as_bytes()).into_owned());
                    l.pid = e.ev.pid;
                    l.cpu = e.ev.cpu;
                    l.winner_lost = lost;
                }
            }
            Note::Discard { .. } => l.discards += 1,
            Note::Read { .. } | Note::ReadOrphan { .. } => l.reads += 1,
            Note::FinalRelease { .. } => l.released = Some(loc),
            _ => {}
        }
    }
    map.into_values().collect()
}

/// Delta in µs to the previous entry: trace clock when both have it (same input), else console clock.
fn delta_us(prev: Option<&Entry>, e: &Entry) -> Option<i64> {
    let p = prev?;
    if p.ev.pos.input != e.ev.pos.input {
        return None;
    }
    // Clock values are u64 as printed: subtract in i128 so that no input
    // (a corrupted dump's huge times) can overflow.
    let us = |a: u64, b: u64| i64::try_from((i128::from(b) - i128::from(a)) / 1000).ok();
    match (p.ev.trace_ts, e.ev.trace_ts) {
        (Some(TraceTs::Counter(_)), _) | (_, Some(TraceTs::Counter(_))) => None,
        (Some(a), Some(b)) => us(a.raw(), b.raw()),
        _ => match (p.ev.console_ns, e.ev.console_ns) {
            (Some(a), Some(b)) => us(a, b),
            _ => None,
        },
    }
}

fn kind_name(e: &Entry) -> &str {
    match &e.kind {
        EntryKind::Event(k) => k,
        EntryKind::Continued => "continued",
        EntryKind::CalledFrom => "called-from",
        EntryKind::Mention => "mention",
        EntryKind::Splat => "splat",
    }
}

/// ` in FILE, FILE` for the inputs a timeline's entries are in.
fn in_inputs(entries: &[Entry], results: &[InputResult]) -> String {
    let inputs: std::collections::BTreeSet<u32> = entries.iter().map(|e| e.ev.pos.input).collect();
    let names: Vec<String> = inputs
        .iter()
        .filter_map(|&i| results.get(i as usize))
        .map(|r| for_terminal(short_name(&r.name).as_bytes()).into_owned())
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" in {}", names.join(", "))
    }
}

/// The columns of a timeline's lines.
fn column_header(w: &mut dyn Write, style: &Style) -> io::Result<()> {
    writeln!(
        w,
        "{}",
        style.dim(&format!(
            "  {:<22} {:>17} {:>17} {:>8} {:>4}  {:<16} {:<15} {}",
            "where",
            "console",
            "trace",
            style.glyph("Δµs", "delta_us"),
            "cpu",
            "task",
            "event",
            "detail"
        ))
    )
}

/// One line of a timeline: its cells, its detail, the rules citing it.
fn write_row(
    w: &mut dyn Write,
    c: &[String; 7],
    detail: &str,
    cited: &[&str],
    style: &Style,
) -> io::Result<()> {
    let flag = if cited.is_empty() {
        String::new()
    } else {
        format!("  {} {}", style.glyph("◀", "<-"), cited.join(", "))
    };
    writeln!(
        w,
        "  {:<22} {:>17} {:>17} {:>8} {:>4}  {:<16} {:<15} {}{}",
        c[0],
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        c[6],
        for_terminal(detail.as_bytes()),
        style.error(&flag)
    )
}

/// The first six cells of an entry's line: where, console time, trace
/// time, delta to the previous entry, CPU, task.
fn cells(e: &Entry, prev: Option<&Entry>, results: &[InputResult]) -> [String; 6] {
    let name = results
        .get(e.ev.pos.input as usize)
        .map_or("?", |r| short_name(&r.name));
    let task = match (e.ev.comm.is_empty(), e.ev.pid) {
        (_, Some(p)) => format!("{}-{p}", String::from_utf8_lossy(e.ev.comm.as_bytes())),
        _ => "-".into(),
    };
    [
        format!("{}:{}", for_terminal(name.as_bytes()), e.ev.pos.line),
        e.ev.console_ns.map_or("-".to_string(), fmt_secs),
        crate::output::fmt_ts(e.ev.trace_ts),
        delta_us(prev, e).map_or(String::new(), |d| format!("{d:+}")),
        e.ev.cpu.map_or("-".to_string(), |c| c.to_string()),
        for_terminal(task.as_bytes()).into_owned(),
    ]
}

/// A key timeline's title: `daddr=0x851c80`, `ptr=ffff888114e14400 ptr=ffff888110f2a000`.
fn key_label(t: &KeyTimeline) -> String {
    t.targets
        .iter()
        .map(|x| format!("{}={}", x.name, x.text))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Rules whose evidence cites this line (key timelines).
fn key_cited_by(t: &KeyTimeline, e: &Entry) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = t
        .findings
        .iter()
        .filter(|f| f.evidence.iter().any(|x| x.pos == e.ev.pos))
        .map(|f| f.rule.id())
        .collect();
    v.dedup();
    v
}

/// The key timelines as text, after the eb ones.
fn write_key_text(
    w: &mut dyn Write,
    tl: &Timeline,
    results: &[InputResult],
    style: &Style,
) -> io::Result<()> {
    for (k, t) in tl.keys.iter().enumerate() {
        if k > 0 || !tl.ebs.is_empty() {
            writeln!(w)?;
        }
        writeln!(
            w,
            "{}: {}{}",
            style.bold(&for_terminal(key_label(t).as_bytes())),
            line_count(t.entries.len(), &t.shown),
            in_inputs(&t.entries, results),
        )?;
        if t.entries.is_empty() {
            continue;
        }
        column_header(w, style)?;
        let mut prev: Option<&Entry> = None;
        for (i, e) in t.entries.iter().enumerate() {
            if prev.is_some_and(|p| p.ev.pos.input != e.ev.pos.input) {
                prev = None;
            }
            if gap_before(i, &t.shown) {
                writeln!(w, "  {}", style.dim(&gap_line(&t.shown)))?;
                prev = None;
            }
            let [whr, console, trace, delta, cpu, task] = cells(e, prev, results);
            let kind = for_terminal(kind_name(e).as_bytes()).into_owned();
            let c = [whr, console, trace, delta, cpu, task, kind];
            write_row(w, &c, &e.detail, &key_cited_by(t, e), style)?;
            prev = Some(e);
        }
        write_findings(w, &t.findings, style)?;
    }
    Ok(())
}

/// A section's findings.
fn write_findings(
    w: &mut dyn Write,
    findings: &[crate::rules::Finding],
    style: &Style,
) -> io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(w, "  {}", style.bold("findings:"))?;
    for f in findings {
        let sev = match f.severity {
            Severity::Error => style.error(f.severity.name()),
            Severity::Warning => style.warning(f.severity.name()),
            Severity::Info => style.info(f.severity.name()),
        };
        writeln!(
            w,
            "    {sev} {} [{}]: {}",
            f.rule.id(),
            f.confidence.name(),
            for_terminal(f.message.as_bytes())
        )?;
    }
    Ok(())
}

fn lifetime_banner(e: &Entry, ix: &Index) -> Option<String> {
    let n = match e.note {
        Note::NewLifetime { n, .. } | Note::ReadOrphan { n, .. } => n,
        _ => return None,
    };
    let l = ix.lifetime(n)?;
    if l.alloc.is_none() {
        return Some(format!("lifetime {n}: its alloc is not in the trace"));
    }
    let who = match (&l.comm, l.pid) {
        (Some(c), Some(p)) => format!("{c}-{p}"),
        (Some(c), None) => c.clone(),
        _ => "?".into(),
    };
    let cpu = l.cpu.map(|c| format!(" on CPU {c}")).unwrap_or_default();
    let race = if l.contenders > 0 {
        format!(
            "; {} contender{} discarded",
            l.discards,
            if l.discards == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    Some(format!("lifetime {n}: alloc by {who}{cpu}{race}"))
}

/// `3 lines`, or `25000 lines (5000 not shown)`.
fn line_count(shown_lines: usize, shown: &Shown) -> String {
    let n = shown_lines as u64 + shown.omitted;
    let s = if n == 1 { "" } else { "s" };
    if shown.omitted == 0 {
        format!("{n} line{s}")
    } else {
        format!("{n} line{s} ({} not shown)", shown.omitted)
    }
}

/// Whether the lines not shown go before entry `i`.
fn gap_before(i: usize, shown: &Shown) -> bool {
    shown.omitted > 0 && i == shown.at
}

/// The line standing for the lines not shown.
fn gap_line(shown: &Shown) -> String {
    format!(
        "... {} lines not shown: a timeline shows its first {} and its latest {} lines \
         ('tracesift events' lists them all) ...",
        shown.omitted, FIRST_LINES_SHOWN, LAST_LINES_SHOWN
    )
}

/// Write the timeline as text.
pub fn write_text(
    w: &mut dyn Write,
    tl: &Timeline,
    results: &[InputResult],
    style: &Style,
) -> io::Result<()> {
    for (k, t) in tl.ebs.iter().enumerate() {
        if k > 0 {
            writeln!(w)?;
        }
        let ix = Index::new(t);
        writeln!(
            w,
            "{} ({:#x}): {}{}, {} lifetime{}",
            style.bold(&format!("eb {}", t.eb)),
            t.eb,
            line_count(t.entries.len(), &t.shown),
            in_inputs(&t.entries, results),
            ix.lts.len(),
            if ix.lts.len() == 1 { "" } else { "s" }
        )?;
        if t.entries.is_empty() {
            continue;
        }
        column_header(w, style)?;
        let mut prev: Option<&Entry> = None;
        let mut last_input = None;
        for (i, e) in t.entries.iter().enumerate() {
            if last_input.is_some_and(|i| i != e.ev.pos.input) {
                prev = None;
            }
            if gap_before(i, &t.shown) {
                writeln!(w, "  {}", style.dim(&gap_line(&t.shown)))?;
                prev = None;
            }
            last_input = Some(e.ev.pos.input);
            if let Some(b) = lifetime_banner(e, &ix) {
                // The banner names the allocating task: input text, escaped.
                let b = for_terminal(b.as_bytes());
                let rule = style.glyph("──", "--");
                writeln!(w, "  {}", style.bold(&format!("{rule} {b} {rule}")))?;
            }
            let [whr, console, trace, delta, cpu, task] = cells(e, prev, results);
            let mut detail = e.detail.clone();
            let note = ix.note_with_race(e);
            if !note.is_empty() {
                detail = if detail.is_empty() {
                    note
                } else {
                    format!("{note}; {detail}")
                };
            }
            if matches!(e.kind, EntryKind::Mention) || detail.is_empty() {
                // A repaired record reads as one line here.
                detail = terminal_lines(crate::fields::trim(&e.ev.text))
                    .map(|l| l.trim().to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            let c = [
                whr,
                console,
                trace,
                delta,
                cpu,
                task,
                kind_name(e).to_string(),
            ];
            write_row(w, &c, &detail, ix.cited_by(e), style)?;
            prev = Some(e);
        }
        write_findings(w, &t.findings, style)?;
    }
    write_key_text(w, tl, results, style)
}

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    tool: Tool,
    inputs: Vec<InputDoc<'a>>,
    ebs: Vec<EbDoc<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keys: Vec<KeyDoc<'a>>,
}

#[derive(Serialize)]
struct KeyDoc<'a> {
    targets: Vec<TargetDoc<'a>>,
    entries: Vec<EntryDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_shown: Option<NotShownDoc>,
    findings: Vec<FindingDoc<'a>>,
}

#[derive(Serialize)]
struct TargetDoc<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct EbDoc<'a> {
    eb: u64,
    eb_hex: String,
    lifetimes: &'a [Lifetime],
    entries: EntriesDoc<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_shown: Option<NotShownDoc>,
    findings: Vec<FindingDoc<'a>>,
}

/// The lines of a timeline not shown: how many, and the index of the
/// entry they would precede.
#[derive(Serialize)]
struct NotShownDoc {
    lines: u64,
    before: usize,
}

impl NotShownDoc {
    fn of(shown: &Shown) -> Option<NotShownDoc> {
        (shown.omitted > 0).then_some(NotShownDoc {
            lines: shown.omitted,
            before: shown.at,
        })
    }
}

/// The entries of one eb, serialised one at a time as the writer takes
/// them: the document never holds a second copy of a long timeline.
struct EntriesDoc<'a> {
    t: &'a EbTimeline,
    ix: &'a Index,
}

impl Serialize for EntriesDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.t.entries.len()))?;
        let mut prev: Option<&Entry> = None;
        for (i, e) in self.t.entries.iter().enumerate() {
            if gap_before(i, &self.t.shown) {
                prev = None;
            }
            seq.serialize_element(&eb_entry_doc(e, prev, self.ix))?;
            prev = Some(e);
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct EntryDoc<'a> {
    input: u32,
    line: u64,
    lines: u32,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifetime: Option<u32>,
    note: String,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_ts_counter: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    console_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta_us: Option<i64>,
    text: std::borrow::Cow<'a, str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    lossy: bool,
    findings: std::borrow::Cow<'a, [&'static str]>,
}

/// One entry of an eb timeline as serialised: its lifetime's note and
/// the rules citing it come from the timeline's [`Index`].
fn eb_entry_doc<'a>(e: &'a Entry, prev: Option<&Entry>, ix: &'a Index) -> EntryDoc<'a> {
    entry_doc(
        e,
        prev,
        ix.note_with_race(e),
        lifetime_of(&e.note),
        std::borrow::Cow::Borrowed(ix.cited_by(e)),
    )
}

/// One entry as serialised.
fn entry_doc<'a>(
    e: &'a Entry,
    prev: Option<&Entry>,
    note: String,
    lifetime: Option<u32>,
    findings: std::borrow::Cow<'a, [&'static str]>,
) -> EntryDoc<'a> {
    let (text, lossy) = for_json(&e.ev.text);
    let (ns, counter) = crate::output::docs::trace_ts(e.ev.trace_ts);
    EntryDoc {
        input: e.ev.pos.input,
        line: e.ev.pos.line,
        lines: e.ev.lines,
        kind: kind_name(e),
        lifetime,
        note,
        detail: &e.detail,
        cpu: e.ev.cpu,
        pid: e.ev.pid,
        comm: (!e.ev.comm.is_empty())
            .then(|| String::from_utf8_lossy(e.ev.comm.as_bytes()).into_owned()),
        trace_ts_ns: ns,
        trace_ts_counter: counter,
        console_ts_ns: e.ev.console_ns,
        delta_us: delta_us(prev, e),
        text,
        lossy,
        findings,
    }
}

/// Write the timeline as one JSON document.
pub fn write_json(w: &mut dyn Write, tl: &Timeline, results: &[InputResult]) -> io::Result<()> {
    let inputs = InputDoc::list(results, &tl.lines);
    let indexes: Vec<Index> = tl.ebs.iter().map(Index::new).collect();
    let ebs = tl
        .ebs
        .iter()
        .zip(&indexes)
        .map(|(t, ix)| EbDoc {
            eb: t.eb,
            eb_hex: format!("{:#x}", t.eb),
            lifetimes: &ix.lts,
            entries: EntriesDoc { t, ix },
            not_shown: NotShownDoc::of(&t.shown),
            findings: t.findings.iter().map(finding_doc).collect(),
        })
        .collect();
    let keys = tl
        .keys
        .iter()
        .map(|t| {
            let mut prev: Option<&Entry> = None;
            let entries = t
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    if gap_before(i, &t.shown) {
                        prev = None;
                    }
                    let d = entry_doc(e, prev, String::new(), None, key_cited_by(t, e).into());
                    prev = Some(e);
                    d
                })
                .collect();
            KeyDoc {
                targets: t
                    .targets
                    .iter()
                    .map(|x| TargetDoc {
                        key: &x.name,
                        value: &x.text,
                    })
                    .collect(),
                entries,
                not_shown: NotShownDoc::of(&t.shown),
                findings: t.findings.iter().map(finding_doc).collect(),
            }
        })
        .collect();
    let doc = Doc {
        schema_version: SCHEMA_VERSION,
        tool: Tool::current(),
        inputs,
        ebs,
        keys,
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}
