//! The declared world: keys, events and lifecycles that a rules file
//! (TOML) describes, parsed, validated (errors say `file:line:column` and
//! what is wrong) and compiled for the recognisers (the recognisers (`event`)), the
//! declared tracker (`correlate`) and the lifecycle rules
//! (`rules`).
//!
//! The format, with every table and field, is documented in the manual
//! (`tracesift rules --help`, section RULES FILES) and in the README; the
//! built-in packs ([`packs`]) are written in it and are the examples.
//!
//! ```toml
//! [[key]]
//! name = "daddr"          # a key: what identifies an object
//! format = "hex"          # dec, hex, pointer, dev
//!
//! [[key]]
//! name = "xfs-buf"
//! parts = ["dev", "daddr"]  # a composite key
//!
//! [[event]]
//! name = "io-error"       # a kernel message, as a template with fields
//! message = "metadata I/O error in \"{func}\" at daddr {daddr} len {len}"
//!
//! [[lifecycle]]
//! name = "xfs-buf"        # the namespace of its rule ids
//! key = "xfs-buf"
//! open = ["xfs_buf_init"]  # trace event names (globs allowed) or declared events
//! close = ["xfs_buf_free"]
//! check = [{ check = "use-after-close", id = "use-after-free" }]
//! ```

pub mod packs;
pub mod template;

use std::collections::BTreeMap;
use std::ops::Range;

use regex::bytes::Regex;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use toml::Spanned;

/// At most this many field values travel with one declared event.
pub(crate) const MAX_SLOTS: usize = 8;

/// At most this many parts in a composite key.
pub(crate) const MAX_PARTS: usize = 3;

/// A rules file that cannot be used: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The file, as named on the command line (or `builtin:NAME`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub col: usize,
    /// What is wrong.
    pub msg: String,
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.msg)
    }
}

impl std::error::Error for SpecError {}

/// Whether `s` is a field or key name: letters, digits and `_`, not starting with a digit.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// Whether `s` may be a name of a key, event, lifecycle or check: a letter,
/// then letters, digits, `_`, `-` or `.`.
fn is_label(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic())
        && c.all(|x| x.is_ascii_alphanumeric() || matches!(x, '_' | '-' | '.'))
        && s.len() <= 64
}

/// How a key's values are written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Decimal (`15302115328`); `0x` hex is read too.
    Dec,
    /// `0x` hex (`0x851c80`); plain digits are read as decimal.
    Hex,
    /// A kernel pointer: hex digits with or without `0x` (`ffff888114e14400`).
    Pointer,
    /// A device number `major:minor` (`252:18`).
    Dev,
}

impl Format {
    fn from_name(s: &str) -> Option<Format> {
        Some(match s {
            "dec" => Format::Dec,
            "hex" => Format::Hex,
            "pointer" => Format::Pointer,
            "dev" => Format::Dev,
            _ => return None,
        })
    }

    /// Its name in rules files.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Dec => "dec",
            Format::Hex => "hex",
            Format::Pointer => "pointer",
            Format::Dev => "dev",
        }
    }

    /// Read a value as printed (`0x851c80`, `8723584`, `ffff888114e14400`, `252:18`).
    pub(crate) fn parse(self, v: &[u8]) -> Option<u64> {
        use crate::fields::dec_u64;
        match self {
            Format::Dev => {
                let c = memchr::memchr(b':', v)?;
                let (a, b) = (&v[..c], &v[c + 1..]);
                let num = |s: &[u8]| match dec_u64(s) {
                    Ok((r, n)) if r.is_empty() && s.len() <= 7 => Some(n),
                    _ => None,
                };
                let (major, minor) = (num(a)?, num(b)?);
                (major < 1 << 12 && minor < 1 << 20).then_some((major << 20) | minor)
            }
            Format::Pointer => {
                let h = v
                    .strip_prefix(b"0x")
                    .or_else(|| v.strip_prefix(b"0X"))
                    .unwrap_or(v);
                hex(h)
            }
            Format::Dec | Format::Hex => match v {
                [b'0', b'x' | b'X', h @ ..] => hex(h),
                _ => match dec_u64(v) {
                    Ok((b"", n)) => Some(n),
                    _ => None,
                },
            },
        }
    }

    /// Write a value the way users read it.
    pub(crate) fn display(self, v: u64) -> String {
        match self {
            Format::Dec => v.to_string(),
            Format::Hex => format!("{v:#x}"),
            Format::Pointer => format!("{v:016x}"),
            Format::Dev => format!("{}:{}", v >> 20, v & ((1 << 20) - 1)),
        }
    }

    /// The ways a value may be spelled in a capture, for a literal
    /// prefilter: decimal, hex in both cases, `M:m`.
    pub(crate) fn spellings(self, v: u64) -> Vec<Vec<u8>> {
        let mut out: Vec<String> = match self {
            Format::Dev => vec![self.display(v)],
            Format::Pointer | Format::Hex => {
                vec![format!("{v:x}"), format!("{v:X}"), v.to_string()]
            }
            Format::Dec => {
                let mut s = vec![v.to_string()];
                if v >= 0x100 {
                    s.push(format!("{v:x}"));
                    s.push(format!("{v:X}"));
                }
                s
            }
        };
        out.sort();
        out.dedup();
        out.into_iter().map(String::into_bytes).collect()
    }
}

/// Hex digits (at most 16) as a u64.
fn hex(h: &[u8]) -> Option<u64> {
    if h.is_empty() || h.len() > 16 {
        return None;
    }
    let mut n = 0u64;
    for &c in h {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        n = (n << 4) | u64::from(d);
    }
    Some(n)
}

/// A check's severity as a rules file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `error`.
    Error,
    /// `warning`.
    Warning,
    /// `info`.
    Info,
}

/// A key: what identifies an object.
#[derive(Debug, Clone)]
pub struct KeyDef {
    /// Its name (`daddr`, `xfs-buf`).
    pub name: String,
    /// The file that declares it (index in [`Rules::sources`]).
    pub source: usize,
    /// How its values are written.
    pub format: Format,
    /// The field names that carry it (its aliases).
    pub fields: Vec<Vec<u8>>,
    /// Any field with a value of its format carries it (`fields = ["*"]`).
    pub any: bool,
    /// For a composite key, its parts (indexes in [`Rules::keys`]).
    pub parts: Vec<usize>,
    /// For a range key (start + length), the fields carrying the length.
    pub len: Vec<Vec<u8>>,
    /// Values that mean "not known yet" (an object whose key is set later).
    pub unset: Vec<u64>,
    /// What it is, for `tracesift rules`.
    pub about: String,
}

impl KeyDef {
    /// Whether it is a range (start + length) that joins by overlap.
    pub(crate) fn is_range(&self) -> bool {
        !self.len.is_empty()
    }
}

/// Which trace events a declared event reads, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFilter {
    /// One name: `xfs_buf_hold`.
    Exact(Vec<u8>),
    /// `page_ref_mod*`.
    Prefix(Vec<u8>),
    /// `*_block_group`.
    Suffix(Vec<u8>),
    /// `*alloc*`.
    Contains(Vec<u8>),
    /// `*`.
    Any,
}

impl NameFilter {
    fn parse(s: &str) -> NameFilter {
        let b = s.as_bytes();
        match (b.first(), b.last()) {
            _ if b == b"*" => NameFilter::Any,
            (Some(b'*'), Some(b'*')) if b.len() >= 2 => {
                NameFilter::Contains(b[1..b.len() - 1].to_vec())
            }
            (Some(b'*'), _) => NameFilter::Suffix(b[1..].to_vec()),
            (_, Some(b'*')) => NameFilter::Prefix(b[..b.len() - 1].to_vec()),
            _ => NameFilter::Exact(b.to_vec()),
        }
    }

    /// Whether `name` passes.
    pub(crate) fn matches(&self, name: &[u8]) -> bool {
        match self {
            NameFilter::Exact(n) => name == &n[..],
            NameFilter::Prefix(p) => name.starts_with(p),
            NameFilter::Suffix(s) => name.ends_with(s),
            NameFilter::Contains(c) => memchr::memmem::find(name, c).is_some(),
            NameFilter::Any => true,
        }
    }
}

/// What lines a declared event reads.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Trace events (tracepoints, `trace_printk` lines) by name, with an
    /// optional pattern over the payload.
    Trace {
        /// The names.
        names: NameFilter,
        /// The pattern the payload must match, if any.
        pattern: Option<Regex>,
    },
    /// Kernel messages matching a pattern.
    Message {
        /// The pattern.
        pattern: Regex,
        /// A literal the message must contain (quick test).
        anchor: Vec<u8>,
    },
}

/// How a slot's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// A key value in this format.
    Key(Format),
    /// A signed count (`hold 2`, `count=-1`).
    Signed,
    /// Any value, compared for change only (a hash when not a number).
    Raw,
}

/// One field value a declared event carries to the tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Field names that fill it, in preference order.
    pub names: Vec<Vec<u8>>,
    /// Any field with a value of the format fills it.
    pub any: bool,
    /// How it is read.
    pub kind: SlotKind,
}

/// A declared event: lines described by a rules file.
#[derive(Debug, Clone)]
pub struct EventDef {
    /// Its name (a declared event's, or the trace name a lifecycle used).
    pub name: String,
    /// The file that declares it.
    pub source: usize,
    /// What lines it reads.
    pub matcher: Matcher,
    /// Field → key renames for this event (`bytenr` is `bg` here).
    pub aliases: Vec<(Vec<u8>, usize)>,
    /// The values it carries ([`MAX_SLOTS`] at most).
    pub slots: Vec<Slot>,
    /// Per slot, the pattern's capture group that fills it, if any.
    pub groups: Vec<Option<usize>>,
    /// Declared by a lifecycle naming a trace event, not by `[[event]]`.
    pub implicit: bool,
}

/// What an event does to a lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Starts a lifetime.
    Open,
    /// Happens within one.
    Use,
    /// Ends it.
    Close,
    /// Takes a reference (+1).
    Get,
    /// Drops a reference (−1).
    Put,
}

impl Role {
    /// Name used in messages and JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Open => "open",
            Role::Use => "use",
            Role::Close => "close",
            Role::Get => "get",
            Role::Put => "put",
        }
    }
}

/// How one event feeds one lifecycle: its role and which of its slots hold
/// the key parts, the length, the count and the watched fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The event (index in [`Rules::events`]).
    pub event: u16,
    /// Its role.
    pub role: Role,
    /// Slots of the key's parts (one for a plain key).
    pub parts: [u8; MAX_PARTS],
    /// How many parts.
    pub nparts: u8,
    /// Slot of a range key's length.
    pub len: Option<u8>,
    /// Slot of the count field.
    pub count: Option<u8>,
    /// Slot of the watched field of a `changes-while` check.
    pub watch: Option<u8>,
    /// Slot of the field a condition reads (when not the count).
    pub cond: Option<u8>,
}

/// A comparison in a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// Whether `a OP b`.
    pub(crate) fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// `count > 1`: a field compared to a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// The field (the lifecycle's count field, or another one).
    pub field: String,
    /// It is the count field.
    pub is_count: bool,
    /// The comparison.
    pub op: Op,
    /// The number.
    pub value: i64,
}

impl std::fmt::Display for Cond {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.field, self.op.text(), self.value)
    }
}

/// What a check looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// An event after the close, with no open between.
    UseAfterClose,
    /// An open while open.
    DoubleOpen,
    /// A close with no open before it.
    CloseWithoutOpen,
    /// Open at the end of the trace (or of its boot).
    OpenAtEnd,
    /// The count below zero.
    CountBelowZero,
    /// More than `max` of an event in one lifetime.
    AtMost,
    /// A field changes while a condition holds.
    ChangesWhile,
}

impl CheckKind {
    const ALL: [CheckKind; 7] = [
        CheckKind::UseAfterClose,
        CheckKind::DoubleOpen,
        CheckKind::CloseWithoutOpen,
        CheckKind::OpenAtEnd,
        CheckKind::CountBelowZero,
        CheckKind::AtMost,
        CheckKind::ChangesWhile,
    ];

    /// Its name in rules files.
    pub(crate) fn name(self) -> &'static str {
        match self {
            CheckKind::UseAfterClose => "use-after-close",
            CheckKind::DoubleOpen => "double-open",
            CheckKind::CloseWithoutOpen => "close-without-open",
            CheckKind::OpenAtEnd => "open-at-end",
            CheckKind::CountBelowZero => "count-below-zero",
            CheckKind::AtMost => "at-most",
            CheckKind::ChangesWhile => "changes-while",
        }
    }

    fn from_name(s: &str) -> Option<CheckKind> {
        CheckKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The severity when the file names none.
    pub(crate) fn default_level(self) -> Level {
        match self {
            CheckKind::UseAfterClose | CheckKind::CountBelowZero | CheckKind::AtMost => {
                Level::Error
            }
            _ => Level::Warning,
        }
    }

    /// The message when the file gives none (placeholders: see the manual).
    pub(crate) fn default_message(self) -> &'static str {
        match self {
            CheckKind::UseAfterClose => {
                "{event} on {key} {value} after its close ({close_event}, line {close_line}), with no open between"
            }
            CheckKind::DoubleOpen => {
                "{key} {value} opened again ({event}) while open since line {open_line}"
            }
            CheckKind::CloseWithoutOpen => {
                "{key} {value} closed ({event}) with no open before it in the trace"
            }
            CheckKind::OpenAtEnd => {
                "{key} {value} still open at the end of the trace (opened by {open_event}, line {open_line})"
            }
            CheckKind::CountBelowZero => "count of {key} {value} is {count} after {event}",
            CheckKind::AtMost => "{n} {event} in one lifetime of {key} {value} (at most {max})",
            CheckKind::ChangesWhile => {
                "{field} of {key} {value} changed from {old} to {new} while {cond}"
            }
        }
    }

    /// When it fires, for the manual.
    pub(crate) fn meaning(self) -> &'static str {
        match self {
            CheckKind::UseAfterClose => "an event on a key after its close, with no open between",
            CheckKind::DoubleOpen => "an open while the key is already open",
            CheckKind::CloseWithoutOpen => "a close with no open before it in the trace",
            CheckKind::OpenAtEnd => {
                "the key is still open at the end of the trace or of its boot (a leak, or the lock a hung task waits for)"
            }
            CheckKind::CountBelowZero => "the key's count goes below zero",
            CheckKind::AtMost => "more than MAX of an event in one lifetime",
            CheckKind::ChangesWhile => "a field changes value while a condition holds",
        }
    }
}

/// One check of a lifecycle: a rule with a namespaced id.
#[derive(Debug, Clone)]
pub struct Check {
    /// What it looks for.
    pub kind: CheckKind,
    /// The rule id, `namespace/id` (`xfs-buf/use-after-free`).
    pub id: String,
    /// Severity.
    pub level: Level,
    /// Message template.
    pub message: String,
    /// What to do about it.
    pub advice: String,
    /// When it fires (for listings and the manual).
    pub meaning: String,
    /// `at-most`: the event counted.
    pub event: Option<u16>,
    /// `at-most`: the bound.
    pub max: u32,
    /// `changes-while`: the watched field.
    pub field: Option<String>,
    /// `changes-while`: the condition.
    pub cond: Option<Cond>,
    /// `changes-while`: only changes to this value count (a raw value,
    /// compared as [`raw_value`] reads it).
    pub to: Option<u64>,
}

/// A lifecycle: which events open, use and close a key, and its checks.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    /// Its name.
    pub name: String,
    /// The namespace of its rule ids (its name unless given).
    pub namespace: String,
    /// The file that declares it.
    pub source: usize,
    /// The key (index in [`Rules::keys`]).
    pub key: usize,
    /// Its events.
    pub bindings: Vec<Binding>,
    /// The field carrying the count, if any.
    pub count: Option<String>,
    /// Its checks.
    pub checks: Vec<Check>,
    /// What it follows.
    pub about: String,
}

impl Lifecycle {}

/// One loaded rules file.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its name (`builtin:xfs-buf` or the path given).
    pub name: String,
    /// A built-in pack.
    pub builtin: bool,
    /// The `[pack]` description, if any.
    pub about: String,
}

/// Every loaded rules file, compiled.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// The files, in load order.
    pub sources: Vec<Source>,
    /// Every key.
    pub keys: Vec<KeyDef>,
    /// Every declared event (ids are indexes; `u16`).
    pub events: Vec<EventDef>,
    /// Every lifecycle.
    pub lifecycles: Vec<Lifecycle>,
    /// Per event, the (lifecycle, binding) pairs it feeds.
    pub by_event: Vec<Vec<(u16, u16)>>,
    /// Exact trace names → events, in load order.
    exact: FxHashMap<Vec<u8>, Vec<u16>>,
    /// Glob trace names → events.
    globs: Vec<u16>,
    /// Message events.
    messages: Vec<u16>,
    /// The anchors of every message event, when each has one: a message
    /// none of them is in is no declared event (one scan, not one per event).
    message_anchors: Option<aho_corasick::AhoCorasick>,
    /// Per first byte of a trace name: a bit per length (mod 64) of the
    /// exact names starting with it, and bit 64 when a prefix glob does (a
    /// quick rejection of most names).
    first: Vec<u128>,
    /// A glob that no first byte rejects (`*_x`, `*x*`, `*`) exists.
    open_globs: bool,
    /// Field name → the plain keys it carries (by the keys' `fields`).
    field_keys: FxHashMap<Vec<u8>, Vec<usize>>,
    /// The plain keys any field of their format carries.
    any_keys: Vec<usize>,
}

// ---------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    pack: Option<RawPack>,
    #[serde(default)]
    key: Vec<Spanned<RawKey>>,
    #[serde(default)]
    event: Vec<Spanned<RawEvent>>,
    #[serde(default)]
    lifecycle: Vec<Spanned<RawLifecycle>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    #[allow(dead_code)]
    name: Option<String>,
    #[serde(default)]
    about: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    name: Spanned<String>,
    format: Option<Spanned<String>>,
    fields: Option<Vec<Spanned<String>>>,
    parts: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    len: Vec<Spanned<String>>,
    #[serde(default)]
    unset: Vec<Spanned<String>>,
    #[serde(default)]
    about: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    name: Spanned<String>,
    trace: Option<Spanned<String>>,
    message: Option<Spanned<String>>,
    #[serde(rename = "match")]
    pattern: Option<Spanned<String>>,
    regex: Option<Spanned<String>>,
    #[serde(default)]
    alias: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    about: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLifecycle {
    name: Spanned<String>,
    namespace: Option<Spanned<String>>,
    key: Spanned<String>,
    #[serde(default)]
    open: Vec<Spanned<String>>,
    #[serde(default, rename = "use")]
    uses: Vec<Spanned<String>>,
    #[serde(default)]
    close: Vec<Spanned<String>>,
    #[serde(default)]
    get: Vec<Spanned<String>>,
    #[serde(default)]
    put: Vec<Spanned<String>>,
    count: Option<Spanned<String>>,
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    about: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    check: Spanned<String>,
    id: Option<Spanned<String>>,
    severity: Option<Spanned<String>>,
    message: Option<String>,
    advice: Option<String>,
    meaning: Option<String>,
    event: Option<Spanned<String>>,
    max: Option<u32>,
    field: Option<Spanned<String>>,
    #[serde(rename = "while")]
    when: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
}

// ---------------------------------------------------------------------------
// Loading.

/// A rules file to load: its name for messages, its text, whether it is a
/// built-in pack.
#[derive(Debug, Clone)]
pub struct Text {
    /// Name for messages.
    pub name: String,
    /// The TOML.
    pub text: String,
    /// A built-in pack.
    pub builtin: bool,
}

/// Errors of one file, with its text for positions.
struct Ctx<'t> {
    name: &'t str,
    text: &'t str,
}

impl Ctx<'_> {
    fn err(&self, at: usize, msg: impl Into<String>) -> SpecError {
        let at = at.min(self.text.len());
        let before = &self.text[..floor_char(self.text, at)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        SpecError {
            file: self.name.to_string(),
            line,
            col,
            msg: msg.into(),
        }
    }

    fn at<T>(&self, s: &Spanned<T>, msg: impl Into<String>) -> SpecError {
        self.err(s.span().start, msg)
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The place inside a string value's span where its byte `at` stands
/// (after the opening quote; exact for strings without escapes).
fn inside(span: &Range<usize>, at: usize) -> usize {
    span.start + 1 + at
}

impl Rules {
    /// No rules at all.
    pub(crate) fn empty() -> Rules {
        Rules {
            first: vec![0; 256],
            ..Rules::default()
        }
    }

    /// Whether any declared event exists (recognition has work to do).
    pub(crate) fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Load and compile `files`, in order (earlier files' events match first).
    pub(crate) fn load(files: &[Text]) -> Result<Rules, SpecError> {
        let mut r = Rules::empty();
        for (i, f) in files.iter().enumerate() {
            let cx = Ctx {
                name: &f.name,
                text: &f.text,
            };
            let raw: RawFile = toml::from_str(&f.text).map_err(|e| {
                let at = e.span().map_or(0, |s| s.start);
                cx.err(at, e.message().trim_end().replace('\n', "; "))
            })?;
            r.sources.push(Source {
                name: f.name.clone(),
                builtin: f.builtin,
                about: raw
                    .pack
                    .as_ref()
                    .map(|p| p.about.clone())
                    .unwrap_or_default(),
            });
            r.add_file(i, &cx, raw)?;
        }
        r.expand().map_err(|msg| SpecError {
            file: files.first().map(|f| f.name.clone()).unwrap_or_default(),
            line: 1,
            col: 1,
            msg,
        })?;
        r.index();
        Ok(r)
    }

    /// The built-in packs and then `files` (files first, so that their
    /// events win over the packs' for the same line).
    pub fn with_packs(files: &[Text], packs: bool) -> Result<Rules, SpecError> {
        let mut all: Vec<Text> = files.to_vec();
        if packs {
            all.extend(packs::all());
        }
        Rules::load(&all)
    }

    /// The keys named `name`, in load order.
    pub(crate) fn keys_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = (usize, &'a KeyDef)> {
        self.keys
            .iter()
            .enumerate()
            .filter(move |(_, k)| k.name == name)
    }

    /// Find a key by name for file `source`: its own first, then any other.
    fn key_for(&self, source: usize, name: &str) -> Option<usize> {
        let own = self
            .keys
            .iter()
            .position(|k| k.source == source && k.name == name);
        own.or_else(|| self.keys.iter().position(|k| k.name == name))
    }

    fn add_file(&mut self, source: usize, cx: &Ctx<'_>, raw: RawFile) -> Result<(), SpecError> {
        // Keys: plain ones first, then composites (which name plain ones).
        let mut composites = Vec::new();
        for k in &raw.key {
            let kr = k.get_ref();
            let name = kr.name.get_ref();
            if !is_label(name) {
                return Err(cx.at(&kr.name, format!("'{name}' is not a key name: a letter, then letters, digits, '-', '_' or '.'")));
            }
            if self
                .keys
                .iter()
                .any(|x| x.source == source && &x.name == name)
            {
                return Err(cx.at(&kr.name, format!("key '{name}' is declared twice")));
            }
            let format = match &kr.format {
                None => Format::Dec,
                Some(f) => Format::from_name(f.get_ref()).ok_or_else(|| {
                    cx.at(
                        f,
                        format!("unknown format '{}': dec, hex, pointer or dev", f.get_ref()),
                    )
                })?,
            };
            let mut fields = Vec::new();
            let mut any = false;
            for f in kr.fields.iter().flatten() {
                match f.get_ref().as_str() {
                    "*" => any = true,
                    n if is_ident(n) => fields.push(n.as_bytes().to_vec()),
                    n => return Err(cx.at(f, format!("'{n}' is not a field name (letters, digits, '_'; or '*' for any field)"))),
                }
            }
            if kr.fields.is_none() && kr.parts.is_none() {
                if is_ident(name) {
                    fields.push(name.as_bytes().to_vec());
                } else {
                    return Err(cx.at(&kr.name, format!("key '{name}' is not a field name: say which fields carry it with 'fields = [...]'")));
                }
            }
            let mut len = Vec::new();
            for f in &kr.len {
                if !is_ident(f.get_ref()) {
                    return Err(cx.at(f, format!("'{}' is not a field name", f.get_ref())));
                }
                len.push(f.get_ref().as_bytes().to_vec());
            }
            let mut unset = Vec::new();
            for u in &kr.unset {
                let v = format.parse(u.get_ref().as_bytes()).ok_or_else(|| {
                    cx.at(
                        u,
                        format!("'{}' is not a {} value", u.get_ref(), format.name()),
                    )
                })?;
                unset.push(v);
            }
            if kr.parts.is_some() && (kr.fields.is_some() || !len.is_empty()) {
                return Err(cx.at(
                    &kr.name,
                    "a composite key ('parts') has no 'fields' or 'len' of its own",
                ));
            }
            let idx = self.keys.len();
            self.keys.push(KeyDef {
                name: name.clone(),
                source,
                format,
                fields,
                any,
                parts: Vec::new(),
                len,
                unset,
                about: kr.about.clone(),
            });
            if let Some(parts) = &kr.parts {
                composites.push((idx, parts, &kr.name));
            }
        }
        for (idx, parts, at) in composites {
            if parts.len() < 2 || parts.len() > MAX_PARTS {
                return Err(cx.at(at, format!("a composite key has 2 to {MAX_PARTS} parts")));
            }
            let mut ix = Vec::new();
            for p in parts {
                let k = self
                    .key_for(source, p.get_ref())
                    .ok_or_else(|| cx.at(p, format!("no key named '{}'", p.get_ref())))?;
                if !self.keys[k].parts.is_empty() || self.keys[k].is_range() {
                    return Err(cx.at(
                        p,
                        format!(
                            "'{}' is composite or a range: parts must be plain keys",
                            p.get_ref()
                        ),
                    ));
                }
                ix.push(k);
            }
            self.keys[idx].parts = ix;
        }
        // Events.
        let mut names: FxHashMap<String, u16> = FxHashMap::default();
        for e in &raw.event {
            let er = e.get_ref();
            let name = er.name.get_ref();
            if !is_label(name) {
                return Err(cx.at(&er.name, format!("'{name}' is not an event name")));
            }
            if names.contains_key(name) {
                return Err(cx.at(&er.name, format!("event '{name}' is declared twice")));
            }
            let compile =
                |s: &Spanned<String>, tpl: bool| -> Result<(Regex, Vec<String>), SpecError> {
                    let (src, fields) = if tpl {
                        template::to_regex(s.get_ref())
                            .map_err(|te| cx.err(inside(&s.span(), te.at), te.msg))?
                    } else {
                        let names = regex_names(s.get_ref());
                        (format!("(?-u){}", s.get_ref()), names)
                    };
                    let re = template::compile(&src).map_err(|m| {
                        cx.at(
                            s,
                            format!(
                                "the pattern does not compile: {}",
                                m.lines().last().unwrap_or("")
                            ),
                        )
                    })?;
                    Ok((re, fields))
                };
            let matcher = match (&er.trace, &er.message) {
                (Some(_), Some(m)) => {
                    return Err(cx.at(m, "an event reads either 'trace' events or kernel 'message's, not both"))
                }
                (None, None) => {
                    return Err(cx.at(&er.name, format!("event '{name}' needs 'trace = \"NAME\"' (a trace event or trace_printk function, '*' globs) or 'message = \"TEMPLATE\"'")))
                }
                (Some(t), None) => {
                    let tn = t.get_ref();
                    if tn.is_empty() || inner_star(tn) {
                        return Err(cx.at(t, "a trace name may have '*' only at its start or end"));
                    }
                    let pattern = match (&er.pattern, &er.regex) {
                        (Some(_), Some(r)) => return Err(cx.at(r, "give 'match' or 'regex', not both")),
                        (Some(p), None) => Some(compile(p, true)?.0),
                        (None, Some(r)) => Some(compile(r, false)?.0),
                        (None, None) => None,
                    };
                    Matcher::Trace {
                        names: NameFilter::parse(tn),
                        pattern,
                    }
                }
                (None, Some(m)) => {
                    if er.pattern.is_some() {
                        return Err(cx.at(m, "a message event's template is its 'message'; 'match' is for trace events"));
                    }
                    let (pattern, anchor) = match &er.regex {
                        Some(r) => (compile(r, false)?.0, Vec::new()),
                        None => {
                            let anchor = template::anchor(m.get_ref()).into_bytes();
                            (compile(m, true)?.0, anchor)
                        }
                    };
                    Matcher::Message { pattern, anchor }
                }
            };
            let mut aliases = Vec::new();
            for (field, key) in &er.alias {
                if !is_ident(field) {
                    return Err(cx.at(key, format!("'{field}' is not a field name")));
                }
                let k = self
                    .key_for(source, key.get_ref())
                    .ok_or_else(|| cx.at(key, format!("no key named '{}'", key.get_ref())))?;
                aliases.push((field.as_bytes().to_vec(), k));
            }
            let id = self.push_event(EventDef {
                name: name.clone(),
                source,
                matcher,
                aliases,
                slots: Vec::new(),
                groups: Vec::new(),
                implicit: false,
            });
            let id = id.map_err(|m| cx.at(&er.name, m))?;
            names.insert(name.clone(), id);
        }
        // Lifecycles.
        for l in &raw.lifecycle {
            self.add_lifecycle(source, cx, l, &mut names)?;
        }
        Ok(())
    }

    fn push_event(&mut self, e: EventDef) -> Result<u16, String> {
        let id = u16::try_from(self.events.len())
            .map_err(|_| "too many declared events (65536)".to_string())?;
        self.events.push(e);
        self.by_event.push(Vec::new());
        Ok(id)
    }

    /// The event a lifecycle names: a declared event of its file, or a
    /// trace event name (made an implicit event of its file).
    fn event_ref(
        &mut self,
        source: usize,
        cx: &Ctx<'_>,
        s: &Spanned<String>,
        names: &mut FxHashMap<String, u16>,
    ) -> Result<u16, SpecError> {
        let n = s.get_ref();
        if let Some(&id) = names.get(n) {
            return Ok(id);
        }
        // One implicit event per trace name, whichever file names it.
        if let Some(id) = self.events.iter().position(|e| e.implicit && e.name == *n) {
            names.insert(n.clone(), id as u16);
            return Ok(id as u16);
        }
        let ok = !n.is_empty()
            && !inner_star(n)
            && n.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'*' | b'$'));
        if !ok {
            return Err(cx.at(
                s,
                format!("'{n}' is no declared event of this file, nor a trace event name"),
            ));
        }
        let id = self
            .push_event(EventDef {
                name: n.clone(),
                source,
                matcher: Matcher::Trace {
                    names: NameFilter::parse(n),
                    pattern: None,
                },
                aliases: Vec::new(),
                slots: Vec::new(),
                groups: Vec::new(),
                implicit: true,
            })
            .map_err(|m| cx.at(s, m))?;
        names.insert(n.clone(), id);
        Ok(id)
    }

    /// The slot of event `ev` that holds `want` (adding it if need be).
    fn slot(&mut self, ev: u16, want: Slot) -> Result<u8, String> {
        let e = &mut self.events[ev as usize];
        if let Some(i) = e.slots.iter().position(|s| *s == want) {
            return Ok(i as u8);
        }
        if e.slots.len() >= MAX_SLOTS {
            return Err(format!(
                "event '{}' would carry more than {MAX_SLOTS} field values",
                e.name
            ));
        }
        e.slots.push(want);
        Ok((e.slots.len() - 1) as u8)
    }

    /// The slot reading key `k` from event `ev`: the key's fields, the
    /// event's aliases for it, or a capture named after it.
    fn key_slot(&mut self, ev: u16, k: usize) -> Result<u8, String> {
        let key = &self.keys[k];
        let e = &self.events[ev as usize];
        let mut names: Vec<Vec<u8>> = vec![key.name.as_bytes().to_vec()];
        names.extend(e.aliases.iter().filter(|a| a.1 == k).map(|a| a.0.clone()));
        for f in &key.fields {
            if !names.contains(f) {
                names.push(f.clone());
            }
        }
        let slot = Slot {
            names,
            any: key.any,
            kind: SlotKind::Key(key.format),
        };
        self.slot(ev, slot)
    }

    fn field_slot(&mut self, ev: u16, field: &str, kind: SlotKind) -> Result<u8, String> {
        self.slot(
            ev,
            Slot {
                names: vec![field.as_bytes().to_vec()],
                any: false,
                kind,
            },
        )
    }

    fn add_lifecycle(
        &mut self,
        source: usize,
        cx: &Ctx<'_>,
        l: &Spanned<RawLifecycle>,
        names: &mut FxHashMap<String, u16>,
    ) -> Result<(), SpecError> {
        let lr = l.get_ref();
        let name = lr.name.get_ref();
        if !is_label(name) {
            return Err(cx.at(&lr.name, format!("'{name}' is not a lifecycle name")));
        }
        let namespace = lr.namespace.as_ref().unwrap_or(&lr.name);
        if !is_label(namespace.get_ref()) {
            return Err(cx.at(
                namespace,
                "a namespace is a letter, then letters, digits, '-', '_' or '.'",
            ));
        }
        let key = self
            .key_for(source, lr.key.get_ref())
            .ok_or_else(|| cx.at(&lr.key, format!("no key named '{}'", lr.key.get_ref())))?;
        let count = match &lr.count {
            Some(c) if !is_ident(c.get_ref()) => {
                return Err(cx.at(c, format!("'{}' is not a field name", c.get_ref())))
            }
            c => c.as_ref().map(|c| c.get_ref().clone()),
        };
        let lc = u16::try_from(self.lifecycles.len())
            .map_err(|_| cx.at(&lr.name, "too many lifecycles"))?;
        let mut bindings: Vec<Binding> = Vec::new();
        let lists = [
            (Role::Open, &lr.open),
            (Role::Use, &lr.uses),
            (Role::Close, &lr.close),
            (Role::Get, &lr.get),
            (Role::Put, &lr.put),
        ];
        // Parts of the key, as plain keys.
        let parts: Vec<usize> = if self.keys[key].parts.is_empty() {
            vec![key]
        } else {
            self.keys[key].parts.clone()
        };
        let range = self.keys[key].is_range();
        for (role, list) in lists {
            for s in list {
                let ev = self.event_ref(source, cx, s, names)?;
                if bindings.iter().any(|b| b.event == ev) {
                    return Err(cx.at(
                        s,
                        format!("'{}' has two roles in lifecycle '{name}'", s.get_ref()),
                    ));
                }
                let mut b = Binding {
                    event: ev,
                    role,
                    parts: [0; MAX_PARTS],
                    nparts: parts.len() as u8,
                    len: None,
                    count: None,
                    watch: None,
                    cond: None,
                };
                for (i, &p) in parts.iter().enumerate() {
                    b.parts[i] = self.key_slot(ev, p).map_err(|m| cx.at(s, m))?;
                }
                if range {
                    let lens = self.keys[key].len.clone();
                    let slot = Slot {
                        names: lens,
                        any: false,
                        kind: SlotKind::Key(Format::Dec),
                    };
                    b.len = Some(self.slot(ev, slot).map_err(|m| cx.at(s, m))?);
                }
                if let Some(c) = &count {
                    b.count = Some(
                        self.field_slot(ev, c, SlotKind::Signed)
                            .map_err(|m| cx.at(s, m))?,
                    );
                }
                bindings.push(b);
            }
        }
        if bindings.is_empty() {
            return Err(cx.at(
                &lr.name,
                format!("lifecycle '{name}' names no event (open, use, close, get, put)"),
            ));
        }
        let mut checks = Vec::new();
        for c in &lr.check {
            let cr = c.get_ref();
            let kind = CheckKind::from_name(cr.check.get_ref()).ok_or_else(|| {
                let all: Vec<&str> = CheckKind::ALL.iter().map(|k| k.name()).collect();
                cx.at(
                    &cr.check,
                    format!(
                        "unknown check '{}': one of {}",
                        cr.check.get_ref(),
                        all.join(", ")
                    ),
                )
            })?;
            let local = cr
                .id
                .as_ref()
                .map_or(kind.name().to_string(), |i| i.get_ref().clone());
            if let Some(i) = &cr.id {
                if !is_label(&local) {
                    return Err(cx.at(
                        i,
                        "a check id is a letter, then letters, digits, '-', '_' or '.'",
                    ));
                }
            }
            let id = format!("{}/{local}", namespace.get_ref());
            let dup = self
                .lifecycles
                .iter()
                .flat_map(|l| &l.checks)
                .chain(checks.iter())
                .any(|x: &Check| x.id == id);
            if dup {
                return Err(cx.at(
                    cr.id.as_ref().unwrap_or(&cr.check),
                    format!("rule '{id}' is declared twice (give the check another 'id')"),
                ));
            }
            let level = match &cr.severity {
                None => kind.default_level(),
                Some(s) => match s.get_ref().as_str() {
                    "error" => Level::Error,
                    "warning" => Level::Warning,
                    "info" => Level::Info,
                    o => {
                        return Err(
                            cx.at(s, format!("unknown severity '{o}': error, warning or info"))
                        )
                    }
                },
            };
            let roles = |r: Role| bindings.iter().any(|b| b.role == r);
            let needs = |ok: bool, what: &str| -> Result<(), SpecError> {
                if ok {
                    Ok(())
                } else {
                    Err(cx.at(&cr.check, format!("check '{}' needs {what}", kind.name())))
                }
            };
            let mut event = None;
            let mut field = None;
            let mut cond = None;
            let mut to = None;
            match kind {
                CheckKind::UseAfterClose | CheckKind::CloseWithoutOpen => {
                    needs(roles(Role::Close), "a 'close' event")?
                }
                CheckKind::DoubleOpen | CheckKind::OpenAtEnd => {
                    needs(roles(Role::Open), "an 'open' event")?
                }
                CheckKind::CountBelowZero => needs(
                    count.is_some() || roles(Role::Get) || roles(Role::Put),
                    "a 'count' field or 'get'/'put' events",
                )?,
                CheckKind::AtMost => {
                    let e = cr.event.as_ref().ok_or_else(|| {
                        cx.at(
                            &cr.check,
                            "check 'at-most' needs 'event' (the event counted) and 'max'",
                        )
                    })?;
                    let id = names
                        .get(e.get_ref())
                        .copied()
                        .filter(|id| bindings.iter().any(|b| b.event == *id));
                    event = Some(id.ok_or_else(|| {
                        cx.at(
                            e,
                            format!("'{}' is not an event of lifecycle '{name}'", e.get_ref()),
                        )
                    })?);
                    needs(cr.max.is_some(), "'max'")?;
                }
                CheckKind::ChangesWhile => {
                    let f = cr.field.as_ref().ok_or_else(|| {
                        cx.at(
                            &cr.check,
                            "check 'changes-while' needs 'field' (the field watched)",
                        )
                    })?;
                    if !is_ident(f.get_ref()) {
                        return Err(cx.at(f, format!("'{}' is not a field name", f.get_ref())));
                    }
                    field = Some(f.get_ref().clone());
                    if let Some(w) = &cr.when {
                        cond = Some(
                            parse_cond(w.get_ref(), count.as_deref()).map_err(|m| cx.at(w, m))?,
                        );
                    }
                    to = cr.to.as_ref().map(|t| raw_value(t.get_ref().as_bytes()));
                }
            }
            checks.push(Check {
                kind,
                id,
                level,
                message: cr
                    .message
                    .clone()
                    .unwrap_or_else(|| kind.default_message().to_string()),
                advice: cr.advice.clone().unwrap_or_default(),
                meaning: cr
                    .meaning
                    .clone()
                    .unwrap_or_else(|| kind.meaning().to_string()),
                event,
                max: cr.max.unwrap_or(0),
                field,
                cond,
                to,
            });
        }
        // Slots for watched fields and conditions.
        for b in &mut bindings {
            for c in &checks {
                if let Some(f) = &c.field {
                    b.watch = Some(
                        self.field_slot(b.event, f, SlotKind::Raw)
                            .map_err(|m| cx.at(&lr.name, m))?,
                    );
                }
                if let Some(cd) = c.cond.as_ref().filter(|cd| !cd.is_count) {
                    b.cond = Some(
                        self.field_slot(b.event, &cd.field, SlotKind::Signed)
                            .map_err(|m| cx.at(&lr.name, m))?,
                    );
                }
            }
        }
        for (i, b) in bindings.iter().enumerate() {
            self.by_event[b.event as usize].push((lc, i as u16));
        }
        self.lifecycles.push(Lifecycle {
            name: name.clone(),
            namespace: namespace.get_ref().clone(),
            source,
            key,
            bindings,
            count,
            checks,
            about: lr.about.clone(),
        });
        Ok(())
    }

    /// A lifecycle naming trace events by a glob (`xfs_buf_*`), or by an
    /// exact name that another event also reads, takes those other events
    /// too: a line is one event (the first that matches), so without this a
    /// lifecycle would miss the lines another lifecycle's event took.
    fn expand(&mut self) -> Result<(), String> {
        for lc in 0..self.lifecycles.len() {
            let bound: Vec<Binding> = self.lifecycles[lc].bindings.clone();
            let key = self.lifecycles[lc].key;
            for b in bound {
                let e = &self.events[b.event as usize];
                let Matcher::Trace { names: filter, .. } = &e.matcher else {
                    continue;
                };
                if !e.implicit {
                    continue;
                }
                let filter = filter.clone();
                let others: Vec<u16> = (0..self.events.len() as u16)
                    .filter(|&o| o != b.event)
                    .filter(|&o| match &self.events[o as usize].matcher {
                        Matcher::Trace {
                            names: NameFilter::Exact(n),
                            ..
                        } => filter.matches(n),
                        _ => false,
                    })
                    .collect();
                for o in others {
                    if self.lifecycles[lc].bindings.iter().any(|x| x.event == o) {
                        continue;
                    }
                    let nb = self.rebind(b, o, key)?;
                    let i = self.lifecycles[lc].bindings.len();
                    self.lifecycles[lc].bindings.push(nb);
                    self.by_event[o as usize].push((lc as u16, i as u16));
                }
            }
        }
        Ok(())
    }

    /// Binding `b` of a lifecycle keyed by `key`, for event `ev` instead.
    fn rebind(&mut self, b: Binding, ev: u16, key: usize) -> Result<Binding, String> {
        let parts: Vec<usize> = if self.keys[key].parts.is_empty() {
            vec![key]
        } else {
            self.keys[key].parts.clone()
        };
        let from = b.event as usize;
        let mut nb = Binding { event: ev, ..b };
        for (i, &p) in parts.iter().enumerate() {
            nb.parts[i] = self.key_slot(ev, p)?;
        }
        let mut copy = |s: Option<u8>| -> Result<Option<u8>, String> {
            match s {
                Some(s) => {
                    let slot = self.events[from].slots[s as usize].clone();
                    self.slot(ev, slot).map(Some)
                }
                None => Ok(None),
            }
        };
        nb.len = copy(b.len)?;
        nb.count = copy(b.count)?;
        nb.watch = copy(b.watch)?;
        nb.cond = copy(b.cond)?;
        Ok(nb)
    }

    /// Build the recognition index and each event's capture groups.
    fn index(&mut self) {
        self.field_keys.clear();
        self.any_keys.clear();
        for (k, def) in self.keys.iter().enumerate() {
            if !def.parts.is_empty() {
                continue;
            }
            for f in &def.fields {
                self.field_keys.entry(f.clone()).or_default().push(k);
            }
            if def.any {
                self.any_keys.push(k);
            }
        }
        self.first = vec![0; 256];
        for (i, e) in self.events.iter_mut().enumerate() {
            let id = i as u16;
            let pattern = match &e.matcher {
                Matcher::Trace { names, pattern } => {
                    match names {
                        NameFilter::Exact(n) => {
                            self.exact.entry(n.clone()).or_default().push(id);
                            if let Some(&c) = n.first() {
                                self.first[c as usize] |= 1u128 << (n.len() % 64);
                            }
                        }
                        NameFilter::Prefix(p) if !p.is_empty() => {
                            self.globs.push(id);
                            self.first[p[0] as usize] |= 1u128 << 64;
                        }
                        _ => {
                            self.globs.push(id);
                            self.open_globs = true;
                        }
                    }
                    pattern.as_ref()
                }
                Matcher::Message { pattern, .. } => {
                    self.messages.push(id);
                    Some(pattern)
                }
            };
            e.groups = e
                .slots
                .iter()
                .map(|s| {
                    let p = pattern?;
                    s.names.iter().find_map(|n| {
                        let n = std::str::from_utf8(n).ok()?;
                        p.capture_names().position(|c| c == Some(n))
                    })
                })
                .collect();
        }
        let anchors: Option<Vec<&[u8]>> = self
            .messages
            .iter()
            .map(|&id| match &self.events[id as usize].matcher {
                Matcher::Message { anchor, .. } if !anchor.is_empty() => Some(&anchor[..]),
                _ => None,
            })
            .collect();
        self.message_anchors = anchors.and_then(|a| aho_corasick::AhoCorasick::new(a).ok());
    }

    /// Whether a kernel message may be a declared event: one that holds
    /// no message event's anchor is rejected in one scan.
    #[inline]
    pub(crate) fn may_read_message(&self, msg: &[u8]) -> bool {
        !self.messages.is_empty()
            && self
                .message_anchors
                .as_ref()
                .is_none_or(|ac| ac.is_match(msg))
    }

    /// Whether a trace event called `name` may be a declared event: most
    /// names are rejected here by their first byte and length.
    #[inline]
    pub(crate) fn may_read_trace(&self, name: &[u8]) -> bool {
        self.open_globs
            || name.first().is_some_and(|&c| {
                let m = self.first.get(c as usize).copied().unwrap_or(0);
                m & (1u128 << 64 | 1u128 << (name.len() % 64)) != 0
            })
    }

    /// The plain keys a field called `name` carries (by the keys' `fields`).
    pub(crate) fn keys_of_field(&self, name: &[u8]) -> &[usize] {
        self.field_keys.get(name).map_or(&[], |v| &v[..])
    }

    /// The plain keys any field of their format carries (`fields = ["*"]`).
    pub(crate) fn any_field_keys(&self) -> &[usize] {
        &self.any_keys
    }

    /// The declared events with exactly this trace name, in load order.
    pub(crate) fn exact_events(&self, name: &[u8]) -> &[u16] {
        self.exact.get(name).map_or(&[], |v| &v[..])
    }

    /// The declared events whose trace name is a glob, in load order.
    pub(crate) fn glob_events(&self) -> &[u16] {
        &self.globs
    }

    /// The message events, in load order.
    pub(crate) fn message_events(&self) -> &[u16] {
        &self.messages
    }

    /// Every check, with its lifecycle.
    pub(crate) fn checks(&self) -> impl Iterator<Item = (&Lifecycle, &Check)> {
        self.lifecycles
            .iter()
            .flat_map(|l| l.checks.iter().map(move |c| (l, c)))
    }
}

/// A value of a key to follow (`timeline --key daddr=0x851c80`), read with
/// the key's format: the parts of a composite key separated by `,`
/// (`xfs-buf=252:18,0x851c80`), a range as `START` or `START+LEN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The key's name.
    pub name: String,
    /// The value as given.
    pub text: String,
    /// Every key of that name (several files may declare one).
    pub keys: Vec<usize>,
    /// The value's parts (one for a plain key).
    pub parts: Vec<u64>,
    /// A range's length, when given.
    pub len: Option<u64>,
}

impl Rules {
    /// Read `NAME=VALUE` against the declared keys.
    pub(crate) fn target(&self, spec: &str) -> Result<Target, String> {
        let Some((name, value)) = spec.split_once('=') else {
            return Err(format!("'{spec}' is not NAME=VALUE (e.g. daddr=0x851c80)"));
        };
        let (name, value) = (name.trim(), value.trim());
        let keys: Vec<usize> = self.keys_named(name).map(|(i, _)| i).collect();
        let Some(&first) = keys.first() else {
            let mut known: Vec<&str> = self.keys.iter().map(|k| k.name.as_str()).collect();
            known.sort_unstable();
            known.dedup();
            return Err(format!(
                "no key named '{name}' (known keys: {}; declare one in a rules file)",
                known.join(", ")
            ));
        };
        let k = &self.keys[first];
        let bad = |what: &str| format!("'{value}' is not a value of key '{name}' ({what})");
        if k.parts.is_empty() {
            let (start, len) = match value.split_once('+') {
                Some((a, b)) if k.is_range() => (a, Some(b)),
                _ => (value, None),
            };
            let v = k
                .format
                .parse(start.as_bytes())
                .ok_or_else(|| bad(k.format.name()))?;
            let len = match len {
                Some(l) => Some(
                    Format::Dec
                        .parse(l.as_bytes())
                        .ok_or_else(|| bad("START+LEN"))?,
                ),
                None => None,
            };
            return Ok(Target {
                name: name.into(),
                text: value.into(),
                keys,
                parts: vec![v],
                len,
            });
        }
        let given: Vec<&str> = value.split(',').map(str::trim).collect();
        if given.len() != k.parts.len() {
            let names: Vec<&str> = k
                .parts
                .iter()
                .map(|&p| self.keys[p].name.as_str())
                .collect();
            return Err(bad(&format!("give {} separated by ','", names.join(", "))));
        }
        let mut parts = Vec::new();
        for (&p, g) in k.parts.iter().zip(&given) {
            let f = self.keys[p].format;
            parts.push(f.parse(g.as_bytes()).ok_or_else(|| bad(f.name()))?);
        }
        Ok(Target {
            name: name.into(),
            text: value.into(),
            keys,
            parts,
            len: None,
        })
    }

    /// The ways `t`'s value may be spelled in a capture (for a prefilter).
    pub(crate) fn spellings(&self, t: &Target) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for &k in &t.keys {
            let def = &self.keys[k];
            if def.is_range() {
                // A range is found by overlap: every line naming one is read.
                out.extend(def.fields.iter().cloned());
            } else if def.parts.is_empty() {
                out.extend(def.format.spellings(t.parts[0]));
            } else if let (Some(&p), Some(&v)) = (def.parts.last(), t.parts.last()) {
                // The most specific part (daddr of (dev, daddr)).
                out.extend(self.keys[p].format.spellings(v));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Whether a glob has a `*` elsewhere than at its ends.
fn inner_star(s: &str) -> bool {
    s.len() > 2 && s[1..s.len() - 1].contains('*')
}

/// A field value compared for change (`changes-while`): a number as
/// printed (decimal, or hex when it has `0x` or eight digits or more, as
/// pointers do), else a hash of its bytes.
pub(crate) fn raw_value(v: &[u8]) -> u64 {
    let digits = v.iter().all(u8::is_ascii_digit);
    let parsed = if digits && v.len() < 8 {
        Format::Dec.parse(v)
    } else {
        Format::Pointer.parse(v)
    };
    parsed.unwrap_or_else(|| {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        v.hash(&mut h);
        h.finish() | 1 << 63
    })
}

/// The names of a regex's named groups.
fn regex_names(src: &str) -> Vec<String> {
    match template::compile(&format!("(?-u){src}")) {
        Ok(re) => re.capture_names().flatten().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    }
}

/// `count > 1`, `mapcount == 0`.
fn parse_cond(s: &str, count: Option<&str>) -> Result<Cond, String> {
    let ops = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];
    for (t, op) in ops {
        if let Some((a, b)) = s.split_once(t) {
            let field = a.trim();
            if !is_ident(field) {
                return Err(format!(
                    "'{field}' is not a field name (a condition is 'FIELD OP NUMBER')"
                ));
            }
            let value: i64 = b.trim().parse().map_err(|_| {
                format!(
                    "'{}' is not a number (a condition is 'FIELD OP NUMBER')",
                    b.trim()
                )
            })?;
            return Ok(Cond {
                field: field.to_string(),
                is_count: count == Some(field),
                op,
                value,
            });
        }
    }
    Err("a condition is 'FIELD OP NUMBER' with OP one of > >= < <= == !=".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(t: &str) -> Result<Rules, SpecError> {
        Rules::load(&[Text {
            name: "t.toml".into(),
            text: t.into(),
            builtin: false,
        }])
    }

    #[test]
    fn packs_load() {
        let r = Rules::with_packs(&[], true).unwrap();
        assert!(r.lifecycles.len() >= 4);
        assert!(r.checks().any(|(_, c)| c.id == "xfs-buf/held-at-end"));
    }

    #[test]
    fn errors_say_where() {
        let e = load("[[key]]\nname = \"a\"\nformat = \"octal\"\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 10), "{e}");
        assert!(e.msg.contains("unknown format 'octal'"), "{e}");
        let e = load(
            "[[key]]\nname = \"a\"\n[[lifecycle]]\nname = \"l\"\nkey = \"b\"\nopen = [\"x\"]\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.col), (5, 7), "{e}");
        assert!(e.msg.contains("no key named 'b'"));
        let e = load("[[event]]\nname = \"e\"\ntrace = \"f\"\nmatch = \"a {b\"\n").unwrap_err();
        assert_eq!((e.line, e.col), (4, 12), "{e}");
        let e = load("[[key]]\nnom = 1\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.msg.contains("nom"), "{e}");
        let e = load("[[key]\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        let e = load(
            "[[key]]\nname = \"k\"\n[[lifecycle]]\nname = \"l\"\nkey = \"k\"\nopen = [\"a\"]\ncheck = [{ check = \"use-after-close\" }]\n",
        )
        .unwrap_err();
        assert!(e.msg.contains("needs a 'close' event"), "{e}");
        assert_eq!(e.to_string().split(':').next(), Some("t.toml"));
    }

    #[test]
    fn formats() {
        assert_eq!(Format::Hex.parse(b"0x851c80"), Some(8723584));
        assert_eq!(Format::Hex.parse(b"8723584"), Some(8723584));
        assert_eq!(
            Format::Pointer.parse(b"ffff888114e14400"),
            Some(0xffff888114e14400)
        );
        assert_eq!(Format::Dev.parse(b"252:18"), Some((252 << 20) | 18));
        assert_eq!(Format::Dev.display((252 << 20) | 18), "252:18");
        assert_eq!(Format::Hex.display(8723584), "0x851c80");
        assert_eq!(
            Format::Pointer.display(0xffff888114e14400),
            "ffff888114e14400"
        );
        assert!(Format::Dec.spellings(8723584).contains(&b"851c80".to_vec()));
        assert_eq!(Format::Dec.parse(b"12x"), None);
    }

    #[test]
    fn conditions() {
        let c = parse_cond("count > 1", Some("count")).unwrap();
        assert!(c.is_count && c.op.holds(2, c.value) && !c.op.holds(1, c.value));
        assert!(parse_cond("count ~ 1", None).is_err());
        assert!(parse_cond("count > x", None).is_err());
    }
}
