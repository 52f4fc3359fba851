//! `tracesift export`: the trace inside a capture, for the tools people
//! already use.
//!
//! A console capture holds its trace in `ftrace_dump_on_oops` dumps, in
//! latency format, behind console prefixes, between kernel messages and
//! sometimes mangled by a mail client; no trace tool opens it. `export`
//! reads it as `report` does (the same reader, paste repair and grammars)
//! and writes what it read, trace by trace:
//!
//! * [`tracefs`]: a tracefs `trace` file per trace, the `# tracer:` header
//!   with its entry counts and CPU count, then one event per line in the
//!   normal format, lost-events markers where they were;
//! * [`perfetto`]: one Trace Event Format document, eb lifetimes as async
//!   slices, reads, lost events and findings as instants, a track per CPU.
//!
//! Which trace lines make a trace ([`crate::config::ExportSelect`]): by
//! default each dump (the lines between its `Dumping ftrace buffer:` and its
//! closing rule that are trace events or lost-events markers, so kernel
//! messages printed in between are left out), plus, as one more trace, the
//! trace lines outside every dump (a tracefs file, a pasted trace); or one
//! dump (`--dump N`), every trace line of one boot (`--boot N`), or every
//! trace line (`--all`). Dumps and boots are numbered as `report --json`
//! numbers them, from 0. The correlator reads every line whichever are
//! exported, so lifetimes and findings are those of the whole capture.

pub mod perfetto;
pub mod tracefs;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::config::{Config, ExportFormat, ExportSelect};
use crate::correlate::coverage::{FIRST_DUMPS_KEPT, LAST_DUMPS_KEPT};
use crate::correlate::ebs::Note;
use crate::correlate::keep::HeadTail;
use crate::correlate::Analysis;
use crate::event::{self, Event, EventKind, Recognizer};
use crate::grammar::{Body, Framing, Header, LineClass};
use crate::input::Pos;
use crate::output::{self, Status};
use crate::reader::driver::{self, ReaderHook};
use crate::reader::{Caps, Flow, RecordSink, SinkResult};
use crate::record::Record;
use crate::rules::{self, Finding};

use perfetto::{micros, tid, Ev};
use tracefs::Spool;

/// A trace being exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// A dump, by its index.
    Dump(u64),
    /// The trace lines outside every dump.
    Rest,
    /// Every trace line of a boot.
    Boot(u32),
    /// Every trace line.
    All,
}

/// What one trace exported has gathered so far.
struct Open {
    unit: Unit,
    /// Its lines, for the tracefs format.
    spool: Spool,
    /// Its process, for the perfetto format.
    pid: u32,
    /// CPUs whose track was named (perfetto).
    cpus: Vec<Option<u32>>,
    /// The latest trace time written (µs, perfetto).
    last_ts: Option<f64>,
    /// Its first and last line, and its boot.
    first: Option<Pos>,
    last: Option<Pos>,
    boot: u32,
    /// Events and markers written.
    written: u64,
    /// Its process was named (perfetto).
    named: bool,
    /// Lost-events markers waiting for the next trace time (perfetto): a
    /// marker has no time of its own and comes just before its CPU's event.
    lost: Vec<(u32, Option<u64>)>,
}

/// A trace already written, for placing the findings (perfetto).
#[derive(Debug, Clone, Copy)]
struct Done {
    unit: Unit,
    pid: u32,
    first: Pos,
    last: Pos,
    boot: u32,
}

/// Where the output goes.
enum Output<'o> {
    /// The writer the command was given (standard output).
    Given(&'o mut dyn Write),
    /// `-o FILE`, opened on first use.
    File(PathBuf, Option<BufWriter<File>>),
    /// `-o` with `{}`: one file per trace.
    Pattern(String),
}

impl Output<'_> {
    /// The writer for a trace labelled `label`.
    fn writer(&mut self, label: &str) -> io::Result<Box<dyn Write + '_>> {
        Ok(match self {
            Output::Given(w) => Box::new(&mut **w),
            Output::File(path, f) => {
                if f.is_none() {
                    *f = Some(BufWriter::new(create(path)?));
                }
                match f {
                    Some(f) => Box::new(f),
                    None => return Err(io::Error::other("output not open")),
                }
            }
            Output::Pattern(p) => {
                let path = PathBuf::from(p.replace("{}", label));
                Box::new(BufWriter::new(create(&path)?))
            }
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Given(w) => w.flush(),
            Output::File(_, Some(f)) => f.flush(),
            _ => Ok(()),
        }
    }
}

fn create(path: &Path) -> io::Result<File> {
    File::create(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The open lifetime slice of an eb (perfetto).
#[derive(Debug, Clone, Copy)]
struct Slice {
    pid: u32,
    tid: u32,
}

/// The sink: correlates every record, and writes those of the traces
/// chosen.
struct Exporter<'o> {
    an: Analysis,
    recognizer: Recognizer,
    format: ExportFormat,
    select: ExportSelect,
    out: Output<'o>,
    names: Vec<String>,
    /// The trace being read (a dump, a boot, everything).
    open: Option<Open>,
    /// The trace lines outside every dump (default selection).
    rest: Option<Open>,
    /// Traces written, in order, for placing the findings (perfetto): the
    /// first and the latest, like the dumps a report lists (a capture can
    /// hold hundreds of thousands of dumps); a finding in a trace no longer
    /// kept is listed with the document's findings but not drawn.
    done: HeadTail<Done>,
    /// A dump was written: the lines outside every dump are the "rest".
    dump_done: bool,
    /// Processes handed out (perfetto).
    pids: u32,
    /// Lines (events and markers) written over all traces.
    written: u64,
    doc: perfetto::Doc,
    /// Open lifetime slices by eb (perfetto).
    slices: HashMap<u64, Slice>,
}

impl<'o> Exporter<'o> {
    fn label(&self, unit: Unit) -> String {
        match unit {
            Unit::Dump(d) => d.to_string(),
            Unit::Rest if self.dump_done => "rest".into(),
            Unit::Rest | Unit::All => "all".into(),
            Unit::Boot(b) => b.to_string(),
        }
    }

    /// The trace a record belongs to, given the dump it is in and its boot.
    fn unit_of(&self, dump: Option<u64>, boot: u32) -> Option<Unit> {
        match self.select {
            ExportSelect::Dumps => Some(dump.map_or(Unit::Rest, Unit::Dump)),
            ExportSelect::Dump(n) => dump.filter(|&d| d == u64::from(n)).map(Unit::Dump),
            ExportSelect::Boot(n) => (boot == n).then_some(Unit::Boot(n)),
            ExportSelect::All => Some(Unit::All),
        }
    }

    fn begin(&mut self, unit: Unit) -> io::Result<Open> {
        self.pids += 1;
        let pid = self.pids;
        Ok(Open {
            unit,
            spool: Spool::default(),
            pid,
            cpus: Vec::new(),
            last_ts: None,
            first: None,
            last: None,
            boot: self.an.boots.current(),
            written: 0,
            named: false,
            lost: Vec::new(),
        })
    }

    fn process_name(&self, unit: Unit) -> String {
        let cov = &self.an.coverage;
        match unit {
            Unit::Dump(d) => match cov.dump(d) {
                Some(dump) => {
                    let name = self
                        .names
                        .get(dump.input as usize)
                        .map_or("?", |n| n.as_str());
                    format!(
                        "dump {d} ({}:{}, boot {})",
                        output::short_name(name),
                        dump.line,
                        dump.boot
                    )
                }
                None => format!("dump {d}"),
            },
            Unit::Rest if cov.dump_count() == 0 => "trace".into(),
            Unit::Rest => "trace lines outside dumps".into(),
            Unit::Boot(b) => format!("boot {b}"),
            Unit::All => "trace".into(),
        }
    }

    /// The trace `unit` ended: write it (tracefs) or close its slices
    /// (perfetto).
    fn end(&mut self, mut o: Open) -> io::Result<()> {
        let keep =
            o.written > 0 || matches!(self.select, ExportSelect::Dump(_) | ExportSelect::Boot(_));
        self.written += o.written;
        if self.format == ExportFormat::Perfetto {
            let ts = o.last_ts.unwrap_or(0.0);
            self.lost_events(&mut o, ts)?;
        }
        self.dump_done |= matches!(o.unit, Unit::Dump(_)) && (keep || o.first.is_some());
        if let (Some(first), Some(last)) = (o.first, o.last) {
            self.done.push(Done {
                unit: o.unit,
                pid: o.pid,
                first,
                last,
                boot: o.boot,
            });
        } else if keep {
            let at = Pos::default();
            self.done.push(Done {
                unit: o.unit,
                pid: o.pid,
                first: at,
                last: at,
                boot: o.boot,
            });
        }
        match self.format {
            ExportFormat::Tracefs => {
                if keep {
                    let label = self.label(o.unit);
                    let mut w = self.out.writer(&label)?;
                    o.spool.write_to(&mut *w)?;
                    w.flush()?;
                }
            }
            ExportFormat::Perfetto => self.close_slices(o.pid, o.last_ts.unwrap_or(0.0))?,
        }
        Ok(())
    }

    /// End the open lifetime slices of process `pid` at `ts`, unreleased
    /// (the trace or the boot ended), in eb order.
    fn close_slices(&mut self, pid: u32, ts: f64) -> io::Result<()> {
        let mut ending: Vec<u64> = self
            .slices
            .iter()
            .filter(|(_, s)| s.pid == pid)
            .map(|(&eb, _)| eb)
            .collect();
        ending.sort_unstable();
        for eb in ending {
            if let Some(s) = self.slices.remove(&eb) {
                let w = &mut *self.out.writer("")?;
                let ev = Ev::slice("e", eb, ts, s.pid, s.tid, json!({"released": false}));
                self.doc.event(w, &ev)?;
            }
        }
        Ok(())
    }

    /// A new boot began: no lifetime lives across it, and its trace clock
    /// starts again, so the slices still open end where their trace last
    /// had a time.
    fn new_boot(&mut self) -> io::Result<()> {
        let open: Vec<(u32, f64)> = [self.open.as_ref(), self.rest.as_ref()]
            .into_iter()
            .flatten()
            .map(|o| (o.pid, o.last_ts.unwrap_or(0.0)))
            .collect();
        for (pid, ts) in open {
            self.close_slices(pid, ts)?;
        }
        for o in [self.open.as_mut(), self.rest.as_mut()]
            .into_iter()
            .flatten()
        {
            o.last_ts = None;
        }
        Ok(())
    }

    /// Make `unit` the open trace, ending the one before if it differs.
    fn switch(&mut self, unit: Option<Unit>) -> io::Result<()> {
        let main = unit.filter(|u| *u != Unit::Rest);
        if self.open.as_ref().map(|o| o.unit) != main {
            if let Some(o) = self.open.take() {
                self.end(o)?;
            }
            if let Some(u) = main {
                self.open = Some(self.begin(u)?);
            }
        }
        if unit == Some(Unit::Rest) && self.rest.is_none() {
            self.rest = Some(self.begin(Unit::Rest)?);
        }
        Ok(())
    }

    /// The trace `unit` is in, open.
    fn target(&mut self, unit: Unit) -> Option<&mut Open> {
        if unit == Unit::Rest {
            self.rest.as_mut()
        } else {
            self.open.as_mut()
        }
    }

    /// Write the tracefs line of a record of `unit`.
    fn tracefs_line(&mut self, unit: Unit, r: &Record<'_>) -> io::Result<()> {
        let Some(o) = self.target(unit) else {
            return Ok(());
        };
        let s = &mut o.spool;
        let wrote = match &r.body {
            Body::Trace(t) => {
                s.event(t, r.msg)?;
                true
            }
            Body::Framing(Framing::Lost { cpu, count })
            | Body::Framing(Framing::EventsDropped {
                cpu: Some(cpu),
                count,
            }) => {
                s.lost(*cpu, *count)?;
                true
            }
            Body::Framing(Framing::BufferStarted { cpu }) => {
                s.buffer_started(*cpu)?;
                true
            }
            Body::Header(Header::Tracer(name)) => {
                s.tracer = Some(String::from_utf8_lossy(name).into_owned());
                false
            }
            Body::Header(Header::Entries { cpus, .. }) => {
                s.header_cpus = s.header_cpus.max(*cpus);
                false
            }
            _ if r.class == LineClass::Continuation && s.after_event => {
                s.continuation(r.msg)?;
                false
            }
            _ => {
                if r.class != LineClass::Blank {
                    s.after_event = false;
                }
                false
            }
        };
        if wrote {
            o.written += 1;
            o.first.get_or_insert(r.pos);
            o.last = Some(r.pos);
        }
        Ok(())
    }

    /// Name a CPU's track in the open trace `unit`, once (perfetto).
    fn track(&mut self, unit: Unit, cpu: Option<u32>) -> io::Result<Option<u32>> {
        self.name_process(unit)?;
        let Some(o) = self.target(unit) else {
            return Ok(None);
        };
        let pid = o.pid;
        if !o.cpus.contains(&cpu) {
            o.cpus.push(cpu);
            let w = &mut *self.out.writer("")?;
            for ev in perfetto::cpu_track(pid, cpu) {
                self.doc.event(w, &ev)?;
            }
        }
        Ok(Some(pid))
    }

    /// The perfetto events of a record of `unit`: lost events and what the
    /// correlator made of its event.
    fn perfetto_record(
        &mut self,
        unit: Unit,
        r: &Record<'_>,
        e: Option<&Event<'_>>,
        note: Note,
    ) -> io::Result<()> {
        let (cpu, ts) = match (&r.body, e) {
            (Body::Trace(t), _) => (t.cpu, t.ts),
            (_, Some(e)) => (e.cpu, e.trace_ts),
            _ => (None, None),
        };
        if let Body::Framing(
            Framing::Lost { cpu, count }
            | Framing::EventsDropped {
                cpu: Some(cpu),
                count,
            },
        ) = r.body
        {
            self.mark(unit, r.pos)?;
            if let Some(o) = self.target(unit) {
                o.lost.push((cpu, count));
            }
            return Ok(());
        }
        let Some(ts) = ts.map(micros) else {
            return Ok(());
        };
        if !matches!(r.body, Body::Trace(_)) {
            return Ok(());
        }
        if let Some(mut o) = self.open_of(unit) {
            o.last_ts = Some(o.last_ts.map_or(ts, |l| l.max(ts)));
            let r = self.lost_events(&mut o, ts);
            self.put_back(o);
            r?;
        }
        self.mark(unit, r.pos)?;
        let Some(e) = e else { return Ok(()) };
        let Some(eb) = e.kind.eb() else {
            return Ok(());
        };
        if matches!(note, Note::None) {
            return Ok(());
        }
        let Some(pid) = self.track(unit, cpu)? else {
            return Ok(());
        };
        let t = tid(cpu);
        let task = format!(
            "{}-{}",
            String::from_utf8_lossy(e.comm),
            e.pid.map_or_else(|| "?".into(), |p| p.to_string())
        );
        let mut evs = Vec::new();
        // An instant for what happened to the eb besides lifetimes and reads.
        let mark_eb = |what: &str, n: Option<u32>| {
            let mut args = json!({"eb": eb, "task": task});
            if let (Some(n), Some(m)) = (n, args.as_object_mut()) {
                m.insert("lifetime".into(), json!(n));
            }
            Ev::instant(format!("{what} eb {eb}"), "eb", ts, pid, t, args)
        };
        let begin =
            |evs: &mut Vec<Ev>, args: serde_json::Value, slices: &mut HashMap<u64, Slice>| {
                if let Some(old) = slices.remove(&eb) {
                    evs.push(Ev::slice(
                        "e",
                        eb,
                        ts,
                        old.pid,
                        old.tid,
                        json!({"released": false}),
                    ));
                }
                evs.push(Ev::slice("b", eb, ts, pid, t, args));
                slices.insert(eb, Slice { pid, tid: t });
            };
        match note {
            Note::NewLifetime {
                n,
                realloc,
                missed_release,
            } => begin(
                &mut evs,
                json!({"eb": eb, "lifetime": n, "alloc_by": task, "cpu": cpu,
                       "realloc": realloc, "missed_release": missed_release}),
                &mut self.slices,
            ),
            Note::ReadOrphan { n, after_release } => {
                begin(
                    &mut evs,
                    json!({"eb": eb, "lifetime": n, "alloc_in_trace": false,
                           "after_release": after_release}),
                    &mut self.slices,
                );
                evs.push(read(eb, n, 1, ts, pid, t, &task, e));
            }
            Note::Read { n, k } => evs.push(read(eb, n, k, ts, pid, t, &task, e)),
            Note::FinalRelease { n, ambiguous } => {
                if let Some(s) = self.slices.remove(&eb) {
                    evs.push(Ev::slice(
                        "e",
                        eb,
                        ts,
                        s.pid,
                        s.tid,
                        json!({"released": true, "released_by": task, "lifetime": n,
                               "ambiguous": ambiguous}),
                    ));
                }
            }
            Note::Contender { n } => evs.push(mark_eb("contending alloc", Some(n))),
            Note::Discard { n } => evs.push(mark_eb("discard", n)),
            Note::Clone => evs.push(mark_eb("clone", None)),
            Note::CloneRelease => evs.push(mark_eb("clone release", None)),
            Note::None => {}
        }
        let w = &mut *self.out.writer("")?;
        for ev in &evs {
            self.doc.event(w, ev)?;
        }
        Ok(())
    }

    /// Note that trace `unit` holds the line at `pos` (perfetto).
    fn mark(&mut self, unit: Unit, pos: Pos) -> io::Result<()> {
        self.name_process(unit)?;
        if let Some(o) = self.target(unit) {
            o.written += 1;
            o.first.get_or_insert(pos);
            o.last = Some(pos);
        }
        Ok(())
    }

    /// Name the process of trace `unit` on its first event (perfetto).
    fn name_process(&mut self, unit: Unit) -> io::Result<()> {
        let Some(o) = self.target(unit) else {
            return Ok(());
        };
        if o.named {
            return Ok(());
        }
        o.named = true;
        let (pid, unit) = (o.pid, o.unit);
        let name = self.process_name(unit);
        let w = &mut *self.out.writer("")?;
        self.doc.event(w, &perfetto::process(pid, &name))
    }

    /// Take the open trace `unit` out (to hand it to a method that needs
    /// the rest of `self`); [`Exporter::put_back`] returns it.
    fn open_of(&mut self, unit: Unit) -> Option<Open> {
        if unit == Unit::Rest {
            self.rest.take()
        } else {
            self.open.take()
        }
    }

    fn put_back(&mut self, o: Open) {
        if o.unit == Unit::Rest {
            self.rest = Some(o);
        } else {
            self.open = Some(o);
        }
    }

    /// The lost-events markers of `o` waiting for a time, as instants at `ts`.
    fn lost_events(&mut self, o: &mut Open, ts: f64) -> io::Result<()> {
        for (cpu, count) in std::mem::take(&mut o.lost) {
            if !o.cpus.contains(&Some(cpu)) {
                o.cpus.push(Some(cpu));
                let w = &mut *self.out.writer("")?;
                for ev in perfetto::cpu_track(o.pid, Some(cpu)) {
                    self.doc.event(w, &ev)?;
                }
            }
            let ev = Ev::instant(
                format!("lost events CPU {cpu}"),
                "lost",
                ts,
                o.pid,
                tid(Some(cpu)),
                json!({ "cpu": cpu, "count": count }),
            );
            let w = &mut *self.out.writer("")?;
            self.doc.event(w, &ev)?;
        }
        Ok(())
    }

    /// The end of the run: the open traces end; with perfetto, the findings
    /// are placed and the document closed.
    fn finish(&mut self) -> io::Result<()> {
        if let Some(o) = self.open.take() {
            self.end(o)?;
        }
        if let Some(o) = self.rest.take() {
            self.end(o)?;
        }
        self.an.finish();
        if self.format == ExportFormat::Perfetto {
            let findings = rules::evaluate(&self.an);
            let mut listed = Vec::new();
            for f in &findings {
                let placed = self.place(f);
                if let Some(ev) = &placed {
                    let w = &mut *self.out.writer("")?;
                    self.doc.event(w, ev)?;
                }
                listed.push(json!({
                    "rule": f.rule.id(), "severity": f.severity.name(),
                    "confidence": f.confidence.name(), "eb": f.eb(), "message": f.message,
                    "pid": placed.as_ref().map(|e| e.pid),
                }));
            }
            let other = json!({
                "tool": output::Tool::current(),
                "source": self.names,
                "findings": listed,
            });
            let w = &mut *self.out.writer("")?;
            self.doc.finish(w, other)?;
        }
        self.out.flush()
    }

    /// A finding as an instant event in the trace that holds its first
    /// evidence line with a trace time, if one was exported.
    fn place(&self, f: &Finding) -> Option<Ev> {
        let ev = f.evidence.iter().find(|e| e.trace_ts.is_some())?;
        let ts = micros(ev.trace_ts?);
        let within = |d: &&Done| match d.unit {
            Unit::Dump(_) => {
                d.first.input == ev.pos.input
                    && d.first.line <= ev.pos.line
                    && ev.pos.line <= d.last.line
            }
            Unit::Boot(b) => ev.boot == b,
            Unit::All => true,
            Unit::Rest => false,
        };
        let done = self.done.iter().map(|(_, d)| d).find(within).or_else(|| {
            self.done
                .iter()
                .map(|(_, d)| d)
                .find(|d| d.unit == Unit::Rest && d.boot <= ev.boot)
        })?;
        let mut args = json!({
            "rule": f.rule.id(), "severity": f.severity.name(),
            "confidence": f.confidence.name(), "message": f.message,
        });
        if let (Some(eb), Some(m)) = (f.eb(), args.as_object_mut()) {
            m.insert("eb".into(), json!(eb));
        }
        Some(Ev {
            s: Some("p"),
            ..Ev::instant(
                f.rule.id().to_string(),
                "finding",
                ts,
                done.pid,
                tid(ev.cpu),
                args,
            )
        })
    }
}

/// The instant event of a read completion.
#[allow(clippy::too_many_arguments)]
fn read(eb: u64, n: u32, k: u32, ts: f64, pid: u32, t: u32, task: &str, e: &Event<'_>) -> Ev {
    let mut args = json!({"eb": eb, "lifetime": n, "read": k, "task": task});
    if let (EventKind::ReadDone(d), Some(m)) = (e.kind, args.as_object_mut()) {
        if let Some(p) = d.page_refs {
            m.insert("page_refs".into(), json!(p));
        }
        if let Some(l) = d.level {
            m.insert("level".into(), json!(l));
        }
    }
    let name = if k > 1 {
        format!("read {k} of eb {eb}")
    } else {
        format!("read eb {eb}")
    };
    Ev::instant(name, "read", ts, pid, t, args)
}

impl RecordSink for Exporter<'_> {
    fn caps(&self) -> Caps {
        Caps::events(self.recognizer.clone())
    }

    fn record(&mut self, r: &Record<'_>, kind: Option<EventKind<'_>>) -> SinkResult {
        let before = self.an.boots.current();
        let note = self.an.record_noted(r, kind);
        let boot = self.an.boots.current();
        if boot != before && self.format == ExportFormat::Perfetto {
            self.new_boot()?;
        }
        let dump = self.an.coverage.current_dump(r.pos.input);
        let unit = self.unit_of(dump, boot);
        self.switch(unit)?;
        let e = kind.map(|k| Event {
            boot,
            ..event::assemble(r, k)
        });
        if let Some(u) = unit {
            match self.format {
                ExportFormat::Tracefs => self.tracefs_line(u, r)?,
                ExportFormat::Perfetto => self.perfetto_record(u, r, e.as_ref(), note)?,
            }
        }
        Ok(Flow::Continue)
    }

    fn end_input(&mut self, input: u32) -> SinkResult {
        self.an.end_input(input)
    }
}

/// Run `export`.
pub(crate) fn command(
    cfg: &Config,
    format: ExportFormat,
    select: ExportSelect,
    output: Option<&Path>,
    hook: &mut dyn ReaderHook,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Status> {
    let out = match output {
        None => Output::Given(out),
        Some(p) if format == ExportFormat::Tracefs && p.to_string_lossy().contains("{}") => {
            Output::Pattern(p.to_string_lossy().into_owned())
        }
        Some(p) => Output::File(p.to_path_buf(), None),
    };
    let mut ex = Exporter {
        an: Analysis::new(crate::correlate::ebs::DEFAULT_MAX_LIVE),
        recognizer: Recognizer::builtin(),
        format,
        select,
        out,
        names: cfg.inputs.iter().map(|i| i.display_name()).collect(),
        open: None,
        rest: None,
        done: HeadTail::new(FIRST_DUMPS_KEPT, LAST_DUMPS_KEPT),
        dump_done: false,
        pids: 0,
        written: 0,
        doc: perfetto::Doc::default(),
        slices: HashMap::new(),
    };
    let outcome = driver::run_inputs(&cfg.inputs, &cfg.read, &mut ex, hook);
    let failed = output::input_errors(&outcome.inputs, err);
    if let Some(e) = outcome.sink_error {
        return Err(e);
    }
    ex.finish()?;
    let missing = match select {
        ExportSelect::Dump(n) if u64::from(n) >= ex.an.coverage.dump_count() => Some(format!(
            "there is no dump {n}: the inputs hold {} (numbered from 0)",
            output::count(ex.an.coverage.dump_count(), "dump", "dumps")
        )),
        ExportSelect::Boot(n) if u64::from(n) >= ex.an.boots.count() => Some(format!(
            "there is no boot {n}: the inputs hold {} (numbered from 0)",
            output::count(ex.an.boots.count(), "boot", "boots")
        )),
        _ => None,
    };
    if let Some(m) = missing {
        let _ = writeln!(err, "tracesift: {m}");
        return Ok(Status::Trouble);
    }
    let written = ex.written;
    if written == 0 && !failed {
        let _ = writeln!(err, "tracesift: no trace line to export in the inputs");
    }
    Ok(if failed {
        Status::Trouble
    } else if written == 0 {
        Status::Findings
    } else {
        Status::Clean
    })
}
