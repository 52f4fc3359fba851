//! Stage 2b: paste repair, between physical lines and the grammars.
//!
//! Input: cleaned physical lines. Output: logical records, each with the
//! position of its first physical line and the original text for citations.
//! With repair off every physical line is one record, unchanged.
//!
//! # What is undone
//!
//! * Mail quoting (`> `, `>> `, `> > `), quoted-printable residue and
//!   non-breaking spaces, per line (`normalize`).
//! * Hard wraps: a line that carries no record start is joined to the record
//!   before it when that record is incomplete: cut for its grammar
//!   (`judge`), or at the input's wrap width with a continuation whose
//!   first word would not have fitted on it (`width`). Two lines that both
//!   parse as complete records are never joined.
//! * Records joined on one physical line (`[ 1.1] a [ 1.2] b`): split at each
//!   embedded printk time when the line itself begins with a record. The
//!   pieces share the line's position; the first counts the line
//!   (`lines: 1`), the others `lines: 0`.
//! * `dmesg`'s rendering of a multi-line record, whose later lines carry no
//!   prefix and are indented to the prefix width: each such line gets its
//!   record's prefix back, the way a console prints it (kernel-formats.md B.5, B.7).
//! * `...` elision lines are marked as gaps.
//!
//! # Cost
//!
//! The first lines of an input (at most 64 lines and 64 KiB) are held back
//! and counted for the wrap width before they are judged, so that the start of
//! a paste is read as well as the rest. After that a line goes out at once,
//! borrowed, unless it carries mail residue, or the input looks hard-wrapped
//! and the line may be cut for its grammar (a few `memchr` look-ups decide,
//! `judge::suspect`) or sits near the wrap width. Only an incomplete record
//! is copied, into one reusable buffer; a joined record is capped in bytes and
//! in lines. Besides, the first 64 bytes of the last record are kept, to give
//! a `dmesg` continuation line its prefix back.

mod judge;
pub(crate) use judge::{is_elision, next_record_start};
mod normalize;
mod width;

use crate::input::Pos;
use crate::prefix::{layer, peel};

/// Repair kinds applied to a record (bit set).
pub mod kinds {
    /// Hard-wrapped continuation lines joined back.
    pub(crate) const UNWRAP: u16 = 1 << 0;
    /// Mail quote markers (`> `, `>> `, `> > `) removed.
    pub(crate) const UNQUOTE: u16 = 1 << 1;
    /// Quoted-printable escapes (`=3D`) or soft line breaks undone.
    pub(crate) const QUOTED_PRINTABLE: u16 = 1 << 2;
    /// Non-breaking spaces turned into spaces.
    pub(crate) const NBSP: u16 = 1 << 3;
    /// One of several records that were joined on one physical line.
    pub const SPLIT: u16 = 1 << 4;
    /// A `dmesg`-style indented continuation line given its record's prefix back.
    pub(crate) const INDENT: u16 = 1 << 5;
    /// A `...` elision line: lines were left out of the paste here.
    pub(crate) const ELISION: u16 = 1 << 6;

    /// Names used in `stats`, in bit order.
    pub(crate) const NAMES: [&str; 7] = [
        "unwrapped",
        "unquoted",
        "quoted_printable",
        "nbsp",
        "split",
        "indent_joined",
        "elided",
    ];
}

/// A cleaned physical line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PhysLine<'a> {
    /// Its position.
    pub pos: Pos,
    /// Its text after console clean-up.
    pub text: &'a [u8],
    /// [`crate::input::clean_flags`].
    pub clean: u8,
    /// Whether it was cut at the line cap.
    pub truncated: bool,
}

/// A logical record out of the repair stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Logical<'a> {
    /// Position of the first physical line.
    pub pos: Pos,
    /// Physical lines covered.
    pub lines: u32,
    /// The record text.
    pub text: &'a [u8],
    /// The physical lines as read, `\n`-joined (for a record split off a
    /// joined line: its part of that line).
    pub original: &'a [u8],
    /// Clean-up flags of its lines, or-ed.
    pub clean: u8,
    /// Whether any of its lines was truncated.
    pub truncated: bool,
    /// [`kinds`] applied.
    pub repairs: u16,
}

impl<'a> PhysLine<'a> {
    /// This line alone as a record with `text` (its repaired text) and
    /// `repairs`; the line itself is the original.
    pub(crate) fn record(&self, text: &'a [u8], repairs: u16) -> Logical<'a> {
        Logical {
            pos: self.pos,
            lines: 1,
            text,
            original: self.text,
            clean: self.clean,
            truncated: self.truncated,
            repairs,
        }
    }
}

/// A joined record never grows beyond this many bytes (its original text,
/// which is never shorter than the repaired one)...
pub(crate) const MAX_JOINED_BYTES: usize = 64 * 1024;
/// ...or this many physical lines.
pub(crate) const MAX_JOINED_LINES: u32 = 128;

/// The first lines of an input are held back (at most this many, and
/// [`WARM_BYTES`]) to learn the wrap width before deciding about them.
const WARM_LINES: usize = 64;
const WARM_BYTES: usize = 64 * 1024;

/// A `dmesg` continuation line is indented by the prefix width plus at most
/// this much of its own.
const MAX_MSG_INDENT: usize = 8;

/// Blanks a wrapped continuation line may start with.
const MAX_WRAP_LEAD: usize = 3;

/// Bytes of the last record kept to re-prefix `dmesg` continuation lines.
const HEAD_BYTES: usize = 64;

/// Why a buffered record may take the next line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Open {
    /// It may not.
    #[default]
    Closed,
    /// Its last line ended in a quoted-printable soft line break.
    Soft,
    /// It is cut for its grammar.
    Cut {
        /// A trace context prefix with an empty body (takes a bare event body).
        empty_trace: bool,
    },
    /// Its last line sits at the wrap width.
    Wrap,
}

/// The record being built.
#[derive(Debug, Default, Clone)]
struct Pending {
    active: bool,
    pos: Pos,
    lines: u32,
    phys: u32,
    text: Vec<u8>,
    original: Vec<u8>,
    clean: u8,
    truncated: bool,
    repairs: u16,
    depth: u8,
    /// Display length of its last physical line.
    last_len: usize,
    open: Open,
}

/// The repair stage.
#[derive(Debug, Clone)]
pub(crate) struct Repairer {
    enabled: bool,
    max_bytes: usize,
    qp: normalize::Qp,
    width: width::Width,
    /// The current line after clean-up, when it had to be rewritten.
    line_buf: Vec<u8>,
    pend: Pending,
    /// The start of the last record sent out, for `dmesg` continuation lines.
    head: Vec<u8>,
    head_depth: u8,
    /// A re-prefixed continuation line.
    work: Vec<u8>,
    /// Split points of the current line.
    splits: Vec<usize>,
    /// The warm-up window: the first lines, held back until the width
    /// evidence in them is counted, then replayed.
    warm: Warmup,
}

/// Lines held back at the start of an input.
#[derive(Debug, Default, Clone)]
struct Warmup {
    done: bool,
    bytes: Vec<u8>,
    lines: Vec<(Pos, u8, bool, usize, usize)>,
    /// Quoted-printable state for looking at the held lines (the real one
    /// sees them again on replay).
    qp: normalize::Qp,
    buf: Vec<u8>,
    /// The previous held line was cut for its grammar: its display length,
    /// quote depth, and whether it is a trace context with an empty body.
    prev_cut: Option<(usize, u8, bool)>,
}

impl Repairer {
    /// A repairer; with `enabled == false` it passes lines through unchanged.
    pub(crate) fn new(enabled: bool) -> Repairer {
        Repairer::with_limit(enabled, MAX_JOINED_BYTES)
    }

    /// A repairer whose joined records stay below `max_bytes` (at most
    /// [`MAX_JOINED_BYTES`]; the reader passes its line cap).
    pub(crate) fn with_limit(enabled: bool, max_bytes: usize) -> Repairer {
        Repairer {
            enabled,
            max_bytes: max_bytes.clamp(1, MAX_JOINED_BYTES),
            qp: normalize::Qp::default(),
            width: width::Width::default(),
            line_buf: Vec::new(),
            pend: Pending::default(),
            head: Vec::new(),
            head_depth: 0,
            work: Vec::new(),
            splits: Vec::new(),
            warm: Warmup::default(),
        }
    }

    /// A copy of this repairer for the rest of the input when, from here
    /// on, it decides line by line: repair is off, or the warm-up is over,
    /// nothing is buffered, the input was found not wrapped for good and
    /// its quoted-printable verdict is final and negative. Its only state
    /// that crosses lines is the start of the last record, which matters
    /// only to a line that begins with a blank ([`Repairer::line_may_continue`]):
    /// such a copy can take any run of lines that does not begin with one.
    pub(crate) fn per_line(&self) -> Option<Repairer> {
        let settled = self.warm.done
            && !self.pend.active
            && self.width.settled()
            && self.qp.settled()
            && !self.qp.active();
        (!self.enabled || settled).then(|| Repairer {
            line_buf: Vec::new(),
            work: Vec::new(),
            splits: Vec::new(),
            pend: Pending::default(),
            warm: Warmup {
                done: true,
                ..Warmup::default()
            },
            ..self.clone()
        })
    }

    /// Whether a physical line that starts with the bytes `start` could
    /// depend on the lines before it in a per-line repairer
    /// ([`Repairer::per_line`]): after clean-up and unquoting it might begin
    /// with 8 blanks or more, which makes it a candidate `dmesg`
    /// continuation line ([`MAX_MSG_INDENT`]: a console prefix is wider
    /// than 8). Safe: fewer than 8 spaces and then an ASCII graphic
    /// character other than `>` (a tracefs line's right-aligned task name,
    /// `   kworker/u97:3-1019    [004] ...`, starts fresh). `start` may be
    /// cut short; too short to tell is "may continue".
    pub(crate) fn line_may_continue(start: &[u8]) -> bool {
        !Self::starts_fresh(start)
    }

    /// A line starting with the bytes `start` cannot continue the one
    /// before it ([`Repairer::line_may_continue`]): a batch of raw lines may
    /// start there.
    pub(crate) fn starts_fresh(start: &[u8]) -> bool {
        let lead = start.iter().take(8).take_while(|&&c| c == b' ').count();
        lead < 8
            && start
                .get(lead)
                .is_some_and(|&c| matches!(c, 0x21..=0x7e) && c != b'>')
    }

    /// Note a line that the caller sent on itself, unrepaired, as one
    /// record: a per-line repairer ([`Repairer::per_line`]) would have done
    /// just that with a line that holds no non-breaking space, no byte that
    /// clean-up removes, is not an elision, and either starts with `[` and
    /// holds no other `[` that starts a console record
    /// ([`next_record_start`]), or starts fresh ([`Repairer::starts_fresh`])
    /// with something other than `[` after its blanks (a tracefs line).
    /// Keeps the start of the last record, as sending it on does.
    pub(crate) fn passed_through(&mut self, text: &[u8]) {
        if self.enabled {
            remember(&mut self.head, text);
            self.head_depth = 0;
        }
    }

    /// Take one physical line; emit zero or more finished records.
    pub(crate) fn push(&mut self, line: PhysLine<'_>, out: &mut dyn FnMut(&Logical<'_>)) {
        if !self.enabled {
            out(&line.record(line.text, 0));
            return;
        }
        if !self.warm.done {
            if self.warm.lines.len() < WARM_LINES
                && self.warm.bytes.len() + line.text.len() <= WARM_BYTES
            {
                self.hold(&line);
                return;
            }
            self.replay(out);
        }
        self.process(&line, true, out);
    }

    /// A live input is silent for now: decide on what has arrived. The
    /// warm-up ends with the lines it holds (the wrap width is learnt from
    /// them alone), and a record waiting for its continuation goes out as
    /// it is. Lines that arrive later are repaired as usual.
    pub(crate) fn idle(&mut self, out: &mut dyn FnMut(&Logical<'_>)) {
        self.finish(out);
    }

    /// End of input: emit what is pending.
    pub(crate) fn finish(&mut self, out: &mut dyn FnMut(&Logical<'_>)) {
        if self.enabled && !self.warm.done {
            self.replay(out);
        }
        self.flush(out);
    }

    /// Hold a line of the warm-up window, counting its width evidence: its
    /// length, and a certain break when it continues a line cut for its grammar.
    fn hold(&mut self, line: &PhysLine<'_>) {
        let w = &mut self.warm;
        let start = w.bytes.len();
        w.bytes.extend_from_slice(line.text);
        w.lines
            .push((line.pos, line.clean, line.truncated, start, w.bytes.len()));
        let norm = normalize::normalize(line.text, &mut w.qp, &mut w.buf);
        let text: &[u8] = if norm.owned {
            &w.buf
        } else {
            &line.text[norm.qlen..]
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            w.prev_cut = None;
            return;
        }
        let dlen = width::display_len(line.text);
        self.width.observe(dlen, line.text);
        if let Some((last, depth, empty_trace)) = w.prev_cut {
            if depth == norm.depth && !line.truncated && judge::continues(text, empty_trace) {
                self.width.broken(last, width::first_word(text));
            }
        }
        w.prev_cut = None;
        if !line.truncated && judge::suspect(text) {
            let v = judge::judge(text);
            if v.cut {
                w.prev_cut = Some((dlen, norm.depth, v.empty_trace));
            }
        }
    }

    /// End the warm-up: send the held lines through, now that their width
    /// evidence is counted.
    fn replay(&mut self, out: &mut dyn FnMut(&Logical<'_>)) {
        self.warm.done = true;
        let bytes = std::mem::take(&mut self.warm.bytes);
        let lines = std::mem::take(&mut self.warm.lines);
        self.warm.buf = Vec::new();
        for &(pos, clean, truncated, a, b) in &lines {
            let line = PhysLine {
                pos,
                text: bytes.get(a..b).unwrap_or_default(),
                clean,
                truncated,
            };
            self.process(&line, false, out);
        }
    }

    /// Clean up one line and run it through the repair rules.
    fn process(&mut self, line: &PhysLine<'_>, observe: bool, out: &mut dyn FnMut(&Logical<'_>)) {
        let mut buf = std::mem::take(&mut self.line_buf);
        let norm = normalize::normalize(line.text, &mut self.qp, &mut buf);
        let text: &[u8] = if norm.owned {
            &buf
        } else {
            &line.text[norm.qlen..]
        };
        self.line(line, text, &norm, observe, out);
        self.line_buf = buf;
    }

    fn line(
        &mut self,
        line: &PhysLine<'_>,
        text: &[u8],
        norm: &normalize::Norm,
        observe: bool,
        out: &mut dyn FnMut(&Logical<'_>),
    ) {
        let blank = text.iter().all(u8::is_ascii_whitespace);
        let dlen = width::display_len(line.text);
        if observe && !blank {
            self.width.observe(dlen, line.text);
        }
        if self.pend.active {
            if self.joins(line, text, norm, blank) {
                self.append(line, text, norm, dlen);
                self.reassess(norm, out);
                return;
            }
            self.flush(out);
        }
        if blank {
            self.head.clear();
            out(&line.record(text, norm.repairs));
            return;
        }
        if norm.soft_break && !line.truncated && line.text.len() < self.max_bytes {
            self.begin(line, text, line.text, 1, norm, dlen, Open::Soft, 0);
            return;
        }
        if judge::is_elision(text) {
            self.head.clear();
            out(&line.record(text, norm.repairs | kinds::ELISION));
            return;
        }
        if let Some(pw) = self.dmesg_continuation(text, norm.depth) {
            self.work.clear();
            self.work.extend_from_slice(&self.head[..pw]);
            self.work.extend_from_slice(&text[pw..]);
            remember(&mut self.head, &self.work);
            out(&line.record(&self.work, norm.repairs | kinds::INDENT));
            return;
        }
        if self.split_points(text) {
            self.split(line, text, norm, dlen, out);
            return;
        }
        self.start(line, text, line.text, 1, norm, dlen, 0, out);
    }

    /// A new record from `text` (a whole line, or the last piece of a split
    /// one): send it on, or buffer it when it is incomplete.
    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        line: &PhysLine<'_>,
        text: &[u8],
        original: &[u8],
        lines: u32,
        norm: &normalize::Norm,
        dlen: usize,
        extra: u16,
        out: &mut dyn FnMut(&Logical<'_>),
    ) {
        // Only a hard-wrapped input has lines cut by a wrap: elsewhere a cut
        // record (an interleaved console, a truncated line) is left alone.
        if !line.truncated
            && self.width.wrapped()
            && (judge::suspect(text) || self.wrap_open(dlen, text))
        {
            let v = judge::judge(text);
            let open = if v.cut {
                Open::Cut {
                    empty_trace: v.empty_trace,
                }
            } else if v.record && self.wrap_open(dlen, text) {
                Open::Wrap
            } else {
                Open::Closed
            };
            if open != Open::Closed && original.len() < self.max_bytes {
                self.begin(line, text, original, lines, norm, dlen, open, extra);
                return;
            }
        }
        remember(&mut self.head, text);
        self.head_depth = norm.depth;
        out(&Logical {
            pos: line.pos,
            lines,
            text,
            original,
            clean: line.clean,
            truncated: line.truncated,
            repairs: norm.repairs | extra,
        });
    }

    /// Start buffering a record.
    #[allow(clippy::too_many_arguments)]
    fn begin(
        &mut self,
        line: &PhysLine<'_>,
        text: &[u8],
        original: &[u8],
        lines: u32,
        norm: &normalize::Norm,
        dlen: usize,
        open: Open,
        extra: u16,
    ) {
        let p = &mut self.pend;
        p.active = true;
        p.pos = line.pos;
        p.lines = lines;
        p.phys = 1;
        p.text.clear();
        p.text.extend_from_slice(text);
        p.original.clear();
        p.original.extend_from_slice(original);
        p.clean = line.clean;
        p.truncated = line.truncated;
        p.repairs = norm.repairs | extra;
        p.depth = norm.depth;
        p.last_len = dlen;
        p.open = open;
    }

    /// Whether `text` continues the buffered record.
    fn joins(
        &mut self,
        line: &PhysLine<'_>,
        text: &[u8],
        norm: &normalize::Norm,
        blank: bool,
    ) -> bool {
        let p = &self.pend;
        if blank
            || line.truncated
            || norm.depth != p.depth
            || p.phys >= MAX_JOINED_LINES
            || p.original.len() + 1 + line.text.len() > self.max_bytes
        {
            return false;
        }
        if p.open != Open::Soft && indented_to_prefix(&p.text, text) {
            return false; // a `dmesg` continuation line, not a wrap
        }
        match p.open {
            Open::Closed => false,
            Open::Soft => true,
            Open::Cut { empty_trace } => {
                if !judge::continues(text, empty_trace) {
                    return false;
                }
                let first = width::first_word(text);
                let last = p.last_len;
                self.width.broken(last, first);
                true
            }
            Open::Wrap => {
                let Some(w) = self.width.width() else {
                    return false;
                };
                // A client breaking inside a run of blanks leaves the rest
                // of the run at the start of the next line; more than a few
                // blanks is indentation, not a wrap.
                let lead = text
                    .iter()
                    .take(8)
                    .take_while(|c| matches!(c, b' ' | b'\t'))
                    .count();
                let last = p.last_len;
                let fits = last + 1 + width::first_word(text) > w || (lead > 0 && last + 12 >= w);
                lead <= MAX_WRAP_LEAD && fits && judge::continues(text, false)
            }
        }
    }

    fn append(&mut self, line: &PhysLine<'_>, text: &[u8], norm: &normalize::Norm, dlen: usize) {
        let p = &mut self.pend;
        if p.open == Open::Soft {
            p.repairs |= kinds::QUOTED_PRINTABLE;
        } else {
            let gap = p.text.last().is_some_and(u8::is_ascii_whitespace)
                || text.first().is_some_and(u8::is_ascii_whitespace);
            if !gap {
                p.text.push(b' ');
            }
            p.repairs |= kinds::UNWRAP;
        }
        p.text.extend_from_slice(text);
        p.original.push(b'\n');
        p.original.extend_from_slice(line.text);
        p.lines += 1;
        p.phys += 1;
        p.clean |= line.clean;
        p.truncated |= line.truncated;
        p.repairs |= norm.repairs;
        p.last_len = dlen;
    }

    /// After a join: is the record still open?
    fn reassess(&mut self, norm: &normalize::Norm, out: &mut dyn FnMut(&Logical<'_>)) {
        if self.pend.phys >= MAX_JOINED_LINES {
            self.flush(out);
            return;
        }
        if norm.soft_break {
            self.pend.open = Open::Soft;
            return;
        }
        let v = judge::judge(&self.pend.text);
        let last = self.pend.last_len;
        self.pend.open = if v.cut {
            Open::Cut {
                empty_trace: v.empty_trace,
            }
        } else if v.record && self.wrap_open_last(last) {
            Open::Wrap
        } else {
            Open::Closed
        };
        if self.pend.open == Open::Closed {
            self.flush(out);
        }
    }

    /// Send the buffered record on.
    fn flush(&mut self, out: &mut dyn FnMut(&Logical<'_>)) {
        if !self.pend.active {
            return;
        }
        self.pend.active = false;
        let p = &self.pend;
        remember(&mut self.head, &p.text);
        self.head_depth = p.depth;
        out(&Logical {
            pos: p.pos,
            lines: p.lines,
            text: &p.text,
            original: &p.original,
            clean: p.clean,
            truncated: p.truncated,
            repairs: p.repairs,
        });
    }

    /// A record whose line of display length `dlen` ends like `text` may have
    /// been broken by the mail client: the input looks wrapped and the line
    /// is at most the width and close to it (or ends with a label).
    fn wrap_open(&mut self, dlen: usize, text: &[u8]) -> bool {
        let Some(w) = self.width.width() else {
            return false;
        };
        dlen <= w + 1 && (dlen + 24 >= w || judge::ends_with_colon(text))
    }

    fn wrap_open_last(&mut self, last: usize) -> bool {
        let Some(w) = self.width.width() else {
            return false;
        };
        last <= w + 1 && last + 24 >= w
    }

    /// A `dmesg` continuation line of the last record: no prefix, indented
    /// by the width of that record's prefix (plus at most
    /// [`MAX_MSG_INDENT`] blanks of its own). Returns the prefix width.
    fn dmesg_continuation(&self, text: &[u8], depth: u8) -> Option<usize> {
        if self.head.is_empty() || self.head_depth != depth || text.first() != Some(&b' ') {
            return None;
        }
        let lead = text.iter().take_while(|&&c| c == b' ').count();
        if lead < 8 || lead >= text.len() {
            return None;
        }
        // A console prefix starts with `[`, `<`, a digit or a capital (after
        // a paste's indentation); an ftrace line with a task name does not.
        let first = self.head.iter().find(|&&c| c != b' ');
        if !first.is_some_and(|c| matches!(c, b'[' | b'<' | b'0'..=b'9' | b'A'..=b'Z' | b'k')) {
            return None;
        }
        let (pre, msg) = peel(&self.head);
        if !pre.is_kernel() || pre.layers & layer::GLUED != 0 {
            return None;
        }
        let pw = self.head.len() - msg.len();
        if !(pw..=pw + MAX_MSG_INDENT).contains(&lead) || msg.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        if !matches!(
            crate::grammar::classify(msg, &pre),
            crate::grammar::Body::Kernel(_)
        ) {
            return None;
        }
        if peel(text).0.layers != 0 {
            return None;
        }
        Some(pw)
    }

    /// Find where records joined on this line start (into `self.splits`).
    fn split_points(&mut self, text: &[u8]) -> bool {
        self.splits.clear();
        // Quick test: a second '[' on a line that starts with a printk time.
        let lead = text.iter().take(9).take_while(|&&c| c == b' ').count();
        if text.get(lead) != Some(&b'[') {
            return false;
        }
        let Some(next) = memchr::memchr(b'[', &text[lead + 1..]) else {
            return false;
        };
        let Some(first) = judge::next_record_start(text, lead + 1 + next) else {
            return false;
        };
        if !judge::begins_with_printk(text) {
            return false;
        }
        let mut seg = 0;
        let mut from = first;
        while let Some(p) = judge::next_record_start(text, from) {
            from = p + 1;
            // `console:` trace events carry a printk record as their payload.
            if judge::is_console_event(&text[seg..p]) {
                continue;
            }
            self.splits.push(p);
            seg = p;
            if self.splits.len() >= MAX_JOINED_LINES as usize {
                break;
            }
        }
        !self.splits.is_empty()
    }

    /// Send the records joined on one line, buffering the last if it is cut.
    fn split(
        &mut self,
        line: &PhysLine<'_>,
        text: &[u8],
        norm: &normalize::Norm,
        dlen: usize,
        out: &mut dyn FnMut(&Logical<'_>),
    ) {
        let splits = std::mem::take(&mut self.splits);
        // Original pieces are slices of the physical line when the text is
        // that line minus its quote markers; otherwise the whole line.
        let orig = |a: usize, b: usize| -> &[u8] {
            if norm.owned {
                line.text
            } else {
                let a = if a == 0 { 0 } else { norm.qlen + a };
                &line.text[a..norm.qlen + b]
            }
        };
        let mut a = 0;
        for (k, &b) in splits.iter().enumerate() {
            let end = a + trim_end_len(&text[a..b]);
            let t = &text[a..end];
            remember(&mut self.head, t);
            self.head_depth = norm.depth;
            out(&Logical {
                pos: line.pos,
                lines: u32::from(k == 0),
                text: t,
                original: orig(a, end),
                clean: line.clean,
                truncated: line.truncated,
                repairs: norm.repairs | kinds::SPLIT,
            });
            a = b;
        }
        let last = &text[a..];
        self.start(
            line,
            last,
            orig(a, text.len()),
            0,
            norm,
            dlen,
            kinds::SPLIT,
            out,
        );
        self.splits = splits;
    }
}

/// Whether `text` is indented by the width of `record`'s console prefix (plus
/// the line's own indentation), the way `dmesg` prints the later lines of a
/// multi-line record.
fn indented_to_prefix(record: &[u8], text: &[u8]) -> bool {
    if text.first() != Some(&b' ') {
        return false;
    }
    let lead = text.iter().take_while(|&&c| c == b' ').count();
    if lead < 8 {
        return false;
    }
    let (pre, msg) = peel(&record[..record.len().min(HEAD_BYTES)]);
    let pw = record.len().min(HEAD_BYTES) - msg.len();
    pre.is_kernel() && (pw..=pw + MAX_MSG_INDENT).contains(&lead)
}

/// Length of `t` without trailing blanks.
fn trim_end_len(t: &[u8]) -> usize {
    t.iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |k| k + 1)
}

/// Keep the start of a record for `dmesg` continuation lines.
fn remember(head: &mut Vec<u8>, text: &[u8]) {
    head.clear();
    head.extend_from_slice(&text[..text.len().min(HEAD_BYTES)]);
}

#[cfg(test)]
mod tests;
