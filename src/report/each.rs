//! `report --each`: every input analysed on its own, in parallel across
//! inputs, and one summary of all of them grouped by signature.
//!
//! Where plain `report` merges its inputs into one analysis (a dmesg and a
//! trace file of one boot), `--each` is for captures that come by the
//! thousand: fstests result directories, CI console logs, syzbot-style
//! logs. Directories are walked as ripgrep walks them
//! ([`crate::input::walk`]). `-j` worker threads each take the next input
//! and read it on their own (sequentially); the calling thread walks the
//! directories, hands out the inputs and writes the results in input order
//! as they come back, so memory is bounded by the inputs in flight (a
//! window of twice the workers), not by their number.
//!
//! A finding's signature is its rule plus what it is about: the splat's
//! title for `kernel-splat` (`kernel BUG in btrfs_check_eb_owner`), the
//! extent buffer for eb rules, nothing more for the rest. Text output is
//! one table of signatures, each with the captures it appears in; JSON is
//! NDJSON, one full report document per input with its `path`:
#![doc = include_str!("../../doc/schema/report-each.md")]

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::Mutex;

use crate::config::{Config, ReportFormat, Walk};
use crate::correlate::Analysis;
use crate::input::walk::{Found, Inputs, WalkOptions};
use crate::input::{InputError, InputSpec};
use crate::output::sanitize::for_terminal;
use crate::output::{self, Status, Style};
use crate::reader::driver::{self, NoHook};
use crate::reader::ReadOptions;
use crate::rules::{self, Counts, Finding, RuleId, Severity};

/// What a finding is, across captures: its rule and what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Signature {
    /// The rule's severity (findings of one rule may differ in confidence, never in severity).
    pub severity: Severity,
    /// The rule.
    pub rule: RuleId,
    /// The splat title (`kernel-splat`), `eb N` (eb rules), or empty.
    pub what: String,
}

impl Signature {
    /// The signature of a finding.
    pub(crate) fn of(f: &Finding) -> Signature {
        let what = match (f.title(), f.eb()) {
            (Some(t), _) => t.to_string(),
            (None, Some(eb)) => format!("eb {eb}"),
            (None, None) => String::new(),
        };
        Signature {
            severity: f.severity,
            rule: f.rule,
            what,
        }
    }
}

/// What the analysis of one input sends back.
struct Analysed {
    /// Its place in the run.
    index: u64,
    /// Its display name.
    name: String,
    /// Why it could not be read to its end.
    error: Option<InputError>,
    /// Its findings per severity.
    counts: Counts,
    /// Its distinct signatures, with the findings of each.
    signatures: Vec<(Signature, u64)>,
    /// Its NDJSON line (with `--json`).
    line: Option<Vec<u8>>,
}

/// Analyse one input on the calling thread.
fn analyse(
    index: u64,
    spec: &InputSpec,
    opts: &ReadOptions,
    max_live: usize,
    json: bool,
) -> Analysed {
    let mut an = Analysis::new(max_live);
    let outcome = driver::run_inputs(std::slice::from_ref(spec), opts, &mut an, &mut NoHook);
    an.finish();
    let findings = rules::evaluate(&an);
    let name = spec.display_name();
    let line = json.then(|| {
        let mut v = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = super::json::write_line(&mut v, &name, &an, &findings, &outcome.inputs);
        v
    });
    let mut by: HashMap<Signature, u64> = HashMap::new();
    for f in &findings {
        *by.entry(Signature::of(f)).or_default() += 1;
    }
    let error = outcome.inputs.into_iter().next().and_then(|r| r.error);
    Analysed {
        index,
        name,
        error,
        counts: Counts::of(&findings),
        signatures: by.into_iter().collect(),
        line,
    }
}

/// The inputs in which one signature appears.
#[derive(Debug, Default)]
struct Group {
    captures: u64,
    findings: u64,
    /// The first input (in input order) with it.
    first: String,
}

/// What the run found, summed up as results come in.
#[derive(Debug, Default)]
struct Summary {
    inputs: u64,
    failed: u64,
    with_findings: u64,
    /// Read to their end, nothing found.
    clean: u64,
    hit: bool,
    counts: Counts,
    groups: BTreeMap<Signature, Group>,
}

impl Summary {
    fn add(&mut self, a: &Analysed, fail_on: Option<Severity>) {
        self.inputs += 1;
        if a.error.is_some() {
            self.failed += 1;
        }
        let c = a.counts;
        if c.error + c.warning + c.info > 0 {
            self.with_findings += 1;
        } else if a.error.is_none() {
            self.clean += 1;
        }
        self.counts.error += c.error;
        self.counts.warning += c.warning;
        self.counts.info += c.info;
        if fail_on.is_some_and(|t| c.any_at_least(t)) {
            self.hit = true;
        }
        for (sig, n) in &a.signatures {
            let g = self.groups.entry(sig.clone()).or_default();
            if g.captures == 0 {
                g.first = a.name.clone();
            }
            g.captures += 1;
            g.findings += n;
        }
    }

    /// Signatures by severity, then the most captures first.
    fn sorted(&self) -> Vec<(&Signature, &Group)> {
        let mut v: Vec<_> = self.groups.iter().collect();
        v.sort_by(|a, b| {
            (a.0.severity, std::cmp::Reverse(a.1.captures), a.0).cmp(&(
                b.0.severity,
                std::cmp::Reverse(b.1.captures),
                b.0,
            ))
        });
        v
    }
}

/// Run `report --each`.
pub(crate) fn command(
    cfg: &Config,
    format: ReportFormat,
    max_live: usize,
    walk: Walk,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Status> {
    let json = format == ReportFormat::Json;
    let workers = cfg.read.threads.max(1);
    let opts = ReadOptions {
        threads: 1,
        ..cfg.read.clone()
    };
    let found = Inputs::new(
        cfg.inputs.clone(),
        WalkOptions {
            hidden: walk.hidden,
            no_ignore: walk.no_ignore,
        },
    );
    let mut summary = Summary::default();
    let mut emit = |a: Analysed| -> io::Result<()> {
        if let Some(e) = &a.error {
            let what = for_terminal(e.to_string().as_bytes()).into_owned();
            let _ = writeln!(err, "tracesift: {what}");
            let _ = writeln!(err, "  hint: {}", e.hint());
        }
        if let (Some(line), false) = (&a.line, cfg.quiet) {
            out.write_all(line)?;
        }
        summary.add(&a, cfg.fail_on);
        Ok(())
    };
    run_parallel(
        found,
        workers,
        |i, spec| analyse(i, spec, &opts, max_live, json),
        &mut emit,
    )?;
    if summary.inputs == 0 {
        let _ = writeln!(
            err,
            "tracesift: no input: the directories given hold no file to read (see --hidden, --no-ignore)"
        );
        return Ok(Status::Trouble);
    }
    if !json && !cfg.quiet {
        write_text(out, &summary, &cfg.style)?;
    }
    out.flush()?;
    Ok(if summary.failed > 0 {
        Status::Trouble
    } else if summary.hit {
        Status::Findings
    } else {
        Status::Clean
    })
}

/// Analyse what `found` yields on `workers` threads with `work`, handing
/// each result to `emit` in input order. At most `2 × workers` inputs are
/// in flight (being analysed, or done and waiting for an earlier one).
fn run_parallel<F, E>(found: Inputs, workers: usize, work: F, emit: &mut E) -> io::Result<()>
where
    F: Fn(u64, &InputSpec) -> Analysed + Sync,
    E: FnMut(Analysed) -> io::Result<()>,
{
    let window = 2 * workers as u64;
    let (work_tx, work_rx) = mpsc::channel::<(u64, InputSpec)>();
    let (done_tx, done_rx) = mpsc::channel::<Analysed>();
    let work_rx = Mutex::new(work_rx);
    std::thread::scope(|s| {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let (work_rx, work) = (&work_rx, &work);
            s.spawn(move || loop {
                // The lock is held only to take the next input.
                let next = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((i, spec)) = next else { return };
                if done_tx.send(work(i, &spec)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let mut found = found.peekable();
        let (mut sent, mut next, mut with_workers) = (0u64, 0u64, 0u64);
        let mut waiting: BTreeMap<u64, Analysed> = BTreeMap::new();
        let result = loop {
            while sent - next < window {
                match found.next() {
                    Some(Found::Input(spec)) => {
                        if work_tx.send((sent, spec)).is_err() {
                            break;
                        }
                        with_workers += 1;
                    }
                    Some(Found::Error(e)) => {
                        waiting.insert(sent, unreadable(sent, e));
                    }
                    None => break,
                }
                sent += 1;
            }
            let mut failed = None;
            while let Some(a) = waiting.remove(&next) {
                next += 1;
                if let Err(e) = emit(a) {
                    failed = Some(e);
                    break;
                }
            }
            if let Some(e) = failed {
                break Err(e);
            }
            if with_workers == 0 {
                if found.peek().is_none() && next == sent {
                    break Ok(());
                }
                continue;
            }
            match done_rx.recv() {
                Ok(a) => {
                    with_workers -= 1;
                    waiting.insert(a.index, a);
                }
                // Every worker is gone (none can be, while inputs are out).
                Err(_) => break Err(io::Error::other("the analysis threads stopped")),
            }
        };
        // Closing the queue ends the workers once their input is done.
        drop(work_tx);
        result
    })
}

/// The result for a path the walk could not read.
fn unreadable(index: u64, e: InputError) -> Analysed {
    Analysed {
        index,
        name: e.name.clone(),
        error: Some(e),
        counts: Counts::default(),
        signatures: Vec::new(),
        line: None,
    }
}

/// The grouped summary for a terminal.
fn write_text(out: &mut dyn Write, s: &Summary, style: &Style) -> io::Result<()> {
    let c = s.counts;
    writeln!(
        out,
        "tracesift report --each: {}: {} with findings, {} clean{}",
        output::count(s.inputs, "input", "inputs"),
        s.with_findings,
        s.clean,
        if s.failed > 0 {
            format!(", {} unreadable", s.failed)
        } else {
            String::new()
        }
    )?;
    writeln!(
        out,
        "Findings: {} error, {} warning, {} info; {} distinct signatures.",
        c.error,
        c.warning,
        c.info,
        s.groups.len()
    )?;
    if s.groups.is_empty() {
        return Ok(());
    }
    let rows = s.sorted();
    let rule_w = rows
        .iter()
        .map(|(g, _)| g.rule.id().len())
        .max()
        .unwrap_or(4);
    writeln!(out)?;
    writeln!(
        out,
        "captures findings severity {:<rule_w$} signature (first input)",
        "rule"
    )?;
    for (sig, g) in rows {
        let name = format!("{:<7}", sig.severity.name());
        let sev = match sig.severity {
            Severity::Error => style.error(&name),
            Severity::Warning => style.warning(&name),
            Severity::Info => style.info(&name),
        };
        let what = if sig.what.is_empty() {
            String::new()
        } else {
            format!("{} ", for_terminal(sig.what.as_bytes()))
        };
        writeln!(
            out,
            "{:>8} {:>8} {sev}  {:<rule_w$} {what}({})",
            g.captures,
            g.findings,
            sig.rule.id(),
            for_terminal(g.first.as_bytes())
        )?;
    }
    Ok(())
}
