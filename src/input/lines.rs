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
}

impl<R: Read> LineReader<R> {
    /// A reader with the default line cap and read size.
    pub fn new(rdr: R) -> LineReader<R> {
        LineReader::with_limits(rdr, DEFAULT_LINE_CAP, DEFAULT_READ_SIZE)
    }

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
        }
    }

    /// Bytes read from the underlying stream so far.
    pub fn bytes_read(&self) -> u64 {
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
    pub const CRLF: u8 = 1;
    /// ANSI escape sequences removed.
    pub const ANSI: u8 = 2;
    /// NUL bytes removed.
    pub const NUL: u8 = 4;
    /// A carriage return inside the line: only the text after the last one kept.
    pub const LONE_CR: u8 = 8;
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
mod tests {
    use super::*;

    /// A reader that returns at most `n` bytes per call, to exercise buffer edges.
    struct Dribble<'a> {
        data: &'a [u8],
        n: usize,
    }
    impl Read for Dribble<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let k = self.n.min(out.len()).min(self.data.len());
            out[..k].copy_from_slice(&self.data[..k]);
            self.data = &self.data[k..];
            Ok(k)
        }
    }

    fn collect(
        data: &[u8],
        cap: usize,
        read_size: usize,
        dribble: usize,
    ) -> Vec<(Vec<u8>, u64, u64, u64, bool)> {
        let mut r = LineReader::with_limits(Dribble { data, n: dribble }, cap, read_size);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((
                l.bytes.to_vec(),
                l.number,
                l.offset,
                l.full_len,
                l.truncated,
            ));
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
