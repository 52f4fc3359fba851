//! Stage 5: correlation. Events become facts: eb lifetimes and their
//! anomalies ([`ebs`]), splats ([`splat`]), grouped corruption reports and
//! aborts ([`reports`]), and what survived of the trace ([`coverage`]).
//! [`Analysis`] feeds all of them from one record stream, boot by boot
//! ([`boots`]): nothing a tracker follows lives across a boot.

pub mod arena;
pub mod boots;
pub mod coverage;
pub mod declared;
pub mod ebs;
pub mod evidence;
pub(crate) mod keep;
pub mod reports;
pub mod splat;
pub mod table;
pub mod tracker;

use crate::event::Recognizer;
use crate::event::{self, Event, EventKind};
use crate::reader::{Caps, Flow, RecordSink, SinkResult, TraceRun};
use crate::record::Record;
use tracker::Tracker;

/// Everything a run learned, fed record by record.
#[derive(Debug)]
pub struct Analysis {
    /// The boots found.
    pub boots: boots::Boots,
    /// Per-CPU windows and dumps.
    pub coverage: coverage::Coverage,
    /// Eb lifetimes.
    pub ebs: ebs::EbTracker,
    /// Kernel splats.
    pub splats: splat::SplatTracker,
    /// Corruption reports and aborts.
    pub reports: reports::Reports,
    /// The lifecycles rules files declare.
    pub declared: declared::DeclaredTracker,
    /// Physical lines per input.
    pub lines: Vec<u64>,
    /// Recognised events.
    pub events: u64,
    /// Lines no grammar recognised (as `stats` counts them).
    pub unrecognized: u64,
    /// What finds the events.
    recognizer: Recognizer,
}

impl Analysis {
    /// An empty analysis tracking at most `max_live` ebs, with no declared rules.
    pub fn new(max_live: usize) -> Analysis {
        Analysis::with_rules(max_live, std::sync::Arc::new(crate::spec::Rules::empty()))
    }

    /// An empty analysis tracking at most `max_live` ebs and `max_live`
    /// declared keys, finding the events and following the lifecycles of
    /// `rules`.
    pub(crate) fn with_rules(
        max_live: usize,
        rules: std::sync::Arc<crate::spec::Rules>,
    ) -> Analysis {
        Analysis {
            declared: declared::DeclaredTracker::new(rules.clone(), max_live),
            boots: boots::Boots::default(),
            coverage: coverage::Coverage::default(),
            ebs: ebs::EbTracker::new(max_live),
            splats: splat::SplatTracker::default(),
            reports: reports::Reports::default(),
            lines: Vec::new(),
            events: 0,
            unrecognized: 0,
            recognizer: Recognizer::with_rules(rules),
        }
    }

    /// The input is read: complete what waits for more lines (splats still
    /// looking for their function). Rules read a finished analysis.
    pub fn finish(&mut self) {
        self.coverage.finish();
        self.end_boot(self.boots.current());
        self.ebs.finish();
        Tracker::finish(&mut self.splats);
        Tracker::finish(&mut self.declared);
        self.reports.finish();
    }

    /// Boot `boot` ended: its splats are settled and learn what their task
    /// did last, then its lifetimes close.
    fn end_boot(&mut self, boot: u32) {
        Tracker::end_boot(&mut self.splats);
        let ebs = &self.ebs;
        for g in self.splats.groups_mut(boot) {
            if let (Some(t), true) = (g.task, g.trail.is_empty()) {
                g.trail = ebs.trail(boot, t.pid);
            }
        }
        self.ebs.end_boot();
        Tracker::end_boot(&mut self.declared);
    }

    /// Note a record for the boots, the coverage and the splats: a record
    /// that starts a new boot first closes what the old one left open.
    pub(crate) fn observe(&mut self, r: &Record<'_>) {
        if self.boots.record(r) {
            let boot = self.boots.current();
            self.end_boot(boot.saturating_sub(1));
            self.coverage.begin_boot(boot);
        }
        self.coverage.record(r);
        self.splats.record(r, self.boots.current());
    }

    /// What the analysis does with a record as a [`RecordSink`], returning
    /// the lifetime note of its event (for `export`, which follows every
    /// record and draws the lifetimes).
    pub(crate) fn record_noted(
        &mut self,
        r: &Record<'_>,
        kind: Option<EventKind<'_>>,
    ) -> ebs::Note {
        let i = r.pos.input as usize;
        if self.lines.len() <= i {
            self.lines.resize(i + 1, 0);
        }
        self.lines[i] += r.lines as u64;
        if r.class == crate::grammar::LineClass::Unrecognized {
            self.unrecognized += r.lines as u64;
        }
        self.observe(r);
        match kind {
            // Counted, nothing more: most trace lines.
            Some(EventKind::Trace | EventKind::Tracepoint { .. }) => {
                self.events += 1;
                ebs::Note::None
            }
            Some(k) => self.event(&event::assemble(r, k)),
            None => ebs::Note::None,
        }
    }

    /// Feed one recognised event; returns the lifetime note (for `timeline`).
    /// The summary counts it when `events` would print it (an oops line
    /// that is only a line of its report is no event of its own).
    pub(crate) fn event(&mut self, e: &Event<'_>) -> ebs::Note {
        if !matches!(e.kind, EventKind::Oops(l) if !l.is_event()) {
            self.events += 1;
        }
        self.note(e)
    }

    /// What [`Analysis::event`] does besides counting the event: hand it,
    /// stamped with its boot, to the trackers that take its kind.
    fn note(&mut self, e: &Event<'_>) -> ebs::Note {
        let e = &Event {
            boot: self.boots.current(),
            ..*e
        };
        if let EventKind::Declared(h) = &e.kind {
            self.declared.hit(e, h);
            return ebs::Note::None;
        }
        // A line the built-in recogniser read may be a declared event too.
        if let Some(h) = self.recognizer.declared_of(e) {
            self.declared.hit(e, &h);
        }
        match e.kind {
            // Splats are fed whole records (`RecordSink::record`).
            EventKind::Oops(_) => ebs::Note::None,
            EventKind::TreeCheck(_)
            | EventKind::Validation(_)
            | EventKind::ValidationFailed { .. }
            | EventKind::Abort(_) => {
                self.reports.event(e);
                ebs::Note::None
            }
            EventKind::Alloc { eb, .. } => {
                self.reports.saw_start(eb);
                self.ebs.event(e)
            }
            EventKind::ReadDone(d) | EventKind::BeforeRelease(d) => {
                self.reports.saw_start(d.eb);
                self.ebs.event(e)
            }
            EventKind::CalledFrom { .. } => self.ebs.event(e),
            _ => ebs::Note::None,
        }
    }
}

impl Tracker for splat::SplatTracker {
    type Note = ();

    /// Splats are fed whole records ([`splat::SplatTracker::record`]): the
    /// lines of a report that are no event (registers, `Call Trace:`,
    /// lockdep's `at:` lines) title it too.
    fn event(&mut self, _e: &Event<'_>) {}

    fn end_boot(&mut self) {
        splat::SplatTracker::end_boot(self);
    }

    fn finish(&mut self) {
        splat::SplatTracker::finish(self);
    }
}

impl Tracker for reports::Reports {
    type Note = ();

    fn event(&mut self, e: &Event<'_>) {
        reports::Reports::event(self, e);
    }
}

impl RecordSink for Analysis {
    fn caps(&self) -> Caps {
        Caps::events_and_runs(self.recognizer.clone())
    }

    fn trace_run(&mut self, tr: &TraceRun<'_>) -> SinkResult {
        // The events that are more than plain trace events, for what they
        // add; then what `record` does for each of the run's records.
        for e in tr.events {
            self.note(e);
        }
        let run = &tr.run;
        let at = |line| crate::input::Pos {
            input: run.input,
            line,
            offset: 0,
        };
        self.boots.trace(at(run.first_line), at(run.last_line));
        let i = run.input as usize;
        if self.lines.len() <= i {
            self.lines.resize(i + 1, 0);
        }
        self.lines[i] += run.lines;
        self.coverage.events(run.input, run.records, tr.cpus);
        self.events += run.records;
        Ok(Flow::Continue)
    }

    fn record(&mut self, r: &Record<'_>, kind: Option<EventKind<'_>>) -> SinkResult {
        self.record_noted(r, kind);
        Ok(Flow::Continue)
    }

    fn end_input(&mut self, input: u32) -> SinkResult {
        let i = input as usize;
        if self.lines.len() <= i {
            self.lines.resize(i + 1, 0);
        }
        self.coverage.end_input(input);
        Ok(Flow::Continue)
    }
}
