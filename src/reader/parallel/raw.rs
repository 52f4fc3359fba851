//! Raw batches: physical lines as read (or a block of a file for the
//! worker to read at its position), which the worker splits, cleans and
//! repairs line by line into a logical batch.

use super::batch::{Batch, BATCH_BYTES};
use crate::input::{clean, BlockInfo, Pos, Positional, RawLine};
use crate::repair::{PhysLine, Repairer};

/// One line of a raw batch.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawEntry {
    pub(super) number: u64,
    pub(super) offset: u64,
    /// Its bytes are `bytes[a..b]` of the batch.
    pub(super) a: u32,
    pub(super) b: u32,
    pub(super) truncated: bool,
    /// A `[` or a non-breaking-space byte follows its first byte: the
    /// repairer may have to split it there.
    pub(super) special: bool,
}

/// Whether a `[` or a non-breaking-space byte follows the first byte.
pub(super) fn special(line: &[u8]) -> bool {
    line.get(1..)
        .is_some_and(|r| memchr::memchr2(b'[', 0xA0, r).is_some())
}

/// A batch of raw physical lines, with the per-line repairer that takes them.
#[derive(Debug)]
pub(super) struct PhysBatch {
    pub(super) input: u32,
    pub(super) bytes: Vec<u8>,
    pub(super) lines: Vec<RawEntry>,
    /// Whole `\n`-ended lines from `bytes[tail.0..]` on, not yet split (the
    /// worker splits them): where they start, and the number and offset of
    /// the first.
    pub(super) tail: Option<(usize, u64, u64)>,
    pub(super) repairer: Repairer,
    /// A block for the worker to read first (positional reading).
    pub(super) read: Option<ReadBlock>,
    /// Line numbers count from 0 at the first line: the caller adds the
    /// real number of the first line when it takes the batch back.
    pub(super) relative: bool,
    /// The block could not be read (the error, and the block's offset).
    pub(super) error: Option<(std::io::Error, u64)>,
}

/// A block of whole lines of a file, for a worker to read.
#[derive(Debug)]
pub(super) struct ReadBlock {
    pub(super) file: Positional,
    pub(super) offset: u64,
    pub(super) len: usize,
}

impl PhysBatch {
    pub(super) fn new(input: u32) -> Box<PhysBatch> {
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
    pub(super) fn fill(&mut self) {
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
    pub(super) fn split_tail(&mut self) {
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

    pub(super) fn push(&mut self, raw: &RawLine<'_>) {
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

    pub(super) fn full(&self, records: usize) -> bool {
        self.bytes.len() >= BATCH_BYTES || self.lines.len() >= records
    }

    /// Far past full: time to cut even where a line may continue.
    pub(super) fn overfull(&self, records: usize) -> bool {
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
    pub(super) fn repair(&mut self, out: &mut Batch) {
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
            if dirty >= b && !line.truncated {
                let plain = if raw.first() == Some(&b'[') {
                    // A `[` that starts no console record (`[btrfs]`, `[0]`)
                    // is no reason to split the line.
                    !line.special
                        || (memchr::memchr(0xA0, raw).is_none()
                            && crate::repair::next_record_start(raw, 1).is_none())
                } else {
                    // A tracefs line (`   kworker/u97:3-1019    [004] ...`):
                    // no dmesg continuation (fewer than 8 blanks), nothing
                    // to split (it does not start with `[`), no
                    // non-breaking space to normalise.
                    Repairer::starts_fresh(raw)
                        && raw.iter().find(|&&c| c != b' ') != Some(&b'[')
                        && memchr::memchr(0xA0, raw).is_none()
                };
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
