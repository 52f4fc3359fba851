//! btrfs corruption reports, validation failures and transaction aborts,
//! grouped by what identifies a corruption, so that one corruption reported
//! a thousand times is one entry with a count.
//!
//! # One corruption
//!
//! A corruption is identified by its device, its tree block and what is
//! wrong with it: `(device, block, kind)`, where the block is the trusted
//! `eb->start` when a message gives it (`eb=`, `logical`, `want`, the
//! reporters that print `eb->start`, or the companion line below), else the
//! header's `block=` as printed, and the kind is the tree checker's reason
//! (its text after the reporter's fields) or the validation message's kind.
//! Repeats across time, mirrors and boots join the same group, which keeps
//! a count, the first and the last occurrence, the set of mirrors and the
//! set of boots.
//!
//! # Pairs
//!
//! After a tree-checker report the kernel prints which block failed, and
//! when (kernel-formats.md C.3, C.4): `read time tree block corruption
//! detected on logical N mirror M` (`block=N read time ...` before 6.0), or
//! after the leaf dump of a write `block=N write time tree block corruption
//! detected`; a write-time `block=N bad generation` has the same companion.
//! A report waits for its companion, per input and device, until the next
//! report on that device: when that is the companion, for the same block (or
//! the report's `block=` is header garbage) and within [`MAX_PAIR_GAP`]
//! lines, the two lines are one occurrence, whose block is the companion's
//! trusted logical and whose phase (read or write) and mirror are the
//! companion's.
//!
//! # Cost and bounds
//!
//! Every step per line is O(1) amortised: a line is hashed by its identity
//! and looked up in a hash index; nothing is allocated for a line of a group
//! already kept, and the lines waiting for their companion live in buffers
//! that are reused. Memory is bounded: a group keeps the lines of its first
//! [`FIRST_KEPT`] occurrences and of its last one; at most [`MAX_GROUPS`]
//! distinct corruptions (and as many distinct aborts) are kept, and all
//! evidence text kept stays under [`EVIDENCE_BUDGET`] bytes. Beyond that,
//! reports are counted per rule with their first line ([`NotKept`]).

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use crate::correlate::evidence::{Comm, Evidence};
use crate::event::{Abort, Event, EventKind, Expect, TreeCheck, Validation, ValidationKind};
use crate::grammar::btrfs::{reason_value, Key as BtrfsKey, Phase, ReasonValue};
use crate::grammar::TraceTs;
use crate::input::Pos;

/// Occurrences of a group whose lines are all kept, from the first on; of
/// the later ones only the last is kept.
pub const FIRST_KEPT: u32 = 4;

/// Distinct corruptions kept in full (and, separately, distinct aborts).
pub const MAX_GROUPS: usize = 4096;

/// Bytes of evidence text kept over all groups.
pub(crate) const EVIDENCE_BUDGET: usize = 16 << 20;

/// Lines a report waits for its companion (a write-time leaf dump of a full
/// leaf is a few hundred lines).
pub(crate) const MAX_PAIR_GAP: u64 = 4096;

/// Lines a `Transaction aborted (error N)` waits for its `errno=` line (the
/// WARNING block between them).
const MAX_ABORT_GAP: u64 = 400;

/// Devices (per input) with a report waiting for its companion at once.
const MAX_PENDING: usize = 16;

/// Bytes of a reason or device that identify a corruption.
const MAX_KEY_BYTES: usize = 256;

/// Distinct header-derived values kept per group.
pub(crate) const MAX_VALUES: usize = 4;

/// Distinct boots kept per group.
pub(crate) const MAX_BOOTS: usize = 64;

/// Where and when one occurrence was printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Occurrence {
    /// Its first physical line.
    pub pos: Pos,
    /// Console (printk) time in ns.
    pub console_ns: Option<u64>,
    /// Trace time.
    pub trace_ts: Option<TraceTs>,
    /// Wall-clock seconds of a syslog / journal / `dmesg -T` prefix.
    pub wall_s: Option<u64>,
    /// The boot it was printed in.
    pub boot: u32,
}

/// One occurrence of a corruption or abort: its lines (one, or a report and
/// its companion), grouped with the others.
#[derive(Debug, Clone)]
pub struct Group {
    /// The first line of the first occurrence.
    pub first: Evidence,
    /// The other kept lines, in order: the rest of the first
    /// [`FIRST_KEPT`] occurrences, then (after [`Reports::finish`]) the
    /// last occurrence when it is not among them.
    pub repeats: Vec<Evidence>,
    /// Occurrences (a report and its companion are one).
    pub count: u64,
    /// The first occurrence.
    pub first_at: Occurrence,
    /// The last occurrence.
    pub last_at: Occurrence,
    /// The boots it was printed in, ascending (at most [`MAX_BOOTS`]).
    pub boots: Vec<u32>,
    /// More boots than [`MAX_BOOTS`].
    pub more_boots: bool,
    /// Lines seen but not kept as evidence.
    pub omitted: u64,
    kept: u32,
    last: Vec<Line>,
    last_len: usize,
    last_held: bool,
}

/// What kind of corruption report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportKind {
    /// A tree-checker report.
    TreeCheck {
        /// The reason text.
        reason: String,
        /// `node` rather than `leaf` (of the first occurrence).
        node: bool,
        /// `root=` as printed (of the first occurrence).
        root: Option<u64>,
    },
    /// A read- or write-side validation message.
    Validation(ValidationKind),
    /// The debug patch's `!!! Validation failed, eb=X !!!`.
    DebugValidationFailed,
}

/// How an eb start was obtained from a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tie {
    /// Printed from `eb->start` (`eb=`, `logical`, `want`, extent/chunk/node
    /// reporters, or the companion line of a pair).
    Start,
    /// A header-derived `block=` that looks like a real eb start.
    Header,
}

/// A number read from a tree block, named by what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `block=` of a tree-checker report: the header's bytenr.
    Block,
    /// The header's owner: `have` of owner mismatch, `root=` of most reporters.
    Owner,
    /// `have` of `bad tree block start`: the header's bytenr.
    Bytenr,
    /// The header's generation: `found` of `parent transid verify failed`,
    /// `have` of `bad generation`.
    Generation,
    /// The header's level: `found` of `level verify failed`, `level` of
    /// `bad tree block level`.
    Level,
    /// An item's field in a tree-checker reason (`have N expect M`).
    Item,
    /// A key of `bad key order` (the part that differs).
    Key,
}

impl Field {
    /// Stable name used in JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Block => "block",
            Field::Owner => "owner",
            Field::Bytenr => "bytenr",
            Field::Generation => "generation",
            Field::Level => "level",
            Field::Item => "item",
            Field::Key => "key",
        }
    }
}

/// A header-derived value, with how often it was printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderValue {
    /// Which field.
    pub field: Field,
    /// The value as printed.
    pub value: u64,
    /// Occurrences that printed it.
    pub count: u64,
}

/// A value that tells how the block was damaged: a kernel address, or one
/// bit away from what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// Which field.
    pub field: Field,
    /// The value as printed.
    pub found: u64,
    /// What it should have been, when known.
    pub expected: Option<u64>,
    /// The one bit in which `found` and `expected` differ.
    pub bit: Option<u32>,
    /// The kernel address range `found` falls in.
    pub region: Option<&'static str>,
    /// The line that printed it.
    pub at: Evidence,
}

/// The mirrors a corruption was read from (`mirror M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mirrors {
    mask: u64,
    more: bool,
}

impl Mirrors {
    fn insert(&mut self, m: u32) {
        if m < 64 {
            self.mask |= 1 << m;
        } else {
            self.more = true;
        }
    }

    /// The mirror numbers seen (below 64), ascending.
    pub(crate) fn list(&self) -> Vec<u32> {
        (0..64).filter(|m| self.mask & (1 << m) != 0).collect()
    }

    /// `Some(k)` when the mirrors seen are exactly 1 to k, k ≥ 2: on a
    /// failed read the kernel tries every copy in turn
    /// (`btrfs_read_extent_buffer()`), so these are all the copies there are.
    pub(crate) fn every(&self) -> Option<u32> {
        if self.more || self.mask & 1 != 0 || self.mask == 0 {
            return None;
        }
        let k = 63 - self.mask.leading_zeros();
        (k >= 2 && self.mask == ((1u64 << (k + 1)) - 2)).then_some(k)
    }
}

/// One grouped corruption report.
#[derive(Debug, Clone)]
pub struct Report {
    /// What it is.
    pub kind: ReportKind,
    /// The eb it is tied to, and how.
    pub eb: Option<(u64, Tie)>,
    /// Header-derived `block=` that was not trusted by construction (first occurrence).
    pub header_block: Option<u64>,
    /// Header-derived owner (`have` of owner mismatch; first occurrence).
    pub header_owner: Option<u64>,
    /// Header-derived bytenr (`have` of bad tree block start; first occurrence).
    pub header_have: Option<u64>,
    /// The lines.
    pub group: Group,
    /// The kernel device name (`sdc`, `dm-0`), when printed.
    pub device: Option<String>,
    /// When the block was checked, when the capture tells.
    pub phase: Option<Phase>,
    /// Whether its occurrences came as a report and its companion line.
    pub paired: bool,
    /// The mirrors it was read from.
    pub mirrors: Mirrors,
    /// Distinct header-derived values (block, owner, bytenr), at most
    /// [`MAX_VALUES`], with their counts.
    pub values: Vec<HeaderValue>,
    /// More distinct header-derived values than [`MAX_VALUES`].
    pub more_values: bool,
    /// Every occurrence printed the same values.
    pub same_content: bool,
    /// A kernel address printed in an on-disk field (first seen).
    pub pointer: Option<Suspect>,
    /// A value one bit away from the expected one (first seen).
    pub flip: Option<Suspect>,
    key: Key,
    next: u32,
    signature: u64,
}

/// A transaction abort or filesystem error, grouped by `(device, errno, site)`.
#[derive(Debug, Clone)]
pub struct AbortReport {
    /// The error number.
    pub errno: i64,
    /// `func:line` where the error was handled, when printed.
    pub site: Option<String>,
    /// The kernel device name, when printed.
    pub device: Option<String>,
    /// The lines: the `Transaction aborted` text and/or the `errno=` line.
    pub group: Group,
    key: AbortKey,
    next: u32,
}

/// Reports counted but not kept, because [`MAX_GROUPS`] distinct ones (or
/// the [`EVIDENCE_BUDGET`]) were reached: how many, and the first line.
#[derive(Debug, Clone, Default)]
pub struct NotKept {
    /// Occurrences counted, not grouped.
    pub count: u64,
    /// The first of them.
    pub first: Option<Evidence>,
}

/// All reports of a run.
#[derive(Debug, Default)]
pub struct Reports {
    /// Corruption and validation reports, in the order first seen.
    pub reports: Vec<Report>,
    /// Transaction aborts, in the order first seen.
    pub aborts: Vec<AbortReport>,
    /// Largest trusted eb start seen anywhere (for plausibility checks).
    pub max_start: u64,
    /// Tree-checker reports not kept.
    pub tree_checks_not_kept: NotKept,
    /// Validation reports not kept.
    pub validations_not_kept: NotKept,
    /// Aborts not kept.
    pub aborts_not_kept: NotKept,
    index: FxHashMap<u64, u32>,
    abort_index: FxHashMap<u64, u32>,
    pending: Vec<Pending>,
    pending_aborts: Vec<PendingAbort>,
    scratch: Line,
    budget: usize,
    finished: bool,
}

/// The largest plausible eb start (2^56): btrfs logical addresses on real
/// filesystems stay far below; header garbage often exceeds 2^62.
pub(crate) const MAX_PLAUSIBLE_START: u64 = 1 << 56;

/// Whether a header-derived number could be an eb start.
pub(crate) fn plausible_start(v: u64) -> bool {
    v != 0 && v % 4096 == 0 && v < MAX_PLAUSIBLE_START
}

/// Whether a header-derived number could be a tree owner id: small ids,
/// subvolume ids (256 and up, well below 2^48), or the negative special
/// trees (`-6` tree log, `-9` data reloc: within 256 of 2^64).
pub(crate) fn plausible_owner(v: u64) -> bool {
    !(1 << 48..u64::MAX - 255).contains(&v)
}

/// The kernel address range a value falls in, when it looks like an x86-64
/// kernel pointer: its top 16 bits set (the kernel half of a 4-level address
/// space), and not within 64 KiB of 2^64 (small negative numbers, error
/// pointers, the special tree ids).
///
/// Example: 0xffff888107a3c000 (18446612136728297472) is in the direct map.
pub(crate) fn kernel_region(v: u64) -> Option<&'static str> {
    if v >> 48 != 0xffff || v > u64::MAX - 0xffff {
        return None;
    }
    Some(match v {
        0xffff_8880_0000_0000..=0xffff_c87f_ffff_ffff => "the direct map",
        0xffff_c900_0000_0000..=0xffff_e8ff_ffff_ffff => "vmalloc space",
        0xffff_ea00_0000_0000..=0xffff_eaff_ffff_ffff => "the struct page array",
        0xffff_ffff_8000_0000..=0xffff_ffff_ffff_ffff => "kernel text or modules",
        _ => "the kernel half of the address space",
    })
}

/// The bit in which `a` and `b` differ, when they differ in exactly one.
pub(crate) fn one_bit(a: u64, b: u64) -> Option<u32> {
    let x = a ^ b;
    (x.count_ones() == 1).then(|| x.trailing_zeros())
}

/// An owned, reusable copy of one cited line.
#[derive(Debug, Clone, Default)]
struct Line {
    pos: Pos,
    lines: u32,
    role: &'static str,
    text: Vec<u8>,
    cpu: Option<u32>,
    pid: Option<u32>,
    comm: Comm,
    trace_ts: Option<TraceTs>,
    console_ns: Option<u64>,
    wall_s: Option<u64>,
    boot: u32,
}

impl Line {
    /// Copy `e` into this line's buffers (no allocation once they are large enough).
    fn set(&mut self, e: &Event<'_>, role: &'static str) {
        self.pos = e.pos;
        self.lines = e.lines;
        self.role = role;
        self.text.clear();
        self.text.extend_from_slice(e.text);
        self.cpu = e.cpu;
        self.pid = e.pid;
        self.comm = Comm::new(e.comm);
        self.trace_ts = e.trace_ts;
        self.console_ns = e.console_ns;
        self.wall_s = e.wall_s;
        self.boot = e.boot;
    }

    /// Copy `o` into this line's buffers.
    fn copy_from(&mut self, o: &Line) {
        self.pos = o.pos;
        self.lines = o.lines;
        self.role = o.role;
        self.text.clear();
        self.text.extend_from_slice(&o.text);
        self.cpu = o.cpu;
        self.pid = o.pid;
        self.comm = o.comm;
        self.trace_ts = o.trace_ts;
        self.console_ns = o.console_ns;
        self.wall_s = o.wall_s;
        self.boot = o.boot;
    }

    fn evidence(&self) -> Evidence {
        Evidence {
            pos: self.pos,
            lines: self.lines,
            role: self.role,
            text: self.text.as_slice().into(),
            cpu: self.cpu,
            pid: self.pid,
            comm: self.comm,
            trace_ts: self.trace_ts,
            console_ns: self.console_ns,
            boot: self.boot,
        }
    }

    fn at(&self) -> Occurrence {
        Occurrence {
            pos: self.pos,
            console_ns: self.console_ns,
            trace_ts: self.trace_ts,
            wall_s: self.wall_s,
            boot: self.boot,
        }
    }
}

/// Whether `n` more bytes of evidence fit in the budget, `used` so far.
fn fits(used: usize, n: usize) -> bool {
    used.saturating_add(n) <= EVIDENCE_BUDGET
}

/// No next group in a hash chain.
const NONE: u32 = u32::MAX;

impl Group {
    /// A group whose first occurrence is `lines`.
    fn new(lines: &[&Line]) -> Group {
        let at = lines[0].at();
        Group {
            first: lines[0].evidence(),
            repeats: lines[1..].iter().map(|l| l.evidence()).collect(),
            count: 1,
            first_at: at,
            last_at: at,
            boots: vec![at.boot],
            more_boots: false,
            omitted: 0,
            kept: 1,
            last: Vec::new(),
            last_len: 0,
            last_held: false,
        }
    }

    /// Another occurrence. Its lines are kept while the group has kept
    /// fewer than [`FIRST_KEPT`] occurrences; later, only the last one is
    /// held, in reused buffers. `used` counts the evidence bytes kept.
    fn add(&mut self, lines: &[&Line], used: &mut usize) {
        self.count += 1;
        let at = lines[0].at();
        self.last_at = at;
        self.note_boot(at.boot);
        let bytes: usize = lines.iter().map(|l| l.text.len()).sum();
        if self.kept < FIRST_KEPT && fits(*used, bytes) {
            *used += bytes;
            self.repeats.extend(lines.iter().map(|l| l.evidence()));
            self.kept += 1;
            return;
        }
        if self.last_held {
            self.omitted += self.last_len as u64;
            self.last_held = false;
        }
        let capacity = |v: &[Line]| v.iter().map(|l| l.text.capacity()).sum::<usize>();
        let before = capacity(&self.last);
        let need: usize = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let have = self.last.get(i).map_or(0, |x| x.text.capacity());
                l.text.len().saturating_sub(have)
            })
            .sum();
        if !fits(*used, need) {
            self.omitted += lines.len() as u64;
            return;
        }
        while self.last.len() < lines.len() {
            self.last.push(Line::default());
        }
        for (dst, src) in self.last.iter_mut().zip(lines) {
            dst.copy_from(src);
        }
        *used += capacity(&self.last).saturating_sub(before);
        self.last_len = lines.len();
        self.last_held = true;
    }

    fn note_boot(&mut self, boot: u32) {
        if let Err(i) = self.boots.binary_search(&boot) {
            if self.boots.len() < MAX_BOOTS {
                self.boots.insert(i, boot);
            } else {
                self.more_boots = true;
            }
        }
    }

    /// The input is read: the last occurrence held joins the evidence.
    fn finish(&mut self) {
        if self.last_held {
            self.repeats
                .extend(self.last[..self.last_len].iter().map(Line::evidence));
            self.last_held = false;
        }
        self.last = Vec::new();
    }

    /// Every line kept, in order.
    pub(crate) fn evidence(&self) -> impl Iterator<Item = &Evidence> {
        std::iter::once(&self.first).chain(&self.repeats)
    }
}

/// What a group of reports is about, besides its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Class {
    TreeCheck,
    Validation(ValidationKind),
    Debug,
}

/// The tree block of an identity: an address (trusted, or a header value
/// that looks like one), or header garbage as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Block {
    At(u64),
    Garbage(u64),
    Unknown,
}

/// What identifies one corruption (owned, for the groups kept).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    class: Class,
    device: Box<[u8]>,
    block: Block,
    reason: Box<[u8]>,
}

/// What identifies one corruption, borrowed from the line.
#[derive(Debug, Clone, Copy)]
struct KeyRef<'a> {
    class: Class,
    device: &'a [u8],
    block: Block,
    reason: &'a [u8],
}

impl KeyRef<'_> {
    fn hash64(&self) -> u64 {
        let mut h = FxHasher::default();
        self.class.hash(&mut h);
        self.device.hash(&mut h);
        self.block.hash(&mut h);
        self.reason.hash(&mut h);
        h.finish()
    }

    fn matches(&self, k: &Key) -> bool {
        self.class == k.class
            && self.block == k.block
            && *self.device == *k.device
            && *self.reason == *k.reason
    }

    fn owned(&self) -> Key {
        Key {
            class: self.class,
            device: self.device.into(),
            block: self.block,
            reason: self.reason.into(),
        }
    }
}

/// What identifies one abort: `(device, errno, func, line)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AbortKey {
    device: Box<[u8]>,
    errno: i64,
    func: Box<[u8]>,
    line: Option<u32>,
}

/// A value of one occurrence to look at for forensics.
#[derive(Debug, Clone, Copy)]
struct Check {
    field: Field,
    found: u64,
    expected: Option<u64>,
    /// A difference in a lower bit is as likely arithmetic (a generation
    /// one transaction ahead, a neighbouring tree) as a flip.
    min_bit: u32,
    /// Whether the field could hold a kernel address by mistake.
    pointer: bool,
}

/// One occurrence of a corruption, as its lines tell it.
#[derive(Debug, Clone, Copy)]
struct Obs<'a> {
    class: Class,
    device: &'a [u8],
    block: Block,
    tie: Option<(u64, Tie)>,
    reason: &'a [u8],
    node: bool,
    root: Option<u64>,
    phase: Option<Phase>,
    paired: bool,
    mirror: Option<u32>,
    header_block: Option<u64>,
    header_owner: Option<u64>,
    header_have: Option<u64>,
    checks: [Option<Check>; 4],
}

impl Obs<'_> {
    /// A digest of the values the occurrence printed (same content or not).
    fn signature(&self) -> u64 {
        let mut h = FxHasher::default();
        (self.header_block, self.header_owner, self.header_have).hash(&mut h);
        for c in self.checks.iter().flatten() {
            (c.found, c.expected).hash(&mut h);
        }
        h.finish()
    }
}

/// What a report waiting for its companion said.
#[derive(Debug, Clone, Copy, Default)]
struct Primary {
    /// A tree-checker report (else a write-time `bad generation`).
    tree: bool,
    node: bool,
    root: Option<u64>,
    block: Option<u64>,
    block_trusted: bool,
    eb: Option<u64>,
    owner: Option<(u64, Expect)>,
    found: Option<u64>,
}

impl Primary {
    fn tree(t: &TreeCheck<'_>) -> Primary {
        Primary {
            tree: true,
            node: t.node,
            root: t.root,
            block: t.block,
            block_trusted: t.block_trusted,
            eb: t.eb,
            owner: t.owner,
            found: None,
        }
    }

    fn generation(v: &Validation) -> Primary {
        Primary {
            tree: false,
            block: Some(v.eb),
            block_trusted: true,
            eb: Some(v.eb),
            found: v.found,
            ..Primary::default()
        }
    }

    /// The trusted eb start it names.
    fn trusted(&self) -> Option<u64> {
        self.eb.or(self.block.filter(|_| self.block_trusted))
    }
}

/// A report waiting for its companion line.
#[derive(Debug, Default)]
struct Pending {
    active: bool,
    input: u32,
    device: Vec<u8>,
    line: Line,
    reason: Vec<u8>,
    facts: Primary,
}

/// A `Transaction aborted (error N)` waiting for its `errno=` line.
#[derive(Debug, Default)]
struct PendingAbort {
    active: bool,
    input: u32,
    errno: i64,
    device: Vec<u8>,
    line: Line,
}

/// The device a btrfs message names: `dm-0` in `BTRFS critical (device
/// dm-0): ...` and `sda` in `BTRFS: error (device sda: state A) in ...`,
/// also as the payload of a tracefs `console:` event; empty when none is
/// printed.
fn device_of(msg: &[u8]) -> &[u8] {
    use crate::grammar::kernel::btrfs_msg;
    let m = btrfs_msg(msg).or_else(|| {
        let at = memchr::memmem::find(msg, b"BTRFS")?;
        btrfs_msg(&msg[at..])
    });
    let Some(m) = m else {
        return b"";
    };
    if let Some(d) = m.device {
        return d;
    }
    m.msg
        .strip_prefix(b"error ")
        .and_then(crate::grammar::kernel::device_state)
        .map_or(b"", |x| x.0)
}

/// A free slot for a line waiting for its companion: an inactive one, or a
/// new one while there are fewer than [`MAX_PENDING`]; `None` when all are
/// taken.
fn free_slot<T: Default>(slots: &mut Vec<T>, active: impl Fn(&T) -> bool) -> Option<usize> {
    if let Some(i) = slots.iter().position(|p| !active(p)) {
        return Some(i);
    }
    (slots.len() < MAX_PENDING).then(|| {
        slots.push(T::default());
        slots.len() - 1
    })
}

/// At most [`MAX_KEY_BYTES`] of an identity's text.
fn capped(b: &[u8]) -> &[u8] {
    &b[..b.len().min(MAX_KEY_BYTES)]
}

fn lossy(b: &[u8]) -> Option<String> {
    (!b.is_empty()).then(|| String::from_utf8_lossy(b).into_owned())
}

impl Reports {
    /// Note a trusted eb start seen in any event.
    pub(crate) fn saw_start(&mut self, eb: u64) {
        if eb < MAX_PLAUSIBLE_START && eb > self.max_start {
            self.max_start = eb;
        }
    }

    /// Feed one event; corruption reports and aborts are kept.
    pub(crate) fn event(&mut self, e: &Event<'_>) {
        match e.kind {
            EventKind::TreeCheck(t) => {
                let device = device_of(e.msg);
                self.close(e.pos.input, device);
                self.hold(e, device, Primary::tree(&t), t.reason, "tree-check");
            }
            EventKind::Validation(v) => {
                let device = device_of(e.msg);
                if v.kind.is_companion() {
                    if let Some(i) = self.pending_at(e.pos.input, device) {
                        if self.pairs(i, e, &v) {
                            self.pair(i, e, &v);
                            return;
                        }
                    }
                }
                self.close(e.pos.input, device);
                if v.kind == ValidationKind::WriteBadGeneration {
                    self.hold(e, device, Primary::generation(&v), b"", "validation");
                } else {
                    self.alone(e, device, &v);
                }
            }
            EventKind::ValidationFailed { eb } => {
                let mut line = std::mem::take(&mut self.scratch);
                line.set(e, "validation-failed");
                let obs = Obs {
                    class: Class::Debug,
                    device: b"",
                    block: Block::At(eb),
                    tie: Some((eb, Tie::Start)),
                    reason: b"",
                    node: false,
                    root: None,
                    phase: Some(Phase::Read),
                    paired: false,
                    mirror: None,
                    header_block: None,
                    header_owner: None,
                    header_have: None,
                    checks: [None; 4],
                };
                self.occur(&obs, &[&line]);
                self.scratch = line;
            }
            EventKind::Abort(a) => self.abort(e, a),
            _ => {}
        }
    }

    /// The report of `(input, device)` waiting for its companion.
    fn pending_at(&self, input: u32, device: &[u8]) -> Option<usize> {
        self.pending
            .iter()
            .position(|p| p.active && p.input == input && p.device == device)
    }

    /// Another report on `device`: the one waiting there has no companion.
    fn close(&mut self, input: u32, device: &[u8]) {
        if let Some(i) = self.pending_at(input, device) {
            self.resolve(i);
        }
    }

    /// Keep a report until the next report on its device says whether its
    /// companion follows.
    fn hold(
        &mut self,
        e: &Event<'_>,
        device: &[u8],
        facts: Primary,
        reason: &[u8],
        role: &'static str,
    ) {
        let i = match free_slot(&mut self.pending, |p| p.active) {
            Some(i) => i,
            None => {
                // Too many devices waiting: the oldest gets no companion.
                let oldest = (0..self.pending.len())
                    .min_by_key(|&k| self.pending[k].line.pos)
                    .unwrap_or(0);
                self.resolve(oldest);
                oldest
            }
        };
        let p = &mut self.pending[i];
        p.active = true;
        p.input = e.pos.input;
        p.device.clear();
        p.device.extend_from_slice(capped(device));
        p.line.set(e, role);
        p.reason.clear();
        p.reason.extend_from_slice(reason);
        p.facts = facts;
    }

    /// Whether the companion `v` (event `e`) belongs to the report waiting in slot `i`.
    fn pairs(&self, i: usize, e: &Event<'_>, v: &Validation) -> bool {
        let p = &self.pending[i];
        let near = p.line.boot == e.boot
            && e.pos.line >= p.line.pos.line
            && e.pos.line - p.line.pos.line <= MAX_PAIR_GAP;
        if !near || (!p.facts.tree && v.kind != ValidationKind::WriteTimeCorruption) {
            return false;
        }
        match (p.facts.trusted(), p.facts.block) {
            (Some(b), _) => b == v.eb,
            (None, Some(b)) if plausible_start(b) => b == v.eb,
            // header garbage: the companion's logical is the block
            _ => true,
        }
    }

    /// The report in slot `i` and its companion `v`: one occurrence.
    fn pair(&mut self, i: usize, e: &Event<'_>, v: &Validation) {
        let p = std::mem::take(&mut self.pending[i]);
        let mut line = std::mem::take(&mut self.scratch);
        line.set(e, "validation");
        let obs = primary_obs(&p, Some(v));
        self.occur(&obs, &[&p.line, &line]);
        self.scratch = line;
        self.pending[i] = Pending { active: false, ..p };
    }

    /// The report in slot `i` came without its companion.
    fn resolve(&mut self, i: usize) {
        let p = std::mem::take(&mut self.pending[i]);
        let obs = primary_obs(&p, None);
        self.occur(&obs, &[&p.line]);
        self.pending[i] = Pending { active: false, ..p };
    }

    /// A validation message that is no one's companion.
    fn alone(&mut self, e: &Event<'_>, device: &[u8], v: &Validation) {
        let mut line = std::mem::take(&mut self.scratch);
        line.set(e, "validation");
        let check = |field, found: Option<u64>, expected, min_bit, pointer| {
            found.map(|found| Check {
                field,
                found,
                expected,
                min_bit,
                pointer,
            })
        };
        let c = match v.kind {
            ValidationKind::BadTreeBlockStart => check(Field::Bytenr, v.have, Some(v.eb), 0, true),
            ValidationKind::ParentTransid => check(Field::Generation, v.found, v.wanted, 12, true),
            ValidationKind::LevelVerifyFailed => check(Field::Level, v.found, v.wanted, 3, false),
            ValidationKind::WriteBadGeneration => check(Field::Generation, v.found, None, 0, true),
            _ => None,
        };
        let obs = Obs {
            class: Class::Validation(v.kind),
            device,
            block: Block::At(v.eb),
            tie: Some((v.eb, Tie::Start)),
            reason: b"",
            node: false,
            root: None,
            phase: Some(v.kind.phase()),
            paired: false,
            mirror: v.mirror,
            header_block: None,
            header_owner: None,
            header_have: v.have,
            checks: [c, None, None, None],
        };
        self.occur(&obs, &[&line]);
        self.scratch = line;
    }

    /// One occurrence of a corruption: join its group, or start one.
    fn occur(&mut self, obs: &Obs<'_>, lines: &[&Line]) {
        let key = KeyRef {
            class: obs.class,
            device: capped(obs.device),
            block: obs.block,
            reason: capped(obs.reason),
        };
        let h = key.hash64();
        let mut at = self.index.get(&h).copied().unwrap_or(NONE);
        while at != NONE {
            let r = &self.reports[at as usize];
            if key.matches(&r.key) {
                self.update(at as usize, obs, lines);
                return;
            }
            at = r.next;
        }
        let bytes =
            lines.iter().map(|l| l.text.len()).sum::<usize>() + key.device.len() + obs.reason.len();
        if self.reports.len() >= MAX_GROUPS || !fits(self.budget, bytes) {
            let n = match obs.class {
                Class::TreeCheck => &mut self.tree_checks_not_kept,
                _ => &mut self.validations_not_kept,
            };
            n.count += 1;
            if n.first.is_none() {
                n.first = Some(lines[0].evidence());
            }
            return;
        }
        self.budget += bytes;
        let kind = match obs.class {
            Class::TreeCheck => ReportKind::TreeCheck {
                reason: String::from_utf8_lossy(obs.reason).into_owned(),
                node: obs.node,
                root: obs.root,
            },
            Class::Validation(k) => ReportKind::Validation(k),
            Class::Debug => ReportKind::DebugValidationFailed,
        };
        let idx = self.reports.len() as u32;
        let next = self.index.insert(h, idx).unwrap_or(NONE);
        self.reports.push(Report {
            kind,
            eb: None,
            header_block: obs.header_block,
            header_owner: obs.header_owner,
            header_have: obs.header_have,
            group: Group::new(lines),
            device: lossy(obs.device),
            phase: None,
            paired: false,
            mirrors: Mirrors::default(),
            values: Vec::new(),
            more_values: false,
            same_content: true,
            pointer: None,
            flip: None,
            key: key.owned(),
            next,
            signature: obs.signature(),
        });
        self.note(idx as usize, obs, lines[0]);
    }

    /// Another occurrence of group `i`.
    fn update(&mut self, i: usize, obs: &Obs<'_>, lines: &[&Line]) {
        let used = &mut self.budget;
        self.reports[i].group.add(lines, used);
        if obs.signature() != self.reports[i].signature {
            self.reports[i].same_content = false;
        }
        self.note(i, obs, lines[0]);
    }

    /// What every occurrence adds to its group: the eb, phase, mirror,
    /// header values and forensics.
    fn note(&mut self, i: usize, obs: &Obs<'_>, line: &Line) {
        if let Some((b, Tie::Start)) = obs.tie {
            self.saw_start(b);
        }
        let r = &mut self.reports[i];
        r.eb = match (r.eb, obs.tie) {
            (Some((b, Tie::Header)), Some((_, Tie::Start))) => Some((b, Tie::Start)),
            (None, t) => t,
            (e, _) => e,
        };
        if r.phase.is_none() {
            r.phase = obs.phase;
        }
        r.paired |= obs.paired;
        if let Some(m) = obs.mirror {
            r.mirrors.insert(m);
        }
        for (field, v) in [
            (Field::Block, obs.header_block),
            (Field::Owner, obs.header_owner),
            (Field::Bytenr, obs.header_have),
        ] {
            let Some(value) = v else { continue };
            match r
                .values
                .iter()
                .position(|x| x.field == field && x.value == value)
            {
                Some(k) => r.values[k].count += 1,
                None if r.values.len() < MAX_VALUES => r.values.push(HeaderValue {
                    field,
                    value,
                    count: 1,
                }),
                None => r.more_values = true,
            }
        }
        for c in obs.checks.iter().flatten() {
            if r.pointer.is_none() && c.pointer {
                if let Some(region) = kernel_region(c.found) {
                    r.pointer = Some(Suspect {
                        field: c.field,
                        found: c.found,
                        expected: None,
                        bit: None,
                        region: Some(region),
                        at: line.evidence(),
                    });
                }
            }
            if r.flip.is_none() && c.found != 0 {
                let bit = c.expected.and_then(|x| one_bit(c.found, x));
                if let Some(bit) = bit.filter(|&b| b >= c.min_bit) {
                    r.flip = Some(Suspect {
                        field: c.field,
                        found: c.found,
                        expected: c.expected,
                        bit: Some(bit),
                        region: None,
                        at: line.evidence(),
                    });
                }
            }
        }
    }

    /// A transaction abort: `Transaction aborted (error N)` waits for the
    /// `errno=` line of the same error that follows it.
    fn abort(&mut self, e: &Event<'_>, a: Abort<'_>) {
        let device = device_of(e.msg);
        let input = e.pos.input;
        let waiting = self
            .pending_aborts
            .iter()
            .position(|p| p.active && p.input == input);
        if a.aborted_text {
            if let Some(i) = waiting {
                self.abort_alone(i);
            }
            let i = match free_slot(&mut self.pending_aborts, |p| p.active) {
                Some(i) => i,
                None => {
                    self.abort_alone(0);
                    0
                }
            };
            let p = &mut self.pending_aborts[i];
            p.active = true;
            p.input = input;
            p.errno = a.errno;
            p.device.clear();
            p.device.extend_from_slice(capped(device));
            p.line.set(e, "abort");
            return;
        }
        let mut line = std::mem::take(&mut self.scratch);
        line.set(e, "fs-error");
        let key = |device: &[u8]| AbortKey {
            device: capped(device).into(),
            errno: a.errno,
            func: capped(a.func.unwrap_or_default()).into(),
            line: a.line,
        };
        if let Some(i) = waiting {
            let p = &self.pending_aborts[i];
            let near = p.line.boot == e.boot
                && e.pos.line >= p.line.pos.line
                && e.pos.line - p.line.pos.line < MAX_ABORT_GAP;
            if near && p.errno == a.errno {
                let p = std::mem::take(&mut self.pending_aborts[i]);
                self.abort_occur(device, a.errno, a.func, a.line, &[&p.line, &line], &key);
                self.pending_aborts[i] = PendingAbort { active: false, ..p };
                self.scratch = line;
                return;
            }
            self.abort_alone(i);
        }
        self.abort_occur(device, a.errno, a.func, a.line, &[&line], &key);
        self.scratch = line;
    }

    /// The abort text in slot `i` came without its `errno=` line.
    fn abort_alone(&mut self, i: usize) {
        let p = std::mem::take(&mut self.pending_aborts[i]);
        let key = |device: &[u8]| AbortKey {
            device: capped(device).into(),
            errno: p.errno,
            func: Box::default(),
            line: None,
        };
        self.abort_occur(&p.device, p.errno, None, None, &[&p.line], &key);
        self.pending_aborts[i] = PendingAbort { active: false, ..p };
    }

    /// One occurrence of an abort: join its group, or start one. The key
    /// is built only for a new group; the lookup hashes the parts.
    fn abort_occur(
        &mut self,
        device: &[u8],
        errno: i64,
        func: Option<&[u8]>,
        line: Option<u32>,
        lines: &[&Line],
        key: &dyn Fn(&[u8]) -> AbortKey,
    ) {
        let device = capped(device);
        let func = capped(func.unwrap_or_default());
        let mut h = FxHasher::default();
        (device, errno, func, line).hash(&mut h);
        let h = h.finish();
        let mut at = self.abort_index.get(&h).copied().unwrap_or(NONE);
        while at != NONE {
            let a = &self.aborts[at as usize];
            let k = &a.key;
            if *k.device == *device && k.errno == errno && *k.func == *func && k.line == line {
                let used = &mut self.budget;
                self.aborts[at as usize].group.add(lines, used);
                return;
            }
            at = a.next;
        }
        let bytes = lines.iter().map(|l| l.text.len()).sum::<usize>() + device.len() + func.len();
        if self.aborts.len() >= MAX_GROUPS || !fits(self.budget, bytes) {
            let n = &mut self.aborts_not_kept;
            n.count += 1;
            if n.first.is_none() {
                n.first = Some(lines[0].evidence());
            }
            return;
        }
        self.budget += bytes;
        let site = (!func.is_empty()).then(|| {
            format!(
                "{}:{}",
                String::from_utf8_lossy(func),
                line.map_or(String::new(), |l| l.to_string())
            )
        });
        let idx = self.aborts.len() as u32;
        let next = self.abort_index.insert(h, idx).unwrap_or(NONE);
        self.aborts.push(AbortReport {
            errno,
            site,
            device: lossy(device),
            group: Group::new(lines),
            key: key(device),
            next,
        });
    }

    /// The input is read: reports still waiting for a companion have none,
    /// and each group's last occurrence joins its evidence.
    pub(crate) fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let mut waiting: Vec<usize> = (0..self.pending.len())
            .filter(|&i| self.pending[i].active)
            .collect();
        waiting.sort_by_key(|&i| self.pending[i].line.pos);
        for i in waiting {
            self.resolve(i);
        }
        for i in 0..self.pending_aborts.len() {
            if self.pending_aborts[i].active {
                self.abort_alone(i);
            }
        }
        self.pending = Vec::new();
        self.pending_aborts = Vec::new();
        for r in &mut self.reports {
            r.group.finish();
        }
        for a in &mut self.aborts {
            a.group.finish();
        }
    }

    /// Reports tied to `eb`.
    pub(crate) fn for_eb(&self, eb: u64) -> impl Iterator<Item = &Report> {
        self.reports
            .iter()
            .filter(move |r| r.eb.is_some_and(|(b, _)| b == eb))
    }

    /// Evidence lines seen but not kept, over every group.
    pub(crate) fn evidence_omitted(&self) -> u64 {
        self.reports
            .iter()
            .map(|r| r.group.omitted)
            .chain(self.aborts.iter().map(|a| a.group.omitted))
            .sum()
    }
}

/// The occurrence told by a report (and its companion `v`, if any).
fn primary_obs<'a>(p: &'a Pending, v: Option<&Validation>) -> Obs<'a> {
    let f = &p.facts;
    let (block, tie) = match (f.trusted(), v) {
        (Some(b), _) => (Block::At(b), Some((b, Tie::Start))),
        (None, Some(v)) => (Block::At(v.eb), Some((v.eb, Tie::Start))),
        (None, None) => match f.block {
            Some(b) if plausible_start(b) => (Block::At(b), Some((b, Tie::Header))),
            Some(b) => (Block::Garbage(b), None),
            None => (Block::Unknown, None),
        },
    };
    let header_block = if f.block_trusted { None } else { f.block };
    let mut checks = [None; 4];
    if !f.tree {
        checks[0] = f.found.map(|found| Check {
            field: Field::Generation,
            found,
            expected: None,
            min_bit: 0,
            pointer: true,
        });
    }
    if let Some(b) = header_block {
        let expected = tie.filter(|t| t.1 == Tie::Start && t.0 != b).map(|t| t.0);
        checks[0] = Some(Check {
            field: Field::Block,
            found: b,
            expected,
            min_bit: 0,
            pointer: true,
        });
    }
    if let Some((have, expect)) = f.owner {
        checks[1] = Some(Check {
            field: Field::Owner,
            found: have,
            expected: match expect {
                Expect::Root(r) => Some(r),
                Expect::Range(..) => None,
            },
            min_bit: 8,
            pointer: true,
        });
    } else if let Some(r) = f.root.filter(|_| f.tree) {
        // `root=` of the other reporters is the header's owner.
        checks[1] = Some(Check {
            field: Field::Owner,
            found: r,
            expected: None,
            min_bit: 0,
            pointer: true,
        });
    }
    checks[2] = match reason_value(&p.reason) {
        Some(ReasonValue::HaveExpect { found, expected }) => Some(Check {
            field: Field::Item,
            found,
            expected,
            min_bit: 8,
            pointer: true,
        }),
        Some(ReasonValue::KeyOrder { before, after }) => key_check(before, after),
        None => None,
    };
    let class = if f.tree {
        Class::TreeCheck
    } else {
        Class::Validation(ValidationKind::WriteBadGeneration)
    };
    Obs {
        class,
        device: &p.device,
        block,
        tie,
        reason: &p.reason,
        node: f.node,
        root: f.root,
        phase: match v {
            Some(v) => Some(v.kind.phase()),
            None if !f.tree => Some(Phase::Write),
            None => None,
        },
        paired: v.is_some(),
        mirror: v.and_then(|v| v.mirror),
        header_block,
        header_owner: f.owner.map(|o| o.0),
        header_have: None,
        checks,
    }
}

/// Two keys out of order that differ in one part only: that part, to test
/// for one flipped bit.
fn key_check(before: BtrfsKey, after: BtrfsKey) -> Option<Check> {
    let parts = [
        (before.0, after.0),
        (before.1, after.1),
        (before.2, after.2),
    ];
    let mut differ = parts.iter().filter(|(a, b)| a != b);
    let (&(b, a), None) = (differ.next()?, differ.next()) else {
        return None;
    };
    Some(Check {
        field: Field::Key,
        found: a,
        expected: Some(b),
        min_bit: 0,
        pointer: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausibility() {
        assert!(plausible_start(15302115328));
        assert!(!plausible_start(12450248866117114644));
        assert!(!plausible_start(16438782945911875046));
        assert!(!plausible_start(0));
        assert!(plausible_owner(258));
        assert!(plausible_owner(18446744073709551610));
        assert!(!plausible_owner(13709377558419367261));
        assert!(!plausible_owner(1606127004340072680));
    }

    #[test]
    fn kernel_pointers() {
        assert_eq!(kernel_region(0xffff_8881_07a3_c000), Some("the direct map"));
        assert_eq!(kernel_region(0xffff_c900_0012_3000), Some("vmalloc space"));
        assert_eq!(
            kernel_region(0xffff_ea00_041e_8f00),
            Some("the struct page array")
        );
        assert_eq!(
            kernel_region(0xffff_ffff_c0a1_2345),
            Some("kernel text or modules")
        );
        // The special tree ids and small negative numbers are not pointers.
        assert_eq!(kernel_region(18446744073709551610), None);
        assert_eq!(kernel_region(18446744073709551360), None);
        assert_eq!(kernel_region(u64::MAX - 4095), None);
        // Header garbage of the 2024 race is not either.
        assert_eq!(kernel_region(13709377558419367261), None);
        assert_eq!(kernel_region(12450248866117114644), None);
    }

    #[test]
    fn bits() {
        assert_eq!(one_bit(1 << 63, 0), Some(63));
        assert_eq!(one_bit(256, 257), Some(0));
        assert_eq!(one_bit(5, 5), None);
        assert_eq!(one_bit(45277, 45276), Some(0));
        assert_eq!(one_bit(12746898, 12746888), None);
    }

    #[test]
    fn every_mirror() {
        let of = |ms: &[u32]| {
            let mut m = Mirrors::default();
            for &x in ms {
                m.insert(x);
            }
            m
        };
        assert_eq!(of(&[1, 2, 3]).every(), Some(3));
        assert_eq!(of(&[2, 1]).every(), Some(2));
        assert_eq!(of(&[1]).every(), None);
        assert_eq!(of(&[1, 3]).every(), None);
        assert_eq!(of(&[2, 3]).every(), None);
        assert_eq!(of(&[]).every(), None);
        assert_eq!(of(&[1, 2, 3]).list(), [1, 2, 3]);
    }

    #[test]
    fn devices() {
        assert_eq!(
            device_of(b"BTRFS critical (device dm-0): corrupt leaf: x"),
            b"dm-0"
        );
        assert_eq!(
            device_of(b"BTRFS error (device sdc: state A): Transaction aborted (error -5)"),
            b"sdc"
        );
        assert_eq!(
            device_of(b"BTRFS: error (device sda) in fn1:1: errno=-5 IO failure"),
            b"sda"
        );
        assert_eq!(
            device_of(b"  kworker/u16:3-322 [015] ..... 2649.295735: console: BTRFS error (device vda3): block=1 write time tree block corruption detected"),
            b"vda3"
        );
        assert_eq!(device_of(b"BTRFS: Transaction aborted (error -17)"), b"");
    }

    #[test]
    fn key_parts() {
        let c = key_check((256, 108, 4096), (256, 108, 0)).unwrap();
        assert_eq!((c.found, c.expected), (0, Some(4096)));
        assert!(key_check((256, 108, 4096), (255, 108, 0)).is_none());
        assert!(key_check((1, 2, 3), (1, 2, 3)).is_none());
    }
}
