//! Templates: how a rules file describes the text of a line, compiled to a
//! byte regex with one named group per field.
//!
//! Grammar: literal text; a run of spaces matches any run of whitespace;
//! `{name}` a value (one token: no whitespace), captured under `name`;
//! `{_}` one token not captured; `{...}` any text (possibly empty); `{{` and
//! `}}` literal braces. The template may match anywhere in the text.
//!
//! Example: `metadata I/O error in "{func}" at daddr {daddr} len {len}` over
//! `metadata I/O error in "xlog_recover_items_pass2+0x52/0xc0" at daddr 0x851c80 len 32 error 117`.

use regex::bytes::{Regex, RegexBuilder};

/// A template that does not compile: the byte offset in the template and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    /// Byte offset in the template text.
    pub at: usize,
    /// What is wrong.
    pub msg: String,
}

/// The regex source of a template, and the names of its fields in order.
pub(crate) fn to_regex(t: &str) -> Result<(String, Vec<String>), TemplateError> {
    let mut re = String::from("(?-u)");
    let mut names = Vec::new();
    let b = t.as_bytes();
    let mut i = 0;
    let mut lit = String::new();
    let flush = |lit: &mut String, re: &mut String| {
        if !lit.is_empty() {
            re.push_str(&regex::escape(lit));
            lit.clear();
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                lit.push('{');
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                lit.push('}');
                i += 2;
            }
            b'{' => {
                let Some(end) = t[i..].find('}') else {
                    return Err(TemplateError {
                        at: i,
                        msg: "'{' is not closed (write '{{' for a literal brace)".into(),
                    });
                };
                let name = &t[i + 1..i + end];
                flush(&mut lit, &mut re);
                match name {
                    "_" => re.push_str(r"\S+"),
                    "..." => re.push_str(".*?"),
                    n if crate::spec::is_ident(n) => {
                        if names.iter().any(|x| x == n) {
                            return Err(TemplateError {
                                at: i + 1,
                                msg: format!("field '{n}' appears twice"),
                            });
                        }
                        re.push_str(&format!(r"(?P<{n}>\S+)"));
                        names.push(n.to_string());
                    }
                    n => {
                        return Err(TemplateError {
                            at: i + 1,
                            msg: format!(
                                "'{{{n}}}' is not a field: a field is a name of letters, digits and '_' (or '{{_}}' for one token, '{{...}}' for any text)"
                            ),
                        })
                    }
                }
                i += end + 1;
            }
            b'}' => {
                return Err(TemplateError {
                    at: i,
                    msg: "'}' without '{' (write '}}' for a literal brace)".into(),
                })
            }
            c if c.is_ascii_whitespace() => {
                flush(&mut lit, &mut re);
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                re.push_str(r"\s+");
            }
            _ => {
                let ch = t[i..].chars().next().unwrap_or('\u{fffd}');
                lit.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    flush(&mut lit, &mut re);
    Ok((re, names))
}

/// Compile a regex the way rules files get them: over bytes, ASCII classes.
pub(crate) fn compile(src: &str) -> Result<Regex, String> {
    RegexBuilder::new(src)
        .unicode(false)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// The longest literal run of a template (for a quick test before the regex).
pub(crate) fn anchor(t: &str) -> String {
    let mut best = String::new();
    let mut cur = String::new();
    let mut depth = false;
    for c in t.chars() {
        match c {
            '{' => {
                depth = true;
                if cur.len() > best.len() {
                    best = std::mem::take(&mut cur);
                }
                cur.clear();
            }
            '}' => depth = false,
            c if !depth && !c.is_ascii_whitespace() => cur.push(c),
            _ => {
                if cur.len() > best.len() {
                    best = std::mem::take(&mut cur);
                }
                cur.clear();
            }
        }
    }
    if cur.len() > best.len() {
        best = cur;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_and_capture() {
        let (src, names) =
            to_regex(r#"metadata I/O error in "{func}" at daddr {daddr} len {len}"#).unwrap();
        assert_eq!(names, ["func", "daddr", "len"]);
        let re = compile(&src).unwrap();
        let line: &[u8] = b"XFS (pmem1): metadata I/O error in \"xlog_recover_items_pass2+0x52/0xc0\" at daddr 0x851c80 len 32 error 117";
        let c = re.captures(line).unwrap();
        assert_eq!(&c["daddr"], b"0x851c80");
        assert_eq!(&c["func"], b"xlog_recover_items_pass2+0x52/0xc0");
        let (src, _) = to_regex("({fs}): {...}block {b} {_}").unwrap();
        let c = compile(&src)
            .unwrap()
            .captures(b"XFS (pmem1): Metadata corruption detected at x+0x1/0x2, xfs_inode block 0x851c80 xfs_inode_buf_verify")
            .unwrap();
        assert_eq!(&c["fs"], b"pmem1");
        assert_eq!(&c["b"], b"0x851c80");
        assert_eq!(anchor("found device with bdev: {bdev}"), "device");
        assert_eq!(anchor("read done, eb={eb}"), "done,");
    }

    #[test]
    fn template_errors_point_at_the_brace() {
        assert_eq!(to_regex("a {b").unwrap_err().at, 2);
        assert_eq!(to_regex("a }").unwrap_err().at, 2);
        assert_eq!(to_regex("a {b-c}").unwrap_err().at, 3);
        assert!(to_regex("{a} {a}").is_err());
        assert!(to_regex("{{literal}}").is_ok());
    }
}
