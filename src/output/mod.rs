//! What the output of every command shares: the exit statuses, styling,
//! tables, escaping of input text for terminals and JSON ([`sanitize`]),
//! the JSON pieces several documents have in common ([`docs`]), and the
//! schema version.
//!
//! Every command writes to a `&mut dyn Write` handed in by the caller (a
//! locked, buffered stdout in the binary), never with `println!`, so a closed
//! pipe surfaces as an `io::Error` the binary turns into a quiet exit.

pub mod docs;
pub mod sanitize;

use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use crate::grammar::TraceTs;
use crate::reader::driver::InputResult;
use crate::units::fmt_secs;

/// The exit statuses of the contract (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Ran; nothing at or above `--fail-on` (timeline: something matched).
    Clean = 0,
    /// Ran; findings at or above `--fail-on` (timeline: nothing matched).
    Findings = 1,
    /// Trouble: usage, unreadable input, I/O error.
    Trouble = 2,
}

/// Print per-input errors on `err` as `tracesift: PATH: what happened` plus
/// a hint; whether there was any.
pub(crate) fn input_errors(results: &[InputResult], err: &mut dyn Write) -> bool {
    let mut any = false;
    for r in results {
        if let Some(e) = &r.error {
            any = true;
            let name = sanitize::for_terminal(e.to_string().as_bytes()).into_owned();
            let _ = writeln!(err, "tracesift: {name}");
            let _ = writeln!(err, "  hint: {}", e.hint());
        }
    }
    any
}

/// The file name without its directories (citations stay short).
pub(crate) fn short_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The JSON schema version of every document tracesift writes.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// The JSON schema documents (`doc/schema/*.md`), shared by the rustdoc of
/// the reporters, the manual page and the README.
pub mod schema {
    /// `report --json`.
    pub(crate) const REPORT: &str = include_str!("../../doc/schema/report.md");
    /// `report --each --json` (NDJSON).
    pub(crate) const REPORT_EACH: &str = include_str!("../../doc/schema/report-each.md");
    /// `timeline --json`.
    pub(crate) const TIMELINE: &str = include_str!("../../doc/schema/timeline.md");
    /// `stats --json`.
    pub(crate) const STATS: &str = include_str!("../../doc/schema/stats.md");
    /// `export --format perfetto`.
    pub(crate) const EXPORT_PERFETTO: &str = include_str!("../../doc/schema/export-perfetto.md");
    /// `events` (NDJSON).
    pub(crate) const EVENTS: &str = include_str!("../../doc/schema/events.md");
}

/// `{"name": "tracesift", "version": "0.1.0"}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Tool {
    /// Always `tracesift`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl Tool {
    /// This build.
    pub(crate) fn current() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Output styling decided once per run (colour on or off, the character
/// set of decorations, table width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Emit ANSI colours.
    pub color: bool,
    /// Draw tables with box-drawing characters and use other non-ASCII
    /// decorations (`──`, `◀`, `×`, `…`, `Δµs`); otherwise ASCII only.
    /// Text from the inputs is shown as it is either way.
    pub unicode: bool,
    /// Table width in columns.
    pub width: u16,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            unicode: true,
            width: 100,
        }
    }
}

const RESET: &str = "\x1b[0m";

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}{RESET}")
        } else {
            s.to_string()
        }
    }

    /// Bold text.
    pub(crate) fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    /// Error severity (red).
    pub(crate) fn error(&self, s: &str) -> String {
        self.paint("1;31", s)
    }

    /// Warning severity (yellow).
    pub(crate) fn warning(&self, s: &str) -> String {
        self.paint("1;33", s)
    }

    /// Info severity (cyan).
    pub(crate) fn info(&self, s: &str) -> String {
        self.paint("36", s)
    }

    /// Secondary text (dim).
    pub(crate) fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    /// A decoration: `unicode` when the terminal and locale can show it,
    /// else its ASCII stand-in.
    pub(crate) fn glyph<'a>(&self, unicode: &'a str, ascii: &'a str) -> &'a str {
        if self.unicode {
            unicode
        } else {
            ascii
        }
    }
}

/// What a report says of an input that failed: the error (escaped for a
/// terminal), and whether what was read before it is in the analysis.
pub(crate) fn input_error_note(r: &InputResult) -> Option<String> {
    let e = r.error.as_ref()?;
    let message = e.to_string();
    let text = sanitize::for_terminal(message.as_bytes());
    Some(if r.summary.bytes > 0 {
        format!("{text}; what was read before it is analysed")
    } else {
        format!("{text}; nothing read from it")
    })
}

/// `1 dump`, `2 dumps`: a count with its noun, singular or plural.
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A table in the house style: box-drawing borders (ASCII ones when the
/// style says so), fixed width, no TTY probing.
pub(crate) fn table(style: &Style, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(if style.unicode {
        presets::UTF8_FULL_CONDENSED
    } else {
        presets::ASCII_FULL_CONDENSED
    })
    .set_truncation_indicator(style.glyph("…", "..."))
    .set_content_arrangement(ContentArrangement::Dynamic)
    .set_width(style.width)
    .set_header(header.to_vec());
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

/// A trace timestamp for humans: seconds with 6 decimals, or a raw counter.
pub(crate) fn fmt_ts(ts: Option<TraceTs>) -> String {
    match ts {
        Some(TraceTs::Counter(c)) => c.to_string(),
        Some(t) => t.ns().map_or_else(String::new, fmt_secs),
        None => "-".into(),
    }
}
