//! Running a list of inputs through the record stages into one sink.
//!
//! An error on one input (missing file, truncated archive) is recorded and
//! the run goes on with the next input; what was read before the error has
//! already reached the sink.

use std::io::{self, Read};

use super::{read_with, Feed, ReadOptions, ReadSummary, RecordSink};
use crate::input::{self, Compression, InputError, InputSpec};

/// What happened to one input.
#[derive(Debug)]
pub struct InputResult {
    /// Display name (`<stdin>` for standard input).
    pub name: String,
    /// Detected compression.
    pub compression: Compression,
    /// Lines and bytes read.
    pub summary: ReadSummary,
    /// Why the input could not be read to its end, if it could not.
    pub error: Option<InputError>,
}

/// Wraps each opened input's reader, e.g. to count bytes for a progress bar.
pub(crate) trait ReaderHook {
    /// Wrap the raw (still compressed) reader of input `index`; `size` is the
    /// file's size when it is a regular file.
    fn wrap(
        &mut self,
        index: u32,
        name: &str,
        size: Option<u64>,
        r: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send>;

    /// Whether input `index` (`size` bytes when a regular file) may also be
    /// read at positions, past the wrapped reader ([`input::Positional`]):
    /// not when the hook needs to see every byte.
    fn positional(&self, _index: u32, _size: Option<u64>) -> bool {
        true
    }
}

/// No wrapping.
pub(crate) struct NoHook;

impl ReaderHook for NoHook {
    fn wrap(
        &mut self,
        _: u32,
        _: &str,
        _: Option<u64>,
        r: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send> {
        r
    }
}

/// Open input `index`, passing its raw stream through `hook`, then
/// detecting and undoing compression. With `read_ahead`, decompressing a
/// compressed input happens on a thread of its own
/// ([`input::readahead::ReadAhead`]); a plain input is better read where it
/// is parsed, straight into the parser's buffers. With `live`, a live
/// input is read on a thread of its own that says when it has nothing
/// ready ([`input::readahead::ReadAhead::live`]).
pub(crate) fn open_input(
    index: u32,
    spec: &InputSpec,
    hook: &mut dyn ReaderHook,
    read_ahead: bool,
    live: Option<input::readahead::LiveTimes>,
) -> Result<input::Opened, InputError> {
    let name = spec.display_name();
    let mut size = None;
    let mut opened = input::open_with(spec, |s, raw| {
        size = s;
        hook.wrap(index, &name, s, raw)
    })?;
    if !hook.positional(index, size) {
        opened.positional = None;
    }
    if let Some(times) = live.filter(|_| opened.live) {
        opened.reader = match input::readahead::ReadAhead::live(opened.reader, times) {
            Ok(ra) => Box::new(ra),
            Err(r) => r,
        };
    } else if read_ahead && opened.compression != Compression::None {
        opened.reader = match input::readahead::ReadAhead::start(opened.reader) {
            Ok(ra) => Box::new(ra),
            Err(r) => r,
        };
    }
    Ok(opened)
}

/// What [`run_inputs`] records for an input that could not be opened.
pub(crate) fn unopened(name: String, error: InputError) -> InputResult {
    InputResult {
        name,
        compression: Compression::None,
        summary: ReadSummary::default(),
        error: Some(error),
    }
}

/// What a run over several inputs produced besides what its sink gathered.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One per input, in order (fewer when the sink stopped the run).
    pub inputs: Vec<InputResult>,
    /// Why the sink failed (its output could not be written), if it did.
    pub sink_error: Option<io::Error>,
}

impl Outcome {}

/// Read every input in order into `sink`.
pub(crate) fn run_inputs(
    specs: &[InputSpec],
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
    hook: &mut dyn ReaderHook,
) -> Outcome {
    let mut feed = Feed::new(sink);
    let mut results = Vec::with_capacity(specs.len());
    // A prefiltered scan runs at memory speed: a copy between threads
    // costs more than the read it would overlap.
    let read_ahead = opts.threads > 1 && opts.prefilter.is_none();
    for (idx, spec) in specs.iter().enumerate() {
        if feed.halted() {
            break;
        }
        let idx = idx as u32;
        let name = spec.display_name();
        // Live reading signals idle stretches in band: not for the
        // prefiltered scan, which has no use for them.
        let live = opts.live.filter(|_| opts.prefilter.is_none());
        let opened = match open_input(idx, spec, hook, read_ahead, live) {
            Ok(o) => o,
            Err(e) => {
                feed.end_input(idx);
                results.push(unopened(name, e));
                continue;
            }
        };
        let compression = opened.compression;
        let (summary, err) = read_with(idx, opened.reader, opened.positional, opts, &mut feed);
        feed.end_input(idx);
        let error = err.map(|e| input::source::read_error(&name, compression, summary.bytes, e));
        results.push(InputResult {
            name,
            compression,
            summary,
            error,
        });
    }
    Outcome {
        inputs: results,
        sink_error: feed.take_error(),
    }
}

/// [`run_inputs`] over inputs held in memory, named `<input N>`: the same
/// reading, for tests and fuzzing.
pub(crate) fn run_bytes(
    inputs: &[&[u8]],
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> Outcome {
    let mut feed = Feed::new(sink);
    let mut results = Vec::with_capacity(inputs.len());
    for (idx, data) in inputs.iter().enumerate() {
        if feed.halted() {
            break;
        }
        let idx = idx as u32;
        let (summary, err) = read_with(idx, *data, None, opts, &mut feed);
        feed.end_input(idx);
        let name = format!("<input {idx}>");
        let error =
            err.map(|e| input::source::read_error(&name, Compression::None, summary.bytes, e));
        results.push(InputResult {
            name,
            compression: Compression::None,
            summary,
            error,
        });
    }
    Outcome {
        inputs: results,
        sink_error: feed.take_error(),
    }
}
