//! Splitting a byte stream into physical lines with one reusable buffer.
//!
//! [`LineReader`] keeps a single `Vec<u8>`, finds line ends with `memchr`, and
//! moves the partial last line to the front before the next read. No `String`
//! is ever built. A line longer than the line cap is cut to the cap for
//! parsing; the rest of it is read and thrown away, so memory stays bounded by
//! the cap plus one read block whatever the input holds (a 1 GiB line without
//! a newline costs `cap + read_size` bytes).
//!
//! [`clean`] then normalises what serial consoles and terminals add: trailing
//! `\r` (CRLF, or the `\r\r\n` of a typescript), ANSI escape sequences, NUL
//! bytes and lone carriage returns.

use std::io::{self, Read};

/// The default line cap: longer lines are truncated for parsing (1 MiB).
pub const DEFAULT_LINE_CAP: usize = 1 << 20;

/// The default read block size.
pub const DEFAULT_READ_SIZE: usize = 256 * 1024;

/// One physical line as read, before cleaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLine<'a> {
    /// The line's bytes without its `\n` (at most the line cap).
    pub bytes: &'a [u8],
    /// 1-based line number in its input.
    pub number: u64,
    /// Byte offset of the line's first byte in the (decompressed) input.
    pub offset: u64,
    /// The line's real length in the input, without the `\n`.
    pub full_len: u64,
    /// Whether the line was longer than the cap and `bytes` holds only its start.
    pub truncated: bool,
}

/// Where a block of whole lines starts ([`LineReader::next_block_into`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Number of the first line.
    pub first_number: u64,
    /// Byte offset of the first line.
    pub first_offset: u64,
    /// How many lines the block holds.
    pub lines: u64,
}

/// `\n` bytes in `b`. The fixed-size inner loop, with a byte-wide sum,
/// is one the compiler turns into vector compares.
fn count_newlines(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(64);
    let mut n = 0u64;
    for c in &mut chunks {
        let mut k = 0u8;
        for &x in c {
            k += u8::from(x == b'\n');
        }
        n += u64::from(k);
    }
    n + chunks.remainder().iter().filter(|&&x| x == b'\n').count() as u64
}

impl BlockInfo {
    /// The lines of `bytes`, the block this describes, as [`RawLine`]s: the
    /// same as [`LineReader::next_line`] gives for them.
    pub(crate) fn raw_lines<'a>(&self, bytes: &'a [u8]) -> impl Iterator<Item = RawLine<'a>> + 'a {
        let (mut number, mut offset, mut at) = (self.first_number, self.first_offset, 0usize);
        memchr::memchr_iter(b'\n', bytes).map(move |nl| {
            let line = RawLine {
                bytes: &bytes[at..nl],
                number,
                offset,
                full_len: (nl - at) as u64,
                truncated: false,
            };
            number += 1;
            offset += (nl - at + 1) as u64;
            at = nl + 1;
            line
        })
    }
}

/// Reads physical lines from any [`Read`] with one reusable buffer.
pub struct LineReader<R> {
    rdr: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    next_number: u64,
    next_offset: u64,
    cap: usize,
    read_size: usize,
    bytes_read: u64,
    /// A read error met while [`LineReader::next_block_into`] read ahead: given
    /// out after the lines read before it.
    deferred: Option<io::Error>,
    /// A live stream had nothing ready while [`LineReader::next_block_into`]
    /// read ([`super::readahead::Idle`]); taken by [`LineReader::take_idle`].
    idle: Option<super::readahead::Idle>,
}

impl<R: Read> LineReader<R> {
    /// A reader with an explicit line cap and read block size (both at least 1).
    pub fn with_limits(rdr: R, cap: usize, read_size: usize) -> LineReader<R> {
        let cap = cap.max(1);
        let read_size = read_size.max(1);
        LineReader {
            rdr,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            next_number: 1,
            next_offset: 0,
            cap,
            read_size,
            bytes_read: 0,
            deferred: None,
            idle: None,
        }
    }

    /// A reader that goes on from line `next_number` at byte `offset` of
    /// an input, `rdr` being the input's bytes from there on.
    pub(crate) fn resume(
        rdr: R,
        cap: usize,
        read_size: usize,
        next_number: u64,
        offset: u64,
    ) -> LineReader<R> {
        LineReader {
            next_number,
            next_offset: offset,
            bytes_read: offset,
            ..LineReader::with_limits(rdr, cap, read_size)
        }
    }

    /// The number and byte offset of the next line.
    pub(crate) fn position(&self) -> (u64, u64) {
        (self.next_number, self.next_offset)
    }

    /// The buffered bytes of the next line (and beyond), without reading:
    /// possibly none, possibly cut short.
    pub(crate) fn peek_bytes(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Bytes read from the underlying stream so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next physical line, or `None` at the end of the input.
    ///
    /// A final line without `\n` is returned like any other. An empty input
    /// has no lines; an input of just `\n` has one empty line.
    pub fn next_line(&mut self) -> io::Result<Option<RawLine<'_>>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let s = self.start;
                self.start = s + i + 1;
                return Ok(Some(self.emit(s, i, i as u64, 1)));
            }
            if self.eof {
                // As when `fill` fails here: an unterminated last line
                // before a read error is not a line.
                if let Some(e) = self.deferred.take() {
                    return Err(e);
                }
                if self.start < self.end {
                    let s = self.start;
                    let len = self.end - s;
                    self.start = self.end;
                    return Ok(Some(self.emit(s, len, len as u64, 0)));
                }
                return Ok(None);
            }
            if self.end - self.start > self.cap {
                return self.truncate_long_line().map(Some);
            }
            self.fill()?;
        }
    }

    /// Append a run of whole lines to `out`, for a caller that splits them
    /// itself (the parallel reader hands such blocks to its worker
    /// threads). The bytes are read straight into `out`: besides what was
    /// already buffered, nothing is copied twice.
    ///
    /// The block holds at most `max` bytes (and at most the line cap, so no
    /// line in it needs truncating) and each of its lines ends with `\n`.
    /// It ends, by preference, before a line whose first bytes `cut_before`
    /// accepts (where the caller may cut; it sees at most what was read),
    /// else after the
    /// last whole line that fits. Returns `None`, with `out` as it was, when
    /// no whole line fits (a line longer than `max`, or the end of the
    /// input): the caller then takes the next line with
    /// [`LineReader::next_line`], which handles every case. A read error
    /// here is deferred: `next_line` returns it after the lines read before
    /// it, as if it had met it itself.
    pub(crate) fn next_block_into(
        &mut self,
        out: &mut Vec<u8>,
        max: usize,
        cut_before: impl Fn(&[u8]) -> bool,
    ) -> Option<BlockInfo> {
        let max = max.min(self.cap);
        if max == 0 || self.eof {
            return None;
        }
        let base = out.len();
        out.extend_from_slice(&self.buf[self.start..self.end]);
        self.start = 0;
        self.end = 0;
        // `max` bytes and one more (the next line's first byte).
        let have = out.len() - base;
        if have <= max {
            let want = (max + 1 - have).max(self.read_size) as u64;
            // Exactly: a recycled batch buffer must not creep up by doubling.
            out.reserve_exact(want as usize);
            match (&mut self.rdr).take(want).read_to_end(out) {
                Ok(n) => {
                    self.bytes_read += n as u64;
                    if (n as u64) < want {
                        self.eof = true;
                    }
                }
                Err(e) => {
                    self.bytes_read += (out.len() - base - have) as u64;
                    // A live stream with nothing ready: the block ends at
                    // what came, and reading goes on later.
                    match super::readahead::Idle::of(&e) {
                        Some(idle) => self.idle = Some(idle),
                        None => {
                            self.deferred = Some(e);
                            self.eof = true;
                        }
                    }
                }
            }
        }
        let got = &out[base..];
        let window = &got[..got.len().min(max + 1)];
        // The last `\n` in the window followed by a byte we may cut before,
        // else the last one within `max` bytes.
        let cut = memchr::memrchr_iter(b'\n', window)
            .find(|&nl| cut_before(window.get(nl + 1..).unwrap_or_default()))
            .or_else(|| memchr::memrchr(b'\n', &window[..window.len().min(max)]))
            .map(|nl| nl + 1);
        let len = cut.unwrap_or(0);
        // What follows the block goes back into the buffer.
        let rest = got.len() - len;
        if self.buf.len() < rest + self.read_size {
            self.buf.resize(rest + self.read_size, 0);
        }
        self.buf[..rest].copy_from_slice(&got[len..]);
        self.end = rest;
        out.truncate(base + len);
        cut?;
        let lines = count_newlines(&out[base..]);
        let info = BlockInfo {
            first_number: self.next_number,
            first_offset: self.next_offset,
            lines,
        };
        self.next_number += lines;
        self.next_offset += len as u64;
        Some(info)
    }

    /// Whether a live stream had nothing ready during the last
    /// [`LineReader::next_block_into`] (then the caller may hand on what it
    /// holds); [`LineReader::next_line`] returns that as its error instead.
    pub(crate) fn take_idle(&mut self) -> Option<super::readahead::Idle> {
        self.idle.take()
    }

    /// Build a [`RawLine`] for `len` bytes at `s`; `nl` is 1 if a `\n` followed.
    fn emit(&mut self, s: usize, len: usize, full_len: u64, nl: u64) -> RawLine<'_> {
        let number = self.next_number;
        let offset = self.next_offset;
        self.next_number += 1;
        self.next_offset += full_len + nl;
        let kept = len.min(self.cap);
        RawLine {
            bytes: &self.buf[s..s + kept],
            number,
            offset,
            full_len,
            truncated: full_len > kept as u64,
        }
    }

    /// The buffered line is already longer than the cap and has no `\n` yet:
    /// keep its first `cap` bytes and discard the rest up to the next `\n`.
    fn truncate_long_line(&mut self) -> io::Result<RawLine<'_>> {
        let s = self.start;
        let keep_end = s + self.cap;
        let mut skipped = (self.end - keep_end) as u64;
        self.end = keep_end;
        loop {
            self.reserve_read();
            let n = self.read_some(keep_end)?;
            if n == 0 {
                self.eof = true;
                self.start = keep_end;
                let full = self.cap as u64 + skipped;
                return Ok(self.emit(s, self.cap, full, 0));
            }
            if let Some(j) = memchr::memchr(b'\n', &self.buf[keep_end..keep_end + n]) {
                skipped += j as u64;
                // Keep what follows the newline, right after the kept prefix.
                self.buf
                    .copy_within(keep_end + j + 1..keep_end + n, keep_end);
                self.end = keep_end + (n - j - 1);
                self.start = keep_end;
                let full = self.cap as u64 + skipped;
                return Ok(self.emit(s, self.cap, full, 1));
            }
            skipped += n as u64;
        }
    }

    fn reserve_read(&mut self) {
        let need = self.end + self.read_size;
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
    }

    /// Read once into `buf[at..at + read_size]`, retrying on `Interrupted`.
    fn read_some(&mut self, at: usize) -> io::Result<usize> {
        loop {
            match self.rdr.read(&mut self.buf[at..at + self.read_size]) {
                Ok(n) => {
                    self.bytes_read += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Move the partial line to the front and read one more block.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        self.reserve_read();
        let n = self.read_some(self.end)?;
        if n == 0 {
            self.eof = true;
        } else {
            self.end += n;
        }
        Ok(())
    }
}

/// What [`clean`] changed on a line (bit set).
pub mod clean_flags {
    /// Trailing carriage return(s) removed (CRLF line ending).
    pub(crate) const CRLF: u8 = 1;
    /// ANSI escape sequences removed.
    pub(crate) const ANSI: u8 = 2;
    /// NUL bytes removed.
    pub(crate) const NUL: u8 = 4;
    /// A carriage return inside the line: only the text after the last one kept.
    pub(crate) const LONE_CR: u8 = 8;
}

/// Normalise one physical line: strip trailing `\r`s, ANSI escapes, NULs, and
/// resolve lone carriage returns the way a terminal shows them.
///
/// A lone `\r` inside a line moves a terminal's cursor back to column 0, so
/// what a reader of the console saw is the text after the last `\r`; that is
/// what is kept (when it is empty, the text before it is kept instead). The
/// common case (no `\x1b`, NUL or inner `\r`) returns a sub-slice of `raw`
/// without copying.
pub fn clean<'a>(raw: &'a [u8], scratch: &'a mut Vec<u8>) -> (&'a [u8], u8) {
    let mut flags = 0u8;
    let mut line = raw;
    while let [rest @ .., b'\r'] = line {
        line = rest;
        flags |= clean_flags::CRLF;
    }
    if memchr::memchr3(0x1b, 0, b'\r', line).is_none() {
        return (line, flags);
    }
    scratch.clear();
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        match b {
            0x1b => {
                flags |= clean_flags::ANSI;
                i = skip_escape(line, i);
            }
            0 => {
                flags |= clean_flags::NUL;
                i += 1;
            }
            _ => {
                scratch.push(b);
                i += 1;
            }
        }
    }
    if let Some(cr) = memchr::memrchr(b'\r', scratch) {
        flags |= clean_flags::LONE_CR;
        let after = &scratch[cr + 1..];
        if after.iter().any(|c| !c.is_ascii_whitespace()) {
            scratch.drain(..=cr);
        } else {
            // Nothing visible after the last CR: keep the last non-empty segment before it.
            let before = &scratch[..cr];
            let seg_start = before
                .split(|&c| c == b'\r')
                .rev()
                .find(|s| s.iter().any(|c| !c.is_ascii_whitespace()))
                .map(|s| s.as_ptr() as usize - before.as_ptr() as usize);
            match seg_start {
                Some(st) => {
                    let seg_end =
                        memchr::memchr(b'\r', &scratch[st..]).map_or(scratch.len(), |e| st + e);
                    scratch.truncate(seg_end);
                    scratch.drain(..st);
                }
                None => scratch.clear(),
            }
        }
    }
    (scratch.as_slice(), flags)
}

/// Skip one escape sequence starting at `line[i] == ESC`; returns the index after it.
fn skip_escape(line: &[u8], i: usize) -> usize {
    let n = line.len();
    let Some(&kind) = line.get(i + 1) else {
        return n;
    };
    match kind {
        b'[' => {
            // CSI: parameters 0x30-0x3f, intermediates 0x20-0x2f, final 0x40-0x7e.
            let mut j = i + 2;
            while j < n && (0x20..=0x3f).contains(&line[j]) {
                j += 1;
            }
            if j < n && (0x40..=0x7e).contains(&line[j]) {
                j + 1
            } else {
                j
            }
        }
        b']' | b'P' | b'X' | b'^' | b'_' => {
            // OSC / DCS / SOS / PM / APC: until BEL or ST (ESC \).
            let mut j = i + 2;
            while j < n {
                if line[j] == 0x07 {
                    return j + 1;
                }
                if line[j] == 0x1b && line.get(j + 1) == Some(&b'\\') {
                    return j + 2;
                }
                j += 1;
            }
            n
        }
        b'(' | b')' | b'*' | b'+' | b'-' | b'.' | b'/' | b'#' | b'%' => (i + 3).min(n),
        _ => i + 2,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A reader that returns at most `n` bytes per call, to exercise buffer edges.
    pub(crate) struct Dribble<'a> {
        pub(crate) data: &'a [u8],
        pub(crate) n: usize,
    }

    type Row = (Vec<u8>, u64, u64, u64, bool);

    fn row(l: &RawLine<'_>) -> Row {
        (
            l.bytes.to_vec(),
            l.number,
            l.offset,
            l.full_len,
            l.truncated,
        )
    }
    impl Read for Dribble<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let k = self.n.min(out.len()).min(self.data.len());
            out[..k].copy_from_slice(&self.data[..k]);
            self.data = &self.data[k..];
            Ok(k)
        }
    }

    fn collect(data: &[u8], cap: usize, read_size: usize, dribble: usize) -> Vec<Row> {
        let mut r = LineReader::with_limits(Dribble { data, n: dribble }, cap, read_size);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(row(&l));
        }
        out
    }

    #[test]
    fn splits_lines_with_numbers_and_offsets() {
        let v = collect(b"ab\n\ncde\nf", 100, 4, 3);
        assert_eq!(
            v,
            vec![
                (b"ab".to_vec(), 1, 0, 2, false),
                (b"".to_vec(), 2, 3, 0, false),
                (b"cde".to_vec(), 3, 4, 3, false),
                (b"f".to_vec(), 4, 8, 1, false),
            ]
        );
        assert!(collect(b"", 10, 10, 10).is_empty());
        assert_eq!(collect(b"\n", 10, 10, 10).len(), 1);
    }

    #[test]
    fn truncates_long_lines_and_keeps_offsets() {
        let mut data = vec![b'x'; 50];
        data.extend_from_slice(b"\nok\n");
        data.extend(vec![b'y'; 30]);
        for (rs, dr) in [(1, 1), (3, 2), (7, 7), (64, 64), (1000, 5)] {
            let v = collect(&data, 8, rs, dr);
            assert_eq!(v.len(), 3, "rs={rs} dr={dr}");
            assert_eq!(v[0], (vec![b'x'; 8], 1, 0, 50, true));
            assert_eq!(v[1], (b"ok".to_vec(), 2, 51, 2, false));
            assert_eq!(v[2], (vec![b'y'; 8], 3, 54, 30, true));
        }
    }

    #[test]
    fn cap_exactly_fits() {
        let v = collect(b"12345678\n123456789\n", 8, 4, 4);
        assert_eq!(v[0], (b"12345678".to_vec(), 1, 0, 8, false));
        assert_eq!(v[1], (b"12345678".to_vec(), 2, 9, 9, true));
    }

    #[test]
    fn same_lines_whatever_the_read_size() {
        let data = b"[ 1.000000] a\r\n[ 2.000000] bb\n\nno newline at end";
        let want = collect(data, 1 << 20, 1 << 20, 1 << 20);
        for rs in [1, 2, 3, 5, 16, 4096] {
            for dr in [1, 2, 7, 100] {
                assert_eq!(collect(data, 1 << 20, rs, dr), want);
            }
        }
    }

    /// Lines taken through `next_block_into` where it gives a block, and
    /// `next_line` otherwise.
    fn collect_blocks(data: &[u8], cap: usize, read_size: usize, max: usize) -> Vec<Row> {
        let mut r = LineReader::with_limits(Dribble { data, n: 5 }, cap, read_size);
        let mut out = Vec::new();
        let mut blocks = 0;
        let mut buf = b"kept".to_vec();
        loop {
            if let Some(b) = r.next_block_into(&mut buf, max, |s: &[u8]| s.first() == Some(&b'[')) {
                let bytes = &buf[4..];
                assert!(bytes.len() <= max && bytes.ends_with(b"\n"));
                assert_eq!(b.lines as usize, b.raw_lines(bytes).count());
                blocks += 1;
                for l in b.raw_lines(bytes) {
                    out.push(row(&l));
                }
                buf.truncate(4);
                continue;
            }
            assert_eq!(buf, b"kept");
            match r.next_line().unwrap() {
                Some(l) => out.push(row(&l)),
                None => break,
            }
        }
        assert!(max == 0 || blocks > 0, "no block taken");
        out
    }

    #[test]
    fn blocks_give_the_same_lines() {
        let mut data = Vec::new();
        for i in 0..200 {
            match i % 7 {
                0 => data.extend_from_slice(b"  indented continuation\n"),
                1 => data.extend_from_slice(b"\n"),
                3 => data.extend_from_slice(&[b'x'; 90]),
                _ => data.extend_from_slice(format!("[ {i}.000000] line {i}\n").as_bytes()),
            }
        }
        data.extend_from_slice(b"[ 9.000000] no newline at end");
        let want = collect(&data, 1 << 20, 4096, 4096);
        for (cap, rs, max) in [
            (1 << 20, 64, 100),
            (1 << 20, 7, 33),
            (50, 16, 50),
            (1 << 20, 4096, 1 << 20),
            (40, 16, 80),
        ] {
            assert_eq!(
                collect_blocks(&data, cap, rs, max),
                collect(&data, cap, rs, 3),
                "cap {cap} rs {rs} max {max}"
            );
        }
        assert_eq!(collect_blocks(&data, 1 << 20, 64, 100), want);
    }

    #[test]
    fn blocks_are_taken_where_no_line_allows_a_cut() {
        // Lines that all start with a space: the blocks end after the last
        // whole line that fits, never one line at a time.
        let data = b" indented line\n".repeat(1000);
        let mut r = LineReader::with_limits(&data[..], 1 << 20, 4096);
        let mut buf = Vec::new();
        let (mut blocks, mut lines) = (0, 0);
        while let Some(b) = r.next_block_into(&mut buf, 1500, |s: &[u8]| s.first() == Some(&b'[')) {
            assert!(buf.len() <= 1500 && buf.len() > 1400, "{}", buf.len());
            blocks += 1;
            lines += b.lines;
            buf.clear();
        }
        while r.next_line().unwrap().is_some() {
            lines += 1;
        }
        assert_eq!(lines, 1000);
        assert!(blocks >= 9, "{blocks}");
    }

    /// Gives its bytes, then fails.
    struct Failing<'a>(&'a [u8]);
    impl Read for Failing<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt"));
            }
            let k = out.len().min(self.0.len()).min(7);
            out[..k].copy_from_slice(&self.0[..k]);
            self.0 = &self.0[k..];
            Ok(k)
        }
    }

    #[test]
    fn a_read_error_while_taking_blocks_comes_after_the_lines_before_it() {
        let data = b"[ 1.0] a\n[ 2.0] b\n[ 3.0] c\npartial";
        let mut r = LineReader::with_limits(Failing(data), 1 << 20, 16);
        let mut got = Vec::new();
        let mut buf = Vec::new();
        let err = loop {
            if let Some(b) =
                r.next_block_into(&mut buf, 1 << 20, |s: &[u8]| s.first() == Some(&b'['))
            {
                got.extend(b.raw_lines(&buf).map(|l| l.bytes.to_vec()));
                buf.clear();
                continue;
            }
            match r.next_line() {
                Ok(Some(l)) => got.push(l.bytes.to_vec()),
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        // The same as `next_line` alone gives: whole lines, then the error.
        assert_eq!(got, [&b"[ 1.0] a"[..], b"[ 2.0] b", b"[ 3.0] c"]);
        assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::InvalidData));
    }

    #[test]
    fn cleans_crlf_ansi_nul_and_lone_cr() {
        let mut s = Vec::new();
        assert_eq!(clean(b"abc\r\r", &mut s), (&b"abc"[..], clean_flags::CRLF));
        let (t, f) = clean(
            b"[\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mX\x1b[0m.\r\r",
            &mut s,
        );
        assert_eq!(t, b"[  OK  ] Started X.");
        assert_eq!(f, clean_flags::CRLF | clean_flags::ANSI);
        let (t, f) = clean(b"a\0b\0", &mut s);
        assert_eq!((t, f), (&b"ab"[..], clean_flags::NUL));
        let (t, f) = clean(
            b"Starting foo...\r[   10.839907] systemd-journald[996]: flush",
            &mut s,
        );
        assert_eq!(t, b"[   10.839907] systemd-journald[996]: flush");
        assert_eq!(f, clean_flags::LONE_CR);
        let (t, _) = clean(b"\x1bM\r\x1b[K[  OK  ] done\r\r", &mut s);
        assert_eq!(t, b"[  OK  ] done");
        let (t, _) = clean(b"\x1b]0;title\x07text", &mut s);
        assert_eq!(t, b"text");
        let (t, _) = clean(b"keep this\r   ", &mut s);
        assert_eq!(t, b"keep this");
        let (t, _) = clean(b"\x1b", &mut s);
        assert_eq!(t, b"");
    }
}
