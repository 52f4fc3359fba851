//! Field-level parsers shared by the prefix peeler and the grammars.
//!
//! Everything here works on `&[u8]` and is written as nom parsers
//! (`fn(&[u8]) -> IResult<&[u8], T>`), so the grammars compose them. Numbers
//! are parsed by hand with overflow checks (nom's `u64` parser goes through
//! `str`), and none of them allocates.

use nom::bytes::complete::{take_while, take_while1};
use nom::error::{Error, ErrorKind};
use nom::{IResult, Parser};

/// Build a nom error at `i` (all our parsers use the plain `nom::error::Error`).
#[inline]
pub(crate) fn fail<T>(i: &[u8]) -> IResult<&[u8], T> {
    Err(nom::Err::Error(Error::new(i, ErrorKind::Verify)))
}

/// `digits`: one or more ASCII digits as a `u64`, failing on overflow.
///
/// Example: `15302115328` in `eb=15302115328 len=16384`.
#[inline]
pub(crate) fn dec_u64(i: &[u8]) -> IResult<&[u8], u64> {
    let mut n: u64 = 0;
    let mut k = 0;
    while k < i.len() {
        let d = i[k].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = match n.checked_mul(10).and_then(|n| n.checked_add(d as u64)) {
            Some(n) => n,
            None => return fail(i),
        };
        k += 1;
    }
    if k == 0 {
        return fail(i);
    }
    Ok((&i[k..], n))
}

/// `digits` as a `u32`.
#[inline]
pub(crate) fn dec_u32(i: &[u8]) -> IResult<&[u8], u32> {
    let (r, n) = dec_u64(i)?;
    match u32::try_from(n) {
        Ok(n) => Ok((r, n)),
        Err(_) => fail(i),
    }
}

/// A signed decimal printed with `%lld`/`%d`: `-17`, `4096`.
pub(crate) fn dec_i64(i: &[u8]) -> IResult<&[u8], i64> {
    if let Some(rest) = i.strip_prefix(b"-") {
        let (r, n) = dec_u64(rest)?;
        if n > i64::MAX as u64 + 1 {
            return fail(i);
        }
        Ok((r, (n as i128).wrapping_neg() as i64))
    } else {
        let (r, n) = dec_u64(i)?;
        match i64::try_from(n) {
            Ok(n) => Ok((r, n)),
            Err(_) => fail(i),
        }
    }
}

/// A u64 printed with `%llu`, or with `%lld` as a negative two's-complement
/// value (`-6` is the tree-log root `18446744073709551610`).
#[cfg(test)]
pub(crate) fn dec_u64_or_neg(i: &[u8]) -> IResult<&[u8], u64> {
    if let Some(rest) = i.strip_prefix(b"-") {
        let (r, n) = dec_u64(rest)?;
        Ok((r, n.wrapping_neg()))
    } else {
        dec_u64(i)
    }
}

/// `0x` hex digits as a `u64`: `0x7df93c74`.
pub(crate) fn hex_u64(i: &[u8]) -> IResult<&[u8], u64> {
    let rest = match i {
        [b'0', b'x' | b'X', rest @ ..] => rest,
        _ => return fail(i),
    };
    let (r, digits) = take_while1(|c: u8| c.is_ascii_hexdigit()).parse(rest)?;
    if digits.len() > 16 {
        return fail(i);
    }
    let mut n = 0u64;
    for &c in digits {
        n = (n << 4) | hex_val(c) as u64;
    }
    Ok((r, n))
}

#[inline]
fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Powers of ten up to 10^9, to scale a fraction to nanoseconds.
const POW10: [u64; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// Digits at `t[k..]` as a u64, with the index after them (`None` when
/// there is none, or on overflow). Up to 19 digits
/// cannot overflow and take the fast loop; longer runs are checked.
#[inline(always)]
pub(crate) fn digits_at(t: &[u8], k: usize) -> Option<(u64, usize)> {
    let s = t.get(k..)?;
    let fast = s.len().min(19);
    let mut n: u64 = 0;
    let mut j = 0;
    while j < fast {
        let d = s[j].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n * 10 + d as u64;
        j += 1;
    }
    if j == 0 {
        return None;
    }
    if j == fast {
        while let Some(&c) = s.get(j) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            n = n.checked_mul(10)?.checked_add(d as u64)?;
            j += 1;
        }
    }
    Some((n, k + j))
}

/// The digits of a decimal fraction (what follows the dot) at `t[start..]`,
/// as nanoseconds, and the index after them: `295735` → 295735000. At most
/// `max` digits are read; digits past the ninth are read but do not count.
/// `None` when there is no digit.
#[inline(always)]
pub(crate) fn fraction_ns(t: &[u8], start: usize, max: usize) -> Option<(u64, usize)> {
    let lim = t.len().min(start.saturating_add(max));
    let mut k = start;
    let mut ns: u64 = 0;
    while k < lim {
        let d = t[k].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if k - start < 9 {
            ns = ns * 10 + d as u64;
        }
        k += 1;
    }
    (k > start).then(|| (ns * POW10[9 - (k - start).min(9)], k))
}

/// How a fixed-width decimal field is padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pad {
    /// `%Nd`: spaces, then at least one digit.
    Left,
    /// `%-Nd`: at least one digit, then spaces.
    Right,
    /// `%0Nd` or a fraction: digits only.
    None,
}

/// A fixed-width decimal field of `N` bytes at `t[k..]` (`%5lu`, `%-7d`,
/// `%06lu`): its value, or `None` when the bytes do not have that shape.
///
/// The field is read without a branch per byte, so fields whose digit
/// count changes from line to line (pids, CPUs) cost no mispredicted loop
/// exits. Example: `  687` with [`Pad::Left`] is 687, `955    ` with
/// [`Pad::Right`] is 955, `805961` with [`Pad::None`] is 805961.
#[inline(always)]
pub(crate) fn fixed_field<const N: usize>(t: &[u8], k: usize, pad: Pad) -> Option<u64> {
    match t.get(k..k.checked_add(8)?).map(<[u8; 8]>::try_from) {
        Some(Ok(w)) if N <= 8 => fixed_field_swar::<N>(u64::from_le_bytes(w), pad),
        _ => fixed_field_bytes::<N>(t, k, pad),
    }
}

/// [`fixed_field`] on the first `N` of 8 bytes loaded at once (the first
/// byte lowest), all at once: which bytes are digits and which are spaces,
/// then the digits' value by multiplying pairs, fours and eights together.
#[inline(always)]
fn fixed_field_swar<const N: usize>(w: u64, pad: Pad) -> Option<u64> {
    const HI: u64 = 0x8080_8080_8080_8080;
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let full = if N >= 8 {
        HI
    } else {
        HI & ((1u64 << (8 * N)) - 1)
    };
    // Digits: byte ^ '0' is 0..=9. Spaces: byte ^ ' ' is 0.
    let x = w ^ 0x3030_3030_3030_3030;
    let digits = !(((x & LO7) + 0x7676_7676_7676_7676) | x) & HI & full;
    let y = w ^ 0x2020_2020_2020_2020;
    let spaces = !(((y & LO7) + LO7) | y) & HI & full;
    if digits == 0 || digits | spaces != full {
        return None;
    }
    let lowest = |m: u64| m & m.wrapping_neg();
    let ok = match pad {
        // Every space below (before) every digit.
        Pad::Left => spaces < lowest(digits),
        Pad::Right => spaces == 0 || digits < lowest(spaces),
        Pad::None => spaces == 0,
    };
    if !ok {
        return None;
    }
    Some(swar_value(x, digits))
}

/// The value of the digits marked in `digits` (high bit of each digit
/// byte, all digits contiguous) of `x` (bytes already `^ b'0'`), the first
/// byte lowest; other bytes count as leading zeros.
#[inline(always)]
fn swar_value(x: u64, digits: u64) -> u64 {
    let d = x & (digits >> 7).wrapping_mul(0xFF);
    // Move the last digit to the top byte: the bytes below are leading zeros.
    let last = 63 - u64::from(digits.leading_zeros());
    let d = d << (63 - last);
    let d = d.wrapping_mul(10).wrapping_add(d >> 8);
    ((d & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32))
        + ((d >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32)))
        >> 32
}

/// [`fixed_field`] a byte at a time, where 8 bytes cannot be loaded.
#[inline(always)]
fn fixed_field_bytes<const N: usize>(t: &[u8], k: usize, pad: Pad) -> Option<u64> {
    let f: &[u8; N] = t.get(k..k.checked_add(N)?)?.try_into().ok()?;
    let mut v: u64 = 0;
    let mut ok = true;
    let mut digits = false;
    let mut spaces = false;
    for &c in f {
        let d = c.wrapping_sub(b'0');
        let digit = d < 10;
        let space = c == b' ';
        ok &= match pad {
            Pad::Left => digit | (space & !digits),
            Pad::Right => (digit & !spaces) | (space & digits),
            Pad::None => digit,
        };
        digits |= digit;
        spaces |= space;
        let m = u64::from(digit);
        v = v * (1 + 9 * m) + m * u64::from(d);
    }
    (ok & digits).then_some(v)
}

/// Seconds with a fraction, as nanoseconds: `2649.295735` → 2649295735000,
/// `106439.675570920` → 106439675570920. The fraction has 1 or more digits;
/// the first 9 count.
#[inline]
pub(crate) fn secs_frac_ns(i: &[u8]) -> IResult<&[u8], u64> {
    let (r, secs) = dec_u64(i)?;
    let Some(frac) = r.strip_prefix(b".") else {
        return fail(i);
    };
    let Some((ns, k)) = fraction_ns(frac, 0, usize::MAX) else {
        return fail(i);
    };
    match secs
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(ns))
    {
        Some(t) => Ok((&frac[k..], t)),
        None => fail(i),
    }
}

/// Zero or more spaces or tabs.
#[inline]
pub(crate) fn sp0(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|c: u8| c == b' ' || c == b'\t').parse(i)
}

/// Skip leading spaces and tabs (not a parser: never fails).
#[inline]
pub(crate) fn trim_start(i: &[u8]) -> &[u8] {
    let k = i
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(i.len());
    &i[k..]
}

/// Trim spaces and tabs at both ends.
#[inline]
pub(crate) fn trim(i: &[u8]) -> &[u8] {
    let i = trim_start(i);
    let k = i
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(0, |k| k + 1);
    &i[..k]
}

/// Characters of a kernel symbol (with compiler suffixes such as `.isra.0`).
#[inline]
pub(crate) fn is_symbol_char(c: u8) -> bool {
    SYMBOL[c as usize]
}

/// Lookup table for [`is_symbol_char`].
const SYMBOL: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$';
        c += 1;
    }
    t
};

/// Hex digit values; 0xff for non-hex bytes.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 0xff,
        };
        c += 1;
    }
    t
};

/// Length of the leading run of symbol characters.
#[inline]
pub(crate) fn symbol_len(i: &[u8]) -> usize {
    let mut k = 0;
    // Eight bytes at a time, then the tail a byte at a time.
    while let Some(w) = i.get(k..k + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let other = non_symbol_bytes(u64::from_le_bytes(w));
        if other != 0 {
            return k + (other.trailing_zeros() / 8) as usize;
        }
        k += 8;
    }
    k + i[k..]
        .iter()
        .position(|&c| !SYMBOL[c as usize])
        .unwrap_or(i.len() - k)
}

/// The high bit of each byte of `w` that is not a symbol character
/// ([`is_symbol_char`]), all bytes at once: `[0-9A-Za-z_.$]` by ranges
/// and equalities on the low seven bits, bytes with the high bit set
/// excluded.
#[inline(always)]
fn non_symbol_bytes(w: u64) -> u64 {
    const HI: u64 = 0x8080_8080_8080_8080;
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = w & LO7;
    // High bit set where the (7-bit) byte is in lo..=hi; no carry crosses
    // a byte since x < 0x80.
    let in_range = |x: u64, lo: u8, hi: u8| {
        (x + ONES * u64::from(0x80 - lo)) & !(x + ONES * u64::from(0x7F - hi)) & HI
    };
    let is = |c: u8| !((x ^ (ONES * u64::from(c))) + LO7) & HI;
    let alpha = in_range(x | (ONES * 0x20), b'a', b'z');
    let digit = in_range(x, b'0', b'9');
    let sym = (alpha | digit | is(b'_') | is(b'.') | is(b'$')) & !(w & HI);
    !sym & HI
}

/// Find `key` followed by a decimal number anywhere in `hay`: `eb=` in
/// `read done, eb=15302115328 page_refs=3`. Returns the first match whose
/// key is at a word start.
pub(crate) fn find_u64_after(hay: &[u8], key: &[u8]) -> Option<u64> {
    let first = *key.first()?;
    let mut from = 0;
    while let Some(p) = memchr::memchr(first, &hay[from..]) {
        let at = from + p;
        if !hay[at..].starts_with(key) {
            from = at + 1;
            continue;
        }
        let word_start = at == 0 || !is_symbol_char(hay[at - 1]);
        if word_start {
            if let Ok((_, n)) = dec_u64(&hay[at + key.len()..]) {
                return Some(n);
            }
        }
        from = at + 1;
    }
    None
}

/// Whether `needle` occurs in `hay`. For the short haystacks of a single
/// line (symbols, payload prefixes) a plain scan beats building a `memmem`
/// searcher on every call.
#[inline]
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.len() > 256 {
        return memchr::memmem::find(hay, needle).is_some();
    }
    let first = needle[0];
    let mut i = 0;
    while let Some(p) = memchr::memchr(first, &hay[i..]) {
        let at = i + p;
        if hay[at..].starts_with(needle) {
            return true;
        }
        i = at + 1;
    }
    false
}

/// A lower-case 36-character UUID as printed by `%pU`/`%pUb`.
pub(crate) fn uuid(i: &[u8]) -> IResult<&[u8], [u8; 16]> {
    let Some(u) = i.get(..36) else {
        return fail(i);
    };
    if u[8] != b'-' || u[13] != b'-' || u[18] != b'-' || u[23] != b'-' {
        return fail(i);
    }
    let (Some(a), Some(b), Some(c), Some(d), Some(e)) = (
        hex_run(&u[0..8]),
        hex_run(&u[9..13]),
        hex_run(&u[14..18]),
        hex_run(&u[19..23]),
        hex_run(&u[24..36]),
    ) else {
        return fail(i);
    };
    let mut out = [0u8; 16];
    out[0..4].copy_from_slice(&(a as u32).to_be_bytes());
    out[4..6].copy_from_slice(&(b as u16).to_be_bytes());
    out[6..8].copy_from_slice(&(c as u16).to_be_bytes());
    out[8..10].copy_from_slice(&(d as u16).to_be_bytes());
    out[10..16].copy_from_slice(&e.to_be_bytes()[2..8]);
    Ok((&i[36..], out))
}

/// Up to 16 hex digits as a number.
#[inline]
fn hex_run(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for &c in b {
        let h = HEX[c as usize];
        if h == 0xff {
            return None;
        }
        v = (v << 4) | h as u64;
    }
    Some(v)
}

/// Format 16 bytes as a lower-case UUID.
pub(crate) fn format_uuid(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (k, b) in u.iter().enumerate() {
        if matches!(k, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The `key=value` pairs of a trace payload, in the order printed.
///
/// Example: `read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a…`
/// gives `eb`, `page_refs`, `level`, `fsid`; `prev_comm=bash prev_pid=1234
/// prev_prio=120 prev_state=S ==> next_comm=ls` gives the four `prev_*` and
/// `next_comm`; `root=5(FS_TREE)` keeps `5(FS_TREE)` as its value. A key is
/// a run of symbol characters ([`is_symbol_char`]) at a word start; the value
/// runs to the next blank, or to the closing quote when it starts with `"`,
/// and loses a trailing `,` or `;`. Nothing here allocates.
pub(crate) fn key_values(payload: &[u8]) -> KeyValues<'_> {
    KeyValues { rest: payload }
}

/// The iterator of [`key_values`].
#[derive(Debug, Clone)]
pub(crate) struct KeyValues<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for KeyValues<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let r = self.rest;
            let eq = memchr::memchr(b'=', r)?;
            // The key: the symbol characters right before `=`, at a word start.
            let start = r[..eq]
                .iter()
                .rposition(|&c| !is_symbol_char(c))
                .map_or(0, |p| p + 1);
            let key = &r[start..eq];
            let word_start = start == 0 || matches!(r[start - 1], b' ' | b'\t' | b',' | b'(');
            let v = &r[eq + 1..];
            let (value, after) = if v.first() == Some(&b'"') {
                match memchr::memchr(b'"', &v[1..]) {
                    Some(q) => (&v[1..q + 1], q + 2),
                    None => (&v[1..], v.len()),
                }
            } else {
                let end = v
                    .iter()
                    .position(|&c| c == b' ' || c == b'\t')
                    .unwrap_or(v.len());
                let mut val = &v[..end];
                while let Some((&last, head)) = val.split_last() {
                    if last == b',' || last == b';' {
                        val = head;
                    } else {
                        break;
                    }
                }
                (val, end)
            };
            self.rest = &v[after.min(v.len())..];
            if !key.is_empty() && word_start && !key[0].is_ascii_digit() {
                return Some((key, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_len_eight_at_a_time_matches_the_table() {
        // Every byte value at every position of a 19-byte run of symbol
        // characters (two words and a tail).
        for pos in 0..19 {
            for c in 0..=255u8 {
                let mut t = *b"abcdefghijklmnopqrs";
                t[pos] = c;
                let want = t
                    .iter()
                    .position(|&b| !is_symbol_char(b))
                    .unwrap_or(t.len());
                assert_eq!(symbol_len(&t), want, "byte {c:#04x} at {pos}");
            }
        }
        assert_eq!(symbol_len(b"end_bbio_meta_read: read done"), 18);
        assert_eq!(symbol_len(b"scrub_submit.part.0+0x1a4/0x2c0"), 19);
        assert_eq!(symbol_len(b""), 0);
        assert_eq!(symbol_len(b"__x64_sys_openat"), 16);
    }

    #[test]
    fn decimal_numbers() {
        assert_eq!(dec_u64(b"15302115328 len"), Ok((&b" len"[..], 15302115328)));
        assert_eq!(dec_u64(b"18446744073709551615x"), Ok((&b"x"[..], u64::MAX)));
        assert!(dec_u64(b"18446744073709551616").is_err());
        assert!(dec_u64(b"x1").is_err());
        assert_eq!(dec_i64(b"-17)"), Ok((&b")"[..], -17)));
        assert_eq!(dec_u64_or_neg(b"-6"), Ok((&b""[..], 18446744073709551610)));
        assert_eq!(dec_u32(b"4294967296"), fail(b"4294967296"));
    }

    #[test]
    fn fixed_width_fields() {
        // `[  687.806206]`: `%5lu` then `%06lu`.
        let t = b"[  687.806206]";
        assert_eq!(fixed_field::<5>(t, 1, Pad::Left), Some(687));
        assert_eq!(fixed_field::<6>(t, 7, Pad::None), Some(806206));
        // `-955      45`: `-%-7d` then ` %3d`.
        let t = b"-955      45.....";
        assert_eq!(fixed_field::<7>(t, 1, Pad::Right), Some(955));
        assert_eq!(fixed_field::<3>(t, 9, Pad::Left), Some(45));
        assert_eq!(fixed_field::<7>(b"1234567", 0, Pad::Right), Some(1234567));
        assert_eq!(fixed_field::<3>(b"999", 0, Pad::Left), Some(999));
        // Wrong shapes: blanks on the wrong side, inside, or only blanks;
        // other bytes; too short.
        assert_eq!(fixed_field::<5>(b"687  ", 0, Pad::Left), None);
        assert_eq!(fixed_field::<7>(b"  955  ", 0, Pad::Right), None);
        assert_eq!(fixed_field::<5>(b" 6 87", 0, Pad::Left), None);
        assert_eq!(fixed_field::<7>(b"9 5    ", 0, Pad::Right), None);
        assert_eq!(fixed_field::<3>(b"   ", 0, Pad::Left), None);
        assert_eq!(fixed_field::<3>(b"   ", 0, Pad::Right), None);
        assert_eq!(fixed_field::<3>(b"1a2", 0, Pad::None), None);
        assert_eq!(fixed_field::<3>(b" 12", 0, Pad::None), None);
        assert_eq!(fixed_field::<6>(b"12345", 0, Pad::None), None);
        assert_eq!(fixed_field::<3>(b"123", usize::MAX, Pad::None), None);
    }

    #[test]
    fn fixed_width_fields_read_at_once_as_a_byte_at_a_time() {
        // Every string of up to 8 bytes over digits, spaces and one other
        // byte, padded on the right so that 8 bytes load.
        let alphabet = [b' ', b'0', b'1', b'7', b'9', b'.', b'/', b':', 0xB0, 0x10];
        let mut s = [0u8; 8];
        for n in 1..=6u32 {
            for code in 0..alphabet.len().pow(n) {
                let mut c = code;
                for b in s.iter_mut().take(n as usize) {
                    *b = alphabet[c % alphabet.len()];
                    c /= alphabet.len();
                }
                let mut t = s[..n as usize].to_vec();
                t.extend_from_slice(b"xxxxxxxx");
                for pad in [Pad::Left, Pad::Right, Pad::None] {
                    let want = |k: usize| match n {
                        1 => fixed_field_bytes::<1>(&t, k, pad),
                        2 => fixed_field_bytes::<2>(&t, k, pad),
                        3 => fixed_field_bytes::<3>(&t, k, pad),
                        4 => fixed_field_bytes::<4>(&t, k, pad),
                        5 => fixed_field_bytes::<5>(&t, k, pad),
                        _ => fixed_field_bytes::<6>(&t, k, pad),
                    };
                    let got = match n {
                        1 => fixed_field::<1>(&t, 0, pad),
                        2 => fixed_field::<2>(&t, 0, pad),
                        3 => fixed_field::<3>(&t, 0, pad),
                        4 => fixed_field::<4>(&t, 0, pad),
                        5 => fixed_field::<5>(&t, 0, pad),
                        _ => fixed_field::<6>(&t, 0, pad),
                    };
                    assert_eq!(got, want(0), "{:?} {pad:?}", &t[..n as usize]);
                }
            }
        }
        // Seven and eight bytes: the widths of pids and beyond.
        for t in [
            &b"1234567 x"[..],
            b"  12345 x",
            b"12 4567 x",
            b"9999999 x",
            b"12345678x",
        ] {
            for pad in [Pad::Left, Pad::Right, Pad::None] {
                assert_eq!(
                    fixed_field::<7>(t, 0, pad),
                    fixed_field_bytes::<7>(t, 0, pad)
                );
                assert_eq!(
                    fixed_field::<8>(t, 0, pad),
                    fixed_field_bytes::<8>(t, 0, pad)
                );
            }
        }
    }

    #[test]
    fn hex_and_time() {
        assert_eq!(hex_u64(b"0x7df93c74 pfn"), Ok((&b" pfn"[..], 0x7df93c74)));
        assert!(hex_u64(b"7df").is_err());
        assert_eq!(
            secs_frac_ns(b"2649.295735: x"),
            Ok((&b": x"[..], 2_649_295_735_000))
        );
        assert_eq!(
            secs_frac_ns(b"106439.675570920:"),
            Ok((&b":"[..], 106_439_675_570_920))
        );
        assert_eq!(secs_frac_ns(b"0.000000]"), Ok((&b"]"[..], 0)));
        assert!(secs_frac_ns(b"12:").is_err());
    }

    #[test]
    fn key_values() {
        let p = b"read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000";
        assert_eq!(find_u64_after(p, b"eb="), Some(15302115328));
        assert_eq!(find_u64_after(p, b"page_refs="), Some(3));
        assert_eq!(find_u64_after(b"xeb=5 eb=7", b"eb="), Some(7));
        let (_, u) = uuid(b"b66a67f0-8273-4158-b7bf-988bb5683000").unwrap();
        assert_eq!(format_uuid(&u), "b66a67f0-8273-4158-b7bf-988bb5683000");
        assert!(uuid(b"b66a67f0-8273-4158-b7bf-988bb568300").is_err());
    }
    #[test]
    fn key_value_pairs_of_payloads() {
        let kv = |p: &str| -> Vec<(String, String)> {
            super::key_values(p.as_bytes())
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(k).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect()
        };
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            kv("read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000"),
            pairs(&[
                ("eb", "15302115328"),
                ("page_refs", "3"),
                ("level", "0"),
                ("fsid", "b66a67f0-8273-4158-b7bf-988bb5683000")
            ])
        );
        assert_eq!(
            kv("prev_comm=bash prev_pid=1234 prev_state=S ==> next_comm=ls next_pid=7"),
            pairs(&[
                ("prev_comm", "bash"),
                ("prev_pid", "1234"),
                ("prev_state", "S"),
                ("next_comm", "ls"),
                ("next_pid", "7")
            ])
        );
        assert_eq!(
            kv("b66a67f0-8273: root=5(FS_TREE) ino=257, name=\"a b\" x=;"),
            pairs(&[
                ("root", "5(FS_TREE)"),
                ("ino", "257"),
                ("name", "a b"),
                ("x", "")
            ])
        );
        // No key: `=5`, `a-b=1` (not at a word start), `==>`, an unclosed quote.
        assert_eq!(kv("=5 a-b=1 ==> 1x=2"), pairs(&[]));
        assert_eq!(kv("k=\"open"), pairs(&[("k", "open")]));
        assert_eq!(kv(""), pairs(&[]));
    }
}
