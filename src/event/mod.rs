//! Stage 4: events. [`Recognizer::recognize`] turns one [`Record`] into at most one
//! [`Event`] the correlator and the reporters care about.
//!
//! Recognised:
//!
//! * the debug patch's `trace_printk` lines (kernel-formats.md E.1): alloc
//!   (via `alloc_extent_buffer`, `btrfs_clone_extent_buffer`,
//!   `__alloc_dummy_extent_buffer`), `read done`, `before release`,
//!   `called from ...` and `!!! Validation failed, eb=... !!!`;
//! * btrfs tracepoints that name a tree block (D.2);
//! * tree-checker and read/write validation messages, transaction aborts
//!   ([`crate::grammar::btrfs`]);
//! * oops / WARNING / BUG / panic lines (grouped into splats by the correlator);
//! * lost-events markers and dump framing;
//! * the events a rules file declares ([`declared`], [`EventKind::Declared`]);
//! * any other trace event, as [`EventKind::Trace`] (for `events`).
//!
//! Events borrow the record; the correlator copies what it keeps.
//!
//! Recognition is a value, a [`Recognizer`], that a sink hands to the
//! reader in its capabilities; the reader runs it on its worker threads.

pub mod declared;
pub mod fields;
pub mod tracepoint;

use std::sync::Arc;

use crate::fields::{dec_i64, dec_u64, find_u64_after, uuid};
use crate::grammar::btrfs;
use crate::grammar::kernel::{self, OopsLine};
use crate::grammar::{Body, Framing, TraceLine, TraceTs};
use crate::input::Pos;
use crate::prefix::Caller;
use crate::record::Record;

pub use crate::grammar::btrfs::{Abort, Expect, TreeCheck, Validation, ValidationKind};

/// Which function printed an `alloc eb=` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AllocVia {
    /// `alloc_extent_buffer()`: a cache miss; a new buffer that may become the cached eb.
    AllocExtentBuffer,
    /// `btrfs_clone_extent_buffer()`: a private copy nested in the cached eb's lifetime.
    Clone,
    /// `__alloc_dummy_extent_buffer()`: a test/dummy buffer, never cached.
    Dummy,
}

impl AllocVia {
    /// Name used in JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AllocVia::AllocExtentBuffer => "alloc_extent_buffer",
            AllocVia::Clone => "btrfs_clone_extent_buffer",
            AllocVia::Dummy => "__alloc_dummy_extent_buffer",
        }
    }
}

/// The `eb=... page_refs=... eb level=... fsid=...` dump of the debug patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EbDump {
    /// `eb->start`.
    pub eb: u64,
    /// `page_refs=` (the eb refcount).
    pub page_refs: Option<i64>,
    /// `eb level=` (header level, may be garbage).
    pub level: Option<i64>,
    /// `fsid=` (header fsid, may be garbage or all zero).
    pub fsid: Option<[u8; 16]>,
}

impl EbDump {
    /// A never-read private copy: `page_refs=0` and an all-zero fsid.
    pub(crate) fn looks_discarded(&self) -> bool {
        self.page_refs == Some(0) && self.fsid == Some([0; 16])
    }
}

/// What an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind<'a> {
    /// `alloc eb=X len=N`.
    Alloc {
        /// `eb->start`.
        eb: u64,
        /// `len=`.
        len: Option<u64>,
        /// Which allocator printed it.
        via: AllocVia,
    },
    /// `read done, eb=...` from `end_bbio_meta_read()`.
    ReadDone(EbDump),
    /// `before release, eb=...` from `btrfs_release_extent_buffer_pages()`.
    BeforeRelease(EbDump),
    /// `called from FUNC`: `release_extent_buffer` (final release) or
    /// `btrfs_release_extent_buffer` (private copy freed).
    CalledFrom {
        /// The function named.
        func: &'a [u8],
    },
    /// `!!! Validation failed, eb=X !!!`.
    ValidationFailed {
        /// `eb->start`.
        eb: u64,
    },
    /// A btrfs tracepoint naming one or two tree blocks.
    Tracepoint {
        /// The tracepoint name.
        name: &'a [u8],
        /// The block starts it names.
        blocks: [Option<u64>; 2],
    },
    /// A tree-checker report.
    TreeCheck(TreeCheck<'a>),
    /// A read- or write-side validation message.
    Validation(Validation),
    /// A transaction abort or filesystem error.
    Abort(Abort<'a>),
    /// A line of an oops / WARNING / BUG / panic block.
    Oops(OopsLine<'a>),
    /// `CPU:N [LOST M EVENTS]` (or trace-cmd `EVENTS DROPPED`).
    Lost {
        /// The CPU.
        cpu: u32,
        /// The count, when printed.
        count: Option<u64>,
    },
    /// An event a rules file declares: which one, and the field values its
    /// lifecycles read.
    Declared(declared::Hit),
    /// Any other trace event.
    Trace,
}

impl EventKind<'_> {
    /// The `kind` string of the NDJSON stream.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Alloc { .. } => "alloc",
            EventKind::ReadDone(_) => "read-done",
            EventKind::BeforeRelease(_) => "before-release",
            EventKind::CalledFrom { .. } => "called-from",
            EventKind::ValidationFailed { .. } => "validation-failed",
            EventKind::Tracepoint { .. } => "tracepoint",
            EventKind::TreeCheck(_) => "tree-check",
            EventKind::Validation(_) => "validation",
            EventKind::Abort(_) => "transaction-abort",
            EventKind::Oops(_) => "oops",
            EventKind::Lost { .. } => "lost-events",
            EventKind::Declared(_) => "declared",
            EventKind::Trace => "trace",
        }
    }

    /// A plain trace event or a tracepoint: an event that counts, and no more.
    pub(crate) fn is_plain_trace(&self) -> bool {
        matches!(self, EventKind::Trace | EventKind::Tracepoint { .. })
    }

    /// The eb start the event is about, when it is known and trusted.
    pub fn eb(&self) -> Option<u64> {
        match self {
            EventKind::Alloc { eb, .. } | EventKind::ValidationFailed { eb } => Some(*eb),
            EventKind::ReadDone(d) | EventKind::BeforeRelease(d) => Some(d.eb),
            EventKind::Validation(v) => Some(v.eb),
            EventKind::TreeCheck(t) => t.eb.or(if t.block_trusted { t.block } else { None }),
            EventKind::Tracepoint { blocks, .. } => blocks[0],
            _ => None,
        }
    }
}

/// One recognised event, borrowing its record.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// Where it is (first physical line).
    pub pos: Pos,
    /// Physical lines it covers.
    pub lines: u32,
    /// What it is.
    pub kind: EventKind<'a>,
    /// CPU of the trace line.
    pub cpu: Option<u32>,
    /// Task pid of the trace line.
    pub pid: Option<u32>,
    /// Task name as printed (8 characters in dumps).
    pub comm: &'a [u8],
    /// Trace timestamp.
    pub trace_ts: Option<TraceTs>,
    /// printk (console) time in ns.
    pub console_ns: Option<u64>,
    /// Wall-clock seconds from a syslog / dmesg -T prefix.
    pub wall_s: Option<u64>,
    /// printk caller id.
    pub caller: Option<Caller>,
    /// The record had a kernel console/log prefix.
    pub prefixed: bool,
    /// The trace event's name (or `trace_printk` caller), for `events`.
    pub name: Option<&'a [u8]>,
    /// The trace event's payload (after `name: `), for the generic fields of `events`.
    pub payload: Option<&'a [u8]>,
    /// The message text after prefixes.
    pub msg: &'a [u8],
    /// The original physical text, for evidence.
    pub text: &'a [u8],
    /// The boot it happened in: 0 as recognised; the correlator, which
    /// finds the boots, sets it.
    pub boot: u32,
}

/// What finds events in records: passed to the reader as a value (in a
/// sink's capabilities) and run where records are parsed, on the worker
/// threads when the reader runs in parallel.
///
/// The built-in recogniser knows the debug patch of the March 2024 thread,
/// the btrfs tracepoints that name tree blocks, btrfs corruption reports
/// and aborts, oops lines and lost-event markers; with rules
/// ([`Recognizer::with_rules`]) it also finds the events they declare.
#[derive(Debug, Clone, Default)]
pub struct Recognizer {
    rules: Option<Arc<crate::spec::Rules>>,
}

impl Recognizer {
    /// The built-in recogniser.
    pub fn builtin() -> Recognizer {
        Recognizer::default()
    }

    /// The built-in recogniser and the events `rules` declare.
    pub(crate) fn with_rules(rules: Arc<crate::spec::Rules>) -> Recognizer {
        Recognizer {
            rules: rules.has_events().then_some(rules),
        }
    }

    /// The rules whose events it finds, if any.
    pub(crate) fn rules(&self) -> Option<&Arc<crate::spec::Rules>> {
        self.rules.as_ref()
    }

    /// The declared event a line the built-in recogniser already read is
    /// too (a rules file may describe the debug patch's lines): run where
    /// the event is consumed, for the events [`Recognizer::kind`] gave a
    /// built-in kind.
    pub(crate) fn declared_of(&self, e: &Event<'_>) -> Option<declared::Hit> {
        let rules = self.rules.as_deref()?;
        match (e.name, e.payload) {
            (Some(n), Some(p)) if n != b"console" => declared::trace_hit(rules, n, p),
            (Some(_), Some(p)) => {
                let p = crate::fields::trim_start(p);
                let msg = crate::prefix::printk_msg(p).map_or(p, |(_, m)| m);
                declared::message_hit(rules, msg)
            }
            _ => declared::message_hit(rules, e.msg),
        }
    }

    /// Recognise the event in a record, if any.
    pub fn recognize<'a>(&self, r: &Record<'a>) -> Option<Event<'a>> {
        self.kind(r).map(|k| assemble(r, k))
    }

    /// What event a record holds, if any (the expensive half of
    /// [`Recognizer::recognize`]).
    pub(crate) fn kind<'a>(&self, r: &Record<'a>) -> Option<EventKind<'a>> {
        match &r.body {
            Body::Trace(t) => Some(self.trace_kind(t)),
            Body::Kernel(text) => kernel_kind(text).or_else(|| {
                let rules = self.rules.as_deref()?;
                declared::message_hit(rules, text).map(EventKind::Declared)
            }),
            Body::Framing(Framing::Lost { cpu, count }) => Some(EventKind::Lost {
                cpu: *cpu,
                count: *count,
            }),
            Body::Framing(Framing::EventsDropped {
                cpu: Some(cpu),
                count,
            }) => Some(EventKind::Lost {
                cpu: *cpu,
                count: *count,
            }),
            _ => None,
        }
    }

    /// What a trace line says: a debug-patch message, a tracepoint, or
    /// just a trace event.
    pub(crate) fn trace_kind<'a>(&self, t: &TraceLine<'a>) -> EventKind<'a> {
        self.notable_trace(t)
            .or_else(|| tracepoint::blocks(t.body.name, t.body.payload))
            .unwrap_or(EventKind::Trace)
    }

    /// Whether a trace line's sink needs its whole record rather than its
    /// place in a run of trace lines (the reader's `TraceRun`): a tracefs
    /// `console:` event, whose kernel message the splat tracker and the boot
    /// finder read like any other.
    pub(crate) fn whole(&self, t: &TraceLine<'_>) -> bool {
        t.body.name == b"console"
    }

    /// The event of a trace line when it is more than a plain trace event
    /// or a tracepoint ([`EventKind::is_plain_trace`]): what a run of trace
    /// lines carries besides its counts.
    pub(crate) fn notable_trace<'a>(&self, t: &TraceLine<'a>) -> Option<EventKind<'a>> {
        debug_patch(t.body.name, t.body.payload)
            .or_else(|| self.console_event(t))
            .or_else(|| {
                let rules = self.rules.as_deref()?;
                declared::trace_hit(rules, t.body.name, t.body.payload).map(EventKind::Declared)
            })
    }

    /// The kernel message a tracefs `console:` event carries, recognised like a
    /// dmesg line, with or without the message's own printk time:
    /// `godown-213341 [008]  6398.022871: console:              [ 6397.915392] XFS (pmem1): User initiated shutdown received.`
    fn console_event<'a>(&self, t: &TraceLine<'a>) -> Option<EventKind<'a>> {
        let msg = console_message(t)?;
        kernel_kind(msg).or_else(|| {
            let rules = self.rules.as_deref()?;
            declared::message_hit(rules, msg).map(EventKind::Declared)
        })
    }
}

/// The event of kind `kind` found in record `r` ([`Recognizer::kind`]).
pub(crate) fn assemble<'a>(r: &Record<'a>, kind: EventKind<'a>) -> Event<'a> {
    let trace = match &r.body {
        Body::Trace(t) => Some(t),
        _ => None,
    };
    Event {
        pos: r.pos,
        lines: r.lines,
        kind,
        cpu: trace.and_then(|t| t.cpu),
        pid: trace.and_then(|t| t.pid),
        comm: trace.map_or(&b""[..], |t| t.comm),
        trace_ts: trace.and_then(|t| t.ts),
        console_ns: r.prefixes.printk_ns,
        wall_s: r.prefixes.wall_s,
        caller: r.prefixes.caller,
        prefixed: r.prefixes.is_kernel(),
        name: trace.map(|t| t.body.name),
        payload: trace.map(|t| t.body.payload),
        msg: r.msg,
        text: r.original,
        boot: 0,
    }
}

/// The debug patch's `trace_printk` messages.
///
/// Examples: `alloc_extent_buffer: alloc eb=15302115328 len=16384` (payload of
/// the `alloc_extent_buffer` symbol), `read done, eb=15302115328 page_refs=3 eb level=0 fsid=...`,
/// `called from btrfs_release_extent_buffer`, `!!! Validation failed, eb=15302115328 !!!`.
pub(crate) fn debug_patch<'a>(symbol: &'a [u8], p: &'a [u8]) -> Option<EventKind<'a>> {
    // Dispatch on the first byte: most payloads are other events' fields.
    match p.first() {
        Some(b'r') => {
            if let Some(r) = p.strip_prefix(b"read done, ") {
                // `end_bbio_data_read: read done, ino=...` is a data read, not an eb.
                if symbol != b"end_bbio_meta_read" && crate::fields::contains(symbol, b"_data_") {
                    return None;
                }
                return eb_dump(r).map(EventKind::ReadDone);
            }
        }
        Some(b'b') => {
            if let Some(r) = p.strip_prefix(b"before release, ") {
                return eb_dump(r).map(EventKind::BeforeRelease);
            }
        }
        Some(b'c') => {
            if let Some(f) = p.strip_prefix(b"called from ") {
                let f = kernel::symbol_of(f);
                return (!f.is_empty()).then_some(EventKind::CalledFrom { func: f });
            }
        }
        Some(b'!') => {
            if let Some(r) = p.strip_prefix(b"!!! Validation failed, eb=") {
                let (_, eb) = dec_u64(r).ok()?;
                return Some(EventKind::ValidationFailed { eb });
            }
        }
        _ => {}
    }
    // "%s: alloc eb=%llu len=%lu" with __func__ as %s; or printk-msg-only "alloc eb=...".
    let (func, r) = match p.strip_prefix(b"alloc eb=") {
        Some(rest) => (symbol, rest),
        None => {
            let n = crate::fields::symbol_len(&p[..p.len().min(64)]);
            if n == 0 {
                return None;
            }
            (&p[..n], p[n..].strip_prefix(b": alloc eb=")?)
        }
    };
    let (r, eb) = dec_u64(r).ok()?;
    let len = match r.strip_prefix(b" len=") {
        Some(x) => dec_u64(x).ok().map(|v| v.1),
        None => find_u64_after(r, b"len="),
    };
    let via = match func {
        b"alloc_extent_buffer" => AllocVia::AllocExtentBuffer,
        b"btrfs_clone_extent_buffer" => AllocVia::Clone,
        b"__alloc_dummy_extent_buffer" | b"alloc_dummy_extent_buffer" => AllocVia::Dummy,
        f if crate::fields::contains(f, b"clone") => AllocVia::Clone,
        f if crate::fields::contains(f, b"dummy") => AllocVia::Dummy,
        _ => AllocVia::AllocExtentBuffer,
    };
    Some(EventKind::Alloc { eb, len, via })
}

/// `eb=%llu page_refs=%d eb level=%d fsid=%pUb`: parsed in order, falling
/// back to looking each field up when the line does not follow the format.
fn eb_dump(r: &[u8]) -> Option<EbDump> {
    let r = r.strip_prefix(b"eb=")?;
    let (r, eb) = dec_u64(r).ok()?;
    if let Some(d) = eb_dump_in_order(eb, r) {
        return Some(d);
    }
    let num = |key: &[u8]| {
        memchr::memmem::find(r, key)
            .and_then(|p| dec_i64(&r[p + key.len()..]).ok())
            .map(|x| x.1)
    };
    let fsid = memchr::memmem::find(r, b"fsid=")
        .and_then(|p| uuid(&r[p + 5..]).ok())
        .map(|x| x.1);
    Some(EbDump {
        eb,
        page_refs: num(b"page_refs="),
        level: num(b"level="),
        fsid,
    })
}

/// The fast path of [`eb_dump`]: ` page_refs=%d eb level=%d fsid=%pUb`.
fn eb_dump_in_order(eb: u64, r: &[u8]) -> Option<EbDump> {
    let r = r.strip_prefix(b" page_refs=")?;
    let (r, page_refs) = dec_i64(r).ok()?;
    let r = r.strip_prefix(b" eb level=")?;
    let (r, level) = dec_i64(r).ok()?;
    let r = r.strip_prefix(b" fsid=")?;
    let (_, fsid) = uuid(r).ok()?;
    Some(EbDump {
        eb,
        page_refs: Some(page_refs),
        level: Some(level),
        fsid: Some(fsid),
    })
}

/// The kernel message a tracefs `console:` event carries, without its own
/// printk time when it has one; `None` for any other trace event.
pub(crate) fn console_message<'a>(t: &TraceLine<'a>) -> Option<&'a [u8]> {
    if t.body.name != b"console" {
        return None;
    }
    let p = crate::fields::trim_start(t.body.payload);
    Some(crate::prefix::printk_msg(p).map_or(p, |(_, m)| m))
}

/// Kernel messages: btrfs corruption reports and aborts, oops lines.
fn kernel_kind(text: &[u8]) -> Option<EventKind<'_>> {
    let t = crate::fields::trim_start(text);
    if t.starts_with(b"BTRFS") {
        let m = kernel::btrfs_msg(t)?;
        if let Some(tc) = btrfs::tree_check(m.msg) {
            return Some(EventKind::TreeCheck(tc));
        }
        if let Some(v) = btrfs::validation(m.msg) {
            return Some(EventKind::Validation(v));
        }
        if let Some(a) = btrfs::abort(&m) {
            return Some(EventKind::Abort(a));
        }
        return None;
    }
    kernel::oops_line(text).map(EventKind::Oops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_patch_lines() {
        let k = debug_patch(
            b"alloc_extent_buffer",
            b"alloc_extent_buffer: alloc eb=15302115328 len=16384",
        )
        .unwrap();
        assert_eq!(
            k,
            EventKind::Alloc {
                eb: 15302115328,
                len: Some(16384),
                via: AllocVia::AllocExtentBuffer
            }
        );
        let k = debug_patch(
            b"btrfs_clone_extent_buffer",
            b"btrfs_clone_extent_buffer: alloc eb=5 len=16384",
        )
        .unwrap();
        assert!(matches!(
            k,
            EventKind::Alloc {
                via: AllocVia::Clone,
                ..
            }
        ));
        let k = debug_patch(
            b"__alloc_dummy_extent_buffer",
            b"__alloc_dummy_extent_buffer: alloc eb=5 len=4096",
        )
        .unwrap();
        assert!(matches!(
            k,
            EventKind::Alloc {
                via: AllocVia::Dummy,
                ..
            }
        ));
        let k = debug_patch(
            b"end_bbio_meta_read",
            b"read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000",
        )
        .unwrap();
        let EventKind::ReadDone(d) = k else { panic!() };
        assert_eq!(
            (d.eb, d.page_refs, d.level),
            (15302115328, Some(3), Some(0))
        );
        assert!(!d.looks_discarded());
        let k = debug_patch(
            b"btrfs_release_extent_buffer_pages",
            b"before release, eb=15664726016 page_refs=0 eb level=0 fsid=00000000-0000-0000-0000-000000000000",
        )
        .unwrap();
        let EventKind::BeforeRelease(d) = k else {
            panic!()
        };
        assert!(d.looks_discarded());
        assert_eq!(
            debug_patch(
                b"alloc_extent_buffer",
                b"called from btrfs_release_extent_buffer"
            ),
            Some(EventKind::CalledFrom {
                func: b"btrfs_release_extent_buffer"
            })
        );
        assert_eq!(
            debug_patch(
                b"end_bbio_meta_read",
                b"!!! Validation failed, eb=15302115328 !!!"
            ),
            Some(EventKind::ValidationFailed { eb: 15302115328 })
        );
        // The data-read decoy.
        assert_eq!(
            debug_patch(b"end_bbio_data_read", b"read done, ino=257 off=0"),
            None
        );
        assert_eq!(
            debug_patch(b"end_bbio_data_read", b"read done, eb=1 page_refs=1"),
            None
        );
        assert_eq!(
            debug_patch(b"sched_switch", b"prev_comm=a prev_pid=1"),
            None
        );
    }

    #[test]
    fn console_events_carry_kernel_messages() {
        // With its own printk time the prefix stage peels the event's
        // header; without one, the trace line carries the message.
        let text = "   btrfs-transacti-412   [003] d..1. 12301.559421: console: [12301.559018] BTRFS critical (device dm-0): corrupt leaf: root=5 block=30408704 slot=3 ino=257, invalid mode: has 0 expect valid S_IF* bit(s)\n\
                    \x20  btrfs-transacti-412   [003] d..1. 12301.559421: console: BTRFS critical (device dm-0): corrupt leaf: root=5 block=30408704 slot=3 ino=257, invalid mode: has 0 expect valid S_IF* bit(s)\n\
                    \x20         godown-213341 [008]  6398.022871: console:              XFS (pmem1): User initiated shutdown received.\n";
        let rec = Recognizer::builtin();
        let mut kinds = Vec::new();
        let mut sink = |r: &Record<'_>| kinds.push(rec.kind(r).map(|k| k.name()));
        crate::reader::read_input(0, text.as_bytes(), &Default::default(), &mut sink);
        assert_eq!(
            kinds,
            [Some("tree-check"), Some("tree-check"), Some("trace")]
        );
    }
}
