//! Cheap storage for the lines a live lifetime may later cite.
//!
//! Every alloc and first read is a potential piece of evidence, but almost
//! none becomes one. Instead of an allocation per kept line, their text goes
//! into one growing buffer; a lifetime holds a [`Light`] with a [`TextId`].
//! When a third of the buffer belongs to lifetimes that have ended, the live
//! texts are moved to its front ([`TextArena::compact`]), so memory stays
//! proportional to the live ebs.

use crate::correlate::evidence::{Comm, Evidence};
use crate::event::Event;
use crate::grammar::TraceTs;
use crate::input::Pos;

/// A text stored in a [`TextArena`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TextId {
    start: usize,
    len: u32,
}

/// One growing buffer of texts.
#[derive(Debug, Default)]
pub(crate) struct TextArena {
    buf: Vec<u8>,
    live: usize,
}

/// Below this size the arena is never compacted.
const MIN_COMPACT: usize = 4 << 20;

/// A line kept cheaply while its lifetime is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Light {
    /// Where it is.
    pub pos: Pos,
    /// Physical lines it covers.
    pub lines: u32,
    /// CPU.
    pub cpu: Option<u32>,
    /// Task pid.
    pub pid: Option<u32>,
    /// Task name.
    pub comm: Comm,
    /// Trace timestamp.
    pub trace_ts: Option<TraceTs>,
    /// Console time.
    pub console_ns: Option<u64>,
    /// Boot.
    pub boot: u32,
    /// The text, in the arena.
    pub text: TextId,
}

impl TextArena {
    /// Store a text.
    pub(crate) fn push(&mut self, t: &[u8]) -> TextId {
        let t = &t[..t.len().min(u32::MAX as usize)];
        let id = TextId {
            start: self.buf.len(),
            len: t.len() as u32,
        };
        // Grow by a quarter, not by doubling: the buffer is most of the
        // memory a large capture costs, and a doubled one is half empty.
        if self.buf.capacity() - self.buf.len() < t.len() {
            let more = (self.buf.capacity() / 4).max(t.len()).max(64 * 1024);
            self.buf.reserve_exact(more);
        }
        self.buf.extend_from_slice(t);
        self.live += t.len();
        id
    }

    /// The text of `id`.
    pub(crate) fn get(&self, id: TextId) -> &[u8] {
        self.buf
            .get(id.start..id.start + id.len as usize)
            .unwrap_or(&[])
    }

    /// `id` is no longer referenced.
    pub(crate) fn release(&mut self, id: TextId) {
        self.live = self.live.saturating_sub(id.len as usize);
    }

    /// Whether a third of the buffer is dead (compacting then costs the
    /// live bytes once per half of them pushed: linear overall).
    pub(crate) fn needs_compaction(&self) -> bool {
        self.buf.len() > MIN_COMPACT && self.buf.len() > self.live + self.live / 2
    }

    /// Move the live texts (all `ids` still referenced) to the front of the
    /// buffer, in place, and drop the rest.
    ///
    /// In place, not into a fresh buffer: a fresh one of tens of MiB was
    /// allocated, faulted in page by page and freed at every compaction.
    /// Texts move down in the order they are stored, so each copy only
    /// overwrites bytes already moved or dead; ids that share bytes (a
    /// copied [`Light`]) keep sharing them.
    pub(crate) fn compact<'a>(&mut self, ids: impl Iterator<Item = &'a mut TextId>) {
        let mut ids: Vec<&mut TextId> = ids.collect();
        ids.sort_unstable_by_key(|id| id.start);
        let end = |id: &TextId| id.start + id.len as usize;
        let mut w = 0;
        // The run of old bytes being moved, and where it now starts.
        let (mut seg_a, mut seg_b, mut seg_new) = (0, 0, 0);
        for id in ids {
            let (a, b) = (id.start.min(self.buf.len()), end(id).min(self.buf.len()));
            if a < seg_b {
                // Overlaps the run being moved: extend it if need be.
                if b > seg_b {
                    let to = seg_new + (seg_b - seg_a);
                    self.buf.copy_within(seg_b..b, to);
                    w = to + (b - seg_b);
                    seg_b = b;
                }
            } else {
                self.buf.copy_within(a..b, w);
                (seg_a, seg_b, seg_new) = (a, b, w);
                w += b - a;
            }
            id.start = seg_new + (a - seg_a);
        }
        self.buf.truncate(w);
        self.live = w;
    }

    /// Bytes held.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Keep an event's line.
    pub(crate) fn light(&mut self, e: &Event<'_>) -> Light {
        Light {
            pos: e.pos,
            lines: e.lines,
            cpu: e.cpu,
            pid: e.pid,
            comm: Comm::new(e.comm),
            trace_ts: e.trace_ts,
            console_ns: e.console_ns,
            boot: e.boot,
            text: self.push(e.text),
        }
    }

    /// Keep a line again from its owned evidence.
    pub(crate) fn light_of(&mut self, ev: &Evidence) -> Light {
        Light {
            pos: ev.pos,
            lines: ev.lines,
            cpu: ev.cpu,
            pid: ev.pid,
            comm: ev.comm,
            trace_ts: ev.trace_ts,
            console_ns: ev.console_ns,
            boot: ev.boot,
            text: self.push(&ev.text),
        }
    }

    /// Turn a kept line into owned evidence.
    pub(crate) fn evidence(&self, l: &Light, role: &'static str) -> Evidence {
        Evidence {
            pos: l.pos,
            lines: l.lines,
            role,
            text: self.get(l.text).into(),
            cpu: l.cpu,
            pid: l.pid,
            comm: l.comm,
            trace_ts: l.trace_ts,
            console_ns: l.console_ns,
            boot: l.boot,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_compact() {
        let mut a = TextArena::default();
        let x = a.push(b"hello");
        let mut y = a.push(b"world");
        assert_eq!(a.get(x), b"hello");
        a.release(x);
        a.compact(std::iter::once(&mut y));
        assert_eq!(a.get(y), b"world");
        assert!(a.capacity() >= 5);
    }

    #[test]
    fn compaction_keeps_every_live_text_and_shared_ids() {
        let mut a = TextArena::default();
        let texts: Vec<Vec<u8>> = (0..200u32)
            .map(|i| format!("line {i} {}", "x".repeat(i as usize % 17)).into_bytes())
            .collect();
        let ids: Vec<TextId> = texts.iter().map(|t| a.push(t)).collect();
        // Keep every third, each twice (a copied Light), in reverse order,
        // plus a sub-range and an empty text.
        let mut kept: Vec<(TextId, Vec<u8>)> = Vec::new();
        for i in (0..200).step_by(3).rev() {
            kept.push((ids[i], texts[i].clone()));
            kept.push((ids[i], texts[i].clone()));
        }
        let inner = TextId {
            start: ids[9].start + 2,
            len: 3,
        };
        kept.push((inner, texts[9][2..5].to_vec()));
        kept.push((TextId { start: 0, len: 0 }, Vec::new()));
        let before = a.buf.len();
        a.compact(kept.iter_mut().map(|(id, _)| id));
        for (id, want) in &kept {
            assert_eq!(a.get(*id), &want[..]);
        }
        let unique: usize = (0..200).step_by(3).map(|i| texts[i].len()).sum();
        assert_eq!(a.buf.len(), unique);
        assert!(a.buf.len() < before);
        // Texts stored after a compaction do not overwrite the kept ones.
        let z = a.push(b"after");
        assert_eq!(a.get(z), b"after");
        for (id, want) in &kept {
            assert_eq!(a.get(*id), &want[..]);
        }
    }
}
