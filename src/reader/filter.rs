//! Reading only the lines a prefilter selects, as `timeline` does: `grep`
//! done before the pipeline, not after it.
//!
//! The input is read in blocks ([`crate::input::blocks`]) and searched with
//! one Aho-Corasick automaton. A line that matches goes through the usual
//! repair and record assembly ([`super::Assembler`]) with a few lines
//! around it, so that a mail-wrapped record still rejoins; a line matching
//! a *key* pattern also brings back earlier lines that carry one of the
//! lookback needles (the `called from` line before a release). The rest of
//! the capture is never split into records.

use std::io::{self, Read};

use aho_corasick::AhoCorasick;

use super::{Assembler, Feed, ReadOptions, ReadSummary};
use crate::input::blocks::BlockReader;
use crate::input::{clean, Pos};
use crate::repair::{PhysLine, Repairer};

/// Block size of the scan.
pub(crate) const BLOCK: usize = 4 << 20;

/// Which lines of an input are read as records.
#[derive(Debug, Clone)]
pub struct Prefilter {
    ac: Option<AhoCorasick>,
    /// Patterns below this index are keys (see [`Prefilter::new`]).
    keys: usize,
    lookback: Vec<Vec<u8>>,
    /// Lines before a key line searched for a lookback needle.
    lookback_lines: usize,
    /// Lines around a matching line also read (for paste repair).
    before: usize,
    after: usize,
    /// Bytes per scanned block.
    block: usize,
}

impl Prefilter {
    /// Lines that contain one of `keys` or one of `markers`; for a key
    /// line, also the lines up to `lookback_lines` before it that contain
    /// one of `lookback` needles. `before` and `after` lines around each
    /// selected line come along.
    pub(crate) fn new(
        keys: &[Vec<u8>],
        markers: &[&[u8]],
        lookback: &[&[u8]],
        lookback_lines: usize,
        (before, after): (usize, usize),
    ) -> Prefilter {
        let patterns = keys
            .iter()
            .map(|k| k.as_slice())
            .chain(markers.iter().copied());
        // Leftmost-first lets the automaton use its SIMD (Teddy) search;
        // any match in a line is enough to look at the line.
        let ac = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(patterns)
            .ok();
        Prefilter {
            ac,
            keys: keys.len(),
            lookback: lookback.iter().map(|n| n.to_vec()).collect(),
            lookback_lines,
            before,
            after,
            block: BLOCK,
        }
    }

    /// The same prefilter scanning blocks of `block` bytes (small blocks
    /// exercise the block-boundary code in tests and fuzzing).
    pub(crate) fn with_block(mut self, block: usize) -> Prefilter {
        self.block = block.max(1);
        self
    }
}

/// Read one input through `f`: the selected lines, with their windows,
/// become records; every line is counted.
pub(super) fn read_filtered<R: Read>(
    input: u32,
    rdr: R,
    f: &Prefilter,
    opts: &ReadOptions,
    feed: &mut Feed<'_>,
) -> (ReadSummary, Option<io::Error>) {
    let mut br = BlockReader::new(rdr, opts.line_cap, f.block);
    let mut lines = 0u64;
    let mut scratch = Vec::new();
    let caps = feed.caps();
    let mut asm = Assembler::new(&caps);
    // Last physical line number already fed to the pipeline.
    let mut done: u64 = 0;
    let err = loop {
        if feed.halted() {
            break None;
        }
        let block = match br.next_block() {
            Ok(Some(b)) => b,
            Ok(None) => break None,
            Err(e) => break Some(e),
        };
        lines += (block.len() - block.context_lines) as u64;
        let Some(ac) = &f.ac else { continue };
        let mut at = block.new_data_start();
        while let Some(m) = ac.find(&block.data[at..]) {
            let i = block.line_at(at + m.start());
            at = block
                .line_starts
                .get(i + 1)
                .map_or(block.data.len(), |&s| s as usize);
            let lo = i.saturating_sub(f.before);
            let hi = (i + f.after + 1).min(block.len());
            let mut window: Vec<usize> = Vec::new();
            if m.pattern().as_usize() < f.keys {
                for j in i.saturating_sub(f.lookback_lines)..lo {
                    let line = block.line(j);
                    if block.number(j) > done
                        && f.lookback
                            .iter()
                            .any(|n| memchr::memmem::find(line, n).is_some())
                    {
                        window.push(j);
                    }
                }
            }
            window.extend((lo..hi).filter(|&j| block.number(j) > done));
            if window.is_empty() {
                continue;
            }
            // Contiguous runs go through one repairer so wrapped records
            // rejoin; each window starts with no continuation context.
            let mut repairer = Repairer::with_limit(opts.repair, opts.line_cap);
            let mut prev: Option<usize> = None;
            asm.cont = Default::default();
            for &j in &window {
                if prev.is_some_and(|p| p + 1 != j) {
                    repairer.finish(&mut |lg| asm.emit(lg, feed));
                    repairer = Repairer::with_limit(opts.repair, opts.line_cap);
                }
                prev = Some(j);
                let (text, flags) = clean(block.line(j), &mut scratch);
                let phys = PhysLine {
                    pos: Pos {
                        input,
                        line: block.number(j),
                        offset: block.offset(j),
                    },
                    text,
                    clean: flags,
                    truncated: block.truncated_len(j).is_some(),
                };
                repairer.push(phys, &mut |lg| asm.emit(lg, feed));
            }
            repairer.finish(&mut |lg| asm.emit(lg, feed));
            done = window
                .iter()
                .map(|&j| block.number(j))
                .max()
                .unwrap_or(done)
                .max(done);
            at = at.max(
                block
                    .line_starts
                    .get(hi)
                    .map_or(block.data.len(), |&s| s as usize),
            );
        }
    };
    (
        ReadSummary {
            lines,
            bytes: br.bytes_read(),
        },
        err,
    )
}
