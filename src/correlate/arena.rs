//! Cheap storage for the lines a live lifetime may later cite.
//!
//! Every alloc and first read is a potential piece of evidence, but almost
//! none becomes one. Instead of an allocation per kept line, their text goes
//! into one growing buffer; a lifetime holds a [`Light`] with a [`TextId`].
//! When most of the buffer belongs to lifetimes that have ended, the live
//! texts are copied into a fresh buffer ([`TextArena::compact`]), so memory
//! stays proportional to the live ebs.

use crate::correlate::evidence::{Comm, Evidence};
use crate::event::Event;
use crate::grammar::TraceTs;
use crate::input::Pos;

/// A text stored in a [`TextArena`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextId {
    start: usize,
    len: u32,
}

/// One growing buffer of texts.
#[derive(Debug, Default)]
pub struct TextArena {
    buf: Vec<u8>,
    live: usize,
}

/// Below this size the arena is never compacted.
const MIN_COMPACT: usize = 8 << 20;

/// A line kept cheaply while its lifetime is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Light {
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
    /// The text, in the arena.
    pub text: TextId,
}

impl TextArena {
    /// Store a text.
    pub fn push(&mut self, t: &[u8]) -> TextId {
        let t = &t[..t.len().min(u32::MAX as usize)];
        let id = TextId {
            start: self.buf.len(),
            len: t.len() as u32,
        };
        self.buf.extend_from_slice(t);
        self.live += t.len();
        id
    }

    /// The text of `id`.
    pub fn get(&self, id: TextId) -> &[u8] {
        self.buf
            .get(id.start..id.start + id.len as usize)
            .unwrap_or(&[])
    }

    /// `id` is no longer referenced.
    pub fn release(&mut self, id: TextId) {
        self.live = self.live.saturating_sub(id.len as usize);
    }

    /// Whether most of the buffer is dead.
    pub fn needs_compaction(&self) -> bool {
        self.buf.len() > MIN_COMPACT && self.buf.len() > 2 * self.live
    }

    /// Copy the live texts (all `ids` still referenced) into a fresh buffer.
    pub fn compact<'a>(&mut self, ids: impl Iterator<Item = &'a mut TextId>) {
        let mut fresh = Vec::with_capacity(self.live + self.live / 2);
        for id in ids {
            let t = self
                .buf
                .get(id.start..id.start + id.len as usize)
                .unwrap_or(&[]);
            let start = fresh.len();
            fresh.extend_from_slice(t);
            *id = TextId { start, len: id.len };
        }
        self.live = fresh.len();
        self.buf = fresh;
    }

    /// Bytes held.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Keep an event's line.
    pub fn light(&mut self, e: &Event<'_>) -> Light {
        Light {
            pos: e.pos,
            lines: e.lines,
            cpu: e.cpu,
            pid: e.pid,
            comm: Comm::new(e.comm),
            trace_ts: e.trace_ts,
            console_ns: e.console_ns,
            text: self.push(e.text),
        }
    }

    /// Turn a kept line into owned evidence.
    pub fn evidence(&self, l: &Light, role: &'static str) -> Evidence {
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
}
