//! Driving stages 1–3 for one input: bytes → physical lines → (repair) →
//! prefixes → grammar, yielding one borrowed [`Record`] per logical record.
//!
//! The only cross-line state here is small and local: the repair stage's
//! buffered incomplete record and its warm-up window (the first lines of an
//! input, held back while the wrap width is learnt), and the continuation
//! rule (an unrecognised line that directly follows a trace event, or an
//! indented line after a kernel message, continues that record).

pub mod driver;
mod filter;
mod parallel;
mod sink;

use std::io::{self, Read};

pub(crate) use filter::Prefilter;
pub use sink::{Caps, CpuSpan, Flow, LightRun, RecordSink, SinkResult, TraceRun};

use crate::event::{EventKind, Recognizer};
use crate::grammar::{self, Body, LineClass};
use crate::input::readahead::Idle;
use crate::input::{clean, FileAt, LineReader, Pos, Positional};
use crate::prefix::{self, Prefixes};
use crate::record::Record;
use crate::repair::{Logical, PhysLine, Repairer};

/// Reading options for one run.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Lines longer than this are truncated for parsing.
    pub line_cap: usize,
    /// Read block size.
    pub read_size: usize,
    /// Whether the paste-repair stage runs.
    pub repair: bool,
    /// Threads that parse records (1: everything on the calling thread).
    /// Above 1, an input larger than [`PARALLEL_AFTER`] bytes is parsed
    /// on `threads` worker threads; the records, and so every result, are
    /// the same.
    pub threads: usize,
    /// With several threads, an input is read on one thread up to this many
    /// bytes and the rest is parsed in parallel.
    pub parallel_after: u64,
    /// Records (or raw lines) per parallel batch.
    pub batch_records: usize,
    /// Read only the lines this prefilter selects (and a few around them),
    /// as `timeline` does.
    pub prefilter: Option<std::sync::Arc<Prefilter>>,
    /// Hand records on as a live input delivers them (`events`): a live
    /// input (a pipe, a FIFO, `trace_pipe`) is read on a thread of its
    /// own; whenever no byte is ready, what is parsed goes to the sink and
    /// the sink is told ([`RecordSink::idle`]); when the stream falls
    /// silent, paste repair decides about the lines it holds back
    /// ([`Repairer::idle`]). Without a prefilter only.
    pub live: Option<crate::input::readahead::LiveTimes>,
    /// Test hook: a worker thread panics on its batch with this number
    /// (counted from 0 over the run), to show that a failed worker ends the
    /// input with an error rather than truncating it silently.
    #[doc(hidden)]
    pub fail_worker_at_batch: Option<u64>,
}

/// Default [`ReadOptions::parallel_after`]: small inputs are not worth a thread.
pub(crate) const PARALLEL_AFTER: u64 = 4 << 20;

/// Default [`ReadOptions::batch_records`].
pub(crate) const BATCH_RECORDS: usize = 4096;

/// Threads worth using on this machine for [`ReadOptions::threads`].
pub(crate) fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            line_cap: crate::input::DEFAULT_LINE_CAP,
            read_size: crate::input::DEFAULT_READ_SIZE,
            repair: true,
            threads: 1,
            parallel_after: PARALLEL_AFTER,
            batch_records: BATCH_RECORDS,
            prefilter: None,
            live: None,
            fail_worker_at_batch: None,
        }
    }
}

/// What reading one input produced besides its records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// Physical lines read.
    pub lines: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
}

/// The continuation rule's state (an unrecognised line after a trace event,
/// or an indented one after a kernel message, continues that record).
#[derive(Debug, Default)]
pub(crate) struct Continuation {
    /// Class of the previous non-continuation record, and whether it had a console prefix.
    prev: Option<(LineClass, bool)>,
    /// Continuation lines since that record.
    run: u32,
}

/// A trace payload continues over at most this many lines (a `trace_printk`
/// message is at most 1 KiB).
const MAX_CONTINUATION: u32 = 16;

impl Continuation {
    /// Note a trace event record that was not classified here (the
    /// parallel reader's short form): what `classify` does for one.
    pub(crate) fn saw_trace(&mut self, prefixed: bool) {
        self.prev = Some((LineClass::FtraceEvent, prefixed));
        self.run = 0;
    }

    /// The class of a record, given the records before it.
    pub(crate) fn classify(&mut self, body: &Body<'_>, pre: &Prefixes, msg: &[u8]) -> LineClass {
        let class = body.class();
        if class == LineClass::Unrecognized {
            let indented = msg.first().is_some_and(|&c| c == b' ' || c == b'\t');
            let continues = match self.prev {
                Some((LineClass::FtraceEvent, _)) => {
                    let t = crate::fields::trim(msg);
                    let markup = t.starts_with(b"<") && t.ends_with(b">");
                    self.run < MAX_CONTINUATION && msg.len() <= 1024 && !markup
                }
                Some((LineClass::KernelMessage, true)) => indented && pre.layers == 0,
                _ => false,
            };
            if continues {
                self.run += 1;
                return LineClass::Continuation;
            }
        }
        self.prev = match class {
            LineClass::FtraceEvent | LineClass::KernelMessage => Some((class, pre.layers != 0)),
            _ => None,
        };
        self.run = 0;
        class
    }
}

/// The sink as the reader drives it: no record reaches it once it stopped
/// or failed, and it remembers which.
pub(crate) struct Feed<'s> {
    sink: &'s mut dyn RecordSink,
    failed: Option<io::Error>,
    stopped: bool,
    /// Physical lines handed over (in records and runs).
    delivered: u64,
}

impl<'s> Feed<'s> {
    pub(crate) fn new(sink: &'s mut dyn RecordSink) -> Feed<'s> {
        Feed {
            sink,
            failed: None,
            stopped: false,
            delivered: 0,
        }
    }

    /// Physical lines handed to the sink so far, over all inputs.
    pub(crate) fn delivered(&self) -> u64 {
        self.delivered
    }

    /// What the sink wants.
    pub(crate) fn caps(&self) -> Caps {
        self.sink.caps()
    }

    /// Whether the sink wants no more records.
    pub(crate) fn halted(&self) -> bool {
        self.stopped
    }

    fn answer(&mut self, res: SinkResult) {
        match res {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => self.stopped = true,
            Err(e) => {
                self.stopped = true;
                self.failed = Some(e);
            }
        }
    }

    /// Hand a record over (nothing once the sink halted).
    pub(crate) fn record(&mut self, r: &Record<'_>, kind: Option<EventKind<'_>>) {
        if !self.stopped {
            self.delivered += u64::from(r.lines);
            let res = self.sink.record(r, kind);
            self.answer(res);
        }
    }

    /// Hand a run of trace lines over.
    pub(crate) fn trace_run(&mut self, run: &TraceRun<'_>) {
        if !self.stopped {
            self.delivered += run.run.lines;
            let res = self.sink.trace_run(run);
            self.answer(res);
        }
    }

    /// Tell the sink that no more records are at hand for now (a live
    /// input is waiting for its writer).
    pub(crate) fn idle(&mut self) {
        if !self.stopped {
            let res = self.sink.idle();
            self.answer(res);
        }
    }

    /// Tell the sink an input ended (even after it halted: what it has
    /// of the input is complete).
    pub(crate) fn end_input(&mut self, input: u32) {
        let res = self.sink.end_input(input);
        if self.failed.is_none() {
            self.answer(res);
        }
    }

    /// Why the sink failed, if it did.
    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        self.failed.take()
    }
}

/// Logical records to [`Record`]s: prefixes peeled, the grammar run, the
/// continuation rule applied, the event recognised when the sink wants it.
/// Shared by the sequential reader and the prefiltered one
/// ([`filter`]); the parallel reader does the same on its workers.
pub(crate) struct Assembler {
    /// The continuation rule's state.
    pub(crate) cont: Continuation,
    recognizer: Option<Recognizer>,
}

impl Assembler {
    pub(crate) fn new(caps: &Caps) -> Assembler {
        Assembler {
            cont: Continuation::default(),
            recognizer: caps.recognizer.clone(),
        }
    }

    /// Make the record of `l` and hand it to `feed`.
    pub(crate) fn emit(&mut self, l: &Logical<'_>, feed: &mut Feed<'_>) {
        let (prefixes, msg) = prefix::peel(l.text);
        let body = grammar::classify(msg, &prefixes);
        let class = self.cont.classify(&body, &prefixes, msg);
        let r = Record {
            pos: l.pos,
            lines: l.lines,
            text: l.text,
            original: l.original,
            prefixes,
            msg,
            body,
            class,
            clean: l.clean,
            truncated: l.truncated,
            repairs: l.repairs,
        };
        let kind = self.recognizer.as_ref().and_then(|k| k.kind(&r));
        feed.record(&r, kind);
    }
}

/// The part of the reader after repair: records assembled on the calling
/// thread at first, then (for a large input) through a [`parallel::Pipeline`].
struct Back<'f, 's> {
    asm: Assembler,
    feed: &'f mut Feed<'s>,
    caps: Caps,
    pipeline: Option<parallel::Pipeline>,
}

impl Back<'_, '_> {
    fn emit(&mut self, l: &Logical<'_>) {
        if self.feed.halted() {
            return;
        }
        match self.pipeline.as_mut() {
            Some(p) => p.push(l, &mut self.asm.cont, self.feed),
            None => self.asm.emit(l, self.feed),
        }
    }

    /// A live input has no byte ready: everything read goes to the sink
    /// now (and, with `silent`, paste repair decides about what it holds),
    /// then the sink is told.
    fn idle(&mut self, repairer: &mut Repairer, silent: bool) {
        if silent {
            repairer.idle(&mut |l| self.emit(l));
        }
        if let Some(p) = self.pipeline.as_mut() {
            p.idle(&mut self.asm.cont, self.feed);
        }
        self.feed.idle();
    }

    /// Feed the sink what is left. Returns where the worker threads'
    /// positional reads stopped, if they were still reading, and why the
    /// workers failed, if they did.
    fn finish(&mut self) -> (Option<(u64, u64)>, Option<io::Error>) {
        match self.pipeline.take() {
            Some(p) => p.finish(&mut self.asm.cont, self.feed),
            None => (None, None),
        }
    }
}

/// Read one input to its end, pushing every record to `sink`.
///
/// I/O errors end the input early; what was read before is already in the
/// sink and the error is returned with the byte count reached. A sink that
/// fails ends the input too, with its error.
pub fn read_input<R: Read>(
    input: u32,
    rdr: R,
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> (ReadSummary, Option<io::Error>) {
    read_input_at(input, rdr, None, opts, sink)
}

/// [`read_input`] for an input that `at` can also read at positions (an
/// uncompressed regular file holding the same bytes as `rdr`; see
/// `read_with`).
pub fn read_input_at<R: Read>(
    input: u32,
    rdr: R,
    at: Option<Positional>,
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> (ReadSummary, Option<io::Error>) {
    let mut feed = Feed::new(sink);
    let (summary, err) = read_with(input, rdr, at, opts, &mut feed);
    (summary, err.or_else(|| feed.take_error()))
}

/// The stream a [`LineReader`] reads: the input as opened, or, after the
/// worker threads read blocks of it at positions, the file from where they
/// stopped.
enum Src<R> {
    Stream(R),
    At(FileAt),
}

impl<R: Read> Read for Src<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Src::Stream(r) => r.read(buf),
            Src::At(f) => f.read(buf),
        }
    }
}

/// [`read_input`] into a [`Feed`], for an input that `at` can also read at
/// positions (an uncompressed regular file, the same bytes as `rdr`): once
/// the reader runs in parallel and on raw lines, the worker threads read
/// their blocks themselves (`parallel::Pipeline::read_at`) and `rdr` is
/// left where it is; the file is read as a stream again from where they
/// stop. With a [`Prefilter`] in `opts`, only the lines it selects are read
/// as records ([`filter`]).
pub(crate) fn read_with<R: Read>(
    input: u32,
    rdr: R,
    at: Option<Positional>,
    opts: &ReadOptions,
    feed: &mut Feed<'_>,
) -> (ReadSummary, Option<io::Error>) {
    if let Some(f) = opts.prefilter.as_deref() {
        return filter::read_filtered(input, rdr, f, opts, feed);
    }
    let mut reader = LineReader::with_limits(Src::Stream(rdr), opts.line_cap, opts.read_size);
    // The file, and the offset from which the workers may read it.
    let mut at = at.map(|f| (f, 0));
    let mut repairer = Repairer::with_limit(opts.repair, opts.line_cap);
    let caps = feed.caps();
    let start = feed.delivered();
    let mut back = Back {
        asm: Assembler::new(&caps),
        feed,
        caps,
        pipeline: None,
    };
    let mut scratch = Vec::new();
    let err = loop {
        if back.feed.halted() {
            break None;
        }
        if back.pipeline.is_none() && opts.threads > 1 && reader.bytes_read() >= opts.parallel_after
        {
            let before = back.feed.delivered() - start;
            back.pipeline = parallel::Pipeline::start(opts, &back.caps, before);
        }
        if let Some(p) = back.pipeline.as_mut() {
            if let Some(e) = p.take_failure() {
                break Some(e);
            }
        }
        if let Some(p) = back.pipeline.as_mut().filter(|p| p.physical()) {
            // Where a batch may start, the workers may read on by themselves.
            let cut = Repairer::starts_fresh(reader.peek_bytes());
            let (number, offset) = reader.position();
            if cut {
                if let Some((file, _)) = at.take_if(|(_, from)| offset >= *from) {
                    p.read_at(file, number, offset);
                }
            }
            if p.reading_at() {
                if p.push_at(input, &mut back.asm.cont, back.feed) {
                    continue;
                }
                // They stopped (near the end, or before a very long line):
                // the file is a stream again from there, for a line cap's
                // worth of bytes at least.
                let Some((file, number, offset, error)) = p.end_at(&mut back.asm.cont, back.feed)
                else {
                    // Nothing was read at positions: the stream goes on.
                    continue;
                };
                reader = LineReader::resume(
                    Src::At(file.stream_from(offset)),
                    opts.line_cap,
                    opts.read_size,
                    number,
                    offset,
                );
                if error.is_some() {
                    break error;
                }
                at = Some((file, offset.saturating_add(opts.line_cap as u64)));
                continue;
            }
            // Whole blocks of lines go to the workers unsplit.
            if p.push_block(input, &mut reader, &mut back.asm.cont, back.feed) {
                if let Some(idle) = reader.take_idle() {
                    back.idle(&mut repairer, idle == Idle::Silent);
                }
                continue;
            }
            if let Some(idle) = reader.take_idle() {
                back.idle(&mut repairer, idle == Idle::Silent);
                continue;
            }
        }
        match reader.next_line() {
            Ok(Some(raw)) => {
                if let Some(p) = back.pipeline.as_mut() {
                    if !p.physical()
                        && raw.number % 16 == 0
                        && !Repairer::line_may_continue(raw.bytes)
                    {
                        if let Some(r) = repairer.per_line() {
                            p.go_physical(r, &mut back.asm.cont, back.feed);
                        }
                    }
                    if p.physical() {
                        p.push_raw(input, &raw, &mut back.asm.cont, back.feed);
                        continue;
                    }
                }
                let (text, flags) = clean(raw.bytes, &mut scratch);
                let phys = PhysLine {
                    pos: Pos {
                        input,
                        line: raw.number,
                        offset: raw.offset,
                    },
                    text,
                    clean: flags,
                    truncated: raw.truncated,
                };
                repairer.push(phys, &mut |l| back.emit(l));
            }
            Ok(None) => break None,
            Err(e) => match Idle::of(&e) {
                Some(idle) => back.idle(&mut repairer, idle == Idle::Silent),
                None => break Some(e),
            },
        }
    };
    repairer.finish(&mut |l| back.emit(l));
    let (reached, failure) = back.finish();
    let (next, bytes) = match reached {
        // The sink wanted no more while the workers read at positions.
        Some(at) => at,
        None => (reader.position().0, reader.bytes_read()),
    };
    let summary = ReadSummary {
        lines: next.saturating_sub(1),
        bytes,
    };
    (summary, err.or(failure))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes_with(data: &str, repair: bool) -> Vec<(u64, LineClass)> {
        let mut out = Vec::new();
        let mut sink = |r: &Record<'_>| out.push((r.pos.line, r.class));
        let opts = ReadOptions {
            repair,
            ..ReadOptions::default()
        };
        let (s, e) = read_input(0, data.as_bytes(), &opts, &mut sink);
        assert!(e.is_none());
        assert_eq!(s.lines as usize, data.lines().count());
        out
    }

    fn classes(data: &str) -> Vec<(u64, LineClass)> {
        classes_with(data, true)
    }

    #[test]
    fn continuation_after_trace_event() {
        let data = "      ls-4734    2d..1. 106439.675570920: bprint:               select_task_rq_fair: fig: cpu=0\n gid=4\nplain prose after\n\nmore prose\n";
        let c = classes(data);
        assert_eq!(c[0].1, LineClass::FtraceEvent);
        assert_eq!(c[1].1, LineClass::Continuation);
        assert_eq!(c[2].1, LineClass::Continuation);
        assert_eq!(c[3].1, LineClass::Blank);
        assert_eq!(c[4].1, LineClass::Unrecognized);
    }

    #[test]
    fn dmesg_indented_continuation() {
        let data = "[ 1.000000] BTRFS info (device sda): leaf 1 gen 2\n               item 0 key (1 2 3)\nnot indented\n";
        let c = classes_with(data, false);
        assert_eq!(c[1].1, LineClass::Continuation);
        assert_eq!(c[2].1, LineClass::Unrecognized);
        // Repair gives the indented line its record's prefix back.
        let c = classes(data);
        assert_eq!(c[1].1, LineClass::KernelMessage);
        assert_eq!(c[2].1, LineClass::Unrecognized);
    }

    #[test]
    fn split_records_count_their_line_once() {
        let data =
            "[ 1.000000] BTRFS info (device sda): a [ 1.000001] BTRFS info (device sda): b\nx\n";
        let c = classes(data);
        assert_eq!(
            c,
            [
                (1, LineClass::KernelMessage),
                (1, LineClass::KernelMessage),
                (2, LineClass::Unrecognized)
            ]
        );
        let mut lines = 0;
        let mut sink = |r: &Record<'_>| lines += r.lines;
        read_input(0, data.as_bytes(), &ReadOptions::default(), &mut sink);
        assert_eq!(lines, 2);
    }
}
