//! Driving stages 1–3 for one input: bytes → physical lines → (repair) →
//! prefixes → grammar, yielding one borrowed [`Record`] per logical record.
//!
//! The only cross-line state here is small and local: the repair stage's
//! buffered incomplete record and its warm-up window (the first lines of an
//! input, held back while the wrap width is learnt), and the continuation
//! rule (an unrecognised line that directly follows a trace event, or an
//! indented line after a kernel message, continues that record).

mod parallel;

use std::io::Read;

use crate::grammar::{self, Body, LineClass};
use crate::input::{clean, FileAt, LineReader, Pos, Positional};
use crate::prefix::{self, Prefixes};
use crate::repair::{Logical, PhysLine, Repairer};

/// One logical record: usually one physical line, several after repair.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Where its first physical line is.
    pub pos: Pos,
    /// How many physical lines it covers.
    pub lines: u32,
    /// The record's text, prefixes included (repaired if repair changed it).
    pub text: &'a [u8],
    /// The physical line(s) as read (after console clean-up), `\n`-joined.
    pub original: &'a [u8],
    /// The prefix layers.
    pub prefixes: Prefixes,
    /// The text after the prefixes.
    pub msg: &'a [u8],
    /// What the grammar found.
    pub body: Body<'a>,
    /// The class the record's lines are counted under.
    pub class: LineClass,
    /// [`crate::input::clean_flags`] of its lines.
    pub clean: u8,
    /// Whether a physical line was longer than the line cap.
    pub truncated: bool,
    /// [`crate::repair::kinds`] applied to build it.
    pub repairs: u16,
}

/// Receives records in input order.
pub trait RecordSink {
    /// One record.
    fn record(&mut self, r: &Record<'_>);

    /// Whether the sink recognises events in its records: then the parallel
    /// reader finds their kinds on its worker threads and calls
    /// [`RecordSink::record_kind`] instead of [`RecordSink::record`].
    fn wants_events(&self) -> bool {
        false
    }

    /// Whether the sink takes trace lines in short form
    /// ([`RecordSink::light_run`]): the parallel reader then sums up runs of
    /// consecutive records whose body is a trace line and that carry no
    /// `printk messages dropped` marker. Of those, the ones whose event is
    /// more than a plain trace event or a tracepoint also come one by one,
    /// as events, through [`RecordSink::event_in_run`], before their run.
    fn light_traces(&self) -> bool {
        false
    }

    /// A run of consecutive trace lines in short form (see
    /// [`RecordSink::light_traces`]): how many, and per CPU what they say.
    /// It stands for every record of the run, the ones sent through
    /// `event_in_run` too. Only called when `light_traces` is true.
    fn light_run(&mut self, _run: &LightRun, _cpus: &[CpuSpan]) {}

    /// The event of a record of a run still to come through
    /// [`RecordSink::light_run`]: an event that is neither a plain trace
    /// event nor a tracepoint, for what it adds beyond what the run counts.
    /// Only called when `light_traces` is true.
    fn event_in_run(&mut self, _e: &crate::event::Event<'_>) {}

    /// One record with the kind of its event already found
    /// ([`crate::event::kind_of`]); the same as `record` otherwise.
    fn record_kind<'a>(&mut self, r: &Record<'a>, _kind: Option<crate::event::EventKind<'a>>) {
        self.record(r)
    }

    /// The input with this index has ended (after its last record).
    fn end_input(&mut self, _input: u32) {}

    /// Whether the sink wants no more records (e.g. its output pipe closed).
    fn stopped(&self) -> bool {
        false
    }
}

impl<F: FnMut(&Record<'_>)> RecordSink for F {
    fn record(&mut self, r: &Record<'_>) {
        self(r)
    }
}

/// A run of consecutive trace lines of one input, summed up
/// ([`RecordSink::light_run`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LightRun {
    /// The input they are in.
    pub input: u32,
    /// Records in the run.
    pub records: u64,
    /// Physical lines they cover.
    pub lines: u64,
}

/// What the lines of a [`LightRun`] from one CPU (or with none) say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSpan {
    /// The CPU, if the lines name one.
    pub cpu: Option<u32>,
    /// Lines from it.
    pub records: u64,
    /// The first timestamp among them.
    pub first_ts: Option<grammar::TraceTs>,
    /// The last timestamp among them.
    pub last_ts: Option<grammar::TraceTs>,
}

/// Reading options for one run.
#[derive(Debug, Clone, Copy)]
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
}

/// Default [`ReadOptions::parallel_after`]: small inputs are not worth a thread.
pub const PARALLEL_AFTER: u64 = 4 << 20;

/// Default [`ReadOptions::batch_records`].
pub const BATCH_RECORDS: usize = 4096;

/// Threads worth using on this machine for [`ReadOptions::threads`].
pub fn available_threads() -> usize {
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
pub struct Continuation {
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
    pub fn saw_trace(&mut self, prefixed: bool) {
        self.prev = Some((LineClass::FtraceEvent, prefixed));
        self.run = 0;
    }

    /// The class of a record, given the records before it.
    pub fn classify(&mut self, body: &Body<'_>, pre: &Prefixes, msg: &[u8]) -> LineClass {
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

/// The part of the reader after repair: the continuation rule and the sink,
/// sequential at first, then (for a large input) through a [`parallel::Pipeline`].
struct Back<'s> {
    cont: Continuation,
    sink: &'s mut dyn RecordSink,
    pipeline: Option<parallel::Pipeline>,
    stopped: bool,
}

impl Back<'_> {
    fn emit(&mut self, l: &Logical<'_>) {
        if self.stopped {
            return;
        }
        if let Some(p) = self.pipeline.as_mut() {
            p.push(l, &mut self.cont, self.sink);
        } else {
            let (prefixes, msg) = prefix::peel(l.text);
            let body = grammar::classify(msg, &prefixes);
            let class = self.cont.classify(&body, &prefixes, msg);
            self.sink.record(&Record {
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
            });
        }
        self.stopped = self.sink.stopped();
    }

    /// Feed the sink what is left. Returns where the worker threads'
    /// positional reads stopped, if they were still reading.
    fn finish(&mut self) -> Option<(u64, u64)> {
        self.pipeline
            .take()
            .and_then(|p| p.finish(&mut self.cont, self.sink))
    }
}

/// Read one input to its end, pushing every record to `sink`.
///
/// I/O errors end the input early; what was read before is already in the
/// sink and the error is returned with the byte count reached.
pub fn read_input<R: Read>(
    input: u32,
    rdr: R,
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> (ReadSummary, Option<std::io::Error>) {
    read_input_at(input, rdr, None, opts, sink)
}

/// The stream a [`LineReader`] reads: the input as opened, or, after the
/// worker threads read blocks of it at positions, the file from where they
/// stopped.
enum Src<R> {
    Stream(R),
    At(FileAt),
}

impl<R: Read> Read for Src<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Src::Stream(r) => r.read(buf),
            Src::At(f) => f.read(buf),
        }
    }
}

/// [`read_input`] for an input that `at` can also read at positions (an
/// uncompressed regular file, the same bytes as `rdr`): once the reader
/// runs in parallel and on raw lines, the worker threads read their blocks
/// themselves (`parallel::Pipeline::read_at`) and `rdr` is left where
/// it is; the file is read as a stream again from where they stop.
pub fn read_input_at<R: Read>(
    input: u32,
    rdr: R,
    at: Option<Positional>,
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> (ReadSummary, Option<std::io::Error>) {
    let mut reader = LineReader::with_limits(Src::Stream(rdr), opts.line_cap, opts.read_size);
    // The file, and the offset from which the workers may read it.
    let mut at = at.map(|f| (f, 0));
    let mut repairer = Repairer::with_limit(opts.repair, opts.line_cap);
    let mut back = Back {
        cont: Continuation::default(),
        sink,
        pipeline: None,
        stopped: false,
    };
    let mut scratch = Vec::new();
    let err = loop {
        if back.stopped {
            break None;
        }
        if back.pipeline.is_none() && opts.threads > 1 && reader.bytes_read() >= opts.parallel_after
        {
            back.pipeline = parallel::Pipeline::start(
                opts.threads,
                opts.batch_records,
                opts.line_cap,
                back.sink.wants_events(),
                back.sink.wants_events() && back.sink.light_traces(),
            );
        }
        if let Some(p) = back.pipeline.as_mut().filter(|p| p.physical()) {
            // Where a batch may start, the workers may read on by themselves.
            let cut = reader.peek().is_some_and(Repairer::starts_fresh);
            let (number, offset) = reader.position();
            if cut {
                if let Some((file, _)) = at.take_if(|(_, from)| offset >= *from) {
                    p.read_at(file, number, offset);
                }
            }
            if p.reading_at() {
                if p.push_at(input, &mut back.cont, back.sink) {
                    back.stopped = back.sink.stopped();
                    continue;
                }
                // They stopped (near the end, or before a very long line):
                // the file is a stream again from there, for a line cap's
                // worth of bytes at least.
                let Some((file, number, offset, error)) = p.end_at(&mut back.cont, back.sink)
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
                back.stopped = back.sink.stopped();
                continue;
            }
            // Whole blocks of lines go to the workers unsplit.
            if p.push_block(input, &mut reader, &mut back.cont, back.sink) {
                back.stopped = back.sink.stopped();
                continue;
            }
        }
        match reader.next_line() {
            Ok(Some(raw)) => {
                if let Some(p) = back.pipeline.as_mut() {
                    if !p.physical()
                        && raw.number % 16 == 0
                        && !Repairer::line_may_continue(raw.bytes.first().copied())
                    {
                        if let Some(r) = repairer.per_line() {
                            p.go_physical(r, &mut back.cont, back.sink);
                        }
                    }
                    if p.physical() {
                        p.push_raw(input, &raw, &mut back.cont, back.sink);
                        back.stopped = back.sink.stopped();
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
            Err(e) => break Some(e),
        }
    };
    repairer.finish(&mut |l| back.emit(l));
    let (next, bytes) = match back.finish() {
        // The sink wanted no more while the workers read at positions.
        Some(at) => at,
        None => (reader.position().0, reader.bytes_read()),
    };
    let summary = ReadSummary {
        lines: next.saturating_sub(1),
        bytes,
    };
    (summary, err)
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
