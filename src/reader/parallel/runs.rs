//! Runs of plain trace lines, summed up per CPU as a worker meets them
//! ([`crate::reader::TraceRun`]).

use std::ops::Range;

use super::worker::Records;
use crate::grammar::TraceTs;
use crate::input::Pos;
use crate::reader::{CpuSpan, LightRun};

/// One record of a parsed batch, or a run of trace lines, in order.
#[derive(Debug, Clone, Copy)]
pub(super) enum Entry {
    /// The next of `records`.
    Full,
    /// The next of `runs` ([`crate::reader::TraceRun`]); whether its last line had a
    /// prefix (for the continuation rule).
    Light { prefixed: bool },
}

/// A run of plain trace lines in short form: the run, its CPU spans (a
/// range of a spans list), where its events start in the events list, and
/// whether its last line had a prefix (for the continuation rule).
#[derive(Debug)]
pub(super) struct Run {
    pub(super) run: LightRun,
    pub(super) spans: Range<usize>,
    pub(super) events: Range<usize>,
    pub(super) prefixed: bool,
}

/// Sums up a run of plain trace lines per CPU as a worker meets them.
#[derive(Debug, Default)]
pub(super) struct RunBuilder {
    pub(super) run: LightRun,
    pub(super) prefixed: bool,
    /// `spans` index + 1 of each CPU below [`RunBuilder::DIRECT`] in the current run.
    pub(super) slot: Vec<u32>,
    /// First span of the current run in `spans`.
    pub(super) first: usize,
    /// First event of the current run in the events list.
    pub(super) first_event: usize,
}

impl RunBuilder {
    /// CPUs below this are found by index; others by search.
    const DIRECT: u32 = 4096;

    /// Add a line to the run; `events` is how many events the list of
    /// the batch holds so far.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add(
        &mut self,
        spans: &mut Vec<CpuSpan>,
        events: usize,
        pos: Pos,
        lines: u32,
        prefixed: bool,
        cpu: Option<u32>,
        ts: Option<TraceTs>,
    ) {
        if self.run.records == 0 {
            self.run.input = pos.input;
            self.run.first_line = pos.line;
            self.first = spans.len();
            self.first_event = events;
        }
        self.run.last_line = pos.line + u64::from(lines.max(1)) - 1;
        self.run.records += 1;
        self.run.lines += u64::from(lines);
        self.prefixed = prefixed;
        let k = match cpu {
            Some(c) if c < Self::DIRECT => {
                let c = c as usize;
                if self.slot.len() <= c {
                    self.slot.resize(c + 1, 0);
                }
                match self.slot[c] {
                    0 => None,
                    k => Some(k as usize - 1),
                }
            }
            _ => spans[self.first..]
                .iter()
                .position(|s| s.cpu == cpu)
                .map(|k| self.first + k),
        };
        let k = k.unwrap_or_else(|| {
            spans.push(CpuSpan {
                cpu,
                records: 0,
                first_ts: None,
                last_ts: None,
            });
            if let Some(c) = cpu.filter(|&c| c < Self::DIRECT) {
                self.slot[c as usize] = spans.len() as u32;
            }
            spans.len() - 1
        });
        let span = &mut spans[k];
        span.records += 1;
        if ts.is_some() {
            span.first_ts = span.first_ts.or(ts);
            span.last_ts = ts;
        }
    }

    /// End the current run and return it, if any.
    pub(super) fn take(&mut self, spans: &[CpuSpan]) -> Option<Run> {
        if self.run.records == 0 {
            return None;
        }
        for s in &spans[self.first..] {
            if let Some(c) = s.cpu.filter(|&c| c < Self::DIRECT) {
                self.slot[c as usize] = 0;
            }
        }
        let run = Run {
            run: std::mem::take(&mut self.run),
            spans: self.first..spans.len(),
            events: self.first_event..self.first_event,
            prefixed: self.prefixed,
        };
        Some(run)
    }

    /// End the current run, if any, into `out`.
    pub(super) fn flush(&mut self, spans: &[CpuSpan], out: &mut Records<'_>) {
        if let Some(run) = self.take(spans) {
            out.push_run(run);
        }
    }
}
