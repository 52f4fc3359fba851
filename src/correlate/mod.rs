//! Stage 5: correlation. Events become facts: eb lifetimes and their
//! anomalies ([`ebs`]), splats ([`splat`]), grouped corruption reports and
//! aborts ([`reports`]), and what survived of the trace ([`coverage`]).
//! [`Analysis`] feeds all of them from one record stream.

pub mod arena;
pub mod coverage;
pub mod ebs;
pub mod evidence;
pub mod reports;
pub mod splat;

use crate::event::{self, Event, EventKind};
use crate::record::{Record, RecordSink};

/// Everything a run learned, fed record by record.
#[derive(Debug)]
pub struct Analysis {
    /// Per-CPU windows and dumps.
    pub coverage: coverage::Coverage,
    /// Eb lifetimes.
    pub ebs: ebs::EbTracker,
    /// Kernel splats.
    pub splats: splat::SplatTracker,
    /// Corruption reports and aborts.
    pub reports: reports::Reports,
    /// Physical lines per input.
    pub lines: Vec<u64>,
    /// Recognised events.
    pub events: u64,
    /// Lines no grammar recognised (as `stats` counts them).
    pub unrecognized: u64,
}

impl Analysis {
    /// An empty analysis tracking at most `max_live` ebs.
    pub fn new(max_live: usize) -> Analysis {
        Analysis {
            coverage: coverage::Coverage::default(),
            ebs: ebs::EbTracker::new(max_live),
            splats: splat::SplatTracker::default(),
            reports: reports::Reports::default(),
            lines: Vec::new(),
            events: 0,
            unrecognized: 0,
        }
    }

    /// Feed one recognised event; returns the lifetime note (for `timeline`).
    pub fn event(&mut self, e: &Event<'_>) -> ebs::Note {
        self.events += 1;
        self.note(e)
    }

    /// What [`Analysis::event`] does besides counting the event.
    fn note(&mut self, e: &Event<'_>) -> ebs::Note {
        match e.kind {
            // Splats are fed whole records (`record_kind`).
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

impl RecordSink for Analysis {
    fn record(&mut self, r: &Record<'_>) {
        self.record_kind(r, event::kind_of(r));
    }

    fn wants_events(&self) -> bool {
        true
    }

    fn light_traces(&self) -> bool {
        true
    }

    fn light_run(&mut self, run: &crate::record::LightRun, cpus: &[crate::record::CpuSpan]) {
        // What `record_kind` does for each of the run's records, but the
        // events that came through `event_in_run`.
        let i = run.input as usize;
        if self.lines.len() <= i {
            self.lines.resize(i + 1, 0);
        }
        self.lines[i] += run.lines;
        self.coverage.events(run.input, run.records, cpus);
        self.events += run.records;
    }

    fn event_in_run(&mut self, e: &Event<'_>) {
        // The run counts the line, the event and its CPU window.
        self.note(e);
    }

    fn record_kind<'a>(&mut self, r: &Record<'a>, kind: Option<EventKind<'a>>) {
        let i = r.pos.input as usize;
        if self.lines.len() <= i {
            self.lines.resize(i + 1, 0);
        }
        self.lines[i] += r.lines as u64;
        if r.class == crate::grammar::LineClass::Unrecognized {
            self.unrecognized += r.lines as u64;
        }
        self.coverage.record(r);
        self.splats.record(r);
        match kind {
            // Counted, nothing more: most trace lines.
            Some(EventKind::Trace | EventKind::Tracepoint { .. }) => self.events += 1,
            Some(k) => {
                self.event(&event::assemble(r, k));
            }
            None => {}
        }
    }

    fn end_input(&mut self, input: u32) {
        let i = input as usize;
        if self.lines.len() <= i {
            self.lines.resize(i + 1, 0);
        }
        self.coverage.end_input(input);
        self.splats.end_input(input);
    }
}
