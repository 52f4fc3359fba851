//! Per-line clean-up of mail residue: quote markers, quoted-printable escapes
//! and non-breaking spaces.
//!
//! [`normalize`] looks at one physical line and says what to strip and what to
//! rewrite. The common case (no `>` at the start, no `0xA0` byte, no QP in the
//! input) costs two `memchr` calls and copies nothing: the text stays borrowed.

use super::kinds;

/// Deepest quote level stripped (`>>>>>>>> text`); deeper markers stay.
const MAX_DEPTH: u8 = 8;

/// What [`normalize`] did to a line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Norm {
    /// Bytes of quote markers stripped from the start of the physical line.
    pub qlen: usize,
    /// Quote depth (number of `>` markers stripped).
    pub depth: u8,
    /// The text was rewritten into the scratch buffer (QP or NBSP); otherwise
    /// it is `physical[qlen..]`.
    pub owned: bool,
    /// [`kinds`] applied to this line.
    pub repairs: u16,
    /// The line ended in a quoted-printable soft line break (`=` removed).
    pub soft_break: bool,
}

/// Quoted-printable state of one input: decoding starts at the first line
/// that shows QP evidence (looked for in the first [`QP_LOOK_LINES`] lines)
/// and stays on for the rest of the input.
#[derive(Debug, Default, Clone)]
pub(crate) struct Qp {
    active: bool,
    weak_seen: u32,
    looked: u32,
}

/// Residue of a quoted-printable mail shows from its first lines: evidence
/// is looked for in the first this-many lines of an input only.
const QP_LOOK_LINES: u32 = 1024;

impl Qp {
    /// Whether decoding is on.
    pub(crate) fn active(&self) -> bool {
        self.active
    }

    /// Whether the verdict is final: evidence is no longer looked for.
    pub(crate) fn settled(&self) -> bool {
        self.active || self.looked >= QP_LOOK_LINES
    }

    /// Look at a line (quote markers removed) for QP evidence.
    ///
    /// Strong evidence, enough on its own: `=3D` (an encoded `=`, which QP must
    /// encode) or `=C2=A0`, on a line where every `=` is a well-formed escape or
    /// a final soft break. Weak evidence: a well-formed line of at most 77 bytes
    /// ending in a soft break; two such lines turn decoding on. A `key=20` or a
    /// KASAN `====` rule is not evidence: `=2` followed by `0` is well-formed
    /// but neither strong nor a soft break, and `==` is malformed.
    fn observe(&mut self, t: &[u8]) {
        if self.active || self.looked >= QP_LOOK_LINES {
            return;
        }
        self.looked += 1;
        if memchr::memchr(b'=', t).is_none() {
            return;
        }
        let mut strong = false;
        let mut i = 0;
        while let Some(p) = memchr::memchr(b'=', &t[i..]) {
            let at = i + p;
            if at + 1 == t.len() {
                break; // soft break
            }
            match (t.get(at + 1), t.get(at + 2)) {
                (Some(&a), Some(&b)) if is_qp_hex(a) && is_qp_hex(b) => {
                    if (a, b) == (b'3', b'D') || t[at..].starts_with(b"=C2=A0") {
                        strong = true;
                    }
                    i = at + 3;
                }
                _ => return, // a bare '=': not QP
            }
        }
        let soft = t.last() == Some(&b'=') && t.len() <= 77 && t.len() >= 2;
        if strong {
            self.active = true;
        } else if soft {
            self.weak_seen += 1;
            if self.weak_seen >= 2 {
                self.active = true;
            }
        }
    }
}

fn is_qp_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'A'..=b'F').contains(&c)
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Strip mail quote markers: `> `, `>> `, `> > `, `>>> `, a lone `>`.
///
/// A `>` counts as a marker only when a space, another `>` or the end of the
/// line follows it, so payload that starts with `>` (the KASAN shadow row
/// `>ffff88810c70a300: fb fb`) is kept, also inside a quote (`> >ffff...`).
/// Returns (bytes stripped, depth).
pub(crate) fn unquote(t: &[u8]) -> (usize, u8) {
    let mut i = 0;
    let mut depth = 0u8;
    while depth < MAX_DEPTH && t.get(i) == Some(&b'>') {
        match t.get(i + 1) {
            None => {
                i += 1;
                depth += 1;
            }
            Some(b'>') => {
                i += 1;
                depth += 1;
            }
            Some(b' ') => {
                i += 2;
                depth += 1;
            }
            Some(_) => break,
        }
    }
    (i, depth)
}

/// Clean one physical line. The result is `phys[norm.qlen..]` unless
/// `norm.owned`, then it is in `buf`.
pub(crate) fn normalize(phys: &[u8], qp: &mut Qp, buf: &mut Vec<u8>) -> Norm {
    let mut n = Norm::default();
    if phys.first() == Some(&b'>') {
        let (qlen, depth) = unquote(phys);
        if depth > 0 {
            n.qlen = qlen;
            n.depth = depth;
            n.repairs |= kinds::UNQUOTE;
        }
    }
    let t = &phys[n.qlen..];
    qp.observe(t);
    let has_nbsp = memchr::memchr(0xA0, t).is_some();
    let qp_here = qp.active() && memchr::memchr(b'=', t).is_some();
    if !has_nbsp && !qp_here {
        return n;
    }
    buf.clear();
    if qp_here {
        n.soft_break = qp_decode(t, buf);
        if n.soft_break || buf.as_slice() != t {
            n.repairs |= kinds::QUOTED_PRINTABLE;
        }
    } else {
        buf.extend_from_slice(t);
    }
    if nbsp_to_space(buf) {
        n.repairs |= kinds::NBSP;
    }
    n.owned = true;
    n
}

/// Decode `=XX` escapes (upper-case hex, as QP writes them) and drop a final
/// soft break; malformed `=` sequences are kept. Returns whether the line
/// ended in a soft break.
fn qp_decode(t: &[u8], out: &mut Vec<u8>) -> bool {
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'=', &t[i..]) {
        let at = i + p;
        out.extend_from_slice(&t[i..at]);
        if at + 1 == t.len() {
            return true;
        }
        match (t.get(at + 1), t.get(at + 2)) {
            (Some(&a), Some(&b)) if is_qp_hex(a) && is_qp_hex(b) => {
                out.push(hex_val(a) << 4 | hex_val(b));
                i = at + 3;
            }
            _ => {
                out.push(b'=');
                i = at + 1;
            }
        }
    }
    out.extend_from_slice(&t[i..]);
    false
}

/// Turn non-breaking spaces into spaces, in place: U+00A0 in valid UTF-8
/// (`C2 A0`, two bytes become one) and a lone latin-1 `A0` byte that is not
/// part of a UTF-8 sequence (so `à`, `C3 A0`, is kept). Returns whether
/// anything changed.
fn nbsp_to_space(buf: &mut Vec<u8>) -> bool {
    if memchr::memchr(0xA0, buf).is_none() {
        return false;
    }
    let src = std::mem::take(buf);
    let mut changed = false;
    for chunk in src.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        let mut i = 0;
        while let Some(p) = memchr::memmem::find(&valid[i..], b"\xC2\xA0") {
            buf.extend_from_slice(&valid[i..i + p]);
            buf.push(b' ');
            i += p + 2;
            changed = true;
        }
        buf.extend_from_slice(&valid[i..]);
        for &c in chunk.invalid() {
            if c == 0xA0 {
                buf.push(b' ');
                changed = true;
            } else {
                buf.push(c);
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(lines: &[&[u8]]) -> Vec<(Vec<u8>, Norm)> {
        let mut qp = Qp::default();
        let mut buf = Vec::new();
        lines
            .iter()
            .map(|l| {
                let n = normalize(l, &mut qp, &mut buf);
                let t = if n.owned {
                    buf.clone()
                } else {
                    l[n.qlen..].to_vec()
                };
                (t, n)
            })
            .collect()
    }

    #[test]
    fn quote_levels() {
        assert_eq!(unquote(b"> x"), (2, 1));
        assert_eq!(unquote(b">> x"), (3, 2));
        assert_eq!(unquote(b"> > x"), (4, 2));
        assert_eq!(unquote(b">>> x"), (4, 3));
        assert_eq!(unquote(b">"), (1, 1));
        assert_eq!(unquote(b"> "), (2, 1));
        assert_eq!(unquote(b"x > y"), (0, 0));
    }

    #[test]
    fn payload_greater_than_is_kept() {
        // KASAN marks the faulting shadow row with '>' glued to the address.
        assert_eq!(unquote(b">ffff88810c70a300: fb fb fb fb"), (0, 0));
        assert_eq!(unquote(b"> >ffff88810c70a300: fb fb"), (2, 1));
        assert_eq!(unquote(b"->next"), (0, 0));
        let r = norm(&[b">ffff88810c70a300: fb fb fb fb"]);
        assert_eq!(r[0].0, b">ffff88810c70a300: fb fb fb fb");
        assert_eq!(r[0].1.repairs, 0);
    }

    #[test]
    fn untouched_lines_stay_borrowed() {
        let r = norm(&[b"[ 1.000000] BTRFS info (device sda): eb=3 len=20"]);
        assert_eq!(r[0].1, Norm::default());
    }

    #[test]
    fn quoted_printable_needs_evidence() {
        // `util=20` and a `====` rule are not QP.
        let r = norm(&[b"cpu=3 load=64 util=20", b"==================", b"a=3Db"]);
        assert_eq!(r[0].1.repairs, 0);
        assert_eq!(r[1].1.repairs, 0);
        assert_eq!(r[2].0, b"a=b");
        assert_eq!(r[2].1.repairs, kinds::QUOTED_PRINTABLE);
        // A line with a bare '=' is not evidence, even with =3D on it.
        let r = norm(&[b"x=3D and y= z", b"a=3Db"]);
        assert_eq!(r[0].1.repairs, 0);
        assert!(r[1].1.repairs & kinds::QUOTED_PRINTABLE != 0);
    }

    #[test]
    fn quoted_printable_decoding() {
        let r = norm(&[
            b"[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=3D258 bl=",
            b"ock=3D15302115328",
            b"nbsp=C2=A0here",
        ]);
        assert_eq!(
            r[0].0,
            b"[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258 bl"
        );
        assert!(r[0].1.soft_break);
        assert_eq!(r[1].0, b"ock=15302115328");
        assert!(!r[1].1.soft_break);
        assert_eq!(r[2].0, b"nbsp here");
        assert_eq!(
            r[2].1.repairs,
            kinds::QUOTED_PRINTABLE | kinds::NBSP,
            "decoded NBSP turned into a space"
        );
    }

    #[test]
    fn two_soft_breaks_turn_qp_on() {
        let r = norm(&[b"abc=", b"def=", b"x=3D1"]);
        assert_eq!(r[0].1.repairs, 0);
        assert!(r[1].1.soft_break);
        assert_eq!(r[2].0, b"x=1");
    }

    #[test]
    fn non_breaking_spaces() {
        let r = norm(&[
            "[ 1.0]\u{a0}BTRFS\u{a0}info".as_bytes(),
            b"latin1\xa0space",
            "voil\u{e0}".as_bytes(),
        ]);
        assert_eq!(r[0].0, b"[ 1.0] BTRFS info");
        assert_eq!(r[0].1.repairs, kinds::NBSP);
        assert_eq!(r[1].0, b"latin1 space");
        assert_eq!(r[1].1.repairs, kinds::NBSP);
        // 'à' is C3 A0: not a non-breaking space.
        assert_eq!(r[2].0, "voil\u{e0}".as_bytes());
        assert_eq!(r[2].1.repairs, 0);
    }

    #[test]
    fn quote_and_nbsp_together() {
        let r = norm(&["> > \u{a0}x".as_bytes()]);
        assert_eq!(r[0].0, b" x");
        assert_eq!(r[0].1.depth, 2);
        assert_eq!(r[0].1.repairs, kinds::UNQUOTE | kinds::NBSP);
    }
}
