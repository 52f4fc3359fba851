//! The wrap width of an input, learnt while reading it.
//!
//! A mail client breaks a line at the last space before its limit W, so the
//! lines it broke are at most W long and cluster just below W, and the first
//! word of each continuation would not have fitted on the broken line. Two
//! sources of evidence are combined:
//!
//! * the histogram of physical line lengths: W is where the lengths pile up
//!   and stop (the smallest `L` maximising `n[L-7..=L] - 2 * n[L+1..=L+7]`);
//! * lines that were certainly broken, because the record they start is cut
//!   for its grammar: W is at least their length and less than their length
//!   plus one plus the continuation's first word.
//!
//! An input with lines longer than a wrap could leave (a space before column
//! 80 on a line longer than 84) was not wrapped: two such lines, and more
//! than one in twenty, turn joining off. So does the absence of any certain
//! break: short console lines with other output between them look wrapped.

/// Lengths above this are not tracked in the histogram.
const MAX_TRACKED: usize = 127;
/// Smallest and largest wrap width considered.
const MIN_W: usize = 56;
const MAX_W: usize = 84;
/// Window below / above a candidate width.
const WIN: usize = 7;
/// Below this many breakable lines the width is the longest line so far, and
/// at least [`THIN_FLOOR`] unless a certain break proved less.
const THIN: u32 = 16;
const THIN_FLOOR: usize = 66;
/// After this many lines an input that does not look wrapped is taken as not
/// wrapped for good, and lines are no longer counted.
const SETTLE_LINES: u32 = 4096;

/// Wrap-width evidence for one input.
#[derive(Debug, Clone)]
pub(crate) struct Width {
    hist: [u32; MAX_TRACKED + 1],
    nonblank: u32,
    /// Lines with a blank after their indentation (counted in `hist`).
    words: u32,
    /// The longest of those, up to `MAX_W`.
    max_seen: usize,
    overlong: u32,
    /// Longest line known to have been broken (0: none yet).
    lo: usize,
    /// Smallest `len + 1 + first word` over broken lines (`usize::MAX`: none yet).
    hi: usize,
    cached: Option<usize>,
    dirty: bool,
    /// Not wrapped, for good (see [`SETTLE_LINES`]).
    settled: bool,
}

impl Default for Width {
    fn default() -> Self {
        Width {
            hist: [0; MAX_TRACKED + 1],
            nonblank: 0,
            words: 0,
            max_seen: 0,
            overlong: 0,
            lo: 0,
            hi: usize::MAX,
            cached: None,
            dirty: true,
            settled: false,
        }
    }
}

/// Display width of a line: bytes, minus UTF-8 continuation bytes, for the
/// short lines a mail client wraps (a longer line counts its bytes).
pub(crate) fn display_len(t: &[u8]) -> usize {
    if t.len() > MAX_TRACKED || t.is_ascii() {
        return t.len();
    }
    t.len() - t.iter().filter(|&&c| c & 0xC0 == 0x80).count()
}

impl Width {
    /// Count a non-blank physical line of display length `len`.
    pub(crate) fn observe(&mut self, len: usize, text: &[u8]) {
        if self.settled {
            return;
        }
        self.nonblank = self.nonblank.saturating_add(1);
        // A line with no blank after its indentation had nowhere to be
        // broken: it says nothing about the width.
        if len <= MAX_TRACKED && has_inner_blank(text) {
            self.hist[len] = self.hist[len].saturating_add(1);
            self.words = self.words.saturating_add(1);
            if len <= MAX_W && len > self.max_seen {
                self.max_seen = len;
            }
        }
        if len > MAX_W && breakable(text) {
            self.overlong = self.overlong.saturating_add(1);
        }
        // Early on every line moves the estimate; later, refresh now and then.
        if self.words < 256 || self.nonblank % 64 == 0 {
            self.dirty = true;
        }
        // A long input that is plainly not wrapped stays so: stop counting.
        if self.nonblank >= SETTLE_LINES && !self.wrapped() {
            self.settled = true;
        }
    }

    /// Whether the input was found not wrapped for good.
    pub(crate) fn settled(&self) -> bool {
        self.settled
    }

    /// Whether the input so far looks hard-wrapped.
    pub(crate) fn wrapped(&self) -> bool {
        self.overlong < 2 || u64::from(self.overlong) * 20 <= u64::from(self.nonblank)
    }

    /// A line of length `len` was certainly broken before a continuation whose
    /// first word (with its leading blanks) is `first` long.
    pub(crate) fn broken(&mut self, len: usize, first: usize) {
        if len > MAX_W + 1 {
            return; // a long unbreakable word, not evidence of the width
        }
        if len > self.lo {
            self.lo = len;
            self.dirty = true;
        }
        let h = len + 1 + first;
        if h < self.hi {
            self.hi = h;
            self.dirty = true;
        }
    }

    /// The estimated wrap width, `None` unless the input looks wrapped and
    /// has shown at least one certain break: without that, a console log of
    /// short lines with some other output between them would look wrapped.
    pub(crate) fn width(&mut self) -> Option<usize> {
        if self.lo == 0 {
            return None;
        }
        self.estimated()
    }

    /// The estimate, without asking for a certain break.
    fn estimated(&mut self) -> Option<usize> {
        if !self.wrapped() {
            return None;
        }
        if self.dirty {
            self.cached = self.estimate();
            self.dirty = false;
        }
        self.cached
    }

    fn estimate(&self) -> Option<usize> {
        if self.words < THIN {
            // Too few lines for a histogram: the longest line so far.
            let w = self.max_seen.max(self.lo).max(THIN_FLOOR);
            return Some(self.clamp(w));
        }
        let sum =
            |a: usize, b: usize| -> i64 { self.hist[a..=b].iter().map(|&n| i64::from(n)).sum() };
        let mut best: Option<(i64, usize)> = None;
        for l in MIN_W..=MAX_W {
            let score = sum(l - WIN, l) - 2 * sum(l + 1, l + WIN);
            if score > 0 && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, l));
            }
        }
        let w = match best {
            Some((_, l)) => l,
            None if self.lo > 0 => self.lo,
            None => return None,
        };
        Some(self.clamp(w))
    }

    /// Keep a width within what certain breaks proved.
    fn clamp(&self, mut w: usize) -> usize {
        if self.hi != usize::MAX && w >= self.hi {
            w = self.hi - 1;
        }
        w.max(self.lo)
    }
}

/// A blank after the indentation: somewhere a client could break the line.
fn has_inner_blank(t: &[u8]) -> bool {
    let start = t
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(t.len());
    memchr::memchr2(b' ', b'\t', &t[start..]).is_some()
}

/// Whether a mail client could have broken the line before column 80: a
/// space after the leading blanks, at or before column 80.
fn breakable(t: &[u8]) -> bool {
    let start = t
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(t.len());
    let end = t.len().min(80);
    start < end && memchr::memchr(b' ', &t[start..end]).is_some()
}

/// Length of the first word of a continuation line, with its leading blanks.
pub(crate) fn first_word(t: &[u8]) -> usize {
    let start = t
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(t.len());
    let end = t[start..]
        .iter()
        .position(|&c| c == b' ' || c == b'\t')
        .map_or(t.len(), |e| start + e);
    display_len(&t[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(lens: &[usize]) -> Width {
        let mut w = Width::default();
        for &l in lens {
            let mut t = vec![b'x'; l];
            t[l / 2] = b' ';
            w.observe(l, &t);
        }
        w
    }

    #[test]
    fn width_is_where_lengths_pile_up_and_stop() {
        // The owner-mismatch splat mail: broken lines up to 70, a few unbroken
        // 80-column register lines.
        let mut lens = vec![];
        for l in 57..=70 {
            lens.extend(std::iter::repeat_n(l, 4));
        }
        lens.extend(std::iter::repeat_n(80, 11));
        lens.extend([20, 30, 40, 12]);
        let mut w = feed(&lens);
        assert_eq!(w.estimated(), Some(70));
        // A mail wrapped at 73.
        let mut w = feed(&[60, 63, 63, 66, 68, 70, 71, 71, 72, 73, 73, 40]);
        assert_eq!(w.estimated(), Some(73));
        // One line is enough to start with, but a short first line does not
        // make a narrow width.
        let mut w = feed(&[70]);
        assert_eq!(w.estimated(), Some(70));
        let mut w = feed(&[60]);
        assert_eq!(w.estimated(), Some(66));
    }

    #[test]
    fn certain_breaks_bound_the_estimate() {
        let mut w = feed(&[80, 80, 80, 80, 66, 67]);
        assert_eq!(w.estimated(), Some(80));
        // No certain break yet: no width for joining.
        assert_eq!(w.width(), None);
        w.broken(67, 6);
        assert_eq!(w.estimated(), Some(73));
        w.broken(72, 30);
        assert_eq!(w.estimated(), Some(73));
        assert_eq!(w.width(), Some(73));
    }

    #[test]
    fn long_breakable_lines_mean_not_wrapped() {
        let mut w = Width::default();
        let long = b"[    0.000000] Command line: rd.luks.name=3b1e29c1-0053-4e5b root=/dev/mapper/slash1 rw quiet";
        w.observe(long.len(), long);
        assert!(w.wrapped(), "one long line proves nothing");
        w.observe(long.len(), long);
        assert!(!w.wrapped());
        assert_eq!(w.estimated(), None);
        let mut t = [b'x'; 60];
        t[30] = b' ';
        for _ in 0..40 {
            w.observe(60, &t);
        }
        assert!(w.wrapped());
        // One long word is not a wrap failure.
        let mut w = Width::default();
        let word = [b'x'; 100];
        w.observe(100, &word);
        assert!(w.wrapped());
    }

    #[test]
    fn first_words() {
        assert_eq!(first_word(b"block=1 owner"), 7);
        assert_eq!(first_word(b"  OE      6.14"), 4);
        assert_eq!(first_word(b"x"), 1);
        assert_eq!(first_word(b""), 0);
    }
}
