//! Helpers shared by the fuzz targets (included with `#[path]`).

#![allow(dead_code)]

use tracesift::record::ReadOptions;

/// Reading options drawn from the first input byte, so one target covers the
/// default path and tiny read blocks / line caps (buffer-edge code).
pub fn options(data: &[u8]) -> (ReadOptions, &[u8]) {
    let Some((&k, rest)) = data.split_first() else {
        return (ReadOptions::default(), data);
    };
    let opts = match k % 4 {
        0 => ReadOptions::default(),
        1 => ReadOptions {
            read_size: 1 + (k as usize >> 2) % 7,
            ..ReadOptions::default()
        },
        2 => ReadOptions {
            line_cap: 1 + (k as usize >> 2) % 64,
            read_size: 1 + (k as usize >> 4) % 13,
            ..ReadOptions::default()
        },
        _ => ReadOptions {
            line_cap: 200,
            read_size: 4096,
            ..ReadOptions::default()
        },
    };
    (opts, rest)
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Human output must never pass a control or bidi character through
/// (newlines excepted, they end output lines).
pub fn assert_terminal_safe(what: &str, s: &str) {
    for c in s.chars() {
        assert!(
            c == '\n' || (!c.is_control() && !is_bidi(c)),
            "{what}: unescaped {c:?} in output:\n{s}"
        );
    }
}
