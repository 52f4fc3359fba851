//! Running a list of inputs through the record stages into one sink.
//!
//! An error on one input (missing file, truncated archive) is recorded and
//! the run goes on with the next input; what was read before the error has
//! already reached the sink.

use std::io::Read;

use crate::input::{self, Compression, InputError, InputSpec};
use crate::record::{read_input, ReadOptions, ReadSummary, RecordSink};

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
pub trait ReaderHook {
    /// Wrap the decompressed reader of input `index` (`size` is the file size, if known).
    fn wrap(
        &mut self,
        index: u32,
        name: &str,
        size: Option<u64>,
        r: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send>;
}

/// No wrapping.
pub struct NoHook;

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

/// Read every input in order into `sink`.
pub fn run_inputs(
    specs: &[InputSpec],
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
    hook: &mut dyn ReaderHook,
) -> Vec<InputResult> {
    let mut results = Vec::with_capacity(specs.len());
    for (idx, spec) in specs.iter().enumerate() {
        if sink.stopped() {
            break;
        }
        let idx = idx as u32;
        let name = spec.display_name();
        let opened = match input::open(spec) {
            Ok(o) => o,
            Err(e) => {
                sink.end_input(idx);
                results.push(InputResult {
                    name,
                    compression: Compression::None,
                    summary: ReadSummary::default(),
                    error: Some(e),
                });
                continue;
            }
        };
        let size = match spec {
            InputSpec::Path(p) if opened.compression == Compression::None => {
                std::fs::metadata(p).ok().map(|m| m.len())
            }
            _ => None,
        };
        let compression = opened.compression;
        let reader = hook.wrap(idx, &name, size, opened.reader);
        let (summary, err) = read_input(idx, reader, opts, sink);
        sink.end_input(idx);
        let error = err.map(|e| input::source::read_error(&name, compression, summary.bytes, e));
        results.push(InputResult {
            name,
            compression,
            summary,
            error,
        });
    }
    results
}
