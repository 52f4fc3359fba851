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
//! takes a fast lane (the fixed-width console dump reader of `grammar::trace`) straight from the raw
//! batch, and only the lines among them that are more than plain trace
//! events ([`crate::event::Recognizer::notable_trace`]) go on, as events.
//!
//! A batch and the records parsed from it travel together in a self-cell
//! (the records borrow the batch's bytes). A batch goes to the worker with
//! the fewest batches out, the caller notes which, and each worker answers
//! in the order it was asked, so the caller reads the answers back in
//! sequence with no reordering buffer. At most [`IN_FLIGHT_PER_WORKER`]
//! batches per worker are out at once, which bounds memory; batch buffers
//! are recycled.

mod at;
mod batch;
mod raw;
mod runs;
mod worker;

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use super::{Caps, Continuation, Feed, ReadOptions, TraceRun};
use crate::input::source::ParserFailed;
use crate::input::{LineReader, Positional, RawLine};
use crate::record::Record;
use crate::repair::{Logical, Repairer};
use at::{block_end, ReadingAt};
use batch::{Batch, BATCH_BYTES};
use raw::{PhysBatch, ReadBlock};
use runs::Entry;
use worker::{work, Job, Parsed, Spare, Work};

/// Bytes of whole lines the caller takes at once in physical mode
/// ([`LineReader::next_block_into`]), per record of the batch limit
/// ([`super::ReadOptions::batch_records`]): with the default limit, one
/// block fills a batch.
const BLOCK_BYTES_PER_RECORD: usize = BATCH_BYTES / super::BATCH_RECORDS;
/// Batches out per worker (queued, being parsed, or parsed and waiting):
/// one being parsed and one queued keep a worker busy. Each cost about
/// 3 MiB on a console capture (the parsed records of 512 KiB of lines),
/// and 4 per worker took `report` on 1 GiB from a pipe to 114 MiB, over
/// the 100 MiB bar of #19; 2 took it to 85-91 MiB, no slower.
const IN_FLIGHT_PER_WORKER: usize = 2;

struct Worker {
    /// Batches sent to it and not yet taken back.
    out: usize,
    jobs: Option<Sender<Job>>,
    results: Receiver<Parsed>,
    handle: Option<JoinHandle<()>>,
}

/// The parallel back half of the reader: takes logical records in order,
/// hands them to the sink in the same order.
pub(crate) struct Pipeline {
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

impl Pipeline {
    /// Start the worker threads (`opts.threads`, at least one), which
    /// also recognise events when the sink asks for it. `None` when the
    /// system cannot start a thread; the caller then stays sequential.
    /// `delivered` physical lines of the input went to the sink before.
    pub(crate) fn start(opts: &ReadOptions, caps: &Caps, delivered: u64) -> Option<Pipeline> {
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
    pub(crate) fn take_failure(&mut self) -> Option<std::io::Error> {
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
    pub(crate) fn push(&mut self, l: &Logical<'_>, cont: &mut Continuation, feed: &mut Feed<'_>) {
        self.current.push(l);
        if self.current.full(self.batch_records) {
            self.send(cont, feed);
        }
    }

    /// Whether raw lines go to the workers now ([`Pipeline::go_physical`]).
    pub(crate) fn physical(&self) -> bool {
        self.template.is_some()
    }

    /// From now on take raw lines ([`Pipeline::push_raw`]), repaired on the
    /// workers by copies of `repairer` (see [`Repairer::per_line`]). Call it
    /// before a line that cannot continue the one before it.
    pub(crate) fn go_physical(
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
    pub(crate) fn read_at(&mut self, file: Positional, number: u64, offset: u64) {
        self.next_line = number;
        self.at = Some(ReadingAt {
            file,
            offset,
            sent: false,
        });
    }

    /// Whether the workers read the blocks ([`Pipeline::read_at`]).
    pub(crate) fn reading_at(&self) -> bool {
        self.at.is_some()
    }

    /// Send the next block of the file for a worker to read and parse.
    /// False, with nothing sent, where positional reading stops: the block
    /// would reach the end of the file, no place to end it is in reach (a
    /// line longer than the cap), or a block could not be read. Then call
    /// [`Pipeline::end_at`].
    pub(crate) fn push_at(
        &mut self,
        input: u32,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) -> bool {
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
    pub(crate) fn end_at(
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
    pub(crate) fn push_raw(
        &mut self,
        input: u32,
        raw: &RawLine<'_>,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) {
        let may_continue = Repairer::line_may_continue(raw.bytes);
        self.phys_batch(input, may_continue, cont, feed).push(raw);
    }

    /// Read a block of whole raw lines from `reader` straight into the
    /// raw batch (physical mode); the worker splits it. False when the
    /// reader has no block at hand (see [`LineReader::next_block_into`]).
    pub(crate) fn push_block<R: std::io::Read>(
        &mut self,
        input: u32,
        reader: &mut LineReader<R>,
        cont: &mut Continuation,
        feed: &mut Feed<'_>,
    ) -> bool {
        let may_continue = Repairer::line_may_continue(reader.peek_bytes());
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
        if self.fail_at == Some(u64::MAX) {
            // A worker failed while this waited for room: the batch must
            // not go to another and reach the sink after the failure
            // (the summary would count more lines than the error says).
            return;
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
                r.runs.iter_mut().for_each(|(run, ..)| {
                    run.first_line += base;
                    run.last_line += base;
                });
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
        let keep = self.batch_records;
        let spare = parsed.with_dependent_mut(|_, r| r.take_spare(keep));
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

    /// A live input has nothing ready: send the batch being filled and
    /// feed the sink everything out. A raw batch after this one may start
    /// at a line that continues the last, so it gets the exact repairer
    /// state the workers leave (as after any hand-off).
    pub(crate) fn idle(&mut self, cont: &mut Continuation, feed: &mut Feed<'_>) {
        if self.phys.is_some() {
            self.send_phys(true, cont, feed);
        } else {
            self.send(cont, feed);
        }
        while self.take(true, cont, feed) {}
    }

    /// Send what is left and feed everything to the sink. Returns the
    /// number and offset of the next line if the workers were still reading
    /// at positions, and why a worker failed, if one did.
    pub(crate) fn finish(
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
