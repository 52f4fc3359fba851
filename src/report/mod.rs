//! `tracesift report`: the full analysis of the inputs (findings with their
//! evidence, splats, boots, coverage) as a text report for a terminal
//! ([`text`]), one JSON document ([`json`]) or a mail-ready excerpt
//! ([`markdown`]); with `--each`, every input on its own and a summary
//! grouped by signature ([`each`]).

pub mod each;
pub mod json;
pub mod markdown;
pub mod text;

use std::io::{self, Write};

use crate::config::{Config, ReportFormat};
use crate::correlate::Analysis;
use crate::output::{self, Status};
use crate::reader::driver::{self, ReaderHook};
use crate::rules::{self, Counts};

/// Run `report` in `format`, tracking at most `max_live` ebs.
pub(crate) fn command(
    cfg: &Config,
    format: ReportFormat,
    max_live: usize,
    hook: &mut dyn ReaderHook,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Status> {
    let mut an = Analysis::with_rules(max_live, cfg.rules.clone());
    let outcome = driver::run_inputs(&cfg.inputs, &cfg.read, &mut an, hook);
    let results = &outcome.inputs[..];
    let failed = output::input_errors(results, err);
    an.finish();
    let findings = rules::evaluate(&an);
    // With no input read at all, a human report would only say
    // "No findings." about nothing: the errors on stderr say it all.
    let nothing_read = results
        .iter()
        .all(|r| r.error.is_some() && r.summary.bytes == 0);
    let human = format != ReportFormat::Json;
    if !cfg.quiet && (!nothing_read || !human) {
        match format {
            ReportFormat::Json => json::write(out, &an, &findings, results)?,
            ReportFormat::Markdown => markdown::write(out, &an, &findings, results)?,
            ReportFormat::Text => text::write(out, &an, &findings, results, &cfg.style)?,
        }
    }
    out.flush()?;
    let hit = cfg
        .fail_on
        .is_some_and(|t| Counts::of(&findings).any_at_least(t));
    Ok(if failed {
        Status::Trouble
    } else if hit {
        Status::Findings
    } else {
        Status::Clean
    })
}
