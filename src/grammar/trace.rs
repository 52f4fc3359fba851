//! Grammars for one ftrace event line, in every text shape the kernel and
//! `trace-cmd` produce (kernel-formats.md §A).
//!
//! * [`normal_line`]: `trace`, `trace_pipe`, `trace-cmd report` (any flags
//!   column width, optional tgid, optional multi-file name prefix);
//! * [`latency_line`]: `ftrace_dump_on_oops` dumps and `options/latency-format`
//!   (8-character comm, CPU glued to the flags, `NNNNus` plus delay mark), and
//!   `trace-cmd report -l`;
//! * [`funcgraph_line`]: the function_graph tracer's columns;
//! * [`event_body`]: what follows the context prefix, split into the event
//!   name (or `trace_printk` caller symbol, with `+0x../0x.. [mod]`) and the
//!   payload, or a function-tracer `func <-parent`.
//!
//! Anchoring follows the spec: the pid is the last `-digits` before the CPU
//! field, so comms with spaces, dashes and digits parse (`iou-wrk-173727`,
//! `Web Content`, `kworker/u16:3`, `<...>`, `<idle>`).

use crate::fields::{
    dec_u32, dec_u64, digits_at, fail, fixed_field, secs_frac_ns, symbol_len, trim, trim_start, Pad,
};
use nom::IResult;

/// Which ftrace text shape a line has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TraceFormat {
    /// `comm-pid [cpu] flags ts: body` (tracefs `trace`, `trace_pipe`, trace-cmd).
    Normal,
    /// `comm8-pid cpuFLAGS tsus : body` (ftrace_dump, latency-format, trace-cmd -l).
    Latency,
    /// function_graph tracer columns.
    FunctionGraph,
    /// An event body with no context prefix (`context-info` off, or pasted bare).
    Bare,
}

impl TraceFormat {
    /// Name used in `stats` and JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TraceFormat::Normal => "ftrace",
            TraceFormat::Latency => "ftrace-latency",
            TraceFormat::FunctionGraph => "function_graph",
            TraceFormat::Bare => "ftrace-bare",
        }
    }
}

/// A trace timestamp as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceTs {
    /// A nanosecond clock printed as `secs.micros` or `secs.nanos`: value in ns.
    Ns(u64),
    /// Latency format `NNNNus`: µs since the buffer was reset, as ns.
    SinceReset(u64),
    /// A counter clock (`counter`, `uptime`, `x86-tsc`): raw value.
    Counter(u64),
}

impl TraceTs {
    /// Nanoseconds, for the clocks that count them.
    pub(crate) fn ns(self) -> Option<u64> {
        match self {
            TraceTs::Ns(n) | TraceTs::SinceReset(n) => Some(n),
            TraceTs::Counter(_) => None,
        }
    }

    /// The raw value (ns or counter ticks), for ordering within one clock.
    pub(crate) fn raw(self) -> u64 {
        match self {
            TraceTs::Ns(n) | TraceTs::SinceReset(n) | TraceTs::Counter(n) => n,
        }
    }
}

/// What kind of body follows the context prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind<'a> {
    /// `name: payload` (trace events, `trace_printk`, kprobes).
    Event,
    /// Function tracer `func <-parent` (parent may be empty when not printed).
    Function {
        /// The caller, `hrtimer_nanosleep` in `do_nanosleep <-hrtimer_nanosleep`.
        parent: &'a [u8],
    },
    /// function_graph content (`func() {`, `func();`, `}`, `/* msg */`).
    Graph,
    /// Anything else after a valid context prefix.
    Other,
}

/// An event line's body: event name or caller symbol, and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventBody<'a> {
    /// Event name or `trace_printk` caller symbol (`end_bbio_meta_read`).
    pub name: &'a [u8],
    /// `+0x1a4/0x2c0 [btrfs]` or ` <ffffffffc0a1b2c4>` after the symbol, if printed.
    pub sym_offset: Option<&'a [u8]>,
    /// The text after `name: ` (leading padding removed).
    pub payload: &'a [u8],
    /// The body's shape.
    pub kind: BodyKind<'a>,
}

/// One ftrace event line, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceLine<'a> {
    /// The text shape.
    pub format: TraceFormat,
    /// `trace-cmd report` multi-file name prefix (`trace1.dat`).
    pub file: Option<&'a [u8]>,
    /// Task name as printed (trimmed; 8 characters in latency format).
    pub comm: &'a [u8],
    /// Task pid.
    pub pid: Option<u32>,
    /// Thread-group id from the `record-tgid` column (`None` for `(-------)`).
    pub tgid: Option<u32>,
    /// CPU number.
    pub cpu: Option<u32>,
    /// The irq/preempt flag column (`d..1.`), absent with `irq-info` off.
    pub flags: Option<&'a [u8]>,
    /// Trace timestamp.
    pub ts: Option<TraceTs>,
    /// Latency-format delay mark (`!` in `12us!: `), `None` for a space.
    pub mark: Option<u8>,
    /// Event name and payload.
    pub body: EventBody<'a>,
}

/// `comm-pid`: find the `-digits` that ends the task field.
///
/// Example: `  iou-wrk-173727-173730  ` → comm `iou-wrk-173727`, pid 173730.
/// `tail_ok` checks what follows the pid and returns the rest if it fits,
/// so a `-digits` inside the comm is skipped.
fn task_pid<'a, T>(
    i: &'a [u8],
    max_dash: usize,
    mut tail_ok: impl FnMut(&'a [u8]) -> Option<T>,
) -> Option<(&'a [u8], u32, T)> {
    let mut from = 0;
    let lim = i.len().min(max_dash + 1);
    while let Some(p) = memchr::memchr(b'-', &i[from..lim]) {
        let dash = from + p;
        if let Ok((rest, pid)) = dec_u32(&i[dash + 1..]) {
            if let Some(t) = tail_ok(rest) {
                return Some((trim(&i[..dash]), pid, t));
            }
        }
        from = dash + 1;
    }
    None
}

/// Latency / `ftrace_dump` line: `"%8.8s-%-7d %3d"` + flags + `" %4lldus%c: "`.
///
/// Examples (kernel-formats.md A.6, A.7):
/// `iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384`,
/// `  <idle>-0         0d.h1.    5us+: ...`,
/// `      ls-4734    2d..1. 106439.675570920: bprint: ...` (`trace-cmd report -l -t`).
pub fn latency_line(i: &[u8]) -> IResult<&[u8], TraceLine<'_>> {
    // The comm field is `%8.8s`: in a line as ftrace printed it, the dash
    // before the pid is its ninth byte. Try that first.
    if i.get(COMM_WIDTH) == Some(&b'-') {
        if let Some(line) = latency_after_dash(i, COMM_WIDTH) {
            return Ok((&[], line));
        }
    }
    let t = trim_start(i);
    // Otherwise (indented or shifted) the pid's dash sits at most 8 + 16
    // bytes in (8-character comm, indentation).
    let lim = t.len().min(25);
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'-', &t[from..lim]) {
        let dash = from + p;
        if let Some(line) = latency_after_dash(t, dash) {
            return Ok((&[], line));
        }
        from = dash + 1;
    }
    fail(i)
}

/// Width of the latency format's comm field (`%8.8s`).
const COMM_WIDTH: usize = 8;

#[inline(always)]
fn spaces_at(t: &[u8], mut k: usize) -> usize {
    while k < t.len() && (t[k] == b' ' || t[k] == b'\t') {
        k += 1;
    }
    k
}

/// A latency line whose comm, pid and CPU fields have exactly ftrace's
/// widths (`"%8.8s-%-7d %3d"`), read at fixed positions; the rest as
/// [`latency_line`] reads it. Where this answers, `latency_line` gives the
/// same line; where it does not, `latency_line` may still read it.
///
/// Example: `kworker/-43417    45..... 680529498us : end_bbio_meta_read: read done, eb=15107391488 ...`.
#[inline]
pub(crate) fn latency_fixed(t: &[u8]) -> Option<TraceLine<'_>> {
    if t.get(COMM_WIDTH) != Some(&b'-') {
        return None;
    }
    let (pid, cpu, k) = fixed_ids(t, COMM_WIDTH)?;
    latency_rest(t, COMM_WIDTH, pid, cpu, k)
}

/// `%-7d %3d` after the dash, at fixed positions: the pid, the CPU and the
/// index after the CPU field, which must not be followed by a digit (the
/// CPU field would be wider; the scan in [`latency_after_dash`] reads that).
#[inline(always)]
fn fixed_ids(t: &[u8], dash: usize) -> Option<(u32, u32, usize)> {
    let pid = fixed_field::<7>(t, dash + 1, Pad::Right)?;
    let cpu = fixed_field::<3>(t, dash + 9, Pad::Left)?;
    let k = dash + 12;
    let ok = t.get(dash + 8) == Some(&b' ') && t.get(k).is_some_and(|c| !c.is_ascii_digit());
    // Seven and three digits fit in a u32.
    ok.then_some((pid as u32, cpu as u32, k))
}

/// The rest of a latency line after the dash before the pid:
/// `pid<spaces>CPU<flags><spaces>TIMESTAMP<sep>: body`, scanned in one pass.
fn latency_after_dash(t: &[u8], dash: usize) -> Option<TraceLine<'_>> {
    if let Some((pid, cpu, k)) = fixed_ids(t, dash) {
        return latency_rest(t, dash, pid, cpu, k);
    }
    let (pid, k) = digits_at(t, dash + 1)?;
    let pid = u32::try_from(pid).ok()?;
    let k2 = spaces_at(t, k);
    if k2 == k {
        return None;
    }
    let (cpu, k) = digits_at(t, k2)?;
    let cpu = u32::try_from(cpu).ok()?;
    latency_rest(t, dash, pid, cpu, k)
}

/// A latency line from the flags on (`t[k..]`), the pid and CPU read.
#[inline(always)]
fn latency_rest(t: &[u8], dash: usize, pid: u32, cpu: u32, k: usize) -> Option<TraceLine<'_>> {
    let n = t.len();
    // Flags: 4 to 8 non-blank characters glued to the CPU, the first not a digit.
    if k >= n || t[k].is_ascii_digit() {
        return None;
    }
    let lim = n.min(k + 9);
    let mut f = k;
    while f < lim && t[f] != b' ' && t[f] != b'\t' {
        f += 1;
    }
    if !(4..=8).contains(&(f - k)) {
        return None;
    }
    let flags = &t[k..f];
    let k = spaces_at(t, f);
    if k == f {
        return None;
    }
    // Timestamp: integer part once, then `.frac:`, `us<mark>:` or `:`.
    let (int, mut k) = digits_at(t, k)?;
    let (ts, mark) = match t.get(k) {
        Some(b'.') => {
            let (ns, end) = crate::fields::fraction_ns(t, k + 1, usize::MAX)?;
            k = end;
            let total = int.checked_mul(1_000_000_000)?.checked_add(ns)?;
            if t.get(k) != Some(&b':') {
                return None;
            }
            k += 1;
            (TraceTs::Ns(total), None)
        }
        Some(b'u') if t.get(k + 1) == Some(&b's') => {
            k += 2;
            let mark = match t.get(k)? {
                b':' => None,
                m @ (b' ' | b'+' | b'!' | b'#' | b'*' | b'@' | b'$') => {
                    if t.get(k + 1) != Some(&b':') {
                        return None;
                    }
                    k += 1;
                    (*m != b' ').then_some(*m)
                }
                _ => return None,
            };
            k += 1;
            (TraceTs::SinceReset(int.checked_mul(1000)?), mark)
        }
        Some(b':') => {
            k += 1;
            (TraceTs::Counter(int), None)
        }
        _ => return None,
    };
    let rest = body_start(&t[k..])?;
    Some(TraceLine {
        format: TraceFormat::Latency,
        file: None,
        comm: trim(&t[..dash]),
        pid: Some(pid),
        tgid: None,
        cpu: Some(cpu),
        flags: Some(flags),
        ts: Some(ts),
        mark,
        body: event_body(rest),
    })
}

/// After the `:` of the context prefix: one space then the body, or end of line.
fn body_start(r: &[u8]) -> Option<&[u8]> {
    match r {
        [] => Some(r),
        [b' ' | b'\t', rest @ ..] => Some(rest),
        _ => None,
    }
}

fn skip_spaces1(i: &[u8]) -> Option<&[u8]> {
    let k = i
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(i.len());
    if k == 0 {
        None
    } else {
        Some(&i[k..])
    }
}

/// Normal context prefix: `"%16s-%-7d "` + optional `"(%7d) "` + `"[%03d] "` +
/// optional flags + `" %5lu.%06lu"` (or `" %12llu"`) + `": "`.
///
/// Examples: `   kworker/u16:3-322     [015] .....  2649.295735: end_bbio_meta_read: read done, ...`,
/// `  iou-wrk-173727-173730  ( 173727) [015] d..1.  2649.295481: ...`,
/// `          <idle>-0     (-----) [006] ....    10.258854: sched_switch: ...`,
/// `     kworker/5:2-1497  [005]   454.414591: thermal_temperature:  thermal_zone=cls0 ...` (trace-cmd, no flags).
pub fn normal_line(i: &[u8]) -> IResult<&[u8], TraceLine<'_>> {
    let t = trim_start(i);
    // The CPU field `[ddd]` anchors everything; find candidate '[' positions.
    let mut from = 0;
    let lim = t.len().min(160);
    while let Some(p) = memchr::memchr(b'[', &t[from..lim]) {
        let b = from + p;
        from = b + 1;
        if let Some(line) = normal_at(t, b) {
            return Ok((&[], line));
        }
    }
    fail(i)
}

/// Try to parse a normal line whose CPU bracket starts at `t[b]`.
fn normal_at(t: &[u8], b: usize) -> Option<TraceLine<'_>> {
    let inner = &t[b + 1..];
    let close = inner.iter().take(8).position(|&c| c == b']')?;
    let digits = &inner[..close];
    if digits.len() < 3 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (_, cpu) = dec_u32(digits).ok()?;
    // Left of '[': spaces, optional "(tgid) ", spaces, "-pid", comm.
    let left = &t[..b];
    let left = trim_end_spaces(left);
    if left.len() == b {
        return None; // no space before '['
    }
    let (left, tgid) = match left.last() {
        Some(b')') => {
            let open = memchr::memrchr(b'(', left)?;
            let inside = trim(&left[open + 1..left.len() - 1]);
            let tgid = if !inside.is_empty() && inside.iter().all(|&c| c == b'-') {
                None
            } else {
                Some(dec_u32(inside).ok().filter(|(r, _)| r.is_empty())?.1)
            };
            (trim_end_spaces(&left[..open]), tgid)
        }
        _ => (left, None),
    };
    let dpos = left.iter().rposition(|c| !c.is_ascii_digit())?;
    if left[dpos] != b'-' || dpos + 1 == left.len() {
        return None;
    }
    let (_, pid) = dec_u32(&left[dpos + 1..]).ok()?;
    let mut comm = trim(&left[..dpos]);
    // trace-cmd report with several input files: "trace1.dat:  comm-pid ...".
    let mut file = None;
    if let Some(c) = memchr::memchr(b':', comm) {
        let name = &comm[..c];
        if name.ends_with(b".dat") && !name.contains(&b' ') {
            file = Some(name);
            comm = trim(&comm[c + 1..]);
        }
    }
    // Right of ']': " flags  ts: " or " ts: ".
    let r = &inner[close + 1..];
    let r = skip_spaces1(r)?;
    let tok_end = r
        .iter()
        .position(|&c| c == b' ' || c == b'\t')
        .unwrap_or(r.len());
    let (flags, r) = match normal_ts(r) {
        Some(x) => (None, x),
        None => {
            if !(4..=8).contains(&tok_end) {
                return None;
            }
            let flags = &r[..tok_end];
            let r2 = skip_spaces1(&r[tok_end..])?;
            (Some(flags), normal_ts(r2)?)
        }
    };
    let (rest, ts) = r;
    Some(TraceLine {
        format: TraceFormat::Normal,
        file,
        comm,
        pid: Some(pid),
        tgid,
        cpu: Some(cpu),
        flags,
        ts: Some(ts),
        mark: None,
        body: event_body(rest),
    })
}

fn trim_end_spaces(i: &[u8]) -> &[u8] {
    let k = i
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(0, |k| k + 1);
    &i[..k]
}

/// `secs.frac:` or `counter:` then one space (or end of line).
fn normal_ts(r: &[u8]) -> Option<(&[u8], TraceTs)> {
    if let Ok((r2, ns)) = secs_frac_ns(r) {
        let r2 = r2.strip_prefix(b":")?;
        return Some((body_start(r2)?, TraceTs::Ns(ns)));
    }
    let (r2, n) = dec_u64(r).ok()?;
    let r2 = r2.strip_prefix(b":")?;
    Some((body_start(r2)?, TraceTs::Counter(n)))
}

/// Split an event body into name (or caller symbol) and payload.
///
/// Examples: `end_bbio_meta_read: read done, eb=...`,
/// `end_bbio_meta_read+0x1a4/0x2c0 [btrfs]: read done, ...` (`sym-offset`),
/// `bprint:               select_task_rq_fair: fig: cpu=0` (trace-cmd padding),
/// `do_nanosleep <-hrtimer_nanosleep` (function tracer).
pub(crate) fn event_body(i: &[u8]) -> EventBody<'_> {
    let s = trim_start(i);
    let name_len = symbol_len(s);
    let name = &s[..name_len];
    let mut r = &s[name_len..];
    let mut sym_offset = None;
    if name_len > 0 {
        // `+0x1a4/0x2c0` with optional ` [module]`, or ` <ffffffffc0a1b2c4>`.
        if r.starts_with(b"+0x") {
            let end = r
                .iter()
                .position(|&c| c == b':' || c == b' ')
                .unwrap_or(r.len());
            let mut end2 = end;
            if r[end..].starts_with(b" [") {
                if let Some(c) = memchr::memchr(b']', &r[end..]) {
                    end2 = end + c + 1;
                }
            }
            sym_offset = Some(&r[..end2]);
            r = &r[end2..];
        } else if r.starts_with(b" <") && r.len() > 3 && r[2].is_ascii_hexdigit() {
            if let Some(c) = memchr::memchr(b'>', r) {
                sym_offset = Some(&r[..c + 1]);
                r = &r[c + 1..];
            }
        }
        if let Some(p) = r.strip_prefix(b":") {
            return EventBody {
                name,
                sym_offset,
                payload: trim_start(p),
                kind: BodyKind::Event,
            };
        }
        if let Some(p) = r.strip_prefix(b" <-") {
            let plen = symbol_len(p);
            return EventBody {
                name,
                sym_offset,
                payload: p,
                kind: BodyKind::Function { parent: &p[..plen] },
            };
        }
        if r.is_empty() {
            return EventBody {
                name,
                sym_offset,
                payload: r,
                kind: BodyKind::Function { parent: b"" },
            };
        }
    }
    EventBody {
        name: b"",
        sym_offset: None,
        payload: s,
        kind: BodyKind::Other,
    }
}

/// function_graph line (kernel-formats.md A.11): optional absolute time
/// `"%5lu.%06lu |  "`, CPU `" %*d) "`, optional `comm-pid |`, optional flags,
/// duration or blanks, `"|  "`, then the call text.
///
/// Examples: ` 0)   0.198 us    |          _raw_spin_lock_irqsave();`,
/// `7238523.638008 |   0)               |              finish_task_switch() {`,
/// ` 0)  platfor-3210  =>  vmstat-2854  ` (task switch).
pub(crate) fn funcgraph_line(i: &[u8]) -> IResult<&[u8], TraceLine<'_>> {
    let mut r = trim_start(i);
    let mut ts = None;
    if let Ok((r2, ns)) = secs_frac_ns(r) {
        let r2 = trim_start(r2);
        let Some(r2) = r2.strip_prefix(b"|") else {
            return fail(i);
        };
        ts = Some(TraceTs::Ns(ns));
        r = trim_start(r2);
    }
    let Ok((r2, cpu)) = dec_u32(r) else {
        return fail(i);
    };
    let Some(r2) = r2.strip_prefix(b")") else {
        return fail(i);
    };
    r = r2;
    // Task switch: ` 0)  platfor-3210  =>  vmstat-2854  `.
    if let Some(arrow) = memchr::memmem::find(r, b"=>") {
        if !r[..arrow].contains(&b'|') && memchr::memchr(b'|', r).is_none() {
            return Ok((
                &[],
                graph_line(
                    ts,
                    cpu,
                    None,
                    b"",
                    EventBody {
                        name: b"",
                        sym_offset: None,
                        payload: trim(r),
                        kind: BodyKind::Graph,
                    },
                ),
            ));
        }
    }
    // Columns up to the last '|' before the call text; the call text never holds '|'.
    let mut pid = None;
    let mut comm: &[u8] = b"";
    let mut rest = r;
    let mut bars = 0;
    while let Some(p) = memchr::memchr(b'|', rest) {
        let col = trim(&rest[..p]);
        if let Some((c, pd, ())) = task_pid(col, col.len(), |t| t.is_empty().then_some(())) {
            comm = c;
            pid = Some(pd);
        } else if !col.is_empty() && !duration_col(col) && !(4..=6).contains(&col.len()) {
            return fail(i);
        }
        bars += 1;
        rest = &rest[p + 1..];
        if !rest.contains(&b'|') {
            break;
        }
    }
    let content = trim(rest);
    if bars == 0 || content.is_empty() || !graph_content(content) {
        return fail(i);
    }
    let name_len = symbol_len(content);
    let body = EventBody {
        name: &content[..name_len],
        sym_offset: None,
        payload: content,
        kind: BodyKind::Graph,
    };
    Ok((&[], graph_line(ts, cpu, pid, comm, body)))
}

fn graph_line<'a>(
    ts: Option<TraceTs>,
    cpu: u32,
    pid: Option<u32>,
    comm: &'a [u8],
    body: EventBody<'a>,
) -> TraceLine<'a> {
    TraceLine {
        format: TraceFormat::FunctionGraph,
        file: None,
        comm,
        pid,
        tgid: None,
        cpu: Some(cpu),
        flags: None,
        ts,
        mark: None,
        body,
    }
}

/// A duration column: `0.198 us`, `+ 12.345 us`, `! 102.344 us`, `19354026 us`.
fn duration_col(c: &[u8]) -> bool {
    let c = match c.first() {
        Some(b'+' | b'!' | b'#' | b'*' | b'@' | b'$') => trim_start(&c[1..]),
        _ => c,
    };
    let Some(num) = c.strip_suffix(b"us") else {
        return false;
    };
    let num = trim(num);
    !num.is_empty() && num.iter().all(|&x| x.is_ascii_digit() || x == b'.')
}

/// Call text of a function_graph line.
fn graph_content(c: &[u8]) -> bool {
    c == b"}"
        || c.starts_with(b"} /*")
        || c.starts_with(b"/*")
        || c.starts_with(b"==========>")
        || c.starts_with(b"<==========")
        || c.ends_with(b"() {")
        || c.ends_with(b"();")
        || (c.contains(&b'(') && c.ends_with(b"*/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lat(s: &str) -> TraceLine<'_> {
        latency_line(s.as_bytes())
            .unwrap_or_else(|e| panic!("{s}: {e:?}"))
            .1
    }
    fn norm(s: &str) -> TraceLine<'_> {
        normal_line(s.as_bytes())
            .unwrap_or_else(|e| panic!("{s}: {e:?}"))
            .1
    }

    #[test]
    fn latency_dump_lines_from_the_thread() {
        let l = lat("iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384");
        assert_eq!(l.comm, b"iou-wrk-");
        assert_eq!((l.pid, l.cpu), (Some(173727), Some(15)));
        assert_eq!(l.flags, Some(&b"....."[..]));
        assert_eq!(l.ts, Some(TraceTs::SinceReset(2_649_295_481_000)));
        assert_eq!(l.body.name, b"alloc_extent_buffer");
        assert_eq!(
            l.body.payload,
            b"alloc_extent_buffer: alloc eb=15302115328 len=16384"
        );
        let l = lat("kworker/-322      15..... 2649295735us : end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000");
        assert_eq!(
            (l.comm, l.pid, l.cpu),
            (&b"kworker/"[..], Some(322), Some(15))
        );
        assert_eq!(l.body.name, b"end_bbio_meta_read");
        let l = lat("     bfs-45112    33..... 680751822us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=14410006528 len=16384");
        assert_eq!((l.comm, l.pid, l.cpu), (&b"bfs"[..], Some(45112), Some(33)));
        let l = lat(
            "kworker/-957       4..... 680471091us : end_bbio_meta_read: read done, eb=14202404864",
        );
        assert_eq!(l.cpu, Some(4));
    }

    #[test]
    fn fixed_positions_read_what_the_scan_reads() {
        // ftrace's widths: the fixed read answers, with the scan's result.
        for s in [
            "kworker/-43417    45..... 680529498us : end_bbio_meta_read: read done, eb=1",
            "iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc eb=1 len=2",
            "  <idle>-0         0d.h1.    5us+: irq_handler_entry: irq=24 name=ahci",
            "kworker/-1234567 999d..3. 12us!: x: y",
        ] {
            let t = s.as_bytes();
            assert!(fixed_ids(t, COMM_WIDTH).is_some(), "{s}");
            assert_eq!(latency_fixed(t), Some(lat(s)), "{s}");
        }
        // Other widths: only the scan reads them.
        for s in [
            "kworker/-12345678 45..... 680529498us : x: y",
            "kworker/-43417  1045..... 680529498us : x: y",
            "kworker/-43417   45..... 680529498us : x: y",
            "kworker/-43417    4 5.... 680529498us : x: y",
        ] {
            assert_eq!(latency_fixed(s.as_bytes()), None, "{s}");
        }
        assert_eq!(
            lat("kworker/-43417  1045..... 680529498us : x: y").cpu,
            Some(1045)
        );
        assert_eq!(
            lat("kworker/-12345678 45..... 680529498us : x: y").pid,
            Some(12345678)
        );
    }

    #[test]
    fn latency_variants() {
        let l = lat("btrfs-tr-873       3dN.1.   12us!: foo: bar");
        assert_eq!(
            (l.cpu, l.flags, l.mark),
            (Some(3), Some(&b"dN.1."[..]), Some(b'!'))
        );
        let l = lat("  <idle>-0         0d.h1.    5us+: x: y");
        assert_eq!(
            (l.comm, l.pid, l.mark),
            (&b"<idle>"[..], Some(0), Some(b'+'))
        );
        let l = lat("    <...>-2055      1d..2. 16142us : invalidate_inode_pages2_range: !!! folio=786432 !!!");
        assert_eq!((l.comm, l.pid, l.cpu), (&b"<...>"[..], Some(2055), Some(1)));
        let l = lat("      ls-4734    2d..1. 106439.675570920: bprint:               select_task_rq_fair: fig: cpu=0");
        assert_eq!(l.ts, Some(TraceTs::Ns(106_439_675_570_920)));
        assert_eq!(l.body.name, b"bprint");
        assert_eq!(l.body.payload, b"select_task_rq_fair: fig: cpu=0");
        let l = lat("migratio-18      2d..3. 106439.675612860: sched_switch:         migration/2:18 [0] S ==> trace-cmd:4732 [120]");
        assert_eq!(l.comm, b"migratio");
        let l = lat(
            "rcu_tort-70        1dNh3. 10607789211us : sched_wakeup: comm=rcu_torture_fak pid=65",
        );
        assert_eq!(l.flags, Some(&b"dNh3."[..]));
        let l = lat("kworker/-9796      0dN.3. 10612107787us : dl_server_stop <-dequeue_entities");
        assert_eq!(
            l.body.kind,
            BodyKind::Function {
                parent: b"dequeue_entities"
            }
        );
        let l = lat("bash-1234    1d..1. 123: x: y");
        assert_eq!(l.ts, Some(TraceTs::Counter(123)));
        // A line cut by a mail client after the prefix.
        let l = lat("iou-wrk--173727   15..... 2649295481us :");
        assert_eq!(l.body.payload, b"");
        assert!(latency_line(b"BTRFS critical (device dm-0): corrupted leaf").is_err());
        assert!(latency_line(b"[  707.299280] ------------[ cut here ]------------").is_err());
    }

    #[test]
    fn normal_lines() {
        let l = norm("   kworker/u16:3-322     [015] .....  2649.295735: end_bbio_meta_read: read done, eb=15302115328");
        assert_eq!(
            (l.comm, l.pid, l.cpu),
            (&b"kworker/u16:3"[..], Some(322), Some(15))
        );
        assert_eq!(l.ts, Some(TraceTs::Ns(2_649_295_735_000)));
        let l = norm(
            "  iou-wrk-173727-173730  ( 173727) [015] d..1.  2649.295481: alloc_extent_buffer: x",
        );
        assert_eq!(
            (l.comm, l.pid, l.tgid),
            (&b"iou-wrk-173727"[..], Some(173730), Some(173727))
        );
        let l = norm("          <idle>-0     (-----) [006] ....    10.258854: sched_switch: prev_comm=swapper/6");
        assert_eq!(
            (l.comm, l.tgid, l.flags),
            (&b"<idle>"[..], None, Some(&b"...."[..]))
        );
        let l = norm("     kworker/5:2-1497  [005]   454.414591: thermal_temperature:  thermal_zone=cls0 id=0");
        assert_eq!((l.flags, l.body.name), (None, &b"thermal_temperature"[..]));
        assert_eq!(l.body.payload, b"thermal_zone=cls0 id=0");
        let l = norm("atrace-14446 [000] ...2  1212.465062: sched_switch: prev_comm=atrace");
        assert_eq!(l.comm, b"atrace");
        let l = norm(" ndroid.systemui-13580 (13580) [001] ...1 683202.104223: tracing_mark_write: S|13580|deliverInputEvent|263");
        assert_eq!(l.comm, b"ndroid.systemui");
        let l = norm(
            "          svscan-1678  [000] .... 6412438.703521: do_nanosleep <-hrtimer_nanosleep",
        );
        assert_eq!(
            l.body.kind,
            BodyKind::Function {
                parent: b"hrtimer_nanosleep"
            }
        );
        let l = norm("            bash-1234    [001] ..... 987654321098: foo: bar");
        assert_eq!(l.ts, Some(TraceTs::Counter(987654321098)));
        let l = norm("     Web Content-1234    [1001] d..1.  1.000001: x: y");
        assert_eq!((l.comm, l.cpu), (&b"Web Content"[..], Some(1001)));
        let l =
            norm("\t   <...>-15430 [006]  7115.449594: sched_switch:          prev_comm=trace-cmd");
        assert_eq!(l.comm, b"<...>");
        let l = norm("trace1.dat:        bash-1234  [001]  10.000001: foo: x");
        assert_eq!((l.file, l.comm), (Some(&b"trace1.dat"[..]), &b"bash"[..]));
        let l = norm("       dmcrypt-99-7       [002] .N..   3.1: x: y");
        assert_eq!((l.comm, l.pid), (&b"dmcrypt-99"[..], Some(7)));
        let l = norm("    btrfs-cleaner-1770    [014] .....   961.534333:");
        assert_eq!(l.body.payload, b"");
        let l = norm("           btrfs-1115669 [005] .....  5437.027093: scrub_submit.part.0: devid=1 logical=22036480");
        assert_eq!(l.body.name, b"scrub_submit.part.0");
        let l = norm("         mount-1504  [009]   146.449458: xfs_buf_init:         dev 252:18 daddr 0xffffffffffffffff");
        assert_eq!(l.body.payload, b"dev 252:18 daddr 0xffffffffffffffff");
        assert!(normal_line(b"[ 2740.240046] kworker/-322      15..... 1us : x").is_err());
        assert!(
            normal_line(b"BIOS-e820: [mem 0x0000000000000400-0x000000000009ffff] usable").is_err()
        );
        assert!(normal_line(b"CPU:18 [LOST 468484 EVENTS]").is_err());
    }

    #[test]
    fn bodies() {
        let b = event_body(b"end_bbio_meta_read+0x1a4/0x2c0 [btrfs]: read done, eb=1");
        assert_eq!(b.name, b"end_bbio_meta_read");
        assert_eq!(b.sym_offset, Some(&b"+0x1a4/0x2c0 [btrfs]"[..]));
        assert_eq!(b.payload, b"read done, eb=1");
        let b = event_body(b"end_bbio_meta_read <ffffffffc0a1b2c4>: read done");
        assert_eq!(b.sym_offset, Some(&b" <ffffffffc0a1b2c4>"[..]));
        let b = event_body(b"do_sys_open: (do_sys_open+0x0/0x220)");
        assert_eq!(
            (b.name, b.payload),
            (&b"do_sys_open"[..], &b"(do_sys_open+0x0/0x220)"[..])
        );
        let b = event_body(b"[FAILED TO PARSE] x");
        assert_eq!(b.kind, BodyKind::Other);
    }

    #[test]
    fn funcgraph_lines() {
        let (_, l) =
            funcgraph_line(b" 0)   0.198 us    |          _raw_spin_lock_irqsave();").unwrap();
        assert_eq!(
            (l.cpu, l.body.name),
            (Some(0), &b"_raw_spin_lock_irqsave"[..])
        );
        let (_, l) = funcgraph_line(b" 0)               |  do_nanosleep() {").unwrap();
        assert_eq!(l.body.name, b"do_nanosleep");
        let (_, l) = funcgraph_line(
            b"7238523.638008 |   0)               |              finish_task_switch() {",
        )
        .unwrap();
        assert_eq!(l.ts, Some(TraceTs::Ns(7_238_523_638_008_000)));
        let (_, l) =
            funcgraph_line(b"7238523.638066 |   0)   19354026 us |            } /* __schedule */")
                .unwrap();
        assert_eq!(l.body.payload, b"} /* __schedule */");
        let (_, l) = funcgraph_line(b" 0)  platfor-3210  =>  vmstat-2854  ").unwrap();
        assert_eq!(l.body.payload, b"platfor-3210  =>  vmstat-2854");
        let (_, l) = funcgraph_line(b"  3) + 12.345 us   |  }").unwrap();
        assert_eq!(l.cpu, Some(3));
        let (_, l) =
            funcgraph_line(b"  3)               |      /* read done, eb=15302115328 ... */")
                .unwrap();
        assert_eq!(l.body.payload, b"/* read done, eb=15302115328 ... */");
        assert!(funcgraph_line(b"1) I'll start by showing").is_err());
        assert!(funcgraph_line(b"# ./funcgraph do_nanosleep").is_err());
    }
}
