//! The contract between the reader and what consumes its records.
//!
//! A sink says once, in its [`Caps`], what it wants beyond plain records;
//! the reader then calls [`RecordSink::record`] for every record in input
//! order (or [`RecordSink::trace_run`] for a run of plain trace lines, when
//! the sink asked for runs), and [`RecordSink::end_input`] after each input.
//! Every call answers in band, like ripgrep's `Sink`: go on, stop (the sink
//! has what it wants), or an error (its output failed), which ends the run.

use std::io;

use crate::event::{Event, EventKind, Recognizer};
use crate::grammar::TraceTs;
use crate::record::Record;

/// What a sink call says about the rest of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep the records coming.
    Continue,
    /// No more records are wanted (e.g. the output pipe closed).
    Stop,
}

/// The answer of a sink call: how to go on, or why the sink failed.
pub type SinkResult = io::Result<Flow>;

/// What a sink wants from the reader besides plain records.
#[derive(Debug, Clone, Default)]
pub struct Caps {
    /// Recognise events with this recogniser (on the worker threads when
    /// the reader runs in parallel) and hand each record its event kind.
    pub recognizer: Option<Recognizer>,
    /// Hand runs of consecutive plain trace lines over summed up
    /// ([`RecordSink::trace_run`]) rather than one by one. Only with a
    /// recogniser, which decides what a plain trace line is
    /// ([`EventKind::is_plain_trace`]).
    pub trace_runs: bool,
}

impl Caps {
    /// Events recognised by `recognizer`, records one by one.
    pub(crate) fn events(recognizer: Recognizer) -> Caps {
        Caps {
            recognizer: Some(recognizer),
            trace_runs: false,
        }
    }

    /// Events recognised by `recognizer`, plain trace lines in runs.
    pub(crate) fn events_and_runs(recognizer: Recognizer) -> Caps {
        Caps {
            recognizer: Some(recognizer),
            trace_runs: true,
        }
    }

    /// Whether [`RecordSink::trace_run`] is used.
    pub(crate) fn runs(&self) -> bool {
        self.trace_runs && self.recognizer.is_some()
    }
}

/// Receives records in input order.
pub trait RecordSink {
    /// What the sink wants; asked once per input, before its first record.
    fn caps(&self) -> Caps {
        Caps::default()
    }

    /// One record, with its event kind when the sink asked for a
    /// recogniser (`None` when the record holds no event, or without one).
    fn record(&mut self, r: &Record<'_>, kind: Option<EventKind<'_>>) -> SinkResult;

    /// A run of consecutive trace lines of one input in short form (only
    /// when [`Caps::runs`]): it stands for each of its records, which do
    /// not come through [`RecordSink::record`].
    fn trace_run(&mut self, _run: &TraceRun<'_>) -> SinkResult {
        Ok(Flow::Continue)
    }

    /// No more records are at hand for now: a live input waits for its
    /// writer ([`super::ReadOptions::live`]). A sink that writes as it goes
    /// flushes its output here.
    fn idle(&mut self) -> SinkResult {
        Ok(Flow::Continue)
    }

    /// The input with this index has ended (after its last record).
    fn end_input(&mut self, _input: u32) -> SinkResult {
        Ok(Flow::Continue)
    }
}

/// A closure over records is a sink that wants nothing more.
impl<F: FnMut(&Record<'_>)> RecordSink for F {
    fn record(&mut self, r: &Record<'_>, _: Option<EventKind<'_>>) -> SinkResult {
        self(r);
        Ok(Flow::Continue)
    }
}

/// A run of consecutive trace lines of one input, summed up
/// ([`RecordSink::trace_run`]).
#[derive(Debug, Clone, Copy)]
pub struct TraceRun<'a> {
    /// Records in the run, physical lines they cover, and their input.
    pub run: LightRun,
    /// Per CPU, what its lines say.
    pub cpus: &'a [CpuSpan],
    /// In order, the events of the run's records that are more than plain
    /// trace events ([`EventKind::is_plain_trace`]), for what they add to
    /// what the run counts.
    pub events: &'a [Event<'a>],
}

/// The counts of a run of trace lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LightRun {
    /// The input they are in.
    pub input: u32,
    /// Records in the run.
    pub records: u64,
    /// Physical lines they cover.
    pub lines: u64,
    /// The number of the first of them.
    pub first_line: u64,
    /// The number of the last of them.
    pub last_line: u64,
}

/// What the lines of a run from one CPU (or with none) say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSpan {
    /// The CPU, if the lines name one.
    pub cpu: Option<u32>,
    /// Lines from it.
    pub records: u64,
    /// The first timestamp among them.
    pub first_ts: Option<TraceTs>,
    /// The last timestamp among them.
    pub last_ts: Option<TraceTs>,
}
