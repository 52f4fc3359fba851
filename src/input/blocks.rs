//! Reading a stream as blocks of whole lines, for buffer-level prefilters:
//! `timeline` searches a whole block for an address before it looks at any
//! line, so a capture is read at close to `wc -l` speed.
//!
//! [`BlockReader::next_block`] returns a borrowed [`BlockView`] of the
//! reader's own buffer (no copy): the last [`CONTEXT_LINES`] lines of the
//! previous block (so a consumer can look back across the boundary, e.g. to
//! rejoin a mail-wrapped record), then the new lines, with the start offset
//! of every line. Lines longer than the line cap are cut to the cap in place,
//! exactly as [`crate::input::LineReader`] cuts them, so memory stays
//! bounded by the block size plus the cap.

use std::io::{self, Read};

/// Lines of the previous block kept in front of the next one.
pub(crate) const CONTEXT_LINES: usize = 4;

/// A block of whole lines, borrowed from the reader.
#[derive(Debug)]
pub(crate) struct BlockView<'a> {
    /// Context lines, then new lines; the last line may lack its `\n` at end of input.
    pub data: &'a [u8],
    /// Start of every line in `data` (context lines included), ascending.
    pub line_starts: &'a [u32],
    /// How many of the lines are context (already delivered in the previous block).
    pub context_lines: usize,
    /// Number of the first line in `data`.
    pub first_line: u64,
    /// Byte offset in the input of every line start: `first_offset + start + skipped`,
    /// where `skipped` counts bytes dropped from over-long lines before it.
    first_offset: u64,
    /// (line index, bytes dropped) for lines cut at the cap.
    truncated: &'a [(usize, u64)],
}

impl<'a> BlockView<'a> {
    /// Number of lines in the view (context included).
    pub(crate) fn len(&self) -> usize {
        self.line_starts.len()
    }

    /// Bytes of line `i`, without its `\n`.
    pub(crate) fn line(&self, i: usize) -> &'a [u8] {
        let s = self.line_starts[i] as usize;
        let e = self
            .line_starts
            .get(i + 1)
            .map_or(self.data.len(), |&n| n as usize);
        let l = &self.data[s..e];
        l.strip_suffix(b"\n").unwrap_or(l)
    }

    /// The index of the line holding byte `pos` of `data`.
    pub(crate) fn line_at(&self, pos: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s as usize <= pos)
            .saturating_sub(1)
    }

    /// The 1-based line number of line `i`.
    pub(crate) fn number(&self, i: usize) -> u64 {
        self.first_line + i as u64
    }

    /// The byte offset in the input of line `i`.
    pub(crate) fn offset(&self, i: usize) -> u64 {
        let dropped: u64 = self
            .truncated
            .iter()
            .take_while(|t| t.0 < i)
            .map(|t| t.1)
            .sum();
        self.first_offset + self.line_starts[i] as u64 + dropped
    }

    /// The real length of line `i` if it was cut at the cap.
    pub(crate) fn truncated_len(&self, i: usize) -> Option<u64> {
        self.truncated
            .iter()
            .find(|t| t.0 == i)
            .map(|t| self.line(i).len() as u64 + t.1)
    }

    /// Byte position in `data` where the new (non-context) lines start.
    pub(crate) fn new_data_start(&self) -> usize {
        self.line_starts
            .get(self.context_lines)
            .map_or(self.data.len(), |&s| s as usize)
    }
}

/// Reads blocks of whole lines from any [`Read`].
pub(crate) struct BlockReader<R> {
    rdr: R,
    buf: Vec<u8>,
    /// Start of the context lines in `buf`.
    ctx_start: usize,
    /// Start of the data not yet delivered.
    pending: usize,
    /// End of valid data in `buf`.
    end: usize,
    eof: bool,
    cap: usize,
    block_size: usize,
    line_starts: Vec<u32>,
    truncated: Vec<(usize, u64)>,
    ctx_first_line: u64,
    ctx_first_offset: u64,
    ctx_lines: usize,
    /// Cut lines among the context lines (index within the context, bytes dropped).
    ctx_truncated: Vec<(usize, u64)>,
    next_line: u64,
    next_offset: u64,
    bytes_read: u64,
}

impl<R: Read> BlockReader<R> {
    /// A reader producing blocks of about `block_size` bytes with lines cut at `cap`.
    pub(crate) fn new(rdr: R, cap: usize, block_size: usize) -> BlockReader<R> {
        BlockReader {
            rdr,
            buf: Vec::new(),
            ctx_start: 0,
            pending: 0,
            end: 0,
            eof: false,
            cap: cap.max(1),
            block_size: block_size.max(1),
            line_starts: Vec::new(),
            truncated: Vec::new(),
            ctx_first_line: 1,
            ctx_first_offset: 0,
            ctx_lines: 0,
            ctx_truncated: Vec::new(),
            next_line: 1,
            next_offset: 0,
            bytes_read: 0,
        }
    }

    /// Bytes read from the underlying stream so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Read once into the free space after `end` (at least `want` bytes of room).
    fn read_more(&mut self, want: usize) -> io::Result<usize> {
        if self.buf.len() < self.end + want {
            self.buf.resize(self.end + want, 0);
        }
        loop {
            match self.rdr.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    self.bytes_read += n as u64;
                    if n == 0 {
                        self.eof = true;
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Move context and pending bytes to the front of the buffer.
    fn compact(&mut self) {
        if self.ctx_start > 0 {
            self.buf.copy_within(self.ctx_start..self.end, 0);
            self.pending -= self.ctx_start;
            self.end -= self.ctx_start;
            self.ctx_start = 0;
        }
    }

    /// The pending line has no newline within the cap: keep `cap` bytes, drop
    /// the rest up to its newline (reading as needed), put a `\n` after it.
    /// Returns the bytes dropped.
    fn cut_long_line(&mut self, line_start: usize) -> io::Result<u64> {
        let keep_end = line_start + self.cap;
        let mut dropped = (self.end - keep_end) as u64;
        self.end = keep_end;
        loop {
            let n = self.read_more(64 * 1024)?;
            if n == 0 {
                return Ok(dropped);
            }
            if let Some(nl) = memchr::memchr(b'\n', &self.buf[keep_end..self.end]) {
                dropped += nl as u64;
                self.buf.copy_within(keep_end + nl..self.end, keep_end);
                self.end -= nl;
                return Ok(dropped);
            }
            dropped += n as u64;
            self.end = keep_end;
        }
    }

    /// The next block, or `None` at the end of the input.
    pub(crate) fn next_block(&mut self) -> io::Result<Option<BlockView<'_>>> {
        self.compact();
        self.truncated.clear();
        // Fill until a block's worth of new data, or the end.
        loop {
            // A pending line with no newline, longer than the cap, is cut now.
            let last_nl =
                memchr::memrchr(b'\n', &self.buf[self.pending..self.end]).map(|p| self.pending + p);
            if self.eof || (last_nl.is_some() && self.end - self.pending >= self.block_size) {
                break;
            }
            let line_start = last_nl.map_or(self.pending, |p| p + 1);
            if self.end - line_start > self.cap {
                let dropped = self.cut_long_line(line_start)?;
                self.truncated.push((usize::MAX, dropped)); // index fixed below
                                                            // Mark where it is: record its start so the index can be found.
                if let Some(t) = self.truncated.last_mut() {
                    t.0 = usize::MAX - line_start; // encoded position
                }
                continue;
            }
            let room = self.block_size.max(64 * 1024);
            self.read_more(room)?;
        }
        // The new region ends after the last newline (or at the end of input).
        let region_end = if self.eof {
            self.end
        } else {
            match memchr::memrchr(b'\n', &self.buf[self.pending..self.end]) {
                Some(p) => self.pending + p + 1,
                None => self.pending,
            }
        };
        if region_end == self.pending {
            return Ok(None);
        }
        // Line starts of the context, then of the new region; cut over-long lines in place.
        self.line_starts.clear();
        let mut s = self.ctx_start;
        for _ in 0..self.ctx_lines {
            self.line_starts.push((s - self.ctx_start) as u32);
            s = memchr::memchr(b'\n', &self.buf[s..self.pending])
                .map_or(self.pending, |p| s + p + 1);
        }
        // Decode the positions of lines cut while filling; context cuts come first.
        let mut cut_positions: Vec<(usize, u64)> = self
            .truncated
            .drain(..)
            .map(|(enc, dropped)| (usize::MAX - enc, dropped))
            .collect();
        self.truncated.extend_from_slice(&self.ctx_truncated);
        let mut region_end = region_end;
        let mut pos = self.pending;
        if cut_positions.is_empty() {
            // One pass over the newlines finds every start; if a line turns
            // out longer than the cap, the careful loop below redoes it.
            let base = self.ctx_start;
            let first = self.line_starts.len();
            self.line_starts.push((pos - base) as u32);
            let mut last = pos;
            let mut long = false;
            for nl in memchr::memchr_iter(b'\n', &self.buf[pos..region_end]) {
                let next = pos + nl + 1;
                long |= next - 1 - last > self.cap;
                last = next;
                if next < region_end {
                    self.line_starts.push((next - base) as u32);
                }
            }
            long |= region_end - last > self.cap;
            if long {
                self.line_starts.truncate(first);
            } else {
                pos = region_end;
            }
        }
        while pos < region_end {
            let idx = self.line_starts.len();
            self.line_starts.push((pos - self.ctx_start) as u32);
            let nl = memchr::memchr(b'\n', &self.buf[pos..region_end]).map(|p| pos + p);
            let line_end = nl.unwrap_or(region_end);
            if let Some(i) = cut_positions.iter().position(|c| c.0 == pos) {
                self.truncated.push((idx, cut_positions.swap_remove(i).1));
            } else if line_end - pos > self.cap {
                // A long line that arrived whole: cut it in place.
                let drop = line_end - (pos + self.cap);
                self.buf.copy_within(line_end..self.end, pos + self.cap);
                self.end -= drop;
                region_end -= drop;
                self.truncated.push((idx, drop as u64));
                pos = nl.map_or(region_end, |_| pos + self.cap + 1);
                continue;
            }
            pos = nl.map_or(region_end, |p| p + 1);
        }
        let new_lines = self.line_starts.len() - self.ctx_lines;
        let first_line = if self.ctx_lines > 0 {
            self.ctx_first_line
        } else {
            self.next_line
        };
        let first_offset = if self.ctx_lines > 0 {
            self.ctx_first_offset
        } else {
            self.next_offset
        };
        // Context for the next block: the last CONTEXT_LINES lines of this one.
        let keep = new_lines.min(CONTEXT_LINES);
        let total = self.line_starts.len();
        let next_ctx_idx = total - keep;
        let view_ctx_start = self.ctx_start;
        let view_ctx_lines = self.ctx_lines;
        let next_ctx_start = view_ctx_start + self.line_starts[next_ctx_idx] as usize;
        let dropped_before_next_ctx: u64 = self
            .truncated
            .iter()
            .filter(|t| t.0 < next_ctx_idx)
            .map(|t| t.1)
            .sum();
        let new_ctx_first_line = first_line + next_ctx_idx as u64;
        let new_ctx_first_offset =
            first_offset + self.line_starts[next_ctx_idx] as u64 + dropped_before_next_ctx;
        let block_region_bytes = (region_end - self.pending) as u64;
        let dropped_new: u64 = self
            .truncated
            .iter()
            .filter(|t| t.0 >= view_ctx_lines)
            .map(|t| t.1)
            .sum();
        self.next_line += new_lines as u64;
        self.next_offset += block_region_bytes + dropped_new;
        self.pending = region_end;
        // Keep context only if it is small (it never exceeds a few capped lines).
        self.ctx_truncated.clear();
        if keep > 0
            && region_end - next_ctx_start <= CONTEXT_LINES * self.cap.min(1 << 16) + CONTEXT_LINES
        {
            self.ctx_start = next_ctx_start;
            self.ctx_lines = keep;
            self.ctx_first_line = new_ctx_first_line;
            self.ctx_first_offset = new_ctx_first_offset;
            let trunc = self
                .truncated
                .iter()
                .filter(|t| t.0 >= next_ctx_idx)
                .map(|t| (t.0 - next_ctx_idx, t.1));
            self.ctx_truncated.extend(trunc);
        } else {
            self.ctx_start = region_end;
            self.ctx_lines = 0;
        }
        Ok(Some(BlockView {
            data: &self.buf[view_ctx_start..region_end],
            line_starts: &self.line_starts,
            context_lines: view_ctx_lines,
            first_line,
            first_offset,
            truncated: &self.truncated,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::lines::tests::Dribble;

    type Line = (u64, u64, Vec<u8>, Option<u64>);

    fn lines(data: &[u8], cap: usize, bs: usize, dribble: usize) -> Vec<Line> {
        let mut r = BlockReader::new(Dribble { data, n: dribble }, cap, bs);
        let mut out = Vec::new();
        while let Some(b) = r.next_block().unwrap() {
            for i in b.context_lines..b.len() {
                out.push((
                    b.number(i),
                    b.offset(i),
                    b.line(i).to_vec(),
                    b.truncated_len(i),
                ));
            }
            // Context lines repeat the previous block's last lines exactly.
            for i in 0..b.context_lines {
                let n = b.number(i);
                let prev = out
                    .iter()
                    .find(|l| l.0 == n)
                    .expect("context line was delivered");
                assert_eq!(prev.2, b.line(i));
            }
        }
        out
    }

    fn reference(data: &[u8], cap: usize) -> Vec<Line> {
        let mut r = crate::input::LineReader::with_limits(data, cap, 4096);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((
                l.number,
                l.offset,
                l.bytes.to_vec(),
                l.truncated.then_some(l.full_len),
            ));
        }
        out
    }

    #[test]
    fn same_lines_as_the_line_reader() {
        let mut data = Vec::new();
        for i in 0..200 {
            data.extend_from_slice(format!("line {i} {}\n", "x".repeat(i % 37)).as_bytes());
            if i % 50 == 7 {
                data.extend(vec![b'L'; 300]);
                data.push(b'\n');
            }
        }
        data.extend_from_slice(b"last without newline");
        for cap in [64, 1000] {
            let want = reference(&data, cap);
            for bs in [1, 7, 100, 4096, 1 << 20] {
                for dr in [1, 13, 1 << 16] {
                    let got = lines(&data, cap, bs, dr);
                    for (g, w) in got.iter().zip(want.iter()) {
                        assert_eq!(g, w, "cap={cap} bs={bs} dr={dr}");
                    }
                    assert_eq!(got.len(), want.len(), "cap={cap} bs={bs} dr={dr}");
                }
            }
        }
    }

    #[test]
    fn long_line_at_the_end_and_empty_lines() {
        for data in [&b"\n\n\n"[..], b"abc", b"", &[b'z'; 500][..], b"a\n\nb\n"] {
            for bs in [1, 3, 1000] {
                assert_eq!(
                    lines(data, 10, bs, 7),
                    reference(data, 10),
                    "{data:?} bs={bs}"
                );
            }
        }
    }
}
