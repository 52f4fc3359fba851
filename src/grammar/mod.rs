//! Stage 3 of the pipeline: what one line *is*, decided by nom grammars over
//! bytes.
//!
//! [`classify`] takes the text left after prefix peeling and returns a
//! [`Body`] that borrows it. It never fails: a line no grammar recognises is
//! [`Body::Unrecognized`], and the caller counts it and keeps a sample.
//!
//! | module | reads |
//! |---|---|
//! | [`trace`] | ftrace event lines: normal, latency/dump, function_graph, and event bodies |
//! | [`framing`] | dump framing, lost-event markers, `#` headers, trace-cmd preamble |
//! | [`kernel`] | btrfs message prefixes, oops/WARNING/BUG/panic lines, unprefixed kernel shapes |
//! | [`btrfs`] | btrfs tree-checker and validation messages, transaction aborts |

pub mod btrfs;
pub mod framing;
pub mod kernel;
pub mod trace;

pub(crate) use framing::{Framing, Header};
pub use trace::{BodyKind, EventBody, TraceFormat, TraceLine, TraceTs};

use crate::fields::{symbol_len, trim_start};
use crate::prefix::Prefixes;

/// What a line's text (after prefixes) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// An ftrace event line.
    Trace(TraceLine<'a>),
    /// Dump framing or a lost-events marker.
    Framing(Framing<'a>),
    /// A header or comment line.
    Header(Header<'a>),
    /// A kernel message (its text).
    Kernel(&'a [u8]),
    /// A syslog line from a program other than the kernel.
    Userspace(&'a [u8]),
    /// Nothing but white space.
    Blank,
    /// No grammar matched.
    Unrecognized,
}

/// The per-line class counted by `stats` (the counts add up to the lines read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineClass {
    /// An ftrace event (any format).
    FtraceEvent,
    /// Dump framing, lost-event markers, separators.
    Framing,
    /// `#` headers, trace-cmd preamble, journal banners.
    Header,
    /// A kernel message.
    KernelMessage,
    /// A syslog line from user space.
    UserspaceLog,
    /// A continuation of the previous record (multi-line trace payload,
    /// indented dmesg continuation).
    Continuation,
    /// An empty or all-blank line.
    Blank,
    /// Recognised by nothing.
    Unrecognized,
}

impl LineClass {
    /// All classes, in report order.
    pub(crate) const ALL: [LineClass; 8] = [
        LineClass::FtraceEvent,
        LineClass::Framing,
        LineClass::Header,
        LineClass::KernelMessage,
        LineClass::UserspaceLog,
        LineClass::Continuation,
        LineClass::Blank,
        LineClass::Unrecognized,
    ];

    /// The JSON key of the class.
    pub fn name(self) -> &'static str {
        match self {
            LineClass::FtraceEvent => "ftrace_event",
            LineClass::Framing => "framing",
            LineClass::Header => "header",
            LineClass::KernelMessage => "kernel_message",
            LineClass::UserspaceLog => "userspace_log",
            LineClass::Continuation => "continuation",
            LineClass::Blank => "blank",
            LineClass::Unrecognized => "unrecognized",
        }
    }

    /// Index into a counts array of `ALL.len()`.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl Body<'_> {
    /// The class this body counts under.
    pub fn class(&self) -> LineClass {
        match self {
            Body::Trace(_) => LineClass::FtraceEvent,
            Body::Framing(_) => LineClass::Framing,
            Body::Header(_) => LineClass::Header,
            Body::Kernel(_) => LineClass::KernelMessage,
            Body::Userspace(_) => LineClass::UserspaceLog,
            Body::Blank => LineClass::Blank,
            Body::Unrecognized => LineClass::Unrecognized,
        }
    }
}

/// Classify the text of one line after its prefixes were peeled.
pub fn classify<'a>(text: &'a [u8], pre: &Prefixes) -> Body<'a> {
    let t = trim_start(text);
    let Some(&first) = t.first() else {
        return Body::Blank;
    };
    if t.iter().all(|c| c.is_ascii_whitespace()) {
        return Body::Blank;
    }
    if pre.userspace {
        return Body::Userspace(text);
    }
    if may_be_framing(first) {
        if let Some(f) = framing::framing(t) {
            // A line of dots after a console prefix is a kernel message
            // (progress dots), not a paste's elision.
            if !(f == Framing::Elision && pre.layers != 0) {
                return Body::Framing(f);
            }
        }
    }
    if may_be_header(first) {
        if let Some(h) = framing::header(t) {
            return Body::Header(h);
        }
    }
    let kernel_prefixed = pre.is_kernel();
    // Dump lines come with a console prefix: try the latency grammar first there.
    if kernel_prefixed {
        // Untrimmed: the latency grammar knows where ftrace put the comm field.
        if let Ok((_, l)) = trace::latency_line(text) {
            return Body::Trace(l);
        }
        if let Ok((_, l)) = trace::normal_line(t) {
            return Body::Trace(l);
        }
    } else {
        if let Ok((_, l)) = trace::normal_line(t) {
            return Body::Trace(l);
        }
        if let Ok((_, l)) = trace::latency_line(t) {
            return Body::Trace(l);
        }
    }
    if first.is_ascii_digit() {
        if let Ok((_, l)) = trace::funcgraph_line(t) {
            return Body::Trace(l);
        }
    }
    if let Some(l) = bare_trace(t) {
        return Body::Trace(l);
    }
    if kernel_prefixed || kernel::looks_kernel(text) {
        return Body::Kernel(text);
    }
    if systemd_status(t) {
        return Body::Userspace(text);
    }
    Body::Unrecognized
}

/// First bytes (after blanks) of the lines [`framing::framing`] may take.
#[inline]
fn may_be_framing(first: u8) -> bool {
    matches!(
        first,
        b'D' | b'-' | b'(' | b'C' | b'#' | b'*' | b'[' | b'I' | b'B' | b'.' | 0xE2
    )
}

/// First bytes (after blanks) of the lines [`framing::header`] may take.
#[inline]
fn may_be_header(first: u8) -> bool {
    matches!(first, b'#' | b'v' | b'c' | b'C' | b'-')
}

/// Fast lane for the dominant line of a console capture: an `ftrace_dump`
/// line behind a printk time, with the comm field where ftrace printed it
/// (the pid's dash is the ninth byte).
///
/// Example: `[  687.806206] kworker/-43417    45..... 680529498us : end_bbio_meta_read: read done, eb=15107391488 page_refs=4 eb level=0 fsid=d6cc6aa1-f965-4be4-ad07-8de6e76b47c7`.
///
/// When it answers, [`crate::prefix::peel`] then [`classify`] give the same:
/// these prefixes (one printk-time layer) and message, and `Body::Trace`
/// with this line. When it does not, nothing follows: the caller takes the
/// general path. It is that path with the alternatives cut that such a line
/// cannot take.
#[inline(always)]
pub fn console_trace(text: &[u8]) -> Option<(Prefixes, &[u8], TraceLine<'_>)> {
    let (ns, msg) = crate::prefix::printk_msg(text)?;
    // classify tries framing and headers first for these first bytes.
    let first = *trim_start(msg).first()?;
    if may_be_framing(first) || may_be_header(first) {
        return None;
    }
    // A printk time makes the line kernel-prefixed: the latency grammar
    // comes first, with the dash at the comm width tried first.
    let line = trace::latency_fixed(msg)?;
    // peel would also rule out a journal `host kernel: ` here; such a line
    // cannot be one: its first space is inside the comm (before the dash
    // at 8, which `kernel: ` cannot cover) or after the pid's digits, where
    // a space or a CPU digit follows, not `k`.
    Some((Prefixes::printk_time(ns), msg, line))
}

/// systemd's console status lines, interleaved with the kernel's on a serial
/// console: `[  OK  ] Started Journal Service.`, `[FAILED] ...`,
/// `[ ***  ] (2 of 3) A start job is running for ...`, `         Starting Journal Service...`.
fn systemd_status(t: &[u8]) -> bool {
    if let Some(r) = t.strip_prefix(b"[") {
        let Some(close) = r.iter().take(8).position(|&c| c == b']') else {
            return false;
        };
        let tag = &r[..close];
        let known = matches!(
            tag,
            b"  OK  " | b"FAILED" | b"DEPEND" | b" INFO " | b" WARN " | b"TIME "
        );
        let spinner = !tag.is_empty() && tag.iter().all(|&c| c == b' ' || c == b'*');
        return (known || spinner) && r.get(close + 1) == Some(&b' ');
    }
    const VERBS: [&[u8]; 8] = [
        b"Starting ",
        b"Stopping ",
        b"Mounting ",
        b"Unmounting ",
        b"Expecting ",
        b"Activating ",
        b"Deactivating ",
        b"Reloading ",
    ];
    VERBS.iter().any(|v| t.starts_with(v)) && t.ends_with(b"...")
}

/// An event body with no context prefix, accepted only when its payload is
/// unmistakably trace output: the debug patch's `trace_printk` messages
/// (kernel-formats.md E.1) or a btrfs tracepoint (`name: <fsid>: fields`, D.1).
///
/// Example: `end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=...`.
pub(crate) fn bare_trace(t: &[u8]) -> Option<TraceLine<'_>> {
    let n = symbol_len(t);
    if n == 0 || !t[0].is_ascii_alphabetic() && t[0] != b'_' {
        return None;
    }
    let body = trace::event_body(t);
    if body.kind != BodyKind::Event || body.name.is_empty() {
        return None;
    }
    let p = body.payload;
    let debug_patch = p.starts_with(b"read done, eb=")
        || p.starts_with(b"before release, eb=")
        || p.starts_with(b"called from ")
        || p.starts_with(b"!!! Validation failed, eb=")
        || memchr::memmem::find(p, b": alloc eb=").is_some();
    let tracepoint = body.name.starts_with(b"btrfs")
        && crate::fields::uuid(p).is_ok_and(|(r, _)| r.starts_with(b": "));
    (debug_patch || tracepoint).then_some(TraceLine {
        format: TraceFormat::Bare,
        file: None,
        comm: b"",
        pid: None,
        tgid: None,
        cpu: None,
        flags: None,
        ts: None,
        mark: None,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::peel;

    fn class_of(s: &str) -> LineClass {
        let (p, t) = peel(s.as_bytes());
        classify(t, &p).class()
    }

    #[test]
    fn classes_of_real_lines() {
        use LineClass::*;
        let cases = [
            ("[  707.310658] iou-wrk--45300    18..... 680442771us : btrfs_release_extent_buffer_pages: before release, eb=15664726016 page_refs=0 eb level=0 fsid=00000000-0000-0000-0000-000000000000", FtraceEvent),
            ("[  707.310658] CPU:18 [LOST 468484 EVENTS]", Framing),
            ("[  707.310564] Dumping ftrace buffer:", Framing),
            ("[  707.310566] ---------------------------------", Framing),
            ("[  727.439623]    (ftrace buffer empty)", Framing),
            ("[  707.299280] ------------[ cut here ]------------", KernelMessage),
            ("[  707.299281] kernel BUG at fs/btrfs/tree-checker.c:2070!", KernelMessage),
            ("[    0.000000] BIOS-e820: [mem 0x0000000000000400-0x000000000009ffff] usable", KernelMessage),
            ("# tracer: nop", Header),
            ("version = 6", Header),
            ("   btrfs-cleaner-299     [012] ..... 15149.134755: defrag_add_target: 69fd3173-f190-4b0d-b5d0-9c995f2950cc: root=5", FtraceEvent),
            (" 0)   0.198 us    |          _raw_spin_lock_irqsave();", FtraceEvent),
            ("Feb 17 11:00:34 hactar kernel: BTRFS critical (device dm-0): corrupt leaf", KernelMessage),
            ("Jun 30 03:30:47 epyc backup.sh[3178407]: Delete subvolume", UserspaceLog),
            ("", Blank),
            ("   \t", Blank),
            ("I am surprised to see two end_bbio_meta_read lines", Unrecognized),
            ("end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000", FtraceEvent),
            ("len=16384", Unrecognized),
            ("[  178.563011] ", Blank),
            ("           ...", Framing),
            (".....", Framing),
            ("[  178.563011] ...", KernelMessage),
        ];
        for (s, want) in cases {
            assert_eq!(class_of(s), want, "{s}");
        }
    }
}
