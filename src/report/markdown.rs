//! `report --format markdown`: a mail-ready excerpt in at most 72 columns.
//!
//! Lines are broken at spaces only, never inside a token (a run of
//! non-spaces: an address, a symbol, a file name), so that a pasted
//! `alloc_extent_buffer` stays one word for grep. A token longer than a
//! line stands alone on its own line, whole, the one case where a line is
//! longer than 72 columns (mail clients leave such lines alone too). Prose
//! is wrapped; each cited line is indented by four spaces (a Markdown code
//! block) after its `file:line` citation, and its continuation lines, when
//! it is longer than a line, by six. Spaces inside a cited line are kept,
//! so trace columns stay aligned; the spaces at a break are dropped.
//! Columns are counted in characters. No colour, no tables, ASCII framing.

use std::io::{self, Write};

use crate::correlate::Analysis;
use crate::output::sanitize::{for_terminal, terminal_lines};
use crate::output::{count, short_name};
use crate::reader::driver::InputResult;
use crate::report::text::where_;
use crate::rules::{Counts, Finding, Severity};

/// The mail column limit.
pub(crate) const WIDTH: usize = 72;

/// Indent of citations and cited lines (a Markdown code block).
const CODE: &str = "    ";

/// Indent of the continuation lines of a long cited line.
const HANG: &str = "      ";

/// The tokens of `text` with the spaces before each: `("  ", "eb=1")`.
fn tokens(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let t = rest.trim_start_matches(' ');
        if t.is_empty() {
            return None;
        }
        let gap = &rest[..rest.len() - t.len()];
        let end = t.find(' ').unwrap_or(t.len());
        rest = &t[end..];
        Some((gap, &t[..end]))
    })
}

/// Lay `text` out in lines of at most `width` columns, the first starting
/// with `first` and the others with `rest`, breaking only at spaces (see
/// the module docs). Spaces before the first token are kept when that token
/// still fits after them. Empty or blank text gives no line.
pub(crate) fn fill(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    let mut cols = 0;
    for (gap, token) in tokens(text) {
        let n = token.chars().count();
        if line.is_empty() {
            line.push_str(first);
            cols = first.chars().count();
            if cols + gap.len() + n <= width {
                line.push_str(gap);
                cols += gap.len();
            }
        } else if cols + gap.len() + n <= width {
            line.push_str(gap);
            cols += gap.len();
        } else {
            out.push(std::mem::take(&mut line));
            line.push_str(rest);
            cols = rest.chars().count();
        }
        line.push_str(token);
        cols += n;
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Write `text` filled to [`WIDTH`] (see [`fill`]).
fn para(w: &mut dyn Write, text: &str, first: &str, rest: &str) -> io::Result<()> {
    for l in fill(text, first, rest, WIDTH) {
        writeln!(w, "{l}")?;
    }
    Ok(())
}

/// Write the markdown report.
pub fn write(
    w: &mut dyn Write,
    an: &Analysis,
    findings: &[Finding],
    results: &[InputResult],
) -> io::Result<()> {
    let c = Counts::of(findings);
    let title = format!("tracesift {} report", env!("CARGO_PKG_VERSION"));
    writeln!(w, "{title}")?;
    writeln!(w, "{}", "=".repeat(title.len()))?;
    writeln!(w)?;
    for (i, r) in results.iter().enumerate() {
        let s = format!(
            "Input {i}: {} ({} lines)",
            for_terminal(short_name(&r.name).as_bytes()),
            an.lines.get(i).copied().unwrap_or(0)
        );
        para(w, &s, "", "")?;
    }
    for note in results.iter().filter_map(crate::output::input_error_note) {
        para(w, &format!("Input error: {note}."), "", "")?;
    }
    writeln!(
        w,
        "Findings: {} error, {} warning, {} info",
        c.error, c.warning, c.info
    )?;
    let st = &an.ebs.stats;
    if st.ebs > 0 {
        let s = format!(
            "Extent buffers: {}, {}, {}; {} ({} discarded).",
            count(st.ebs, "eb", "ebs"),
            count(st.lifetimes, "lifetime", "lifetimes"),
            count(st.reads, "read", "reads"),
            count(st.insert_races, "benign insert race", "benign insert races"),
            count(
                st.discards + st.orphan_discards,
                "private copy",
                "private copies"
            ),
        );
        para(w, &s, "", "")?;
        if st.evicted > 0 {
            para(w, &crate::report::text::evicted_note(st.evicted), "", "")?;
        }
    }
    if let Some(note) = crate::report::text::not_kept_note(an) {
        para(w, &note, "", "")?;
    }
    for f in findings.iter().filter(|f| f.severity != Severity::Info) {
        writeln!(w)?;
        let head = match f.eb() {
            Some(eb) => format!("## {} (eb {eb})", f.rule.id()),
            None => format!("## {}", f.rule.id()),
        };
        para(w, &head, "", "")?;
        writeln!(w)?;
        let body = format!(
            "{}, {}: {}",
            f.severity.name(),
            f.confidence.name(),
            for_terminal(f.message.as_bytes())
        );
        para(w, &body, "", "")?;
        for e in &f.evidence {
            writeln!(w)?;
            para(
                w,
                &format!("{} ({})", where_(e, results), e.role),
                CODE,
                HANG,
            )?;
            for line in terminal_lines(&e.text) {
                para(w, &line, CODE, HANG)?;
            }
        }
        if let Some(note) = crate::report::text::omitted_note(f) {
            writeln!(w)?;
            para(w, &note, "", "")?;
        }
    }
    let info: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .collect();
    if !info.is_empty() {
        writeln!(w)?;
        writeln!(w, "## Information")?;
        writeln!(w)?;
        for f in info {
            let item = format!("{}: {}", f.rule.id(), for_terminal(f.message.as_bytes()));
            para(w, &item, "- ", "  ")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn breaks_at_spaces_only() {
        let line = "[ 2740.240046] iou-wrk--173727   15..... 2649295481us : \
                    alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384";
        assert_eq!(
            fill(line, CODE, HANG, WIDTH),
            [
                "    [ 2740.240046] iou-wrk--173727   15..... 2649295481us :",
                "      alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328",
                "      len=16384",
            ]
        );
        // Words of a paragraph, each line as full as it can be.
        let long = "word ".repeat(40);
        let lines = fill(&long, "", "", WIDTH);
        let (last, full) = lines.split_last().unwrap();
        assert!(full.iter().all(|l| l.len() <= WIDTH && l.len() > WIDTH - 5));
        assert!(last.len() <= WIDTH);
        assert_eq!(lines.join(" "), long.trim_end());
    }

    #[test]
    fn a_token_longer_than_the_line_stands_alone_whole() {
        let path = format!("/var/log/{}.txt:12", "x".repeat(80));
        assert_eq!(
            fill(&format!("{path} (alloc)"), CODE, HANG, WIDTH),
            [format!("    {path}"), "      (alloc)".to_string()]
        );
        assert_eq!(
            fill(&format!("a {path} b"), "- ", "  ", WIDTH),
            ["- a".to_string(), format!("  {path}"), "  b".to_string()]
        );
    }

    #[test]
    fn leading_spaces_stay_when_they_fit() {
        assert_eq!(fill("   a  b", CODE, HANG, WIDTH), ["       a  b"]);
        let token = "y".repeat(66);
        assert_eq!(
            fill(&format!("   {token}"), CODE, HANG, WIDTH),
            [format!("    {token}")]
        );
        assert!(fill("   ", CODE, HANG, WIDTH).is_empty());
        assert!(fill("", "", "", WIDTH).is_empty());
    }

    /// Text with runs of spaces, short and long tokens, and characters
    /// wider than a byte.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                4 => "[a-z_=0-9.:>()\\-]{1,12}",
                1 => "[a-zA-Z0-9/µ×é-]{40,120}",
                2 => " {1,4}",
            ],
            0..40,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// No line is longer than the width unless it holds one token
        /// after its indent; the tokens come out whole and in order.
        #[test]
        fn lines_fit_and_tokens_stay_whole(
            text in text(),
            width in 20usize..100,
            (first, rest) in prop_oneof![
                Just(("", "")),
                Just(("- ", "  ")),
                Just((CODE, HANG)),
            ],
        ) {
            let lines = fill(&text, first, rest, width);
            let mut got = Vec::new();
            for (k, l) in lines.iter().enumerate() {
                let indent = if k == 0 { first } else { rest };
                prop_assert!(l.starts_with(indent), "{l:?}");
                let body = &l[indent.len()..];
                prop_assert!(!l.ends_with(' '), "{l:?}");
                if l.chars().count() > width {
                    prop_assert!(!body.trim_start().contains(' '), "{l:?} is over {width}");
                }
                got.extend(body.split(' ').filter(|t| !t.is_empty()));
            }
            let want: Vec<&str> = text.split(' ').filter(|t| !t.is_empty()).collect();
            prop_assert_eq!(got, want);
        }
    }
}
