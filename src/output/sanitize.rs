//! Making untrusted capture text safe to show.
//!
//! Human output ([`for_terminal`]) never passes control characters, escape
//! sequences or bidirectional-override characters from the input through to
//! the terminal: C0/C1 controls and DEL become `\xHH` (tab becomes a space),
//! and bidi controls become `<U+202E>`-style tags. Bytes that are not UTF-8
//! become `\xHH` too.
//!
//! JSON output ([`for_json`]) is always valid JSON: text is decoded as UTF-8
//! and each invalid byte sequence is replaced by U+FFFD (the caller marks
//! such text with a `lossy` flag); serde_json escapes controls.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is a bidirectional formatting character (Trojan Source).
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The physical lines of a (possibly rejoined) evidence text, each escaped
/// for a terminal: a record repaired from several lines is shown as the
/// lines it came from, not with `\x0a` between them.
pub(crate) fn terminal_lines(bytes: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    bytes.split(|&b| b == b'\n').map(|l| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        for_terminal(l)
    })
}

/// Escape `bytes` for a terminal, mail or markdown.
pub fn for_terminal(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        if s.chars().all(|c| !c.is_control() && !is_bidi(c)) {
            return Cow::Borrowed(s);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\t' {
                out.push(' ');
            } else if c.is_control() {
                let v = c as u32;
                if v < 0x100 {
                    let _ = write!(out, "\\x{v:02x}");
                } else {
                    let _ = write!(out, "<U+{v:04X}>");
                }
            } else if is_bidi(c) {
                let _ = write!(out, "<U+{:04X}>", c as u32);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// Decode `bytes` for JSON; the flag says whether anything was replaced.
pub fn for_json(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => (Cow::Borrowed(s), false),
        Cow::Owned(s) => (Cow::Owned(s), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_bidi_and_invalid_bytes() {
        assert_eq!(for_terminal(b"plain text"), "plain text");
        assert_eq!(for_terminal(b"a\x1b[31mred"), "a\\x1b[31mred");
        assert_eq!(for_terminal(b"tab\there"), "tab here");
        assert_eq!(for_terminal("x\u{202E}y".as_bytes()), "x<U+202E>y");
        assert_eq!(for_terminal(b"bad\xff\xfe"), "bad\\xff\\xfe");
        assert_eq!(for_terminal(b"\x00\x7f"), "\\x00\\x7f");
        assert_eq!(for_terminal("\u{85}".as_bytes()), "\\x85");
    }

    #[test]
    fn json_is_lossy_but_flagged() {
        assert_eq!(for_json(b"ok"), (Cow::Borrowed("ok"), false));
        let (s, lossy) = for_json(b"a\xffb");
        assert_eq!(s, "a\u{FFFD}b");
        assert!(lossy);
    }
}
