//! Stage 2 of the pipeline: peeling the prefixes that consoles, log daemons
//! and `dmesg` put in front of a kernel message.
//!
//! Layers are peeled in the order they stack and each one is kept as
//! metadata in [`Prefixes`]:
//!
//! | layer | example |
//! |---|---|
//! | syslog / `journalctl -k` (short, short-precise) | `Mar 15 10:00:00 host kernel: ` |
//! | `journalctl -o short-iso`, RFC 3339 syslog | `2024-03-15T10:00:00+0100 host kernel: ` |
//! | `/dev/kmsg` record header | `6,1234,5678901,-,caller=T1234;` |
//! | `dmesg -x` facility and level | `kern  :err   : ` |
//! | `dmesg -T` / `--time-format iso` | `[Mon Nov 25 16:22:06 2024] `, `2024-03-15T10:00:00,123456+01:00 ` |
//! | syslog priority | `<6>` |
//! | printk time (and `dmesg -d` delta) | `[ 2740.240046] `, `[ 2740.240046 <    0.000123>] ` |
//! | printk caller id | `[ T1234]`, `[    C2]`, glued to the time or after a space |
//! | `journalctl -o short-monotonic` | `[ 1234.567890] host kernel: ` |
//!
//! Nothing here allocates; the returned text borrows the input.

use crate::fields::{dec_u32, dec_u64, digits_at, fixed_field, secs_frac_ns, sp0, Pad};
use nom::IResult;

/// Which prefix layers were found (bit set, see [`layer`]).
pub mod layer {
    /// Classic syslog / `journalctl -k` short output.
    pub(crate) const SYSLOG: u16 = 1 << 0;
    /// `journalctl -o short-precise` (µs on the wall clock).
    pub(crate) const JOURNAL_PRECISE: u16 = 1 << 1;
    /// `journalctl -o short-iso` or an RFC 3339 syslog timestamp.
    pub(crate) const SYSLOG_ISO: u16 = 1 << 2;
    /// `journalctl -o short-monotonic`.
    pub(crate) const JOURNAL_MONOTONIC: u16 = 1 << 3;
    /// `dmesg -T` wall-clock time.
    pub(crate) const DMESG_CTIME: u16 = 1 << 4;
    /// `dmesg --time-format iso`.
    pub(crate) const DMESG_ISO: u16 = 1 << 5;
    /// `/dev/kmsg` record header.
    pub(crate) const KMSG: u16 = 1 << 6;
    /// `<N>` syslog priority.
    pub(crate) const LEVEL: u16 = 1 << 7;
    /// `[ seconds.micros]` printk time.
    pub const PRINTK_TIME: u16 = 1 << 8;
    /// printk caller id.
    pub(crate) const CALLER: u16 = 1 << 9;
    /// `dmesg -d` delta inside the time bracket.
    pub(crate) const DMESG_DELTA: u16 = 1 << 10;
    /// `dmesg -x` facility and level words.
    pub(crate) const DMESG_FACILITY: u16 = 1 << 11;
    /// A console record glued after other output on the same line (a login
    /// prompt, a progress message cut by a carriage return).
    pub(crate) const GLUED: u16 = 1 << 12;
    /// `** N printk messages dropped **` in front of the record.
    pub(crate) const DROPPED: u16 = 1 << 13;

    /// Names used in `stats`, in bit order.
    pub(crate) const NAMES: [&str; 14] = [
        "syslog",
        "journal-short-precise",
        "syslog-iso",
        "journal-short-monotonic",
        "dmesg-ctime",
        "dmesg-iso",
        "kmsg",
        "syslog-level",
        "printk-time",
        "printk-caller",
        "dmesg-delta",
        "dmesg-facility",
        "glued-after-output",
        "printk-dropped-marker",
    ];
}

/// A printk caller id: `T<pid>` in task context, `C<cpu>` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// `[T1234]`: the task with this pid.
    Task(u32),
    /// `[    C2]`: not in task context, on this CPU.
    Cpu(u32),
}

/// The prefix layers of one line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefixes {
    /// Which layers were present ([`layer`] bits).
    pub layers: u16,
    /// printk time (`local_clock`, ns since boot), from `[ s.us]`, kmsg or short-monotonic.
    pub printk_ns: Option<u64>,
    /// Log level 0–7 (`<N>`, kmsg, `dmesg -x`).
    pub level: Option<u8>,
    /// printk caller id.
    pub caller: Option<Caller>,
    /// `/dev/kmsg` sequence number.
    pub kmsg_seq: Option<u64>,
    /// Wall-clock seconds (syslog, `dmesg -T`, iso), comparable within one input only.
    pub wall_s: Option<u64>,
    /// The line is a syslog line from a program other than the kernel.
    pub userspace: bool,
    /// `** N printk messages dropped **` glued in front of the record.
    pub dropped: Option<u64>,
}

impl Prefixes {
    /// A printk time alone, `ns` since boot (`[  687.806206] `).
    pub(crate) fn printk_time(ns: u64) -> Prefixes {
        Prefixes {
            layers: layer::PRINTK_TIME,
            printk_ns: Some(ns),
            ..Prefixes::default()
        }
    }

    /// Whether a prefix marks the rest of the line as a kernel message.
    pub(crate) fn is_kernel(&self) -> bool {
        self.layers != 0 && !self.userspace
    }
}

/// Peel every prefix layer off `text`; returns the layers and the message.
///
/// Never fails: a line with no recognised prefix comes back unchanged with
/// empty [`Prefixes`].
pub fn peel(text: &[u8]) -> (Prefixes, &[u8]) {
    if let Some((ns, rest)) = console_time(text) {
        return (Prefixes::printk_time(ns), rest);
    }
    let (mut p, t) = peel_at_start(text);
    if p.layers != 0 {
        return (p, t);
    }
    // `** 93 printk messages dropped ** [  322.962139] BUG: KASAN: ...`
    if let Some((n, rest)) = dropped_marker(t) {
        if !rest.is_empty() {
            let (mut q, r) = peel(rest);
            q.layers |= layer::DROPPED;
            q.dropped = Some(n);
            return (q, r);
        }
    }
    // `syzkaller login: [   16.305150] INFO: ...`: a record glued after other output.
    if let Some(at) = embedded_printk_time(t) {
        let (mut q, r) = peel_at_start(&t[at..]);
        if q.layers & layer::PRINTK_TIME != 0 {
            q.layers |= layer::GLUED;
            return (q, r);
        }
    }
    p.layers = 0;
    (p, t)
}

/// A console record's start: `[ seconds.micros] `, then a message that does
/// not start with another `[` (a caller id, a second time): the time in ns
/// and the message.
///
/// Example: `[  687.806206] kworker/-43417    45..... 680529498us : ...` →
/// 687806206000 and `kworker/-43417 ...`.
#[inline(always)]
pub(crate) fn printk_msg(text: &[u8]) -> Option<(u64, &[u8])> {
    match bracket_time(text) {
        Some((ns, [b' ', rest @ ..])) if rest.first() != Some(&b'[') => Some((ns, rest)),
        _ => None,
    }
}

/// The fast path of [`peel`]: a printk time and nothing else (not even a
/// journal's `host kernel: `). When it answers, `peel` gives exactly that
/// (one [`layer::PRINTK_TIME`] layer); when it does not, `peel` looks
/// further.
#[inline]
fn console_time(text: &[u8]) -> Option<(u64, &[u8])> {
    printk_msg(text).filter(|(_, rest)| !journal_host(rest))
}

/// `[ seconds.micros]` at the very start, scanned by hand: the time in ns and
/// what follows the `]`.
///
/// Example: `[  687.806206]` is 687806206000 ns.
#[inline(always)]
fn bracket_time(t: &[u8]) -> Option<(u64, &[u8])> {
    if t.first() != Some(&b'[') {
        return None;
    }
    // `[%5lu.%06lu]`, as printk writes it until 27 hours of uptime: fixed
    // positions, read without a loop. Other widths take the scan below.
    if t.get(6) == Some(&b'.') && t.get(13) == Some(&b']') {
        if let (Some(s), Some(us)) = (
            fixed_field::<5>(t, 1, Pad::Left),
            fixed_field::<6>(t, 7, Pad::None),
        ) {
            return Some((s * 1_000_000_000 + us * 1000, &t[14..]));
        }
    }
    let n = t.len();
    let mut k = 1;
    while k < n && t[k] == b' ' {
        k += 1;
    }
    // Seconds: at most 12 digits (31 700 years).
    let (secs, end) = digits_at(t, k)?;
    if end - k > 12 {
        return None;
    }
    let k = end;
    if t.get(k) != Some(&b'.') {
        return None;
    }
    let (ns, k) = crate::fields::fraction_ns(t, k + 1, 9)?;
    if t.get(k) != Some(&b']') {
        return None;
    }
    Some((
        secs.checked_mul(1_000_000_000)?.checked_add(ns)?,
        &t[k + 1..],
    ))
}

/// Whether `t` starts with `host kernel: ` (journalctl short-monotonic).
fn journal_host(t: &[u8]) -> bool {
    let lim = t.len().min(65);
    match t[..lim].iter().position(|&c| c == b' ') {
        Some(sp) => sp > 0 && t[sp + 1..].starts_with(b"kernel: ") && !t[..sp].contains(&b':'),
        None => false,
    }
}

/// `** N printk messages dropped **` and what follows it on the line.
fn dropped_marker(t: &[u8]) -> Option<(u64, &[u8])> {
    let r = t.strip_prefix(b"** ")?;
    let (r, n) = dec_u64(r).ok()?;
    let r = r.strip_prefix(b" printk messages dropped **")?;
    Some((n, crate::fields::trim_start(r)))
}

/// Position of a `[ seconds.micros]` printk time inside the first 256 bytes.
fn embedded_printk_time(t: &[u8]) -> Option<usize> {
    let lim = t.len().min(256);
    let mut from = 1;
    while from < lim {
        let p = from + memchr::memchr(b'[', &t[from..lim])?;
        // Strictly `[ digits.dddddd]`: prose such as "see [1.5]" is not a record.
        let inner = crate::fields::trim_start(&t[p + 1..]);
        let digits = inner.iter().position(|c| !c.is_ascii_digit()).unwrap_or(0);
        let strict = digits > 0
            && inner.get(digits) == Some(&b'.')
            && inner.len() > digits + 7
            && inner[digits + 1..digits + 7].iter().all(u8::is_ascii_digit)
            && matches!(inner[digits + 7], b']' | b' ' | b'<');
        let mut q = Prefixes::default();
        if strict && printk_time(&t[p..], &mut q).is_ok() {
            return Some(p);
        }
        from = p + 1;
    }
    None
}

/// Peel the layers that sit at the very start of the line.
fn peel_at_start(text: &[u8]) -> (Prefixes, &[u8]) {
    let mut p = Prefixes::default();
    let mut t = text;
    let Some(&first) = t.first() else {
        return (p, t);
    };
    // A syslog or journal prefix indented by a paste, the way a mail quotes
    // a log (`  Jan 26 10:41:07 host kernel: BTRFS ...`).
    let (lead, first) = match first {
        b' ' | b'\t' => match t.iter().take(8).position(|&c| c != b' ' && c != b'\t') {
            Some(k) if t[k].is_ascii_uppercase() || t[k].is_ascii_digit() => (k, t[k]),
            _ => (0, first),
        },
        _ => (0, first),
    };
    if first.is_ascii_uppercase() {
        if let Ok((rest, ())) = syslog_short(&t[lead..], &mut p) {
            t = rest;
        }
    } else if first.is_ascii_digit() {
        if let Ok((rest, ())) = iso_prefix(&t[lead..], &mut p) {
            t = rest;
        } else if lead == 0 {
            if let Ok((rest, ())) = kmsg_header(t, &mut p) {
                t = rest;
            }
        }
    }
    if p.userspace {
        return (p, t);
    }
    if t.first().is_some_and(|c| c.is_ascii_lowercase()) {
        if let Ok((rest, ())) = dmesg_facility(t, &mut p) {
            t = rest;
        }
    }
    if t.starts_with(b"[") && t.get(1).is_some_and(|c| c.is_ascii_uppercase()) {
        if let Ok((rest, ())) = dmesg_ctime(t, &mut p) {
            t = rest;
        }
    }
    if t.starts_with(b"<") {
        if let Ok((rest, lvl)) = syslog_level(t) {
            p.layers |= layer::LEVEL;
            p.level = Some(lvl);
            t = rest;
        }
    }
    // printk time, possibly indented by a paste.
    let lead = t
        .iter()
        .take(8)
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(0);
    if t.get(lead) == Some(&b'[') {
        if let Ok((rest, ())) = printk_time(&t[lead..], &mut p) {
            t = rest;
            if let Ok((rest, ())) = journal_monotonic_tail(t, &mut p) {
                t = rest;
            }
        }
    }
    (p, t)
}

/// Parse a three-letter month name.
fn month(i: &[u8]) -> Option<u64> {
    const M: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let m = i.get(..3)?;
    M.iter().position(|x| &x[..] == m).map(|k| k as u64)
}

/// `HH:MM:SS` as seconds of the day.
fn hms(i: &[u8]) -> IResult<&[u8], u64> {
    let (r, h) = two_digits(i)?;
    let r = r.strip_prefix(b":").ok_or_else(|| err(r))?;
    let (r, m) = two_digits(r)?;
    let r = r.strip_prefix(b":").ok_or_else(|| err(r))?;
    let (r, s) = two_digits(r)?;
    if h > 23 || m > 59 || s > 60 {
        return Err(err(i));
    }
    Ok((r, h * 3600 + m * 60 + s))
}

fn two_digits(i: &[u8]) -> IResult<&[u8], u64> {
    match i {
        [a, b, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Ok((rest, ((a - b'0') * 10 + (b - b'0')) as u64))
        }
        _ => Err(err(i)),
    }
}

fn err(i: &[u8]) -> nom::Err<nom::error::Error<&[u8]>> {
    nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify))
}

/// Optional `.ffffff` or `,ffffff` fraction; returns the separator if present.
fn fraction(i: &[u8]) -> (&[u8], Option<u8>) {
    match i {
        [sep @ (b'.' | b','), rest @ ..] if rest.first().is_some_and(u8::is_ascii_digit) => {
            let k = rest
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            (&rest[k..], Some(*sep))
        }
        _ => (i, None),
    }
}

/// syslog / journal short form: `Mar 15 10:00:00 host kernel: ` (host may be
/// absent; `.123456` after the seconds for short-precise; `%e` day padding).
///
/// Example: `Feb 17 11:00:34 hactar kernel: BTRFS critical (device dm-0): ...`
fn syslog_short<'a>(i: &'a [u8], p: &mut Prefixes) -> IResult<&'a [u8], ()> {
    let m = month(i).ok_or_else(|| err(i))?;
    let r = i[3..].strip_prefix(b" ").ok_or_else(|| err(i))?;
    let r = r.strip_prefix(b" ").unwrap_or(r);
    let (r, day) = dec_u64(r)?;
    if day > 31 {
        // No calendar has that day (and the wall-clock sum below would overflow).
        return Err(err(i));
    }
    let r = r.strip_prefix(b" ").ok_or_else(|| err(i))?;
    let (r, secs) = hms(r)?;
    let (r, frac) = fraction(r);
    let r = r.strip_prefix(b" ").ok_or_else(|| err(i))?;
    let r = host_ident(r, p)?;
    p.layers |= if frac.is_some() {
        layer::JOURNAL_PRECISE
    } else {
        layer::SYSLOG
    };
    p.wall_s = Some((m * 31 + day) * 86400 + secs);
    Ok((r, ()))
}

/// `host ident: ` or `ident: ` after a syslog timestamp.
fn host_ident<'a>(
    i: &'a [u8],
    p: &mut Prefixes,
) -> Result<&'a [u8], nom::Err<nom::error::Error<&'a [u8]>>> {
    let tok_end = |s: &[u8]| s.iter().position(|&c| c == b' ').unwrap_or(s.len());
    let e1 = tok_end(i);
    if e1 == 0 {
        return Err(err(i));
    }
    let (ident, rest) = if i[e1 - 1] == b':' {
        (&i[..e1 - 1], &i[e1..])
    } else {
        let r = &i[e1..];
        let r = r.strip_prefix(b" ").ok_or_else(|| err(i))?;
        let e2 = tok_end(r);
        if e2 == 0 || r[e2 - 1] != b':' {
            return Err(err(i));
        }
        (&r[..e2 - 1], &r[e2..])
    };
    if ident.is_empty() || ident.len() > 64 {
        return Err(err(i));
    }
    if ident != b"kernel" {
        p.userspace = true;
    }
    Ok(rest.strip_prefix(b" ").unwrap_or(rest))
}

/// ISO timestamps: `dmesg --time-format iso` (`2024-03-15T10:00:00,123456+01:00 msg`)
/// or `journalctl -o short-iso` / RFC 3339 syslog (`2024-03-15T10:00:00+0100 host kernel: msg`).
fn iso_prefix<'a>(i: &'a [u8], p: &mut Prefixes) -> IResult<&'a [u8], ()> {
    // YYYY-MM-DD
    if i.len() < 20 || i[4] != b'-' || i[7] != b'-' || !matches!(i[10], b'T' | b' ') {
        return Err(err(i));
    }
    let (_, y) = dec_u64(&i[..4])?;
    let (_, mo) = two_digits(&i[5..7])?;
    let (_, d) = two_digits(&i[8..10])?;
    let (r, secs) = hms(&i[11..])?;
    let (r, frac) = fraction(r);
    // time zone: Z, +HH:MM, +HHMM, -HH:MM
    let r = match r {
        [b'Z', rest @ ..] => rest,
        [b'+' | b'-', rest @ ..] => {
            let k = rest
                .iter()
                .take(5)
                .position(|c| !(c.is_ascii_digit() || *c == b':'))
                .unwrap_or(rest.len().min(5));
            &rest[k..]
        }
        _ => r,
    };
    let r = r.strip_prefix(b" ").ok_or_else(|| err(i))?;
    let wall = ((y * 12 + mo) * 31 + d) * 86400 + secs;
    if frac == Some(b',') {
        p.layers |= layer::DMESG_ISO;
        p.wall_s = Some(wall);
        return Ok((r, ()));
    }
    let mut q = *p;
    let rest = host_ident(r, &mut q)?;
    *p = q;
    p.layers |= layer::SYSLOG_ISO;
    p.wall_s = Some(wall);
    Ok((rest, ()))
}

/// `/dev/kmsg` header: `6,1234,5678901,-;` with optional `,caller=T1234`.
///
/// Example: `0,8812,2740240046,-;iou-wrk--173727   15..... 2649295481us : ...`
fn kmsg_header<'a>(i: &'a [u8], p: &mut Prefixes) -> IResult<&'a [u8], ()> {
    let (r, prio) = dec_u64(i)?;
    let r = r.strip_prefix(b",").ok_or_else(|| err(i))?;
    let (r, seq) = dec_u64(r)?;
    let r = r.strip_prefix(b",").ok_or_else(|| err(i))?;
    let (r, ts_us) = dec_u64(r)?;
    let (r, _flag) = match r {
        [b',', f @ (b'-' | b'c'), rest @ ..] => (rest, *f),
        _ => return Err(err(i)),
    };
    let semi = r
        .iter()
        .take(64)
        .position(|&c| c == b';')
        .ok_or_else(|| err(i))?;
    let extra = &r[..semi];
    if let Some(c) = memchr::memmem::find(extra, b"caller=") {
        if let Some(caller) = caller_id(&extra[c + 7..]) {
            p.caller = Some(caller);
            p.layers |= layer::CALLER;
        }
    }
    p.layers |= layer::KMSG;
    p.level = Some((prio & 7) as u8);
    p.kmsg_seq = Some(seq);
    p.printk_ns = ts_us.checked_mul(1000);
    Ok((&r[semi + 1..], ()))
}

fn caller_id(i: &[u8]) -> Option<Caller> {
    let i = crate::fields::trim_start(i);
    let (kind, rest) = i.split_first()?;
    let (_, n) = dec_u32(rest).ok()?;
    match kind {
        b'T' => Some(Caller::Task(n)),
        b'C' => Some(Caller::Cpu(n)),
        _ => None,
    }
}

/// `dmesg -x`: `kern  :err   : `.
fn dmesg_facility<'a>(i: &'a [u8], p: &mut Prefixes) -> IResult<&'a [u8], ()> {
    const FAC: [&[u8]; 13] = [
        b"kern",
        b"user",
        b"mail",
        b"daemon",
        b"auth",
        b"syslog",
        b"lpr",
        b"news",
        b"uucp",
        b"cron",
        b"authpriv",
        b"ftp",
        b"local",
    ];
    const LVL: [&[u8]; 8] = [
        b"emerg", b"alert", b"crit", b"err", b"warn", b"notice", b"info", b"debug",
    ];
    let colon = i
        .iter()
        .take(12)
        .position(|&c| c == b':')
        .ok_or_else(|| err(i))?;
    let fac = crate::fields::trim(&i[..colon]);
    let fac_ok = FAC.iter().any(|f| fac.starts_with(f)) && fac.len() <= 8;
    let r = &i[colon + 1..];
    let colon2 = r
        .iter()
        .take(10)
        .position(|&c| c == b':')
        .ok_or_else(|| err(i))?;
    let lvl = crate::fields::trim(&r[..colon2]);
    let lvl_idx = LVL.iter().position(|l| *l == lvl);
    match (fac_ok, lvl_idx, r.get(colon2 + 1)) {
        (true, Some(l), Some(b' ')) => {
            p.layers |= layer::DMESG_FACILITY;
            p.level = Some(l as u8);
            Ok((&r[colon2 + 2..], ()))
        }
        _ => Err(err(i)),
    }
}

/// `dmesg -T`: `[Mon Nov 25 16:22:06 2024] `.
fn dmesg_ctime<'a>(i: &'a [u8], p: &mut Prefixes) -> IResult<&'a [u8], ()> {
    // [Www Mmm dd HH:MM:SS YYYY]
    let r = &i[1..];
    if r.len() < 25 || !r[..3].iter().all(u8::is_ascii_alphabetic) || r[3] != b' ' {
        return Err(err(i));
    }
    let m = month(&r[4..]).ok_or_else(|| err(i))?;
    let r = r[7..].strip_prefix(b" ").ok_or_else(|| err(i))?;
    let r = r.strip_prefix(b" ").unwrap_or(r);
    let (r, day) = dec_u64(r)?;
    let r = r.strip_prefix(b" ").ok_or_else(|| err(i))?;
    let (r, secs) = hms(r)?;
    let r = r.strip_prefix(b" ").ok_or_else(|| err(i))?;
    let (r, year) = dec_u64(r)?;
    if day > 31 || year > 9999 {
        // Not a date `dmesg -T` prints (and the wall-clock sum below would overflow).
        return Err(err(i));
    }
    let r = r.strip_prefix(b"]").ok_or_else(|| err(i))?;
    let r = r.strip_prefix(b" ").unwrap_or(r);
    p.layers |= layer::DMESG_CTIME;
    p.wall_s = Some(((year * 12 + m) * 31 + day) * 86400 + secs);
    Ok((r, ()))
}

/// `<N>` syslog priority (`console_msg_format=syslog`, `dmesg -r`).
fn syslog_level(i: &[u8]) -> IResult<&[u8], u8> {
    let (r, n) = dec_u64(&i[1..])?;
    let r = r.strip_prefix(b">").ok_or_else(|| err(i))?;
    if n > 191 {
        return Err(err(i));
    }
    Ok((r, (n & 7) as u8))
}

/// printk time and caller: `[ 2740.240046] `, `[   61.075073][   T26] `,
/// `[ 2725.113804][    C2] `, `[ 2740.240046 <    0.000123>] `.
///
/// Example: `[ 2740.301767] kworker/-322      15..... 2649295735us : end_bbio_meta_read: ...`
fn printk_time<'a>(i: &'a [u8], p: &mut Prefixes) -> IResult<&'a [u8], ()> {
    let (r, _) = sp0(&i[1..])?;
    let (r, ns) = secs_frac_ns(r)?;
    let (r, _) = sp0(r)?;
    let r = if let Some(d) = r.strip_prefix(b"<") {
        let (d, _) = sp0(d)?;
        let (d, _) = secs_frac_ns(d)?;
        p.layers |= layer::DMESG_DELTA;
        d.strip_prefix(b">").ok_or_else(|| err(i))?
    } else {
        r
    };
    let r = r.strip_prefix(b"]").ok_or_else(|| err(i))?;
    p.layers |= layer::PRINTK_TIME;
    p.printk_ns = Some(ns);
    // Caller id, glued to the time bracket or after one space.
    let after_space = r.strip_prefix(b" ").unwrap_or(r);
    let r = match caller_bracket(after_space) {
        Some((rest, c)) => {
            p.caller = Some(c);
            p.layers |= layer::CALLER;
            rest
        }
        None => r,
    };
    Ok((r.strip_prefix(b" ").unwrap_or(r), ()))
}

/// `[ T1234]` / `[    C2]`.
fn caller_bracket(i: &[u8]) -> Option<(&[u8], Caller)> {
    let r = i.strip_prefix(b"[")?;
    let close = r.iter().take(12).position(|&c| c == b']')?;
    let c = caller_id(&r[..close])?;
    let inner = crate::fields::trim(&r[..close]);
    if !inner[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((&r[close + 1..], c))
}

/// `journalctl -o short-monotonic`: after `[ 1234.567890] `, `host kernel: `.
fn journal_monotonic_tail<'a>(i: &'a [u8], p: &mut Prefixes) -> IResult<&'a [u8], ()> {
    let sp = i
        .iter()
        .take(65)
        .position(|&c| c == b' ')
        .ok_or_else(|| err(i))?;
    if sp == 0 || i[..sp].contains(&b':') {
        return Err(err(i));
    }
    let r = i[sp + 1..]
        .strip_prefix(b"kernel: ")
        .ok_or_else(|| err(i))?;
    p.layers |= layer::JOURNAL_MONOTONIC;
    Ok((r, ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peel_s(s: &str) -> (Prefixes, String) {
        let (p, r) = peel(s.as_bytes());
        (p, String::from_utf8_lossy(r).into_owned())
    }

    #[test]
    fn printk_time_and_caller() {
        let (p, r) = peel_s("[ 2740.240046] iou-wrk--173727   15..... 2649295481us : x");
        assert_eq!(p.printk_ns, Some(2_740_240_046_000));
        assert_eq!(r, "iou-wrk--173727   15..... 2649295481us : x");
        let (p, r) = peel_s("[   61.075073][   T26] ------------[ cut here ]------------");
        assert_eq!(p.caller, Some(Caller::Task(26)));
        assert_eq!(r, "------------[ cut here ]------------");
        let (p, r) = peel_s("[ 2725.113804][    C2] BTRFS critical");
        assert_eq!(p.caller, Some(Caller::Cpu(2)));
        assert_eq!(r, "BTRFS critical");
        let (p, _) = peel_s("[ 2725.113804] [T12] x");
        assert_eq!(p.caller, Some(Caller::Task(12)));
        let (p, r) = peel_s("[100000.000001] x");
        assert_eq!(p.printk_ns, Some(100_000_000_001_000));
        assert_eq!(r, "x");
        let (p, r) = peel_s("[ 2740.240046 <    0.000123>] x");
        assert!(p.layers & layer::DMESG_DELTA != 0);
        assert_eq!(r, "x");
        let (p, r) = peel_s("  [912737.466820] BTRFS critical (device dm-2): x");
        assert_eq!(p.printk_ns, Some(912_737_466_820_000));
        assert_eq!(r, "BTRFS critical (device dm-2): x");
        let (p, r) = peel_s("[  OK  ] Started");
        assert_eq!(p, Prefixes::default());
        assert_eq!(r, "[  OK  ] Started");
    }

    #[test]
    fn levels_and_kmsg() {
        let (p, r) = peel_s("<6>[   85.501187] WARNING: foo");
        assert_eq!(p.level, Some(6));
        assert_eq!(p.printk_ns, Some(85_501_187_000));
        assert_eq!(r, "WARNING: foo");
        let (p, r) = peel_s("6,1234,5678901,-;BTRFS info (device dm-2): x");
        assert_eq!(
            (p.level, p.kmsg_seq, p.printk_ns),
            (Some(6), Some(1234), Some(5_678_901_000))
        );
        assert_eq!(r, "BTRFS info (device dm-2): x");
        let (p, r) = peel_s("4,1236,5679000,c,caller=T512; [last unloaded: loop]");
        assert_eq!(p.caller, Some(Caller::Task(512)));
        assert_eq!(r, " [last unloaded: loop]");
        let (p, r) = peel_s("kern  :err   : [    1.000000] x");
        assert_eq!(p.level, Some(3));
        assert_eq!(r, "x");
    }

    #[test]
    fn syslog_and_journal() {
        let (p, r) = peel_s("Feb 17 11:00:34 hactar kernel: BTRFS critical (device dm-0): x");
        assert!(p.is_kernel());
        assert_eq!(r, "BTRFS critical (device dm-0): x");
        let (p, r) = peel_s("Jun 30 03:31:51 epyc kernel: [929434.961426] BTRFS critical");
        assert_eq!(p.printk_ns, Some(929_434_961_426_000));
        assert_eq!(r, "BTRFS critical");
        let (p, r) = peel_s("Jun 30 03:30:47 epyc backup.sh[3178407]: Delete subvolume");
        assert!(p.userspace && !p.is_kernel());
        assert_eq!(r, "Delete subvolume");
        let (p, r) = peel_s("Sep 17 00:55:42 kernel: page: refcount:4");
        assert!(p.is_kernel());
        assert_eq!(r, "page: refcount:4");
        let (p, r) = peel_s("Mar  5 10:00:00.123456 host kernel: x");
        assert!(p.layers & layer::JOURNAL_PRECISE != 0);
        assert_eq!(r, "x");
        let (p, r) = peel_s("2024-03-15T10:00:00+0100 host kernel: x");
        assert!(p.layers & layer::SYSLOG_ISO != 0);
        assert_eq!(r, "x");
        // Indented by a paste, as a mail quotes a log.
        let (p, r) = peel_s("  Jan 26 10:41:07 fedora kernel: BTRFS critical (device dm-0): x");
        assert!(p.is_kernel() && p.layers & layer::SYSLOG != 0);
        assert_eq!(r, "BTRFS critical (device dm-0): x");
        let (p, r) = peel_s("\t2024-03-15T10:00:00+0100 host kernel: x");
        assert!(p.layers & layer::SYSLOG_ISO != 0);
        assert_eq!(r, "x");
        // An indented line of other text is not a syslog line.
        let (p, r) = peel_s("  Web Content-1234 [003] x");
        assert_eq!(p, Prefixes::default());
        assert_eq!(r, "  Web Content-1234 [003] x");
        let (p, r) = peel_s("2024-03-15T10:00:00,123456+01:00 BTRFS info: x");
        assert!(p.layers & layer::DMESG_ISO != 0);
        assert_eq!(r, "BTRFS info: x");
        let (p, r) = peel_s("[ 1234.567890] myhost kernel: BTRFS info: x");
        assert!(p.layers & layer::JOURNAL_MONOTONIC != 0);
        assert_eq!(r, "BTRFS info: x");
        let (p, r) = peel_s("[Mon Nov 25 16:22:06 2024] BTRFS info (device sdd): first mount");
        assert!(p.layers & layer::DMESG_CTIME != 0);
        assert_eq!(r, "BTRFS info (device sdd): first mount");
        let (p, r) = peel_s("[Mon Nov  5 16:22:06 2024] x");
        assert!(p.is_kernel());
        assert_eq!(r, "x");
    }

    #[test]
    fn glued_records_and_dropped_markers() {
        let (p, r) =
            peel_s("syzkaller login: [   16.305150] INFO: trying to register non-static key.");
        assert!(p.layers & layer::GLUED != 0);
        assert_eq!(p.printk_ns, Some(16_305_150_000));
        assert_eq!(r, "INFO: trying to register non-static key.");
        let (p, r) = peel_s("** 93 printk messages dropped ** [  322.962139] BUG: KASAN: x");
        assert_eq!(p.dropped, Some(93));
        assert_eq!(r, "BUG: KASAN: x");
        let (p, r) = peel_s("see [1.5] for details");
        assert_eq!(p, Prefixes::default());
        assert_eq!(r, "see [1.5] for details");
    }

    /// Found by `cargo fuzz run records`: a `dmesg -T` or syslog date with a
    /// huge day or year overflowed the wall-clock arithmetic (a panic in debug
    /// builds). Such text is not a date prefix.
    #[test]
    fn impossible_dates_are_not_prefixes() {
        for s in [
            "[Mon Nov 25 16:22:06 99999999999999999999] x",
            "[Mon Nov 25 16:22:06 18446744073709551615] x",
            "[Mon Nov 99999999999999 16:22:06 2024] x",
            "Feb 18446744073709551615 11:00:34 hactar kernel: x",
            "Feb 32 11:00:34 hactar kernel: x",
        ] {
            let (p, _) = peel_s(s);
            assert_eq!(p.wall_s, None, "{s}");
        }
        let (p, _) = peel_s("[Mon Nov 25 16:22:06 9999] x");
        assert!(p.wall_s.is_some());
    }

    #[test]
    fn no_prefix_is_untouched() {
        for s in [
            "",
            "BTRFS critical (device dm-0): x",
            "123abc",
            "Marvel 1",
            "<idle>-0 [000]",
        ] {
            let (p, r) = peel_s(s);
            assert_eq!(p, Prefixes::default(), "{s}");
            assert_eq!(r, s);
        }
    }
}
