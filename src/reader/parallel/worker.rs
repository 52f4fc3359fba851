//! What a worker thread does with a job: read and repair its raw lines if
//! need be, then peel, classify and recognise every record (the caller
//! applies the continuation rule later, in order). A batch and the records
//! parsed from it travel back together in a self-cell.

use std::ops::Range;

use self_cell::self_cell;

use super::batch::{Batch, Meta, Span};
use super::raw::PhysBatch;
use super::runs::{Entry, Run, RunBuilder};
use crate::event::{self, Event, EventKind, Recognizer};
use crate::grammar::{self, Body};
use crate::input::Pos;
use crate::prefix;
use crate::reader::{CpuSpan, LightRun};
use crate::record::Record;

/// A batch of work for a worker, with the vectors of a parsed batch taken
/// back before, to fill again.
#[derive(Debug)]
pub(super) struct Job {
    pub(super) work: Work,
    pub(super) spare: Spare,
    /// The test hook of [`crate::reader::ReadOptions::fail_worker_at_batch`]: panic on this job.
    pub(super) fail: bool,
}

/// What a job holds.
#[derive(Debug)]
pub(super) enum Work {
    /// Logical records, repaired already.
    Logical(Batch),
    /// Raw lines to clean and repair first, and a logical batch to fill.
    Physical(Box<PhysBatch>, Batch),
}

/// The vectors of a [`Records`], emptied for reuse. Batches are parsed on a
/// worker and freed on the caller; allocating them afresh for each batch
/// (over a MiB for a full one) made the allocator hand memory back to the
/// system and fault it in again, tens of thousands of times per GiB.
pub(super) type Spare = Records<'static>;

/// An emptied vector of borrowing items, as a vector of items borrowing
/// for another lifetime, in the same allocation (std collects a
/// `filter_map` over a vector's `into_iter` in place).
pub(super) fn relabel<T, U>(v: Vec<T>) -> Vec<U> {
    v.into_iter().filter_map(|_| None).collect()
}

impl<'a> Records<'a> {
    /// Empty these records into vectors for records of any lifetime, in
    /// the same allocations, each kept to room for at most `keep` items: a
    /// batch of unusually many records (short lines) must not leave every
    /// pooled vector at its size for the rest of the input (#19: memory
    /// crept up with the input as the pool kept the largest batches seen).
    pub(super) fn take_spare<'b>(&mut self, keep: usize) -> Records<'b> {
        fn emptied<T>(v: &mut Vec<T>, keep: usize) -> Vec<T> {
            let mut v = std::mem::take(v);
            v.clear();
            v.shrink_to(keep);
            v
        }
        fn relabeled<T, U>(v: &mut Vec<T>, keep: usize) -> Vec<U> {
            let mut v = relabel(std::mem::take(v));
            v.shrink_to(keep);
            v
        }
        Records {
            records: relabeled(&mut self.records, keep),
            kinds: relabeled(&mut self.kinds, keep),
            in_run: relabeled(&mut self.in_run, keep),
            runs: emptied(&mut self.runs, keep),
            spans: emptied(&mut self.spans, keep),
            order: emptied(&mut self.order, keep),
        }
    }
}

/// The owned side of a parsed batch: the logical records, and the raw
/// batch they came from (returned for reuse, with its repairer).
#[derive(Debug)]
pub(super) struct Owned {
    pub(super) batch: Batch,
    pub(super) phys: Option<Box<PhysBatch>>,
}

/// The records of a batch, borrowing its bytes, and the kinds of their
/// events when the sink wants them (else empty).
#[derive(Debug, Default)]
pub(super) struct Records<'a> {
    pub(super) records: Vec<Record<'a>>,
    pub(super) kinds: Vec<Option<EventKind<'a>>>,
    /// The events of runs' records that are more than plain trace events
    /// ([`crate::reader::TraceRun::events`]).
    pub(super) in_run: Vec<Event<'a>>,
    /// Runs of trace lines in short form, with their CPU spans (a range of
    /// `spans`) and events (a range of `in_run`).
    pub(super) runs: Vec<(LightRun, Range<usize>, Range<usize>)>,
    pub(super) spans: Vec<CpuSpan>,
    /// In order: the next full record, or run in short form.
    pub(super) order: Vec<Entry>,
}

impl<'a> Records<'a> {
    /// Add the event of a record of the run being built.
    pub(super) fn push_in_run(&mut self, r: &Record<'a>, kind: EventKind<'a>) {
        self.in_run.push(event::assemble(r, kind));
    }

    pub(super) fn push_run(&mut self, r: Run) {
        self.runs
            .push((r.run, r.spans, r.events.start..self.in_run.len()));
        self.order.push(Entry::Light {
            prefixed: r.prefixed,
        });
    }
}

self_cell!(
    /// A batch with its parsed records.
    pub(super) struct Parsed {
        owner: Owned,
        #[covariant]
        dependent: Records,
    }
);

/// Do a job: repair raw lines if need be, then peel, classify and
/// recognise every record (the continuation rule is applied later, in
/// order, by the caller).
pub(super) fn work(job: Job, rec: Option<&Recognizer>, light: bool) -> Parsed {
    assert!(!job.fail, "injected failure of a parser thread (test hook)");
    let mut spare = job.spare;
    let owned = match job.work {
        Work::Logical(batch) => Owned { batch, phys: None },
        Work::Physical(mut phys, mut batch) => {
            phys.fill();
            phys.repair(&mut batch);
            Owned {
                batch,
                phys: Some(phys),
            }
        }
    };
    Parsed::new(owned, move |o| {
        let b = &o.batch;
        let (raw, lines) = match &o.phys {
            Some(p) => (&p.bytes[..], &p.lines[..]),
            None => (&[][..], &[][..]),
        };
        let at = |s: Span| {
            let from = if s.raw { raw } else { &b.bytes[..] };
            from.get(s.a as usize..s.b as usize).unwrap_or_default()
        };
        let mut out = spare.take_spare(usize::MAX);
        let mut p = Parser {
            spans: std::mem::take(&mut out.spans),
            out,
            run: RunBuilder::default(),
            rec,
            light: rec.is_some() && light,
        };
        p.out.records.reserve(b.slots.len());
        p.out
            .kinds
            .reserve(if rec.is_some() { b.slots.len() } else { 0 });
        p.out.order.reserve(b.slots.len());
        let input = o.phys.as_ref().map_or(0, |p| p.input);
        let mut plain = b.plain.iter().peekable();
        for j in 0..=b.slots.len() {
            // The plain lines before slot `j`, then the slot.
            while let Some((_, range)) = plain.next_if(|(at, _)| *at == j) {
                let range = range.start as usize..range.end as usize;
                for l in lines.get(range).unwrap_or_default() {
                    let text = raw.get(l.a as usize..l.b as usize).unwrap_or_default();
                    let pos = Pos {
                        input,
                        line: l.number,
                        offset: l.offset,
                    };
                    p.plain(pos, text);
                }
            }
            if let Some(s) = b.slots.get(j) {
                p.record(&s.meta, at(s.text), at(s.original));
            }
        }
        p.finish()
    })
}

/// Parses the records of a batch in order into [`Records`], summing up
/// runs of trace lines as it goes when the sink takes them in short form.
pub(super) struct Parser<'a, 'r> {
    pub(super) out: Records<'a>,
    pub(super) run: RunBuilder,
    pub(super) spans: Vec<CpuSpan>,
    /// Find the event kinds with this.
    pub(super) rec: Option<&'r Recognizer>,
    /// Sum up runs of trace lines ([`crate::reader::Caps::runs`]).
    pub(super) light: bool,
}

impl<'a> Parser<'a, '_> {
    /// A plain line: one physical line the repairer passes on as it is.
    /// A console dump line ([`grammar::console_trace`]) joins the run, and
    /// is a record too only when the debug patch wrote it.
    pub(super) fn plain(&mut self, pos: Pos, text: &'a [u8]) {
        if let Some(rec) = self.rec.filter(|_| self.light) {
            if let Some((prefixes, msg, t)) =
                grammar::console_trace(text).filter(|(_, _, t)| !rec.whole(t))
            {
                let events = self.out.in_run.len();
                self.run
                    .add(&mut self.spans, events, pos, 1, true, t.cpu, t.ts);
                // Neither a plain trace event nor a tracepoint.
                if let Some(kind) = rec.notable_trace(&t) {
                    let r = Meta::plain(pos).record(text, text, prefixes, msg, Body::Trace(t));
                    self.out.push_in_run(&r, kind);
                }
                return;
            }
        }
        self.record(&Meta::plain(pos), text, text);
    }

    /// A record, by the general path: peel, classify, recognise.
    pub(super) fn record(&mut self, meta: &Meta, text: &'a [u8], original: &'a [u8]) {
        let (prefixes, msg) = prefix::peel(text);
        let body = grammar::classify(msg, &prefixes);
        // The event kind once: it decides the short form too.
        let mut in_run = false;
        let kind = match (&body, self.rec) {
            (Body::Trace(t), Some(rec)) => {
                let kind = rec.trace_kind(t);
                // A trace line joins the run; only an event that is more
                // than a plain one also goes as a record.
                if self.light && prefixes.dropped.is_none() && !rec.whole(t) {
                    let prefixed = prefixes.layers != 0;
                    let events = self.out.in_run.len();
                    self.run.add(
                        &mut self.spans,
                        events,
                        meta.pos,
                        meta.lines,
                        prefixed,
                        t.cpu,
                        t.ts,
                    );
                    in_run = true;
                }
                Some(kind)
            }
            _ => None,
        };
        if in_run {
            if let Some(kind) = kind.filter(|k| !k.is_plain_trace()) {
                let r = meta.record(text, original, prefixes, msg, body);
                self.out.push_in_run(&r, kind);
            }
            return;
        }
        let r = meta.record(text, original, prefixes, msg, body);
        self.run.flush(&self.spans, &mut self.out);
        self.out.order.push(Entry::Full);
        self.out.records.push(r);
        if let Some(rec) = self.rec {
            let r = &self.out.records[self.out.records.len() - 1];
            let kind = if matches!(r.body, Body::Trace(_)) {
                kind
            } else {
                rec.kind(r)
            };
            self.out.kinds.push(kind);
        }
    }

    pub(super) fn finish(mut self) -> Records<'a> {
        self.run.flush(&self.spans, &mut self.out);
        self.out.spans = self.spans;
        self.out
    }
}
