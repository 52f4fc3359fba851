//! Stage 1 of the pipeline: bytes in.
//!
//! [`source`] opens files and standard input and undoes gzip, zstd and xz by
//! magic bytes; [`lines`] splits the stream into physical lines with one
//! reusable buffer and normalises serial-console artefacts. Every line carries
//! its 1-based number and byte offset; the input index is added by the caller.
//! [`walk`] turns directories into inputs (for `report --each`).

pub mod at;
pub mod blocks;
pub mod lines;
pub mod readahead;
pub mod source;
pub mod walk;

pub use at::{FileAt, Positional};
pub use lines::{
    clean, clean_flags, BlockInfo, LineReader, RawLine, DEFAULT_LINE_CAP, DEFAULT_READ_SIZE,
};
pub(crate) use source::{open_with, Compression, InputError, InputSpec, Opened};

/// Where a line (or the first physical line of a repaired record) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Index of the input in the run (0-based, in command-line order).
    pub input: u32,
    /// 1-based physical line number.
    pub line: u64,
    /// Byte offset of the line's first byte in the decompressed input.
    pub offset: u64,
}
