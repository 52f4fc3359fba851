//! Positional reading: where the next block of whole lines of a file may
//! end, so that a worker can read it itself.

use crate::input::Positional;
use crate::repair::Repairer;

/// Positional reading: the file, and the offset of the next block.
pub(super) struct ReadingAt {
    pub(super) file: Positional,
    pub(super) offset: u64,
    /// A block was sent: the stream reader was left behind.
    pub(super) sent: bool,
}

/// Where a block of whole lines read at positions from `offset` should
/// end: after the first `\n`, from `block` bytes on, that a line which
/// cannot continue the one before it follows (where a batch may start,
/// [`Repairer::line_may_continue`]), with the block no longer than `cap`
/// bytes (so no line in it needs truncating). `None` when there is no such
/// place before the end of the file, or it cannot be read: the stream
/// reader takes over there.
pub(super) fn block_end(
    file: &Positional,
    offset: u64,
    block: usize,
    cap: usize,
    window: &mut Vec<u8>,
) -> Option<u64> {
    let size = file.size();
    let limit = offset.saturating_add(cap as u64).min(size);
    // The byte after a `\n` at `limit - 1` decides it too.
    let stop = limit.saturating_add(1).min(size);
    let mut from = offset + block.min(cap).max(1) as u64 - 1;
    let mut want = 512u64;
    while from < stop {
        let len = want.min(stop - from) as usize;
        window.resize(len, 0);
        let n = file.read_at(window, from).ok()?;
        let w = window.get(..n)?;
        for i in memchr::memchr_iter(b'\n', w) {
            let end = from + i as u64 + 1;
            if end > limit {
                return None;
            }
            if Repairer::starts_fresh(w.get(i + 1..).unwrap_or_default()) {
                return Some(end);
            }
        }
        if n < 2 {
            return None;
        }
        // The last byte again, with the byte after it.
        from += n as u64 - 1;
        want = want.saturating_mul(8);
    }
    None
}
