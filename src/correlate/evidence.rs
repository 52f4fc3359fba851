//! Owned copies of the lines a finding cites.

use crate::event::Event;
use crate::grammar::TraceTs;
use crate::input::Pos;

/// A task name kept inline (comms are at most 15 bytes; dumps cut them to 8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Comm {
    len: u8,
    bytes: [u8; 16],
}

impl Comm {
    /// Copy up to 16 bytes of a comm.
    pub(crate) fn new(b: &[u8]) -> Comm {
        let n = b.len().min(16);
        let mut bytes = [0u8; 16];
        bytes[..n].copy_from_slice(&b[..n]);
        Comm {
            len: n as u8,
            bytes,
        }
    }

    /// The bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Whether empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for Comm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// One cited line (or repaired record), owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Where it is.
    pub pos: Pos,
    /// Physical lines it covers.
    pub lines: u32,
    /// Its role in the finding (`alloc`, `read-done`, `tree-check`, ...).
    pub role: &'static str,
    /// The original text.
    pub text: Box<[u8]>,
    /// CPU, for trace lines.
    pub cpu: Option<u32>,
    /// Task pid, for trace lines.
    pub pid: Option<u32>,
    /// Task name, for trace lines.
    pub comm: Comm,
    /// Trace timestamp.
    pub trace_ts: Option<TraceTs>,
    /// Console (printk) time in ns.
    pub console_ns: Option<u64>,
    /// The boot it was printed in.
    pub boot: u32,
}

impl Evidence {
    /// Copy what a finding needs out of a borrowed event.
    pub(crate) fn from_event(e: &Event<'_>, role: &'static str) -> Evidence {
        Evidence {
            pos: e.pos,
            lines: e.lines,
            role,
            text: e.text.into(),
            cpu: e.cpu,
            pid: e.pid,
            comm: Comm::new(e.comm),
            trace_ts: e.trace_ts,
            console_ns: e.console_ns,
            boot: e.boot,
        }
    }

    /// Evidence for a record of `boot` that is not an event (framing, headers).
    pub(crate) fn from_record(
        r: &crate::record::Record<'_>,
        boot: u32,
        role: &'static str,
    ) -> Evidence {
        Evidence {
            pos: r.pos,
            lines: r.lines,
            role,
            text: r.original.into(),
            cpu: None,
            pid: None,
            comm: Comm::default(),
            trace_ts: None,
            console_ns: r.prefixes.printk_ns,
            boot,
        }
    }
}
