//! The record: one logical line of a capture and what the grammars found in
//! it. The reader makes records; the event stage and every sink read them.
//!
//! A record borrows the reader's buffers: it lives only as long as the call
//! that hands it over. Whatever outlives it is copied out (the correlator's
//! evidence).

use crate::grammar::{Body, LineClass};
use crate::input::Pos;
use crate::prefix::Prefixes;

/// One logical record: usually one physical line, several after repair.
///
/// For the physical line
/// `[ 2740.301767] kworker/-322      15..... 2649295735us : end_bbio_meta_read: read done, eb=15302115328 ...`
/// `prefixes` holds the printk time, `msg` starts at `kworker/-322`, and
/// `body` is the trace line the grammar read.
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
