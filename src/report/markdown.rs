//! `report --format markdown`: a mail-ready excerpt. Every output line is at
//! most 72 columns: prose is word-wrapped, and each cited line is shown
//! indented by four spaces (a Markdown code block) and, when longer, split
//! into 66-column pieces ending in `\` so a reader can rejoin them. No
//! colour, no tables, ASCII framing only.

use std::io::{self, Write};

use crate::correlate::Analysis;
use crate::reader::driver::InputResult;
use crate::report::count;
use crate::report::sanitize::{for_terminal, terminal_lines};
use crate::report::text::{short_name, where_};
use crate::rules::{Counts, Finding, Severity};

/// The mail column limit.
pub const WIDTH: usize = 72;

/// Word-wrap `text` to `width` columns.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let wlen = word.chars().count();
        let llen = line.chars().count();
        if llen > 0 && llen + 1 + wlen > width {
            out.push(std::mem::take(&mut line));
        }
        if wlen > width {
            // A single word longer than the line: hard-split it.
            let chars: Vec<char> = word.chars().collect();
            for chunk in chars.chunks(width) {
                if !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                }
                line = chunk.iter().collect();
            }
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// A cited line as an indented block, split into pieces that fit.
fn code_block(text: &str) -> Vec<String> {
    const PIECE: usize = WIDTH - 6; // "    " + piece + "\"
    let mut out = Vec::new();
    for l in text.lines() {
        let chars: Vec<char> = l.chars().collect();
        if chars.len() <= WIDTH - 4 {
            out.push(format!("    {l}"));
            continue;
        }
        let pieces: Vec<String> = chars.chunks(PIECE).map(|c| c.iter().collect()).collect();
        let n = pieces.len();
        for (i, p) in pieces.into_iter().enumerate() {
            if i + 1 < n {
                out.push(format!("    {p}\\"));
            } else {
                out.push(format!("    {p}"));
            }
        }
    }
    out
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
        for l in wrap(&s, WIDTH) {
            writeln!(w, "{l}")?;
        }
    }
    for note in results.iter().filter_map(crate::report::input_error_note) {
        let s = format!("Input error: {note}.");
        for l in wrap(&s, WIDTH) {
            writeln!(w, "{l}")?;
        }
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
        for l in wrap(&s, WIDTH) {
            writeln!(w, "{l}")?;
        }
        if st.evicted > 0 {
            for l in wrap(&crate::report::text::evicted_note(st.evicted), WIDTH) {
                writeln!(w, "{l}")?;
            }
        }
    }
    for f in findings.iter().filter(|f| f.severity != Severity::Info) {
        writeln!(w)?;
        let head = match f.eb {
            Some(eb) => format!("## {} (eb {eb})", f.rule.id()),
            None => format!("## {}", f.rule.id()),
        };
        for l in wrap(&head, WIDTH) {
            writeln!(w, "{l}")?;
        }
        writeln!(w)?;
        let body = format!(
            "{}, {}: {}",
            f.severity.name(),
            f.confidence.name(),
            for_terminal(f.message.as_bytes())
        );
        for l in wrap(&body, WIDTH) {
            writeln!(w, "{l}")?;
        }
        for e in &f.evidence {
            writeln!(w)?;
            writeln!(w, "    {} ({})", where_(e, results), e.role)?;
            for line in terminal_lines(&e.text) {
                for l in code_block(&line) {
                    writeln!(w, "{l}")?;
                }
            }
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
            for (k, l) in wrap(
                &format!("{}: {}", f.rule.id(), for_terminal(f.message.as_bytes())),
                WIDTH - 2,
            )
            .into_iter()
            .enumerate()
            {
                writeln!(w, "{}{l}", if k == 0 { "- " } else { "  " })?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_within_72() {
        let long = "word ".repeat(40);
        for l in wrap(&long, WIDTH) {
            assert!(l.chars().count() <= WIDTH);
        }
        let block = code_block(&"x".repeat(200));
        assert!(block.iter().all(|l| l.chars().count() <= WIDTH));
        let rejoined: String = block
            .iter()
            .map(|l| l[4..].trim_end_matches('\\'))
            .collect();
        assert_eq!(rejoined, "x".repeat(200));
        assert_eq!(wrap(&"y".repeat(100), 72).len(), 2);
    }
}
