//! Reading one input on several cores, with the same records in the same
//! order as the sequential reader.
//!
//! The stages with cross-line state stay on the calling thread: line
//! splitting, paste repair while it still learns about the input, the
//! continuation rule and the sink. What is stateless per record, peeling the
//! prefixes, running the grammars and recognising events, runs on worker
//! threads:
//!
//! ```text
//!  caller: lines → clean → repair ─▶ logical batch ───────────────────┐
//!     or   lines ──────────────────▶ physical batch (raw lines) ─────┤
//!     or   where a block ends ─────▶ block of a file to read ────────┤
//!                                                                     ▼
//!  worker:  [read at position] [split → clean → per-line repair]
//!           → peel → classify → recognize (or the fast lane, runs)   │
//!                                                                     │
//!  caller: ◀─ batches taken back in sequence ─ continuation → sink ◀──┘
//! ```
//!
//! Once the repair stage decides line by line ([`Repairer::per_line`]: the
//! input was found not hard-wrapped, nothing is buffered), whole raw lines
//! go to the workers, which clean and repair them themselves. Such a batch
//! starts only at a line that cannot be a continuation of the one before it
//! ([`Repairer::line_may_continue`]); if no such line comes for a long
//! while, the caller waits for every batch out and hands the last worker's
//! repairer to the next batch, so the result is exact either way.
//!
//! For an uncompressed regular file the workers then read the blocks
//! themselves ([`Pipeline::read_at`]): the caller only finds where each
//! block may end, the worker reads it, numbers its lines from 0, and the
//! caller adds the real number of its first line when it takes the batch
//! back.
//!
//! When the sink takes trace lines in short form ([`Caps::runs`]), a
//! worker sums up runs of them per CPU ([`TraceRun`]); a console dump line
//! takes a fast lane ([`grammar::console_trace`]) straight from the raw
//! batch, and only the lines among them that are more than plain trace
//! events ([`Recognizer::notable_trace`]) go on, as events.
//!
//! A batch and the records parsed from it travel together in a self-cell
//! (the records borrow the batch's bytes). A batch goes to the worker with
//! the fewest batches out, the caller notes which, and each worker answers
//! in the order it was asked, so the caller reads the answers back in
//! sequence with no reordering buffer. At most [`IN_FLIGHT_PER_WORKER`]
//! batches per worker are out at once, which bounds memory; batch buffers
//! are recycled.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use self_cell::self_cell;

use super::{Caps, Continuation, CpuSpan, Feed, LightRun, ReadOptions, TraceRun};
use crate::event::{self, Event, EventKind, Recognizer};
use crate::grammar::{self, Body, TraceTs};
use crate::input::source::ParserFailed;
use crate::input::{clean, BlockInfo, LineReader, Pos, Positional, RawLine};
use crate::prefix;
use crate::record::Record;
use crate::repair::{Logical, PhysLine, Repairer};

/// A batch is sent once it holds this many bytes, or its record limit
/// ([`super::ReadOptions::batch_records`]).
const BATCH_BYTES: usize = 512 * 1024;

/// Bytes of whole lines the caller takes at once in physical mode
/// ([`LineReader::next_block_into`]), per record of the batch limit
/// ([`super::ReadOptions::batch_records`]): with the default limit, one
/// block fills a batch.
const BLOCK_BYTES_PER_RECORD: usize = BATCH_BYTES / super::BATCH_RECORDS;
/// Batches out per worker (queued, being parsed, or parsed and waiting).
const IN_FLIGHT_PER_WORKER: usize = 24;

/// Bytes `a..b` of a batch's own bytes, or of the raw batch it came from.
#[derive(Debug, Clone, Copy)]
struct Span {
    a: u32,
    b: u32,
    raw: bool,
}

/// Where `t` lies in `hay`, if it is a slice of it (address arithmetic only).
fn within(hay: &[u8], t: &[u8]) -> Option<(u32, u32)> {
    let base = hay.as_ptr() as usize;
    let p = t.as_ptr() as usize;
    (p >= base && p + t.len() <= base + hay.len() && !hay.is_empty())
        .then(|| ((p - base) as u32, (p - base + t.len()) as u32))
}

/// What a record carries besides its texts.
#[derive(Debug, Clone, Copy)]
struct Meta {
    pos: Pos,
    lines: u32,
    clean: u8,
    truncated: bool,
    repairs: u16,
}

impl Meta {
    /// The record with these texts, classed by its body alone (the caller
    /// applies the continuation rule later, in order).
    fn record<'a>(
        &self,
        text: &'a [u8],
        original: &'a [u8],
        prefixes: prefix::Prefixes,
        msg: &'a [u8],
        body: Body<'a>,
    ) -> Record<'a> {
        Record {
            pos: self.pos,
            lines: self.lines,
            text,
            original,
            prefixes,
            msg,
            class: body.class(),
            body,
            clean: self.clean,
            truncated: self.truncated,
            repairs: self.repairs,
        }
    }

    /// One physical line, unrepaired and clean, as its own record.
    fn plain(pos: Pos) -> Meta {
        Meta {
            pos,
            lines: 1,
            clean: 0,
            truncated: false,
            repairs: 0,
        }
    }
}

/// Where one logical record's texts are in its batch.
#[derive(Debug, Clone, Copy)]
struct Slot {
    meta: Meta,
    text: Span,
    original: Span,
}

/// The owned side of a batch: the records' bytes and where each one is,
/// and the plain lines of the raw batch it was repaired from.
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    slots: Vec<Slot>,
    /// Runs of plain lines (indices into the raw batch's lines), each with
    /// the slot it comes before: lines the repairer passes on as they are,
    /// each its own record, left to the parse (see [`PhysBatch::repair`]).
    plain: Vec<(usize, Range<u32>)>,
}

impl Batch {
    fn push(&mut self, l: &Logical<'_>) {
        self.push_from(l, &[]);
    }

    /// Add a record whose texts may be slices of `raw` (the raw batch the
    /// worker repairs): those are not copied.
    fn push_from(&mut self, l: &Logical<'_>, raw: &[u8]) {
        let span = |bytes: &mut Vec<u8>, t: &[u8]| match within(raw, t) {
            Some((a, b)) => Span { a, b, raw: true },
            None => {
                let a = bytes.len() as u32;
                bytes.extend_from_slice(t);
                Span {
                    a,
                    b: bytes.len() as u32,
                    raw: false,
                }
            }
        };
        let text = span(&mut self.bytes, l.text);
        // Most records are one unrepaired line: their original is their text.
        let same = l.original.as_ptr() == l.text.as_ptr() && l.original.len() == l.text.len();
        let original = if same || l.original == l.text {
            text
        } else {
            span(&mut self.bytes, l.original)
        };
        self.slots.push(Slot {
            meta: Meta {
                pos: l.pos,
                lines: l.lines,
                clean: l.clean,
                truncated: l.truncated,
                repairs: l.repairs,
            },
            text,
            original,
        });
    }

    /// Add line `i` of the raw batch as a plain line.
    fn push_plain(&mut self, i: u32) {
        let at = self.slots.len();
        match self.plain.last_mut() {
            Some((j, r)) if *j == at && r.end == i => r.end = i + 1,
            _ => self.plain.push((at, i..i + 1)),
        }
    }

    fn full(&self, records: usize) -> bool {
        self.bytes.len() >= BATCH_BYTES || self.slots.len() >= records
    }

    fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.plain.is_empty()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.slots.clear();
        self.plain.clear();
    }
}

/// One line of a raw batch.
#[derive(Debug, Clone, Copy)]
struct RawEntry {
    number: u64,
    offset: u64,
    /// Its bytes are `bytes[a..b]` of the batch.
    a: u32,
    b: u32,
    truncated: bool,
    /// A `[` or a non-breaking-space byte follows its first byte: the
    /// repairer may have to split it there.
    special: bool,
}

/// Whether a `[` or a non-breaking-space byte follows the first byte.
fn special(line: &[u8]) -> bool {
    line.get(1..)
        .is_some_and(|r| memchr::memchr2(b'[', 0xA0, r).is_some())
}

/// A batch of raw physical lines, with the per-line repairer that takes them.
#[derive(Debug)]
struct PhysBatch {
    input: u32,
    bytes: Vec<u8>,
    lines: Vec<RawEntry>,
    /// Whole `\n`-ended lines from `bytes[tail.0..]` on, not yet split (the
    /// worker splits them): where they start, and the number and offset of
    /// the first.
    tail: Option<(usize, u64, u64)>,
    repairer: Repairer,
    /// A block for the worker to read first (positional reading).
    read: Option<ReadBlock>,
    /// Line numbers count from 0 at the first line: the caller adds the
    /// real number of the first line when it takes the batch back.
    relative: bool,
    /// The block could not be read (the error, and the block's offset).
    error: Option<(std::io::Error, u64)>,
}

/// A block of whole lines of a file, for a worker to read.
#[derive(Debug)]
struct ReadBlock {
    file: Positional,
    offset: u64,
    len: usize,
}

impl PhysBatch {
    fn new(input: u32) -> Box<PhysBatch> {
        Box::new(PhysBatch {
            input,
            bytes: Vec::new(),
            lines: Vec::new(),
            tail: None,
            repairer: Repairer::new(false),
            read: None,
            relative: false,
            error: None,
        })
    }

    /// Read the block, if the batch is one to read, as its unsplit tail
    /// (line numbers relative to its first line).
    fn fill(&mut self) {
        let Some(r) = self.read.take() else {
            return;
        };
        // Not cleared before: only bytes beyond the last block's are zeroed.
        self.bytes.resize(r.len, 0);
        match r.file.read_exact_at(&mut self.bytes, r.offset) {
            Ok(()) => self.tail = Some((0, 0, r.offset)),
            Err(e) => {
                self.bytes.clear();
                self.error = Some((e, r.offset));
            }
        }
    }

    /// Split the unsplit tail into `lines`, as the line reader would have,
    /// marking the lines with a `[` or non-breaking space after their first
    /// byte.
    fn split_tail(&mut self) {
        let Some((start, number, offset)) = self.tail.take() else {
            return;
        };
        let block = BlockInfo {
            first_number: number,
            first_offset: offset,
            lines: 0,
        };
        for l in block.raw_lines(self.bytes.get(start..).unwrap_or_default()) {
            let a = start + (l.offset - offset) as usize;
            self.lines.push(RawEntry {
                number: l.number,
                offset: l.offset,
                a: a as u32,
                b: (a + l.bytes.len()) as u32,
                truncated: false,
                special: special(l.bytes),
            });
        }
    }

    fn push(&mut self, raw: &RawLine<'_>) {
        self.split_tail();
        let a = self.bytes.len() as u32;
        self.bytes.extend_from_slice(raw.bytes);
        self.lines.push(RawEntry {
            number: raw.number,
            offset: raw.offset,
            a,
            b: self.bytes.len() as u32,
            truncated: raw.truncated,
            special: special(raw.bytes),
        });
    }

    fn full(&self, records: usize) -> bool {
        self.bytes.len() >= BATCH_BYTES || self.lines.len() >= records
    }

    /// Far past full: time to cut even where a line may continue.
    fn overfull(&self, records: usize) -> bool {
        self.bytes.len() >= 4 * BATCH_BYTES || self.lines.len() >= 4 * records
    }

    /// Clean and repair the lines into logical records.
    ///
    /// Most lines of a console capture are `[ time] ...` records that the
    /// per-line repairer would send on unchanged: they are only marked as
    /// plain lines (see [`Repairer::passed_through`]), parsed later straight
    /// from the raw batch. A search over the whole batch for the next byte
    /// clean-up removes, and the lines' `special` marks, find the lines
    /// that need more.
    fn repair(&mut self, out: &mut Batch) {
        self.split_tail();
        let mut scratch = Vec::new();
        let input = self.input;
        let bytes = &self.bytes;
        let repairer = &mut self.repairer;
        let mut dirty = 0usize;
        // Only the last of a run of passed-through lines matters to the
        // repairer: it is told about that one when the run ends.
        let mut passed: Option<&[u8]> = None;
        for (i, line) in self.lines.iter().enumerate() {
            let (a, b) = (line.a as usize, line.b as usize);
            let raw = bytes.get(a..b).unwrap_or_default();
            if dirty < a {
                dirty = bytes
                    .get(a..)
                    .and_then(|rest| memchr::memchr3(b'\r', 0x1b, 0, rest))
                    .map_or(usize::MAX, |p| a + p);
            }
            if dirty >= b && !line.truncated && raw.first() == Some(&b'[') {
                // A `[` that starts no console record (`[btrfs]`, `[0]`)
                // is no reason to split the line.
                let plain = !line.special
                    || (memchr::memchr(0xA0, raw).is_none()
                        && crate::repair::next_record_start(raw, 1).is_none());
                if plain && !crate::repair::is_elision(raw) {
                    passed = Some(raw);
                    out.push_plain(i as u32);
                    continue;
                }
            }
            let (text, flags) = if dirty >= b {
                (raw, 0)
            } else {
                clean(raw, &mut scratch)
            };
            let phys = PhysLine {
                pos: Pos {
                    input,
                    line: line.number,
                    offset: line.offset,
                },
                text,
                clean: flags,
                truncated: line.truncated,
            };
            if let Some(p) = passed.take() {
                repairer.passed_through(p);
            }
            repairer.push(phys, &mut |l| out.push_from(l, bytes));
        }
        if let Some(p) = passed.take() {
            repairer.passed_through(p);
        }
        repairer.finish(&mut |l| out.push_from(l, bytes));
    }
}

/// A batch of work for a worker, with the vectors of a parsed batch taken
/// back before, to fill again.
#[derive(Debug)]
struct Job {
    work: Work,
    spare: Spare,
    /// The test hook of [`ReadOptions::fail_worker_at_batch`]: panic on this job.
    fail: bool,
}

/// What a job holds.
#[derive(Debug)]
enum Work {
    /// Logical records, repaired already.
    Logical(Batch),
    /// Raw lines to clean and repair first, and a logical batch to fill.
    Physical(Box<PhysBatch>, Batch),
}

/// The vectors of a [`Records`], emptied for reuse. Batches are parsed on a
/// worker and freed on the caller; allocating them afresh for each batch
/// (over a MiB for a full one) made the allocator hand memory back to the
/// system and fault it in again, tens of thousands of times per GiB.
type Spare = Records<'static>;

/// An emptied vector of borrowing items, as a vector of items borrowing
/// for another lifetime, in the same allocation (std collects a
/// `filter_map` over a vector's `into_iter` in place).
fn relabel<T, U>(v: Vec<T>) -> Vec<U> {
    v.into_iter().filter_map(|_| None).collect()
}

impl<'a> Records<'a> {
    /// Empty these records into vectors for records of any lifetime, in
    /// the same allocations.
    fn take_spare<'b>(&mut self) -> Records<'b> {
        fn emptied<T>(v: &mut Vec<T>) -> Vec<T> {
            let mut v = std::mem::take(v);
            v.clear();
            v
        }
        Records {
            records: relabel(std::mem::take(&mut self.records)),
            kinds: relabel(std::mem::take(&mut self.kinds)),
            in_run: relabel(std::mem::take(&mut self.in_run)),
            runs: emptied(&mut self.runs),
            spans: emptied(&mut self.spans),
            order: emptied(&mut self.order),
        }
    }
}

/// The owned side of a parsed batch: the logical records, and the raw
/// batch they came from (returned for reuse, with its repairer).
#[derive(Debug)]
struct Owned {
    batch: Batch,
    phys: Option<Box<PhysBatch>>,
}

/// The records of a batch, borrowing its bytes, and the kinds of their
/// events when the sink wants them (else empty).
#[derive(Debug, Default)]
struct Records<'a> {
    records: Vec<Record<'a>>,
    kinds: Vec<Option<EventKind<'a>>>,
    /// The events of runs' records that are more than plain trace events
    /// ([`TraceRun::events`]).
    in_run: Vec<Event<'a>>,
    /// Runs of trace lines in short form, with their CPU spans (a range of
    /// `spans`) and events (a range of `in_run`).
    runs: Vec<(LightRun, Range<usize>, Range<usize>)>,
    spans: Vec<CpuSpan>,
    /// In order: the next full record, or run in short form.
    order: Vec<Entry>,
}

impl<'a> Records<'a> {
    /// Add the event of a record of the run being built.
    fn push_in_run(&mut self, r: &Record<'a>, kind: EventKind<'a>) {
        self.in_run.push(event::assemble(r, kind));
    }

    fn push_run(&mut self, r: Run) {
        self.runs
            .push((r.run, r.spans, r.events.start..self.in_run.len()));
        self.order.push(Entry::Light {
            prefixed: r.prefixed,
        });
    }
}

/// One record of a parsed batch, or a run of trace lines, in order.
#[derive(Debug, Clone, Copy)]
enum Entry {
    /// The next of `records`.
    Full,
    /// The next of `runs` ([`TraceRun`]); whether its last line had a
    /// prefix (for the continuation rule).
    Light { prefixed: bool },
}

/// A run of plain trace lines in short form: the run, its CPU spans (a
/// range of a spans list), where its events start in the events list, and
/// whether its last line had a prefix (for the continuation rule).
#[derive(Debug)]
struct Run {
    run: LightRun,
    spans: Range<usize>,
    events: Range<usize>,
    prefixed: bool,
}

/// Sums up a run of plain trace lines per CPU as a worker meets them.
#[derive(Debug, Default)]
struct RunBuilder {
    run: LightRun,
    prefixed: bool,
    /// `spans` index + 1 of each CPU below [`RunBuilder::DIRECT`] in the current run.
    slot: Vec<u32>,
    /// First span of the current run in `spans`.
    first: usize,
    /// First event of the current run in the events list.
    first_event: usize,
}

impl RunBuilder {
    /// CPUs below this are found by index; others by search.
    const DIRECT: u32 = 4096;

    /// Add a line to the run; `events` is how many events the list of
    /// the batch holds so far.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        spans: &mut Vec<CpuSpan>,
        events: usize,
        input: u32,
        lines: u32,
        prefixed: bool,
        cpu: Option<u32>,
        ts: Option<TraceTs>,
    ) {
        if self.run.records == 0 {
            self.run.input = input;
            self.first = spans.len();
            self.first_event = events;
        }
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
    fn take(&mut self, spans: &[CpuSpan]) -> Option<Run> {
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
    fn flush(&mut self, spans: &[CpuSpan], out: &mut Records<'_>) {
        if let Some(run) = self.take(spans) {
            out.push_run(run);
        }
    }
}

self_cell!(
    /// A batch with its parsed records.
    struct Parsed {
        owner: Owned,
        #[covariant]
        dependent: Records,
    }
);

/// Do a job: repair raw lines if need be, then peel, classify and
/// recognise every record (the continuation rule is applied later, in
/// order, by the caller).
fn work(job: Job, rec: Option<&Recognizer>, light: bool) -> Parsed {
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
        let mut out = spare.take_spare();
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
struct Parser<'a, 'r> {
    out: Records<'a>,
    run: RunBuilder,
    spans: Vec<CpuSpan>,
    /// Find the event kinds with this.
    rec: Option<&'r Recognizer>,
    /// Sum up runs of trace lines ([`Caps::runs`]).
    light: bool,
}

impl<'a> Parser<'a, '_> {
    /// A plain line: one physical line the repairer passes on as it is.
    /// A console dump line ([`grammar::console_trace`]) joins the run, and
    /// is a record too only when the debug patch wrote it.
    fn plain(&mut self, pos: Pos, text: &'a [u8]) {
        if let Some(rec) = self.rec.filter(|_| self.light) {
            if let Some((prefixes, msg, t)) = grammar::console_trace(text) {
                let events = self.out.in_run.len();
                self.run
                    .add(&mut self.spans, events, pos.input, 1, true, t.cpu, t.ts);
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
    fn record(&mut self, meta: &Meta, text: &'a [u8], original: &'a [u8]) {
        let (prefixes, msg) = prefix::peel(text);
        let body = grammar::classify(msg, &prefixes);
        // The event kind once: it decides the short form too.
        let mut in_run = false;
        let kind = match (&body, self.rec) {
            (Body::Trace(t), Some(rec)) => {
                let kind = rec.trace_kind(t);
                // A trace line joins the run; only an event that is more
                // than a plain one also goes as a record.
                if self.light && prefixes.dropped.is_none() {
                    let prefixed = prefixes.layers != 0;
                    let events = self.out.in_run.len();
                    self.run.add(
                        &mut self.spans,
                        events,
                        meta.pos.input,
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

    fn finish(mut self) -> Records<'a> {
        self.run.flush(&self.spans, &mut self.out);
        self.out.spans = self.spans;
        self.out
    }
}

struct Worker {
    /// Batches sent to it and not yet taken back.
    out: usize,
    jobs: Option<Sender<Job>>,
    results: Receiver<Parsed>,
    handle: Option<JoinHandle<()>>,
}

/// The parallel back half of the reader: takes logical records in order,
/// hands them to the sink in the same order.
pub struct Pipeline {
    workers: Vec<Worker>,
    current: Batch,
    spare: Vec<Batch>,
    /// The worker of each batch out, oldest first.
    out: VecDeque<usize>,
    /// Workers recognise events: the sink gets their kinds.
    events: bool,
    /// Batches sent so far (numbers the jobs for the test hook).
    jobs: u64,
    /// The job number a worker fails on ([`ReadOptions::fail_worker_at_batch`]).
    fail_at: Option<u64>,
    /// A worker thread failed: nothing more is parsed. Taken by
    /// [`Pipeline::take_failure`].
    broken: Option<std::io::Error>,
    /// Physical lines of the input handed to the sink (records and runs,
    /// and before the pipeline started).
    delivered: u64,
    /// Raw lines for the workers to repair, once repair decides line by line.
    phys: Option<Box<PhysBatch>>,
    /// Emptied vectors of parsed batches, for the next jobs.
    spare_records: Vec<Spare>,
    /// Raw batches and repairers back from the workers (boxed as they travel).
    #[allow(clippy::vec_box)]
    spare_phys: Vec<Box<PhysBatch>>,
    /// A per-line repairer as the caller's repairer left it.
    template: Option<Repairer>,
    /// The repairer returned with the last batch taken back (exact state).
    last_repairer: Option<Repairer>,
    /// The next raw batch needs `last_repairer` (see [`Pipeline::send_phys`]).
    pending_handoff: bool,
    /// Records per batch.
    batch_records: usize,
    /// The workers read the input's blocks at positions ([`Pipeline::read_at`]).
    at: Option<ReadingAt>,
    /// The number of the first line of the next batch taken back whose
    /// numbers are relative (positional reading).
    next_line: u64,
    /// A block could not be read: the error and the block's offset. Nothing
    /// after it goes to the sink.
    failed: Option<(std::io::Error, u64)>,
    /// The line cap: no line of a block read at positions is longer.
    line_cap: usize,
    /// Bytes read while looking for where a block ends.
    window: Vec<u8>,
}

/// Positional reading: the file, and the offset of the next block.
struct ReadingAt {
    file: Positional,
    offset: u64,
    /// A block was sent: the stream reader was left behind.
    sent: bool,
}

/// Where a block of whole lines read at positions from `offset` should
/// end: after the first `\n`, from `block` bytes on, that a line which
/// cannot continue the one before it follows (where a batch may start,
/// [`Repairer::line_may_continue`]), with the block no longer than `cap`
/// bytes (so no line in it needs truncating). `None` when there is no such
/// place before the end of the file, or it cannot be read: the stream
/// reader takes over there.
fn block_end(
    file: &Positional,
    offset: u64,
    block: usize,
    cap: usize,
    window: &mut Vec<u8>,
) -> Option<u64> {
    let size = file.size();
    let limit = offset.saturating_add(cap as u64).min(size);
    // The byte after a `\n` at `limit - 1` decides it too.
    let stop = limit.saturating_add(1).min(size);
    let mut from = offset + block.min(cap).max(1) as u64 - 1;
    let mut want = 512u64;
    while from < stop {
        let len = want.min(stop - from) as usize;
        window.resize(len, 0);
        let n = file.read_at(window, from).ok()?;
        let w = window.get(..n)?;
        for i in memchr::memchr_iter(b'\n', w) {
            let end = from + i as u64 + 1;
            if end > limit {
                return None;
            }
            if w.get(i + 1).is_some_and(|&c| Repairer::starts_fresh(c)) {
                return Some(end);
            }
        }
        if n < 2 {
            return None;
        }
        // The last byte again, with the byte after it.
        from += n as u64 - 1;
        want = want.saturating_mul(8);
    }
    None
}

impl Pipeline {
    /// Start the worker threads (`opts.threads`, at least one), which
    /// also recognise events when the sink asks for it. `None` when the
    /// system cannot start a thread; the caller then stays sequential.
    /// `delivered` physical lines of the input went to the sink before.
    pub fn start(opts: &ReadOptions, caps: &Caps, delivered: u64) -> Option<Pipeline> {
        let light = caps.runs();
        let mut ws = Vec::new();
        for k in 0..opts.threads.max(1) {
            let (job_tx, job_rx) = mpsc::channel::<Job>();
            let (res_tx, res_rx) = mpsc::channel::<Parsed>();
            let rec = caps.recognizer.clone();
            let handle = std::thread::Builder::new()
                .name(format!("tracesift-parse-{k}"))
                .spawn(move || {
                    for job in job_rx {
                        if res_tx.send(work(job, rec.as_ref(), light)).is_err() {
                            break;
                        }
                    }
                })
                .ok()?;
            ws.push(Worker {
                out: 0,
                jobs: Some(job_tx),
                results: res_rx,
                handle: Some(handle),
            });
        }
        Some(Pipeline {
            workers: ws,
            current: Batch::default(),
            spare: Vec::new(),
            out: VecDeque::new(),
            events: caps.recognizer.is_some(),
            jobs: 0,
            fail_at: opts.fail_worker_at_batch,
            broken: None,
            delivered,
            phys: None,
            spare_records: Vec::new(),
            spare_phys: Vec::new(),
            template: None,
            last_repairer: None,
            pending_handoff: false,
            batch_records: opts.batch_records.max(1),
            at: None,
            next_line: 0,
            failed: None,
            line_cap: opts.line_cap.max(1),
            window: Vec::new(),
        })
    }

    /// The failure of a worker thread, once: the input cannot be read on.
    pub fn take_failure(&mut self) -> Option<std::io::Error> {
        self.broken.take()
    }

    /// Note that a worker thread is gone: what it had is lost, and nothing
    /// more goes to the sink.
    fn break_down(&mut self) {
        if self.broken.is_none() && self.fail_at != Some(u64::MAX) {
            self.broken = Some(std::io::Error::other(ParserFailed {
                analysed: self.delivered,
            }));
            // Reported once, even when more failures follow.
            self.fail_at = Some(u64::MAX);
        }
        self.out.clear();
    }

    /// Add one record; sends the batch when it is full and feeds the sink
    /// whatever has come back.
    pub fn push(&mut self, l: &Logical<'_>, cont: &mut Continuation, feed: &mut Feed<'_>) {
        self.current.push(l);
        if self.current.full(self.batch_records) {
            self.send(cont, feed);
        }
    }

    /// Whether raw lines go to the workers now ([`Pipeline::go_physical`]).
    pub fn physical(&self) -> bool {
        self.template.is_some()
    }

    /// From now on take raw lines ([`Pipeline::push_raw`]), repaired on the
    /// workers by copies of `repairer` (see [`Repairer::per_line`]). Call it
    /// before a line that cannot continue the one before it.
    pub fn go_physical(
        &mut self,
        repairer: Repairer,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) {
        self.send(cont, feed);
        self.template = Some(repairer);
    }

    /// From line `number` at byte `offset` of `file` on (physical mode;
    /// the start of a line that cannot continue the one before it), the
    /// workers read the input's blocks themselves ([`Pipeline::push_at`]):
    /// the bytes are copied once, by the thread that parses them, and line
    /// numbers are counted there too.
    pub fn read_at(&mut self, file: Positional, number: u64, offset: u64) {
        self.next_line = number;
        self.at = Some(ReadingAt {
            file,
            offset,
            sent: false,
        });
    }

    /// Whether the workers read the blocks ([`Pipeline::read_at`]).
    pub fn reading_at(&self) -> bool {
        self.at.is_some()
    }

    /// Send the next block of the file for a worker to read and parse.
    /// False, with nothing sent, where positional reading stops: the block
    /// would reach the end of the file, no place to end it is in reach (a
    /// line longer than the cap), or a block could not be read. Then call
    /// [`Pipeline::end_at`].
    pub fn push_at(&mut self, input: u32, cont: &mut Continuation, feed: &mut Feed<'_>) -> bool {
        let Some(at) = &self.at else {
            return false;
        };
        if self.failed.is_some() {
            return false;
        }
        // A block fills a batch, as with the stream reader's blocks.
        let block = BLOCK_BYTES_PER_RECORD.saturating_mul(self.batch_records);
        let Some(end) = block_end(&at.file, at.offset, block, self.line_cap, &mut self.window)
        else {
            return false;
        };
        let block = ReadBlock {
            file: at.file.clone(),
            offset: at.offset,
            len: (end - at.offset) as usize,
        };
        // Raw lines from the stream before it go first.
        self.send_phys(false, cont, feed);
        let mut p = self.fresh_phys(input, true);
        p.read = Some(block);
        self.phys = Some(p);
        self.send_phys(false, cont, feed);
        if let Some(at) = self.at.as_mut() {
            at.offset = end;
            at.sent = true;
        }
        true
    }

    /// End positional reading: take every batch back, then return the
    /// file, the number and offset of the next line (where the stream
    /// reader goes on), and the error that stopped the workers, if any.
    /// `None` when no block was read at positions: the stream reader goes
    /// on where it was (a file that reports no size, such as tracefs's
    /// `trace` or `trace_pipe`, is never read at positions).
    pub fn end_at(
        &mut self,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) -> Option<(Positional, u64, u64, Option<std::io::Error>)> {
        let at = self.at.take()?;
        if !at.sent {
            return None;
        }
        while self.take(true, cont, feed) {}
        Some(match self.failed.take() {
            Some((e, offset)) => (at.file, self.next_line, offset, Some(e)),
            None => (at.file, self.next_line, at.offset, None),
        })
    }

    /// Add one raw line (physical mode).
    pub fn push_raw(
        &mut self,
        input: u32,
        raw: &RawLine<'_>,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) {
        let may_continue = Repairer::line_may_continue(raw.bytes.first().copied());
        self.phys_batch(input, may_continue, cont, feed).push(raw);
    }

    /// Read a block of whole raw lines from `reader` straight into the
    /// raw batch (physical mode); the worker splits it. False when the
    /// reader has no block at hand (see [`LineReader::next_block_into`]).
    pub fn push_block<R: std::io::Read>(
        &mut self,
        input: u32,
        reader: &mut LineReader<R>,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) -> bool {
        let may_continue = Repairer::line_may_continue(reader.peek());
        let max = BLOCK_BYTES_PER_RECORD.saturating_mul(self.batch_records);
        let p = self.phys_batch(input, may_continue, cont, feed);
        let at = p.bytes.len();
        let Some(info) = reader.next_block_into(&mut p.bytes, max, Repairer::starts_fresh) else {
            return false;
        };
        if p.tail.is_none() {
            p.tail = Some((at, info.first_number, info.first_offset));
        }
        true
    }

    /// The raw batch to add lines to: sends the current one first when it
    /// is full and the next line cannot continue the one before it (or it
    /// is far past full).
    fn phys_batch(
        &mut self,
        input: u32,
        may_continue: bool,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) -> &mut PhysBatch {
        if let Some(p) = &self.phys {
            if p.full(self.batch_records) && !may_continue {
                self.send_phys(false, cont, feed);
            } else if p.overfull(self.batch_records) {
                self.send_phys(true, cont, feed);
            }
        }
        let p = match self.phys.take() {
            Some(p) => p,
            None => self.fresh_phys(input, false),
        };
        self.phys.insert(p)
    }

    /// An empty raw batch, a spare one if there is one. A batch for the
    /// workers to read (`relative` numbers) keeps its old bytes' length,
    /// so that filling it zeroes only what is new ([`PhysBatch::fill`]).
    fn fresh_phys(&mut self, input: u32, relative: bool) -> Box<PhysBatch> {
        let mut p = self
            .spare_phys
            .pop()
            .unwrap_or_else(|| PhysBatch::new(input));
        p.input = input;
        if !relative {
            p.bytes.clear();
        }
        p.lines.clear();
        p.tail = None;
        p.relative = relative;
        p
    }

    /// Send the raw batch. With `handoff`, the next batch starts at a line
    /// that may continue the last one: wait for every batch out and give the
    /// next one the exact repairer state they left.
    fn send_phys(&mut self, handoff: bool, cont: &mut Continuation, feed: &mut Feed<'_>) {
        let Some(mut p) = self.phys.take() else {
            return;
        };
        // Batches start where lines cannot continue, so any copy of the
        // template repairer will do; after a hand-off, the exact one.
        let exact = self.last_repairer.take();
        p.repairer = match (exact, &self.template) {
            (Some(r), _) if self.pending_handoff => r,
            (_, Some(t)) => t.clone(),
            (_, None) => Repairer::new(false),
        };
        self.pending_handoff = false;
        let out = self.spare.pop().unwrap_or_default();
        self.dispatch(Work::Physical(p, out), cont, feed);
        if handoff {
            while self.take(true, cont, feed) {}
            self.pending_handoff = true;
        }
    }

    fn send(&mut self, cont: &mut Continuation, feed: &mut Feed<'_>) {
        if self.phys.is_some() {
            self.send_phys(false, cont, feed);
            return;
        }
        if self.current.is_empty() {
            return;
        }
        let fresh = self.spare.pop().unwrap_or_default();
        let batch = std::mem::replace(&mut self.current, fresh);
        self.dispatch(Work::Logical(batch), cont, feed);
    }

    fn dispatch(&mut self, work: Work, cont: &mut Continuation, feed: &mut Feed<'_>) {
        if self.fail_at == Some(u64::MAX) {
            // A worker failed: nothing is parsed any more.
            return;
        }
        // Bound what is out before adding to it.
        let cap = IN_FLIGHT_PER_WORKER * self.workers.len();
        while self.out.len() >= cap {
            if !self.take(true, cont, feed) {
                break;
            }
        }
        let job = Job {
            work,
            spare: self.spare_records.pop().unwrap_or_default(),
            fail: self.fail_at == Some(self.jobs),
        };
        self.jobs += 1;
        // The worker with the fewest batches out: a worker that is ahead
        // gets more, so neither waits on the other's queue.
        let k = (0..self.workers.len())
            .min_by_key(|&k| self.workers[k].out)
            .unwrap_or(0);
        let w = &mut self.workers[k];
        let sent = w.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            self.break_down();
            return;
        }
        w.out += 1;
        self.out.push_back(k);
        // Feed the sink what is ready without waiting.
        while self.take(false, cont, feed) {}
    }

    /// Take back the next batch in sequence and feed its records to the
    /// sink; with `wait == false` only if it is ready. Returns whether one
    /// was taken.
    fn take(&mut self, wait: bool, cont: &mut Continuation, feed: &mut Feed<'_>) -> bool {
        let Some(&k) = self.out.front() else {
            return false;
        };
        let w = &mut self.workers[k];
        let parsed = if wait {
            w.results.recv().map_err(|_| true)
        } else {
            w.results
                .try_recv()
                .map_err(|e| e == mpsc::TryRecvError::Disconnected)
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(gone) => {
                if gone {
                    self.break_down();
                }
                return false;
            }
        };
        w.out -= 1;
        self.out.pop_front();
        let mut parsed = parsed;
        let (relative, lines, unread) = parsed
            .borrow_owner()
            .phys
            .as_ref()
            .map_or((false, 0, false), |p| {
                (p.relative, p.lines.len() as u64, p.error.is_some())
            });
        let skip = unread || self.failed.is_some();
        if relative && !skip {
            let base = self.next_line;
            parsed.with_dependent_mut(|_, r| {
                r.records.iter_mut().for_each(|x| x.pos.line += base);
                r.in_run.iter_mut().for_each(|e| e.pos.line += base);
            });
            self.next_line += lines;
        }
        let got = parsed.borrow_dependent();
        let (mut next, mut runs) = (0, got.runs.iter());
        for entry in &got.order {
            if feed.halted() || skip {
                break;
            }
            let i = match *entry {
                Entry::Light { prefixed } => {
                    // Trace events: their class needs no context.
                    cont.saw_trace(prefixed);
                    if let Some((run, spans, events)) = runs.next() {
                        self.delivered += run.lines;
                        feed.trace_run(&TraceRun {
                            run: *run,
                            cpus: got.spans.get(spans.clone()).unwrap_or_default(),
                            events: got.in_run.get(events.clone()).unwrap_or_default(),
                        });
                    }
                    continue;
                }
                Entry::Full => {
                    next += 1;
                    next - 1
                }
            };
            let Some(r) = got.records.get(i) else {
                break;
            };
            let class = cont.classify(&r.body, &r.prefixes, r.msg);
            let fixed;
            let r = if class == r.class {
                r
            } else {
                fixed = Record { class, ..*r };
                &fixed
            };
            self.delivered += u64::from(r.lines);
            let kind = if self.events {
                got.kinds.get(i).copied().flatten()
            } else {
                None
            };
            feed.record(r, kind);
        }
        let spare = parsed.with_dependent_mut(|_, r| r.take_spare());
        self.spare_records.push(spare);
        let owned = parsed.into_owner();
        let mut batch = owned.batch;
        batch.clear();
        self.spare.push(batch);
        if let Some(mut p) = owned.phys {
            if let Some(e) = p.error.take() {
                self.failed.get_or_insert(e);
            }
            self.last_repairer = Some(std::mem::replace(&mut p.repairer, Repairer::new(false)));
            self.spare_phys.push(p);
        }
        true
    }

    /// Send what is left and feed everything to the sink. Returns the
    /// number and offset of the next line if the workers were still reading
    /// at positions, and why a worker failed, if one did.
    pub fn finish(
        mut self,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) -> (Option<(u64, u64)>, Option<std::io::Error>) {
        self.send(cont, feed);
        while self.take(true, cont, feed) {}
        let failure = self.broken.take();
        let at = self.at.as_ref().map(|at| {
            (
                self.next_line,
                self.failed.as_ref().map_or(at.offset, |f| f.1),
            )
        });
        (at, failure)
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        for w in &mut self.workers {
            // Closing the job channel ends the worker's loop.
            w.jobs = None;
        }
        for w in &mut self.workers {
            if let Some(h) = w.handle.take() {
                let _ = h.join();
            }
        }
    }
}
