//! Logical batches: repaired records' texts in one buffer, with where each
//! record's text and original are (in the batch's own bytes, or in the raw
//! batch they were repaired from), and the runs of plain lines left to the
//! parse.

use std::ops::Range;

use crate::grammar::Body;
use crate::input::Pos;
use crate::prefix;
use crate::record::Record;
use crate::repair::Logical;

/// A batch is sent once it holds this many bytes, or its record limit
/// ([`crate::reader::ReadOptions::batch_records`]). 256 KiB (was 512):
/// what a batch in flight costs, its parsed records included, is about
/// 8 times its bytes (#19: peak RSS on 1 GiB from a pipe).
pub(super) const BATCH_BYTES: usize = 256 * 1024;

/// Bytes `a..b` of a batch's own bytes, or of the raw batch it came from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub(super) a: u32,
    pub(super) b: u32,
    pub(super) raw: bool,
}

/// Where `t` lies in `hay`, if it is a slice of it (address arithmetic only).
pub(super) fn within(hay: &[u8], t: &[u8]) -> Option<(u32, u32)> {
    let base = hay.as_ptr() as usize;
    let p = t.as_ptr() as usize;
    (p >= base && p + t.len() <= base + hay.len() && !hay.is_empty())
        .then(|| ((p - base) as u32, (p - base + t.len()) as u32))
}

/// What a record carries besides its texts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Meta {
    pub(super) pos: Pos,
    pub(super) lines: u32,
    pub(super) clean: u8,
    pub(super) truncated: bool,
    pub(super) repairs: u16,
}

impl Meta {
    /// The record with these texts, classed by its body alone (the caller
    /// applies the continuation rule later, in order).
    pub(super) fn record<'a>(
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
    pub(super) fn plain(pos: Pos) -> Meta {
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
pub(super) struct Slot {
    pub(super) meta: Meta,
    pub(super) text: Span,
    pub(super) original: Span,
}

/// The owned side of a batch: the records' bytes and where each one is,
/// and the plain lines of the raw batch it was repaired from.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(super) bytes: Vec<u8>,
    pub(super) slots: Vec<Slot>,
    /// Runs of plain lines (indices into the raw batch's lines), each with
    /// the slot it comes before: lines the repairer passes on as they are,
    /// each its own record, left to the parse (see [`super::raw::PhysBatch::repair`]).
    pub(super) plain: Vec<(usize, Range<u32>)>,
}

impl Batch {
    pub(super) fn push(&mut self, l: &Logical<'_>) {
        self.push_from(l, &[]);
    }

    /// Add a record whose texts may be slices of `raw` (the raw batch the
    /// worker repairs): those are not copied.
    pub(super) fn push_from(&mut self, l: &Logical<'_>, raw: &[u8]) {
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
    pub(super) fn push_plain(&mut self, i: u32) {
        let at = self.slots.len();
        match self.plain.last_mut() {
            Some((j, r)) if *j == at && r.end == i => r.end = i + 1,
            _ => self.plain.push((at, i..i + 1)),
        }
    }

    pub(super) fn full(&self, records: usize) -> bool {
        self.bytes.len() >= BATCH_BYTES || self.slots.len() >= records
    }

    pub(super) fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.plain.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.slots.clear();
        self.plain.clear();
    }
}
