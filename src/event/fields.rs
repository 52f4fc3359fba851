//! The fields of any trace event or kernel message, found lazily over its
//! bytes: `name=value`, `name= value`, `name = value`, `name: value` and
//! `name value` (where the value looks like a number), plus values that no
//! name introduces. Nothing is allocated: every [`Field`] borrows the text.
//!
//! Shared by `events` (the `fields` object), `timeline --key` and the
//! declared recognisers ([`super::declared`]), which read key values from
//! the fields a rules file names.
//!
//! Examples of what is found:
//!
//! * `dev 252:18 daddr 0x0 bbcount 0x1 hold 1` (an `xfs_buf_hold` payload):
//!   `dev=252:18`, `daddr=0x0`, `bbcount=0x1`, `hold=1`;
//! * `pfn=0x206a78 flags=uptodate|lru count=2 mapping=00000000c3f8a2b1`;
//! * `found device with bdev: ffff888114e14400 fs_info: ffff888110f2a000`;
//! * `Updating fs_info for ffff888114e14400: old = 0000000000000000 new=ffff888110f2a000`:
//!   `for=ffff888114e14400`, `old=0000000000000000`, `new=ffff888110f2a000`;
//! * `bad inode magic/vsn daddr 8723584 #0 (magic=1818)`: `daddr=8723584`, `magic=1818`.

/// One field: its name (empty for a value no name introduces) and its value
/// as printed, without surrounding punctuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    /// The name (`daddr`), or empty.
    pub name: &'a [u8],
    /// The value (`0x851c80`).
    pub value: &'a [u8],
}

/// The fields of `text`, in order.
pub(crate) fn fields(text: &[u8]) -> Fields<'_> {
    Fields {
        text,
        at: 0,
        prev: None,
    }
}

/// Iterator over the fields of a text ([`fields`]).
#[derive(Debug, Clone)]
pub(crate) struct Fields<'a> {
    text: &'a [u8],
    at: usize,
    /// The previous token, when it may name the next value.
    prev: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    /// The next whitespace-separated token.
    fn token(&mut self) -> Option<&'a [u8]> {
        let t = self.text;
        let mut i = self.at;
        while i < t.len() && t[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= t.len() {
            self.at = i;
            return None;
        }
        let start = i;
        while i < t.len() && !t[i].is_ascii_whitespace() {
            i += 1;
        }
        self.at = i;
        Some(&t[start..i])
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        loop {
            let tok = self.token()?;
            let prev = self.prev.take();
            if let Some(eq) = memchr::memchr(b'=', tok) {
                // `name=value`, `name= value`, `name = value`.
                let mut name = name_part(&tok[..eq]);
                if eq == 0 {
                    name = prev.map(name_part).unwrap_or_default();
                }
                let mut value = &tok[eq + 1..];
                if value.is_empty() {
                    // `name= value`; but `flags= count=2` has an empty value.
                    let save = self.at;
                    value = self.token().unwrap_or_default();
                    if value.contains(&b'=') && value != b"=" {
                        self.at = save;
                        value = &[];
                    }
                }
                let value = trim_value(value);
                if name.is_empty() || value.is_empty() {
                    continue;
                }
                return Some(Field { name, value });
            }
            if let Some(head) = tok.strip_suffix(b":") {
                // `name: value` (any value); `0xffff...:` is a value.
                let name = name_part(head);
                if is_name(name) && !looks_numeric(name) {
                    let save = (self.at, self.prev);
                    match self.token() {
                        Some(v) if !v.ends_with(b":") || looks_numeric(trim_value(v)) => {
                            let value = trim_value(v);
                            if !value.is_empty() {
                                return Some(Field { name, value });
                            }
                        }
                        _ => (self.at, self.prev) = save,
                    }
                    self.prev = Some(name);
                    continue;
                }
            }
            let value = trim_value(tok);
            if looks_numeric(value) {
                let name = prev.filter(|p| is_name(p) && !looks_numeric(p));
                return Some(Field {
                    name: name.unwrap_or_default(),
                    value,
                });
            }
            self.prev = Some(tok);
        }
    }
}

/// The name in `(name` or `name`: leading punctuation dropped.
fn name_part(t: &[u8]) -> &[u8] {
    let k = t
        .iter()
        .position(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .unwrap_or(t.len());
    &t[k..]
}

/// `name`: a letter or `_`, then letters, digits, `_`, `.` or `-`, at most 64 bytes.
pub(crate) fn is_name(t: &[u8]) -> bool {
    matches!(t.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_')
        && t.len() <= 64
        && t.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// A value without the punctuation around it in prose: `(ffff8881...`,
/// `0x851c80,`, `1818)`, `ffff888114e14400:`.
pub(crate) fn trim_value(v: &[u8]) -> &[u8] {
    let mut a = 0;
    let mut b = v.len();
    while a < b && matches!(v[a], b'(' | b'[' | b'"' | b'\'' | b'<') {
        a += 1;
    }
    while b > a
        && matches!(
            v[b - 1],
            b',' | b';' | b':' | b')' | b']' | b'"' | b'\'' | b'>' | b'.'
        )
    {
        b -= 1;
    }
    &v[a..b]
}

/// Whether a value looks like a number the kernel printed: decimal
/// (`-17`, `8723584`), `0x` hex, a bare kernel pointer (8 to 16 hex digits:
/// `ffff888114e14400`, `00000000c3f8a2b1`) or a device number (`252:18`).
pub(crate) fn looks_numeric(v: &[u8]) -> bool {
    let d = v.strip_prefix(b"-").unwrap_or(v);
    if !d.is_empty() && d.iter().all(u8::is_ascii_digit) {
        return true;
    }
    if let Some(h) = v.strip_prefix(b"0x").or_else(|| v.strip_prefix(b"0X")) {
        return !h.is_empty() && h.len() <= 16 && h.iter().all(u8::is_ascii_hexdigit);
    }
    if (8..=16).contains(&v.len()) && v.iter().all(u8::is_ascii_hexdigit) {
        return true;
    }
    dev_number(v).is_some()
}

/// `major:minor` as the kernel prints a `dev_t` (`252:18`), packed as
/// `MKDEV` does (major above 20 bits of minor).
pub(crate) fn dev_number(v: &[u8]) -> Option<u64> {
    let c = memchr::memchr(b':', v)?;
    let (a, b) = (&v[..c], &v[c + 1..]);
    let num = |s: &[u8]| -> Option<u64> {
        if s.is_empty() || s.len() > 7 || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        crate::fields::dec_u64(s).ok().map(|x| x.1)
    };
    let (major, minor) = (num(a)?, num(b)?);
    (major < 1 << 12 && minor < 1 << 20).then_some((major << 20) | minor)
}

/// A bare or `0x` hex number of at most 16 digits: `ffff888114e14400`, `0x851c80`.
pub(crate) fn hex_number(v: &[u8]) -> Option<u64> {
    let h = v
        .strip_prefix(b"0x")
        .or_else(|| v.strip_prefix(b"0X"))
        .unwrap_or(v);
    if h.is_empty() || h.len() > 16 || !h.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut n = 0u64;
    for &c in h {
        n = (n << 4) | u64::from((c as char).to_digit(16).unwrap_or(0) as u8);
    }
    Some(n)
}

/// A number as a `%llu` / `%#llx` field prints it: decimal, or hex after `0x`.
pub(crate) fn unsigned_number(v: &[u8]) -> Option<u64> {
    if v.starts_with(b"0x") || v.starts_with(b"0X") {
        return hex_number(v);
    }
    match crate::fields::dec_u64(v) {
        Ok((b"", n)) => Some(n),
        _ => None,
    }
}

/// A signed count as `%d` prints it (`-1`, `3`), or `0x` hex.
pub(crate) fn signed_number(v: &[u8]) -> Option<i64> {
    if let Some(d) = v.strip_prefix(b"-") {
        let n = unsigned_number(d)?;
        return i64::try_from(n).ok().map(|n| -n);
    }
    unsigned_number(v).and_then(|n| i64::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(t: &str) -> Vec<(String, String)> {
        fields(t.as_bytes())
            .map(|f| {
                (
                    String::from_utf8_lossy(f.name).into_owned(),
                    String::from_utf8_lossy(f.value).into_owned(),
                )
            })
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn xfs_buf_payload() {
        assert_eq!(
            all("dev 252:18 daddr 0x0 bbcount 0x1 hold 1 pincount 0 lock 0 flags READ|NO_IOACCT|PAGES bufops 0x0 caller __xfs_buf_submit+0x4c"),
            pairs(&[
                ("dev", "252:18"),
                ("daddr", "0x0"),
                ("bbcount", "0x1"),
                ("hold", "1"),
                ("pincount", "0"),
                ("lock", "0"),
                ("bufops", "0x0"),
            ])
        );
    }

    #[test]
    fn page_ref_payload() {
        assert_eq!(
            all("pfn=0x206a78 flags=uptodate|lru count=2 mapcount=0 mapping=00000000c3f8a2b1 mt=1 val=1"),
            pairs(&[
                ("pfn", "0x206a78"),
                ("flags", "uptodate|lru"),
                ("count", "2"),
                ("mapcount", "0"),
                ("mapping", "00000000c3f8a2b1"),
                ("mt", "1"),
                ("val", "1"),
            ])
        );
    }

    #[test]
    fn prose_with_pointers() {
        assert_eq!(
            all("Updating fs_info for ffff888114e14400: old = 0000000000000000 new=ffff888110f2a000"),
            pairs(&[
                ("for", "ffff888114e14400"),
                ("old", "0000000000000000"),
                ("new", "ffff888110f2a000"),
            ])
        );
        assert_eq!(
            all("found device with bdev: ffff888114e14400 fs_info: ffff888110f2a000"),
            pairs(&[
                ("bdev", "ffff888114e14400"),
                ("fs_info", "ffff888110f2a000")
            ])
        );
        assert_eq!(
            all("set bdev to NULL for ffff888114e14400 (STALE FS_DEVICES), fs_info= ffff888110f2a000"),
            pairs(&[("for", "ffff888114e14400"), ("fs_info", "ffff888110f2a000")])
        );
        assert_eq!(
            all("Setting valid bdev to ffff888114e14400 (fs_info = ffff888110f2a000"),
            pairs(&[("to", "ffff888114e14400"), ("fs_info", "ffff888110f2a000")])
        );
        assert_eq!(all("device: dm-0"), pairs(&[("device", "dm-0")]));
    }

    #[test]
    fn kernel_messages() {
        assert_eq!(
            all("bad inode magic/vsn daddr 8723584 #0 (magic=1818)"),
            pairs(&[("daddr", "8723584"), ("magic", "1818")])
        );
        assert_eq!(
            all("metadata I/O error in \"xlog_recover_items_pass2+0x52/0xc0\" at daddr 0x851c80 len 32 error 117"),
            pairs(&[("daddr", "0x851c80"), ("len", "32"), ("error", "117")])
        );
        assert_eq!(
            all("relocating block group 1104150528 flags data"),
            pairs(&[("group", "1104150528")])
        );
        assert_eq!(all("-17"), pairs(&[("", "-17")]));
        assert_eq!(all(""), pairs(&[]));
        assert_eq!(all("= = =x"), pairs(&[]));
        assert_eq!(
            all("pfn=0x1 flags= count=-1"),
            pairs(&[("pfn", "0x1"), ("count", "-1")])
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(dev_number(b"252:18"), Some((252 << 20) | 18));
        assert_eq!(dev_number(b"252:"), None);
        assert_eq!(hex_number(b"ffff888114e14400"), Some(0xffff888114e14400));
        assert_eq!(hex_number(b"0x851c80"), Some(0x851c80));
        assert_eq!(hex_number(b"0x"), None);
        assert_eq!(hex_number(b"1ffff888114e14400"), None);
        assert_eq!(unsigned_number(b"8723584"), Some(8723584));
        assert_eq!(unsigned_number(b"0x851c80"), Some(8723584));
        assert_eq!(unsigned_number(b"12a"), None);
        assert_eq!(signed_number(b"-1"), Some(-1));
        assert_eq!(signed_number(b"18446744073709551615"), None);
        assert!(looks_numeric(b"ffff888114e14400"));
        assert!(!looks_numeric(b"deadbee"));
        assert!(!looks_numeric(b"dm-0"));
    }
}
