//! Judging lines for repair with the pipeline's own grammars: is this a
//! record, is it cut for its grammar, may this line continue one, where do
//! joined records start.
//!
//! "Cut" is decided per grammar, never by length alone:
//!
//! * a trace line whose context prefix has no body, or an event name with no
//!   payload (`... 2649295481us :`, `... 961.534329: btrfs_defrag_file:`);
//! * a debug-patch message missing its last field (`read done, eb=...` or
//!   `before release, eb=...` without `fsid=<uuid>`, `alloc eb=N` without
//!   `len=`, `!!! Validation failed, eb=N` without the closing `!!!`);
//! * a btrfs message whose prefix is cut (`BTRFS critical (device dm-2`), has
//!   no text, or starts (or is the start of) a tree-checker, validation or
//!   abort phrase that the event recognizers then fail to parse
//!   (`corrupted node, root=518` without `block=`, `level verify failed on`);
//! * `WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450` without the function;
//! * a register dump line ending in a register name (`... RCX:`);
//! * a kernel message whose last `[` or `(` is not closed (`[btrfs` of a
//!   call-trace frame whose build id moved to the next line).
//!
//! Cuts that no grammar can see (a generic message broken between two words)
//! are the wrap-width judgement's business, in [`super::width`].

use crate::fields::{trim, trim_start};
use crate::grammar::btrfs::{abort, tree_check, validation};
use crate::grammar::kernel::{btrfs_msg, oops_line, OopsLine};
use crate::grammar::{classify, framing, Body, BodyKind, Framing, TraceFormat, TraceLine};
use crate::prefix::{layer, peel};

/// Lines longer than this were not cut by a mail client; they are not even
/// looked at for a cut (the pending-record path judges joined text anyway).
const SUSPECT_MAX: usize = 100;

/// What a line or a joined record is, as far as joining goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// A kernel message or a trace event: something a wrap can cut.
    pub record: bool,
    /// Cut for its grammar.
    pub cut: bool,
    /// A trace context prefix with nothing after it.
    pub empty_trace: bool,
}

/// Judge a line or a joined record.
pub(crate) fn judge(text: &[u8]) -> Verdict {
    let (pre, msg) = peel(text);
    if pre.userspace {
        return Verdict::default();
    }
    let t = trim_start(msg);
    if t.starts_with(b"BTRFS") {
        return Verdict {
            record: true,
            cut: btrfs_cut(t),
            empty_trace: false,
        };
    }
    match classify(msg, &pre) {
        Body::Trace(tl) => {
            let (cut, empty_trace) = trace_cut(&tl);
            Verdict {
                record: true,
                cut,
                empty_trace,
            }
        }
        Body::Kernel(k) => Verdict {
            record: true,
            cut: kernel_cut(k),
            empty_trace: false,
        },
        _ => Verdict::default(),
    }
}

/// A cheap look at a physical line: could it be cut for its grammar? Only
/// then is it judged (and buffered if cut); everything else goes straight on.
pub(crate) fn suspect(text: &[u8]) -> bool {
    let t = trim_end(text);
    let Some(&last) = t.last() else {
        return false;
    };
    if t.len() > SUSPECT_MAX {
        return false;
    }
    if matches!(last, b':' | b',' | b'=' | b'(' | b'[') {
        return true;
    }
    if !matches!(last, b')' | b']') && unclosed_near_end(t) {
        return true;
    }
    let m = message_start(t);
    if m.starts_with(b"BTRFS") || m.starts_with(b"WARNING: ") {
        return true;
    }
    let f = &*FINDERS;
    if m.first() != Some(&b'[') {
        // Another prefix (syslog, journal, kmsg), or one after the printk
        // time (`[ 7807.214127] host kernel: `): look near the start.
        let head = &m[..m.len().min(96)];
        if f[0].find(head).is_some() || f[1].find(head).is_some() {
            return true;
        }
    }
    // A debug-patch message cut before its last field (`fsid=`, `len=`,
    // `!!!`) ends in a `key=value` word or in `eb`.
    let word = &t[t.iter().rposition(|&c| c == b' ').map_or(0, |p| p + 1)..];
    (word == b"eb" || word.contains(&b'='))
        && has_eb_field(t)
        && f[2].find(t).is_none()
        && f[3].find(t).is_none()
}

/// `eb=` somewhere on the line.
fn has_eb_field(t: &[u8]) -> bool {
    memchr::memchr_iter(b'=', t).any(|p| p >= 2 && &t[p - 2..p] == b"eb")
}

/// Where the message starts on a line with a printk time (`[ 1.0] msg`,
/// `[ 1.0][ T12] msg`), or the line without its indentation.
fn message_start(t: &[u8]) -> &[u8] {
    let mut m = trim_start(t);
    for _ in 0..2 {
        if m.first() != Some(&b'[') {
            break;
        }
        match m.iter().take(24).position(|&c| c == b']') {
            Some(close) => m = trim_start(&m[close + 1..]),
            None => break,
        }
    }
    m
}

/// Words that mark a line worth judging: btrfs messages, WARNING lines, and
/// the debug patch's `eb=` messages and their last fields (built once,
/// searched on every short line).
static FINDERS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 4]> =
    std::sync::LazyLock::new(|| {
        [
            memchr::memmem::Finder::new(b"BTRFS"),
            memchr::memmem::Finder::new(b"WARNING: "),
            memchr::memmem::Finder::new(b"fsid="),
            memchr::memmem::Finder::new(b" len="),
        ]
    });

/// The last `[` or `(` in the last 48 bytes of a line is not closed: where
/// a wrap leaves an open bracket.
fn unclosed_near_end(t: &[u8]) -> bool {
    let tail = &t[t.len().saturating_sub(48)..];
    match memchr::memrchr2(b'[', b'(', tail) {
        Some(p) => {
            let close = if tail[p] == b'[' { b']' } else { b')' };
            memchr::memchr(close, &tail[p + 1..]).is_none()
        }
        None => false,
    }
}

/// Whether `text` may continue a record: it carries no prefix, and no grammar
/// recognises it. After a trace context prefix with an empty body, a bare
/// event body (`end_bbio_meta_read: read done, eb=...`) continues it too.
pub(crate) fn continues(text: &[u8], after_empty_trace: bool) -> bool {
    let (pre, msg) = peel(text);
    if pre.layers != 0 || trim(msg).is_empty() {
        return false;
    }
    match classify(msg, &pre) {
        Body::Unrecognized => true,
        Body::Trace(tl) => after_empty_trace && tl.format == TraceFormat::Bare,
        _ => false,
    }
}

/// An elision line (`...`, `.....`, `[...]`, `…`) with no prefix.
pub(crate) fn is_elision(text: &[u8]) -> bool {
    if text.len() > 80 {
        return false;
    }
    let t = trim(text);
    let maybe = matches!(t, [b'.' | 0xE2, ..] | [b'[', b'.' | b' ' | 0xE2, ..]);
    maybe && matches!(framing::framing(t), Some(Framing::Elision))
}

fn trim_end(t: &[u8]) -> &[u8] {
    let k = t
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |k| k + 1);
    &t[..k]
}

/// Whether the text ends with `:` (a label whose value a wrap moved on).
pub(crate) fn ends_with_colon(t: &[u8]) -> bool {
    trim_end(t).last() == Some(&b':')
}

/// The last `[` or `(` is not closed.
fn unclosed(t: &[u8]) -> bool {
    [(b'[', b']'), (b'(', b')')].iter().any(|&(o, c)| {
        memchr::memrchr(o, t).is_some_and(|p| memchr::memchr(c, &t[p + 1..]).is_none())
    })
}

fn trace_cut(tl: &TraceLine<'_>) -> (bool, bool) {
    let b = &tl.body;
    let p = trim(b.payload);
    if b.name.is_empty() && p.is_empty() {
        return (true, true);
    }
    if b.kind == BodyKind::Event && p.is_empty() {
        return (true, false);
    }
    (b.kind == BodyKind::Event && debug_patch_cut(p), false)
}

/// A debug-patch `trace_printk` message (kernel-formats.md E.1) missing its
/// last field.
fn debug_patch_cut(p: &[u8]) -> bool {
    for phrase in [&b"read done, eb="[..], b"before release, eb="] {
        if let Some(r) = p.strip_prefix(phrase) {
            let fsid = memchr::memmem::find(r, b"fsid=")
                .is_some_and(|f| crate::fields::uuid(&r[f + 5..]).is_ok());
            return !fsid;
        }
    }
    let alloc = match memchr::memmem::find(p, b": alloc eb=") {
        Some(c) if c < 64 => Some(&p[c + 11..]),
        _ => p.strip_prefix(b"alloc eb="),
    };
    if let Some(r) = alloc {
        let len = memchr::memmem::find(r, b" len=")
            .is_some_and(|l| r.get(l + 5).is_some_and(u8::is_ascii_digit));
        return !len;
    }
    if p == b"called from" {
        return true;
    }
    if p.starts_with(b"!!! Validation failed, eb=") {
        return !p.ends_with(b"!!!") || p.len() < 30;
    }
    false
}

/// Phrases of the btrfs messages the event recognizers read (kernel-formats.md C.2–C.5).
const BTRFS_PHRASES: [&[u8]; 16] = [
    b"corrupt leaf",
    b"corrupt node",
    b"corrupted leaf",
    b"corrupted node",
    b"bad tree block start",
    b"bad fsid on",
    b"bad tree block level",
    b"checksum verify failed on",
    b"level verify failed on",
    b"parent transid verify failed on",
    b"read time tree block corruption detected",
    b"tree first key mismatch detected",
    b"tree level mismatch detected",
    b"invalid tree nritems",
    b"Transaction aborted (error",
    b"error (device",
];

/// `block=N` messages (C.3, write side).
const BLOCK_TAILS: [&[u8]; 3] = [
    b" read time tree block corruption detected",
    b" write time tree block corruption detected",
    b" bad generation",
];

fn btrfs_cut(t: &[u8]) -> bool {
    let Some(m) = btrfs_msg(t) else {
        // `BTRFS`, `BTRFS critical`, `BTRFS critical (device dm-2`.
        return t.len() == 5 || matches!(t[5], b' ' | b':');
    };
    let msg = trim(m.msg);
    if msg.is_empty() || msg == b":" {
        return true;
    }
    if tree_check(msg).is_some() || validation(msg).is_some() || abort(&m).is_some() {
        return false;
    }
    // The phrase, or at least two of its words (`level verify failed on`
    // cut before `logical`, `read time tree block` before `corruption`).
    if BTRFS_PHRASES
        .iter()
        .any(|p| msg.starts_with(p) || (msg.len() >= 8 && p.starts_with(msg)))
    {
        return true;
    }
    if let Some(r) = msg.strip_prefix(b"block=") {
        let digits = r.iter().take_while(|c| c.is_ascii_digit()).count();
        let rest = &r[digits..];
        return digits > 0
            && BLOCK_TAILS
                .iter()
                .any(|s| s.starts_with(rest) || rest.starts_with(s));
    }
    false
}

fn kernel_cut(k: &[u8]) -> bool {
    match oops_line(k) {
        Some(OopsLine::Warning { func: None, .. }) => return true,
        Some(OopsLine::WarningText(r)) if r.starts_with(b"CPU: ") => return true,
        _ => {}
    }
    let t = trim(k);
    register_cut(t) || unclosed(t)
}

/// A register dump line whose last register's value moved to the next line:
/// `RAX: 0000000000000039 RBX: ffffea0004ead3c0 RCX:`.
fn register_cut(t: &[u8]) -> bool {
    let Some(body) = t.strip_suffix(b":") else {
        return false;
    };
    let last = body
        .iter()
        .rposition(|&c| c == b' ')
        .map_or(body, |p| &body[p + 1..]);
    let reg = |w: &[u8]| {
        (2..=8).contains(&w.len())
            && w.iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
    };
    if !reg(last) || last.len() == body.len() {
        return false;
    }
    // The line starts with a register and its value.
    let Some(colon) = t.iter().take(9).position(|&c| c == b':') else {
        return false;
    };
    let v = trim_start(&t[colon + 1..]);
    reg(&t[..colon]) && v.len() >= 4 && v[..4].iter().all(u8::is_ascii_hexdigit)
}

/// Where the next embedded console record starts, at or after `from`: a
/// strict `[ seconds.micros]` after a blank, that peels as a printk time and
/// has text after it.
pub(crate) fn next_record_start(text: &[u8], from: usize) -> Option<usize> {
    let mut i = from.max(1);
    while i < text.len() {
        let p = i + memchr::memchr(b'[', &text[i..])?;
        i = p + 1;
        if !matches!(text[p - 1], b' ' | b'\t') || !strict_time(&text[p..]) {
            continue;
        }
        let (pre, msg) = peel(&text[p..]);
        if pre.layers & layer::PRINTK_TIME != 0 && !trim(msg).is_empty() {
            return Some(p);
        }
    }
    None
}

/// `[` spaces digits `.` six digits then `]`, ` ` or `<` (prose such as
/// `see [1.5]` is not a record).
fn strict_time(t: &[u8]) -> bool {
    let inner = trim_start(t.get(1..).unwrap_or_default());
    let digits = inner.iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0
        && inner.get(digits) == Some(&b'.')
        && inner.len() > digits + 7
        && inner[digits + 1..digits + 7].iter().all(u8::is_ascii_digit)
        && matches!(inner[digits + 7], b']' | b' ' | b'<')
}

/// Whether a physical line begins with a console record (a printk time at
/// its start, not glued after other output).
pub(crate) fn begins_with_printk(text: &[u8]) -> bool {
    let (pre, _) = peel(text);
    pre.layers & layer::PRINTK_TIME != 0 && pre.layers & layer::GLUED == 0 && !pre.userspace
}

/// Whether the segment is a trace `console` event, whose payload is a printk
/// record with its own time (`console: [ 6397.915392] XFS (pmem1): ...`).
pub(crate) fn is_console_event(seg: &[u8]) -> bool {
    let (pre, msg) = peel(seg);
    matches!(classify(msg, &pre), Body::Trace(tl) if tl.body.name == b"console")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(s: &str) -> bool {
        judge(s.as_bytes()).cut
    }

    #[test]
    fn cut_trace_lines() {
        let v = judge(b"[ 2740.240046] iou-wrk--173727   15..... 2649295481us :");
        assert_eq!(
            v,
            Verdict {
                record: true,
                cut: true,
                empty_trace: true
            }
        );
        assert!(cut(
            "    btrfs-cleaner-1770    [014] .....   961.534329: btrfs_defrag_file:"
        ));
        assert!(cut("[ 2740.240046] iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328"));
        assert!(cut("[ 2740.301767] kworker/-322      15..... 2649295735us : end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0"));
        assert!(cut(
            "end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0"
        ));
        // Complete.
        assert!(!cut("[ 2740.240046] iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384"));
        assert!(!cut("[ 2740.301767] kworker/-322      15..... 2649295735us : end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000"));
        assert!(!cut("           btrfs-1115669 [005] .....  5437.027093: scrub_submit.part.0: devid=1 logical=22036480 phy=22036480 len=16384"));
        assert!(!cut("[  707.312025] iou-wrk--45324    18..... 680449566us : alloc_extent_buffer: called from btrfs_release_extent_buffer"));
    }

    #[test]
    fn cut_kernel_messages() {
        for s in [
            "[  119.257741] BTRFS critical (device dm-2): corrupted node, root=518",
            "[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258 block=15302115328 owner mismatch, have 13709377558419367261 expect",
            "  BTRFS critical (device dm-0): corrupted node, root=256",
            "[   76.647420] BTRFS error (device sdc): level verify failed on",
            "[40675.013231] BTRFS critical (device sdc): corrupt leaf:",
            "[40675.013337] BTRFS error (device sdc): read time tree block",
            "[  178.804024] BTRFS: error (device dm-2: state A) in",
            "[  1.0] BTRFS error (device dm-2): block=350945280 read time",
            "[  1.0] BTRFS critical (device dm-2",
            "[  178.570606] WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450",
            "[  178.658761]  ? btrfs_create_new_inode+0xa46/0xa70 [btrfs",
            "[   59.309382] RAX: 0000000000000039 RBX: ffffea0004ead3c0 RCX:",
            "[  178.771580] RSP: 002b:00007ffcc4791f50 EFLAGS: 00000293 ORIG_RAX:",
        ] {
            assert!(cut(s), "{s}");
        }
        for s in [
            "[    1.000000] BTRFS info (device sda): b",
            "[    1.000000] BTRFS info (device sda): bad",
            "[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258 block=15302115328 owner mismatch, have 13709377558419367261 expect [256, 18446744073709551360] eb=15302115328",
            "[  178.567792] BTRFS: Transaction aborted (error -17)",
            "[    6.064064] BTRFS info (device sdc): use zstd compression, level 3",
            "[  178.570606] WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 btrfs_create_new_inode+0xa46/0xa70 [btrfs]",
            "[  178.650998] Call Trace:",
            "[  178.615664] RSP: 0018:ffffbb8edf8afad8 EFLAGS: 00010282",
            "[    0.000000] BIOS-provided physical RAM map:",
            "[  520.285958] BTRFS error (device dm-2): block=350945280 read time tree block corruption detected",
        ] {
            assert!(!cut(s), "{s}");
        }
    }

    #[test]
    fn records_and_continuations() {
        assert!(!judge(b"I am surprised to see two end_bbio_meta_read lines").record);
        assert!(!judge(b"Jun 30 03:30:47 epyc backup.sh[3178407]: Delete").record);
        assert!(continues(
            b"block=16438782945911875046 owner mismatch",
            false
        ));
        assert!(continues(
            b"[256, 18446744073709551360] eb=15302115328",
            false
        ));
        assert!(!continues(
            b"[  119.257764] BTRFS critical (device dm-2): x",
            false
        ));
        assert!(!continues(b"", false));
        assert!(!continues(b"...", false));
        let bare = b"end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0";
        assert!(continues(bare, true));
        assert!(!continues(bare, false));
        assert!(!continues(
            b"   kworker/u16:3-322     [015] .....  2649.295735: x: y",
            true
        ));
    }

    #[test]
    fn embedded_record_starts() {
        let t = b"[11655.022724] BTRFS critical (device sdc1): x expect 0x1 [11655.027629] BTRFS critical (device sdc1): y [11655.027990] z";
        let p1 = next_record_start(t, 15).unwrap();
        assert!(t[p1..].starts_with(b"[11655.027629]"));
        let p2 = next_record_start(t, p1 + 1).unwrap();
        assert!(t[p2..].starts_with(b"[11655.027990]"));
        assert_eq!(next_record_start(t, p2 + 1), None);
        assert_eq!(next_record_start(b"see [1.5] and [2.5] x", 0), None);
        assert_eq!(next_record_start(b"x[ 2.000000] y", 0), None);
        assert!(begins_with_printk(t));
        assert!(!begins_with_printk(
            b"         Startin[    2.193372] systemd[1]: Starting"
        ));
        assert!(is_console_event(
            b"         godown-213341 [008]  6398.022871: console:              "
        ));
    }

    #[test]
    fn elisions() {
        for s in [
            "...",
            "           ...",
            ".....",
            "[...]",
            "\u{2026}",
            "[\u{2026}]",
        ] {
            assert!(is_elision(s.as_bytes()), "{s}");
        }
        for s in ["..", "Starting Journal Service...", "a...", ""] {
            assert!(!is_elision(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn suspects() {
        assert!(suspect(
            b"[ 2740.240046] iou-wrk--173727   15..... 2649295481us :"
        ));
        assert!(suspect(
            b"  BTRFS critical (device dm-0): corrupted node, root=256"
        ));
        // journalctl -o short-monotonic, and syslog with the kernel's time.
        assert!(suspect(
            b"[ 7807.214127] fedora kernel: BTRFS critical (device dm-0): corrupted"
        ));
        assert!(suspect(
            b"Jan 26 10:41:07 fedora kernel: [ 7807.214127] BTRFS critical (device dm-0):"
        ));
        assert!(!suspect(b"[  178.650998] Call Trace"));
        assert!(!suspect(&[b'x'; 200]));
    }
}
